func.func @f(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %y = nn.relu %x {t2m.variant = "pinned by hand"} : tensor<1x2xf32>
  func.return {t2m.variant = "not a layer"} %y : tensor<1x2xf32>
}
