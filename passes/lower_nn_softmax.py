"""lower-nn-softmax: `nn.softmax` (and `nn.log_softmax`) -> a layer function of three passes over each row.

The tensor is viewed as [outer, L, inner] around the softmax axis. Per (outer, inner) row: the maximum
(cmpf + select), then e = exp(x - max) stored into the output while summing (x - max <= 0, so `Kernel.exp`
never overflows), then one division 1/sum and a multiply per element (VDIV costs 14 cycles on the M4).
log_softmax instead subtracts max + log(sum) (one `Kernel.log` per row) and never stores the exps.

NaN and infinities as in PyTorch, without a NaN test per element: the maximum skips NaN (`Kernel.larger`, one
compare), but a NaN entry's exp is NaN and so is the sum, and with it the whole row; a +inf entry makes the
maximum +inf and its own x - max NaN, so the row is NaN too; -inf entries give exp 0 (log_softmax: -inf); a row
of only -inf has max -inf and x - max NaN everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from t2m.dialects import nn
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of


def build_softmax(k: Kernel, outer: int, length: int, inner: int, log: bool) -> None:
    x, out = (k.view(a, [outer, length, inner]) for a in k.args)

    def row(ivs: list[Ix]) -> None:
        o, i = ivs
        at = lambda ivs: [o, ivs[0], i]  # noqa: E731

        def biggest(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            return (k.larger(acc[0], k.load(x, at(ivs))),)

        (top,) = k.reduce([(0, length, "l")], [k.f32(float("-inf"))], biggest)

        def exp_sum(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            e = k.exp(k.subf(k.load(x, at(ivs)), top), nonpositive=True)
            k.store(e, out, at(ivs))
            return (k.addf(acc[0], e),)

        def sum_exp(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            return (k.addf(acc[0], k.exp(k.subf(k.load(x, at(ivs)), top), nonpositive=True)),)

        (total,) = k.reduce([(0, length, "l")], [k.f32(0.0)], sum_exp if log else exp_sum)
        if log:  # x - (max + log(sum)): total >= 1 (the maximum contributes exp(0)), so log is in range
            shift = k.addf(top, k.log(total))
            k.nest([(0, length, "l")], lambda ivs: k.store(k.subf(k.load(x, at(ivs)), shift), out, at(ivs)))
            return
        inv = k.divf(k.f32(1.0), total)
        k.nest([(0, length, "l")], lambda ivs: k.store(k.mulf(k.load(out, at(ivs)), inv), out, at(ivs)))

    k.nest([(0, outer, "o"), (0, inner, "i")], row)


class LowerSoftmax(RewritePattern):
    """nn.softmax / nn.log_softmax -> `@<model>_L<i>_softmax(%in, %out)` / `..._log_softmax`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.AxisOp, rewriter: PatternRewriter) -> None:
        shape = shape_of(op.input)
        axis = op.axis.value.data
        outer, length, inner = math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :])
        log = isinstance(op, nn.LogSoftmaxOp)
        replace_with_layer(rewriter, op, [(op.input, "in")], lambda k: build_softmax(k, outer, length, inner, log))


@dataclass(frozen=True)
class LowerNnSoftmax(ModulePass):
    """Lower every nn.softmax to max / exp-sum / scale loops in its own layer function."""

    name = "lower-nn-softmax"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerSoftmax(), apply_recursively=False).rewrite_module(op)
