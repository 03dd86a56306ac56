// RUN: t2m-opt %s -p lower-qnn-linear | filecheck %s

// The SMLAD linear kernel (4 outputs a block, one tap pair an iteration: `smlad-o4p1u1` pinned to show the loop;
// the default is 6 outputs with the pairs unrolled). The weights are packed at compile time into int16 pairs,
// block by block, pair by pair, output by output: (1, 2) = 131073, (-1, -2) = -65537, (1, 0) = 1, (0, 1) = 65536,
// then the pairs (3, 4)... of the same four outputs; the fifth output is a block of its own, (127, -127) =
// -8322945. The zero point 3 is folded into the bias (b - 3 * row sums). The input row is packed once into a
// stack column of int16 pairs (PKHBT); each iteration loads one column word and four weight words for four
// SMLADs (2 MACs each); the store requantizes as the scalar kernel does (qnn-linear.mlir).
func.func @fc(%x: tensor<1x6xi8>) -> tensor<1x5xi8> {
  %w = nn.constant dense<[[1, 2, 3, 4, 5, 6], [-1, -2, -3, -4, -5, -6], [1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1], [127, -127, 0, 0, 0, 0]]> : tensor<5x6xi8>
  %b = nn.constant dense<[10, 20, 30, 40, 50]> : tensor<5xi32>
  %y = qnn.linear %x, %w, %b {input_zp = 3 : i32, requant = #qnn.requant<multiplier = [1518500250], shift = [-6], output_zp = -7>, act_min = -7 : i32, t2m.variant = "smlad-o4p1u1"} : (tensor<1x6xi8>, tensor<5x6xi8>, tensor<5xi32>) -> tensor<1x5xi8>
  func.return %y : tensor<1x5xi8>
}

// CHECK-LABEL: func.func @fc(
// CHECK:         nn.constant dense<[131073, -65537, 1, 65536, 262147, -196611, 1, 65536, 393221, -327685, 1, 65536, -8322945, 0, 0]> : tensor<15xi32>
// CHECK-NEXT:    nn.constant dense<[-53, 83, 21, 31, 50]> : tensor<5xi32>
// CHECK-LABEL: func.func private @fc_L00_linear(%in: memref<1x6xi8>, %weight: memref<15xi32>, %bias: memref<5xi32>, %out: memref<1x5xi8>) attributes {t2m.layer = #t2m.layer<"linear", macs = 30, variant = "smlad-o4p1u1">} {
// CHECK:         %[[COL:.*]] = memref.alloca() : memref<3x1xi32>
// CHECK-NEXT:    %[[X0:.*]] = memref.load %in[%c0, %c0] : memref<1x6xi8>
// CHECK-NEXT:    %[[X0I:.*]] = arith.extsi %[[X0]] : i8 to i32
// CHECK-NEXT:    %[[X1:.*]] = memref.load %in[%c0, %c1] : memref<1x6xi8>
// CHECK-NEXT:    %[[X1I:.*]] = arith.extsi %[[X1]] : i8 to i32
// CHECK-NEXT:    %[[P0:.*]] = arm_dsp.pkhbt %[[X0I]], %[[X1I]] {shift = 16 : i32}
// CHECK-NEXT:    memref.store %[[P0]], %[[COL]][%c0, %c0] : memref<3x1xi32>
// CHECK-COUNT-2: arm_dsp.pkhbt
// CHECK:         %[[B0:.*]] = memref.load %bias[%c0] : memref<5xi32>
// CHECK-NEXT:    %[[B1:.*]] = memref.load %bias[%c1] : memref<5xi32>
// CHECK-NEXT:    %[[B2:.*]] = memref.load %bias[%c2] : memref<5xi32>
// CHECK-NEXT:    %[[B3:.*]] = memref.load %bias[%c3] : memref<5xi32>
// CHECK-NEXT:    %[[ACC:[0-9]+]], %{{.*}}, %{{.*}}, %{{.*}} = affine.for %kk = 0 to 3 iter_args(%[[A0:.*]] = %[[B0]], %[[A1:.*]] = %[[B1]], %{{.*}} = %[[B2]], %{{.*}} = %[[B3]]) -> (i32, i32, i32, i32) {
// CHECK-NEXT:      %[[XP:.*]] = memref.load %[[COL]][%kk, %c0] : memref<3x1xi32>
// CHECK-NEXT:      %[[I0:.*]] = affine.apply affine_map<(d0) -> ((d0 * 4))> (%kk)
// CHECK-NEXT:      %[[W0:.*]] = memref.load %weight[%[[I0]]] : memref<15xi32>
// CHECK-NEXT:      %[[S0:.*]] = arm_dsp.smlad %[[XP]], %[[W0]], %[[A0]]
// CHECK-NEXT:      %[[I1:.*]] = affine.apply affine_map<(d0) -> (((d0 * 4) + 1))> (%kk)
// CHECK-NEXT:      %[[W1:.*]] = memref.load %weight[%[[I1]]] : memref<15xi32>
// CHECK-NEXT:      %[[S1:.*]] = arm_dsp.smlad %[[XP]], %[[W1]], %[[A1]]
// CHECK-COUNT-2:   arm_dsp.smlad %[[XP]]
// CHECK-NEXT:      affine.yield %[[S0]], %[[S1]], %{{.*}}, %{{.*}} : i32, i32, i32, i32
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[DOUBLE:.*]] = arith.shli %[[ACC]], %i1 : i32
// CHECK:         memref.store %{{.*}}, %out[%c0, %c0] : memref<1x5xi8>
// CHECK:         memref.store %{{.*}}, %out[%c0, %c3] : memref<1x5xi8>
// CHECK-NEXT:    %[[B4:.*]] = memref.load %bias[%c4] : memref<5xi32>
// CHECK-NEXT:    affine.for %kk_1 = 0 to 3 iter_args(%{{.*}} = %[[B4]]) -> (i32) {
// CHECK-NEXT:      memref.load %[[COL]][%kk_1, %c0] : memref<3x1xi32>
// CHECK-NEXT:      %[[I4:.*]] = affine.apply affine_map<(d0) -> ((d0 + 12))> (%kk_1)
// CHECK-NEXT:      memref.load %weight[%[[I4]]] : memref<15xi32>
// CHECK-NEXT:      arm_dsp.smlad
// CHECK-NEXT:      affine.yield
// CHECK:         memref.store %{{.*}}, %out[%c0, %c4] : memref<1x5xi8>
// CHECK-NOT:     qnn.linear
