// RUN: t2m-opt %s -p lower-qnn-conv --split-input-file | filecheck %s

// The SMLAD conv kernel (default variant: 2 output channels x 3 pixels, tap pairs fully unrolled). conv 3x3,
// padding 1, input zero point -2. Weights packed at compile time as int16 pairs along (input channel, kernel row,
// kernel column), the 18 taps of a channel in 9 words, the two channels of a block interleaved word by word:
// (1, 2) = 131073, (-1, 0) = 65535, (3, 4) = 262147... The bias has -2 * (every weight) folded in: padding
// taps are the zero point in the column, so every window is a full one. Each block of 3 pixels packs its
// windows into a stack column [9 pairs x 3 pixels] (PKHBT), then runs 2 x 3 SMLAD accumulators over it.
func.func @net(%x: tensor<1x2x4x4xi8>) -> tensor<1x2x4x4xi8> {
  %w = nn.constant dense<[[[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 1, 1], [1, 1, 1], [1, 1, 1]]], [[[-1, 0, 1], [0, 2, 0], [1, 0, -1]], [[0, 0, 0], [0, 3, 0], [0, 0, 0]]]]> : tensor<2x2x3x3xi8>
  %b = nn.constant dense<[100, -7]> : tensor<2xi32>
  %y = qnn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64, input_zp = -2 : i32, requant = #qnn.requant<multiplier = [1073741824, 1288490189], shift = [-3, 1], output_zp = -128>, act_min = -128 : i32, act_max = 100 : i32} : (tensor<1x2x4x4xi8>, tensor<2x2x3x3xi8>, tensor<2xi32>) -> tensor<1x2x4x4xi8>
  func.return %y : tensor<1x2x4x4xi8>
}

// CHECK-LABEL: func.func @net(
// CHECK:         nn.constant dense<[208, 3]> : tensor<2xi32>
// CHECK-NEXT:    nn.constant dense<[131073, 65535, 262147, 1, 393221, 2, 524295, 1, 65545, 65535, 65537, 0, 65537, 196608, 65537, 0, 65537, 0]> : tensor<18xi32>
// CHECK-LABEL: func.func private @net_L00_conv2d(%in: memref<1x2x4x4xi8>, %weight: memref<18xi32>, %bias: memref<2xi32>, %requant: memref<2x2xi32>, %out: memref<1x2x4x4xi8>)
// CHECK:         %[[COL:.*]] = memref.alloca() : memref<9x3xi32>
// top-left corner pixel: kernel row 0 is padding, a constant pair (-2, -2) = -65538, no load, no test
// CHECK-NEXT:    memref.store %im65538, %[[COL]][%c0, %c0] : memref<9x3xi32>
// CHECK-NEXT:    memref.store %im65538, %[[COL]][%c1, %c0] : memref<9x3xi32>
// CHECK:         memref.store %{{.*}}, %out[%c0, %c0, %c0, %c0] : memref<1x2x4x4xi8>
// the rows with a full window vertically: one loop, the left pixel's column 0 a constant in its pairs; loads
// are shared by the pixels of the block
// CHECK:         affine.for %oh = 1 to 3 {
// CHECK-NEXT:      %[[UP:.*]] = affine.apply affine_map<(d0) -> ((d0 + -1))> (%oh)
// CHECK-NEXT:      %[[X00:.*]] = memref.load %in[%c0, %c0, %[[UP]], %c0] : memref<1x2x4x4xi8>
// CHECK-NEXT:      %[[X00I:.*]] = arith.extsi %[[X00]] : i8 to i32
// CHECK-NEXT:      %[[PAIR:.*]] = arm_dsp.pkhbt %im2, %[[X00I]] {shift = 16 : i32}
// CHECK-NEXT:      memref.store %[[PAIR]], %[[COL]][%c0, %c0] : memref<9x3xi32>
// CHECK:           %[[B0:.*]] = memref.load %bias[%c0] : memref<2xi32>
// CHECK-NEXT:      %[[B1:.*]] = memref.load %bias[%c1] : memref<2xi32>
// CHECK:           %[[C0:.*]] = memref.load %[[COL]][%c0, %c0] : memref<9x3xi32>
// CHECK-NEXT:      %[[C1:.*]] = memref.load %[[COL]][%c0, %c1] : memref<9x3xi32>
// CHECK-NEXT:      %[[C2:.*]] = memref.load %[[COL]][%c0, %c2] : memref<9x3xi32>
// CHECK-NEXT:      %[[W0:.*]] = memref.load %weight[%c0] : memref<18xi32>
// CHECK-NEXT:      arm_dsp.smlad %[[C0]], %[[W0]], %[[B0]]
// CHECK-NEXT:      arm_dsp.smlad %[[C1]], %[[W0]], %[[B0]]
// CHECK-NEXT:      arm_dsp.smlad %[[C2]], %[[W0]], %[[B0]]
// CHECK-NEXT:      %[[W1:.*]] = memref.load %weight[%c1] : memref<18xi32>
// CHECK-NEXT:      arm_dsp.smlad %[[C0]], %[[W1]], %[[B1]]
// CHECK-COUNT-50:  arm_dsp.smlad
// CHECK-NOT:       arm_dsp.smlad
// CHECK:           memref.store %{{.*}}, %out[%c0, %c1, %oh, %c2] : memref<1x2x4x4xi8>
// CHECK-NEXT:    }
// CHECK-NOT:     qnn.conv2d

