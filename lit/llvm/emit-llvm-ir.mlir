// Loop-level IR -> llvm dialect (LOWER_TO_LLVM) -> LLVM IR text and Cortex-M4 assembly.
// RUN: t2m-opt %s -p "lower-affine,convert-memref-to-llvm,convert-scf-to-cf,convert-vector-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,convert-cf-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts" -o %t.mlir
// RUN: t2m-translate %t.mlir | filecheck %s
// RUN: t2m-translate %t.mlir --emit asm -O2 | filecheck %s --check-prefix=ASM
// RUN: t2m-translate %t.mlir --target host | filecheck %s --check-prefix=HOST

// CHECK:      target triple = "thumbv7em-none-eabihf"
// CHECK-NEXT: target datalayout = "e-m:e-p:32:32-{{.*}}"
// The object's FILE symbol (and GNU ld's messages) name the model: <name>_run is its entry point.
// CHECK-NEXT: source_filename = "m"
// Buffers: zero-initialised internal globals (.bss); weights: internal constants written as hex floats.
// (-inf/NaN weights are checked in tests/llvm: xDSL 0.74 prints them in dense lists as hex integers that
// re-parse as 4.28e9, so they do not survive this file's text round trip.)
// Each global and each function in a section of its own, so a firmware's --gc-sections drops the unused ones.
// CHECK-DAG:  @"m_run_buf0" = internal global [4 x float] zeroinitializer, section ".bss.m_run_buf0", align 4
// CHECK-DAG:  @"w" = internal constant [4 x float] [float 0x3FB99999A0000000, float 0xC000000000000000, float 0x3FF8000000000000, float 0x8000000000000000], section ".rodata.w", align 4
// Layer functions: internal + noinline; the entry point: external, pointer-only.
// CHECK:      define internal void @"m_L0_relu"(ptr %"x", ptr %"y") noinline section ".text.m_L0_relu"
// CHECK:        %[[V:.*]] = load float, ptr %{{.*}}, align 4
// CHECK:        %[[W:.*]] = load float, ptr %{{.*}}, align 4
// CHECK:        %[[S:.*]] = fadd float %[[V]], %[[W]]
// CHECK-NEXT:   %[[C:.*]] = fcmp olt float %[[S]], {{ *}}0x0
// CHECK-NEXT:   %[[R:.*]] = select i1 %[[C]], float {{ *}}0x0, float %[[S]]
// CHECK:        %[[M:.*]] = fmul float %[[R]], 0xfff0000000000000
// CHECK-NEXT:   %[[N:.*]] = fadd float %[[M]], 0x7ff8000000000000
// CHECK-NOT:  llvm.maxnum
// CHECK:      define i32 @"m_run"(ptr %"in0", ptr %"out0") section ".text.m_run"
// CHECK:        call ccc void @"m_L0_relu"(ptr %"in0", ptr @"m_run_buf0")
// CHECK:        ret i32 0

// ASM:        .file "m"
// ASM:        .section .text.m_L0_relu,"ax",%progbits
// ASM:        m_L0_relu:
// ASM-NOT:    bl
// ASM:        vadd.f32
// ASM:        vcmp.f32
// ASM-NOT:    fmaxf
// ASM:        .section .text.m_run,"ax",%progbits
// ASM-NEXT:   .globl m_run
// ASM:        m_run:
// ASM:        bl m_L0_relu
// ASM:        .section .bss.m_run_buf0,"aw",%nobits

// The same IR for the host: only the triple and data layout change.
// HOST-NOT:   thumbv7em
// HOST:       define internal void @"m_L0_relu"(ptr %"x", ptr %"y") noinline

builtin.module attributes {t2m.model = #t2m.model<"m", inputs = [tensor<1x4xf32>], outputs = [tensor<1x4xf32>], layout = "NCHW", arena = 16, live = []>} {
  "memref.global"() <{sym_name = "w", sym_visibility = "private", type = memref<4xf32>, initial_value = dense<[0.1, -2.0, 1.5, -0.0]> : tensor<4xf32>, constant}> : () -> ()
  func.func private @m_L0_relu(%x: memref<1x4xf32>, %y: memref<1x4xf32>) attributes {t2m.layer = #t2m.layer<"relu", macs = 0>} {
    %w = memref.get_global @w : memref<4xf32>
    %c0 = arith.constant 0 : index
    %z = arith.constant 0.0 : f32
    affine.for %i = 0 to 4 {
      %v = memref.load %x[%c0, %i] : memref<1x4xf32>
      %b = memref.load %w[%i] : memref<4xf32>
      %s = arith.addf %v, %b : f32
      %r = arith.maximumf %s, %z : f32
      %ninf = arith.constant 0xFF800000 : f32
      %nan = arith.constant 0x7FC00000 : f32
      %m = arith.mulf %r, %ninf : f32
      %n = arith.addf %m, %nan : f32
      memref.store %n, %y[%c0, %i] : memref<1x4xf32>
      memref.store %r, %y[%c0, %i] : memref<1x4xf32>
    }
    func.return
  }
  func.func @m_run(%in0: memref<1x4xf32>, %out0: memref<1x4xf32>) -> i32 {
    %buf = memref.alloc() : memref<1x4xf32>
    func.call @m_L0_relu(%in0, %buf) : (memref<1x4xf32>, memref<1x4xf32>) -> ()
    %flat = memref.collapse_shape %buf [[0, 1]] : memref<1x4xf32> into memref<4xf32>
    %c0 = arith.constant 0 : index
    affine.for %i = 0 to 4 {
      %v = memref.load %flat[%i] : memref<4xf32>
      memref.store %v, %out0[%c0, %i] : memref<1x4xf32>
    }
    memref.dealloc %buf : memref<1x4xf32>
    %ok = arith.constant 0 : i32
    func.return %ok : i32
  }
}
