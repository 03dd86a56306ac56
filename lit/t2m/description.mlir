// The model's description is IR (dialects/t2m.py): #t2m.model on the module, #t2m.layer on each layer function.
// It prints and re-parses unchanged, and every pass down to the llvm dialect carries it.
// RUN: t2m-opt %s | t2m-opt | filecheck %s
// RUN: t2m-opt %s -p 'lower-affine,convert-memref-to-llvm,convert-scf-to-cf,convert-arith-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts' | filecheck %s --check-prefix=LLVM

// CHECK:      builtin.module attributes {t2m.model = #t2m.model<"net", inputs = [tensor<1x4xf32>], outputs = [tensor<1x4xf32>], layout = "NCHW", arena = 16 planned, live = [16, 16]>} {
// CHECK:        func.func private @net_L00_relu(%x: memref<1x4xf32>, %y: memref<1x4xf32>) attributes {t2m.layer = #t2m.layer<"relu", macs = 0>} {
// LLVM:       builtin.module attributes {t2m.model = #t2m.model<"net", inputs = [tensor<1x4xf32>], outputs = [tensor<1x4xf32>], layout = "NCHW", arena = 16 planned, live = [16, 16]>} {
// LLVM:         llvm.func internal @net_L00_relu(%x{{.*}}: !llvm.ptr, %y{{.*}}: !llvm.ptr) attributes {t2m.layer = #t2m.layer<"relu", macs = 0>, no_inline} {
builtin.module attributes {t2m.model = #t2m.model<"net", inputs = [tensor<1x4xf32>], outputs = [tensor<1x4xf32>], layout = "NCHW", arena = 16 planned, live = [16, 16]>} {
  func.func @net_run(%x: memref<1x4xf32>, %y: memref<1x4xf32>) -> i32 {
    func.call @net_L00_relu(%x, %y) : (memref<1x4xf32>, memref<1x4xf32>) -> ()
    %ok = arith.constant 0 : i32
    func.return %ok : i32
  }
  func.func private @net_L00_relu(%x: memref<1x4xf32>, %y: memref<1x4xf32>) attributes {t2m.layer = #t2m.layer<"relu", macs = 0>} {
    func.return
  }
}
