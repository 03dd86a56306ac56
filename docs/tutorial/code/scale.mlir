// y = relu(x * w + b), written by hand: chapter 2 of docs/tutorial.
func.func @scale(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = nn.constant dense<[[2.0, -1.0, 0.5, 1.0]]> : tensor<1x4xf32>
  %b = nn.constant dense<[[0.0, 1.0, 0.0, -3.0]]> : tensor<1x4xf32>
  %m = nn.mul %x, %w : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  %a = nn.add %m, %b : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = nn.relu %a : tensor<1x4xf32>
  func.return %y : tensor<1x4xf32>
}
