"""The arm_dsp ops: their Armv7-M meaning (dialects/arm_dsp.py), and the same bits from xDSL's interpreter, the host
JIT (portable definitions, compiler/backend/dsp_host.py) and the Cortex-M4 object on the emulator (real SMLAD...)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from capstone import CS_ARCH_ARM, CS_MODE_MCLASS, CS_MODE_THUMB, Cs
from elftools.elf.elffile import ELFFile
from xdsl.interpreter import Interpreter
from xdsl.interpreters.arith import ArithFunctions
from xdsl.interpreters.func import FuncFunctions

from t2m.compiler.backend import HostJIT, compile_object
from t2m.compiler.backend.emit_llvm import to_llvm_ir
from t2m.compiler.emulator import run_function
from t2m.compiler.interpreter_dsp import ArmDspFunctions
from t2m.compiler.ir import parse_module
from t2m.compiler.pipeline import LOWER_TO_LLVM, apply_passes
from t2m.dialects import arm_dsp as dsp

# (op text, Python semantics of (a, b, c)): every op and immediate form the kernels can use.
OPS = [
    ("arm_dsp.smlad %a, %b, %c", lambda a, b, c: dsp.smlad(a, b, c)),
    ("arm_dsp.smladx %a, %b, %c", lambda a, b, c: dsp.smlad(a, b, c, exchange=True)),
    ("arm_dsp.smlabb %a, %b, %c", lambda a, b, c: dsp.smlabb(a, b, c)),
    ("arm_dsp.smuad %a, %b", lambda a, b, c: dsp.smuad(a, b)),
    ("arm_dsp.qadd8 %a, %b", lambda a, b, c: dsp.qadd8(a, b)),
    ("arm_dsp.qsub8 %a, %b", lambda a, b, c: dsp.qsub8(a, b)),
    ("arm_dsp.smax8 %a, %b", lambda a, b, c: dsp.smax8(a, b)),
    *[(f"arm_dsp.sxtb16 %a {{rotate = {r} : i32}}", lambda a, b, c, r=r: dsp.sxtb16(a, r)) for r in (0, 8, 16, 24)],
    *[(f"arm_dsp.sxtab16 %a, %b {{rotate = {r} : i32}}", lambda a, b, c, r=r: dsp.sxtab16(a, b, r)) for r in (0, 8)],
    ("arm_dsp.pkhbt %a, %b {shift = 16 : i32}", lambda a, b, c: dsp.pkhbt(a, b, 16)),
    ("arm_dsp.pkhbt %a, %b {shift = 0 : i32}", lambda a, b, c: dsp.pkhbt(a, b, 0)),
    ("arm_dsp.pkhtb %a, %b {shift = 16 : i32}", lambda a, b, c: dsp.pkhtb(a, b, 16)),
    ("arm_dsp.ssat %a {bits = 8 : i32}", lambda a, b, c: dsp.ssat(a, 8)),
    ("arm_dsp.ssat %a {bits = 16 : i32}", lambda a, b, c: dsp.ssat(a, 16)),
    ("arm_dsp.usat %a {bits = 8 : i32}", lambda a, b, c: dsp.usat(a, 8)),
    ("arm_dsp.ssat16 %a {bits = 8 : i32}", lambda a, b, c: dsp.ssat16(a, 8)),
]
N = 64  # register triples per run


def test_semantics_by_hand() -> None:
    """Cases worked out from the Armv7-M Architecture Reference Manual's pseudocode."""
    assert dsp.smlad(0x0002_0003, 0x0004_0005, 10) == 10 + 2 * 4 + 3 * 5
    assert dsp.smlad(0xFFFF_8000, 0x7FFF_8000, 0) == dsp.u32(-1 * 0x7FFF + -32768 * -32768)
    assert dsp.smlad(0x0002_0003, 0x0004_0005, 0, exchange=True) == 2 * 5 + 3 * 4
    assert dsp.sxtb16(0x80FF_7F01) == 0xFFFF_0001  # bytes 0 and 2: 0x01, 0xFF -> 1, -1
    assert dsp.sxtb16(0x80FF_7F01, 8) == 0xFF80_007F  # bytes 1 and 3: 0x7F, 0x80
    assert dsp.sxtab16(0x0001_7FFF, 0x0000_0001) == 0x0001_8000  # halfwords wrap
    assert dsp.pkhbt(0x1111_2222, 0x3333_4444, 16) == 0x4444_2222
    assert dsp.pkhtb(0x1111_2222, 0x8000_0000, 16) == 0x1111_8000
    assert dsp.ssat(dsp.u32(-300), 8) == dsp.u32(-128) and dsp.ssat(300, 8) == 127
    assert dsp.usat(dsp.u32(-5), 8) == 0 and dsp.usat(300, 8) == 255
    assert dsp.qadd8(0x7F80_0102, 0x0180_0101) == 0x7F80_0203
    assert dsp.qsub8(0x8000_0000, 0x0100_0000) == 0x8000_0000
    assert dsp.smax8(0x80FF_7F00, 0x0001_0180) == 0x0001_7F00
    assert dsp.ssat16(0x7FFF_8000, 8) == 0x007F_FF80


