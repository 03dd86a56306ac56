// RUN: t2m-opt %s -p convert-memref-to-llvm | filecheck %s

// Static storage: constant weights -> internal constant globals (.rodata), allocs -> fresh zero-initialised
// internal globals (.bss), alloca -> a stack slot in the entry block, dealloc -> nothing. Views keep the
// base pointer (to_ptr/from_ptr, finished by convert-memref-to-ptr and convert-ptr-to-llvm-gep).
// Loads, stores, subviews and reinterpret_casts are convert-memref-to-ptr's: left alone here.

// CHECK:      builtin.module {
// CHECK-NEXT:   llvm.mlir.global internal @f_buf0() {addr_space = 0 : i32, alignment = 4 : i64} : !llvm.array<8 x f32>
// CHECK-NEXT:   llvm.mlir.global internal constant @w(dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>) {addr_space = 0 : i32, alignment = 4 : i64} : !llvm.array<4 x f32>
// CHECK-NEXT:   llvm.mlir.global internal @state() {addr_space = 0 : i32, alignment = 16 : i64} : !llvm.array<3 x i8>
// CHECK-NEXT:   llvm.mlir.global external constant @scale(dense<2.000000e+00> : tensor<f32>) {addr_space = 0 : i32, alignment = 4 : i64} : f32
"memref.global"() <{sym_name = "w", sym_visibility = "private", type = memref<2x2xf32>, initial_value = dense<"0x0000803F000000400000404000008040"> : tensor<2x2xf32>, constant}> : () -> ()
"memref.global"() <{sym_name = "state", sym_visibility = "private", type = memref<3xi8>, initial_value, alignment = 16 : i64}> : () -> ()
"memref.global"() <{sym_name = "scale", sym_visibility = "public", type = memref<f32>, initial_value = dense<2.0> : tensor<f32>, constant}> : () -> ()

// CHECK-LABEL: func.func @f
// CHECK-NEXT:    %[[ONE:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT:    %[[SLOT:.*]] = llvm.alloca %[[ONE]] x !llvm.array<2 x f32> {alignment = 4 : i64} : (i32) -> !llvm.ptr
// CHECK-NEXT:    %[[WP:.*]] = llvm.mlir.addressof @w : !llvm.ptr
// CHECK-NEXT:    %[[W:.*]] = builtin.unrealized_conversion_cast %[[WP]] : !llvm.ptr to memref<2x2xf32>
// CHECK-NEXT:    %[[BP:.*]] = llvm.mlir.addressof @f_buf0 : !llvm.ptr
// CHECK-NEXT:    %[[B:.*]] = builtin.unrealized_conversion_cast %[[BP]] : !llvm.ptr to memref<2x4xf32>
// CHECK-NEXT:    %[[BASE:.*]] = ptr_xdsl.to_ptr %[[B]] : memref<2x4xf32> -> !ptr_xdsl.ptr
// CHECK-NEXT:    %[[FLAT:.*]] = ptr_xdsl.from_ptr %[[BASE]] : !ptr_xdsl.ptr -> memref<8xf32>
// CHECK-NEXT:    %[[BASE2:.*]] = ptr_xdsl.to_ptr %[[FLAT]] : memref<8xf32> -> !ptr_xdsl.ptr
// CHECK-NEXT:    %{{.*}} = ptr_xdsl.from_ptr %[[BASE2]] : !ptr_xdsl.ptr -> memref<2x2x2xf32>
// CHECK-NEXT:    %[[ARENA:.*]] = ptr_xdsl.to_ptr %arena : memref<64xi8> -> !ptr_xdsl.ptr
// CHECK-NEXT:    %[[SHIFT:.*]] = ptr_xdsl.ptradd %[[ARENA]], %bytes : (!ptr_xdsl.ptr, index) -> !ptr_xdsl.ptr
// CHECK-NEXT:    %{{.*}} = ptr_xdsl.from_ptr %[[SHIFT]] : !ptr_xdsl.ptr -> memref<2xf32>
// CHECK-NEXT:    %[[S:.*]] = builtin.unrealized_conversion_cast %[[SLOT]] : !llvm.ptr to memref<2xf32>
// CHECK-NEXT:    %{{.*}} = memref.load %[[W]][%i, %i] : memref<2x2xf32>
// CHECK-NEXT:    %{{.*}} = memref.subview
// CHECK-NEXT:    %{{.*}} = memref.reinterpret_cast
// CHECK-NOT:     memref.dealloc
// CHECK:         func.return
func.func @f(%i: index, %arena: memref<64xi8>, %bytes: index) -> f32 {
  %w = memref.get_global @w : memref<2x2xf32>
  %b = memref.alloc() : memref<2x4xf32>
  %flat = memref.collapse_shape %b [[0, 1]] : memref<2x4xf32> into memref<8xf32>
  %cube = memref.expand_shape %flat [[0, 1, 2]] output_shape [2, 2, 2] : memref<8xf32> into memref<2x2x2xf32>
  %part = memref.view %arena[%bytes][] : memref<64xi8> to memref<2xf32>
  %s = memref.alloca() : memref<2xf32>
  %v = memref.load %w[%i, %i] : memref<2x2xf32>
  %sub = memref.subview %b[0, 0] [1, 4] [1, 1] : memref<2x4xf32> to memref<4xf32, strided<[1]>>
  %rc = memref.reinterpret_cast %b to offset: [4], sizes: [4], strides: [1] : memref<2x4xf32> to memref<4xf32, strided<[1], offset: 4>>
  "test.op"(%cube, %part, %s, %sub, %rc) : (memref<2x2x2xf32>, memref<2xf32>, memref<2xf32>, memref<4xf32, strided<[1]>>, memref<4xf32, strided<[1], offset: 4>>) -> ()
  memref.dealloc %b : memref<2x4xf32>
  func.return %v : f32
}
