// qnn.layer_norm's verifier: rows of at most 2^14 values (the int32 sum of squares), gamma and beta per element
// ([1, N]) or per row ([R, 1]), an int16 gamma, one output multiplier; the longest row verifies.
// RUN: t2m-opt %s --split-input-file --verify-diagnostics | filecheck %s

// CHECK: Operation does not verify: 'qnn.layer_norm' rows of 16385 values: at most 16384 (the sum of squares is a 32-bit integer)
func.func @f(%x: tensor<1x16385xi8>, %g: tensor<1x16385xi16>, %b: tensor<1x16385xi32>) {
  %y = qnn.layer_norm %x, %g, %b {input_zp = 0 : i32, eps = 0 : i64, requant = #qnn.requant<multiplier = [1073741824], shift = [-10], output_zp = 0>} : (tensor<1x16385xi8>, tensor<1x16385xi16>, tensor<1x16385xi32>) -> tensor<1x16385xi8>
  func.return
}

// -----

// CHECK: Operation does not verify: 'qnn.layer_norm' gamma must be [1, 8] or [3, 1], got 3x8
func.func @f(%x: tensor<3x8xi8>, %g: tensor<3x8xi16>, %b: tensor<1x8xi32>) {
  %y = qnn.layer_norm %x, %g, %b {input_zp = 0 : i32, eps = 0 : i64, requant = #qnn.requant<multiplier = [1073741824], shift = [-10], output_zp = 0>} : (tensor<3x8xi8>, tensor<3x8xi16>, tensor<1x8xi32>) -> tensor<3x8xi8>
  func.return
}

// -----

// CHECK: Operation does not verify: 'qnn.layer_norm' gamma must be an i16 tensor, got tensor<1x8xi32>
func.func @f(%x: tensor<3x8xi8>, %g: tensor<1x8xi32>, %b: tensor<1x8xi32>) {
  %y = qnn.layer_norm %x, %g, %b {input_zp = 0 : i32, eps = 0 : i64, requant = #qnn.requant<multiplier = [1073741824], shift = [-10], output_zp = 0>} : (tensor<3x8xi8>, tensor<1x8xi32>, tensor<1x8xi32>) -> tensor<3x8xi8>
  func.return
}

// -----

// CHECK: Operation does not verify: 'qnn.layer_norm' input must be [rows, N], got 1x3x8
func.func @f(%x: tensor<1x3x8xi8>, %g: tensor<1x8xi16>, %b: tensor<1x8xi32>) {
  %y = qnn.layer_norm %x, %g, %b {input_zp = 0 : i32, eps = 0 : i64, requant = #qnn.requant<multiplier = [1073741824], shift = [-10], output_zp = 0>} : (tensor<1x3x8xi8>, tensor<1x8xi16>, tensor<1x8xi32>) -> tensor<1x3x8xi8>
  func.return
}

// -----

// CHECK: Operation does not verify: 'qnn.layer_norm' requant must have one multiplier
func.func @f(%x: tensor<3x8xi8>, %g: tensor<1x8xi16>, %b: tensor<1x8xi32>) {
  %y = qnn.layer_norm %x, %g, %b {input_zp = 0 : i32, eps = 0 : i64, requant = #qnn.requant<multiplier = [1073741824, 1073741824], shift = [-10, -10], output_zp = 0>} : (tensor<3x8xi8>, tensor<1x8xi16>, tensor<1x8xi32>) -> tensor<3x8xi8>
  func.return
}

// -----

// CHECK-NOT: does not verify
// CHECK: qnn.layer_norm
func.func @f(%x: tensor<1x16384xi8>, %g: tensor<1x16384xi16>, %b: tensor<1x16384xi32>) {
  %y = qnn.layer_norm %x, %g, %b {input_zp = 0 : i32, eps = 0 : i64, requant = #qnn.requant<multiplier = [1073741824], shift = [-10], output_zp = 0>} : (tensor<1x16384xi8>, tensor<1x16384xi16>, tensor<1x16384xi32>) -> tensor<1x16384xi8>
  func.return
}