def _kernel() -> str:
    """`dsp_run(in: N x 3 registers, out: N x len(OPS) results)`: every op on every triple."""
    body = "\n".join(f"      %r{k} = {text}\n      memref.store %r{k}, %out[%i, %k{k}] : memref<{N}x{len(OPS)}xi32>"
                     for k, (text, _) in enumerate(OPS))
    consts = "\n".join(f"    %k{k} = arith.constant {k} : index" for k in range(len(OPS)))
    return f"""
func.func @dsp_run(%in: memref<{N}x3xi32>, %out: memref<{N}x{len(OPS)}xi32>) -> i32 {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %cn = arith.constant {N} : index
{consts}
  scf.for %i = %c0 to %cn step %c1 {{
      %a = memref.load %in[%i, %c0] : memref<{N}x3xi32>
      %b = memref.load %in[%i, %c1] : memref<{N}x3xi32>
      %c = memref.load %in[%i, %c2] : memref<{N}x3xi32>
{body}
  }}
  %ok = arith.constant 0 : i32
  func.return %ok : i32
}}
"""


@pytest.fixture(scope="module")
def registers() -> np.ndarray:
    rng = np.random.default_rng(7)
    edges = np.array([0, 1, -1, 0x7FFFFFFF, -(2**31), 0x00800080, 0x7F7F7F7F, -0x7F7F7F80, 0x8000_7FFF], np.int64)
    values = np.concatenate([edges, rng.integers(-(2**31), 2**31, 3 * N - len(edges))])
    return values.astype(np.int32).reshape(N, 3)


def _expected(registers: np.ndarray) -> np.ndarray:
    out = np.zeros((N, len(OPS)), np.uint32)
    for i in range(N):
        a, b, c = (dsp.u32(int(v)) for v in registers[i])
        out[i] = [semantics(a, b, c) for _, semantics in OPS]
    return out.view(np.int32)


def test_interpreter_gives_the_semantics(registers: np.ndarray) -> None:
    """xDSL's interpreter with t2m's arm_dsp functions (the loop-level rung of the ladder)."""
    for i in range(4):
        a, b, c = (int(v) for v in registers[i])
        for text, semantics in OPS:
            single = parse_module(
                f"func.func @one(%a: i32, %b: i32, %c: i32) -> i32 {{\n  %r = {text}\n  func.return %r : i32\n}}"
            )
            one = Interpreter(single)
            for functions in (FuncFunctions(), ArithFunctions(), ArmDspFunctions()):
                one.register_implementations(functions)
            (got,) = one.call_op("one", (a, b, c))
            assert dsp.u32(got) == semantics(dsp.u32(a), dsp.u32(b), dsp.u32(c)), (text, i)


@pytest.fixture(scope="module")
def lowered() -> str:
    module = parse_module(_kernel())
    apply_passes(module, ["convert-scf-to-cf", *LOWER_TO_LLVM])
    return to_llvm_ir(module)


def test_host_jit_gives_the_semantics(lowered: str, registers: np.ndarray) -> None:
    out = np.zeros((N, len(OPS)), np.int32)
    assert HostJIT(lowered).run("dsp_run", [registers], [out]) == 0
    want = _expected(registers)
    for k, (text, _) in enumerate(OPS):
        assert np.array_equal(out[:, k], want[:, k]), text


def test_cortex_m4_object_gives_the_semantics_with_dsp_instructions(lowered: str, registers: np.ndarray) -> None:
    obj = compile_object(lowered, "cortex-m4", "O2")
    out = np.zeros((N, len(OPS)), np.int32)
    result = run_function(obj, "dsp_run", [registers.copy(), out])
    got = np.frombuffer(bytes(result.outputs[1]), np.int32).reshape(N, len(OPS))  # type: ignore[arg-type]
    want = _expected(registers)
    for k, (text, _) in enumerate(OPS):
        assert np.array_equal(got[:, k], want[:, k]), text
    code = b"".join(s.data() for s in ELFFile(io.BytesIO(obj)).iter_sections() if s.name.startswith(".text"))
    mnemonics = {i.mnemonic for i in Cs(CS_ARCH_ARM, CS_MODE_THUMB + CS_MODE_MCLASS).disasm(code, 0)}
    for instruction in ("smlad", "smladx", "smlabb", "smuad", "qadd8", "qsub8", "ssub8", "sel", "sxtb16",
                        "sxtab16", "pkhbt", "pkhtb", "ssat", "usat", "ssat16"):
        assert instruction in mnemonics, instruction
