// Chapter 2, exercise 1: relu(x W^T + b), written by hand.
func.func @linear_relu(%x: tensor<1x3xf32>) -> tensor<1x2xf32> {
  %w = nn.constant dense<[[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]> : tensor<2x3xf32>
  %b = nn.constant dense<[0.5, -4.0]> : tensor<2xf32>
  %l = nn.linear %x, %w, %b : (tensor<1x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  %y = nn.relu %l : tensor<1x2xf32>
  func.return %y : tensor<1x2xf32>
}
