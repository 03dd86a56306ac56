// RUN: t2m-opt %s -p lower-nn-linear | filecheck %s --check-prefix=DOT
// RUN: t2m-opt %s -p pack-weights,lower-nn-linear | filecheck %s --check-prefix=BLOCK

// y = x W^T + b, W [out=13, in=10]: in % 4 = 2 needs a scalar remainder; 13 outputs = 8 + 4 + 1.
// nn.sigmoid (another family) is left alone.
func.func @fc(%x: tensor<1x10xf32>) -> tensor<1x13xf32> {
  %w = nn.constant dense<0.5> : tensor<13x10xf32>
  %b = nn.constant dense<0.25> : tensor<13xf32>
  %y = nn.linear %x, %w, %b {act_min = 0.0 : f32} : (tensor<1x10xf32>, tensor<13x10xf32>, tensor<13xf32>) -> tensor<1x13xf32>
  %s = nn.sigmoid %y : tensor<1x13xf32>
  func.return %s : tensor<1x13xf32>
}

// DOT-LABEL: func.func @fc(
// DOT:         func.call @fc_L00_linear(
// DOT:         nn.sigmoid
// DOT-LABEL: func.func private @fc_L00_linear(%in: memref<1x10xf32>, %weight: memref<13x10xf32>, %bias: memref<13xf32>, %out: memref<1x13xf32>) attributes {t2m.layer = #t2m.layer<"linear", macs = 130>} {
// DOT:         %[[ZERO:.*]] = vector.broadcast %cst : f32 to vector<4xf32>
// DOT-NEXT:    affine.for %o = 0 to 13 {
// DOT-NEXT:      %[[B:.*]] = memref.load %bias[%o] : memref<13xf32>
// DOT-NEXT:      %[[V:.*]] = affine.for %i = 0 to 8 step 4 iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (vector<4xf32>) {
// DOT-NEXT:        %[[XV:.*]] = vector.load %in[%c0, %i] : memref<1x10xf32>, vector<4xf32>
// DOT-NEXT:        %[[WV:.*]] = vector.load %weight[%o, %i] : memref<13x10xf32>, vector<4xf32>
// DOT-NEXT:        %[[F:.*]] = vector.fma %[[XV]], %[[WV]], %[[ACC]] : vector<4xf32>
// DOT-NEXT:        affine.yield %[[F]] : vector<4xf32>
// DOT-NEXT:      }
// DOT-NEXT:      %[[R:.*]] = vector.reduction <add>, %[[V]], %[[B]] : vector<4xf32> into f32
// DOT-NEXT:      %[[T:.*]] = affine.for %i_1 = 8 to 10 iter_args(%[[S:.*]] = %[[R]]) -> (f32) {
// DOT-NEXT:        %[[X1:.*]] = memref.load %in[%c0, %i_1] : memref<1x10xf32>
// DOT-NEXT:        %[[W1:.*]] = memref.load %weight[%o, %i_1] : memref<13x10xf32>
// DOT-NEXT:        %[[P:.*]] = arith.mulf %[[X1]], %[[W1]] : f32
// DOT-NEXT:        %[[S2:.*]] = arith.addf %[[S]], %[[P]] : f32
// DOT-NEXT:        affine.yield %[[S2]] : f32
// DOT-NEXT:      }
// DOT-NEXT:      %[[NEG:.*]] = arith.cmpf olt, %[[T]], %cst : f32
// DOT-NEXT:      %[[RELU:.*]] = arith.select %[[NEG]], %cst, %[[T]] : f32
// DOT-NEXT:      memref.store %[[RELU]], %out[%c0, %o] : memref<1x13xf32>

// Blocked: the weight is repacked at compile time (a new constant) so that each input feeds 8 outputs held in
// two vector accumulators, reading 8 contiguous weights.
// BLOCK-LABEL: func.func @fc(
// BLOCK:         %[[PACKED:.*]] = nn.constant dense<5.000000e-01> : tensor<13x10xf32>
// BLOCK-NOT:     nn.linear
// BLOCK:         func.call @fc_L00_linear(
// BLOCK-LABEL: func.func private @fc_L00_linear(
// BLOCK:         %[[W:.*]] = memref.reinterpret_cast %weight to offset: [0], sizes: [130], strides: [1] : memref<13x10xf32> to memref<130xf32>
// BLOCK:         %[[B0:.*]] = vector.load %bias[%c0] : memref<13xf32>, vector<4xf32>
// BLOCK-NEXT:    %[[B1:.*]] = vector.load %bias[%c4] : memref<13xf32>, vector<4xf32>
// BLOCK-NEXT:    %[[A:.*]], %[[A2:.*]] = affine.for %i = 0 to 10 iter_args(%[[ACC0:.*]] = %[[B0]], %[[ACC1:.*]] = %[[B1]]) -> (vector<4xf32>, vector<4xf32>) {
// BLOCK-NEXT:      %[[X:.*]] = memref.load %in[%c0, %i] : memref<1x10xf32>
// BLOCK-NEXT:      %[[XB:.*]] = vector.broadcast %[[X]] : f32 to vector<4xf32>
// BLOCK-NEXT:      %[[OFF:.*]] = affine.apply affine_map<(d0) -> ((d0 * 8))> (%i)
// BLOCK-NEXT:      %[[W0:.*]] = vector.load %[[W]][%[[OFF]]] : memref<130xf32>, vector<4xf32>
// BLOCK-NEXT:      %[[OFF4:.*]] = affine.apply affine_map<(d0) -> (((d0 * 8) + 4))> (%i)
// BLOCK-NEXT:      %[[W1:.*]] = vector.load %[[W]][%[[OFF4]]] : memref<130xf32>, vector<4xf32>
// BLOCK-NEXT:      %[[F0:.*]] = vector.fma %[[XB]], %[[W0]], %[[ACC0]] : vector<4xf32>
// BLOCK-NEXT:      %[[F1:.*]] = vector.fma %[[XB]], %[[W1]], %[[ACC1]] : vector<4xf32>
// BLOCK-NEXT:      affine.yield %[[F0]], %[[F1]] : vector<4xf32>, vector<4xf32>
// BLOCK-NEXT:    }
// BLOCK-NEXT:    vector.store %[[A]], %out[%c0, %c0] : memref<1x13xf32>, vector<4xf32>
// BLOCK-NEXT:    vector.store %[[A2]], %out[%c0, %c4] : memref<1x13xf32>, vector<4xf32>
// the fused ReLU, then the block of 4 (outputs 8..11, packed weights from offset 80), then output 12
// BLOCK:         affine.for %j = 0 to 8 {
// BLOCK:           arith.cmpf olt
// BLOCK:         affine.for %i_1 = 0 to 10 iter_args
// BLOCK:           affine.apply affine_map<(d0) -> (((d0 * 4) + 80))> (%i_1)
// BLOCK:         affine.for %i_2 = 0 to 10 iter_args
// BLOCK:           affine.apply affine_map<(d0) -> ((d0 + 120))> (%i_2)
// BLOCK:         memref.store %{{.*}}, %out[%c0, %c12] : memref<1x13xf32>
