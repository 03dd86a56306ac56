// Small input and output (16 KB each), but a 1 MB activation between them: only the planned arena overflows.
func.func @wide(%x: tensor<1x4x32x32xf32>) -> tensor<1x4x32x32xf32> {
  %w1 = nn.constant dense<0.25> : tensor<256x4x1x1xf32>
  %w2 = nn.constant dense<0.125> : tensor<4x256x1x1xf32>
  %a = nn.conv2d %x, %w1 {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x32x32xf32>, tensor<256x4x1x1xf32>) -> tensor<1x256x32x32xf32>
  %b = nn.conv2d %a, %w2 {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x256x32x32xf32>, tensor<4x256x1x1xf32>) -> tensor<1x4x32x32xf32>
  func.return %b : tensor<1x4x32x32xf32>
}
