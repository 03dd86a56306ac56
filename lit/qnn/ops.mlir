// Every qnn op prints and re-parses unchanged.
// RUN: t2m-opt %s | t2m-opt | filecheck %s

// CHECK: func.func @all(%x: tensor<1x2x4x4xi8> {qnn.quant = #qnn.quant<0.05, -3>}) -> (tensor<1x2x2x2xi8> {qnn.quant = #qnn.quant<0.00390625, -128>})
// CHECK: qnn.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x2x4x4xi8>) -> tensor<1x2x2x2xi8>
// CHECK: qnn.avg_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = 0 : i64, input_zp = -3 : i32} : (tensor<1x2x4x4xi8>) -> tensor<1x2x2x2xi8>
// CHECK: qnn.mul %{{.*}}, %{{.*}} {lhs_zp = -3 : i32, rhs_zp = -3 : i32, output_scale = #qnn.requant<multiplier = [1073741824], shift = [-4], output_zp = 0>} : (tensor<1x2x2x2xi8>, tensor<1x2x2x2xi8>) -> tensor<1x2x2x2xi8>
// CHECK: qnn.adaptive_avg_pool2d %{{.*}} {output_size = array<i64: 1, 1>} : (tensor<1x2x2x2xi8>) -> tensor<1x2x1x1xi8>
// CHECK: qnn.rescale %{{.*}} {requant = #qnn.requant<multiplier = [1073741824], shift = [1], output_zp = 0>, input_zp = -3 : i32, axis = 1 : i64} : (tensor<1x2x2x2xi8>) -> tensor<1x2x2x2xi8>
// CHECK: qnn.softmax %{{.*}} {axis = 1 : i64, multiplier = 1717986918 : i32, shift = 22 : i32, diff_min = -496 : i32} : tensor<1x2x2x2xi8>
func.func @all(%x: tensor<1x2x4x4xi8> {qnn.quant = #qnn.quant<0.05, -3>}) -> (tensor<1x2x2x2xi8> {qnn.quant = #qnn.quant<0.00390625, -128>}) {
  %m = qnn.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x2x4x4xi8>) -> tensor<1x2x2x2xi8>
  %a = qnn.avg_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = 0 : i64, input_zp = -3 : i32} : (tensor<1x2x4x4xi8>) -> tensor<1x2x2x2xi8>
  %p = qnn.mul %m, %a {lhs_zp = -3 : i32, rhs_zp = -3 : i32, output_scale = #qnn.requant<multiplier = [1073741824], shift = [-4], output_zp = 0>} : (tensor<1x2x2x2xi8>, tensor<1x2x2x2xi8>) -> tensor<1x2x2x2xi8>
  %g = qnn.adaptive_avg_pool2d %p {output_size = array<i64: 1, 1>} : (tensor<1x2x2x2xi8>) -> tensor<1x2x1x1xi8>
  %r = qnn.rescale %m {requant = #qnn.requant<multiplier = [1073741824], shift = [1], output_zp = 0>, input_zp = -3 : i32, axis = 1 : i64} : (tensor<1x2x2x2xi8>) -> tensor<1x2x2x2xi8>
  %s = qnn.softmax %r {axis = 1 : i64, multiplier = 1717986918 : i32, shift = 22 : i32, diff_min = -496 : i32} : tensor<1x2x2x2xi8>
  func.return %s : tensor<1x2x2x2xi8>
}

// CHECK: func.func @norm(%x: tensor<3x8xi8>) -> tensor<3x8xi8>
// CHECK: qnn.layer_norm %x, %{{.*}}, %{{.*}} {input_zp = -5 : i32, eps = 2621 : i64, requant = #qnn.requant<multiplier = [1332838830], shift = [-10], output_zp = 3>} : (tensor<3x8xi8>, tensor<1x8xi16>, tensor<1x8xi32>) -> tensor<3x8xi8>
func.func @norm(%x: tensor<3x8xi8>) -> tensor<3x8xi8> {
  %g = nn.constant dense<2047> : tensor<1x8xi16>
  %b = nn.constant dense<-4096> : tensor<1x8xi32>
  %y = qnn.layer_norm %x, %g, %b {input_zp = -5 : i32, eps = 2621 : i64, requant = #qnn.requant<multiplier = [1332838830], shift = [-10], output_zp = 3>} : (tensor<3x8xi8>, tensor<1x8xi16>, tensor<1x8xi32>) -> tensor<3x8xi8>
  func.return %y : tensor<3x8xi8>
}
