// RUN: t2m-opt %s -p lower-qnn-lut | filecheck %s

// qnn.lut: one table load per element at entry x + 128 (index_cast of the int8 value, the offset an affine
// apply); a per-tensor table runs one flat loop, a per-channel table picks its row with the channel's loop index.
func.func @lut(%x: tensor<1x2x3xi8>) -> (tensor<1x2x3xi8>, tensor<1x2x3xi8>) {
  %t = nn.constant dense<7> : tensor<1x256xi8>
  %y = qnn.lut %x, %t : (tensor<1x2x3xi8>, tensor<1x256xi8>) -> tensor<1x2x3xi8>
  %tc = nn.constant dense<-3> : tensor<2x256xi8>
  %z = qnn.lut %x, %tc : (tensor<1x2x3xi8>, tensor<2x256xi8>) -> tensor<1x2x3xi8>
  func.return %y, %z : tensor<1x2x3xi8>, tensor<1x2x3xi8>
}

// CHECK-LABEL: func.func @lut(
// CHECK:         func.call @lut_L00_lut(%{{.*}}, %{{.*}}, %{{.*}}) : (memref<1x2x3xi8>, memref<1x256xi8>, memref<1x2x3xi8>) -> ()
// CHECK:         func.call @lut_L01_lut(%{{.*}}, %{{.*}}, %{{.*}}) : (memref<1x2x3xi8>, memref<2x256xi8>, memref<1x2x3xi8>) -> ()
// CHECK-NOT:     qnn.lut

// CHECK-LABEL: func.func private @lut_L00_lut(%in: memref<1x2x3xi8>, %table: memref<1x256xi8>, %out: memref<1x2x3xi8>) attributes {t2m.layer = #t2m.layer<"lut", macs = 0>}
// CHECK:         affine.for %i = 0 to 6 {
// CHECK-NEXT:      %[[X:.*]] = memref.load %{{.*}}[%c0, %c0, %i] : memref<1x1x6xi8>
// CHECK-NEXT:      %[[I:.*]] = arith.index_cast %[[X]] : i8 to index
// CHECK-NEXT:      %[[E:.*]] = affine.apply affine_map<(d0) -> ((d0 + 128))> (%[[I]])
// CHECK-NEXT:      %[[Y:.*]] = memref.load %table[%c0, %[[E]]] : memref<1x256xi8>
// CHECK-NEXT:      memref.store %[[Y]], %{{.*}}[%c0, %c0, %i] : memref<1x1x6xi8>

// CHECK-LABEL: func.func private @lut_L01_lut(%in: memref<1x2x3xi8>, %table: memref<2x256xi8>, %out: memref<1x2x3xi8>)
// CHECK:         affine.for %c = 0 to 2 {
// CHECK-NEXT:      affine.for %i = 0 to 3 {
// CHECK-NEXT:        %[[X:.*]] = memref.load %in[%c0, %c, %i] : memref<1x2x3xi8>
// CHECK-NEXT:        %[[I:.*]] = arith.index_cast %[[X]] : i8 to index
// CHECK-NEXT:        %[[E:.*]] = affine.apply affine_map<(d0) -> ((d0 + 128))> (%[[I]])
// CHECK-NEXT:        %[[Y:.*]] = memref.load %table[%c, %[[E]]] : memref<2x256xi8>
// CHECK-NEXT:        memref.store %[[Y]], %out[%c0, %c, %i] : memref<1x2x3xi8>
