// RUN: t2m-opt %s -p 'lower-qnn-conv{ob=2 pb=1 unroll=0}' --split-input-file | filecheck %s
// RUN: t2m-opt %s -p lower-qnn-conv --split-input-file | filecheck %s --check-prefix=DW

// int8 conv 3x3, padding 1, input zero point -2, per-channel requantization, ReLU-like range [-128, 100].
// The caller passes the bias with the zero point folded in for a full window (100 + 2 * 54 = 208,
// -7 + 2 * 5 = 3) and the [channels, 2] table of Q31 multipliers and exponents. In the layer, each channel's
// shifts and rounding mask come from its exponent once, outside the pixel loops. The top-left corner
// region skips kernel row 0 and column 0: it adds back -2 * (those weights' sum) before its MACs. The interior
// starts from the folded bias and multiplies sign-extended int8 values (i32 accumulators, 2 channels).
// The store, as CMSIS-NN writes it (one exponent is positive, a left shift, so per channel the fast form of the
// depthwise case below does not apply): shift left, (x * m + 2^30) >> 31 in i64, rounding divide by 2^right
// (mask, compare), output zero point, clamp, truncate to i8.
func.func @net(%x: tensor<1x2x4x4xi8>) -> tensor<1x2x4x4xi8> {
  %w = nn.constant dense<[[[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 1, 1], [1, 1, 1], [1, 1, 1]]], [[[-1, 0, 1], [0, 2, 0], [1, 0, -1]], [[0, 0, 0], [0, 3, 0], [0, 0, 0]]]]> : tensor<2x2x3x3xi8>
  %b = nn.constant dense<[100, -7]> : tensor<2xi32>
  %y = qnn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64, input_zp = -2 : i32, requant = #qnn.requant<multiplier = [1073741824, 1288490189], shift = [-3, 1], output_zp = -128>, act_min = -128 : i32, act_max = 100 : i32} : (tensor<1x2x4x4xi8>, tensor<2x2x3x3xi8>, tensor<2xi32>) -> tensor<1x2x4x4xi8>
  func.return %y : tensor<1x2x4x4xi8>
}

