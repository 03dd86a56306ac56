// RUN: t2m-opt %s -p lower-qnn-linear --split-input-file | filecheck %s

// The scalar kernel, pinned (`t2m.variant`; the default SMLAD kernel is in qnn-linear-dsp.mlir).
// int8 linear 6 -> 5, input zero point 3, per-tensor requantization (every constant inline), ReLU from the
// output zero point. The zero point is folded at compile time into the bias: b - 3 * (row sums of W) =
// [10 - 63, 20 + 63, 30 - 9, 40 - 9, 50]. Four outputs share each input load (4 accumulators), the fifth runs
// alone. The weights are constants, so the accumulators are bounded (|acc| <= |b| + 255 * sum|w| < 2^30): the
// store takes the fast requantization, the same bits as CMSIS-NN's: x = (2 acc * m + 2^31) >> 32 (SMMULR), then
// (x + 2^5 + (2 acc >> 31)) >> 6 rounds half away from zero, then the output zero point and the clamp [-7, 127].
func.func @fc(%x: tensor<1x6xi8>) -> tensor<1x5xi8> {
  %w = nn.constant dense<[[1, 2, 3, 4, 5, 6], [-1, -2, -3, -4, -5, -6], [1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1], [127, -127, 0, 0, 0, 0]]> : tensor<5x6xi8>
  %b = nn.constant dense<[10, 20, 30, 40, 50]> : tensor<5xi32>
  %y = qnn.linear %x, %w, %b {input_zp = 3 : i32, requant = #qnn.requant<multiplier = [1518500250], shift = [-6], output_zp = -7>, act_min = -7 : i32, t2m.variant = "scalar"} : (tensor<1x6xi8>, tensor<5x6xi8>, tensor<5xi32>) -> tensor<1x5xi8>
  func.return %y : tensor<1x5xi8>
}

// CHECK-LABEL: func.func @fc(
// CHECK:         %[[FOLDED:.*]] = nn.constant dense<[-53, 83, 21, 31, 50]> : tensor<5xi32>
// CHECK:         func.call @fc_L00_linear(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (memref<1x6xi8>, memref<5x6xi8>, memref<5xi32>, memref<1x5xi8>) -> ()
// CHECK-LABEL: func.func private @fc_L00_linear(%in: memref<1x6xi8>, %weight: memref<5x6xi8>, %bias: memref<5xi32>, %out: memref<1x5xi8>) attributes {t2m.layer = #t2m.layer<"linear", macs = 30, variant = "scalar">} {
// CHECK-DAG:     %[[M:.*]] = arith.constant 1518500250 : i64
// CHECK-DAG:     %[[NUDGE:.*]] = arith.constant 2147483648 : i64
// CHECK-DAG:     %[[C32:.*]] = arith.constant 32 : i64
// CHECK-DAG:     %[[HALF:.*]] = arith.constant 32 : i32
// CHECK-DAG:     %[[SIGN:.*]] = arith.constant 31 : i32
// CHECK-DAG:     %[[RIGHT:.*]] = arith.constant 6 : i32
// CHECK-DAG:     %[[ZP:.*]] = arith.constant -7 : i32
// CHECK:         %[[B0:.*]] = memref.load %bias[%c0] : memref<5xi32>
// CHECK-NEXT:    %[[B1:.*]] = memref.load %bias[%c1] : memref<5xi32>
// CHECK-NEXT:    %[[B2:.*]] = memref.load %bias[%c2] : memref<5xi32>
// CHECK-NEXT:    %[[B3:.*]] = memref.load %bias[%c3] : memref<5xi32>
// CHECK-NEXT:    %[[ACC:[0-9]+]], %{{.*}}, %{{.*}}, %{{.*}} = affine.for %i = 0 to 6 iter_args(%[[A0:.*]] = %[[B0]], %{{.*}} = %[[B1]], %{{.*}} = %[[B2]], %{{.*}} = %[[B3]]) -> (i32, i32, i32, i32) {
// CHECK-NEXT:      %[[X:.*]] = memref.load %in[%c0, %i] : memref<1x6xi8>
// CHECK-NEXT:      %[[XI:.*]] = arith.extsi %[[X]] : i8 to i32
// CHECK-NEXT:      %[[W:.*]] = memref.load %weight[%c0, %i] : memref<5x6xi8>
// CHECK-NEXT:      %[[WI:.*]] = arith.extsi %[[W]] : i8 to i32
// CHECK-NEXT:      %[[P:.*]] = arith.muli %[[XI]], %[[WI]] : i32
// CHECK-NEXT:      arith.addi %[[A0]], %[[P]] : i32
// CHECK-COUNT-3:   arith.muli %[[XI]], %{{.*}} : i32
// CHECK:           affine.yield
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[DOUBLE:.*]] = arith.shli %[[ACC]], %i1 : i32
// CHECK-NEXT:    %[[WIDE:.*]] = arith.extsi %[[DOUBLE]] : i32 to i64
// CHECK-NEXT:    %[[PROD:.*]] = arith.muli %[[WIDE]], %[[M]] : i64
// CHECK-NEXT:    %[[SUM:.*]] = arith.addi %[[PROD]], %[[NUDGE]] : i64
// CHECK-NEXT:    %[[SHIFTED:.*]] = arith.shrsi %[[SUM]], %[[C32]] : i64
// CHECK-NEXT:    %[[HIGH:.*]] = arith.trunci %[[SHIFTED]] : i64 to i32
// CHECK-NEXT:    %[[NEG:.*]] = arith.shrsi %[[DOUBLE]], %[[SIGN]] : i32
// CHECK-NEXT:    %[[UP:.*]] = arith.addi %[[HIGH]], %[[HALF]] : i32
// CHECK-NEXT:    %[[ROUNDING:.*]] = arith.addi %[[UP]], %[[NEG]] : i32
// CHECK-NEXT:    %[[R:.*]] = arith.shrsi %[[ROUNDING]], %[[RIGHT]] : i32
// CHECK-NEXT:    %[[Y:.*]] = arith.addi %[[R]], %[[ZP]] : i32
// CHECK-NEXT:    %[[LOW:.*]] = arith.cmpi slt, %[[Y]], %[[ZP]] : i32
// CHECK-NEXT:    %[[Y1:.*]] = arith.select %[[LOW]], %[[ZP]], %[[Y]] : i32
// CHECK-NEXT:    %[[HI:.*]] = arith.cmpi sgt, %[[Y1]], %i127 : i32
// CHECK-NEXT:    %[[Y2:.*]] = arith.select %[[HI]], %i127, %[[Y1]] : i32
// CHECK-NEXT:    %[[Y8:.*]] = arith.trunci %[[Y2]] : i32 to i8
// CHECK-NEXT:    memref.store %[[Y8]], %out[%c0, %c0] : memref<1x5xi8>
// CHECK:         memref.store %{{.*}}, %out[%c0, %c3] : memref<1x5xi8>
// CHECK-NEXT:    %[[B4:.*]] = memref.load %bias[%c4] : memref<5xi32>
// CHECK-NEXT:    affine.for %i_1 = 0 to 6 iter_args(%{{.*}} = %[[B4]]) -> (i32) {
// CHECK:         memref.store %{{.*}}, %out[%c0, %c4] : memref<1x5xi8>

