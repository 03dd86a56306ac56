// A zero point outside int8.
func.func @m(%x: tensor<1x4xi8> {qnn.quant = #qnn.quant<0.05, 300>}) -> (tensor<1x4xi8> {qnn.quant = #qnn.quant<0.05, 3>}) {
  %y = qnn.clamp %x {min = 3 : i32, max = 127 : i32} : tensor<1x4xi8>
  func.return %y : tensor<1x4xi8>
}