// CHECK-LABEL: func.func @net(
// CHECK:         %[[FOLDED:.*]] = nn.constant dense<[208, 3]> : tensor<2xi32>
// CHECK-NEXT:    %[[TABLE:.*]] = nn.constant dense<{{\[\[}}1073741824, -3], [1288490189, 1]]> : tensor<2x2xi32>
// CHECK:         func.call @net_L00_conv2d(
// CHECK-LABEL: func.func private @net_L00_conv2d(%in: memref<1x2x4x4xi8>, %weight: memref<2x2x3x3xi8>, %bias: memref<2xi32>, %requant: memref<2x2xi32>, %out: memref<1x2x4x4xi8>) attributes {t2m.layer = #t2m.layer<"conv2d", macs = 576, variant = "scalar">} {
// CHECK:         %[[M0:.*]] = memref.load %requant[%c0, %c0] : memref<2x2xi32>
// CHECK-NEXT:    %[[E0:.*]] = memref.load %requant[%c0, %c1] : memref<2x2xi32>
// CHECK-NEXT:    %[[POS:.*]] = arith.cmpi sgt, %[[E0]], %i0 : i32
// CHECK-NEXT:    %[[LEFT:.*]] = arith.select %[[POS]], %[[E0]], %i0 : i32
// CHECK-NEXT:    %[[NEG:.*]] = arith.subi %i0, %[[E0]] : i32
// CHECK-NEXT:    %[[RIGHT:.*]] = arith.select %[[POS]], %i0, %[[NEG]] : i32
// CHECK-NEXT:    %[[ONE:.*]] = arith.shli %i1, %[[RIGHT]] : i32
// CHECK-NEXT:    %[[MASK:.*]] = arith.subi %[[ONE]], %i1 : i32
// CHECK-NEXT:    %[[M64:.*]] = arith.extsi %[[M0]] : i32 to i64
// CHECK-NEXT:    %[[HALF:.*]] = arith.shrsi %[[MASK]], %i1 : i32
// CHECK:         %[[B0:.*]] = memref.load %bias[%c0] : memref<2xi32>
// CHECK-NEXT:    %[[B1:.*]] = memref.load %bias[%c1] : memref<2xi32>
// top-left corner: add back the zero point times the weights of row 0, then of column 0 in rows 1..2
// CHECK-NEXT:    %[[ROW0:[0-9]+]], %{{.*}} = affine.for %ic = 0 to 2 iter_args
// CHECK-NEXT:      affine.for %kw = 0 to 3 iter_args
// CHECK-NEXT:        memref.load %weight[%c0, %ic, %c0, %kw] : memref<2x2x3x3xi8>
// CHECK:         %[[Z0:.*]] = arith.muli %[[ROW0]], %im2 : i32
// CHECK-NEXT:    %[[C0:.*]] = arith.addi %[[B0]], %[[Z0]] : i32
// CHECK:         affine.for %ic_1 = 0 to 2 iter_args
// CHECK-NEXT:      affine.for %kh = 1 to 3 iter_args
// CHECK-NEXT:        memref.load %weight[%c0, %ic_1, %kh, %c0] : memref<2x2x3x3xi8>
// CHECK:         affine.for %ic_2 = 0 to 2 iter_args
// CHECK-NEXT:      affine.for %kh_1 = 1 to 3 iter_args
// CHECK-NEXT:        affine.apply
// CHECK-NEXT:        affine.for %kw_1 = 1 to 3 iter_args
// CHECK:         memref.store %{{.*}}, %out[%c0, %c0, %c0, %c0] : memref<1x2x4x4xi8>
// interior: the full window, the folded bias as it is, no bounds test, no zero point
// CHECK:         affine.for %oh_1 = 1 to 3 {
// CHECK-NEXT:      affine.for %ow_1 = 1 to 3 {
// CHECK-NEXT:        %[[ACC:[0-9]+]], %{{.*}} = affine.for %[[IC:.*]] = 0 to 2 iter_args(%{{.*}} = %[[B0]], %{{.*}} = %[[B1]]) -> (i32, i32) {
// CHECK-NEXT:          affine.for %[[KH:.*]] = 0 to 3 iter_args
// CHECK-NEXT:            %[[ROW:.*]] = affine.apply affine_map<(d0, d1) -> ((d1 + (d0 + -1)))> (%oh_1, %[[KH]])
// CHECK-NEXT:            affine.for %[[KW:.*]] = 0 to 3 iter_args(%[[A0:.*]] = %{{.*}}, %[[A1:.*]] = %{{.*}}) -> (i32, i32) {
// CHECK-NEXT:              %[[W0:.*]] = memref.load %weight[%c0, %[[IC]], %[[KH]], %[[KW]]] : memref<2x2x3x3xi8>
// CHECK-NEXT:              %[[W0I:.*]] = arith.extsi %[[W0]] : i8 to i32
// CHECK-NEXT:              %[[W1:.*]] = memref.load %weight[%c1, %[[IC]], %[[KH]], %[[KW]]] : memref<2x2x3x3xi8>
// CHECK-NEXT:              %[[W1I:.*]] = arith.extsi %[[W1]] : i8 to i32
// CHECK-NEXT:              %[[COL:.*]] = affine.apply affine_map<(d0, d1) -> ((d1 + (d0 + -1)))> (%ow_1, %[[KW]])
// CHECK-NEXT:              %[[X:.*]] = memref.load %in[%c0, %[[IC]], %[[ROW]], %[[COL]]] : memref<1x2x4x4xi8>
// CHECK-NEXT:              %[[XI:.*]] = arith.extsi %[[X]] : i8 to i32
// CHECK-NEXT:              %[[P0:.*]] = arith.muli %[[XI]], %[[W0I]] : i32
// CHECK-NEXT:              %[[S0:.*]] = arith.addi %[[A0]], %[[P0]] : i32
// CHECK-NEXT:              %[[P1:.*]] = arith.muli %[[XI]], %[[W1I]] : i32
// CHECK-NEXT:              %[[S1:.*]] = arith.addi %[[A1]], %[[P1]] : i32
// CHECK-NEXT:              affine.yield %[[S0]], %[[S1]] : i32, i32
// CHECK:             %[[SHIFTED:.*]] = arith.shli %[[ACC]], %[[LEFT]] : i32
// CHECK-NEXT:        %[[WIDE:.*]] = arith.extsi %[[SHIFTED]] : i32 to i64
// CHECK-NEXT:        %[[PROD:.*]] = arith.muli %[[WIDE]], %[[M64]] : i64
// CHECK-NEXT:        %[[NUDGED:.*]] = arith.addi %[[PROD]], %i64 : i64
// CHECK-NEXT:        %[[HIGH64:.*]] = arith.shrsi %[[NUDGED]], %i64_1 : i64
// CHECK-NEXT:        %[[HIGH:.*]] = arith.trunci %[[HIGH64]] : i64 to i32
// CHECK-NEXT:        %[[Q:.*]] = arith.shrsi %[[HIGH]], %[[RIGHT]] : i32
// CHECK-NEXT:        %[[ISNEG:.*]] = arith.cmpi slt, %[[Q]], %i0 : i32
// CHECK-NEXT:        %[[NEGBIT:.*]] = arith.extui %[[ISNEG]] : i1 to i32
// CHECK-NEXT:        %[[THRESHOLD:.*]] = arith.addi %[[NEGBIT]], %[[HALF]] : i32
// CHECK-NEXT:        %[[REM:.*]] = arith.andi %[[HIGH]], %[[MASK]] : i32
// CHECK-NEXT:        %[[UP:.*]] = arith.cmpi sgt, %[[REM]], %[[THRESHOLD]] : i32
// CHECK-NEXT:        %[[UPBIT:.*]] = arith.extui %[[UP]] : i1 to i32
// CHECK-NEXT:        %[[ROUNDED:.*]] = arith.addi %[[Q]], %[[UPBIT]] : i32
// CHECK-NEXT:        %[[Y:.*]] = arith.addi %[[ROUNDED]], %im128 : i32
// CHECK-NEXT:        %[[LOW:.*]] = arith.cmpi slt, %[[Y]], %im128 : i32
// CHECK-NEXT:        %[[Y1:.*]] = arith.select %[[LOW]], %im128, %[[Y]] : i32
// CHECK-NEXT:        %[[HIGHER:.*]] = arith.cmpi sgt, %[[Y1]], %i100 : i32
// CHECK-NEXT:        %[[Y2:.*]] = arith.select %[[HIGHER]], %i100, %[[Y1]] : i32
// CHECK-NEXT:        %[[Y8:.*]] = arith.trunci %[[Y2]] : i32 to i8
// CHECK-NEXT:        memref.store %[[Y8]], %out[%c0, %c0, %oh_1, %ow_1] : memref<1x2x4x4xi8>
// CHECK-NOT:     qnn.conv2d

