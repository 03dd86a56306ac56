// Each verifier of issue 12's ops, with the message a user sees: the op, the offending values, what was expected.
// RUN: t2m-opt %s --split-input-file --verify-diagnostics | filecheck %s

// CHECK: Operation does not verify: 'nn.gelu' approximate must be one of none, tanh, got 'fast'
// gelu form
func.func @f(%x: tensor<1x3xf32>) {
  %y = nn.gelu %x {approximate = "fast"} : tensor<1x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.elu' alpha must be finite, got nan
// elu alpha
func.func @f(%x: tensor<1x3xf32>) {
  %y = nn.elu %x {alpha = 0x7FC00000 : f32} : tensor<1x3xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.prelu' slope must have shape 1 or 3 (the channels of input 1x3x2x2), got 2
// prelu slopes
func.func @f(%x: tensor<1x3x2x2xf32>) {
  %s = nn.constant dense<0.25> : tensor<2xf32>
  %y = nn.prelu %x, %s : (tensor<1x3x2x2xf32>, tensor<2xf32>) -> tensor<1x3x2x2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.pad' mode must be one of constant, reflect, replicate, got 'circular'
// pad mode
func.func @f(%x: tensor<1x3x4x4xf32>) {
  %y = nn.pad %x {low = array<i64: 0, 0, 1, 1>, high = array<i64: 0, 0, 1, 1>, mode = "circular", value = 0.0 : f32} : (tensor<1x3x4x4xf32>) -> tensor<1x3x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.pad' reflect padding [0, 0, 4, 0], [0, 0, 0, 0] must be smaller than input 1x3x4x4
// pad reflect wider than the input
func.func @f(%x: tensor<1x3x4x4xf32>) {
  %y = nn.pad %x {low = array<i64: 0, 0, 4, 0>, high = array<i64: 0, 0, 0, 0>, mode = "reflect", value = 0.0 : f32} : (tensor<1x3x4x4xf32>) -> tensor<1x3x8x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.pad' low must be 4 integers >= 0, got [1, 1]
// pad widths per dim
func.func @f(%x: tensor<1x3x4x4xf32>) {
  %y = nn.pad %x {low = array<i64: 1, 1>, high = array<i64: 1, 1>, mode = "constant", value = 0.0 : f32} : (tensor<1x3x4x4xf32>) -> tensor<1x3x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.pad' result shape 1x3x6x5 does not match the expected 1x3x6x6
// pad result
func.func @f(%x: tensor<1x3x4x4xf32>) {
  %y = nn.pad %x {low = array<i64: 0, 0, 1, 1>, high = array<i64: 0, 0, 1, 1>, mode = "constant", value = 0.0 : f32} : (tensor<1x3x4x4xf32>) -> tensor<1x3x6x5xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.upsample' mode must be one of nearest, bilinear, got 'bicubic'
// upsample mode
func.func @f(%x: tensor<1x3x4x4xf32>) {
  %y = nn.upsample %x {mode = "bicubic", scale = array<f32: 0.5, 0.5>, align_corners = false} : (tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.upsample' scale must be 2 positive floats, got [0.5, 0.0]
// upsample scale
func.func @f(%x: tensor<1x3x4x4xf32>) {
  %y = nn.upsample %x {mode = "nearest", scale = array<f32: 0.5, 0.0>, align_corners = false} : (tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.upsample' result 1x2x8x8 must keep the batch and channels of 1x3x4x4
// upsample channels
func.func @f(%x: tensor<1x3x4x4xf32>) {
  %y = nn.upsample %x {mode = "nearest", scale = array<f32: 0.5, 0.5>, align_corners = false} : (tensor<1x3x4x4xf32>) -> tensor<1x2x8x8xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.batch_norm_stats' weight must have shape 3 (one per channel of input 2x3x4x4), got 4
// batch statistics: one weight per channel
func.func @f(%x: tensor<2x3x4x4xf32>) {
  %w = nn.constant dense<1.0> : tensor<4xf32>
  %b = nn.constant dense<0.0> : tensor<3xf32>
  %y = nn.batch_norm_stats %x, %w, %b {eps = 1.0e-05 : f32} : (tensor<2x3x4x4xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.avg_pool2d' divisor_override must be >= 1, got 0
// avg_pool2d divisor
func.func @f(%x: tensor<1x3x4x4xf32>) {
  %y = nn.avg_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = true, divisor_override = 0 : i64} : (tensor<1x3x4x4xf32>) -> tensor<1x3x2x2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'qnn.lut' table must have shape 1x256 or 3x256 (one row per channel of input 1x3x4x4), got 2x256
// qnn.lut table rows
func.func @f(%x: tensor<1x3x4x4xi8>) {
  %t = nn.constant dense<0> : tensor<2x256xi8>
  %y = qnn.lut %x, %t : (tensor<1x3x4x4xi8>, tensor<2x256xi8>) -> tensor<1x3x4x4xi8>
  func.return
}

// -----

// CHECK: Operation does not verify: 'qnn.lut' input must be an i8 tensor, got tensor<1x3x4x4xf32>
// qnn.lut element type
func.func @f(%x: tensor<1x3x4x4xf32>) {
  %t = nn.constant dense<0> : tensor<1x256xi8>
  %y = qnn.lut %x, %t : (tensor<1x3x4x4xf32>, tensor<1x256xi8>) -> tensor<1x3x4x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'qnn.avg_pool2d' divisor_override must be >= 1, got -2
// qnn.avg_pool2d divisor
func.func @f(%x: tensor<1x3x4x4xi8>) {
  %y = qnn.avg_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = 1 : i64, input_zp = 0 : i32, divisor_override = -2 : i64} : (tensor<1x3x4x4xi8>) -> tensor<1x3x2x2xi8>
  func.return
}
