// Chapter 4's exercise input: ReLUs whose input can never be negative.
func.func @redundant(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %s = nn.sigmoid %x : tensor<1x4xf32>
  %r1 = nn.relu %s : tensor<1x4xf32>
  %r2 = nn.relu %x : tensor<1x4xf32>
  %r3 = nn.relu %r2 : tensor<1x4xf32>
  %t = nn.tanh %x : tensor<1x4xf32>
  %r4 = nn.relu %t : tensor<1x4xf32>
  %a = nn.add %r1, %r3 : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = nn.add %a, %r4 : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  func.return %y : tensor<1x4xf32>
}
