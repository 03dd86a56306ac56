// What the conversions refuse, as one-line errors.
// RUN: not t2m-opt %s -p convert-memref-to-llvm --split-input-file 2>&1 | filecheck %s --check-prefix=ALLOC
// RUN: not t2m-translate %s 2>&1 | filecheck %s --check-prefix=TRANSLATE

// A heap allocation: t2m allocates every buffer statically.
// ALLOC: t2m-opt: error: pass 'convert-memref-to-llvm' failed: memref<?xf32> has a dynamic shape; t2m allocates every buffer statically
// TRANSLATE: t2m-translate: error: op func.func was not converted to the llvm dialect, at the top level; run the LOWER_TO_LLVM passes (compiler/pipeline.py) first
func.func @f(%n: index) -> memref<?xf32> {
  %m = memref.alloc(%n) : memref<?xf32>
  func.return %m : memref<?xf32>
}
