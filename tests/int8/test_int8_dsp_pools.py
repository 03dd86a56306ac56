"""The DSP-extension kernels of pools and add, bit for bit at every rung, in every variant they can take.

Max pool on four int8 lanes per word (SSUB8 + SEL, SIMD2 / SIMD4 groups of output columns), average pool summing
window rows by words (SXTAB16 + SMLAD), add by tables: odd channel counts, one channel, widths that are not a
multiple of the group (a scalar remainder), padded borders (scalar regions next to SIMD ones), fused activation
ranges (clamped on the lanes), windows too long for int16 lanes (scalar). Each variant is pinned on the op
(`t2m.variant`) and compared with the integer reference: host JIT, the emulated Cortex-M4, and xDSL's interpreter
on the loop-level IR.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qnn_models import (
    I8,
    Builder,
    Case,
    emulated_outputs,
    first_difference,
    loop_outputs,
    module_of,
    random_inputs,
    reference,
)
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, TensorType, i32
from xdsl.ir import SSAValue

from t2m.compiler.backend import HostJIT, disassemble
from t2m.compiler.compile import CompileOptions, compile_module
from t2m.dialects import qnn
from t2m.passes import lower_qnn_elementwise, lower_qnn_pool
from t2m.passes._variants import candidates, pin


def _pool(kind: str, shape: tuple[int, ...], kernel: tuple[int, int] = (2, 2), stride: tuple[int, int] = (2, 2),
          padding: tuple[int, int, int, int] = (0, 0, 0, 0), act: tuple[int, int] = (-128, 127), zp: int = 3,
          size: tuple[int, int] = (1, 1)) -> Case:
    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        if kind == "max":
            op: qnn.Int8Activation = qnn.MaxPool2dOp(xs[0], kernel, stride, padding)
        elif kind == "adaptive":
            op = qnn.AdaptiveAvgPool2dOp(xs[0], size)
        else:
            op = qnn.AvgPool2dOp(xs[0], kernel, stride, padding, kind == "avg_pad", zp)
        op.set_activation_range(*act)
        return [b.op(op)]

    return Case(f"{kind}-{'x'.join(map(str, shape))}", [(shape, (0.05, zp))], body)


def _add(a_shape: tuple[int, ...], b_shape: tuple[int, ...], act: tuple[int, int] = (-128, 127)) -> Case:
    s_a, s_b, s_o, z_a, z_b, z_o = 0.05, 0.09, 0.11, -128, 17, -5
    twice = 2 * max(s_a, s_b)
    lhs, rhs = qnn.RequantAttr.from_scales([s_a / twice], 0), qnn.RequantAttr.from_scales([s_b / twice], 0)
    out = qnn.RequantAttr.from_scales([twice / ((1 << qnn.ADD_LEFT_SHIFT) * s_o)], z_o)
    shape = np.broadcast_shapes(a_shape, b_shape)

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        op = qnn.AddOp.create(operands=xs, result_types=[TensorType(I8, shape)],
                              properties={"lhs_zp": IntegerAttr(z_a, i32), "rhs_zp": IntegerAttr(z_b, i32),
                                          "lhs_scale": lhs, "rhs_scale": rhs, "output_scale": out})
        assert isinstance(op, qnn.AddOp)
        op.set_activation_range(*act)
        return [b.op(op)]

    return Case(f"add-{'x'.join(map(str, shape))}", [(a_shape, (s_a, z_a)), (b_shape, (s_b, z_b))], body,
                [(s_o, z_o)])


CASES = [
    _pool("max", (1, 3, 6, 9)),  # 2x2/2: 4 outputs per row, width 9 (its last column unread)
    _pool("max", (1, 1, 8, 16), act=(-20, 90)),  # 1 channel, both clamps on the lanes
    _pool("max", (1, 5, 7, 11), (3, 3), (1, 1), (1, 1, 1, 1), act=(3, 127)),  # stride 1, padded borders
    _pool("max", (1, 2, 5, 13), (2, 2), (2, 2), (1, 1, 1, 1)),  # 2x2/2 with padding: border columns scalar
    _pool("max", (1, 3, 4, 7), (1, 4), (1, 1)),  # 1x4 stride 1, 4 outputs: one group, no remainder
    _pool("avg", (1, 3, 25, 5), (25, 5), (1, 1), zp=-7),  # global (the KWS pool): rows merge into one run
    _pool("avg_pad", (1, 2, 9, 13), (5, 5), (1, 1), (2, 2, 2, 2), act=(-60, 60), zp=-128),
    _pool("avg", (1, 1, 8, 12), (4, 4), (4, 4)),  # rows of exactly one word
    _pool("avg", (1, 5, 3, 7), (3, 6), (1, 1), zp=127),  # rows of a word and two bytes
    _pool("avg", (1, 1, 40, 40), (40, 40), (1, 1)),  # 400 words: too many for int16 lanes, scalar
    _pool("avg", (1, 1, 20, 40), (20, 40), (1, 1)),  # 200 words merged
    _pool("adaptive", (1, 5, 7, 7)),
    _pool("adaptive", (1, 3, 9, 14), size=(2, 3)),
    _add((1, 3, 5, 7), (1, 3, 5, 7), act=(-5, 127)),  # 105 outputs: arith by default
    _add((1, 16, 8, 8), (1, 16, 1, 1)),  # broadcast
    _add((2, 300), (300,), act=(-100, 100)),
]


def _pinned(cases: list[Case], index: int, name: str) -> tuple[ModuleOp, list[str]]:
    """The cases in one module, each op pinned to its `index`-th variant (its last when it has fewer); the
    variants in op order ("" for an op without a choice)."""
    module = module_of(cases, name)
    pinned = []
    for op in module.walk():
        if op.dialect_name() == "qnn":
            options = candidates(op)
            pinned.append(options[min(index, len(options) - 1)] if options else "")
            if options:
                pin(op, pinned[-1])
    return module, pinned


def test_every_case_has_the_variants_it_should() -> None:
    """The SIMD kernels apply where the shapes allow, and the defaults are the fast ones."""
    assert lower_qnn_pool and lower_qnn_elementwise  # imported: their patterns registered their variants
    module = module_of(CASES, "variants")
    seen = [candidates(op) for op in module.walk() if op.dialect_name() == "qnn"]
    assert seen == [
        ["simd2", "simd4", "scalar"], ["simd2", "simd4", "scalar"], ["simd4", "scalar"], ["simd2", "simd4", "scalar"],
        ["simd4", "scalar"], ["simd", "scalar"], ["simd", "scalar"], ["simd", "scalar"], ["simd", "scalar"], [],
        ["simd", "scalar"], ["simd", "scalar"], ["simd", "scalar"], ["arith", "table"], ["table", "arith"],
        ["table", "arith"],
    ]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_each_variant_is_bit_exact_on_jit_and_emulator(index: int) -> None:
    module, pinned = _pinned(CASES, index, f"dsp{index}")
    result = compile_module(module, "dsp", CompileOptions(run=False))
    assert result.info is not None
    assert [layer.variant for layer in result.info.layers] == pinned  # recorded on #t2m.layer, in the object
    jit = HostJIT(result.ll)
    for seed in (0, 1):
        inputs = random_inputs(module, seed + 10 * index)
        want = reference(module, inputs)
        got = [np.full(shape, 99, np.int8) for shape in result.info.outputs]
        assert jit.run(result.info.entry, inputs, got) == 0
        assert (difference := first_difference(got, want)) is None, (pinned, difference)
        assert (difference := first_difference(emulated_outputs(result.obj, inputs), want)) is None, (
            pinned, difference)


@pytest.mark.parametrize("index", [0, 1])
def test_each_variant_is_bit_exact_in_the_loop_interpreter(index: int) -> None:
    small = [case for case in CASES if math.prod(case.inputs[0][0]) <= 600]
    module, pinned = _pinned(small, index, f"loops{index}")
    inputs = random_inputs(module, index)
    assert (difference := first_difference(loop_outputs(module, inputs), reference(module, inputs))) is None, (
        pinned, difference)


def test_the_kernels_use_the_dsp_instructions() -> None:
    """On the Cortex-M4: SSUB8 + SEL in the max pool, SXTAB16 and SMLAD in the average pool, the table loads
    (LDR with a register index scaled by 4) in the add; the scalar and arith variants have none of them."""
    cases = [CASES[0], CASES[5], CASES[15]]
    for index, fast in ((0, True), (2, False)):
        module, pinned = _pinned(cases, index, f"isa{index}")
        assert pinned == (["simd2", "simd", "table"] if fast else ["scalar", "scalar", "arith"])
        obj = compile_module(module, "isa", CompileOptions(run=False)).obj
        mnemonics: dict[str, set[str]] = {}
        for line in disassemble(obj):
            kind = line.function.split("_L", 1)[-1]
            mnemonics.setdefault(kind, set()).add(line.mnemonic)
            if line.mnemonic.startswith("ldr") and line.op_str.endswith("lsl #2]"):
                mnemonics[kind].add("ldr-table")
        assert ({"ssub8", "sel"} <= mnemonics["00_max_pool2d"]) == fast
        assert ({"sxtab16", "smlad"} <= mnemonics["01_avg_pool2d"]) == fast
        assert ("ldr-table" in mnemonics["02_add"]) == fast
