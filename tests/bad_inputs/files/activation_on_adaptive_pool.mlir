func.func @f(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x1x1xf32> {
  %y = nn.adaptive_avg_pool2d %x {output_size = array<i64: 1, 1>, act_min = 0.0 : f32} : (tensor<1x2x4x4xf32>) -> tensor<1x2x1x1xf32>
  func.return %y : tensor<1x2x1x1xf32>
}
