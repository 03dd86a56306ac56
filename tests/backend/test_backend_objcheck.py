"""Object inspection, Thumb disassembly and the Cortex-M4 contract checker."""

from __future__ import annotations

import io

import capstone
import pytest
from backend_kernels import dense_relu_ir, dot_i8_ir, exp_ir, random_dense
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from t2m.compiler.backend.errors import BackendError
from t2m.compiler.backend.llvm import compile_object
from t2m.compiler.backend.objcheck import (
    ALLOWED_UNDEFINED,
    check_cortex_m4_object,
    classify_instruction,
    disassemble,
    inspect_object,
)

DENSE = dense_relu_ir(*random_dense(8, 32))


def compile_body(body: str) -> bytes:
    return compile_object(body, opt="O2")


# --- inspection -------------------------------------------------------------------------------------------


def test_inspect_sizes_and_symbols() -> None:
    info = inspect_object(compile_object(DENSE))
    assert info.section_sizes["text"] == sum(size for name, size in info.sections.items() if name == ".text")
    assert info.section_sizes["rodata"] >= 8 * 32 * 4 + 8 * 4
    assert info.flash_bytes == info.section_sizes["text"] + info.section_sizes["rodata"]
    assert {s.name for s in info.defined} == {"dense_run", "dense_run.weights", "dense_run.bias"}
    assert all(not s.name.startswith("$") for s in info.defined)  # mapping symbols are not symbols


def test_disassembly_covers_the_function_and_skips_literal_pools() -> None:
    obj = compile_object(DENSE)
    (function,) = inspect_object(obj).functions
    lines = disassemble(obj)
    assert lines and {line.function for line in lines} == {"dense_run"}
    assert lines[0].address == 0 and str(lines[0]).startswith("dense_run+0x0: ")
    # LLVM marks the literal pool with a $d mapping symbol; decoding its words would invent instructions.
    symbols = ELFFile(io.BytesIO(obj)).get_section_by_name(".symtab")
    assert isinstance(symbols, SymbolTableSection)
    pools = [s["st_value"] for s in symbols.iter_symbols() if s.name.startswith("$d")]
    assert pools, "expected a literal pool (float constants are loaded with vldr from one)"
    assert all(line.address < min(pools) for line in lines)
    assert lines[-1].address + 4 >= min(pools) and min(pools) < function.size


def test_int8_loops_use_the_dsp_multiply_accumulate() -> None:
    obj = compile_object(dot_i8_ir(64))
    mnemonics = [line.mnemonic for line in disassemble(obj)]
    assert any(m.startswith("smla") for m in mnemonics), mnemonics
    assert check_cortex_m4_object(obj) == []


def test_rejects_non_elf_input() -> None:
    with pytest.raises(BackendError, match="^not a readable ELF object"):
        inspect_object(b"not an object at all")


# --- instruction classes, decoded by capstone from real encodings -----------------------------------------

ENCODINGS = [
    ("02ef440d", "vadd.f32", "NEON instruction"),  # q registers
    ("20f98f0a", "vld1.32", "NEON instruction"),
    ("01ef020d", "vadd.f32", "NEON instruction"),  # vector arithmetic on d registers
    ("80ef1000", "vmov.i32", "NEON instruction"),
    ("11ef1209", "vmul.i16", "NEON instruction"),
    ("31ee020b", "vadd.f64", "double-precision instruction (FPv4-SP has no double unit)"),
    ("80fe810a", "vmaxnm.f32", "ARMv8 FP instruction (undefined on FPv4-SP)"),
    ("2ded048b", "vpush", None),
    ("51ec100b", "vmov", None),  # vmov r0, r1, d0
    ("00ee810a", "vmla.f32", None),
    ("bdeec00a", "vcvt.s32.f32", None),
    ("21fb0230", "smlad", None),
]


@pytest.mark.parametrize(("encoding", "mnemonic", "reason"), ENCODINGS, ids=[e[0] for e in ENCODINGS])
def test_instruction_classes(encoding: str, mnemonic: str, reason: str | None) -> None:
    decoder = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    (instruction,) = decoder.disasm(bytes.fromhex(encoding), 0)
    assert instruction.mnemonic == mnemonic
    assert classify_instruction(instruction.mnemonic, instruction.op_str) == reason


def test_registers_beyond_d15_do_not_exist() -> None:
    assert classify_instruction("vldr", "d16, [r0]") == "register d16-d31 (FPv4-SP-D16 has d0-d15 only)"
    assert classify_instruction("vldr", "d15, [r0]") is None


def test_undecodable_code_is_reported() -> None:
    obj = bytearray(compile_object(DENSE))
    text = ELFFile(io.BytesIO(bytes(obj))).get_section_by_name(".text")
    assert text is not None
    obj[text["sh_offset"] : text["sh_offset"] + 4] = b"\xff\xff\xff\xff"  # no Thumb-2 encoding
    assert [line.mnemonic for line in disassemble(bytes(obj))[:2]] == [".byte", ".byte"]
    problems = check_cortex_m4_object(bytes(obj))
    assert problems[0] == "bytes that are no M-profile Thumb instruction: dense_run+0x0: .byte 0xff, 0xff"


def test_conditional_forms_are_not_mistaken_for_armv8() -> None:
    assert classify_instruction("vmovgt.f32", "s12, s8") is None
    assert classify_instruction("vcvtmi.s32.f32", "s0, s0") is None  # VCVT in an IT block, not VCVTM
    assert classify_instruction("vcvtm.s32.f32", "s0, s0") is not None
    assert classify_instruction("vldmia", "r0!, {d0, d1, d2}") is None


# --- the contract -----------------------------------------------------------------------------------------


def test_expf_libcall_is_a_violation() -> None:
    obj = compile_object(exp_ir(8))
    assert "expf" in inspect_object(obj).undefined
    problems = check_cortex_m4_object(obj)
    assert len(problems) == 1 and problems[0].startswith("float library call 'expf': ")


def test_double_precision_becomes_a_runtime_call_violation() -> None:
    square = """
define i32 @square(ptr %p) {
  %x = load double, ptr %p, align 8
  %y = fmul double %x, %x
  store double %y, ptr %p, align 8
  ret i32 0
}
"""
    (problem,) = check_cortex_m4_object(compile_body(square))
    assert problem.startswith("float library call '__") and "df3" in problem


def test_foreign_symbol_is_a_violation_but_memset_is_not() -> None:
    calls_out = """
declare void @helper(ptr)
define i32 @run(ptr %p) {
  call void @helper(ptr %p)
  ret i32 0
}
"""
    assert check_cortex_m4_object(compile_body(calls_out)) == [
        "undefined symbol 'helper': only memcpy/memmove/memset and __aeabi_mem* may be"
    ]
    zero_fill = """
define i32 @zero(ptr %p) {
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %next, %loop ]
  %q = getelementptr inbounds float, ptr %p, i32 %i
  store float 0.0, ptr %q, align 4
  %next = add i32 %i, 1
  %done = icmp eq i32 %next, 1000
  br i1 %done, label %exit, label %loop
exit:
  ret i32 0
}
"""
    obj = compile_body(zero_fill)
    undefined = inspect_object(obj).undefined
    assert undefined and set(undefined) <= ALLOWED_UNDEFINED  # LLVM did turn the loop into a mem* call
    assert check_cortex_m4_object(obj) == []


def test_host_object_fails_the_first_check() -> None:
    problems = check_cortex_m4_object(compile_object(DENSE, target="host"))
    assert len(problems) == 1 and problems[0].startswith("not an ELF32 ARM object (ELF")
