// nn.insert_slice (an in-place op on a slice or a select of an activation, functionalized): it round-trips, and
// its verifier names the op, the shapes and what was expected (the valid module is printed after the errors).
// RUN: t2m-opt %s --split-input-file --verify-diagnostics | filecheck %s

// CHECK: Operation does not verify: 'nn.insert_slice' axis 1: 3 elements from 2 in steps of 2 do not fit dest 2x6
func.func @f(%s: tensor<2x3xf32>, %x: tensor<2x6xf32>) {
  %y = nn.insert_slice %s into %x {start = array<i64: 0, 2>, step = array<i64: 1, 2>} : (tensor<2x3xf32>, tensor<2x6xf32>) -> tensor<2x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.insert_slice' step must be 2 integers >= 1, got [1, 0]
func.func @f(%s: tensor<2x3xf32>, %x: tensor<2x6xf32>) {
  %y = nn.insert_slice %s into %x {start = array<i64: 0, 0>, step = array<i64: 1, 0>} : (tensor<2x3xf32>, tensor<2x6xf32>) -> tensor<2x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.insert_slice' source rank 1 must equal dest rank 2
func.func @f(%s: tensor<3xf32>, %x: tensor<2x6xf32>) {
  %y = nn.insert_slice %s into %x {start = array<i64: 0, 0>, step = array<i64: 1, 1>} : (tensor<3xf32>, tensor<2x6xf32>) -> tensor<2x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.insert_slice' result shape 2x5 does not match the expected 2x6
func.func @f(%s: tensor<2x3xf32>, %x: tensor<2x6xf32>) {
  %y = nn.insert_slice %s into %x {start = array<i64: 0, 0>, step = array<i64: 1, 1>} : (tensor<2x3xf32>, tensor<2x6xf32>) -> tensor<2x5xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.insert_slice' operands and result must share one element type, got f32, i8
func.func @f(%s: tensor<2x3xi8>, %x: tensor<2x6xf32>) {
  %y = nn.insert_slice %s into %x {start = array<i64: 0, 0>, step = array<i64: 1, 1>} : (tensor<2x3xi8>, tensor<2x6xf32>) -> tensor<2x6xf32>
  func.return
}

// -----

// CHECK:      %y = nn.insert_slice %s into %x {start = array<i64: 0, 1, 0>, step = array<i64: 1, 2, 1>} : (tensor<2x2x4xf32>, tensor<2x6x4xf32>) -> tensor<2x6x4xf32>
// CHECK-NEXT: %z = nn.insert_slice %q into %r {start = array<i64: 3, 0>, step = array<i64: 1, 1>} : (tensor<1x5xi8>, tensor<4x5xi8>) -> tensor<4x5xi8>
func.func @f(%s: tensor<2x2x4xf32>, %x: tensor<2x6x4xf32>, %q: tensor<1x5xi8>, %r: tensor<4x5xi8>) -> (tensor<2x6x4xf32>, tensor<4x5xi8>) {
  %y = nn.insert_slice %s into %x {start = array<i64: 0, 1, 0>, step = array<i64: 1, 2, 1>} : (tensor<2x2x4xf32>, tensor<2x6x4xf32>) -> tensor<2x6x4xf32>
  %z = nn.insert_slice %q into %r {start = array<i64: 3, 0>, step = array<i64: 1, 1>} : (tensor<1x5xi8>, tensor<4x5xi8>) -> tensor<4x5xi8>
  func.return %y, %z : tensor<2x6x4xf32>, tensor<4x5xi8>
}

