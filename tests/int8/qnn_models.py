"""int8 test models built by hand in the qnn dialect, and runners for every rung of the verification ladder.

- `Builder` / `module_of`: a qnn module from `Case`s, each a small layer with its own int8 inputs and outputs; many
  cases share one module (one compilation), each keeping its own inputs, layer functions and outputs.
- `random_case`: a seeded random layer of one op family (conv in all its forms, linear, pools, add, mul, concat,
  softmax, rescale, clamp) with random zero points (the int8 extremes included), per-channel or per-tensor
  requantization, fused activation ranges; multipliers chosen so outputs use the int8 range, some saturating.
- runners: the integer reference interpreter, the host JIT, the emulated Cortex-M4, and xDSL's interpreter on the
  loop-level IR (small shapes; `IntLoopFunctions` adds the integer ops it lacks).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from xdsl.dialects import affine, arith, func, memref
from xdsl.dialects import math as xmath
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    TensorType,
    i32,
    i64,
)
from xdsl.interpreter import Interpreter, InterpreterFunctions, PythonValues, impl, register_impls
from xdsl.interpreters.affine import AffineFunctions
from xdsl.interpreters.arith import ArithFunctions
from xdsl.interpreters.func import FuncFunctions
from xdsl.interpreters.memref import MemRefFunctions
from xdsl.interpreters.scf import ScfFunctions
from xdsl.interpreters.shaped_array import ShapedArray
from xdsl.interpreters.utils.ptr import TypedPtr
from xdsl.ir import Block, Region, SSAValue

from t2m.compiler.interpreter import run_module
from t2m.compiler.interpreter_dsp import ArmDspFunctions
from t2m.dialects import nn, qnn

I8 = IntegerType(8)

# ---------------------------------------------------------------------------------------------------------------
# Building modules
# ---------------------------------------------------------------------------------------------------------------


class Builder:
    """Appends ops to the model function's block."""

    def __init__(self, block: Block):
        self.block = block

    def const(self, array: np.ndarray) -> SSAValue:
        return self.op(nn.ConstantOp(nn.dense_of(np.asarray(array))))

    def op(self, op: Any) -> SSAValue:
        self.block.add_op(op)
        return op.results[0]


Quant = tuple[float, int]


@dataclass
class Case:
    """One layer: int8 inputs (shape, quant), a body building its ops, the quant of its outputs."""

    name: str
    inputs: list[tuple[tuple[int, ...], Quant]]
    body: Callable[[Builder, list[SSAValue]], list[SSAValue]]
    outputs: list[Quant] = field(default_factory=list[Quant])


def _quant(q: Quant) -> DictionaryAttr:
    return DictionaryAttr({"qnn.quant": qnn.QuantAttr(*q)})


def module_of(cases: Sequence[Case], name: str = "layers") -> ModuleOp:
    """One model function computing every case: inputs and outputs in case order."""
    types = [TensorType(I8, shape) for case in cases for shape, _ in case.inputs]
    block = Block(arg_types=types)
    builder = Builder(block)
    args = iter(block.args)
    results: list[SSAValue] = []
    out_quant: list[Quant] = []
    for case in cases:
        values = case.body(builder, [next(args) for _ in case.inputs])
        results += values
        out_quant += case.outputs or [(0.1, 0)] * len(values)
    block.add_op(func.ReturnOp(*results))
    function = func.FuncOp(
        name,
        (types, [r.type for r in results]),
        Region(block),
        arg_attrs=ArrayAttr([_quant(q) for case in cases for _, q in case.inputs]),
        res_attrs=ArrayAttr([_quant(q) for q in out_quant]),
    )
    module = ModuleOp([function])
    module.verify()
    return module


def random_inputs(module: ModuleOp, seed: int) -> list[np.ndarray]:
    """Uniform int8 inputs over the whole range."""
    (function,) = [op for op in module.ops if isinstance(op, func.FuncOp)]
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, tuple(t.get_shape())).astype(np.int8)  # type: ignore[attr-defined]
            for t in function.function_type.inputs]


# ---------------------------------------------------------------------------------------------------------------
# Random layers
# ---------------------------------------------------------------------------------------------------------------


def _zp(rng: np.random.Generator) -> int:
    """A zero point: the int8 extremes, 0, or anything."""
    return int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))], p=[0.2, 0.15, 0.15, 0.5]))


