// qnn.softmax's verifier: a row of more than 8191 values would overflow the 32-bit sum of exponentials
// (2^19 per value at the maximum), the largest row verifies.
// RUN: t2m-opt %s --split-input-file --verify-diagnostics | filecheck %s

// CHECK: Operation does not verify: 'qnn.softmax' over 8192 values: at most 8191 (the sum of exponentials is a 32-bit integer)
func.func @f(%x: tensor<2x8192xi8>) {
  %y = qnn.softmax %x {axis = 1 : i64, multiplier = 1073741824 : i32, shift = 19 : i32, diff_min = -3968 : i32} : tensor<2x8192xi8>
  func.return
}

// -----

// CHECK: Operation does not verify: 'qnn.softmax' axis 2 is out of range for rank 2
func.func @f(%x: tensor<2x8xi8>) {
  %y = qnn.softmax %x {axis = 2 : i64, multiplier = 1073741824 : i32, shift = 19 : i32, diff_min = -3968 : i32} : tensor<2x8xi8>
  func.return
}

// -----

// CHECK: func.func @f(%x: tensor<8191x2xi8>) {
// CHECK-NEXT: %y = qnn.softmax %x {axis = 0 : i64, multiplier = 1073741824 : i32, shift = 19 : i32, diff_min = -3968 : i32} : tensor<8191x2xi8>
func.func @f(%x: tensor<8191x2xi8>) {
  %y = qnn.softmax %x {axis = 0 : i64, multiplier = 1073741824 : i32, shift = 19 : i32, diff_min = -3968 : i32} : tensor<8191x2xi8>
  func.return
}
