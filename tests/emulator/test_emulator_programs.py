"""Compiled LLVM IR in the emulator: numerics against numpy, relocations, linked mem* routines, stack use."""

from __future__ import annotations

import io

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from emu_helpers import run_all_modes

from t2m.compiler.emulator import Emulator, compile_m4_object
from t2m.compiler.emulator.relocations import relocation_name

M, N = 40, 50  # dense layer: N inputs → M outputs


def _float_array_ir(values: np.ndarray) -> str:
    """An LLVM constant array of floats, exact (floats printed as the hex of their double value)."""
    items = ", ".join(f"float 0x{np.float64(v).view(np.uint64):016X}" for v in values.astype(np.float32))
    return f"[{len(values)} x float] [{items}]"


def dense_relu_ir(weights: np.ndarray, bias: np.ndarray) -> str:
    rows = ", ".join(f"{_float_array_ir(row)}" for row in weights)
    return f"""
target triple = "thumbv7em-none-eabihf"
@W = internal constant [{M} x [{N} x float]] [{rows}], align 4
@B = internal constant {_float_array_ir(bias)}, align 4
@scratch = internal global [{N} x float] zeroinitializer, align 4

define void @dense_relu(ptr noalias %x, ptr noalias %y) noinline nounwind {{
entry:
  br label %outer
outer:
  %i = phi i32 [ 0, %entry ], [ %i.next, %outer.end ]
  %bp = getelementptr inbounds [{M} x float], ptr @B, i32 0, i32 %i
  %b = load float, ptr %bp, align 4
  br label %inner
inner:
  %j = phi i32 [ 0, %outer ], [ %j.next, %inner ]
  %acc = phi float [ %b, %outer ], [ %acc.next, %inner ]
  %wp = getelementptr inbounds [{M} x [{N} x float]], ptr @W, i32 0, i32 %i, i32 %j
  %w = load float, ptr %wp, align 4
  %xp = getelementptr inbounds float, ptr %x, i32 %j
  %xv = load float, ptr %xp, align 4
  %prod = fmul float %w, %xv
  %acc.next = fadd float %acc, %prod
  %j.next = add nuw i32 %j, 1
  %more.j = icmp ult i32 %j.next, {N}
  br i1 %more.j, label %inner, label %outer.end
outer.end:
  %positive = fcmp ogt float %acc.next, 0.0
  %relu = select i1 %positive, float %acc.next, float 0.0
  %yp = getelementptr inbounds float, ptr %y, i32 %i
  store float %relu, ptr %yp, align 4
  %i.next = add nuw i32 %i, 1
  %more.i = icmp ult i32 %i.next, {M}
  br i1 %more.i, label %outer, label %exit
exit:
  ret void
}}

define i32 @net_run(ptr %x, ptr %y) nounwind {{
  call void @llvm.memcpy.p0.p0.i32(ptr align 4 @scratch, ptr align 4 %x, i32 {4 * N}, i1 false)
  call void @llvm.memset.p0.i32(ptr align 4 %y, i8 0, i32 {4 * M}, i1 false)
  call void @dense_relu(ptr @scratch, ptr %y)
  ret i32 0
}}

declare void @llvm.memcpy.p0.p0.i32(ptr, ptr, i32, i1)
declare void @llvm.memset.p0.i32(ptr, i8, i32, i1)
"""


def _relocation_types(obj: bytes) -> set[str]:
    elf = ELFFile(io.BytesIO(obj))
    return {
        relocation_name(rel["r_info_type"])
        for section in elf.iter_sections()
        if isinstance(section, RelocationSection) and not section.name.startswith(".rel.ARM.exidx")
        for rel in section.iter_relocations()
    }