def _act(rng: np.random.Generator, zp: int) -> tuple[int, int]:
    """A fused activation range: none, a ReLU (from the zero point), a ReLU6-like range or a random wide range."""
    kind = rng.choice(4, p=[0.4, 0.3, 0.2, 0.1])
    if kind == 0 or (kind in (1, 2) and zp > 60):  # a ReLU from a high zero point leaves almost nothing
        return qnn.I8_MIN, qnn.I8_MAX
    if kind == 1:
        return zp, qnn.I8_MAX
    if kind == 2:
        return zp, min(qnn.I8_MAX, zp + int(rng.integers(40, 200)))
    lo = int(rng.integers(-128, 60))
    return lo, int(rng.integers(lo + 60, 128))


def _requant(rng: np.random.Generator, reals: np.ndarray, zp: int) -> qnn.RequantAttr:
    return qnn.RequantAttr.from_scales([float(r) for r in reals], zp)


def _multipliers(rng: np.random.Generator, acc_std: float, channels: int, per_channel: bool) -> np.ndarray:
    """Real multipliers mapping the accumulator's spread to ~40 LSB, jittered; sometimes 8x (saturating)."""
    base = 40.0 / max(acc_std, 1.0) * (8.0 if rng.random() < 0.15 else 1.0)
    jitter = rng.uniform(0.5, 2.0, channels if per_channel else 1)
    return base * jitter


