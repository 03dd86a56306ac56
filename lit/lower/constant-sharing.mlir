// RUN: t2m-opt %s -p 'lower-nn-linear,lower-nn-constant' | filecheck %s

// Constants with the same type and bytes share one global, named after their first reader: the steps of an
// unrolled LSTM read the same recurrent weights, which stay one copy in flash. A constant of other bytes, or of
// the same bytes in another type, gets its own.
func.func @net(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w1 = nn.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %w2 = nn.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %w3 = nn.constant dense<[[1.0, 2.0], [3.0, 5.0]]> : tensor<2x2xf32>
  %b = nn.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %y1 = nn.linear %x, %w1 : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
  %y2 = nn.linear %y1, %w2 : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
  %y3 = nn.linear %y2, %w3 : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
  %r = nn.reshape %b : (tensor<4xf32>) -> tensor<2x2xf32>
  %y4 = nn.linear %y3, %r : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
  func.return %y4 : tensor<1x2xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT:   "memref.global"() <{sym_name = "net_L00_linear_weight", type = memref<2x2xf32>, initial_value = dense<[[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>, sym_visibility = "private", constant}> : () -> ()
// CHECK-NEXT:   "memref.global"() <{sym_name = "net_L02_linear_weight", type = memref<2x2xf32>, initial_value = dense<[[1.000000e+00, 2.000000e+00], [3.000000e+00, 5.000000e+00]]> : tensor<2x2xf32>, sym_visibility = "private", constant}> : () -> ()
// CHECK-NEXT:   "memref.global"() <{sym_name = "net_cst", type = memref<4xf32>, initial_value = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>, sym_visibility = "private", constant}> : () -> ()
// CHECK-NEXT:   func.func @net(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
// CHECK-NEXT:     memref.get_global @net_L00_linear_weight : memref<2x2xf32>
// CHECK-NEXT:     bufferization.to_tensor
// CHECK-NEXT:     memref.get_global @net_L00_linear_weight : memref<2x2xf32>
// CHECK-NEXT:     bufferization.to_tensor
// CHECK-NEXT:     memref.get_global @net_L02_linear_weight : memref<2x2xf32>
// CHECK-NEXT:     bufferization.to_tensor
// CHECK-NEXT:     memref.get_global @net_cst : memref<4xf32>
// CHECK-NOT:    "memref.global"
