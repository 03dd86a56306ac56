// Each nn verifier error, with the message a user sees: the op, the offending shapes, what was expected.
// RUN: t2m-opt %s --split-input-file --verify-diagnostics | filecheck %s

// CHECK: Operation does not verify: 'nn.conv2d' stride must be 2 integers >= 1, got [1]
// conv2d stride
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x3x3x3xf32>
  %y = nn.conv2d %x, %w {stride = array<i64: 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.conv2d' padding must be 4 integers >= 0, got [0, -1, 0, 0]
// conv2d negative padding
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x3x3x3xf32>
  %y = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, -1, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.conv2d' groups=2 must divide input channels 3 and output channels 4
// conv2d groups
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x1x3x3xf32>
  %y = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x3x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.conv2d' weight 4x2x3x3 expects 2 input channels (weight dim 1 x groups=1), but input 1x3x8x8 has 3
// conv2d channels
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x2x3x3xf32>
  %y = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.conv2d' bias must have shape 4 (one per output channel), got 3
// conv2d bias
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x3x3x3xf32>
  %b = nn.constant dense<1.0> : tensor<3xf32>
  %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.conv2d' result shape 1x4x6x6 does not match the expected 1x4x3x3
// conv2d result
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x3x3x3xf32>
  %y = nn.conv2d %x, %w {stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.conv2d' kernel 9x9 does not fit input 1x3x8x8 with this padding
// conv2d kernel too big
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x3x9x9xf32>
  %y = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x9x9xf32>) -> tensor<1x4x1x1xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.conv2d' input must be rank 4 (NCHW), got shape 3x8x8
// conv2d input rank
func.func @f(%x: tensor<3x8x8xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x3x3x3xf32>
  %y = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.linear' input 2x6 must end in 5 features to match weight 4x5 ([out, in])
// linear features
func.func @f(%x: tensor<2x6xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x5xf32>
  %y = nn.linear %x, %w : (tensor<2x6xf32>, tensor<4x5xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.linear' weight must be rank 2 ([out, in]), got shape 4x6x1
// linear weight rank
func.func @f(%x: tensor<2x6xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x6x1xf32>
  %y = nn.linear %x, %w : (tensor<2x6xf32>, tensor<4x6x1xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.linear' bias must have shape 4 (one per output feature), got 6
// linear bias
func.func @f(%x: tensor<2x6xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x6xf32>
  %b = nn.constant dense<1.0> : tensor<6xf32>
  %y = nn.linear %x, %w, %b : (tensor<2x6xf32>, tensor<4x6xf32>, tensor<6xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.linear' result shape 2x5 does not match the expected 2x4
// linear result
func.func @f(%x: tensor<2x6xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x6xf32>
  %y = nn.linear %x, %w : (tensor<2x6xf32>, tensor<4x6xf32>) -> tensor<2x5xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.clamp' min 6.0 must not exceed max 0.0
// clamp
func.func @f(%x: tensor<2x6xf32>) {
  %y = nn.clamp %x {min = 6.0 : f32, max = 0.0 : f32} : tensor<2x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.add' operands 2x6 and 3 do not broadcast
// add broadcast
func.func @f(%x: tensor<2x6xf32>) {
  %w = nn.constant dense<1.0> : tensor<3xf32>
  %y = nn.add %x, %w : (tensor<2x6xf32>, tensor<3xf32>) -> tensor<2x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.mul' result shape 6 does not match the expected 2x6
// mul result
func.func @f(%x: tensor<2x6xf32>) {
  %w = nn.constant dense<1.0> : tensor<6xf32>
  %y = nn.mul %x, %w : (tensor<2x6xf32>, tensor<6xf32>) -> tensor<6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.batch_norm' mean must have shape 3 (one per channel of input 1x3x8x8), got 4
// batch_norm params
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %m = nn.constant dense<1.0> : tensor<4xf32>
  %v = nn.constant dense<1.0> : tensor<3xf32>
  %y = nn.batch_norm %x, %m, %v, %m, %m {eps = 1.0e-05 : f32} : (tensor<1x3x8x8xf32>, tensor<4xf32>, tensor<3xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x3x8x8xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.max_pool2d' padding [2, 0, 0, 0] makes a [2, 2] window fall entirely outside input 1x3x8x8
// max_pool padding
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %y = nn.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 2, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x5x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.max_pool2d' result shape 1x3x8x8 does not match the expected 1x3x4x4
// max_pool result
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %y = nn.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.avg_pool2d' kernel must be 2 integers >= 1, got [2, 0]
// avg_pool kernel
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %y = nn.avg_pool2d %x {kernel = array<i64: 2, 0>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = true} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.avg_pool2d' kernel [9, 9] does not fit input 1x3x8x8
// avg_pool too big
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %y = nn.avg_pool2d %x {kernel = array<i64: 9, 9>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = true} : (tensor<1x3x8x8xf32>) -> tensor<1x3x1x1xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.adaptive_avg_pool2d' result shape 1x3x1x1 does not match the expected 1x3x2x2
// adaptive result
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %y = nn.adaptive_avg_pool2d %x {output_size = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x1x1xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.flatten' needs 0 <= start_dim <= end_dim < rank 4, got start_dim=2 end_dim=1
// flatten dims
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %y = nn.flatten %x {start_dim = 2 : i64, end_dim = 1 : i64} : (tensor<1x3x8x8xf32>) -> tensor<1x192xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.flatten' result shape 1x191 does not match the expected 1x192
// flatten result
func.func @f(%x: tensor<1x3x8x8xf32>) {
  %y = nn.flatten %x {start_dim = 1 : i64, end_dim = 3 : i64} : (tensor<1x3x8x8xf32>) -> tensor<1x191xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.reshape' cannot reshape 2x6 (12 elements) to 13 (13 elements)
// reshape count
func.func @f(%x: tensor<2x6xf32>) {
  %y = nn.reshape %x : (tensor<2x6xf32>) -> tensor<13xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.concat' inputs 2x6, 3x5 differ outside axis 0
// concat dims
func.func @f(%x: tensor<2x6xf32>) {
  %w = nn.constant dense<1.0> : tensor<3x5xf32>
  %y = nn.concat %x, %w {axis = 0 : i64} : (tensor<2x6xf32>, tensor<3x5xf32>) -> tensor<5x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.concat' axis 2 is out of range for rank 2
// concat axis
func.func @f(%x: tensor<2x6xf32>) {
  %y = nn.concat %x, %x {axis = 2 : i64} : (tensor<2x6xf32>, tensor<2x6xf32>) -> tensor<2x12xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.concat' result shape 4x6 does not match the expected 2x12
// concat result
func.func @f(%x: tensor<2x6xf32>) {
  %y = nn.concat %x, %x {axis = 1 : i64} : (tensor<2x6xf32>, tensor<2x6xf32>) -> tensor<4x6xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.softmax' axis 2 is out of range for rank 2
// softmax axis
func.func @f(%x: tensor<2x6xf32>) {
  %y = nn.softmax %x {axis = 2 : i64} : tensor<2x6xf32>
  func.return
}

// -----

// CHECK: Expected attribute f32 but got f16
// relu type
func.func @f(%x: tensor<2x6xf16>) {
  %y = nn.relu %x : tensor<2x6xf16>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.constant' value type tensor<2x6xf32> does not match result type tensor<6x2xf32>
// constant type
func.func @f(%x: tensor<2x6xf32>) {
  %y = "nn.constant"() <{value = dense<1.0> : tensor<2x6xf32>}> : () -> tensor<6x2xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.linear' weight_layout must be "blocked", got "oi"
func.func @f(%x: tensor<2x6xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x6xf32>
  %y = nn.linear %x, %w {weight_layout = "oi"} : (tensor<2x6xf32>, tensor<4x6xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.log_softmax' axis 2 is out of range for rank 2
func.func @f(%x: tensor<2x6xf32>) {
  %y = nn.log_softmax %x {axis = 2 : i64} : tensor<2x6xf32>
  func.return
}

// -----

// An empty activation window would make every output act_max.
// CHECK: Operation does not verify: 'nn.linear' act_min 6.0 must not exceed act_max 0.0
func.func @f(%x: tensor<2x6xf32>) {
  %w = nn.constant dense<1.0> : tensor<4x6xf32>
  %y = nn.linear %x, %w {act_min = 6.0 : f32, act_max = 0.0 : f32} : (tensor<2x6xf32>, tensor<4x6xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

// CHECK: Operation does not verify: 'nn.max_pool2d' act_max must be a number, got nan
func.func @f(%x: tensor<1x4x4x4xf32>) {
  %y = nn.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, act_max = 0x7FC00000 : f32} : (tensor<1x4x4x4xf32>) -> tensor<1x4x2x2xf32>
  func.return
}

// -----

// An op without a fused activation keeps act_min as a discardable attribute that no stage reads: rejected.
// CHECK: Operation does not verify: 'nn.adaptive_avg_pool2d' cannot carry a fused activation (act_min): only nn.conv2d, nn.linear, nn.add, nn.mul, nn.max_pool2d, nn.avg_pool2d can, so clamp its result with nn.relu or nn.clamp
func.func @f(%x: tensor<1x4x4x4xf32>) {
  %y = nn.adaptive_avg_pool2d %x {output_size = array<i64: 1, 1>, act_min = 0.0 : f32} : (tensor<1x4x4x4xf32>) -> tensor<1x4x1x1xf32>
  func.return
}

// -----

// The same for an op whose properties are not parsed from the attribute dictionary.
// CHECK: Operation does not verify: 'nn.relu' cannot carry a fused activation (act_max): only nn.conv2d, nn.linear, nn.add, nn.mul, nn.max_pool2d, nn.avg_pool2d can, so clamp its result with nn.relu or nn.clamp
func.func @f(%x: tensor<2x6xf32>) {
  %y = nn.relu %x {act_max = 6.0 : f32} : tensor<2x6xf32>
  func.return
}
