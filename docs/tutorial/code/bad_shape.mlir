// A mistake chapter 2 makes on purpose: the weight has 3 input channels, the input 2.
func.func @bad(%x: tensor<1x2x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.constant dense<0.5> : tensor<4x3x3x3xf32>
  %y = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  func.return %y : tensor<1x4x8x8xf32>
}
