"""lower-nn-elementwise: relu, clamp, sigmoid, tanh, add, mul (broadcasting), batch_norm -> flat loops.

- Unary ops run one flat loop over the buffer (viewed 1-D). relu and clamp are `cmpf` + `select` (never
  maximumf: fmaxf libcall or VMAXNM on the M4) whose compares are false for NaN, so NaN passes through as in
  PyTorch; sigmoid and tanh use `Kernel.exp` (arith only, no libm): exp(-|x|) is 0 at +-inf (sigmoid 1 or 0,
  tanh +-1) and NaN stays NaN through every select.
- add/mul: output dims of size 1 are dropped and neighbouring dims merged while both operands are either
  full or broadcast along them, so `[1,C,H,W] + [1,C,1,1]` is a C x (H*W) nest with one load of the
  per-channel operand per row, and equal shapes are one flat loop.
- batch_norm is inference: scale = w / sqrt(var + eps) and shift = b - mean * scale are folded at compile time
  into two new constants, one multiply-add per element. Its statistics must be constants.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import PassFailedException

from t2m.dialects import nn
from t2m.passes._loops import Ix, Kernel, constant_array, new_constant, replace_with_layer, shape_of

Scalar = Callable[[Kernel, SSAValue], SSAValue]


def sigmoid(k: Kernel, x: SSAValue) -> SSAValue:
    """1/(1+e) for x >= 0, e/(1+e) for x < 0, e = exp(-|x|) <= 1: no overflow, no cancellation."""
    e = k.exp(k.emit(arith.NegfOp(k.absf(x))), nonpositive=True)
    s = k.divf(k.f32(1.0), k.addf(k.f32(1.0), e))
    return k.select(k.cmpf("olt", x, k.f32(0.0)), k.mulf(e, s), s)


TANH_SMALL = (-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1)


def tanh(k: Kernel, x: SSAValue) -> SSAValue:
    """|x| < 0.625: Cephes' odd polynomial x + x^3 P(x^2); else sign(x) (1 - e)/(1 + e), e = exp(-2|x|)."""
    a = k.absf(x)
    z = k.mulf(x, x)
    p = k.f32(TANH_SMALL[0])
    for c in TANH_SMALL[1:]:
        p = k.addf(k.mulf(p, z), k.f32(c))
    small = k.addf(k.mulf(k.mulf(p, z), x), x)
    e = k.exp(k.mulf(a, k.f32(-2.0)), nonpositive=True)
    t = k.divf(k.subf(k.f32(1.0), e), k.addf(k.f32(1.0), e))
    large = k.select(k.cmpf("olt", x, k.f32(0.0)), k.emit(arith.NegfOp(t)), t)
    return k.select(k.cmpf("olt", a, k.f32(0.625)), small, large)


def build_unary(k: Kernel, size: int, f: Scalar) -> None:
    x, out = (k.view(a, [size]) for a in k.args)
    k.nest([(0, size, "i")], lambda ivs: k.store(f(k, k.load(x, ivs)), out, ivs))


