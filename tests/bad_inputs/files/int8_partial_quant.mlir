// An int8 model whose output has no #qnn.quant: the header could not state its scale.
func.func @m(%x: tensor<1x4xi8> {qnn.quant = #qnn.quant<0.05, 3>}) -> tensor<1x4xi8> {
  %y = qnn.clamp %x {min = 3 : i32, max = 127 : i32} : tensor<1x4xi8>
  func.return %y : tensor<1x4xi8>
}
