// RUN: t2m-opt %s -p convert-ptr-to-llvm-gep | filecheck %s
// RUN: t2m-opt %s -p convert-ptr-to-llvm-gep,convert-arith-to-llvm,reconcile-unrealized-casts | filecheck %s --check-prefix=CLEAN

// ptradd is an inbounds i8 GEP with an i32 offset (xDSL's convert-ptr-to-llvm goes through ptrtoint/i64/inttoptr);
// loads and stores are aligned to the element size, also for vectors (<4 x float> on the host would otherwise be
// assumed 16-byte aligned). Function signatures take !llvm.ptr; index arithmetic is not this pass's business.

// Alone, the pass leaves casts where its ops meet unconverted ones (index arithmetic, memref users):
// CHECK-LABEL: func.func @f(%x: !llvm.ptr, %y: !llvm.ptr, %n: i32, %b: i8) -> f32 {
// CHECK:         %[[SIZE:.*]] = llvm.mlir.constant(4 : i32) : i32
// CHECK-NEXT:    %[[SIZEIX:.*]] = builtin.unrealized_conversion_cast %[[SIZE]] : i32 to index
// CHECK-NEXT:    %[[OFF:.*]] = arith.muli %{{.*}}, %[[SIZEIX]] : index
// CHECK-NEXT:    %[[OFF32:.*]] = builtin.unrealized_conversion_cast %[[OFF]] : index to i32
// CHECK-NEXT:    %[[P:.*]] = llvm.getelementptr inbounds %{{.*}}[%[[OFF32]]] : (!llvm.ptr, i32) -> !llvm.ptr, i8
// CHECK-NOT:     ptr_xdsl.{{load|store|ptradd|to_ptr|from_ptr|type_offset}}
// CHECK-LABEL: func.func private @g(!llvm.ptr)

// With the index arithmetic converted too, every cast cancels out:
// CLEAN-LABEL: func.func @f(%x: !llvm.ptr, %y: !llvm.ptr, %n: i32, %b: i8) -> f32 {
// CLEAN-NEXT:    %[[SIZE:.*]] = llvm.mlir.constant(4 : i32) : i32
// CLEAN-NEXT:    %[[OFF:.*]] = llvm.mul %n, %[[SIZE]] : i32
// CLEAN-NEXT:    %[[P:.*]] = llvm.getelementptr inbounds %x[%[[OFF]]] : (!llvm.ptr, i32) -> !llvm.ptr, i8
// CLEAN-NEXT:    %[[V:.*]] = llvm.load %[[P]] {alignment = 4 : i64} : !llvm.ptr -> f32
// CLEAN-NEXT:    %[[VV:.*]] = llvm.load %[[P]] {alignment = 4 : i64} : !llvm.ptr -> vector<4xf32>
// CLEAN-NEXT:    llvm.store %[[VV]], %y {alignment = 4 : i64} : vector<4xf32>, !llvm.ptr
// CLEAN-NEXT:    llvm.store %b, %y {alignment = 1 : i64} : i8, !llvm.ptr
// CLEAN-NEXT:    func.call @g(%y) : (!llvm.ptr) -> ()
// CLEAN-NEXT:    func.return %[[V]] : f32
// CLEAN-LABEL: func.func private @g(!llvm.ptr)
func.func @f(%x: !ptr_xdsl.ptr, %y: !ptr_xdsl.ptr, %n: i32, %b: i8) -> f32 {
  %i = arith.index_cast %n : i32 to index
  %xm = ptr_xdsl.from_ptr %x : !ptr_xdsl.ptr -> memref<8xf32>
  %ym = ptr_xdsl.from_ptr %y : !ptr_xdsl.ptr -> memref<8xf32>
  %xp = ptr_xdsl.to_ptr %xm : memref<8xf32> -> !ptr_xdsl.ptr
  %size = ptr_xdsl.type_offset f32 : index
  %off = arith.muli %i, %size : index
  %p = ptr_xdsl.ptradd %xp, %off : (!ptr_xdsl.ptr, index) -> !ptr_xdsl.ptr
  %v = ptr_xdsl.load %p : !ptr_xdsl.ptr -> f32
  %vv = ptr_xdsl.load %p : !ptr_xdsl.ptr -> vector<4xf32>
  %yp = ptr_xdsl.to_ptr %ym : memref<8xf32> -> !ptr_xdsl.ptr
  ptr_xdsl.store %vv, %yp : vector<4xf32>, !ptr_xdsl.ptr
  ptr_xdsl.store %b, %yp : i8, !ptr_xdsl.ptr
  func.call @g(%yp) : (!ptr_xdsl.ptr) -> ()
  func.return %v : f32
}

func.func private @g(!ptr_xdsl.ptr) -> ()
