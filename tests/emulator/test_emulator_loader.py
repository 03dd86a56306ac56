"""The loader: relocation encodings (checked with capstone), layout of sections, runtime linking."""

from __future__ import annotations

import io
import shutil
import subprocess

import capstone
import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection
from emu_helpers import snippet_object
from m4asm import assemble

from t2m.compiler.emulator import FLASH_BASE, SRAM_BASE, Emulator, LoadError, compile_m4_object
from t2m.compiler.emulator import relocations as rel

PLACE = 0x0800_1000
_MD = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)


def _disasm(code: bytes, address: int = PLACE) -> str:
    ins = next(_MD.disasm(code, address))
    return f"{ins.mnemonic} {ins.op_str}"


def _halfwords(*hws: int) -> bytearray:
    return bytearray(b"".join(h.to_bytes(2, "little") for h in hws))


BRANCHES = {
    # type: (instruction with the usual REL addend of -4, mnemonic, range in bytes)
    rel.R_ARM_THM_CALL: (_halfwords(0xF7FF, 0xFFFE), "bl", 1 << 24),
    rel.R_ARM_THM_JUMP24: (_halfwords(0xF7FF, 0xBFFE), "b.w", 1 << 24),
    rel.R_ARM_THM_JUMP19: (_halfwords(0xF43F, 0xAFFE), "beq.w", 1 << 20),
}


@pytest.mark.parametrize("rtype", list(BRANCHES))
@pytest.mark.parametrize("distance", [4, -4, 0x1234, -0x5678, 0xFFFF0, -0xFFFF0])
def test_branch_relocations(rtype: int, distance: int) -> None:
    template, mnemonic, _ = BRANCHES[rtype]
    buf = bytearray(template)
    assert _disasm(bytes(buf)) == f"{mnemonic} #{PLACE:#x}"  # the addend: target = place
    target = PLACE + 4 + distance
    rel.apply(buf, 0, rtype, target | 1, PLACE, None)
    assert _disasm(bytes(buf)) == f"{mnemonic} #{target:#x}"


@pytest.mark.parametrize("rtype", list(BRANCHES))
def test_branch_out_of_range(rtype: int) -> None:
    template, _, reach = BRANCHES[rtype]
    with pytest.raises(LoadError, match="out of range"):
        rel.apply(bytearray(template), 0, rtype, (PLACE + reach + 8) | 1, PLACE, None)


def test_short_branch_relocations() -> None:
    b16 = _halfwords(0xE7FE)  # b . (addend -4)
    rel.apply(b16, 0, rel.R_ARM_THM_JUMP11, (PLACE + 0x200) | 1, PLACE, None)
    assert _disasm(bytes(b16)) == f"b #{PLACE + 0x200:#x}"
    beq16 = _halfwords(0xD0FE)  # beq . (addend -4)
    rel.apply(beq16, 0, rel.R_ARM_THM_JUMP8, (PLACE - 0x40) | 1, PLACE, None)
    assert _disasm(bytes(beq16)) == f"beq #{PLACE - 0x40:#x}"


def test_movw_movt_relocations_with_addend() -> None:
    code = _halfwords(0xF240, 0x0008, 0xF2C0, 0x0008)  # movw r0, #8; movt r0, #8: addend 8 in both
    rel.apply(code, 0, rel.R_ARM_THM_MOVW_ABS_NC, 0x2001_FFF8, PLACE, None)
    rel.apply(code, 4, rel.R_ARM_THM_MOVT_ABS, 0x2001_FFF8, PLACE + 4, None)
    assert _disasm(bytes(code[:4])) == "movw r0, #0"
    assert _disasm(bytes(code[4:]), PLACE + 4) == "movt r0, #0x2002"


def test_word_relocations() -> None:
    buf = bytearray((12).to_bytes(4, "little") + (0).to_bytes(4, "little"))
    rel.apply(buf, 0, rel.R_ARM_ABS32, 0x0800_0101, PLACE, None)  # a Thumb function pointer + 12
    rel.apply(buf, 4, rel.R_ARM_REL32, 0x0800_0000, PLACE + 4, None)
    assert int.from_bytes(buf[:4], "little") == 0x0800_010D
    assert int.from_bytes(buf[4:], "little") == (0x0800_0000 - (PLACE + 4)) & 0xFFFF_FFFF


def test_unsupported_relocation_is_named() -> None:
    with pytest.raises(LoadError, match="unsupported relocation R_ARM_THM_PC8"):
        rel.apply(bytearray(4), 0, 11, 0, PLACE, None)


DATA_IR = """
target triple = "thumbv7em-none-eabihf"
@counter = global i32 41, align 4
@zeros = global [64 x i32] zeroinitializer, align 4
@shared = common global i32 0, align 4
@message = internal constant [6 x i8] c"hello\\00", align 1

define i32 @bump(i32 %i) nounwind {
  %v = load i32, ptr @counter
  %v1 = add i32 %v, 1
  store i32 %v1, ptr @counter
  %z = getelementptr [64 x i32], ptr @zeros, i32 0, i32 63
  %zv = load i32, ptr %z
  store i32 5, ptr %z
  %s = load i32, ptr @shared
  store i32 9, ptr @shared
  %sum = add i32 %v1, %zv
  %sum2 = add i32 %sum, %s
  %cp = getelementptr [6 x i8], ptr @message, i32 0, i32 %i
  %c = load i8, ptr %cp
  %cz = zext i8 %c to i32
  %r = add i32 %sum2, %cz
  ret i32 %r
}
"""


