// A small int8 model written by hand in the qnn dialect (docs/int8.md): conv 3x3 + ReLU (its output zero point is
// -128, so the ReLU clamps at -128), max pool, linear, softmax. Input scale 0.05, zero point 0; output: softmax probabilities at scale 1/256, zero point -128.
func.func @tiny8(%x: tensor<1x1x8x8xi8> {qnn.quant = #qnn.quant<0.05, 0>})
    -> (tensor<1x4xi8> {qnn.quant = #qnn.quant<0.00390625, -128>}) {
  %w1 = nn.constant dense<[[[[89, 35, 3], [-59, -49, -117], [-108, -123, -83]]], [[[80, 38, 105], [1, 27, 120], [59, 34, 11]]]]> : tensor<2x1x3x3xi8>
  %b1 = nn.constant dense<[35, 261]> : tensor<2xi32>
  %acc = qnn.conv2d %x, %w1, %b1 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
    dilation = array<i64: 1, 1>, groups = 1 : i64, input_zp = 0 : i32}
    : (tensor<1x1x8x8xi8>, tensor<2x1x3x3xi8>, tensor<2xi32>) -> tensor<1x2x8x8xi32>
  %q = qnn.rescale %acc {requant = #qnn.requant<multiplier = [1374389535, 1717986918], shift = [-7, -7], output_zp = -128>,
    input_zp = 0 : i32, axis = 1 : i64} : (tensor<1x2x8x8xi32>) -> tensor<1x2x8x8xi8>
  %relu = qnn.clamp %q {min = -128 : i32, max = 127 : i32} : tensor<1x2x8x8xi8>
  %p = qnn.max_pool2d %relu {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
    : (tensor<1x2x8x8xi8>) -> tensor<1x2x4x4xi8>
  %flat = nn.reshape %p : (tensor<1x2x4x4xi8>) -> tensor<1x32xi8>
  %w2 = nn.constant dense<[[-57, 81, 44, -127, -27, 91, 14, -119, 68, 59, 88, -83, -105, 93, -122, 11, -107, -51, -5, -20, -25, -120, -126, -96, -125, 44, 7, 38, -62, 29, 67, -30], [-10, 127, 78, 123, -31, 47, 115, 38, 87, 48, 52, -28, 96, -93, 20, 56, 88, 6, -32, -48, -20, -4, 56, 99, -109, 111, 8, -36, 44, 18, -63, -45], [56, 24, 1, -41, 66, -28, -44, 100, -60, -70, 55, 31, -115, -106, -31, 85, -25, 73, -47, -66, 74, 96, -107, -113, 44, -42, 19, -89, 92, -13, 101, 76], [52, -69, 68, -114, 18, -24, 127, -77, 114, -104, 31, 20, 102, -51, 103, 44, 100, -77, 66, 113, -115, -34, 35, -101, 3, 33, 67, 109, -23, -15, -7, 116]]> : tensor<4x32xi8>
  %b2 = nn.constant dense<[-1217, -1, -1801, -300]> : tensor<4xi32>
  %l = qnn.linear %flat, %w2, %b2 {input_zp = -128 : i32, requant = #qnn.requant<multiplier = [1319413953], shift = [-9], output_zp = 0>}
    : (tensor<1x32xi8>, tensor<4x32xi8>, tensor<4xi32>) -> tensor<1x4xi8>
  %y = qnn.softmax %l {axis = 1 : i64, multiplier = 1717986918 : i32, shift = 23 : i32, diff_min = -248 : i32} : tensor<1x4xi8>
  func.return %y : tensor<1x4xi8>
}
