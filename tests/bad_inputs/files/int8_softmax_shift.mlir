// A softmax whose input scaling has a negative left shift (qnn.softmax_params never makes one).
func.func @m(%x: tensor<1x4xi8> {qnn.quant = #qnn.quant<0.05, 3>}) -> (tensor<1x4xi8> {qnn.quant = #qnn.quant<0.00390625, -128>}) {
  %y = qnn.softmax %x {axis = 1 : i64, multiplier = 1717986918 : i32, shift = -3 : i32, diff_min = -496 : i32} : tensor<1x4xi8>
  func.return %y : tensor<1x4xi8>
}
