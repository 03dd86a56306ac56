// RUN: t2m-opt %s -p convert-memref-to-llvm | filecheck %s

// Storage is static: constant weights -> internal constant globals (.rodata), allocs -> fresh zero-initialised
// internal globals (.bss), alloca -> a stack slot in the entry block, dealloc -> nothing.
// CHECK:      builtin.module {
// CHECK-NEXT:   llvm.mlir.global internal @f_buf0() {addr_space = 0 : i32, alignment = 4 : i64} : !llvm.array<8 x f32>
// CHECK-NEXT:   llvm.mlir.global internal constant @w(dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>) {addr_space = 0 : i32, alignment = 4 : i64} : !llvm.array<4 x f32>
// CHECK-NEXT:   llvm.mlir.global internal @state() {addr_space = 0 : i32, alignment = 16 : i64} : !llvm.array<3 x i8>
// CHECK-NEXT:   llvm.mlir.global external constant @scale(dense<2.000000e+00> : tensor<f32>) {addr_space = 0 : i32, alignment = 4 : i64} : f32
"memref.global"() <{sym_name = "w", sym_visibility = "private", type = memref<2x2xf32>, initial_value = dense<"0x0000803F000000400000404000008040"> : tensor<2x2xf32>, constant}> : () -> ()
"memref.global"() <{sym_name = "state", sym_visibility = "private", type = memref<3xi8>, initial_value, alignment = 16 : i64}> : () -> ()
"memref.global"() <{sym_name = "scale", sym_visibility = "public", type = memref<f32>, initial_value = dense<2.0> : tensor<f32>, constant}> : () -> ()

