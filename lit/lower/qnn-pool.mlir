// RUN: t2m-opt %s -p lower-qnn-pool | filecheck %s
// RUN: t2m-opt %s -p lower-qnn-pool | t2m-opt | filecheck %s

// int8 pools, in lower-nn-pool's regions (padding skipped by the loop bounds). Max pool: compare + select on
// sign-extended values from the first valid tap; the result is an int8 already, so only the fused range's
// lower bound -10 is applied. Average pool with count_include_pad and input zero point -5: the padded taps
// add 5 * -5 in a corner and 3 * -5 on an edge (compile-time constants), then the sum is divided by the window
// (9) rounding half away from zero: +-4 toward the sign, C division. Global average pool: one window of 25 (the
// scalar kernel pinned by hand; the SIMD kernels are in @simd below).
func.func @pools(%x: tensor<1x2x5x5xi8>) -> (tensor<1x2x3x3xi8>, tensor<1x2x3x3xi8>, tensor<1x2x1x1xi8>) {
  %m = qnn.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, act_min = -10 : i32} : (tensor<1x2x5x5xi8>) -> tensor<1x2x3x3xi8>
  %a = qnn.avg_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = 1 : i64, input_zp = -5 : i32} : (tensor<1x2x5x5xi8>) -> tensor<1x2x3x3xi8>
  %g = qnn.adaptive_avg_pool2d %x {output_size = array<i64: 1, 1>, t2m.variant = "scalar"} : (tensor<1x2x5x5xi8>) -> tensor<1x2x1x1xi8>
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

// The DSP kernels. Max pool 2x2/2 (SIMD2, its default): each window row is one word (four byte loads that LLVM
// combines into one LDR) holding both taps of two outputs; SSUB8 + SEL (arm_dsp.smax8) takes the maximum of the
// two rows, then of bytes 0/1 and 2/3 (the word against itself shifted right by 8), clamped on the lanes to
// [-20, 90] (max with -20 in every byte; min as ~max(~x, ~90)), bytes 0 and 2 stored. Width 10: 5 outputs per
// row, two groups of 2, the last column scalar. Global average pool of 5 x 10 (50 bytes, rows merged): 12 words
// into two int16-lane accumulators (SXTAB16 of bytes 0/2 and, rotated by 8, 1/3), the last 2 bytes one by one,
// the lanes folded with SMLAD by 0x00010001 (65537).
func.func @simd(%x: tensor<1x3x5x10xi8>) -> (tensor<1x3x2x5xi8>, tensor<1x3x1x1xi8>) {
  %m = qnn.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, act_min = -20 : i32, act_max = 90 : i32} : (tensor<1x3x5x10xi8>) -> tensor<1x3x2x5xi8>
  %g = qnn.avg_pool2d %x {kernel = array<i64: 5, 10>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = 0 : i64, input_zp = 0 : i32} : (tensor<1x3x5x10xi8>) -> tensor<1x3x1x1xi8>
  func.return %m, %g : tensor<1x3x2x5xi8>, tensor<1x3x1x1xi8>
}