// -----

// 1x1, stride 1, no padding: one matrix multiply over the flattened plane (blocks of 3 pixels cross row ends),
// the 3 input channels of a pixel in 2 pairs, the last one (x[2], 0).
func.func @pw(%x: tensor<1x3x2x3xi8>) -> tensor<1x3x2x3xi8> {
  %w = nn.constant dense<[[[[1]], [[2]], [[3]]], [[[-4]], [[5]], [[-6]]], [[[7]], [[8]], [[-9]]]]> : tensor<3x3x1x1xi8>
  %b = nn.constant dense<[10, 20, 30]> : tensor<3xi32>
  %y = qnn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64, input_zp = 1 : i32, requant = #qnn.requant<multiplier = [1073741824], shift = [-2], output_zp = 5>} : (tensor<1x3x2x3xi8>, tensor<3x3x1x1xi8>, tensor<3xi32>) -> tensor<1x3x2x3xi8>
  func.return %y : tensor<1x3x2x3xi8>
}

// CHECK-LABEL: func.func private @pw_L00_conv2d(%in: memref<1x3x2x3xi8>, %weight: memref<6xi32>, %bias: memref<3xi32>, %out: memref<1x3x2x3xi8>)
// CHECK:         %[[X:.*]] = memref.reinterpret_cast %in to offset: [0], sizes: [1, 3, 1, 6], strides: [18, 6, 6, 1] : memref<1x3x2x3xi8> to memref<1x3x1x6xi8>
// CHECK-NEXT:    %[[Y:.*]] = memref.reinterpret_cast %out to offset: [0], sizes: [1, 3, 1, 6], strides: [18, 6, 6, 1] : memref<1x3x2x3xi8> to memref<1x3x1x6xi8>
// CHECK-NEXT:    %[[COL:.*]] = memref.alloca() : memref<2x3xi32>
// CHECK-NEXT:    affine.for %ow = 0 to 6 step 3 {
// CHECK-NEXT:      %[[A:.*]] = memref.load %[[X]][%c0, %c0, %c0, %ow] : memref<1x3x1x6xi8>
// CHECK-NEXT:      %[[AI:.*]] = arith.extsi %[[A]] : i8 to i32
// CHECK-NEXT:      %[[B:.*]] = memref.load %[[X]][%c0, %c1, %c0, %ow] : memref<1x3x1x6xi8>
// CHECK-NEXT:      %[[BI:.*]] = arith.extsi %[[B]] : i8 to i32
// CHECK-NEXT:      %[[AB:.*]] = arm_dsp.pkhbt %[[AI]], %[[BI]] {shift = 16 : i32}
// CHECK-NEXT:      memref.store %[[AB]], %[[COL]][%c0, %c0] : memref<2x3xi32>
// CHECK-COUNT-2:   arm_dsp.pkhbt
// CHECK:           %[[C:.*]] = memref.load %[[X]][%c0, %c2, %c0, %ow] : memref<1x3x1x6xi8>
// CHECK-NEXT:      %[[CI:.*]] = arith.extsi %[[C]] : i8 to i32
// CHECK-NEXT:      %[[C0:.*]] = arm_dsp.pkhbt %[[CI]], %i0 {shift = 16 : i32}
// CHECK-NEXT:      memref.store %[[C0]], %[[COL]][%c1, %c0] : memref<2x3xi32>
// CHECK-COUNT-2:   arm_dsp.pkhbt
// CHECK-COUNT-12:  arm_dsp.smlad
// CHECK:           memref.store %{{.*}}, %[[Y]][%c0, %c0, %c0, %ow] : memref<1x3x1x6xi8>