// Accesses: one `getelementptr inbounds <element>` on an i32 linear index (strides from the type, constant
// indices folded while building) and a load/store aligned to the element size, vectors included.
// Views are the same pointer (collapse/expand) or an offset one (subview, reinterpret_cast, view).
// CHECK-LABEL: func.func @f
// CHECK-NEXT:    %[[ONE:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT:    %[[SLOT:.*]] = llvm.alloca %[[ONE]] x !llvm.array<2 x f32> {alignment = 4 : i64} : (i32) -> !llvm.ptr
// CHECK-NEXT:    %[[W:.*]] = llvm.mlir.addressof @w : !llvm.ptr
// CHECK-NEXT:    %{{.*}} = builtin.unrealized_conversion_cast %[[W]] : !llvm.ptr to memref<2x2xf32>
// CHECK-NEXT:    %[[B:.*]] = llvm.mlir.addressof @f_buf0 : !llvm.ptr
// CHECK-NEXT:    %{{.*}} = builtin.unrealized_conversion_cast %[[B]] : !llvm.ptr to memref<2x4xf32>
// CHECK-NEXT:    %{{.*}} = builtin.unrealized_conversion_cast %[[B]] : !llvm.ptr to memref<8xf32>
// CHECK-NEXT:    %[[CUBE:.*]] = builtin.unrealized_conversion_cast %[[B]] : !llvm.ptr to memref<2x2x2xf32>
// CHECK-NEXT:    %[[BYTES:.*]] = builtin.unrealized_conversion_cast %bytes : index to i32
// CHECK-NEXT:    %[[ARENA:.*]] = builtin.unrealized_conversion_cast %arena : memref<64xi8> to !llvm.ptr
// CHECK-NEXT:    %[[AT:.*]] = llvm.getelementptr inbounds %[[ARENA]][%[[BYTES]]] : (!llvm.ptr, i32) -> !llvm.ptr, i8
// CHECK-NEXT:    %{{.*}} = builtin.unrealized_conversion_cast %[[AT]] : !llvm.ptr to memref<2xf32>
// CHECK-NEXT:    %{{.*}} = builtin.unrealized_conversion_cast %[[SLOT]] : !llvm.ptr to memref<2xf32>
// w[i, i]: i * 2 + i
// CHECK-NEXT:    %[[I0:.*]] = builtin.unrealized_conversion_cast %i : index to i32
// CHECK-NEXT:    %[[TWO:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK-NEXT:    %[[ROW:.*]] = llvm.mul %[[I0]], %[[TWO]] overflow<nsw> : i32
// CHECK-NEXT:    %[[I1:.*]] = builtin.unrealized_conversion_cast %i : index to i32
// CHECK-NEXT:    %[[LIN:.*]] = llvm.add %[[ROW]], %[[I1]] overflow<nsw> : i32
// CHECK-NEXT:    %[[P:.*]] = llvm.getelementptr inbounds %[[W]][%[[LIN]]] : (!llvm.ptr, i32) -> !llvm.ptr, f32
// CHECK-NEXT:    %[[V:.*]] = llvm.load %[[P]] {alignment = 4 : i64} : !llvm.ptr -> f32
// cube[1, 0, 1] with constant indices: element 5, no arithmetic (the arith constants are converted later)
// CHECK-NEXT:    arith.constant 0 : index
// CHECK-NEXT:    arith.constant 1 : index
// CHECK-NEXT:    %[[Q:.*]] = llvm.getelementptr inbounds %[[B]][5] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK-NEXT:    llvm.store %[[V]], %[[Q]] {alignment = 4 : i64} : f32, !llvm.ptr
// vector.load of b[1, %i]: 4 + i
// CHECK-NEXT:    %[[I2:.*]] = builtin.unrealized_conversion_cast %i : index to i32
// CHECK-NEXT:    %[[FOUR:.*]] = llvm.mlir.constant(4 : i32) : i32
// CHECK-NEXT:    %[[L:.*]] = llvm.add %[[I2]], %[[FOUR]] overflow<nsw> : i32
// CHECK-NEXT:    %[[R:.*]] = llvm.getelementptr inbounds %[[B]][%[[L]]] : (!llvm.ptr, i32) -> !llvm.ptr, f32
// CHECK-NEXT:    %{{.*}} = llvm.load %[[R]] {alignment = 4 : i64} : !llvm.ptr -> vector<4xf32>
// subview b[1, 2][1, 2] and reinterpret_cast offset 4: offset pointers
// CHECK-NEXT:    %[[SV:.*]] = llvm.getelementptr inbounds %[[B]][6] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK-NEXT:    %{{.*}} = builtin.unrealized_conversion_cast %[[SV]] : !llvm.ptr to memref<2xf32, strided<[1], offset: 6>>
// CHECK-NEXT:    %[[RC:.*]] = llvm.getelementptr inbounds %[[B]][4] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK-NEXT:    %{{.*}} = builtin.unrealized_conversion_cast %[[RC]] : !llvm.ptr to memref<4xf32, strided<[1], offset: 4>>
// CHECK-NOT:     memref.
// CHECK-NOT:     vector.load
// CHECK:         func.return %[[V]] : f32
func.func @f(%i: index, %arena: memref<64xi8>, %bytes: index) -> f32 {
  %w = memref.get_global @w : memref<2x2xf32>
  %b = memref.alloc() : memref<2x4xf32>
  %flat = memref.collapse_shape %b [[0, 1]] : memref<2x4xf32> into memref<8xf32>
  %cube = memref.expand_shape %flat [[0, 1, 2]] output_shape [2, 2, 2] : memref<8xf32> into memref<2x2x2xf32>
  %part = memref.view %arena[%bytes][] : memref<64xi8> to memref<2xf32>
  %s = memref.alloca() : memref<2xf32>
  %v = memref.load %w[%i, %i] : memref<2x2xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  memref.store %v, %cube[%c1, %c0, %c1] : memref<2x2x2xf32>
  %vec = vector.load %b[%c1, %i] : memref<2x4xf32>, vector<4xf32>
  %sub = memref.subview %b[1, 2] [1, 2] [1, 1] : memref<2x4xf32> to memref<2xf32, strided<[1], offset: 6>>
  %rc = memref.reinterpret_cast %b to offset: [4], sizes: [4], strides: [1] : memref<2x4xf32> to memref<4xf32, strided<[1], offset: 4>>
  "test.op"(%part, %s, %vec, %sub, %rc) : (memref<2xf32>, memref<2xf32>, vector<4xf32>, memref<2xf32, strided<[1], offset: 6>>, memref<4xf32, strided<[1], offset: 4>>) -> ()
  memref.dealloc %b : memref<2x4xf32>
  func.return %v : f32
}
