func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = nn.add %x, %r : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %r = nn.relu %x : tensor<2xf32>
  func.return %y : tensor<2xf32>
}
