// RUN: t2m-opt %s -p lower-qnn-matmul | filecheck %s

// int8 matmul and sum: int32 accumulators of zero-point-corrected values (the rescale after them is
// lower-qnn-elementwise's). The sum subtracts zp * count once per result instead of once per element.
func.func @q(%a: tensor<1x2x3xi8>, %b: tensor<1x3x2xi8>) -> (tensor<1x2x2xi32>, tensor<1x1x3xi32>) {
  %p = qnn.matmul %a, %b {lhs_zp = 5 : i32, rhs_zp = -3 : i32} : (tensor<1x2x3xi8>, tensor<1x3x2xi8>) -> tensor<1x2x2xi32>
  %s = qnn.reduce_sum %a {axes = array<i64: 1>, input_zp = 7 : i32} : (tensor<1x2x3xi8>) -> tensor<1x1x3xi32>
  func.return %p, %s : tensor<1x2x2xi32>, tensor<1x1x3xi32>
}

// CHECK-LABEL: func.func private @q_L00_matmul(%lhs: memref<1x2x3xi8>, %rhs: memref<1x3x2xi8>, %out: memref<1x2x2xi32>) attributes {t2m.layer = #t2m.layer<"matmul", macs = 12>}
// CHECK:         %[[S:.*]] = affine.for %k = 0 to 3 iter_args(%[[ACC:.*]] = %i0) -> (i32) {
// CHECK-NEXT:      %[[A:.*]] = memref.load %lhs[%c0, %i, %k] : memref<1x2x3xi8>
// CHECK-NEXT:      %[[AW:.*]] = arith.extsi %[[A]] : i8 to i32
// CHECK-NEXT:      %[[AZ:.*]] = arith.subi %[[AW]], %i5 : i32
// CHECK-NEXT:      %[[B:.*]] = memref.load %rhs[%c0, %k, %j] : memref<1x3x2xi8>
// CHECK-NEXT:      %[[BW:.*]] = arith.extsi %[[B]] : i8 to i32
// CHECK-NEXT:      %[[BZ:.*]] = arith.subi %[[BW]], %im3 : i32
// CHECK-NEXT:      %[[P:.*]] = arith.muli %[[AZ]], %[[BZ]] : i32
// CHECK-NEXT:      %[[N:.*]] = arith.addi %[[ACC]], %[[P]] : i32
// CHECK-NEXT:      affine.yield %[[N]] : i32
// CHECK:         memref.store %[[S]], %out[%c0, %i, %j] : memref<1x2x2xi32>
// CHECK-LABEL: func.func private @q_L01_reduce_sum(%in: memref<1x2x3xi8>, %out: memref<1x1x3xi32>)
// CHECK:         %[[ZPN:.*]] = arith.constant 14 : i32
// CHECK:         %[[T:.*]] = affine.for %r1 = 0 to 2 iter_args(%[[ACC2:.*]] = %i0) -> (i32) {
// CHECK-NEXT:      %[[X:.*]] = memref.load %in[%c0, %r1, %d2] : memref<1x2x3xi8>
// CHECK-NEXT:      %[[XW:.*]] = arith.extsi %[[X]] : i8 to i32
// CHECK-NEXT:      %[[N2:.*]] = arith.addi %[[ACC2]], %[[XW]] : i32
// CHECK-NEXT:      affine.yield %[[N2]] : i32
// CHECK:         %[[R:.*]] = arith.subi %[[T]], %[[ZPN]] : i32
// CHECK-NEXT:    memref.store %[[R]], %out[%c0, %c0, %d2] : memref<1x1x3xi32>
