// RUN: t2m-opt %s -p lower-qnn-softmax | filecheck %s

// int8 softmax along a row of 10, CMSIS-NN's fixed point: per row the maximum; the sum of exp(diff) >> 12 over
// the entries with diff >= diff_min (diff << 22 times the Q31 multiplier: Q5.26; exp on negative values from its
// remainder bits and the barrel-shifter constants); CLZ of the sum (math.ctlz), 1 / (1 + x) by Newton-Raphson;
// then each output from its exp again, rounding-divided by 2^(35 - clz), minus 128, and -128 where diff < diff_min.
// A sum with fewer than 4 leading zeros (512 or more values near the maximum) would shift by 32 to 35 (poison):
// there the row's scale becomes 0 and the exponent 31, which gives the exact quotient, 0 (an output of -128).
func.func @sm(%x: tensor<2x10xi8>) -> tensor<2x10xi8> {
  %y = qnn.softmax %x {axis = 1 : i64, multiplier = 1717986918 : i32, shift = 22 : i32, diff_min = -496 : i32} : tensor<2x10xi8>
  func.return %y : tensor<2x10xi8>
}

// CHECK-LABEL: func.func private @sm_L00_softmax(%in: memref<2x10xi8>, %out: memref<2x10xi8>) attributes {t2m.layer = #t2m.layer<"softmax", macs = 0>} {
// CHECK-DAG:     %[[SHIFT:.*]] = arith.constant 22 : i32
// CHECK-DAG:     %[[MULT:.*]] = arith.constant 1717986918 : i64
// CHECK-DAG:     %[[QUARTER:.*]] = arith.constant 16777215 : i32
// CHECK-DAG:     %[[DIFFMIN:.*]] = arith.constant -496 : i32
// CHECK-DAG:     %[[MIN:.*]] = arith.constant -128 : i32
// CHECK-DAG:     %[[BITS:.*]] = arith.constant 35 : i32
// CHECK-DAG:     %[[I31:.*]] = arith.constant 31 : i32
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK:         %[[X:.*]] = memref.reinterpret_cast %in to offset: [0], sizes: [2, 10, 1], strides: [10, 1, 1] : memref<2x10xi8> to memref<2x10x1xi8>
// CHECK:         affine.for %o = 0 to 2 {
// CHECK-NEXT:      %[[TOP:.*]] = affine.for %l = 0 to 10 iter_args(%{{.*}} = %[[MIN]]) -> (i32) {
// CHECK:           arith.cmpi sgt
// CHECK:           affine.yield
// CHECK:           %[[SUM:.*]] = affine.for %l_1 = 0 to 10 iter_args(%[[ACC:.*]] = %i0) -> (i32) {
// CHECK-NEXT:        %[[V:.*]] = memref.load %[[X]][%o, %l_1, %c0] : memref<2x10x1xi8>
// CHECK-NEXT:        %[[VI:.*]] = arith.extsi %[[V]] : i8 to i32
// CHECK-NEXT:        %[[DIFF:.*]] = arith.subi %[[VI]], %[[TOP]] : i32
// CHECK-NEXT:        %[[SCALED:.*]] = arith.shli %[[DIFF]], %[[SHIFT]] : i32
// CHECK:             arith.muli %{{.*}}, %[[MULT]] : i64
// CHECK:             arith.andi %{{.*}}, %[[QUARTER]] : i32
// CHECK:             %[[VALID:.*]] = arith.cmpi sge, %[[DIFF]], %[[DIFFMIN]] : i32
// CHECK:             %[[TERM:.*]] = arith.select %[[VALID]], %{{.*}}, %i0 : i32
// CHECK-NEXT:        %[[NEXT:.*]] = arith.addi %[[ACC]], %[[TERM]] : i32
// CHECK-NEXT:        affine.yield %[[NEXT]] : i32
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[HEADROOM:.*]] = math.ctlz %[[SUM]] : i32
// CHECK-NEXT:      %[[NORMAL:.*]] = arith.shli %[[SUM]], %[[HEADROOM]] : i32
// CHECK:           %[[WANTED:.*]] = arith.subi %[[BITS]], %[[HEADROOM]] : i32
// CHECK-NEXT:      %[[TOOFAR:.*]] = arith.cmpi sgt, %[[WANTED]], %[[I31]] : i32
// CHECK-NEXT:      %[[ROWSCALE:.*]] = arith.select %[[TOOFAR]], %[[ZERO]], %{{.*}} : i32
// CHECK-NEXT:      %[[EXPONENT:.*]] = arith.select %[[TOOFAR]], %[[I31]], %[[WANTED]] : i32
// CHECK-NEXT:      %{{.*}} = arith.shli %{{.*}}, %[[EXPONENT]] : i32
// CHECK:           affine.for %l_2 = 0 to 10 {
// CHECK:             %[[OK:.*]] = arith.cmpi sge, %{{.*}}, %[[DIFFMIN]] : i32
// CHECK:             arith.extsi %[[ROWSCALE]] : i32 to i64
// CHECK:             arith.shrsi %{{.*}}, %[[EXPONENT]] : i32
// CHECK:             %[[Y:.*]] = arith.select %[[OK]], %{{.*}}, %[[MIN]] : i32
// CHECK:             memref.store %{{.*}}, %{{.*}}[%o, %l_2, %c0] : memref<2x10x1xi8>
