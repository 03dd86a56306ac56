// RUN: t2m-opt %s -p lower-qnn-elementwise | filecheck %s

// add (TFLite's int8 add): each side (q - zp) << 20, requantized by its own multiplier (shift 0: no rounding
// divide), summed, requantized by the output's (rounding divide by 2^18), plus the output zero point, clamped to
// [-7, 127]. int8 operands bound every intermediate value, so each requantization takes the fast form (the same
// bits): doubled, h = (x * m + 2^31) >> 32 (SMMULR), then (h + 2^17 + (x >> 31)) >> 18. The [1,2,1,1] operand is
// broadcast: a 2 x 9 nest, one load of it per row position.
// mul: (a - 1) * (a - 1) requantized. rescale of an int32 tensor (nothing bounds it: CMSIS-NN's form as written),
// per channel along axis 1: each channel's multiplier and exponent are loaded once, outside the loop over its
// elements. clamp: compare + select only.
// The same add pinned by hand to its table kernel (`t2m.variant`; the default below 256 outputs is arith): each
// operand's byte, zero-extended, indexes a 256-entry i32 table of its rescaled value (pre-shifted by the output
// requantization's left shift and doubling, 2), the sum goes straight into the output requantization.
func.func @elementwise(%a: tensor<1x2x3x3xi8>, %b: tensor<1x2x1x1xi8>, %acc: tensor<1x2x3xi32>) -> (tensor<1x2x3x3xi8>, tensor<1x2x3x3xi8>, tensor<1x2x3xi8>, tensor<1x2x3x3xi8>, tensor<1x2x3x3xi8>) {
  %s = qnn.add %a, %b {lhs_zp = 1 : i32, rhs_zp = -2 : i32, lhs_scale = #qnn.requant<multiplier = [1073741824], shift = [0], output_zp = 0>, rhs_scale = #qnn.requant<multiplier = [1431655765], shift = [0], output_zp = 0>, output_scale = #qnn.requant<multiplier = [1288490189], shift = [-18], output_zp = -7>, act_min = -7 : i32} : (tensor<1x2x3x3xi8>, tensor<1x2x1x1xi8>) -> tensor<1x2x3x3xi8>
  %p = qnn.mul %a, %a {lhs_zp = 1 : i32, rhs_zp = 1 : i32, output_scale = #qnn.requant<multiplier = [1717986918], shift = [-9], output_zp = 3>} : (tensor<1x2x3x3xi8>, tensor<1x2x3x3xi8>) -> tensor<1x2x3x3xi8>
  %r = qnn.rescale %acc {requant = #qnn.requant<multiplier = [1073741824, 2147483000], shift = [-5, 2], output_zp = 4>, input_zp = 0 : i32, axis = 1 : i64} : (tensor<1x2x3xi32>) -> tensor<1x2x3xi8>
  %c = qnn.clamp %a {min = -20 : i32, max = 20 : i32} : tensor<1x2x3x3xi8>
  %t = qnn.add %a, %b {lhs_zp = 1 : i32, rhs_zp = -2 : i32, lhs_scale = #qnn.requant<multiplier = [1073741824], shift = [0], output_zp = 0>, rhs_scale = #qnn.requant<multiplier = [1431655765], shift = [0], output_zp = 0>, output_scale = #qnn.requant<multiplier = [1288490189], shift = [-18], output_zp = -7>, act_min = -7 : i32, t2m.variant = "table"} : (tensor<1x2x3x3xi8>, tensor<1x2x1x1xi8>) -> tensor<1x2x3x3xi8>
  func.return %s, %p, %r, %c, %t : tensor<1x2x3x3xi8>, tensor<1x2x3x3xi8>, tensor<1x2x3xi8>, tensor<1x2x3x3xi8>, tensor<1x2x3x3xi8>
}

// CHECK-LABEL: func.func private @elementwise_L00_add(%lhs: memref<1x2x3x3xi8>, %rhs: memref<1x2x1x1xi8>, %out: memref<1x2x3x3xi8>) attributes {t2m.layer = #t2m.layer<"add", macs = 0, variant = "arith">} {
// CHECK-DAG:     %[[TWENTY:.*]] = arith.constant 20 : i32
// CHECK-DAG:     %[[ML:.*]] = arith.constant 1073741824 : i64
// CHECK-DAG:     %[[ROUND:.*]] = arith.constant 2147483648 : i64
// CHECK-DAG:     %[[C32:.*]] = arith.constant 32 : i64
// CHECK-DAG:     %[[MR:.*]] = arith.constant 1431655765 : i64
// CHECK-DAG:     %[[MO:.*]] = arith.constant 1288490189 : i64
// CHECK-DAG:     %[[NUDGE:.*]] = arith.constant 131072 : i32
// CHECK-DAG:     %[[SHIFT:.*]] = arith.constant 18 : i32
// CHECK:         %[[A:.*]] = memref.reinterpret_cast %lhs to offset: [0], sizes: [2, 9], strides: [9, 1] : memref<1x2x3x3xi8> to memref<2x9xi8>
// CHECK-NEXT:    %[[B:.*]] = memref.reinterpret_cast %rhs to offset: [0], sizes: [2, 1], strides: [1, 1] : memref<1x2x1x1xi8> to memref<2x1xi8>
// CHECK:         affine.for %[[I:.*]] = 0 to 2 {
// CHECK-NEXT:      affine.for %[[J:.*]] = 0 to 9 {
// CHECK-NEXT:        memref.load %[[A]][%[[I]], %[[J]]] : memref<2x9xi8>
// CHECK-NEXT:        %[[AI:.*]] = arith.extsi
// CHECK-NEXT:        memref.load %[[B]][%[[I]], %c0] : memref<2x1xi8>
// CHECK-NEXT:        %[[BI:.*]] = arith.extsi
// CHECK-NEXT:        %[[AZ:.*]] = arith.subi %[[AI]], %i1 : i32
// CHECK-NEXT:        %[[AS:.*]] = arith.shli %[[AZ]], %[[TWENTY]] : i32
// CHECK-NEXT:        %[[AD:.*]] = arith.shli %[[AS]], %i1 : i32
// CHECK-NEXT:        %[[AW:.*]] = arith.extsi %[[AD]] : i32 to i64
// CHECK-NEXT:        %[[AP:.*]] = arith.muli %[[AW]], %[[ML]] : i64
// CHECK-NEXT:        %[[AN:.*]] = arith.addi %[[AP]], %[[ROUND]] : i64
// CHECK-NEXT:        %[[AH:.*]] = arith.shrsi %[[AN]], %[[C32]] : i64
// CHECK-NEXT:        %[[ASIDE:.*]] = arith.trunci %[[AH]] : i64 to i32
// CHECK-NEXT:        %[[BZ:.*]] = arith.subi %[[BI]], %im2 : i32
// CHECK-NEXT:        %[[BS:.*]] = arith.shli %[[BZ]], %[[TWENTY]] : i32
// CHECK-NEXT:        %[[BD:.*]] = arith.shli %[[BS]], %i1 : i32
// CHECK-NEXT:        %[[BW:.*]] = arith.extsi %[[BD]] : i32 to i64
// CHECK-NEXT:        arith.muli %[[BW]], %[[MR]] : i64
// CHECK:             %[[BSIDE:.*]] = arith.trunci %{{.*}} : i64 to i32
// CHECK-NEXT:        %[[SUM:.*]] = arith.addi %[[ASIDE]], %[[BSIDE]] : i32
// CHECK-NEXT:        %[[SD:.*]] = arith.shli %[[SUM]], %i1 : i32
// CHECK-NEXT:        %[[SW:.*]] = arith.extsi %[[SD]] : i32 to i64
// CHECK-NEXT:        arith.muli %[[SW]], %[[MO]] : i64
// CHECK:             %[[HIGH:.*]] = arith.trunci %{{.*}} : i64 to i32
// CHECK-NEXT:        %[[SIGN:.*]] = arith.shrsi %[[SD]], %i31 : i32
// CHECK-NEXT:        %[[UP:.*]] = arith.addi %[[HIGH]], %[[NUDGE]] : i32
// CHECK-NEXT:        %[[T:.*]] = arith.addi %[[UP]], %[[SIGN]] : i32
// CHECK-NEXT:        %[[Q:.*]] = arith.shrsi %[[T]], %[[SHIFT]] : i32
// CHECK-NEXT:        %[[Y:.*]] = arith.addi %[[Q]], %im7 : i32
// CHECK-NEXT:        arith.cmpi slt, %[[Y]], %im7 : i32
// CHECK:             memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]]] : memref<2x9xi8>

// CHECK-LABEL: func.func private @elementwise_L01_mul(
// CHECK:         affine.for %[[I:.*]] = 0 to 18 {
// CHECK:           %[[AZ:.*]] = arith.subi %{{.*}}, %i1 : i32
// CHECK-NEXT:      %[[BZ:.*]] = arith.subi %{{.*}}, %i1 : i32
// CHECK-NEXT:      %[[P:.*]] = arith.muli %[[AZ]], %[[BZ]] : i32
// CHECK-NEXT:      %[[D:.*]] = arith.shli %[[P]], %i1 : i32
// CHECK-NEXT:      arith.extsi %[[D]] : i32 to i64

// CHECK-LABEL: func.func private @elementwise_L02_rescale(%in: memref<1x2x3xi32>, %requant: memref<2x2xi32>, %out: memref<1x2x3xi8>)
// CHECK:         affine.for %c = 0 to 2 {
// CHECK-NEXT:      %[[M:.*]] = memref.load %requant[%c, %c0] : memref<2x2xi32>
// CHECK-NEXT:      %[[E:.*]] = memref.load %requant[%c, %c1] : memref<2x2xi32>
// CHECK:           affine.for %i = 0 to 3 {
// CHECK-NEXT:        %[[X:.*]] = memref.load %in[%c0, %c, %i] : memref<1x2x3xi32>
// CHECK-NEXT:        arith.shli %[[X]], %{{.*}} : i32
// CHECK-NEXT:        arith.extsi
// CHECK-NEXT:        arith.muli
// CHECK-NEXT:        arith.addi %{{.*}}, %i64{{.*}} : i64
// CHECK-NEXT:        arith.shrsi %{{.*}}, %i64{{.*}} : i64
// CHECK-NEXT:        arith.trunci
// CHECK-NEXT:        arith.shrsi
// CHECK-NEXT:        arith.cmpi slt

// CHECK-LABEL: func.func private @elementwise_L03_clamp(
// CHECK:         affine.for %i = 0 to 18 {
// CHECK-NEXT:      %[[X:.*]] = memref.load %{{.*}}[%i] : memref<18xi8>
// CHECK-NEXT:      %[[XI:.*]] = arith.extsi %[[X]] : i8 to i32
// CHECK-NEXT:      %[[LT:.*]] = arith.cmpi slt, %[[XI]], %im20 : i32
// CHECK-NEXT:      %[[Y:.*]] = arith.select %[[LT]], %im20, %[[XI]] : i32
// CHECK-NEXT:      %[[GT:.*]] = arith.cmpi sgt, %[[Y]], %i20 : i32
// CHECK-NEXT:      %[[Z:.*]] = arith.select %[[GT]], %i20, %[[Y]] : i32
// CHECK-NEXT:      %[[Z8:.*]] = arith.trunci %[[Z]] : i32 to i8
// CHECK-NEXT:      memref.store %[[Z8]], %{{.*}}[%i] : memref<18xi8>

// CHECK-LABEL: func.func private @elementwise_L04_add(%lhs: memref<1x2x3x3xi8>, %rhs: memref<1x2x1x1xi8>, %lhs_table: memref<256xi32>, %rhs_table: memref<256xi32>, %out: memref<1x2x3x3xi8>) attributes {t2m.layer = #t2m.layer<"add", macs = 0, variant = "table">} {
// CHECK:         affine.for %[[I:.*]] = 0 to 2 {
// CHECK-NEXT:      affine.for %[[J:.*]] = 0 to 9 {
// CHECK-NEXT:        %[[A:.*]] = memref.load %{{.*}}[%[[I]], %[[J]]] : memref<2x9xi8>
// CHECK-NEXT:        %[[AU:.*]] = arith.extui %[[A]] : i8 to i32
// CHECK-NEXT:        %[[AI:.*]] = arith.index_cast %[[AU]] : i32 to index
// CHECK-NEXT:        %[[TA:.*]] = memref.load %lhs_table[%[[AI]]] : memref<256xi32>
// CHECK-NEXT:        %[[B:.*]] = memref.load %{{.*}}[%[[I]], %c0] : memref<2x1xi8>
// CHECK-NEXT:        %[[BU:.*]] = arith.extui %[[B]] : i8 to i32
// CHECK-NEXT:        %[[BI:.*]] = arith.index_cast %[[BU]] : i32 to index
// CHECK-NEXT:        %[[TB:.*]] = memref.load %rhs_table[%[[BI]]] : memref<256xi32>
// CHECK-NEXT:        %[[SUM:.*]] = arith.addi %[[TA]], %[[TB]] : i32
// CHECK-NEXT:        %[[W:.*]] = arith.extsi %[[SUM]] : i32 to i64
// CHECK-NEXT:        arith.muli %[[W]], %{{.*}} : i64
// CHECK:             arith.shrsi %{{.*}}, %i18 : i32
// CHECK:             memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]]] : memref<2x9xi8>
