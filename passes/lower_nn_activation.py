"""lower-nn-activation: hardswish, hardsigmoid, silu, elu, leaky_relu, gelu, prelu, batch_norm_stats -> loops.

The unary activations are one flat loop each, like `lower-nn-elementwise`'s, with every transcendental built from
arith ops (`Kernel.exp`, the Cephes tanh): no libm call reaches the object. Where a plain formula would cancel,
an equivalent one does not:
- elu: exp(x) - 1 loses its digits near 0; expm1(x) = 2t / (1 - t) with t = tanh(x / 2) keeps them (x <= 0);
- gelu "tanh": 0.5 (1 + tanh(u)) = sigmoid(2u), so the negative tail is not 1 - 0.9999;
- gelu "none": Phi(x) = 0.5 erfc(-x / sqrt 2), erfc by Numerical Recipes' Chebyshev fit (relative error
  < 1.2e-7 everywhere), 1 - 0.5 erfc(z) only on the side where it is >= 0.5.
prelu loads the slope once per channel. batch_norm_stats makes two passes per channel (mean, then the biased
variance around it: no cancellation), 1 / sqrt(var + eps) by three Newton steps from the bit-trick estimate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import ModuleOp, f32, i32
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from t2m.dialects import nn
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of
from t2m.passes.lower_nn_elementwise import Scalar, build_unary, sigmoid, tanh

ERFC = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
        -0.82215223, 0.17087277)
"""erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z / 2), z >= 0 (Numerical Recipes' erfcc; P's coefficients)."""


def hardsigmoid(k: Kernel, x: SSAValue) -> SSAValue:
    """min(max(x + 3, 0), 6) / 6; NaN passes the clamps (compares false) and stays NaN."""
    return k.mulf(k.clamp(k.addf(x, k.f32(3.0)), 0.0, 6.0), k.f32(1.0 / 6.0))


def hardswish(k: Kernel, x: SSAValue) -> SSAValue:
    return k.mulf(x, hardsigmoid(k, x))


def silu(k: Kernel, x: SSAValue) -> SSAValue:
    return k.mulf(x, sigmoid(k, x))


def leaky_relu(slope: float) -> Scalar:
    def f(k: Kernel, x: SSAValue) -> SSAValue:
        return k.select(k.cmpf("ogt", x, k.f32(0.0)), x, k.mulf(x, k.f32(slope)))

    return f


def elu(alpha: float) -> Scalar:
    def f(k: Kernel, x: SSAValue) -> SSAValue:
        negative = k.select(k.cmpf("ogt", x, k.f32(0.0)), k.f32(0.0), x)  # the exp side sees x <= 0 (or NaN)
        t = tanh(k, k.mulf(negative, k.f32(0.5)))
        expm1 = k.divf(k.addf(t, t), k.subf(k.f32(1.0), t))
        return k.select(k.cmpf("ogt", x, k.f32(0.0)), x, k.mulf(expm1, k.f32(alpha)))

    return f


def gelu_tanh(k: Kernel, x: SSAValue) -> SSAValue:
    """x * sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)) (inf at +inf, NaN at -inf: -inf * 0, as in PyTorch)."""
    u = k.mulf(x, k.addf(k.f32(1.0), k.mulf(k.f32(0.044715), k.mulf(x, x))))
    return k.mulf(x, sigmoid(k, k.mulf(u, k.f32(2.0 * math.sqrt(2.0 / math.pi)))))


def gelu_erf(k: Kernel, x: SSAValue) -> SSAValue:
    """x * Phi(x), Phi(x) = 0.5 erfc(|x| / sqrt 2) for x < 0, 1 - that for x >= 0."""
    z = k.mulf(k.absf(x), k.f32(1.0 / math.sqrt(2.0)))
    t = k.divf(k.f32(1.0), k.addf(k.f32(1.0), k.mulf(z, k.f32(0.5))))
    p = k.f32(ERFC[-1])
    for c in reversed(ERFC[:-1]):
        p = k.addf(k.mulf(p, t), k.f32(c))
    half_erfc = k.mulf(k.mulf(t, k.exp(k.subf(p, k.mulf(z, z)))), k.f32(0.5))
    phi = k.select(k.cmpf("oge", x, k.f32(0.0)), k.subf(k.f32(1.0), half_erfc), half_erfc)
    return k.select(k.cmpf("oeq", z, k.f32(math.inf)), k.f32(math.nan), k.mulf(x, phi))  # PyTorch: NaN at +-inf


def scalar_of(op: nn.HardswishOp | nn.HardsigmoidOp | nn.SiluOp | nn.EluOp | nn.LeakyReluOp | nn.GeluOp) -> Scalar:
    if isinstance(op, nn.HardswishOp):
        return hardswish
    if isinstance(op, nn.HardsigmoidOp):
        return hardsigmoid
    if isinstance(op, nn.SiluOp):
        return silu
    if isinstance(op, nn.EluOp):
        return elu(op.param())
    if isinstance(op, nn.LeakyReluOp):
        return leaky_relu(op.param())
    return gelu_tanh if op.approximate.data == "tanh" else gelu_erf


class LowerActivation(RewritePattern):
    """A unary activation -> `@<model>_L<i>_<op>(%in, %out)`, one flat loop."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.HardswishOp | nn.HardsigmoidOp | nn.SiluOp | nn.EluOp | nn.LeakyReluOp
                          | nn.GeluOp, rewriter: PatternRewriter) -> None:
        f = scalar_of(op)
        size = math.prod(shape_of(op.input))
        replace_with_layer(rewriter, op, [(op.input, "in")], lambda k: build_unary(k, size, f))