// CHECK-LABEL: func.func private @simd_L00_max_pool2d(%in: memref<1x3x5x10xi8>, %out: memref<1x3x2x5xi8>) attributes {t2m.layer = #t2m.layer<"max_pool2d", macs = 0, variant = "simd2">} {
// CHECK:         affine.for %c = 0 to 3 {
// CHECK-NEXT:      affine.for %oh = 0 to 2 {
// CHECK:               affine.for %ow = 0 to 4 step 2 {
// CHECK:               %[[B0:.*]] = memref.load %in[%c0, %c, %{{.*}}, %{{.*}}] : memref<1x3x5x10xi8>
// CHECK-NEXT:          %[[B0I:.*]] = arith.extui %[[B0]] : i8 to i32
// CHECK:               %[[B3:.*]] = arith.shli %{{.*}}, %i24 : i32
// CHECK-NEXT:          %[[ROW0:.*]] = arith.ori %{{.*}}, %[[B3]] : i32
// CHECK:               arith.shli %{{.*}}, %i24 : i32
// CHECK-NEXT:          %[[ROW1:.*]] = arith.ori %{{.*}}, %{{.*}} : i32
// CHECK-NEXT:          %[[V:.*]] = arm_dsp.smax8 %[[ROW0]], %[[ROW1]]
// CHECK-NEXT:          %[[SH:.*]] = arith.shrui %[[V]], %i8 : i32
// CHECK-NEXT:          %[[H:.*]] = arm_dsp.smax8 %[[V]], %[[SH]]
// CHECK-NEXT:          %[[LO:.*]] = arm_dsp.smax8 %[[H]], %im320017172
// CHECK-NEXT:          %[[NOT:.*]] = arith.xori %[[LO]], %im1 : i32
// CHECK-NEXT:          %[[NMIN:.*]] = arm_dsp.smax8 %[[NOT]], %im1515870811
// CHECK-NEXT:          %[[Y:.*]] = arith.xori %[[NMIN]], %im1 : i32
// CHECK-NEXT:          %[[Y0:.*]] = arith.trunci %[[Y]] : i32 to i8
// CHECK-NEXT:          memref.store %[[Y0]], %out[%c0, %c, %oh, %ow] : memref<1x3x2x5xi8>
// CHECK-NEXT:          %[[Y2:.*]] = arith.shrui %[[Y]], %i16 : i32
// CHECK-NEXT:          %[[Y2B:.*]] = arith.trunci %[[Y2]] : i32 to i8
// CHECK-NEXT:          %[[NEXT:.*]] = affine.apply affine_map<(d0) -> ((d0 + 1))> (%ow)
// CHECK-NEXT:          memref.store %[[Y2B]], %out[%c0, %c, %oh, %[[NEXT]]] : memref<1x3x2x5xi8>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      affine.for %oh_1 = 0 to 2 {
// CHECK:             %[[LAST:.*]] = memref.load %in[%c0, %c, %{{.*}}, %c8] : memref<1x3x5x10xi8>
// CHECK-NEXT:        arith.extsi %[[LAST]] : i8 to i32

// CHECK-LABEL: func.func private @simd_L01_avg_pool2d(%in: memref<1x3x5x10xi8>, %out: memref<1x3x1x1xi8>) attributes {t2m.layer = #t2m.layer<"avg_pool2d", macs = 0, variant = "simd">} {
// CHECK:         %[[FLAT:.*]] = memref.reinterpret_cast %in to offset: [0], sizes: [1, 3, 50], strides: [150, 50, 1]
// CHECK:         affine.for %c = 0 to 3 {
// CHECK-NEXT:      %[[LE:.*]], %[[LO:.*]] = affine.for %kw = 0 to 12 iter_args(%[[E:.*]] = %i0, %[[O:.*]] = %i0) -> (i32, i32) {
// CHECK:             arith.shli %{{.*}}, %i24 : i32
// CHECK-NEXT:        %[[W:.*]] = arith.ori %{{.*}}, %{{.*}} : i32
// CHECK-NEXT:        %[[E2:.*]] = arm_dsp.sxtab16 %[[E]], %[[W]] {rotate = 0 : i32}
// CHECK-NEXT:        %[[O2:.*]] = arm_dsp.sxtab16 %[[O]], %[[W]] {rotate = 8 : i32}
// CHECK-NEXT:        affine.yield %[[E2]], %[[O2]] : i32, i32
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[T48:.*]] = memref.load %[[FLAT]][%c0, %c, %c48] : memref<1x3x50xi8>
// CHECK-NEXT:      %[[T48I:.*]] = arith.extsi %[[T48]] : i8 to i32
// CHECK-NEXT:      %[[S1:.*]] = arith.addi %i0, %[[T48I]] : i32
// CHECK-NEXT:      %[[T49:.*]] = memref.load %[[FLAT]][%c0, %c, %c49] : memref<1x3x50xi8>
// CHECK-NEXT:      %[[T49I:.*]] = arith.extsi %[[T49]] : i8 to i32
// CHECK-NEXT:      %[[S2:.*]] = arith.addi %[[S1]], %[[T49I]] : i32
// CHECK-NEXT:      %[[F1:.*]] = arm_dsp.smlad %[[LE]], %i65537, %[[S2]]
// CHECK-NEXT:      %[[F2:.*]] = arm_dsp.smlad %[[LO]], %i65537, %[[F1]]
// CHECK-NEXT:      %[[POS:.*]] = arith.cmpi sgt, %[[F2]], %i0 : i32
// CHECK:           arith.divsi %{{.*}}, %i50 : i32
