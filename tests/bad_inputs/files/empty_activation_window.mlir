func.func @f(%x: tensor<1x4xf32>) -> tensor<1x3xf32> {
  %w = nn.constant dense<0.5> : tensor<3x4xf32>
  %y = nn.linear %x, %w {act_min = 6.0 : f32, act_max = 0.0 : f32} : (tensor<1x4xf32>, tensor<3x4xf32>) -> tensor<1x3xf32>
  func.return %y : tensor<1x3xf32>
}
