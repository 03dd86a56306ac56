// RUN: t2m-opt %s -p lower-qnn-pool | filecheck %s

// int8 pools, in lower-nn-pool's regions (padding skipped by the loop bounds). Max pool: compare + select on
// sign-extended values from the first valid tap; the result is an int8 already, so only the fused range's
// lower bound -10 is applied. Average pool with count_include_pad and input zero point -5: the padded taps
// add 5 * -5 in a corner and 3 * -5 on an edge (compile-time constants), then the sum is divided by the window
// (9) rounding half away from zero: +-4 toward the sign, C division. Global average pool: one window of 25.
func.func @pools(%x: tensor<1x2x5x5xi8>) -> (tensor<1x2x3x3xi8>, tensor<1x2x3x3xi8>, tensor<1x2x1x1xi8>) {
  %m = qnn.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, act_min = -10 : i32} : (tensor<1x2x5x5xi8>) -> tensor<1x2x3x3xi8>
  %a = qnn.avg_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = 1 : i64, input_zp = -5 : i32} : (tensor<1x2x5x5xi8>) -> tensor<1x2x3x3xi8>
  %g = qnn.adaptive_avg_pool2d %x {output_size = array<i64: 1, 1>} : (tensor<1x2x5x5xi8>) -> tensor<1x2x1x1xi8>
  func.return %m, %a, %g : tensor<1x2x3x3xi8>, tensor<1x2x3x3xi8>, tensor<1x2x1x1xi8>
}

// CHECK-LABEL: func.func private @pools_L00_max_pool2d(%in: memref<1x2x5x5xi8>, %out: memref<1x2x3x3xi8>) attributes {t2m.layer = #t2m.layer<"max_pool2d", macs = 0>} {
// CHECK:         affine.for %c = 0 to 2 {
// CHECK-NEXT:      %[[FIRST:.*]] = memref.load %in[%c0, %c, %c0, %c0] : memref<1x2x5x5xi8>
// CHECK-NEXT:      %[[F:.*]] = arith.extsi %[[FIRST]] : i8 to i32
// CHECK-NEXT:      %[[NEXT:.*]] = memref.load %in[%c0, %c, %c0, %c1] : memref<1x2x5x5xi8>
// CHECK-NEXT:      %[[N:.*]] = arith.extsi %[[NEXT]] : i8 to i32
// CHECK-NEXT:      %[[GT:.*]] = arith.cmpi sgt, %[[N]], %[[F]] : i32
// CHECK-NEXT:      %[[M0:.*]] = arith.select %[[GT]], %[[N]], %[[F]] : i32
// CHECK-NEXT:      %[[M:.*]] = affine.for %kw = 1 to 3 iter_args(%{{.*}} = %[[M0]]) -> (i32) {
// CHECK:           }
// CHECK-NEXT:      %[[LOW:.*]] = arith.cmpi slt, %[[M]], %im10 : i32
// CHECK-NEXT:      %[[Y:.*]] = arith.select %[[LOW]], %im10, %[[M]] : i32
// CHECK-NEXT:      %[[Y8:.*]] = arith.trunci %[[Y]] : i32 to i8
// CHECK-NEXT:      memref.store %[[Y8]], %out[%c0, %c, %c0, %c0] : memref<1x2x3x3xi8>
// CHECK-NOT:     arith.cmpi sgt, %{{.*}}, %i127

// CHECK-LABEL: func.func private @pools_L01_avg_pool2d(
// CHECK:         affine.for %c = 0 to 2 {
// CHECK-NEXT:      %[[SUM:.*]] = affine.for %kh = 1 to 3 iter_args
// CHECK:           %[[PADDED:.*]] = arith.addi %[[SUM]], %im25 : i32
// CHECK-NEXT:      %[[POS:.*]] = arith.cmpi sgt, %[[PADDED]], %i0 : i32
// CHECK-NEXT:      %[[UP:.*]] = arith.addi %[[PADDED]], %i4 : i32
// CHECK-NEXT:      %[[DOWN:.*]] = arith.subi %[[PADDED]], %i4 : i32
// CHECK-NEXT:      %[[ADJ:.*]] = arith.select %[[POS]], %[[UP]], %[[DOWN]] : i32
// CHECK-NEXT:      %[[AVG:.*]] = arith.divsi %[[ADJ]], %i9 : i32
// CHECK-NEXT:      %[[A8:.*]] = arith.trunci %[[AVG]] : i32 to i8
// CHECK-NEXT:      memref.store %[[A8]], %out[%c0, %c, %c0, %c0] : memref<1x2x3x3xi8>
// CHECK:           arith.addi %{{.*}}, %im15 : i32
// CHECK:           memref.store %{{.*}}, %out[%c0, %c, %c0, %c1] : memref<1x2x3x3xi8>

// CHECK-LABEL: func.func private @pools_L02_adaptive_avg_pool2d(
// CHECK:         affine.for %kh = 0 to 5 iter_args
// CHECK-NEXT:      affine.for %kw = 0 to 5 iter_args
// CHECK:           arith.divsi %{{.*}}, %i25 : i32