def _weights(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    kind = rng.random()
    if kind < 0.1:  # tiny weights: multipliers above 1 (a left shift in the requantization)
        return rng.integers(-2, 3, shape).astype(np.int8)
    low = -128 if kind < 0.3 else -127  # foreign quantizers use -128 too
    return rng.integers(low, 128, shape).astype(np.int8)


def _acc_std(taps: int, zp: int, w: np.ndarray) -> float:
    return math.sqrt(taps * (74.0**2 + zp**2)) * max(float(np.std(w.astype(np.float64))), 0.5)


def _accumulate(b: Builder, make: Callable[[qnn.RequantAttr | None], qnn.Accumulate], rng: np.random.Generator,
                reals: np.ndarray, zp_out: int, act: tuple[int, int], channel_axis: int) -> SSAValue:
    """The accumulating op with its requant fused, or (1 in 8) left unfused: an int32 accumulator, then a rescale
    with an input zero point (which fuse-requant cannot take) and a separate clamp."""
    requant = _requant(rng, reals, zp_out)
    if rng.random() < 0.125:
        value = b.op(qnn.RescaleOp(b.op(_pinned(rng, make(None))), requant, channel_axis, int(rng.integers(-50, 50))))
        return b.op(qnn.ClampOp(value, *act))
    op = _pinned(rng, make(requant))
    op.set_activation_range(*act)
    return b.op(op)


def _pinned(rng: np.random.Generator, op: qnn.Accumulate) -> qnn.Accumulate:
    """Half the layers get one of their kernel variants pinned (`t2m.variant`: SMLAD blocks, unrolls, int8 weight
    words, the scalar kernel), so every kernel the tuner may pick is held to the same bits."""
    import t2m.passes.lower_qnn_conv
    import t2m.passes.lower_qnn_linear  # noqa: F401  (they register their variants)
    from t2m.passes import _variants

    names = _variants.candidates(op)
    if names and rng.random() < 0.5:
        _variants.pin(op, names[int(rng.integers(len(names)))])
    return op


def conv_case(rng: np.random.Generator, name: str) -> Case:
    kind = rng.choice(["plain", "depthwise", "grouped", "pointwise", "multiplier", "wide"])
    c_in = int(rng.choice([1, 2, 3, 4, 5, 7, 8]))
    groups, c_out = 1, int(rng.choice([1, 2, 3, 5, 6, 8]))
    kh, kw = (int(v) for v in rng.integers(1, 6, 2))
    if kind == "depthwise":
        groups, c_out = c_in, c_in
        kh = kw = int(rng.choice([3, 3, 5, 2]))
    elif kind == "multiplier":
        groups, c_out = c_in, 2 * c_in
    elif kind == "grouped":
        c_in = int(rng.choice([2, 4, 6]))
        groups, c_out = 2, int(rng.choice([2, 4, 6]))
    elif kind == "pointwise":
        kh = kw = 1
    stride = tuple(int(v) for v in rng.choice([1, 1, 2, 3], 2))
    dilation = (1, 1) if rng.random() < 0.7 else tuple(int(v) for v in rng.integers(1, 3, 2))
    eff = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    padding = tuple(int(rng.integers(0, min(2, e - 1) + 1)) for e in (eff[0], eff[1], eff[0], eff[1]))
    padding = (padding[0], padding[1], padding[2], padding[3])
    h = int(rng.integers(max(1, eff[0] - padding[0] - padding[2]), 13))
    w_ = int(rng.integers(max(1, eff[1] - padding[1] - padding[3]), 13))
    if kind == "wide":  # kernel columns beyond the input on both sides: windows mostly padding
        kw = int(rng.integers(4, 6))
        eff = (eff[0], (kw - 1) * dilation[1] + 1)
        padding = (padding[0], 2, padding[2], 2)
        w_ = int(rng.integers(max(1, eff[1] - 4), eff[1]))
    zp_in, zp_out = _zp(rng), _zp(rng)
    weight = _weights(rng, (c_out, c_in // groups, kh, kw))
    std = _acc_std(c_in // groups * kh * kw, zp_in, weight)
    bias = rng.integers(-int(std), int(std) + 1, c_out).astype(np.int32) if rng.random() < 0.8 else None
    if rng.random() < 0.05:  # accumulators near the int32 limits: the left shift wraps as in C
        bias = rng.choice([-(1 << 30), 1 << 30], c_out).astype(np.int32)
    reals = _multipliers(rng, std, c_out, rng.random() < 0.7)
    act = _act(rng, zp_out)

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        w, bias_ = b.const(weight), None if bias is None else b.const(bias)
        return [_accumulate(b, lambda r: qnn.Conv2dOp(xs[0], w, bias_, stride, padding, dilation, groups, zp_in, r),
                            rng, reals, zp_out, act, 1)]

    return Case(f"{name}-conv-{kind}", [((1, c_in, h, w_), (0.05, zp_in))], body)


def linear_case(rng: np.random.Generator, name: str) -> Case:
    rows = [(1,), (2,), (2, 3), (1,)][int(rng.integers(4))]
    n_in, n_out = int(rng.integers(1, 80)), int(rng.integers(1, 25))
    zp_in, zp_out = _zp(rng), _zp(rng)
    weight = _weights(rng, (n_out, n_in))
    std = _acc_std(n_in, zp_in, weight)
    bias = rng.integers(-int(std), int(std) + 1, n_out).astype(np.int32) if rng.random() < 0.8 else None
    reals = _multipliers(rng, std, n_out, rng.random() < 0.5)
    act = _act(rng, zp_out)

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        w, bias_ = b.const(weight), None if bias is None else b.const(bias)
        return [_accumulate(b, lambda r: qnn.LinearOp(xs[0], w, bias_, zp_in, r), rng, reals, zp_out, act,
                            len(rows))]

    return Case(f"{name}-linear", [((*rows, n_in), (0.05, zp_in))], body)


def pool_case(rng: np.random.Generator, name: str) -> Case:
    kind = rng.choice(["max", "avg", "avg_pad", "adaptive"])
    c = int(rng.choice([1, 2, 3, 5]))
    h, w = int(rng.integers(1, 11)), int(rng.integers(1, 19))  # widths past 4 words: SIMD groups + remainders
    zp = _zp(rng)
    act = _act(rng, zp)
    if kind == "adaptive":
        size = (int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))) if rng.random() < 0.7 else (1, 1)

        def adaptive(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
            op = qnn.AdaptiveAvgPool2dOp(xs[0], size)
            op.set_activation_range(*act)
            return [b.op(op)]

        return Case(f"{name}-pool-adaptive", [((1, c, h, w), (0.05, zp))], adaptive)
    kh, kw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
    stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    padding = (int(rng.integers(0, (kh + 1) // 2)), int(rng.integers(0, (kw + 1) // 2)),
               int(rng.integers(0, (kh + 1) // 2)), int(rng.integers(0, (kw + 1) // 2)))
    padding = tuple(min(p, k - 1) for p, k in zip(padding, (kh, kw, kh, kw), strict=True))

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        if kind == "max":
            op: qnn.Pool2dOp = qnn.MaxPool2dOp(xs[0], (kh, kw), stride, padding)
        else:
            op = qnn.AvgPool2dOp(xs[0], (kh, kw), stride, padding, kind == "avg_pad", zp)
        op.set_activation_range(*act)
        return [b.op(op)]

    return Case(f"{name}-pool-{kind}", [((1, c, h, w), (0.05, zp))], body)


def _binary_shapes(rng: np.random.Generator) -> tuple[tuple[int, ...], tuple[int, ...]]:
    c, h, w = (int(v) for v in rng.integers(1, 7, 3))
    if rng.random() < 0.3:  # larger, often past 256 outputs: the table kernel of qnn.add
        c, w = c + 5, w + 6
    return [((1, c, h, w), (1, c, h, w)), ((1, c, h, w), (1, c, 1, 1)), ((1, c, 1, 1), (1, c, h, w)),
            ((2, c * w), (c * w,)), ((h, w), (h, w))][int(rng.integers(5))]


def _spread(scale: float, zp: int) -> float:
    """The real spread of uniform int8 values around a zero point."""
    return scale * math.sqrt(74.0**2 + zp**2)


def add_case(rng: np.random.Generator, name: str) -> Case:
    a_shape, b_shape = _binary_shapes(rng)
    s_a, s_b = (float(v) for v in rng.uniform(0.01, 0.2, 2))
    z_a, z_b, z_o = _zp(rng), _zp(rng), _zp(rng)
    s_o = math.hypot(_spread(s_a, z_a), _spread(s_b, z_b)) / 40.0 * float(rng.uniform(0.5, 2.0))
    twice = 2 * max(s_a, s_b)
    lhs = qnn.RequantAttr.from_scales([s_a / twice], 0)
    rhs = qnn.RequantAttr.from_scales([s_b / twice], 0)
    out = qnn.RequantAttr.from_scales([twice / ((1 << qnn.ADD_LEFT_SHIFT) * s_o)], z_o)
    act = _act(rng, z_o)

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        op = qnn.AddOp.create(operands=xs, result_types=[TensorType(I8, np.broadcast_shapes(a_shape, b_shape))],
                              properties={"lhs_zp": IntegerAttr(z_a, i32), "rhs_zp": IntegerAttr(z_b, i32),
                                          "lhs_scale": lhs, "rhs_scale": rhs, "output_scale": out})
        assert isinstance(op, qnn.AddOp)
        op.set_activation_range(*act)
        return [b.op(op)]

    return Case(f"{name}-add", [(a_shape, (s_a, z_a)), (b_shape, (s_b, z_b))], body, [(s_o, z_o)])


def mul_case(rng: np.random.Generator, name: str) -> Case:
    a_shape, b_shape = _binary_shapes(rng)
    s_a, s_b = (float(v) for v in rng.uniform(0.01, 0.2, 2))
    z_a, z_b, z_o = _zp(rng), _zp(rng), _zp(rng)
    s_o = _spread(s_a, z_a) * _spread(s_b, z_b) / 40.0 * float(rng.uniform(0.5, 2.0))
    out = qnn.RequantAttr.from_scales([s_a * s_b / s_o], z_o)
    act = _act(rng, z_o)

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        op = qnn.MulOp.create(operands=xs, result_types=[TensorType(I8, np.broadcast_shapes(a_shape, b_shape))],
                              properties={"lhs_zp": IntegerAttr(z_a, i32), "rhs_zp": IntegerAttr(z_b, i32),
                                          "output_scale": out})
        assert isinstance(op, qnn.MulOp)
        op.set_activation_range(*act)
        return [b.op(op)]

    return Case(f"{name}-mul", [(a_shape, (s_a, z_a)), (b_shape, (s_b, z_b))], body, [(s_o, z_o)])


def concat_case(rng: np.random.Generator, name: str) -> Case:
    rank = int(rng.integers(2, 5))
    base = [int(v) for v in rng.integers(1, 5, rank)]
    axis = int(rng.integers(rank))
    shapes = []
    for _ in range(int(rng.integers(2, 4))):
        shape = list(base)
        shape[axis] = int(rng.integers(1, 5))
        shapes.append(tuple(shape))
    zp = _zp(rng)

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        return [b.op(nn.ConcatOp(xs, axis))]

    return Case(f"{name}-concat", [(s, (0.05, zp)) for s in shapes], body, [(0.05, zp)])


def softmax_case(rng: np.random.Generator, name: str) -> Case:
    scale = float(rng.choice([0.002, 0.01, 0.02, 0.05, 0.25, float(rng.uniform(0.002, 0.1))]))
    shape, axis = [((int(rng.integers(1, 4)), int(rng.integers(1, 40))), 1),
                   ((1, int(rng.integers(1, 12)), int(rng.integers(1, 4)), 2), 1),
                   ((int(rng.integers(1, 20)),), 0)][int(rng.integers(3))]
    m, s, d = qnn.softmax_params(scale)

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        return [b.op(qnn.SoftmaxOp(xs[0], axis, m, s, d))]

    return Case(f"{name}-softmax", [(shape, (scale, _zp(rng)))], body, [qnn.SoftmaxOp.OUTPUT_QUANT])


def rescale_case(rng: np.random.Generator, name: str) -> Case:
    shape = tuple(int(v) for v in rng.integers(1, 6, int(rng.integers(1, 5))))
    axis = int(rng.integers(len(shape)))
    channels = shape[axis] if rng.random() < 0.6 else 1
    reals = rng.uniform(0.05, 1.2 if rng.random() < 0.8 else 3.0, channels)
    zp_in, zp_out = _zp(rng), _zp(rng)
    requant = qnn.RequantAttr.from_scales([float(r) for r in reals], zp_out)

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        return [b.op(qnn.RescaleOp(xs[0], requant, axis, zp_in))]

    return Case(f"{name}-rescale", [(shape, (0.05, zp_in))], body)


def clamp_case(rng: np.random.Generator, name: str) -> Case:
    shape = tuple(int(v) for v in rng.integers(1, 9, int(rng.integers(1, 4))))
    lo, hi = _act(rng, _zp(rng))

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        return [b.op(qnn.ClampOp(xs[0], lo, hi))]

    return Case(f"{name}-clamp", [(shape, (0.05, 0))], body)


FAMILIES: dict[str, Callable[[np.random.Generator, str], Case]] = {
    "conv": conv_case,
    "linear": linear_case,
    "pool": pool_case,
    "add": add_case,
    "mul": mul_case,
    "concat": concat_case,
    "softmax": softmax_case,
    "rescale": rescale_case,
    "clamp": clamp_case,
}


def random_cases(seed: int, counts: dict[str, int]) -> list[Case]:
    rng = np.random.default_rng(seed)
    return [FAMILIES[family](rng, f"{family}{i}") for family, n in counts.items() for i in range(n)]


# ---------------------------------------------------------------------------------------------------------------
# Runners
# ---------------------------------------------------------------------------------------------------------------


def reference(module: ModuleOp, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    return run_module(module, inputs)


def jit_outputs(module: ModuleOp, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Compile for the host (the whole pipeline, -O2) and run `<name>_run` through the host JIT."""
    from t2m.compiler.backend import HostJIT
    from t2m.compiler.compile import CompileOptions, compile_module

    result = compile_module(module, "int8", CompileOptions(target="host"), stop_at="ll")
    assert result.info is not None
    outputs = [np.full(shape, 99, np.int8) for shape in result.info.outputs]
    assert HostJIT(result.ll).run(result.info.entry, list(inputs), outputs) == 0
    return outputs


def cortex_m4_object(module: ModuleOp) -> bytes:
    from t2m.compiler.compile import CompileOptions, compile_module

    return compile_module(module, "int8", CompileOptions(run=False)).obj


def emulated_outputs(obj: bytes, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    from t2m.compiler.emulate import run_object

    return run_object(obj, list(inputs), "int8.o").outputs


def first_difference(got: Sequence[np.ndarray], want: Sequence[np.ndarray]) -> str | None:
    """None when every output is identical, else where the first one differs."""
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g.dtype == np.int8 == w.dtype, (g.dtype, w.dtype)
        if g.shape != w.shape:
            return f"output {i}: shape {g.shape} != {w.shape}"
        if not np.array_equal(g, w):
            at = tuple(int(v) for v in np.argwhere(g != w)[0])
            return f"output {i} at {at}: {int(g[at])} != {int(w[at])} ({int((g != w).sum())} of {g.size} differ)"
    return None


# -- loop-level IR in xDSL's interpreter ---------------------------------------------------------------------------


def _signed(value: int, width: int) -> int:
    value &= (1 << width) - 1
    return value - (1 << width) if value >> (width - 1) else value


def _width(t: Any) -> int:
    return t.width.data if isinstance(t, IntegerType) else 64


@register_impls
class IntLoopFunctions(InterpreterFunctions):
    """The integer ops of the int8 kernels xDSL's interpreter lacks or gets wrong for i64 (xDSL's shrsi does not
    wrap, extsi/trunci/extui/ctlz are missing), and loads/stores with bounds checks."""

    @impl(arith.ExtSIOp)
    def run_extsi(self, interpreter: Interpreter, op: arith.ExtSIOp, args: PythonValues):
        return (_signed(args[0], _width(op.input.type)),)

    @impl(arith.ExtUIOp)
    def run_extui(self, interpreter: Interpreter, op: arith.ExtUIOp, args: PythonValues):
        return (int(args[0]) & ((1 << _width(op.input.type)) - 1),)

    @impl(arith.TruncIOp)
    def run_trunci(self, interpreter: Interpreter, op: arith.TruncIOp, args: PythonValues):
        return (_signed(args[0], _width(op.result.type)),)

    @impl(arith.ShRSIOp)
    def run_shrsi(self, interpreter: Interpreter, op: arith.ShRSIOp, args: PythonValues):
        width = _width(op.result.type)
        assert 0 <= args[1] < width
        return (_signed(args[0], width) >> args[1],)

    @impl(arith.ShLIOp)
    def run_shli(self, interpreter: Interpreter, op: arith.ShLIOp, args: PythonValues):
        width = _width(op.result.type)
        assert 0 <= args[1] < width
        return (_signed(args[0] << args[1], width),)

    @impl(arith.ShRUIOp)
    def run_shrui(self, interpreter: Interpreter, op: arith.ShRUIOp, args: PythonValues):
        width = _width(op.result.type)
        assert 0 <= args[1] < width
        return (_signed((args[0] & ((1 << width) - 1)) >> args[1], width),)

    @impl(arith.CmpiOp)
    def run_cmpi(self, interpreter: Interpreter, op: arith.CmpiOp, args: PythonValues):
        width = _width(op.lhs.type)
        a, b = _signed(args[0], width), _signed(args[1], width)
        mask = (1 << width) - 1
        ua, ub = a & mask, b & mask
        result = {0: a == b, 1: a != b, 2: a < b, 3: a <= b, 4: a > b, 5: a >= b,
                  6: ua < ub, 7: ua <= ub, 8: ua > ub, 9: ua >= ub}[op.predicate.value.data]
        return (int(result),)

    @impl(arith.DivSIOp)
    def run_divsi(self, interpreter: Interpreter, op: arith.DivSIOp, args: PythonValues):
        width = _width(op.result.type)
        a, b = _signed(args[0], width), _signed(args[1], width)
        quotient = abs(a) // abs(b)
        return (_signed(quotient if (a < 0) == (b < 0) else -quotient, width),)

    @impl(arith.DivUIOp)
    def run_divui(self, interpreter: Interpreter, op: arith.DivUIOp, args: PythonValues):
        mask = (1 << _width(op.result.type)) - 1
        return (_signed((args[0] & mask) // (args[1] & mask), _width(op.result.type)),)

    @impl(xmath.CountLeadingZerosOp)
    def run_ctlz(self, interpreter: Interpreter, op: xmath.CountLeadingZerosOp, args: PythonValues):
        width = _width(op.result.type)
        value = args[0] & ((1 << width) - 1)
        return (width - value.bit_length(),)

    @impl(memref.LoadOp)
    def run_load(self, interpreter: Interpreter, op: memref.LoadOp, args: PythonValues):
        mem, *idx = args
        _check_bounds(op.name, mem, idx)
        return (mem.load(tuple(idx)),)

    @impl(memref.StoreOp)
    def run_store(self, interpreter: Interpreter, op: memref.StoreOp, args: PythonValues):
        value, mem, *idx = args
        _check_bounds(op.name, mem, idx)
        mem.store(tuple(idx), _signed(value, _width(op.value.type)))
        return ()


    @impl(memref.AllocaOp)
    def run_alloca(self, interpreter: Interpreter, op: memref.AllocaOp, args: PythonValues):
        """The SMLAD kernels' stack column: filled with a marker, as uninitialised stack would be."""
        t = op.memref.type
        shape = list(t.get_shape())
        element = _XTYPES[_width(t.get_element_type())]
        return (ShapedArray(TypedPtr.new([0x5A5A5A5A] * math.prod(shape), xtype=element), shape),)

    @impl(affine.ForOp)
    def run_for(self, interpreter: Interpreter, op: affine.ForOp, args: PythonValues):
        lo = op.lowerBoundMap.data.eval([], [])[0]
        hi = op.upperBoundMap.data.eval([], [])[0]
        values = tuple(args)
        for i in range(lo, hi, op.step.value.data):
            values = interpreter.run_ssacfg_region(op.body, (i, *values), "affine.for")
        return values

    @impl(memref.ReinterpretCastOp)
    def run_reinterpret_cast(self, interpreter: Interpreter, op: memref.ReinterpretCastOp, args: PythonValues):
        assert tuple(op.static_offsets.get_values()) == (0,)
        return (ShapedArray(args[0].data_ptr, list(op.static_sizes.get_values())),)

    @impl(memref.ViewOp)
    def run_view(self, interpreter: Interpreter, op: memref.ViewOp, args: PythonValues):
        """A buffer at a byte offset of plan-memory's i8 arena (the same bytes, read as its element type)."""
        arena, shift = args[0], args[1]
        element = op.result.type.get_element_type()  # type: ignore[attr-defined]
        ptr = TypedPtr(arena.data_ptr.raw + shift, xtype=_XTYPES[_width(element)])
        return (ShapedArray(ptr, list(op.result.type.get_shape())),)  # type: ignore[attr-defined]


def _check_bounds(name: str, mem: ShapedArray[Any], idx: Sequence[int]) -> None:
    if any(not 0 <= i < d for i, d in zip(idx, mem.shape, strict=True)):
        raise AssertionError(f"{name} out of bounds: {list(idx)} in {mem.shape}")


_XTYPES: dict[int, IntegerType] = {8: I8, 32: i32, 64: i64}


def lower_to_loops(module: ModuleOp) -> ModuleOp:
    """LOWER_TO_LOOPS on a copy, through its text form (which must re-parse)."""
    from t2m.compiler.ir import module_to_text, parse_module
    from t2m.compiler.pipeline import LOWER_TO_LOOPS, apply_passes

    return parse_module(module_to_text(apply_passes(module.clone(), LOWER_TO_LOOPS)))


def loop_outputs(module: ModuleOp, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Lower to loops and run `<name>_run` in xDSL's interpreter; the output buffers start as 99 (an element the
    code never writes shows)."""
    lowered = lower_to_loops(module)
    (run,) = [f for f in lowered.ops if isinstance(f, func.FuncOp) and f.sym_name.data.endswith("_run")]
    interpreter = Interpreter(lowered)
    for functions in (FuncFunctions(), ArithFunctions(), MemRefFunctions(), AffineFunctions(), ScfFunctions()):
        interpreter.register_implementations(functions)
    interpreter.register_implementations(IntLoopFunctions(), override=True)
    interpreter.register_implementations(ArmDspFunctions())  # the SIMD kernels' SSUB8 + SEL, SXTAB16, SMLAD
    args = [ShapedArray(TypedPtr.new([int(v) for v in x.ravel()], xtype=I8), list(x.shape)) for x in inputs]
    outputs = []
    for t in run.function_type.inputs.data[len(inputs):]:
        assert isinstance(t, MemRefType)
        shape = list(t.get_shape())
        outputs.append(ShapedArray(TypedPtr.new([99] * math.prod(shape), xtype=_XTYPES[_width(t.element_type)]),
                                   shape))
    (status,) = interpreter.call_op(run, (*args, *outputs))
    assert status == 0
    return [np.array(o.data, dtype=np.int8).reshape(o.shape) for o in outputs]
