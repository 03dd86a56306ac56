// fuse-requant: conv2d (int32) -> rescale (int8) -> clamp becomes one conv2d that requantizes and clamps in its
// store; a clamp also narrows the range of add/mul/pools; nothing fuses when the accumulator has other users.
// RUN: t2m-opt %s -p fuse-requant | filecheck %s

// CHECK-LABEL: func.func @conv
// CHECK-NEXT:    %w = nn.constant
// CHECK-NEXT:    %[[R:.*]] = qnn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64, input_zp = -3 : i32, requant = #qnn.requant<multiplier = [1073741824, 1288490189], shift = [-3, -4], output_zp = 2>, act_min = 2 : i32, act_max = 100 : i32} : (tensor<1x1x3x3xi8>, tensor<2x1x2x2xi8>) -> tensor<1x2x2x2xi8>
// CHECK-NEXT:    func.return %[[R]]
func.func @conv(%x: tensor<1x1x3x3xi8>) -> tensor<1x2x2x2xi8> {
  %w = nn.constant dense<[[[[1, 2], [3, 4]]], [[[-1, 0], [0, 1]]]]> : tensor<2x1x2x2xi8>
  %acc = qnn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64, input_zp = -3 : i32} : (tensor<1x1x3x3xi8>, tensor<2x1x2x2xi8>) -> tensor<1x2x2x2xi32>
  %q = qnn.rescale %acc {requant = #qnn.requant<multiplier = [1073741824, 1288490189], shift = [-3, -4], output_zp = 2>, input_zp = 0 : i32, axis = 1 : i64} : (tensor<1x2x2x2xi32>) -> tensor<1x2x2x2xi8>
  %r = qnn.clamp %q {min = 2 : i32, max = 100 : i32} : tensor<1x2x2x2xi8>
  func.return %r : tensor<1x2x2x2xi8>
}

// Per-tensor requant of a linear; the last clamp narrows the range again (max of the mins, min of the maxes).
// CHECK-LABEL: func.func @linear
// CHECK-NEXT:    %w = nn.constant
// CHECK-NEXT:    %[[L:.*]] = qnn.linear %x, %w {input_zp = 5 : i32, requant = #qnn.requant<multiplier = [1518500250], shift = [-6], output_zp = -128>, act_min = -100 : i32, act_max = 50 : i32} : (tensor<1x4xi8>, tensor<3x4xi8>) -> tensor<1x3xi8>
// CHECK-NEXT:    func.return %[[L]]
func.func @linear(%x: tensor<1x4xi8>) -> tensor<1x3xi8> {
  %w = nn.constant dense<[[1, 2, 3, 4], [5, 6, 7, 8], [-1, -2, -3, -4]]> : tensor<3x4xi8>
  %acc = qnn.linear %x, %w {input_zp = 5 : i32} : (tensor<1x4xi8>, tensor<3x4xi8>) -> tensor<1x3xi32>
  %q = qnn.rescale %acc {requant = #qnn.requant<multiplier = [1518500250], shift = [-6], output_zp = -128>, input_zp = 0 : i32, axis = 1 : i64} : (tensor<1x3xi32>) -> tensor<1x3xi8>
  %r1 = qnn.clamp %q {min = -100 : i32, max = 127 : i32} : tensor<1x3xi8>
  %r2 = qnn.clamp %r1 {min = -128 : i32, max = 50 : i32} : tensor<1x3xi8>
  func.return %r2 : tensor<1x3xi8>
}

// The accumulator is also returned: the rescale cannot take its place. The clamp after the rescale stays too
// (a rescale carries no range).
// CHECK-LABEL: func.func @shared
// CHECK:         %acc = qnn.linear
// CHECK-NEXT:    %q = qnn.rescale %acc
// CHECK-NEXT:    %r = qnn.clamp %q
func.func @shared(%x: tensor<1x4xi8>, %w: tensor<3x4xi8>) -> (tensor<1x3xi8>, tensor<1x3xi32>) {
  %acc = qnn.linear %x, %w {input_zp = 0 : i32} : (tensor<1x4xi8>, tensor<3x4xi8>) -> tensor<1x3xi32>
  %q = qnn.rescale %acc {requant = #qnn.requant<multiplier = [1518500250], shift = [-6], output_zp = 0>, input_zp = 0 : i32, axis = 1 : i64} : (tensor<1x3xi32>) -> tensor<1x3xi8>
  %r = qnn.clamp %q {min = 0 : i32, max = 127 : i32} : tensor<1x3xi8>
  func.return %r, %acc : tensor<1x3xi8>, tensor<1x3xi32>
}

// A clamp after an add (a ReLU in the int8 domain) becomes the add's range.
// CHECK-LABEL: func.func @add_relu
// CHECK-NEXT:    %s = qnn.add %a, %b {{{.*}}act_min = -7 : i32} : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
// CHECK-NEXT:    func.return %s
func.func @add_relu(%a: tensor<4xi8>, %b: tensor<4xi8>) -> tensor<4xi8> {
  %s = qnn.add %a, %b {lhs_zp = 1 : i32, rhs_zp = -2 : i32, lhs_scale = #qnn.requant<multiplier = [1073741824], shift = [0], output_zp = 0>, rhs_scale = #qnn.requant<multiplier = [1073741824], shift = [0], output_zp = 0>, output_scale = #qnn.requant<multiplier = [1073741824], shift = [-19], output_zp = -7>} : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  %r = qnn.clamp %s {min = -7 : i32, max = 127 : i32} : tensor<4xi8>
  func.return %r : tensor<4xi8>
}