@pytest.fixture(scope="module")
def dense() -> tuple[bytes, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    weights = (rng.standard_normal((M, N)) * 0.2).astype(np.float32)
    bias = (rng.standard_normal(M) * 0.1).astype(np.float32)
    return compile_m4_object(dense_relu_ir(weights, bias)), weights, bias


def test_dense_relu_matches_numpy(dense: tuple[bytes, np.ndarray, np.ndarray]) -> None:
    obj, weights, bias = dense
    x = np.random.default_rng(1).uniform(-1, 1, N).astype(np.float32)
    y = np.full(M, np.nan, dtype=np.float32)
    result = run_all_modes(obj, "net_run", [x, y])
    out = result.outputs[1]
    assert isinstance(out, np.ndarray)
    reference = np.maximum(weights.astype(np.float64) @ x + bias, 0.0)
    np.testing.assert_allclose(out, reference, rtol=0, atol=1e-6)
    # The same arithmetic in float32, in the kernel's order, is bit-identical.
    sequential = bias.copy()
    for j in range(N):
        sequential = sequential + weights[:, j] * x[j]
    np.testing.assert_array_equal(out, np.maximum(sequential, np.float32(0)))
    assert (out == 0).any() and (out > 0).any()
    assert result.value == 0


def test_dense_relu_exercises_rodata_relocations_vfp_and_mem_routines(
    dense: tuple[bytes, np.ndarray, np.ndarray],
) -> None:
    obj, _, _ = dense
    assert {"R_ARM_THM_MOVW_ABS_NC", "R_ARM_THM_MOVT_ABS", "R_ARM_THM_CALL"} <= _relocation_types(obj)
    emulator = Emulator(obj)
    assert emulator.symbol("W").address >= emulator.image.flash_base  # weights in flash
    result = emulator.call("net_run", [np.zeros(N, np.float32), np.zeros(M, np.float32)])
    assert set(result.functions) == {"net_run", "dense_relu", "memcpy", "memset"}
    assert sum(f.cycles for f in result.functions.values()) == result.cycles
    # M·N multiply-adds, each a vldr pair + vmul + vadd at least.
    assert result.functions["dense_relu"].cycles > 4 * M * N


RELOCATION_IR = """
target triple = "thumbv7em-none-eabihf"
@k = internal constant [4 x i32] [i32 100, i32 200, i32 300, i32 400], align 4
@handlers = global [2 x ptr] [ptr @twice, ptr @thrice], align 4
@third = global ptr getelementptr (i32, ptr @k, i32 2), align 4
@self_offset = global i32 sub (i32 ptrtoint (ptr @k to i32), i32 ptrtoint (ptr @self_offset to i32)), align 4

define i32 @twice(i32 %x) noinline nounwind { %r = shl i32 %x, 1
  ret i32 %r }
define i32 @thrice(i32 %x) noinline nounwind { %r = mul i32 %x, 3
  ret i32 %r }

define i32 @dispatch(i32 %i, i32 %x) nounwind {
  %slot = getelementptr [2 x ptr], ptr @handlers, i32 0, i32 %i
  %f = load ptr, ptr %slot
  %r = call i32 %f(i32 %x)
  %kp = load ptr, ptr @third
  %k = load i32, ptr %kp
  %s = add i32 %r, %k
  ret i32 %s
}

define i32 @tail(i32 %x) nounwind {
  %r = tail call i32 @twice(i32 %x)
  ret i32 %r
}

define i32 @relative() nounwind {
  %d = load i32, ptr @self_offset
  %here = ptrtoint ptr @self_offset to i32
  %target = add i32 %here, %d
  %p = inttoptr i32 %target to ptr
  %v = load i32, ptr %p
  ret i32 %v
}
"""


def test_relocations_from_llvm() -> None:
    obj = compile_m4_object(RELOCATION_IR)
    assert {"R_ARM_ABS32", "R_ARM_REL32", "R_ARM_THM_JUMP24", "R_ARM_THM_MOVW_ABS_NC"} <= _relocation_types(obj)
    emulator = Emulator(obj)
    # Function pointers in .data carry the Thumb bit (ABS32 against Thumb functions); `third` is &k[2].
    assert emulator.call("dispatch", [0, 5]).value == 10 + 300
    assert emulator.call("dispatch", [1, 5]).value == 15 + 300
    assert emulator.call("tail", [21]).value == 42  # b.w twice
    assert emulator.call("relative").value == 100  # REL32: &k − &self_offset


MEM_IR = """
target triple = "thumbv7em-none-eabihf"
declare ptr @memcpy(ptr, ptr, i32)
declare ptr @memmove(ptr, ptr, i32)
declare ptr @memset(ptr, i32, i32)
declare void @__aeabi_memcpy(ptr, ptr, i32)
declare void @__aeabi_memmove(ptr, ptr, i32)
declare void @__aeabi_memset(ptr, i32, i32)
declare void @__aeabi_memclr(ptr, i32)

define void @copy(ptr %b, i32 %d, i32 %s, i32 %n) nounwind {
  %dp = getelementptr i8, ptr %b, i32 %d
  %sp = getelementptr i8, ptr %b, i32 %s
  %r = call ptr @memcpy(ptr %dp, ptr %sp, i32 %n)
  ret void
}
define void @move(ptr %b, i32 %d, i32 %s, i32 %n) nounwind {
  %dp = getelementptr i8, ptr %b, i32 %d
  %sp = getelementptr i8, ptr %b, i32 %s
  %r = call ptr @memmove(ptr %dp, ptr %sp, i32 %n)
  ret void
}
define void @fill(ptr %b, i32 %d, i32 %c, i32 %n) nounwind {
  %dp = getelementptr i8, ptr %b, i32 %d
  %r = call ptr @memset(ptr %dp, i32 %c, i32 %n)
  ret void
}
define void @aeabi_copy(ptr %b, i32 %d, i32 %s, i32 %n) nounwind {
  %dp = getelementptr i8, ptr %b, i32 %d
  %sp = getelementptr i8, ptr %b, i32 %s
  call void @__aeabi_memcpy(ptr %dp, ptr %sp, i32 %n)
  ret void
}
define void @aeabi_move(ptr %b, i32 %d, i32 %s, i32 %n) nounwind {
  %dp = getelementptr i8, ptr %b, i32 %d
  %sp = getelementptr i8, ptr %b, i32 %s
  call void @__aeabi_memmove(ptr %dp, ptr %sp, i32 %n)
  ret void
}
define void @aeabi_fill(ptr %b, i32 %d, i32 %c, i32 %n) nounwind {
  %dp = getelementptr i8, ptr %b, i32 %d
  call void @__aeabi_memset(ptr %dp, i32 %n, i32 %c)
  ret void
}
define void @aeabi_clear(ptr %b, i32 %d, i32 %unused, i32 %n) nounwind {
  %dp = getelementptr i8, ptr %b, i32 %d
  call void @__aeabi_memclr(ptr %dp, i32 %n)
  ret void
}
"""


def _expected(routine: str, buf: bytes, dest: int, third: int, n: int) -> bytes:
    """What the routine must leave in `buf`; `third` is the source offset, the fill value, or unused."""
    out = bytearray(buf)
    if "copy" in routine or "move" in routine:
        out[dest : dest + n] = buf[third : third + n]
    elif "fill" in routine:
        out[dest : dest + n] = bytes([third & 0xFF]) * n
    else:
        out[dest : dest + n] = bytes(n)
    return bytes(out)


def _third_arguments(routine: str, dest: int) -> list[int]:
    if "copy" in routine:
        return [40 + k for k in range(4)]  # aligned and misaligned sources, no overlap
    if "move" in routine:
        return [dest + delta for delta in (-5, -1, 1, 5)] + [40, 41]  # overlapping both ways, and apart
    if "fill" in routine:
        return [0, 0xA5, 0x1FF]  # only the low byte of the value counts
    return [0]


@pytest.mark.parametrize("routine", ["copy", "move", "fill", "aeabi_copy", "aeabi_move", "aeabi_fill", "aeabi_clear"])
def test_linked_memory_routines(routine: str) -> None:
    emulator = Emulator(compile_m4_object(MEM_IR), sram_size=128 * 1024, stack_size=4096)
    buf = bytes(range(1, 65))
    for n in (0, 1, 3, 4, 7, 8, 13, 16, 21):
        for dest in range(8, 12):
            for third in _third_arguments(routine, dest):
                out = emulator.call(routine, [buf, dest, third, n]).outputs[0]
                assert out == _expected(routine, buf, dest, third, n), (routine, dest, third, n)


def test_stack_high_water_mark_covers_a_large_local_array() -> None:
    ir = """
target triple = "thumbv7em-none-eabihf"
define float @big_frame(ptr %x) nounwind {
entry:
  %buf = alloca [1000 x float], align 4
  br label %fill
fill:
  %i = phi i32 [ 0, %entry ], [ %i.next, %fill ]
  %v = uitofp i32 %i to float
  %p = getelementptr inbounds [1000 x float], ptr %buf, i32 0, i32 %i
  store volatile float %v, ptr %p, align 4
  %i.next = add nuw i32 %i, 1
  %more = icmp ult i32 %i.next, 1000
  br i1 %more, label %fill, label %read
read:
  %k = load i32, ptr %x
  %q = getelementptr inbounds [1000 x float], ptr %buf, i32 0, i32 %k
  %r = load volatile float, ptr %q, align 4
  ret float %r
}
"""
    result = run_all_modes(compile_m4_object(ir), "big_frame", [np.array([123], dtype=np.int32)])
    assert 4000 <= result.stack_bytes < 4000 + 64
    assert result.r0 == np.float32(123.0).view(np.uint32)


def test_arguments_beyond_r3_go_on_the_stack() -> None:
    ir = """
target triple = "thumbv7em-none-eabihf"
define i32 @weigh(i32 %a, i32 %b, i32 %c, i32 %d, ptr %out, i32 %f) nounwind {
  %b2 = mul i32 %b, 2
  %c3 = mul i32 %c, 3
  %d4 = mul i32 %d, 4
  %f6 = mul i32 %f, 6
  %s1 = add i32 %a, %b2
  %s2 = add i32 %s1, %c3
  %s3 = add i32 %s2, %d4
  %s4 = add i32 %s3, %f6
  store i32 %s4, ptr %out
  %neg = sub i32 0, %s4
  ret i32 %neg
}
"""
    args = [1, np.int32(2), 3, -4, np.zeros(1, np.int32), 10]
    result = run_all_modes(compile_m4_object(ir), "weigh", args)
    expected = 1 + 2 * 2 + 3 * 3 - 4 * 4 + 6 * 10
    assert result.value == -expected
    assert [type(o).__name__ for o in result.outputs] == ["NoneType"] * 4 + ["ndarray", "NoneType"]
    out = result.outputs[4]
    assert isinstance(out, np.ndarray) and out.tolist() == [expected]
