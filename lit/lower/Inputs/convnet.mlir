func.func @convnet(%x: tensor<1x1x6x6xf32>) -> tensor<1x3xf32> {
  %w = nn.constant dense<0.5> : tensor<2x1x3x3xf32>
  %b = nn.constant dense<0.1> : tensor<2xf32>
  %c = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64, act_min = 0.0 : f32} : (tensor<1x1x6x6xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x6x6xf32>
  %p = nn.max_pool2d %c {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32>
  %f = nn.flatten %p {start_dim = 1 : i64, end_dim = 3 : i64} : (tensor<1x2x3x3xf32>) -> tensor<1x18xf32>
  %lw = nn.constant dense<0.25> : tensor<3x18xf32>
  %l = nn.linear %f, %lw : (tensor<1x18xf32>, tensor<3x18xf32>) -> tensor<1x3xf32>
  %s = nn.softmax %l {axis = 1 : i64} : tensor<1x3xf32>
  func.return %s : tensor<1x3xf32>
}
