// RUN: t2m-opt %s -p lower-nn-tensor | filecheck %s

// insert_slice: the dest copied whole in one nest, then the source written over its box (dest index
// start + i * step) in a second; a copy of any element type (the int8 one below keeps i8).
func.func @t(%s: tensor<2x2x4xf32>, %x: tensor<2x6x4xf32>, %q: tensor<1x5xi8>, %r: tensor<4x5xi8>) -> (tensor<2x6x4xf32>, tensor<4x5xi8>) {
  %y = nn.insert_slice %s into %x {start = array<i64: 0, 1, 0>, step = array<i64: 1, 3, 1>} : (tensor<2x2x4xf32>, tensor<2x6x4xf32>) -> tensor<2x6x4xf32>
  %z = nn.insert_slice %q into %r {start = array<i64: 3, 0>, step = array<i64: 1, 1>} : (tensor<1x5xi8>, tensor<4x5xi8>) -> tensor<4x5xi8>
  func.return %y, %z : tensor<2x6x4xf32>, tensor<4x5xi8>
}

// CHECK-LABEL: func.func private @t_L00_insert_slice(%source: memref<2x2x4xf32>, %dest: memref<2x6x4xf32>, %out: memref<2x6x4xf32>) attributes {t2m.layer = #t2m.layer<"insert_slice", macs = 0>}
// CHECK-NEXT:    affine.for %d0 = 0 to 2 {
// CHECK-NEXT:      affine.for %d1 = 0 to 6 {
// CHECK-NEXT:        affine.for %d2 = 0 to 4 {
// CHECK-NEXT:          %[[D:.*]] = memref.load %dest[%d0, %d1, %d2] : memref<2x6x4xf32>
// CHECK-NEXT:          memref.store %[[D]], %out[%d0, %d1, %d2] : memref<2x6x4xf32>
// CHECK:         affine.for %d0_1 = 0 to 2 {
// CHECK-NEXT:      affine.for %d1_1 = 0 to 2 {
// CHECK-NEXT:        %[[ROW:.*]] = affine.apply affine_map<(d0) -> (((d0 * 3) + 1))> (%d1_1)
// CHECK-NEXT:        affine.for %d2_1 = 0 to 4 {
// CHECK-NEXT:          %[[S:.*]] = memref.load %source[%d0_1, %d1_1, %d2_1] : memref<2x2x4xf32>
// CHECK-NEXT:          memref.store %[[S]], %out[%d0_1, %[[ROW]], %d2_1] : memref<2x6x4xf32>
// CHECK-LABEL: func.func private @t_L01_insert_slice(%source: memref<1x5xi8>, %dest: memref<4x5xi8>, %out: memref<4x5xi8>)
// CHECK:           %[[Q:.*]] = memref.load %source[%c0, %d1_1] : memref<1x5xi8>
// CHECK-NEXT:      memref.store %[[Q]], %out[%c3, %d1_1] : memref<4x5xi8>
