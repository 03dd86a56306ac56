"""Targets, optimisation levels, IR errors and Cortex-M4 code generation through llvmlite."""

from __future__ import annotations

import dataclasses

import pytest
from backend_kernels import CORTEX_M4_HEADER, dense_relu_ir, random_dense

from t2m.compiler.backend.armattrs import (
    TAG_ABI_VFP_ARGS,
    TAG_CPU_ARCH,
    TAG_CPU_ARCH_V7EM,
    TAG_FP_ARCH,
    TAG_THUMB_ISA_USE,
    read_arm_attributes,
)
from t2m.compiler.backend.errors import BackendError
from t2m.compiler.backend.llvm import OPT_LEVELS, compile_asm, compile_object, get_opt_level, optimize
from t2m.compiler.backend.objcheck import check_cortex_m4_object, disassemble, inspect_object
from t2m.compiler.backend.target import TARGET_NAMES, get_target

WEIGHTS, BIAS = random_dense(16, 64)
DENSE = dense_relu_ir(WEIGHTS, BIAS)
UNMARKED_M4 = dataclasses.replace(get_target("cortex-m4"), mark_hard_float=False)


@pytest.fixture(scope="module")
def dense_object() -> bytes:
    return compile_object(DENSE)


# --- targets and levels -----------------------------------------------------------------------------------


def test_cortex_m4_target_description() -> None:
    m4 = get_target("cortex-m4")
    assert (m4.triple, m4.cpu) == ("thumbv7em-none-eabihf", "cortex-m4")
    assert (m4.reloc, m4.code_model) == ("static", "small")
    assert m4.features == "+thumb-mode,+dsp,+vfp4d16sp,-fp64,-d32,-neon"
    assert "fp-armv8" not in m4.features
    assert TARGET_NAMES == ("cortex-m4", "host")


def test_host_target_is_this_process() -> None:
    host = get_target("host")
    assert host.jit and host.triple and host.cpu
    assert get_target("host") is host  # computed once


def test_unknown_target_message() -> None:
    with pytest.raises(BackendError) as caught:
        get_target("cortex-m7")
    assert str(caught.value) == "unknown target 'cortex-m7', at --target; choose one of: cortex-m4, host"


def test_unknown_target_through_compile_object() -> None:
    with pytest.raises(BackendError, match=r"^unknown target 'riscv32', at --target; choose one of: "):
        compile_object(DENSE, target="riscv32")


def test_opt_level_names() -> None:
    assert list(OPT_LEVELS) == ["O0", "O1", "O2", "O3", "Os", "Oz"]
    assert get_opt_level("3") is OPT_LEVELS["O3"] and get_opt_level("z") is OPT_LEVELS["Oz"]
    with pytest.raises(BackendError) as caught:
        get_opt_level("O4")
    expected = "unknown optimisation level 'O4', at -O; choose one of: O0, O1, O2, O3, Os, Oz"
    assert str(caught.value) == expected


# --- invalid IR -------------------------------------------------------------------------------------------


def test_parse_error_is_one_line_with_location() -> None:
    with pytest.raises(BackendError) as caught:
        compile_object("define i32 @f() {\n  ret i64 0\n}\n")
    assert str(caught.value) == "invalid LLVM IR: value doesn't match function result type 'i32', at line 2:7"


def test_verifier_error_is_one_line() -> None:
    not_dominating = """
define i32 @f(i32 %a) {
entry:
  br label %use
use:
  ret i32 %x
late:
  %x = add i32 %a, 1
  br label %use
}
"""
    with pytest.raises(BackendError) as caught:
        compile_object(not_dominating)
    assert str(caught.value) == "invalid LLVM IR: Instruction does not dominate all uses!"


# --- code generation --------------------------------------------------------------------------------------


