// The issue's 1x3x4096x4096 conv: 201 MB of input and 536 MB of output, which the caller must supply.
func.func @big_conv(%x: tensor<1x3x4096x4096xf32>) -> tensor<1x8x4094x4094xf32> {
  %w = nn.constant dense<0.5> : tensor<8x3x3x3xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x4096x4096xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x4094x4094xf32>
  func.return %c : tensor<1x8x4094x4094xf32>
}