// -----

// Weights that are not constants (an argument here): the zero point is subtracted after each input load, and
// nothing bounds the accumulators, so the store takes CMSIS-NN's requantization as written: (acc * m + 2^30) >> 31
// (SMLAL), then the rounding divide with a mask and a compare, which cannot overflow. Per-channel multipliers and
// exponents come from a table, once per output.
func.func @dynamic(%x: tensor<2x3xi8>, %w: tensor<2x3xi8>) -> tensor<2x2xi8> {
  %y = qnn.linear %x, %w {input_zp = -128 : i32, requant = #qnn.requant<multiplier = [1073741824, 1518500250], shift = [-2, 1], output_zp = 0>} : (tensor<2x3xi8>, tensor<2x3xi8>) -> tensor<2x2xi8>
  func.return %y : tensor<2x2xi8>
}

// CHECK-LABEL: func.func @dynamic(
// CHECK:         nn.constant dense<{{\[\[}}1073741824, -2], [1518500250, 1]]> : tensor<2x2xi32>
// CHECK-LABEL: func.func private @dynamic_L00_linear(%in: memref<2x3xi8>, %weight: memref<2x3xi8>, %requant: memref<2x2xi32>, %out: memref<2x2xi8>)
// CHECK:         affine.for %m = 0 to 2 {
// CHECK-NEXT:      affine.for %i = 0 to 3 iter_args(%{{.*}} = %i0, %{{.*}} = %i0) -> (i32, i32) {
// CHECK-NEXT:        %[[X:.*]] = memref.load %in[%m, %i] : memref<2x3xi8>
// CHECK-NEXT:        %[[XI:.*]] = arith.extsi %[[X]] : i8 to i32
// CHECK-NEXT:        %{{.*}} = arith.subi %[[XI]], %im128 : i32
// CHECK:         %[[M:.*]] = memref.load %requant[%c0, %c0] : memref<2x2xi32>
// CHECK-NEXT:    %[[E:.*]] = memref.load %requant[%c0, %c1] : memref<2x2xi32>
// CHECK-NEXT:    %[[POS:.*]] = arith.cmpi sgt, %[[E]], %i0 : i32
// CHECK-NEXT:    %[[LEFT:.*]] = arith.select %[[POS]], %[[E]], %i0 : i32
// CHECK-NEXT:    %[[NEG:.*]] = arith.subi %i0, %[[E]] : i32
// CHECK-NEXT:    %[[RIGHT:.*]] = arith.select %[[POS]], %i0, %[[NEG]] : i32
// CHECK-NEXT:    %[[ONE:.*]] = arith.shli %i1, %[[RIGHT]] : i32
// CHECK-NEXT:    %[[MASK:.*]] = arith.subi %[[ONE]], %i1 : i32
// CHECK-NEXT:    %[[M64:.*]] = arith.extsi %[[M]] : i32 to i64
// CHECK-NEXT:    %[[HALF:.*]] = arith.shrsi %[[MASK]], %i1 : i32
// CHECK-NEXT:    %[[SHIFTED:.*]] = arith.shli %{{.*}}, %[[LEFT]] : i32
// CHECK-NEXT:    %[[WIDE:.*]] = arith.extsi %[[SHIFTED]] : i32 to i64
// CHECK-NEXT:    %[[PROD:.*]] = arith.muli %[[WIDE]], %[[M64]] : i64
// CHECK-NEXT:    %[[SUM:.*]] = arith.addi %[[PROD]], %{{.*}} : i64
// CHECK-NEXT:    %[[H:.*]] = arith.shrsi %[[SUM]], %{{.*}} : i64
// CHECK-NEXT:    %[[HIGH:.*]] = arith.trunci %[[H]] : i64 to i32
// CHECK-NEXT:    %[[Q:.*]] = arith.shrsi %[[HIGH]], %[[RIGHT]] : i32
// CHECK-NEXT:    %[[ISNEG:.*]] = arith.cmpi slt, %[[Q]], %i0 : i32
// CHECK-NEXT:    %[[NEGBIT:.*]] = arith.extui %[[ISNEG]] : i1 to i32
// CHECK-NEXT:    %[[THRESHOLD:.*]] = arith.addi %[[NEGBIT]], %[[HALF]] : i32
// CHECK-NEXT:    %[[REM:.*]] = arith.andi %[[HIGH]], %[[MASK]] : i32
// CHECK-NEXT:    %[[UP:.*]] = arith.cmpi sgt, %[[REM]], %[[THRESHOLD]] : i32
