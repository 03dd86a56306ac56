// A tiny int8 model (linear 8 -> 4 with its input and output quantization).
func.func @int8_linear(%x: tensor<1x8xi8> {qnn.quant = #qnn.quant<0.05, -3>}) -> (tensor<1x4xi8> {qnn.quant = #qnn.quant<0.1, 5>}) {
  %w = nn.constant dense<[[1, 2, 3, 4, 5, 6, 7, 8], [-1, -2, -3, -4, -5, -6, -7, -8], [127, 0, 0, 0, 0, 0, 0, -127], [1, 1, 1, 1, 1, 1, 1, 1]]> : tensor<4x8xi8>
  %b = nn.constant dense<[10, -20, 30, -40]> : tensor<4xi32>
  %y = qnn.linear %x, %w, %b {input_zp = -3 : i32, requant = #qnn.requant<multiplier = [1073741824], shift = [-6], output_zp = 5>, act_min = 5 : i32} : (tensor<1x8xi8>, tensor<4x8xi8>, tensor<4xi32>) -> tensor<1x4xi8>
  func.return %y : tensor<1x4xi8>
}