def channel_view(shape: Sequence[int]) -> list[int]:
    """[N, C, rest] of a tensor normalised or scaled along dim 1 (a rank-1 tensor is one channel)."""
    if len(shape) < 2:
        return [1, 1, math.prod(shape)]
    return [shape[0], shape[1], math.prod(shape[2:])]


def build_prelu(k: Kernel, shape: Sequence[int], per_channel: bool) -> None:
    dims = channel_view(shape)
    x, slope, out = k.args
    x, out = k.view(x, dims), k.view(out, dims)

    def channel(ivs: list[Ix]) -> None:
        s = k.load(slope, [ivs[1] if per_channel else 0])

        def element(i: list[Ix]) -> None:
            v = k.load(x, [*ivs, *i])
            k.store(k.select(k.cmpf("ogt", v, k.f32(0.0)), v, k.mulf(v, s)), out, [*ivs, *i])

        k.nest([(0, dims[2], "i")], element)

    k.nest([(0, dims[0], "n"), (0, dims[1], "c")], channel)


class LowerPrelu(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.PreluOp, rewriter: PatternRewriter) -> None:
        shape = shape_of(op.input)
        per_channel = shape_of(op.slope) != (1,)
        replace_with_layer(rewriter, op, [(op.input, "in"), (op.slope, "slope")],
                           lambda k: build_prelu(k, shape, per_channel))


def rsqrt(k: Kernel, x: SSAValue) -> SSAValue:
    """1 / sqrt(x) for a normal x > 0: 0x5f3759df - (bits >> 1), then three Newton steps y (1.5 - x/2 y^2)."""
    bits = k.emit(arith.BitcastOp(x, i32))
    y = k.emit(arith.BitcastOp(k.emit(arith.SubiOp(k.i32(0x5F3759DF), k.emit(arith.ShRUIOp(bits, k.i32(1))))), f32))
    half = k.mulf(x, k.f32(0.5))
    for _ in range(3):
        y = k.mulf(y, k.subf(k.f32(1.5), k.mulf(half, k.mulf(y, y))))
    return y


def build_batch_norm_stats(k: Kernel, shape: Sequence[int], eps: float) -> None:
    n, c, rest = channel_view(shape)
    x, weight, bias, out = k.args
    x, out = k.view(x, [n, c, rest]), k.view(out, [n, c, rest])
    inv_count = k.f32(1.0 / (n * rest))

    def channel(ivs: list[Ix]) -> None:
        ch = ivs[0]
        every = [(0, n, "n"), (0, rest, "i")]
        (total,) = k.reduce(every, [k.f32(0.0)], lambda i, acc: (k.addf(acc[0], k.load(x, [i[0], ch, i[1]])),))
        mean = k.mulf(total, inv_count)

        def square(i: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            d = k.subf(k.load(x, [i[0], ch, i[1]]), mean)
            return (k.addf(acc[0], k.mulf(d, d)),)

        (squares,) = k.reduce(every, [k.f32(0.0)], square)
        scale = k.mulf(rsqrt(k, k.addf(k.mulf(squares, inv_count), k.f32(eps))), k.load(weight, [ch]))
        shift = k.subf(k.load(bias, [ch]), k.mulf(mean, scale))
        k.nest(every, lambda i: k.store(k.addf(k.mulf(k.load(x, [i[0], ch, i[1]]), scale), shift), out,
                                        [i[0], ch, i[1]]))

    k.nest([(0, c, "c")], channel)


class LowerBatchNormStats(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.BatchNormStatsOp, rewriter: PatternRewriter) -> None:
        shape, eps = shape_of(op.input), float(op.eps.value.data)
        replace_with_layer(rewriter, op, [(op.input, "in"), (op.weight, "weight"), (op.bias, "bias")],
                           lambda k: build_batch_norm_stats(k, shape, eps))


@dataclass(frozen=True)
class LowerNnActivation(ModulePass):
    """Lower the fused activations, prelu and batch_norm_stats to loops, one layer function each."""

    name = "lower-nn-activation"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = GreedyRewritePatternApplier([LowerActivation(), LowerPrelu(), LowerBatchNormStats()])
        PatternRewriteWalker(patterns, apply_recursively=False).rewrite_module(op)
