// RUN: t2m-opt %s -p 'lower-nn-conv{block=false}' --split-input-file | filecheck %s --check-prefix=PLAIN
// RUN: t2m-opt %s -p lower-nn-conv --split-input-file | filecheck %s --check-prefix=BLOCK

// 3x3, padding 1: the output plane splits into 3 x 3 regions; each nest has constant kernel bounds, so the
// padding is skipped, never tested. The caller sees to_buffer / alloc / call / to_tensor; nn.relu (another
// family) is left alone.
func.func @net(%x: tensor<1x2x5x5xf32>) -> tensor<1x4x5x5xf32> {
  %w = nn.constant dense<0.5> : tensor<4x2x3x3xf32>
  %b = nn.constant dense<0.25> : tensor<4xf32>
  %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32>
  %r = nn.relu %y : tensor<1x4x5x5xf32>
  func.return %r : tensor<1x4x5x5xf32>
}

// PLAIN-LABEL: func.func @net(
// PLAIN:         %[[X:.*]] = bufferization.to_buffer %x : tensor<1x2x5x5xf32> to memref<1x2x5x5xf32>
// PLAIN-NEXT:    %[[W:.*]] = bufferization.to_buffer %w : tensor<4x2x3x3xf32> to memref<4x2x3x3xf32>
// PLAIN-NEXT:    %[[B:.*]] = bufferization.to_buffer %b : tensor<4xf32> to memref<4xf32>
// PLAIN-NEXT:    %[[O:.*]] = memref.alloc() : memref<1x4x5x5xf32>
// PLAIN-NEXT:    func.call @net_L00_conv2d(%[[X]], %[[W]], %[[B]], %[[O]])
// PLAIN-NEXT:    %[[Y:.*]] = bufferization.to_tensor %[[O]] : memref<1x4x5x5xf32> to tensor<1x4x5x5xf32>
// PLAIN-NEXT:    nn.relu %[[Y]]
// PLAIN:       func.func private @net_L00_conv2d(%in: memref<1x2x5x5xf32>, %weight: memref<4x2x3x3xf32>, %bias: memref<4xf32>, %out: memref<1x4x5x5xf32>) attributes {t2m.layer = #t2m.layer<"conv2d", macs = 1800>} {
// PLAIN:         affine.for %oc = 0 to 4 {
// PLAIN-NEXT:      %[[BIAS:.*]] = memref.load %bias[%oc] : memref<4xf32>
// top-left corner: output (0, 0) sees taps kh, kw in 1..2 only
// PLAIN-NEXT:      affine.for %ic = 0 to 2 iter_args(%{{.*}} = %[[BIAS]]) -> (f32) {
// PLAIN-NEXT:        affine.for %kh = 1 to 3 iter_args
// PLAIN-NEXT:          affine.apply affine_map<(d0) -> ((d0 + -1))> (%kh)
// PLAIN-NEXT:          affine.for %kw = 1 to 3 iter_args
// interior: rows and columns 1..3, the full 3x3 kernel, no bounds test
// PLAIN:           affine.for %oh_1 = 1 to 4 {
// PLAIN-NEXT:        affine.for %ow_1 = 1 to 4 {
// PLAIN-NEXT:          %{{.*}} = affine.for %[[IC:.*]] = 0 to 2 iter_args(%{{.*}} = %[[BIAS]]) -> (f32) {
// PLAIN-NEXT:            %{{.*}} = affine.for %[[KH:.*]] = 0 to 3 iter_args
// PLAIN-NEXT:              %[[ROW:.*]] = affine.apply affine_map<(d0, d1) -> ((d1 + (d0 + -1)))> (%oh_1, %[[KH]])
// PLAIN-NEXT:              %{{.*}} = affine.for %[[KW:.*]] = 0 to 3 iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// PLAIN-NEXT:                %[[WV:.*]] = memref.load %weight[%oc, %[[IC]], %[[KH]], %[[KW]]] : memref<4x2x3x3xf32>
// PLAIN-NEXT:                %[[COL:.*]] = affine.apply affine_map<(d0, d1) -> ((d1 + (d0 + -1)))> (%ow_1, %[[KW]])
// PLAIN-NEXT:                %[[XV:.*]] = memref.load %in[%c0, %[[IC]], %[[ROW]], %[[COL]]] : memref<1x2x5x5xf32>
// PLAIN-NEXT:                %[[P:.*]] = arith.mulf %[[XV]], %[[WV]] : f32
// PLAIN-NEXT:                %[[S:.*]] = arith.addf %[[ACC]], %[[P]] : f32
// PLAIN-NEXT:                affine.yield %[[S]] : f32
// PLAIN:                 memref.store %{{.*}}, %out[%c0, %oc, %oh_1, %ow_1] : memref<1x4x5x5xf32>
// bottom-right corner: taps 0..1
// PLAIN:           affine.for %kh_8 = 0 to 2 iter_args
// PLAIN-NEXT:        affine.apply affine_map<(d0) -> ((d0 + 3))> (%kh_8)
// PLAIN-NEXT:        affine.for %kw_8 = 0 to 2 iter_args
// PLAIN:           memref.store %{{.*}}, %out[%c0, %oc, %c4, %c4] : memref<1x4x5x5xf32>
// PLAIN-NOT:     nn.conv2d