class LowerUnary(RewritePattern):
    """relu / clamp / sigmoid / tanh -> `@<model>_L<i>_<op>(%in, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ReluOp | nn.ClampOp | nn.SigmoidOp | nn.TanhOp,
                          rewriter: PatternRewriter) -> None:
        if isinstance(op, nn.ReluOp):
            f: Scalar = lambda k, x: k.clamp(x, 0.0, None)  # noqa: E731
        elif isinstance(op, nn.ClampOp):
            lo, hi = op.min.value.data, op.max.value.data
            f = lambda k, x: k.clamp(x, lo, hi)  # noqa: E731
        elif isinstance(op, nn.SigmoidOp):
            f = sigmoid
        else:
            f = tanh
        size = math.prod(shape_of(op.input))
        replace_with_layer(rewriter, op, [(op.input, "in")], lambda k: build_unary(k, size, f))


def broadcast_plan(out: Sequence[int], a: Sequence[int], b: Sequence[int]
                   ) -> tuple[list[int], list[bool], list[bool]]:
    """Merged loop dims and, per dim, whether each operand runs along it (True) or is broadcast (False)."""
    a = (1,) * (len(out) - len(a)) + tuple(a)
    b = (1,) * (len(out) - len(b)) + tuple(b)
    dims: list[int] = []
    full_a: list[bool] = []
    full_b: list[bool] = []
    for size, sa, sb in zip(out, a, b, strict=True):
        if size == 1:
            continue
        fa, fb = sa == size, sb == size
        if dims and (full_a[-1], full_b[-1]) == (fa, fb):
            dims[-1] *= size
        else:
            dims.append(size)
            full_a.append(fa)
            full_b.append(fb)
    return (dims, full_a, full_b) if dims else ([1], [True], [True])


def build_binary(k: Kernel, out_shape: Sequence[int], a_shape: Sequence[int], b_shape: Sequence[int],
                 combine: Callable[[SSAValue, SSAValue], SSAValue], op: nn.BinaryOp) -> None:
    dims, full_a, full_b = broadcast_plan(out_shape, a_shape, b_shape)
    a, b, out = k.args
    a = k.view(a, [d if f else 1 for d, f in zip(dims, full_a, strict=True)])
    b = k.view(b, [d if f else 1 for d, f in zip(dims, full_b, strict=True)])
    out = k.view(out, dims)

    def element(ivs: list[Ix]) -> None:
        va = k.load(a, [iv if f else 0 for iv, f in zip(ivs, full_a, strict=True)])
        vb = k.load(b, [iv if f else 0 for iv, f in zip(ivs, full_b, strict=True)])
        k.store(k.activation(combine(va, vb), op), out, ivs)

    k.nest([(0, d, f"i{j}") for j, d in enumerate(dims)], element)


class LowerBinary(RewritePattern):
    """add / mul -> `@<model>_L<i>_<op>(%lhs, %rhs, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.AddOp | nn.MulOp, rewriter: PatternRewriter) -> None:
        shapes = shape_of(op.output), shape_of(op.lhs), shape_of(op.rhs)
        is_add = isinstance(op, nn.AddOp)

        def build(k: Kernel) -> None:
            build_binary(k, *shapes, k.addf if is_add else k.mulf, op)

        replace_with_layer(rewriter, op, [(op.lhs, "lhs"), (op.rhs, "rhs")], build)


def build_batch_norm(k: Kernel, shape: Sequence[int]) -> None:
    n, c, rest = shape[0], shape[1], math.prod(shape[2:])
    x, scale, shift, out = k.args
    x, out = k.view(x, [n, c, rest]), k.view(out, [n, c, rest])

    def channel(ivs: list[Ix]) -> None:
        s, t = k.load(scale, ivs[1:]), k.load(shift, ivs[1:])
        k.nest([(0, rest, "i")], lambda i: k.store(k.addf(k.mulf(k.load(x, [*ivs, *i]), s), t), out, [*ivs, *i]))

    k.nest([(0, n, "n"), (0, c, "c")], channel)


class LowerBatchNorm(RewritePattern):
    """batch_norm -> `@<model>_L<i>_batch_norm(%in, %scale, %shift, %out)` with folded constants."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.BatchNormOp, rewriter: PatternRewriter) -> None:
        affine = op.affine(constant_array)
        if affine is None:
            raise PassFailedException("lower-nn-elementwise: nn.batch_norm needs constant mean, var, weight, bias")
        old = [op.mean, op.var, op.weight, op.bias]
        scale_t = new_constant(rewriter, op, affine[0].astype(np.float32))
        shift_t = new_constant(rewriter, op, affine[1].astype(np.float32))
        shape = shape_of(op.input)
        replace_with_layer(rewriter, op, [(op.input, "in"), (scale_t, "scale"), (shift_t, "shift")],
                           lambda k: build_batch_norm(k, shape))
        for owner in {id(v.owner): v.owner for v in old}.values():
            if isinstance(owner, nn.ConstantOp) and not owner.output.uses:
                rewriter.erase(owner)


@dataclass(frozen=True)
class LowerNnElementwise(ModulePass):
    """Lower the elementwise nn ops to flat (or broadcasting) loops, one layer function each."""

    name = "lower-nn-elementwise"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = GreedyRewritePatternApplier([LowerUnary(), LowerBinary(), LowerBatchNorm()])
        PatternRewriteWalker(patterns, apply_recursively=False).rewrite_module(op)
