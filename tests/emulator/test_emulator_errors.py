"""Every failure is one line naming the place (pc, function+offset, instruction), never a unicorn traceback."""

from __future__ import annotations

import re

import llvmlite.binding as llvm
import numpy as np
import pytest
from emu_helpers import MODES, snippet_object

from t2m.compiler.emulator import CycleMode, Emulator, EmulatorError, LoadError, compile_m4_object, run_function

NULL_STORE = """
    movs r1, #7
    str r1, [r0]
    bx lr
"""


@pytest.mark.parametrize("mode", MODES)
def test_null_pointer_store(mode: CycleMode) -> None:
    obj = snippet_object(NULL_STORE, name="conv_0")
    with pytest.raises(EmulatorError) as info:
        run_function(obj, "conv_0", [0], mode=mode)
    assert str(info.value) == (
        "memory fault: write to unmapped address 0x00000000 at pc 0x08000002 (conv_0+0x2: str r1, [r0])"
    )


def test_null_pointer_load_in_compiled_code() -> None:
    ir = """
target triple = "thumbv7em-none-eabihf"
define i32 @get(ptr %p) nounwind {
  %v = load i32, ptr %p
  ret i32 %v
}
"""
    with pytest.raises(EmulatorError, match=r"^memory fault: read from unmapped address 0x00000000 at pc 0x0800"):
        run_function(compile_m4_object(ir), "get", [0])


def test_write_into_flash() -> None:
    obj = snippet_object(NULL_STORE, name="conv_0")
    with pytest.raises(EmulatorError) as info:
        run_function(obj, "conv_0", [0x0800_0000])
    assert str(info.value) == (
        "memory fault: write to read-only flash address 0x08000000 at pc 0x08000002 (conv_0+0x2: str r1, [r0])"
    )


@pytest.mark.parametrize("mode", MODES)
def test_infinite_loop_hits_the_instruction_limit(mode: CycleMode) -> None:
    obj = snippet_object("movs r0, #0\nloop:\nadds r0, r0, #1\nb loop\n", name="spin")
    with pytest.raises(EmulatorError) as info:
        run_function(obj, "spin", max_instructions=100_000, mode=mode)
    message = str(info.value)
    assert message.startswith("instruction limit of 100,000 reached at pc 0x0800000")
    assert re.search(r"\(spin\+0x[24]: (adds r0, r0, #1|b #0x8000002)\)", message)


def test_undefined_instruction() -> None:
    with pytest.raises(EmulatorError) as info:
        run_function(snippet_object("nop\nudf #3\n"), "snip")
    assert str(info.value) == "usage fault: undefined instruction at pc 0x08000002 (snip+0x2: udf #3)"


def test_breakpoint_is_a_cpu_exception() -> None:
    with pytest.raises(EmulatorError, match=r"^cpu exception BKPT at pc 0x08000000 \(snip: bkpt #1\)$"):
        run_function(snippet_object("bkpt #1\n"), "snip")


@pytest.mark.parametrize("mode", MODES)
def test_jump_to_unmapped_memory_names_the_jump(mode: CycleMode) -> None:
    with pytest.raises(EmulatorError) as info:
        run_function(snippet_object("nop\nbx r0\n"), "snip", [0x3000_0001], mode=mode)
    assert str(info.value) == "memory fault: jump to unmapped address 0x30000000 (jumped from snip+0x2: bx r0)"


def test_jump_without_thumb_bit() -> None:
    with pytest.raises(EmulatorError, match=r"^usage fault: cannot execute at pc 0x08000000 .*ARM state"):
        run_function(snippet_object("nop\nbx r0\n"), "snip", [0x0800_0000])


def test_jump_into_sram() -> None:
    with pytest.raises(EmulatorError, match=r"^memory fault: jump to non-executable address 0x20010000"):
        run_function(snippet_object("nop\nbx r0\n"), "snip", [0x2001_0001])


def test_stack_overflow() -> None:
    obj = snippet_object("f:\npush {r4, r5, r6, r7, lr}\nbl f\n", name="f")
    with pytest.raises(EmulatorError) as info:
        run_function(obj, "f", stack_size=1024)
    assert str(info.value).startswith("stack overflow: the code needs more than 1024 bytes of stack")
    assert "(f: push {r4, r5, r6, r7, lr})" in str(info.value)


def test_missing_symbol() -> None:
    with pytest.raises(EmulatorError, match=r"^no symbol 'nope' in model.o$"):
        Emulator(snippet_object(NULL_STORE)).call("nope")


def test_calling_data() -> None:
    ir = 'target triple = "thumbv7em-none-eabihf"\n@table = global [4 x i32] zeroinitializer\n'
    with pytest.raises(EmulatorError, match=r"^'table' in model.o is data, not a function$"):
        run_function(compile_m4_object(ir), "table")


def test_object_for_another_machine() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    host = llvm.Target.from_default_triple().create_target_machine()
    obj = host.emit_object(llvm.parse_assembly("define i32 @f() { ret i32 0 }"))
    with pytest.raises(LoadError) as info:
        Emulator(obj, name="host.o")
    assert re.fullmatch(
        r"host.o is an object for EM_\w+ \((32|64)-bit\), not 32-bit little-endian ARM; "
        r"compile for thumbv7em-none-eabihf \(cortex-m4\)",
        str(info.value),
    )


def test_not_an_object() -> None:
    with pytest.raises(LoadError, match=r"^model.o is not an ELF object"):
        Emulator(b"\x7fELF but not really")


def test_object_calling_expf_is_refused() -> None:
    ir = """
target triple = "thumbv7em-none-eabihf"
declare float @expf(float)
define float @f(float %x) nounwind {
  %y = call float @expf(float %x)
  ret float %y
}
"""
    with pytest.raises(LoadError) as info:
        Emulator(compile_m4_object(ir))
    assert str(info.value) == "undefined symbol 'expf' in model.o; t2m objects may only call memcpy/memset"


def test_bad_arguments() -> None:
    emulator = Emulator(snippet_object(NULL_STORE, name="conv_0"), sram_size=128 * 1024)
    with pytest.raises(EmulatorError, match=r"^argument 0: expected int, bytes or numpy array, got float$"):
        emulator.call("conv_0", [1.5])  # type: ignore[list-item]
    with pytest.raises(EmulatorError, match=r"^arguments need \d+ bytes of SRAM; raise sram_size$"):
        emulator.call("conv_0", [np.zeros(100_000, np.float32)])
    with pytest.raises(EmulatorError, match=r"does not fit in 32 bits"):
        emulator.call("conv_0", [1 << 32])


def test_emulator_survives_a_fault() -> None:
    """A fault leaves no state behind: the next call on the same emulator runs normally."""
    emulator = Emulator(snippet_object(NULL_STORE, name="conv_0"))
    with pytest.raises(EmulatorError):
        emulator.call("conv_0", [0])
    result = emulator.call("conv_0", [np.zeros(1, np.int32)])
    out = result.outputs[0]
    assert isinstance(out, np.ndarray) and out.tolist() == [7]
    assert (result.cycles, result.instructions) == (1 + 1 + 3, 3)