def test_object_is_thumb_v7em_elf32_arm(dense_object: bytes) -> None:
    info = inspect_object(dense_object)
    assert (info.elf_class, info.machine) == (32, "EM_ARM")
    (function,) = info.functions
    assert function.name == "dense_run" and function.value & 1 == 1  # Thumb bit set
    assert info.attributes[TAG_CPU_ARCH] == TAG_CPU_ARCH_V7EM
    assert info.attributes[TAG_THUMB_ISA_USE] == 2  # Thumb-2
    assert info.attributes[TAG_FP_ARCH] == 6  # VFPv4-D16, nothing ARMv8
    assert info.undefined == ()


def test_weights_live_in_rodata(dense_object: bytes) -> None:
    info = inspect_object(dense_object)
    symbols = {symbol.name: symbol for symbol in info.defined}
    weights = symbols["dense_run.weights"]
    assert weights.section is not None and weights.section.startswith(".rodata")
    assert weights.size == WEIGHTS.nbytes
    assert info.section_sizes["rodata"] >= WEIGHTS.nbytes + BIAS.nbytes
    assert info.section_sizes["data"] == info.section_sizes["bss"] == 0


def test_object_is_marked_hard_float_only_by_the_patch(dense_object: bytes) -> None:
    assert TAG_ABI_VFP_ARGS not in read_arm_attributes(compile_object(DENSE, target=UNMARKED_M4))
    assert read_arm_attributes(dense_object)[TAG_ABI_VFP_ARGS] == 1


def test_object_passes_the_cortex_m4_checks(dense_object: bytes) -> None:
    assert check_cortex_m4_object(dense_object) == []
    mnemonics = {instruction.mnemonic for instruction in disassemble(dense_object)}
    assert {"vldr", "vmul.f32", "vadd.f32"} <= mnemonics  # scalar FPv4-SP arithmetic, no vector forms


def test_ir_written_for_the_m4_compiles_unchanged() -> None:
    assert check_cortex_m4_object(compile_object(CORTEX_M4_HEADER + DENSE)) == []


@pytest.mark.parametrize("level", list(OPT_LEVELS))
def test_every_level_gives_a_valid_m4_object(level: str) -> None:
    obj = compile_object(DENSE, opt=level)
    assert check_cortex_m4_object(obj) == []
    assert inspect_object(obj).section_sizes["text"] > 0


def test_size_levels_shrink_code() -> None:
    text = {
        level: inspect_object(compile_object(DENSE, opt=level)).section_sizes["text"] for level in OPT_LEVELS
    }
    assert text["Oz"] <= text["Os"] < text["O2"]
    assert "minsize" in str(optimize(DENSE, "cortex-m4", "Oz"))
    assert "optsize" in str(optimize(DENSE, "cortex-m4", "Os"))
    assert "optsize" not in str(optimize(DENSE, "cortex-m4", "O3"))


def test_optimize_retargets_the_module() -> None:
    module = optimize(DENSE, "cortex-m4", "O2")
    assert module.triple == "thumbv7em-none-eabihf"
    assert module.data_layout.startswith("e-m:e-p:32:32")


def test_o0_object_needs_no_unwinder() -> None:
    """At -O0 LLVM would reference __aeabi_unwind_cpp_pr0 unless functions are nounwind."""
    assert inspect_object(compile_object(DENSE, opt="O0")).undefined == ()


def test_assembly_matches_the_object_contract() -> None:
    asm = compile_asm(DENSE)
    assert ".eabi_attribute\t28, 1" in asm
    assert ".cpu\tcortex-m4" in asm and ".fpu\tfpv4-sp-d16" in asm
    assert "dense_run:" in asm and "vmul.f32" in asm


def test_host_object_is_native() -> None:
    info = inspect_object(compile_object(DENSE, target="host"))
    assert info.machine != "EM_ARM" and [f.name for f in info.functions] == ["dense_run"]
    assert TAG_ABI_VFP_ARGS not in info.attributes  # only ARM objects are marked
