// NaN and infinities as PyTorch: compare + select sequences whose compares are false for NaN, so NaN flows on.
// RUN: t2m-opt %s -p lower-nn-elementwise,lower-nn-softmax | filecheck %s

// clamp(min=0) as torch.clamp(x, min=0) imports it: max = +inf costs no compare; NaN < 0 is false, so the
// select keeps x (NaN). A fused clamp with act_min = -inf only compares with act_max. log_softmax's row
// maximum skips NaN with one compare (a NaN entry's exp poisons the sum, and so the row), and log(sum) passes a
// NaN or +inf sum through (`ueq` +inf), which the exponent-bit tricks would turn into a number.
func.func @nf(%x: tensor<2x5xf32>, %y: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %c = nn.clamp %x {min = 0.0 : f32, max = 0x7F800000 : f32} : tensor<2x5xf32>
  %a = nn.add %c, %y {act_min = 0xFF800000 : f32, act_max = 6.0 : f32} : (tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<2x5xf32>
  %s = nn.log_softmax %a {axis = 1 : i64} : tensor<2x5xf32>
  func.return %s : tensor<2x5xf32>
}

// CHECK-LABEL: func.func private @nf_L00_clamp(
// CHECK-NOT:     0x7f800000
// CHECK:         affine.for %i = 0 to 10 {
// CHECK-NEXT:      %[[V:.*]] = memref.load %{{.*}}[%i] : memref<10xf32>
// CHECK-NEXT:      %[[LT:.*]] = arith.cmpf olt, %[[V]], %[[ZERO:.*]] : f32
// CHECK-NEXT:      %[[R:.*]] = arith.select %[[LT]], %[[ZERO]], %[[V]] : f32
// CHECK-NEXT:      memref.store %[[R]], %{{.*}}[%i] : memref<10xf32>
// CHECK-NEXT:    }

// CHECK-LABEL: func.func private @nf_L01_add(
// CHECK-NOT:     0xff800000
// CHECK:           %[[SUM:.*]] = arith.addf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT:      %[[GT:.*]] = arith.cmpf ogt, %[[SUM]], %[[SIX:.*]] : f32
// CHECK-NEXT:      %[[R:.*]] = arith.select %[[GT]], %[[SIX]], %[[SUM]] : f32
// CHECK-NEXT:      memref.store %[[R]]

// CHECK-LABEL: func.func private @nf_L02_log_softmax(
// CHECK-DAG:     %[[INF:.*]] = arith.constant 0x7f800000 : f32
// CHECK-DAG:     %[[NINF:.*]] = arith.constant 0xff800000 : f32
// CHECK:         %[[TOP:.*]] = affine.for %l = 0 to 5 iter_args(%[[ACC:.*]] = %[[NINF]]) -> (f32) {
// CHECK-NEXT:      %[[V:.*]] = memref.load
// CHECK-NEXT:      %[[GT:.*]] = arith.cmpf ogt, %[[V]], %[[ACC]] : f32
// CHECK-NEXT:      %[[M:.*]] = arith.select %[[GT]], %[[V]], %[[ACC]] : f32
// CHECK-NEXT:      affine.yield %[[M]] : f32
// CHECK:         %[[TOTAL:.*]] = affine.for %l_1 = 0 to 5 iter_args
// CHECK:         %[[PASS:.*]] = arith.cmpf ueq, %[[TOTAL]], %[[INF]] : f32
// CHECK-NEXT:    %[[L:.*]] = arith.select %[[PASS]], %[[TOTAL]], %{{.*}} : f32
// CHECK-NEXT:    arith.addf %[[TOP]], %[[L]] : f32
// CHECK-NOT:     arith.cmpf uno