def test_sections_are_placed_and_memory_is_reset_between_calls() -> None:
    obj = compile_m4_object(DATA_IR)
    assert ("shared", "SHN_COMMON") in _symbols(obj)  # a COMMON symbol, allocated by the loader
    emulator = Emulator(obj, stack_size=8 * 1024)
    image = emulator.image
    bump, counter, zeros = emulator.symbol("bump"), emulator.symbol("counter"), emulator.symbol("zeros")
    assert bump.is_code and bump.thumb and FLASH_BASE <= bump.address < FLASH_BASE + len(image.flash)
    assert not counter.is_code and counter.address >= SRAM_BASE + 8 * 1024  # .data after the stack
    assert zeros.address >= SRAM_BASE + 8 * 1024 and zeros.size == 256
    assert emulator.symbol("message").address < SRAM_BASE  # read-only data in flash
    expected = 42 + 0 + 0 + ord("h")
    assert emulator.call("bump", [0]).value == expected
    assert emulator.call("bump", [0]).value == expected  # .data and .bss are re-initialised for every call


def test_model_definitions_take_precedence_over_the_runtime() -> None:
    ir = """
target triple = "thumbv7em-none-eabihf"
define ptr @memset(ptr %d, i32 %c, i32 %n) nounwind "no-builtins" {
  store i8 77, ptr %d
  ret ptr %d
}
declare ptr @memcpy(ptr, ptr, i32)
define i32 @run(ptr %buf) nounwind {
  %r = call ptr @memset(ptr %buf, i32 0, i32 8)
  %src = getelementptr i8, ptr %buf, i32 4
  %r2 = call ptr @memcpy(ptr %src, ptr %buf, i32 1)
  %p = getelementptr i8, ptr %buf, i32 4
  %v = load i8, ptr %p
  %v32 = zext i8 %v to i32
  ret i32 %v32
}
"""
    emulator = Emulator(compile_m4_object(ir))
    result = emulator.call("run", [bytes(8)])
    assert result.value == 77  # the model's memset, the runtime's memcpy
    assert {"run", "memset", "memcpy"} <= set(result.functions)


def test_unwind_tables_are_skipped() -> None:
    """LLVM references __aeabi_unwind_cpp_pr0 from .ARM.exidx; that is not a call and must not fail."""
    ir = """
target triple = "thumbv7em-none-eabihf"
declare void @g()
define void @f() {
  call void @f2()
  ret void
}
define void @f2() noinline {
  ret void
}
"""
    obj = compile_m4_object(ir, opt=0)
    assert ("__aeabi_unwind_cpp_pr0", "SHN_UNDEF") in _symbols(obj)
    assert Emulator(obj).call("f").instructions > 0


def _symbols(obj: bytes) -> set[tuple[str, object]]:
    symtab = ELFFile(io.BytesIO(obj)).get_section_by_name(".symtab")
    assert isinstance(symtab, SymbolTableSection)
    return {(sym.name, sym["st_shndx"]) for sym in symtab.iter_symbols()}


@pytest.mark.skipif(shutil.which("llvm-mc") is None, reason="llvm-mc not installed")
def test_m4asm_matches_llvm_mc() -> None:
    """The test assembler's encodings are the ones LLVM's own assembler picks."""
    source = """
        push {r4, lr}
        ldr r1, [r0, #4]
        ldrd r2, r3, [r0, #8]
        ldr.w pc, [r0, #4]
        pop.w {r4, r5, r6, r7, r8, pc}
        cmp r0, #0
        ite eq
        moveq r1, #1
        movne r1, #2
        mla r0, r1, r2, r3
        smlad r0, r1, r2, r3
        sdiv r0, r1, r2
        vmla.f32 s0, s1, s2
        vfnma.f32 s3, s17, s30
        vdiv.f32 s0, s1, s2
        vsqrt.f32 s0, s1
        vldr s0, [r0, #4]
        vstr s5, [r0]
        vmov r0, s0
        ldm r0!, {r1, r2, r3}
        subs r1, #1
        adds r1, r2, r3
        bx lr
    """
    code, _ = assemble(source)
    text = ".syntax unified\n.thumb\n" + "\n".join(line.strip() for line in source.splitlines())
    out = subprocess.run(
        ["llvm-mc", "-triple", "thumbv7em-none-eabihf", "-mcpu=cortex-m4", "-mattr=+vfp4d16sp", "-show-encoding"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    encodings = [line.split("encoding: [")[1].rstrip("]") for line in out.splitlines() if "encoding:" in line]
    reference = bytes(int(b, 16) for enc in encodings for b in enc.split(","))
    assert code == reference


def test_snippet_objects_load_at_flash_base() -> None:
    emulator = Emulator(snippet_object("bx lr\n", name="first"))
    assert emulator.symbol("first").address == FLASH_BASE
