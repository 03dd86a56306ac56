// RUN: t2m-opt %s -p lower-nn-shape | filecheck %s --check-prefix=SHAPE
// RUN: t2m-opt %s -p lower-nn-softmax | filecheck %s --check-prefix=SOFTMAX

// concat copies each input into its slice of one buffer (a layer); flatten is a view: a reinterpret_cast in
// the model function, no layer function and no layer number (softmax is L01). softmax: max (cmpf + select),
// exp(x - max) stored while summing, one division, then multiplies.
func.func @sh(%x: tensor<1x2x3x1xf32>, %y: tensor<1x1x3x1xf32>) -> tensor<1x9xf32> {
  %c = nn.concat %x, %y {axis = 1 : i64} : (tensor<1x2x3x1xf32>, tensor<1x1x3x1xf32>) -> tensor<1x3x3x1xf32>
  %f = nn.flatten %c {start_dim = 1 : i64, end_dim = 3 : i64} : (tensor<1x3x3x1xf32>) -> tensor<1x9xf32>
  %s = nn.softmax %f {axis = 1 : i64} : tensor<1x9xf32>
  func.return %s : tensor<1x9xf32>
}

// SHAPE-LABEL: func.func @sh(
// SHAPE:         func.call @sh_L00_concat(%{{.*}}, %{{.*}}, %[[C:.*]]) : (memref<1x2x3x1xf32>, memref<1x1x3x1xf32>, memref<1x3x3x1xf32>) -> ()
// SHAPE-NEXT:    %[[T:.*]] = bufferization.to_tensor %[[C]] : memref<1x3x3x1xf32> to tensor<1x3x3x1xf32>
// SHAPE-NEXT:    %[[B:.*]] = bufferization.to_buffer %[[T]] : tensor<1x3x3x1xf32> to memref<1x3x3x1xf32>
// SHAPE-NEXT:    %[[V:.*]] = memref.reinterpret_cast %[[B]] to offset: [0], sizes: [1, 9], strides: [9, 1] : memref<1x3x3x1xf32> to memref<1x9xf32>
// SHAPE-NEXT:    %[[F:.*]] = bufferization.to_tensor %[[V]] : memref<1x9xf32> to tensor<1x9xf32>
// SHAPE-NEXT:    nn.softmax %[[F]]
// SHAPE-LABEL: func.func private @sh_L00_concat(%in0: memref<1x2x3x1xf32>, %in1: memref<1x1x3x1xf32>, %out: memref<1x3x3x1xf32>)
// SHAPE:         %[[O:.*]] = memref.reinterpret_cast %out {{.*}} to memref<1x9xf32>
// SHAPE:         affine.for %i = 0 to 6 {
// SHAPE-NEXT:      %[[A:.*]] = memref.load %{{.*}}[%c0, %i] : memref<1x6xf32>
// SHAPE-NEXT:      memref.store %[[A]], %[[O]][%c0, %i] : memref<1x9xf32>
// SHAPE:         affine.for %i_1 = 0 to 3 {
// SHAPE-NEXT:      %[[B:.*]] = memref.load %{{.*}}[%c0, %i_1] : memref<1x3xf32>
// SHAPE-NEXT:      %[[AT:.*]] = affine.apply affine_map<(d0) -> ((d0 + 6))> (%i_1)
// SHAPE-NEXT:      memref.store %[[B]], %[[O]][%c0, %[[AT]]] : memref<1x9xf32>
// SHAPE-NOT:     @sh_L{{.*}}_flatten

// SOFTMAX-LABEL: func.func @sh(
// SOFTMAX:         nn.concat
// SOFTMAX:         nn.flatten
// SOFTMAX:         func.call @sh_L01_softmax(
// SOFTMAX-LABEL: func.func private @sh_L01_softmax(%in: memref<1x9xf32>, %out: memref<1x9xf32>)
// SOFTMAX:         %[[NINF:.*]] = arith.constant 0xff800000 : f32
// SOFTMAX:         %[[MAX:.*]] = affine.for %l = 0 to 9 iter_args(%[[M:.*]] = %[[NINF]]) -> (f32) {
// SOFTMAX-NEXT:      %[[V:.*]] = memref.load %{{.*}}[%c0, %l, %c0] : memref<1x9x1xf32>
// SOFTMAX-NEXT:      %[[GT:.*]] = arith.cmpf ogt, %[[V]], %[[M]] : f32
// SOFTMAX-NEXT:      %[[NM:.*]] = arith.select %[[GT]], %[[V]], %[[M]] : f32
// SOFTMAX-NEXT:      affine.yield %[[NM]] : f32
// SOFTMAX:         %[[SUM:.*]] = affine.for %l_1 = 0 to 9 iter_args(%[[S:.*]] = %{{.*}}) -> (f32) {
// SOFTMAX-NEXT:      %[[X:.*]] = memref.load %{{.*}}[%c0, %l_1, %c0] : memref<1x9x1xf32>
// SOFTMAX-NEXT:      %[[D:.*]] = arith.subf %[[X]], %[[MAX]] : f32
// SOFTMAX:           arith.shli
// SOFTMAX:           %[[E:.*]] = arith.select
// SOFTMAX-NEXT:      memref.store %[[E]], %{{.*}}[%c0, %l_1, %c0] : memref<1x9x1xf32>
// SOFTMAX-NEXT:      %[[NS:.*]] = arith.addf %[[S]], %[[E]] : f32
// SOFTMAX-NEXT:      affine.yield %[[NS]] : f32
// SOFTMAX:         %[[INV:.*]] = arith.divf %{{.*}}, %[[SUM]] : f32
// SOFTMAX-NEXT:    affine.for %l_2 = 0 to 9 {
// SOFTMAX-NEXT:      %[[Y:.*]] = memref.load %{{.*}}[%c0, %l_2, %c0] : memref<1x9x1xf32>
// SOFTMAX-NEXT:      %[[Z:.*]] = arith.mulf %[[Y]], %[[INV]] : f32
// SOFTMAX-NEXT:      memref.store %[[Z]]
