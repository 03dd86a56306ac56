// RUN: t2m-opt %s -p convert-func-to-llvm | filecheck %s

// The public entry point stays external (the C symbol <name>_run); private functions become internal;
// layer functions (t2m.layer) are also noinline so each layer stays a function in the object.
// Declarations stay external. Calls and returns follow; index results are i32 (cast back for old users).

// CHECK-LABEL: llvm.func internal @m_L0_relu(%x: !llvm.ptr, %n: i32) attributes {t2m.layer = #t2m.layer<"relu", macs = 0>, no_inline} {
// CHECK-NEXT:    llvm.return
func.func private @m_L0_relu(%x: !llvm.ptr, %n: i32) attributes {t2m.layer = #t2m.layer<"relu", macs = 0>} {
  func.return
}

// CHECK-LABEL: llvm.func internal @helper(%a: i32) -> i32 {
// CHECK-NOT:     no_inline
// CHECK:         llvm.return %[[R:.*]] : i32
func.func private @helper(%a: index) -> index {
  func.return %a : index
}

// CHECK-LABEL: llvm.func @extern(!llvm.ptr)
func.func private @extern(!llvm.ptr) -> ()

// CHECK-LABEL: llvm.func @m_run(%in0: !llvm.ptr, %out0: !llvm.ptr) -> i32 {
// CHECK-NEXT:    %[[N:.*]] = llvm.mlir.constant(3 : i32) : i32
// CHECK-NEXT:    llvm.call @m_L0_relu(%in0, %[[N]]) : (!llvm.ptr, i32) -> ()
// CHECK-NEXT:    %[[I:.*]] = arith.constant 4 : index
// CHECK-NEXT:    %[[I32:.*]] = builtin.unrealized_conversion_cast %[[I]] : index to i32
// CHECK-NEXT:    %[[H:.*]] = llvm.call @helper(%[[I32]]) : (i32) -> i32
// CHECK-NEXT:    %[[HIX:.*]] = builtin.unrealized_conversion_cast %[[H]] : i32 to index
// CHECK-NEXT:    "test.op"(%[[HIX]]) : (index) -> ()
// CHECK-NEXT:    llvm.call @extern(%out0) : (!llvm.ptr) -> ()
// CHECK-NEXT:    %[[OK:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:    llvm.return %[[OK]] : i32
func.func @m_run(%in0: !llvm.ptr, %out0: !llvm.ptr) -> i32 {
  %n = llvm.mlir.constant(3 : i32) : i32
  func.call @m_L0_relu(%in0, %n) : (!llvm.ptr, i32) -> ()
  %i = arith.constant 4 : index
  %h = func.call @helper(%i) : (index) -> index
  "test.op"(%h) : (index) -> ()
  func.call @extern(%out0) : (!llvm.ptr) -> ()
  %ok = llvm.mlir.constant(0 : i32) : i32
  func.return %ok : i32
}
