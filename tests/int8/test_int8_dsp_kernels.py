"""The int8 MAC kernels on the Cortex-M4 use the DSP extension: every inner loop that multiplies, in the compiled
object, multiplies with SMLAD (two 16x16 MACs per instruction), never with SMLABB/MLA (one MAC). Checked on the
disassembled layer functions of one module holding each kind (general conv, 1x1, depthwise, linear), whose
outputs are also bit-exact against the integer reference (docs/int8.md)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from capstone import CS_ARCH_ARM, CS_MODE_MCLASS, CS_MODE_THUMB, Cs
from capstone.arm import ARM_OP_IMM
from elftools.elf.elffile import ELFFile
from qnn_models import (
    Builder,
    Case,
    emulated_outputs,
    first_difference,
    jit_outputs,
    loop_outputs,
    module_of,
    random_inputs,
    reference,
)
from xdsl.ir import SSAValue

from t2m.compiler.compile import CompileOptions, compile_module
from t2m.dialects import qnn
from t2m.passes._int8 import accumulator_bound, fits, folds_zero_point

MULTIPLIES = ("mul", "mla", "mls", "smla", "smul", "smua", "smmul", "smmla")
"""Mnemonic prefixes of the M4's multiplies (requantization uses SMMULR/SMULL: a multiply, but not a MAC)."""


BRANCHES = {"b", "cbz", "cbnz", *(f"b{c}" for c in ("eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge",
                                                   "lt", "gt", "le"))}


def _conv(name: str, c_in: int, c_out: int, k: int, groups: int, hw: int, seed: int) -> Case:
    rng = np.random.default_rng(seed)
    weight = rng.integers(-127, 128, (c_out, c_in // groups, k, k)).astype(np.int8)
    bias = rng.integers(-2000, 2000, c_out).astype(np.int32)
    requant = qnn.RequantAttr.from_scales([0.05 * 0.01 / 0.2] * c_out, -3)
    pad = k // 2

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        op = qnn.Conv2dOp(xs[0], b.const(weight), b.const(bias), (1, 1), (pad,) * 4, (1, 1), groups, 5, requant)
        return [b.op(op)]

    return Case(name, [((1, c_in, hw, hw), (0.05, 5))], body)


def _linear(name: str, n_in: int, n_out: int, seed: int) -> Case:
    rng = np.random.default_rng(seed)
    weight = rng.integers(-127, 128, (n_out, n_in)).astype(np.int8)
    requant = qnn.RequantAttr.from_scales([0.05 * 0.01 / 0.5], 2)

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        return [b.op(qnn.LinearOp(xs[0], b.const(weight), None, -7, requant))]

    return Case(name, [((1, n_in), (0.05, -7))], body)


def _inner_loops(code: bytes) -> list[list[str]]:
    """The mnemonics of each innermost loop: a backward branch's range holding no other backward branch."""
    instructions = list(Cs(CS_ARCH_ARM, CS_MODE_THUMB + CS_MODE_MCLASS).disasm(code, 0))
    md = Cs(CS_ARCH_ARM, CS_MODE_THUMB + CS_MODE_MCLASS)
    md.detail = True
    loops = []
    for i in md.disasm(code, 0):
        if i.mnemonic.split(".")[0] in BRANCHES:
            targets = [op.imm for op in i.operands if op.type == ARM_OP_IMM]
            if targets and targets[-1] < i.address:
                loops.append((targets[-1], i.address))
    inner = [(a, b) for a, b in loops if not any(a <= c and d <= b and (c, d) != (a, b) for c, d in loops)]
    return [[i.mnemonic for i in instructions if a <= i.address <= b] for a, b in inner]


def test_inner_loops_of_every_mac_kernel_use_smlad_not_smlabb() -> None:
    cases = [_conv("conv", 4, 8, 3, 1, 9, 1), _conv("pointwise", 8, 8, 1, 1, 7, 2),
             _conv("depthwise", 8, 8, 3, 8, 9, 3), _linear("linear", 96, 10, 4)]
    module = module_of(cases, "macs")
    result = compile_module(module, "macs", CompileOptions(run=False), stop_at="obj")
    elf = ELFFile(io.BytesIO(result.obj))
    sections = {s.name: s.data() for s in elf.iter_sections() if s.name.startswith(".text.macs_L")}
    assert len(sections) == 4, sorted(sections)
    for name, code in sections.items():
        loops = _inner_loops(code)
        # The MAC loops hold SMLAD/SMUAD; other inner loops (packing a window column with PKHBT) may use MUL/MLA
        # for addresses, but no loop may multiply data the scalar way (SMLABB family).
        assert any(m in ("smlad", "smuad") for loop in loops for m in loop), f"{name}: no inner loop uses SMLAD"
        for loop in loops:
            assert not any(m.startswith(("smlabb", "smlabt", "smlatb", "smlatt", "smulbb")) for m in loop), (name, loop)
            if any(m in ("smlad", "smuad") for m in loop):
                assert not any(m.split(".")[0] == "mla" for m in loop), (name, loop)
    inputs = random_inputs(module, 0)
    assert first_difference(emulated_outputs(result.obj, inputs), reference(module, inputs)) is None


EDGES = [(2.0 ** -20, -128, 40, 1, True), (2.0 ** -23.5, 127, 8, -1, True), (2.0 ** -20, 0, 20, 1, True),
         (2.0 ** -24.5, 127, 4, 1, False)]


@pytest.mark.parametrize(("scale", "zp", "spacing", "side", "folds"), EDGES)
def test_fast_requantization_at_the_zero_point_fold_limit(scale: float, zp: int, spacing: int, side: int,
                                                          folds: bool) -> None:
    """Per-channel fast requantization with right shifts of 20 to 24: the output zero point rides in the nudge
    (a [channels, 3] table) while |zp| * 2^right cannot overflow, and not beyond; both bit-exact on the loop
    interpreter, the host JIT and the emulator. The biases put channel c's outputs about `side * spacing * c`
    from the zero point, as large as the fast form's bound allows (the inputs move the rounding). The last case
    saturates at 127: there, 127 * 2^24 in the nudge would wrap to negative values (-128 stored)."""
    rng = np.random.default_rng(7)
    weight = rng.integers(-127, 128, (6, 5, 3, 3)).astype(np.int8)
    bias = np.array([side * (spacing * c + rng.uniform(0, 1)) / scale for c in range(6)]).astype(np.int32)
    requant = qnn.RequantAttr.from_scales([scale * (1 + 0.02 * c) for c in range(6)], zp)
    bound = accumulator_bound(weight, bias)
    assert fits(requant, bound)
    assert folds_zero_point(requant, bound) is folds

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        return [b.op(qnn.Conv2dOp(xs[0], b.const(weight), b.const(bias), (1, 1), (1,) * 4, (1, 1), 1, -3, requant))]

    module = module_of([Case("edge", [((1, 5, 5, 7), (0.05, -3))], body)], "edge")
    inputs = random_inputs(module, 1)
    want = reference(module, inputs)
    assert len(np.unique(want[0])) >= (6 if folds else 1)  # the folding cases: not saturated, not constant
    assert first_difference(loop_outputs(module, inputs), want) is None
    assert first_difference(jit_outputs(module, inputs), want) is None
    obj = compile_module(module, "edge", CompileOptions(run=False)).obj
    assert first_difference(emulated_outputs(obj, inputs), want) is None
