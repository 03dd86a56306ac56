// RUN: t2m-opt %s -p lower-nn-tensor | filecheck %s

// slice: one nest over the result, the input read at start + i * step; transpose: the result walked in order,
// the input read at the permuted index; embedding: one bounds check per index (row 0 outside the table), then
// one row copied. All three are copies of any element type (the int8 slice below keeps i8).
func.func @t(%x: tensor<2x6x4xf32>, %q: tensor<4x5xi8>, %i: tensor<3xi32>) -> (tensor<2x2x4xf32>, tensor<4x2x6xf32>, tensor<1x5xi8>, tensor<3x4xf32>) {
  %s = nn.slice %x {start = array<i64: 0, 1, 0>, step = array<i64: 1, 3, 1>} : (tensor<2x6x4xf32>) -> tensor<2x2x4xf32>
  %t = nn.transpose %x {permutation = array<i64: 2, 0, 1>} : (tensor<2x6x4xf32>) -> tensor<4x2x6xf32>
  %r = nn.slice %q {start = array<i64: 2, 0>, step = array<i64: 1, 1>} : (tensor<4x5xi8>) -> tensor<1x5xi8>
  %w = nn.constant dense<1.0> : tensor<10x4xf32>
  %e = nn.embedding %w, %i : (tensor<10x4xf32>, tensor<3xi32>) -> tensor<3x4xf32>
  func.return %s, %t, %r, %e : tensor<2x2x4xf32>, tensor<4x2x6xf32>, tensor<1x5xi8>, tensor<3x4xf32>
}

// CHECK-LABEL: func.func private @t_L00_slice(%in: memref<2x6x4xf32>, %out: memref<2x2x4xf32>) attributes {t2m.layer = #t2m.layer<"slice", macs = 0>}
// CHECK-NEXT:    affine.for %d0 = 0 to 2 {
// CHECK-NEXT:      affine.for %d1 = 0 to 2 {
// CHECK-NEXT:        %[[ROW:.*]] = affine.apply affine_map<(d0) -> (((d0 * 3) + 1))> (%d1)
// CHECK-NEXT:        affine.for %d2 = 0 to 4 {
// CHECK-NEXT:          %[[V:.*]] = memref.load %in[%d0, %[[ROW]], %d2] : memref<2x6x4xf32>
// CHECK-NEXT:          memref.store %[[V]], %out[%d0, %d1, %d2] : memref<2x2x4xf32>
// CHECK-LABEL: func.func private @t_L01_transpose(%in: memref<2x6x4xf32>, %out: memref<4x2x6xf32>)
// CHECK:             %[[T:.*]] = memref.load %in[%d1, %d2, %d0] : memref<2x6x4xf32>
// CHECK-NEXT:        memref.store %[[T]], %out[%d0, %d1, %d2] : memref<4x2x6xf32>
// CHECK-LABEL: func.func private @t_L02_slice(%in: memref<4x5xi8>, %out: memref<1x5xi8>)
// CHECK:           %[[Q:.*]] = memref.load %in[%c2, %d1] : memref<4x5xi8>
// CHECK-NEXT:      memref.store %[[Q]], %out[%c0, %d1] : memref<1x5xi8>
// CHECK-LABEL: func.func private @t_L03_embedding(%weight: memref<10x4xf32>, %indices: memref<3xi32>, %out: memref<3x4xf32>)
// CHECK:         affine.for %p = 0 to 3 {
// CHECK-NEXT:      %[[I:.*]] = memref.load %indices[%p] : memref<3xi32>
// CHECK-NEXT:      %[[GE:.*]] = arith.cmpi sge, %[[I]], %i0 : i32
// CHECK-NEXT:      %[[LT:.*]] = arith.cmpi slt, %[[I]], %i10 : i32
// CHECK-NEXT:      %[[OK:.*]] = arith.andi %[[GE]], %[[LT]] : i1
// CHECK-NEXT:      %[[SAFE:.*]] = arith.select %[[OK]], %[[I]], %i0 : i32
// CHECK-NEXT:      %[[ROWI:.*]] = arith.index_cast %[[SAFE]] : i32 to index
// CHECK-NEXT:      affine.for %f = 0 to 4 {
// CHECK-NEXT:        %[[E:.*]] = memref.load %weight[%[[ROWI]], %f] : memref<10x4xf32>
// CHECK-NEXT:        memref.store %[[E]], %out[%p, %f] : memref<3x4xf32>
