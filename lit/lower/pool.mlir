// RUN: t2m-opt %s -p lower-nn-pool | filecheck %s

// Max pool starts at -inf and keeps the larger value with cmpf + select (no maximumf); avg pool multiplies by
// the reciprocal of each region's divisor (count_include_pad = false: the valid taps, 4 in a corner, 6 on an
// edge, 9 inside). Adaptive pooling 5 -> 2 rows are windows [0, 3) and [2, 5): one loop with step 2; 5 -> 3
// columns are windows of sizes 2, 3, 2: three nests. nn.relu (another family) is left alone.
func.func @pools(%x: tensor<1x2x5x5xf32>) -> (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>, tensor<1x2x2x3xf32>) {
  %m = nn.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32>
  %a = nn.avg_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = false} : (tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32>
  %g = nn.adaptive_avg_pool2d %x {output_size = array<i64: 2, 3>} : (tensor<1x2x5x5xf32>) -> tensor<1x2x2x3xf32>
  %r = nn.relu %g : tensor<1x2x2x3xf32>
  func.return %m, %a, %r : tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>, tensor<1x2x2x3xf32>
}

// CHECK-LABEL: func.func @pools(
// CHECK:         func.call @pools_L00_max_pool2d(
// CHECK:         func.call @pools_L01_avg_pool2d(
// CHECK:         func.call @pools_L02_adaptive_avg_pool2d(
// CHECK:         nn.relu
// CHECK-LABEL: func.func private @pools_L00_max_pool2d(%in: memref<1x2x5x5xf32>, %out: memref<1x2x3x3xf32>) attributes {t2m.layer = #t2m.layer<"max_pool2d", macs = 0>} {
// CHECK-NEXT:    %[[NINF:.*]] = arith.constant 0xff800000 : f32
// CHECK:         affine.for %c = 0 to 2 {
// CHECK-NEXT:      %[[M:.*]] = affine.for %kh = 1 to 3 iter_args(%[[A:.*]] = %[[NINF]]) -> (f32) {
// CHECK-NEXT:        affine.apply affine_map<(d0) -> ((d0 + -1))> (%kh)
// CHECK-NEXT:        affine.for %kw = 1 to 3 iter_args(%[[ACC:.*]] = %[[A]]) -> (f32) {
// CHECK-NEXT:          affine.apply
// CHECK-NEXT:          %[[V:.*]] = memref.load %in[%c0, %c, %{{.*}}, %{{.*}}] : memref<1x2x5x5xf32>
// CHECK-NEXT:          %[[GT:.*]] = arith.cmpf ogt, %[[V]], %[[ACC]] : f32
// CHECK-NEXT:          %[[MAX:.*]] = arith.select %[[GT]], %[[V]], %[[ACC]] : f32
// CHECK-NEXT:          affine.yield %[[MAX]] : f32
// CHECK:           memref.store %[[M]], %out[%c0, %c, %c0, %c0] : memref<1x2x3x3xf32>
// CHECK:           affine.for %kh_4 = 0 to 3 iter_args
// CHECK:             affine.for %kw_4 = 0 to 3 iter_args
// CHECK:           memref.store %{{.*}}, %out[%c0, %c, %c1, %c1] : memref<1x2x3x3xf32>
// CHECK-NOT:     arith.maximumf

// CHECK-LABEL: func.func private @pools_L01_avg_pool2d(
// CHECK-DAG:     %[[Q:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG:     %[[S:.*]] = arith.constant 0.166666672 : f32
// CHECK-DAG:     %[[N:.*]] = arith.constant 0.111111112 : f32
// CHECK:         affine.for %kw = 1 to 3 iter_args
// CHECK:           arith.addf
// CHECK:         %[[CORNER:.*]] = arith.mulf %{{.*}}, %[[Q]] : f32
// CHECK-NEXT:    memref.store %[[CORNER]], %out[%c0, %c, %c0, %c0]
// CHECK:         %[[EDGE:.*]] = arith.mulf %{{.*}}, %[[S]] : f32
// CHECK-NEXT:    memref.store %[[EDGE]], %out[%c0, %c, %c0, %c1]
// CHECK:         %[[INNER:.*]] = arith.mulf %{{.*}}, %[[N]] : f32
// CHECK-NEXT:    memref.store %[[INNER]], %out[%c0, %c, %c1, %c1]

// CHECK-LABEL: func.func private @pools_L02_adaptive_avg_pool2d(
// CHECK:         affine.for %oh = 0 to 2 {
// CHECK-NEXT:      affine.for %kh = 0 to 3 iter_args
// CHECK-NEXT:        affine.apply affine_map<(d0, d1) -> ((d1 + (d0 * 2)))> (%oh, %kh)
// CHECK-NEXT:        affine.for %kw = 0 to 2 iter_args
// CHECK:           memref.store %{{.*}}, %out[%c0, %c, %oh, %c0]
// CHECK:         affine.for %kw_1 = 0 to 3 iter_args
// CHECK:           affine.apply affine_map<(d0) -> ((d0 + 1))> (%kw_1)
// CHECK:         memref.store %{{.*}}, %out[%c0, %c, %oh_1, %c1]
// CHECK:         affine.apply affine_map<(d0) -> ((d0 + 3))> (%kw_2)
// CHECK:         memref.store %{{.*}}, %out[%c0, %c, %oh_2, %c2]
