"""lower-nn-reduce: nn.reduce (sum / mean over axes) and nn.layer_norm -> loops in their own layer functions.

nn.reduce: one nest over the (keepdim) result, an inner nest over the reduced axes carrying the f32 sum
(iter_args), a mean multiplied by 1/count once per result.

nn.layer_norm: the input viewed as [rows, L] (L = the normalised elements). Per row, two passes for the mean and
the biased variance (the two-pass form: no cancellation of E[x^2] - E[x]^2), 1/sqrt(var + eps) by a bit-trick
estimate and three Newton steps in arith (t2m's arith-to-llvm has no sqrt; three steps take the estimate's
3.4% error below f32 resolution, and no division is needed), then one pass scaling, with the affine weight and
bias.
"""

from __future__ import annotations

import math
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


def build_reduce(k: Kernel, shape: tuple[int, ...], axes: tuple[int, ...], mean: bool) -> None:
    x, out = k.args
    kept = [(0, 1 if i in axes else n, f"d{i}") for i, n in enumerate(shape)]
    reduced = [(0, shape[a], f"r{a}") for a in axes]
    count = math.prod(shape[a] for a in axes)

    def cell(ivs: list[Ix]) -> None:
        def add(rs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            index = list(ivs)
            for a, r in zip(axes, rs, strict=True):
                index[a] = r
            return (k.addf(acc[0], k.load(x, index)),)

        (total,) = k.reduce(reduced, [k.f32(0.0)], add)
        k.store(k.mulf(total, k.f32(1.0 / count)) if mean else total, out, ivs)

    k.nest(kept, cell)


def rsqrt(k: Kernel, v: SSAValue) -> SSAValue:
    """1/sqrt(v) for a positive normal v: 0x5f3759df - (bits >> 1), then three Newton steps y (1.5 - v/2 y^2)."""
    bits = k.emit(arith.BitcastOp(v, i32))
    y = k.emit(arith.BitcastOp(k.emit(arith.SubiOp(k.i32(0x5F3759DF), k.emit(arith.ShRSIOp(bits, k.i32(1))))), f32))
    half = k.mulf(v, k.f32(0.5))
    for _ in range(3):
        y = k.mulf(y, k.subf(k.f32(1.5), k.mulf(half, k.mulf(y, y))))
    return y


def build_layer_norm(k: Kernel, rows: int, length: int, eps: float, affine: tuple[bool, bool]) -> None:
    x, *params, out = k.args
    x, out = k.view(x, [rows, length]), k.view(out, [rows, length])
    params = [k.view(p, [length]) for p in params]
    weight = params.pop(0) if affine[0] else None
    bias = params.pop(0) if affine[1] else None

    def row(ivs: list[Ix]) -> None:
        (r,) = ivs
        (total,) = k.reduce([(0, length, "l")], [k.f32(0.0)], lambda at, acc: (k.addf(acc[0], k.load(x, [r, at[0]])),))
        mean = k.mulf(total, k.f32(1.0 / length))

        def square(at: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            d = k.subf(k.load(x, [r, at[0]]), mean)
            return (k.addf(acc[0], k.mulf(d, d)),)

        (squares,) = k.reduce([(0, length, "l")], [k.f32(0.0)], square)
        inv = rsqrt(k, k.addf(k.mulf(squares, k.f32(1.0 / length)), k.f32(eps)))

        def scale(at: list[Ix]) -> None:
            y = k.mulf(k.subf(k.load(x, [r, at[0]]), mean), inv)
            if weight is not None:
                y = k.mulf(y, k.load(weight, [at[0]]))
            if bias is not None:
                y = k.addf(y, k.load(bias, [at[0]]))
            k.store(y, out, [r, at[0]])

        k.nest([(0, length, "l")], scale)

    k.nest([(0, rows, "r")], row)


class LowerReduce(RewritePattern):
    """nn.reduce -> `@<model>_L<i>_reduce(%in, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ReduceOp, rewriter: PatternRewriter) -> None:
        shape, axes, mean = shape_of(op.input), op.reduced_axes(), op.kind.data == "mean"
        replace_with_layer(rewriter, op, [(op.input, "in")], lambda k: build_reduce(k, shape, axes, mean))


class LowerLayerNorm(RewritePattern):
    """nn.layer_norm -> `@<model>_L<i>_layer_norm(%in[, %weight][, %bias], %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.LayerNormOp, rewriter: PatternRewriter) -> None:
        shape, axis = shape_of(op.input), op.axis.value.data
        rows, length = math.prod(shape[:axis]), math.prod(shape[axis:])
        eps = float(op.eps.value.data)
        operands = [(op.input, "in")]
        operands += [(v, n) for v, n in ((op.weight, "weight"), (op.bias, "bias")) if v is not None]
        affine = (op.weight is not None, op.bias is not None)
        replace_with_layer(rewriter, op, operands, lambda k: build_layer_norm(k, rows, length, eps, affine))


@dataclass(frozen=True)
class LowerNnReduce(ModulePass):
    """Lower nn.reduce and nn.layer_norm to accumulation loops."""

    name = "lower-nn-reduce"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = GreedyRewritePatternApplier([LowerReduce(), LowerLayerNorm()])
        PatternRewriteWalker(patterns, apply_recursively=False).rewrite_module(op)
