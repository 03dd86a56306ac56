// RUN: t2m-opt %s -p lower-nn-resize | filecheck %s

// Padding splits each dim into runs at compile time, so no index is tested at run time: a constant pad stores
// the value in its border runs and copies the middle (index o - low); a reflect pad reads the mirrored affine
// index (2 - o on the left of a 4-wide row padded by 2, the edge element 2 on the right) and works on int8 as on
// f32. Nearest resizing reads its source rows and columns from compile-time int32 tables (PyTorch's
// float32 floor(o * scale)), one index_cast per row and per column.
func.func @rs(%x: tensor<1x1x2x3xf32>, %q: tensor<1x1x1x4xi8>) -> (tensor<1x1x4x4xf32>, tensor<1x1x1x7xi8>, tensor<1x1x4x6xf32>) {
  %p = nn.pad %x {low = array<i64: 0, 0, 1, 0>, high = array<i64: 0, 0, 1, 1>, mode = "constant", value = 1.5 : f32} : (tensor<1x1x2x3xf32>) -> tensor<1x1x4x4xf32>
  %r = nn.pad %q {low = array<i64: 0, 0, 0, 2>, high = array<i64: 0, 0, 0, 1>, mode = "reflect", value = 0.0 : f32} : (tensor<1x1x1x4xi8>) -> tensor<1x1x1x7xi8>
  %u = nn.upsample %x {mode = "nearest", scale = array<f32: 0.5, 0.5>, align_corners = false} : (tensor<1x1x2x3xf32>) -> tensor<1x1x4x6xf32>
  func.return %p, %r, %u : tensor<1x1x4x4xf32>, tensor<1x1x1x7xi8>, tensor<1x1x4x6xf32>
}

// CHECK-LABEL: func.func @rs(
// CHECK:         func.call @rs_L00_pad(
// CHECK:         func.call @rs_L01_pad(
// CHECK:         %[[ROWS:.*]] = nn.constant dense<{{\[\[}}0], [0], [1], [1]]> : tensor<4x1xi32>
// CHECK-NEXT:    %[[COLS:.*]] = nn.constant dense<{{\[\[}}0], [0], [1], [1], [2], [2]]> : tensor<6x1xi32>
// CHECK:         func.call @rs_L02_upsample(

// CHECK-LABEL: func.func private @rs_L00_pad(%in: memref<1x1x2x3xf32>, %out: memref<1x1x4x4xf32>) attributes {t2m.layer = #t2m.layer<"pad", macs = 0>}
// CHECK-DAG:     %[[V:.*]] = arith.constant 1.500000e+00 : f32
// CHECK:         affine.for %o3 = 0 to 3 {
// CHECK-NEXT:      memref.store %[[V]], %out[%c0, %c0, %c0, %o3]
// CHECK:         memref.store %[[V]], %out[%c0, %c0, %c0, %c3]
// CHECK-NEXT:    affine.for %o2 = 1 to 3 {
// CHECK-NEXT:      %[[SRC:.*]] = affine.apply affine_map<(d0) -> ((d0 + -1))> (%o2)
// CHECK-NEXT:      affine.for %[[C:.*]] = 0 to 3 {
// CHECK-NEXT:        %[[X:.*]] = memref.load %in[%c0, %c0, %[[SRC]], %[[C]]] : memref<1x1x2x3xf32>
// CHECK-NEXT:        memref.store %[[X]], %out[%c0, %c0, %o2, %[[C]]] : memref<1x1x4x4xf32>
// CHECK-COUNT-3: memref.store %[[V]]
// CHECK-NOT:     memref.load
// CHECK:         func.return

// CHECK-LABEL: func.func private @rs_L01_pad(%in: memref<1x1x1x4xi8>, %out: memref<1x1x1x7xi8>)
// CHECK:         affine.for %o3 = 0 to 2 {
// CHECK-NEXT:      %[[M:.*]] = affine.apply affine_map<(d0) -> (((d0 * -1) + 2))> (%o3)
// CHECK-NEXT:      %[[X:.*]] = memref.load %in[%c0, %c0, %c0, %[[M]]] : memref<1x1x1x4xi8>
// CHECK-NEXT:      memref.store %[[X]], %out[%c0, %c0, %c0, %o3] : memref<1x1x1x7xi8>
// CHECK:         affine.for %[[O:.*]] = 2 to 6 {
// CHECK-NEXT:      affine.apply affine_map<(d0) -> ((d0 + -2))> (%[[O]])
// CHECK:         %[[E:.*]] = memref.load %in[%c0, %c0, %c0, %c2] : memref<1x1x1x4xi8>
// CHECK-NEXT:    memref.store %[[E]], %out[%c0, %c0, %c0, %c6] : memref<1x1x1x7xi8>

// CHECK-LABEL: func.func private @rs_L02_upsample(%in: memref<1x1x2x3xf32>, %rows: memref<4x1xi32>, %cols: memref<6x1xi32>, %out: memref<1x1x4x6xf32>)
// CHECK:         affine.for %oh = 0 to 4 {
// CHECK-NEXT:      %[[R:.*]] = memref.load %rows[%oh, %c0] : memref<4x1xi32>
// CHECK-NEXT:      %[[RI:.*]] = arith.index_cast %[[R]] : i32 to index
// CHECK-NEXT:      affine.for %ow = 0 to 6 {
// CHECK-NEXT:        %[[C:.*]] = memref.load %cols[%ow, %c0] : memref<6x1xi32>
// CHECK-NEXT:        %[[CI:.*]] = arith.index_cast %[[C]] : i32 to index
// CHECK-NEXT:        %[[X:.*]] = memref.load %in[%c0, %c0, %[[RI]], %[[CI]]] : memref<1x1x2x3xf32>
// CHECK-NEXT:        memref.store %[[X]], %out[%c0, %c0, %oh, %ow] : memref<1x1x4x6xf32>
