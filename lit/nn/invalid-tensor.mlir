// The verifiers of nn.slice, nn.transpose, nn.reduce, nn.matmul, nn.layer_norm, nn.embedding and of qnn.matmul,
// qnn.reduce_sum: each error names the op, the shapes and what was expected.
// RUN: t2m-opt %s --split-input-file --verify-diagnostics | filecheck %s

// CHECK: Operation does not verify: 'nn.slice' axis 1: 3 elements from 2 in steps of 2 do not fit input 2x6
func.func @f(%x: tensor<2x6xf32>) {
  %y = nn.slice %x {start = array<i64: 0, 2>, step = array<i64: 1, 2>} : (tensor<2x6xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.slice' step must be 2 integers >= 1, got [1, 0]
func.func @f(%x: tensor<2x6xf32>) {
  %y = nn.slice %x {start = array<i64: 0, 0>, step = array<i64: 1, 0>} : (tensor<2x6xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.slice' operands and result must share one element type, got f32, i8
func.func @f(%x: tensor<2x6xf32>) {
  %y = nn.slice %x {start = array<i64: 0, 0>, step = array<i64: 1, 1>} : (tensor<2x6xf32>) -> tensor<2x3xi8>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.transpose' permutation [0, 0, 1] is not a permutation of rank 3
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = nn.transpose %x {permutation = array<i64: 0, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<2x2x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.transpose' result shape 2x3x4 does not match the expected 4x2x3
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = nn.transpose %x {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.reduce' axes [2, 1] must be sorted, distinct and in [0, 3)
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = nn.reduce %x {axes = array<i64: 2, 1>, kind = "sum"} : (tensor<2x3x4xf32>) -> tensor<2x1x1xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.reduce' kind must be one of sum, mean, got 'max'
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = nn.reduce %x {axes = array<i64: 1>, kind = "max"} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.reduce' result shape 2x4 does not match the expected 2x1x4
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = nn.reduce %x {axes = array<i64: 1>, kind = "mean"} : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.matmul' operands 2x3x4 and 2x5x6 must be [..., M, K] and [..., K, N] of one rank >= 2 with broadcastable batch dims
func.func @f(%a: tensor<2x3x4xf32>, %b: tensor<2x5x6xf32>) {
  %y = nn.matmul %a, %b : (tensor<2x3x4xf32>, tensor<2x5x6xf32>) -> tensor<2x3x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.layer_norm' weight must have the normalised shape 4, got 3
func.func @f(%x: tensor<2x3x4xf32>, %w: tensor<3xf32>) {
  %y = nn.layer_norm %x weight %w {axis = 2 : i64, eps = 1.0e-05 : f32} : tensor<2x3x4xf32> weight tensor<3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.layer_norm' axis 3 is out of range for input 2x3x4
func.func @f(%x: tensor<2x3x4xf32>) {
  %y = nn.layer_norm %x {axis = 3 : i64, eps = 1.0e-05 : f32} : tensor<2x3x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.embedding' result shape 3x5 does not match the expected 3x4
func.func @f(%w: tensor<10x4xf32>, %i: tensor<3xi32>) {
  %y = nn.embedding %w, %i : (tensor<10x4xf32>, tensor<3xi32>) -> tensor<3x5xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.embedding' weight must be rank 2 ([rows, features]), got shape 10
func.func @f(%w: tensor<10xf32>, %i: tensor<3xi32>) {
  %y = nn.embedding %w, %i : (tensor<10xf32>, tensor<3xi32>) -> tensor<3x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'qnn.matmul' result (an int32 accumulator) must be
func.func @f(%a: tensor<2x3xi8>, %b: tensor<3x2xi8>) {
  %y = qnn.matmul %a, %b {lhs_zp = 0 : i32, rhs_zp = 0 : i32} : (tensor<2x3xi8>, tensor<3x2xi8>) -> tensor<2x2xi8>
  func.return
}

// -----

// CHECK: Operation does not verify: 'qnn.reduce_sum' axes [3] must be sorted, distinct and in [0, 2)
func.func @f(%a: tensor<2x3xi8>) {
  %y = qnn.reduce_sum %a {axes = array<i64: 3>, input_zp = 0 : i32} : (tensor<2x3xi8>) -> tensor<2x3xi32>
  func.return
}