// Register blocking: 4 output channels x 5 columns (20 accumulators in iter_args, one load of each input
// and weight per step); the 3-wide interior gets a smaller 4 x 3 block.
// BLOCK-LABEL: func.func private @net_L00_conv2d(
// BLOCK:         %[[B0:.*]] = memref.load %bias[%c0] : memref<4xf32>
// BLOCK-NEXT:    %[[B1:.*]] = memref.load %bias[%c1] : memref<4xf32>
// BLOCK-NEXT:    %[[B2:.*]] = memref.load %bias[%c2] : memref<4xf32>
// BLOCK-NEXT:    %[[B3:.*]] = memref.load %bias[%c3] : memref<4xf32>
// BLOCK:         affine.for %oh_1 = 1 to 4 {
// BLOCK-NEXT:      {{.*}} = affine.for %ic_4 = 0 to 2 iter_args(%{{[0-9]+}} = %[[B0]], %{{[0-9]+}} = %[[B0]], %{{[0-9]+}} = %[[B0]], %{{[0-9]+}} = %[[B1]],
// BLOCK:             affine.for %kw_4 = 0 to 3 iter_args
// BLOCK-COUNT-4:       memref.load %weight
// BLOCK-COUNT-3:       memref.load %in
// BLOCK-COUNT-12:      arith.mulf
// BLOCK:               affine.yield {{.*}} : f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32
// BLOCK-COUNT-12:  memref.store

// -----

// Depthwise 3x3, stride 2, TF "same" padding (bottom/right only), fused ReLU. Blocks of 2 rows x 4 columns
// with the 3x3 window unrolled: the channel's 9 weights are loaded once, outside the pixel loops, and
// neighbouring pixels share input loads. The activation is a compare + select in the store.
func.func @dw(%x: tensor<1x3x10x10xf32>) -> tensor<1x3x5x5xf32> {
  %w = nn.constant dense<0.5> : tensor<3x1x3x3xf32>
  %y = nn.conv2d %x, %w {stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>, dilation = array<i64: 1, 1>, groups = 3 : i64, act_min = 0.0 : f32} : (tensor<1x3x10x10xf32>, tensor<3x1x3x3xf32>) -> tensor<1x3x5x5xf32>
  func.return %y : tensor<1x3x5x5xf32>
}

// BLOCK-LABEL: func.func private @dw_L00_conv2d(%in: memref<1x3x10x10xf32>, %weight: memref<3x1x3x3xf32>, %out: memref<1x3x5x5xf32>) attributes {t2m.layer = #t2m.layer<"conv2d", macs = 675>} {
// BLOCK:         affine.for %g = 0 to 3 {
// BLOCK-COUNT-9:   memref.load %weight[%g, %c0, %c{{[0-2]}}, %c{{[0-2]}}]
// interior: output rows 0..3 in blocks of 2 (input rows 2 oh .. 2 oh + 4), columns 0..3 in one block of 4
// (input columns 0..8): 45 input loads for 72 MACs, the column loop has one trip and is not emitted
// BLOCK-NEXT:      affine.for %oh = 0 to 4 step 2 {
// BLOCK-NEXT:        affine.apply affine_map<(d0) -> ((d0 * 2))> (%oh)
// BLOCK-COUNT-45:    memref.load %in
// BLOCK-NOT:         memref.load
// BLOCK-COUNT-72:    arith.mulf
// BLOCK-NOT:         arith.mulf
// BLOCK:             %[[NEG:.*]] = arith.cmpf olt, %[[V:.*]], %cst : f32
// BLOCK-NEXT:        %[[R:.*]] = arith.select %[[NEG]], %cst, %[[V]] : f32
// BLOCK-NEXT:        memref.store %[[R]], %out[%c0, %g, %oh, %c0] : memref<1x3x5x5xf32>
// bottom border row 4: kernel rows 0..1 only (row 2 would read the padding)
// BLOCK:           memref.load %in[%c0, %g, %c9, %c8]
// BLOCK-NOT:       memref.load %in[%c0, %g, %c10
// BLOCK:           memref.store %{{.*}}, %out[%c0, %g, %c4, %c4]
