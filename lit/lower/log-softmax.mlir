// log_softmax: max, sum of exp(x - max), then x - (max + log(sum)), with log expanded in arith (no libm call):
// exponent and mantissa from the float's bits, a polynomial in m - 1, e * ln2 in two parts.
// RUN: t2m-opt %s -p lower-nn-softmax | filecheck %s

// CHECK:       func.call @ls_L00_log_softmax(%{{.*}}, %{{.*}}) : (memref<2x5xf32>, memref<2x5xf32>) -> ()
// CHECK:       func.func private @ls_L00_log_softmax(%in: memref<2x5xf32>, %out: memref<2x5xf32>) attributes {t2m.layer = #t2m.layer<"log_softmax", macs = 0>} {
// CHECK:         arith.constant 0.693359375 : f32
// CHECK:         arith.cmpf ogt
// CHECK:         %{{.*}} = arith.shrui %{{.*}}, %{{.*}} : i32
// CHECK:         %{{.*}} = arith.andi %{{.*}}, %{{.*}} : i32
// CHECK:         %{{.*}} = arith.ori %{{.*}}, %{{.*}} : i32
// CHECK:         %{{.*}} = arith.sitofp %{{.*}} : i32 to f32
// CHECK:         affine.for %{{.*}} = 0 to 5 {
// CHECK-NEXT:      %[[X:.*]] = memref.load
// CHECK-NEXT:      %[[Y:.*]] = arith.subf %[[X]], %{{.*}} : f32
// CHECK-NEXT:      memref.store %[[Y]]
// CHECK-NOT:     math.
// CHECK-NOT:     arith.divf
func.func @ls(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %y = nn.log_softmax %x {axis = 1 : i64} : tensor<2x5xf32>
  func.return %y : tensor<2x5xf32>
}