// -----

// Depthwise 3x3, stride (1, 2), right padding 1, input zero point -3: kernel rows (0, 1) packed in pairs per
// input column (PKHBT), shared by the pixels that use the column, row 2 alone (its weight word (w, 0)). Weights
// per channel [2 row pairs x 3 columns] as int16 pairs, loaded once per channel. The start table has one row
// per border class: the interior [1 + 3 * 45, 2 + 3 * 0, 3 + 3 * 3] and the right border, whose padding-only
// pairs (column 2) are folded in (136 - 3 * (3 + 6 + 9) = 82), so they cost nothing per pixel.
func.func @dw(%x: tensor<1x3x6x8xi8>) -> tensor<1x3x4x4xi8> {
  %w = nn.constant dense<[[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]], [[[-1, 0, 1], [0, 2, 0], [1, 0, -1]]], [[[0, 0, 0], [0, 3, 0], [0, 0, 0]]]]> : tensor<3x1x3x3xi8>
  %b = nn.constant dense<[1, 2, 3]> : tensor<3xi32>
  %y = qnn.conv2d %x, %w, %b {stride = array<i64: 1, 2>, padding = array<i64: 0, 0, 0, 1>, dilation = array<i64: 1, 1>, groups = 3 : i64, input_zp = -3 : i32, requant = #qnn.requant<multiplier = [1073741824], shift = [-2], output_zp = 5>} : (tensor<1x3x6x8xi8>, tensor<3x1x3x3xi8>, tensor<3xi32>) -> tensor<1x3x4x4xi8>
  func.return %y : tensor<1x3x4x4xi8>
}

// CHECK-LABEL: func.func @dw(
// CHECK:         nn.constant dense<{{\[\[\[}}262145, 327682, 393219], [7, 8, 9]], {{\[\[}}65535, 131072, 1], [1, 0, 65535]], {{\[\[}}0, 196608, 0], [0, 0, 0]]]> : tensor<3x2x3xi32>
// CHECK-NEXT:    nn.constant dense<{{\[\[}}136, 8, 12], [82, 8, 12]]> : tensor<2x3xi32>
// CHECK-LABEL: func.func private @dw_L00_conv2d(%in: memref<1x3x6x8xi8>, %weight: memref<3x2x3xi32>, %bias: memref<2x3xi32>, %out: memref<1x3x4x4xi8>)
// CHECK:         affine.for %c = 0 to 3 {
// CHECK-NEXT:      %[[W00:.*]] = memref.load %weight[%c, %c0, %c0] : memref<3x2x3xi32>
// CHECK-NEXT:      %[[W01:.*]] = memref.load %weight[%c, %c0, %c1] : memref<3x2x3xi32>
// CHECK-COUNT-4:   memref.load %weight
// CHECK-NEXT:      affine.for %oh = 0 to 4 {
// CHECK-NEXT:        %[[S:.*]] = memref.load %bias[%c0, %c] : memref<2x3xi32>
// CHECK-NEXT:        %[[SR:.*]] = memref.load %bias[%c1, %c] : memref<2x3xi32>
// CHECK-NEXT:        %[[A:.*]] = memref.load %in[%c0, %c, %oh, %c0] : memref<1x3x6x8xi8>
// CHECK-NEXT:        %[[AI:.*]] = arith.extsi %[[A]] : i8 to i32
// CHECK-NEXT:        %[[DOWN:.*]] = affine.apply affine_map<(d0) -> ((d0 + 1))> (%oh)
// CHECK-NEXT:        %[[B:.*]] = memref.load %in[%c0, %c, %[[DOWN]], %c0] : memref<1x3x6x8xi8>
// CHECK-NEXT:        %[[BI:.*]] = arith.extsi %[[B]] : i8 to i32
// CHECK-NEXT:        %[[AB:.*]] = arm_dsp.pkhbt %[[AI]], %[[BI]] {shift = 16 : i32}
// CHECK-NEXT:        arm_dsp.smlad %[[AB]], %[[W00]], %[[S]]
// 4 pixels x 6 SMLADs (3 columns x (a row pair, row 2)), but 4 for the right border pixel: 22 in all
// CHECK-COUNT-21:    arm_dsp.smlad
// CHECK-NOT:         arm_dsp.smlad
// CHECK:             memref.store %{{.*}}, %out[%c0, %c, %oh, %c3] : memref<1x3x4x4xi8>
// CHECK-NEXT:      }
// CHECK-NEXT:    }

