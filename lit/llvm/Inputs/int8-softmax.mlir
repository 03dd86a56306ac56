// An int8 model of one softmax (Inputs of convert-arith-to-llvm-int8.mlir).
func.func @q(%x: tensor<1x4xi8> {qnn.quant = #qnn.quant<0.05, -3>}) -> (tensor<1x4xi8> {qnn.quant = #qnn.quant<0.00390625, -128>}) {
  %y = qnn.softmax %x {axis = 1 : i64, multiplier = 1717986918 : i32, shift = 22 : i32, diff_min = -496 : i32} : tensor<1x4xi8>
  func.return %y : tensor<1x4xi8>
}