// -----

// Depthwise, the scalar kernel pinned (`t2m.variant`; the default SMLAD kernels are in qnn-conv-dsp.mlir): up to 4 output columns at once, kernel columns unrolled, so neighbouring pixels
// share their input loads: the 3 interior columns at stride 2 read 7 inputs per kernel row, not 9. Input zero
// point 0: the bias is used as it is, no correction loops. Per-tensor requantization: every constant is inline,
// and with constant weights the accumulators are bounded, so the fast form: x = (2 acc * m + 2^31) >> 32, then
// (x + 2 + (2 acc >> 31)) >> 2 (m >= 0: the sign of 2 acc stands in for x's).
func.func @dw(%x: tensor<1x3x6x8xi8>) -> tensor<1x3x4x4xi8> {
  %w = nn.constant dense<1> : tensor<3x1x3x3xi8>
  %b = nn.constant dense<[1, 2, 3]> : tensor<3xi32>
  %y = qnn.conv2d %x, %w, %b {stride = array<i64: 1, 2>, padding = array<i64: 0, 0, 0, 1>, dilation = array<i64: 1, 1>, groups = 3 : i64, input_zp = 0 : i32, requant = #qnn.requant<multiplier = [1073741824], shift = [-2], output_zp = 5>, t2m.variant = "scalar"} : (tensor<1x3x6x8xi8>, tensor<3x1x3x3xi8>, tensor<3xi32>) -> tensor<1x3x4x4xi8>
  func.return %y : tensor<1x3x4x4xi8>
}

// DW-LABEL: func.func private @dw_L00_conv2d(%in: memref<1x3x6x8xi8>, %weight: memref<3x1x3x3xi8>, %bias: memref<3xi32>, %out: memref<1x3x4x4xi8>)
// DW-DAG:     %[[M:.*]] = arith.constant 1073741824 : i64
// DW-DAG:     %[[ROUND:.*]] = arith.constant 2147483648 : i64
// DW-DAG:     %[[C32:.*]] = arith.constant 32 : i64
// DW-DAG:     %[[TWO:.*]] = arith.constant 2 : i32
// DW-DAG:     %[[C31:.*]] = arith.constant 31 : i32
// DW:         affine.for %g = 0 to 3 {
// DW-NEXT:      %[[B:.*]] = memref.load %bias[%g] : memref<3xi32>
// DW-NEXT:      affine.for %oh = 0 to 4 {
// DW-NEXT:        %{{.*}}, %{{.*}}, %{{.*}} = affine.for %kh = 0 to 3 iter_args(%{{.*}} = %[[B]], %{{.*}} = %[[B]], %{{.*}} = %[[B]]) -> (i32, i32, i32) {
// DW-COUNT-7:     memref.load %in
// DW-NOT:         memref.load %in
// DW:             affine.yield
// DW-NEXT:      }
// DW-NEXT:      %[[DOUBLE:.*]] = arith.shli %{{.*}}, %i1 : i32
// DW-NEXT:      %[[WIDE:.*]] = arith.extsi %[[DOUBLE]] : i32 to i64
// DW-NEXT:      %[[PROD:.*]] = arith.muli %[[WIDE]], %[[M]] : i64
// DW-NEXT:      %[[SUM:.*]] = arith.addi %[[PROD]], %[[ROUND]] : i64
// DW-NEXT:      %[[HIGH64:.*]] = arith.shrsi %[[SUM]], %[[C32]] : i64
// DW-NEXT:      %[[HIGH:.*]] = arith.trunci %[[HIGH64]] : i64 to i32
// DW-NEXT:      %[[SIGN:.*]] = arith.shrsi %[[DOUBLE]], %[[C31]] : i32
// DW-NEXT:      %[[UP:.*]] = arith.addi %[[HIGH]], %[[TWO]] : i32
// DW-NEXT:      %[[T:.*]] = arith.addi %[[UP]], %[[SIGN]] : i32
// DW-NEXT:      arith.shrsi %[[T]], %[[TWO]] : i32
// DW-NOT:     affine.for %ic
