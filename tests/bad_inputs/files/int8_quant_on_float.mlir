// #qnn.quant on a float tensor: only int8 tensors are quantized.
func.func @m(%x: tensor<1x4xf32> {qnn.quant = #qnn.quant<0.05, 0>}) -> (tensor<1x4xf32> {qnn.quant = #qnn.quant<0.05, 0>}) {
  %y = nn.relu %x : tensor<1x4xf32>
  func.return %y : tensor<1x4xf32>
}
