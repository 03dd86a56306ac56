// RUN: t2m-opt %s -p 'lower-nn-linear,lower-nn-elementwise,lower-nn-shape,bufferize' | filecheck %s

// The model function becomes `<name>_run(inputs..., outputs...) -> i32`: the last layer writes straight into
// its output (here through a view: relu writes %output0 seen as 1x4, the reshape costs nothing); a result
// that is an input or a weight is copied by a small function; weights become private constant globals named
// after the layer reading them. The module records the model's description: its inputs, its outputs, and the
// bytes of the intermediate buffers still to be planned.
func.func @net(%x: tensor<1x4xf32>) -> (tensor<1x2x2xf32>, tensor<1x4xf32>, tensor<2xf32>) {
  %w = nn.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  %k = nn.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %y = nn.linear %x, %w : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  %r = nn.relu %y : tensor<1x4xf32>
  %v = nn.reshape %r : (tensor<1x4xf32>) -> tensor<1x2x2xf32>
  func.return %v, %x, %k : tensor<1x2x2xf32>, tensor<1x4xf32>, tensor<2xf32>
}

// CHECK:       builtin.module attributes {t2m.model = #t2m.model<"net", inputs = [tensor<1x4xf32>], outputs = [tensor<1x2x2xf32>, tensor<1x4xf32>, tensor<2xf32>], layout = "NCHW", arena = 16, live = []>} {
// CHECK-NEXT:  "memref.global"() <{sym_name = "net_L00_linear_weight", type = memref<4x4xf32>, initial_value = dense<{{.*}}> : tensor<4x4xf32>, sym_visibility = "private", constant}> : () -> ()
// CHECK-NEXT:  "memref.global"() <{sym_name = "net_cst", type = memref<2xf32>, initial_value = dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32>, sym_visibility = "private", constant}> : () -> ()
// CHECK-NEXT:  func.func @net_run(%x: memref<1x4xf32>, %output0: memref<1x2x2xf32>, %output1: memref<1x4xf32>, %output2: memref<2xf32>) -> i32 {
// CHECK-NEXT:    %[[W:.*]] = memref.get_global @net_L00_linear_weight : memref<4x4xf32>
// CHECK-NEXT:    %[[K:.*]] = memref.get_global @net_cst : memref<2xf32>
// CHECK-NEXT:    %[[Y:.*]] = memref.alloc() : memref<1x4xf32>
// CHECK-NEXT:    func.call @net_L00_linear(%x, %[[W]], %[[Y]]) : (memref<1x4xf32>, memref<4x4xf32>, memref<1x4xf32>) -> ()
// CHECK-NEXT:    %[[OUT:.*]] = memref.reinterpret_cast %output0 to offset: [0], sizes: [1, 4], strides: [4, 1] : memref<1x2x2xf32> to memref<1x4xf32>
// CHECK-NEXT:    func.call @net_L01_relu(%[[Y]], %[[OUT]]) : (memref<1x4xf32>, memref<1x4xf32>) -> ()
// CHECK-NEXT:    func.call @net_copy1(%x, %output1) : (memref<1x4xf32>, memref<1x4xf32>) -> ()
// CHECK-NEXT:    func.call @net_copy2(%[[K]], %output2) : (memref<2xf32>, memref<2xf32>) -> ()
// CHECK-NEXT:    %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK-NEXT:    func.return %[[ZERO]] : i32
// CHECK-NEXT:  }
// CHECK-NEXT:  func.func private @net_L00_linear(%in: memref<1x4xf32>, %weight: memref<4x4xf32>, %out: memref<1x4xf32>) attributes {t2m.layer = #t2m.layer<"linear", macs = 16>} {
// CHECK:       func.func private @net_L01_relu(%in: memref<1x4xf32>, %out: memref<1x4xf32>) attributes {t2m.layer = #t2m.layer<"relu", macs = 0>} {
// CHECK:       func.func private @net_copy1(%src: memref<1x4xf32>, %out: memref<1x4xf32>) attributes {t2m.layer = #t2m.layer<"copy", macs = 0>} {
// CHECK:           %[[V:.*]] = memref.load %{{.*}}[%i] : memref<4xf32>
// CHECK-NEXT:      memref.store %[[V]], %{{.*}}[%i] : memref<4xf32>
// CHECK:       func.func private @net_copy2(
// CHECK-NOT:   bufferization.
// CHECK-NOT:   tensor<

// The whole chain on a small convnet, then xDSL's lower-affine / scf-to-cf / canonicalize / cse accept it.
// RUN: t2m-opt %S/Inputs/convnet.mlir -p 'pack-weights,lower-nn-conv,lower-nn-linear,lower-nn-pool,lower-nn-elementwise,lower-nn-softmax,lower-nn-shape,lower-nn-constant,bufferize,lower-affine,convert-scf-to-cf,canonicalize,cse' | filecheck %s --check-prefix=CF
// CF:      builtin.module attributes {t2m.model = #t2m.model<"convnet", inputs = [tensor<1x1x6x6xf32>], outputs = [tensor<1x3xf32>], layout = "NCHW", arena = {{[0-9]+}}, live = []>}
// CF:      func.func @convnet_run(%x: memref<1x1x6x6xf32>, %output: memref<1x3xf32>) -> i32 {
// CF-NOT:  affine.
// CF-NOT:  scf.
// CF-NOT:  nn.
// CF:      cf.cond_br