// -----

// Per-channel requantization, every exponent negative and the accumulators bounded (constant weights): the fast
// form, from a [channels, 3] table built at compile time, (multiplier, right shift, nudge) with the output zero
// point in the nudge: 2^2 + 5 * 2^3 = 44, 2^4 + 5 * 2^5 = 176. Per output: the high product, the sign of the
// doubled accumulator (not of the product: one multiply), the nudge, the shift, the clamp; no zero point add.
func.func @pc(%x: tensor<1x3x2x3xi8>) -> tensor<1x2x2x3xi8> {
  %w = nn.constant dense<[[[[1]], [[2]], [[3]]], [[[-4]], [[5]], [[-6]]]]> : tensor<2x3x1x1xi8>
  %b = nn.constant dense<[10, 20]> : tensor<2xi32>
  %y = qnn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64, input_zp = 1 : i32, requant = #qnn.requant<multiplier = [1073741824, 1288490189], shift = [-3, -5], output_zp = 5>} : (tensor<1x3x2x3xi8>, tensor<2x3x1x1xi8>, tensor<2xi32>) -> tensor<1x2x2x3xi8>
  func.return %y : tensor<1x2x2x3xi8>
}

// CHECK-LABEL: func.func @pc(
// CHECK:         nn.constant dense<{{\[}}[1073741824, 3, 44], [1288490189, 5, 176]]> : tensor<2x3xi32>
// CHECK-LABEL: func.func private @pc_L00_conv2d(%in: memref<1x3x2x3xi8>, %weight: memref<4xi32>, %bias: memref<2xi32>, %requant: memref<2x3xi32>, %out: memref<1x2x2x3xi8>)
// CHECK:           %[[M:.*]] = memref.load %requant[%c0, %c0] : memref<2x3xi32>
// CHECK-NEXT:      %[[RIGHT:.*]] = memref.load %requant[%c0, %c1] : memref<2x3xi32>
// CHECK-NEXT:      %[[NUDGE:.*]] = memref.load %requant[%c0, %c2] : memref<2x3xi32>
// CHECK-NEXT:      %[[M64:.*]] = arith.extsi %[[M]] : i32 to i64
// CHECK-COUNT-6:   arm_dsp.smlad
// CHECK:           %[[ACC:.*]] = arm_dsp.smlad
// CHECK-COUNT-5:   arm_dsp.smlad
// CHECK-NEXT:      %[[DOUBLE:.*]] = arith.shli %[[ACC]], %i1 : i32
// CHECK-NEXT:      %[[WIDE:.*]] = arith.extsi %[[DOUBLE]] : i32 to i64
// CHECK-NEXT:      %[[PROD:.*]] = arith.muli %[[WIDE]], %[[M64]] : i64
// CHECK-NEXT:      %[[ROUND:.*]] = arith.addi %[[PROD]], %i64 : i64
// CHECK-NEXT:      %[[HIGH64:.*]] = arith.shrsi %[[ROUND]], %i64_1 : i64
// CHECK-NEXT:      %[[HIGH:.*]] = arith.trunci %[[HIGH64]] : i64 to i32
// CHECK-NEXT:      %[[SIGN:.*]] = arith.shrsi %[[DOUBLE]], %i31 : i32
// CHECK-NEXT:      %[[UP:.*]] = arith.addi %[[HIGH]], %[[NUDGE]] : i32
// CHECK-NEXT:      %[[T:.*]] = arith.addi %[[UP]], %[[SIGN]] : i32
// CHECK-NEXT:      %[[Y:.*]] = arith.shrsi %[[T]], %[[RIGHT]] : i32
// CHECK-NEXT:      %[[LOW:.*]] = arith.cmpi slt, %[[Y]], %im128 : i32
// CHECK-NEXT:      %[[Y1:.*]] = arith.select %[[LOW]], %im128, %[[Y]] : i32
// CHECK-NEXT:      arith.cmpi sgt, %[[Y1]], %i127 : i32
// CHECK:           memref.store %{{.*}}, %{{.*}}[%c0, %c0, %c0, %ow] : memref<1x2x1x6xi8>
