"""The memory routines a t2m object may call, built for the Cortex-M4 with llvmlite at first use.

LLVM lowers large copies and fills (and `llvm.memcpy`/`llvm.memset`) to calls of memcpy/memset or their AEABI
forms; the firmware's libc provides them on a board, this module provides them in the emulator. They are
written as LLVM IR loops (word loops when aligned, byte loops otherwise) with "no-builtins", so LLVM does not
turn the loops back into calls to themselves. The AEABI forms take (dest, n, c) for memset and return nothing.
"""

from __future__ import annotations

import functools

import llvmlite.binding as llvm

M4_TRIPLE = "thumbv7em-none-eabihf"
M4_CPU = "cortex-m4"
M4_FEATURES = "+thumb-mode,+dsp,+vfp4d16sp,-fp64,-d32,-neon"

RUNTIME_SYMBOLS = frozenset(
    {"memcpy", "memmove", "memset"}
    | {f"__aeabi_{op}{suffix}" for op in ("memcpy", "memmove", "memset", "memclr") for suffix in ("", "4", "8")}
)

_RUNTIME_IR = r"""
target datalayout = "e-m:e-p:32:32-Fi8-i64:64-v128:64:128-a:0:32-n32-S64"
target triple = "thumbv7em-none-eabihf"

; Copy n bytes forward: words while both pointers are word aligned, then bytes.
define ptr @memcpy(ptr %d, ptr %s, i32 %n) #0 {
entry:
  %di = ptrtoint ptr %d to i32
  %si = ptrtoint ptr %s to i32
  %mis = and i32 %di, 3
  %mis2 = and i32 %si, 3
  %either = or i32 %mis, %mis2
  %aligned = icmp eq i32 %either, 0
  %nw = lshr i32 %n, 2
  %nw.use = select i1 %aligned, i32 %nw, i32 0
  %any.w = icmp ne i32 %nw.use, 0
  br i1 %any.w, label %words, label %tail
words:
  %i = phi i32 [ 0, %entry ], [ %i.next, %words ]
  %sp = getelementptr inbounds i32, ptr %s, i32 %i
  %w = load i32, ptr %sp, align 4
  %dp = getelementptr inbounds i32, ptr %d, i32 %i
  store i32 %w, ptr %dp, align 4
  %i.next = add nuw i32 %i, 1
  %more.w = icmp ult i32 %i.next, %nw.use
  br i1 %more.w, label %words, label %tail
tail:
  %start = shl i32 %nw.use, 2
  %any.b = icmp ult i32 %start, %n
  br i1 %any.b, label %bytes, label %done
bytes:
  %j = phi i32 [ %start, %tail ], [ %j.next, %bytes ]
  %sb = getelementptr inbounds i8, ptr %s, i32 %j
  %b = load i8, ptr %sb, align 1
  %db = getelementptr inbounds i8, ptr %d, i32 %j
  store i8 %b, ptr %db, align 1
  %j.next = add nuw i32 %j, 1
  %more.b = icmp ult i32 %j.next, %n
  br i1 %more.b, label %bytes, label %done
done:
  ret ptr %d
}

; Overlap-safe copy: forward unless dest lies inside (src, src + n), then bytes backwards.
define ptr @memmove(ptr %d, ptr %s, i32 %n) #0 {
entry:
  %di = ptrtoint ptr %d to i32
  %si = ptrtoint ptr %s to i32
  %gap = sub i32 %di, %si
  %forward = icmp uge i32 %gap, %n
  br i1 %forward, label %fwd, label %check
fwd:
  %r = tail call ptr @memcpy(ptr %d, ptr %s, i32 %n)
  ret ptr %d
check:
  %empty = icmp eq i32 %n, 0
  br i1 %empty, label %done, label %back
back:
  %i = phi i32 [ %n, %check ], [ %i.next, %back ]
  %i.next = add i32 %i, -1
  %sp = getelementptr inbounds i8, ptr %s, i32 %i.next
  %b = load i8, ptr %sp, align 1
  %dp = getelementptr inbounds i8, ptr %d, i32 %i.next
  store i8 %b, ptr %dp, align 1
  %more = icmp ne i32 %i.next, 0
  br i1 %more, label %back, label %done
done:
  ret ptr %d
}

; Fill n bytes with c: words while the destination is word aligned, then bytes.
define ptr @memset(ptr %d, i32 %c, i32 %n) #0 {
entry:
  %c8 = and i32 %c, 255
  %cw = mul i32 %c8, 16843009
  %cb = trunc i32 %c to i8
  %di = ptrtoint ptr %d to i32
  %mis = and i32 %di, 3
  %aligned = icmp eq i32 %mis, 0
  %nw = lshr i32 %n, 2
  %nw.use = select i1 %aligned, i32 %nw, i32 0
  %any.w = icmp ne i32 %nw.use, 0
  br i1 %any.w, label %words, label %tail
words:
  %i = phi i32 [ 0, %entry ], [ %i.next, %words ]
  %dp = getelementptr inbounds i32, ptr %d, i32 %i
  store i32 %cw, ptr %dp, align 4
  %i.next = add nuw i32 %i, 1
  %more.w = icmp ult i32 %i.next, %nw.use
  br i1 %more.w, label %words, label %tail
tail:
  %start = shl i32 %nw.use, 2
  %any.b = icmp ult i32 %start, %n
  br i1 %any.b, label %bytes, label %done
bytes:
  %j = phi i32 [ %start, %tail ], [ %j.next, %bytes ]
  %db = getelementptr inbounds i8, ptr %d, i32 %j
  store i8 %cb, ptr %db, align 1
  %j.next = add nuw i32 %j, 1
  %more.b = icmp ult i32 %j.next, %n
  br i1 %more.b, label %bytes, label %done
done:
  ret ptr %d
}

define void @__aeabi_memset(ptr %d, i32 %n, i32 %c) #0 {
  %r = tail call ptr @memset(ptr %d, i32 %c, i32 %n)
  ret void
}

define void @__aeabi_memclr(ptr %d, i32 %n) #0 {
  %r = tail call ptr @memset(ptr %d, i32 0, i32 %n)
  ret void
}

@__aeabi_memcpy = alias ptr (ptr, ptr, i32), ptr @memcpy
@__aeabi_memcpy4 = alias ptr (ptr, ptr, i32), ptr @memcpy
@__aeabi_memcpy8 = alias ptr (ptr, ptr, i32), ptr @memcpy
@__aeabi_memmove = alias ptr (ptr, ptr, i32), ptr @memmove
@__aeabi_memmove4 = alias ptr (ptr, ptr, i32), ptr @memmove
@__aeabi_memmove8 = alias ptr (ptr, ptr, i32), ptr @memmove
@__aeabi_memset4 = alias void (ptr, i32, i32), ptr @__aeabi_memset
@__aeabi_memset8 = alias void (ptr, i32, i32), ptr @__aeabi_memset
@__aeabi_memclr4 = alias void (ptr, i32), ptr @__aeabi_memclr
@__aeabi_memclr8 = alias void (ptr, i32), ptr @__aeabi_memclr

attributes #0 = { nounwind "no-builtins" "frame-pointer"="none" }
"""


@functools.cache
def _m4_target_machine(opt: int) -> llvm.TargetMachine:
    from t2m.compiler.backend.llvm import initialise_llvm

    initialise_llvm()  # the Arm code generator's options too: the runtime's code is the same whatever ran first
    target = llvm.Target.from_triple(M4_TRIPLE)
    return target.create_target_machine(cpu=M4_CPU, features=M4_FEATURES, reloc="static", opt=opt)


def compile_m4_object(ir: str, opt: int = 2) -> bytes:
    """Compile LLVM IR text to a Cortex-M4 relocatable object (optimised at `opt` with the new pass manager)."""
    tm = _m4_target_machine(opt)
    module = llvm.parse_assembly(ir)
    module.triple = M4_TRIPLE
    module.verify()
    if opt:
        tuning = llvm.create_pipeline_tuning_options(speed_level=opt)
        builder = llvm.create_pass_builder(tm, tuning)
        builder.getModulePassManager().run(module, builder)
    return tm.emit_object(module)


@functools.cache
def runtime_object() -> bytes:
    """The memory routines as a Cortex-M4 object (compiled once per process)."""
    return compile_m4_object(_RUNTIME_IR, opt=2)
