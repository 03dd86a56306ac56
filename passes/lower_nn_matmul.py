"""lower-nn-matmul: nn.matmul (two activations, batch dims broadcast) -> a layer function of scalar loops.

Per batch index and output row, for each column the K products are summed in an f32 accumulator (iter_args);
a broadcast batch dim of size 1 reads index 0. The right operand is read down a column (stride N): for the
small matrices of tiny attention blocks the loads stay in SRAM either way, and the kernel stays readable.
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


def build_matmul(k: Kernel, lhs: tuple[int, ...], rhs: tuple[int, ...], out: tuple[int, ...]) -> None:
    a, b, y = k.args
    batch = out[:-2]
    m, n, depth = out[-2], out[-1], lhs[-1]

    def cell(ivs: list[Ix]) -> None:
        *bs, i, j = ivs
        ab = [iv if d > 1 else 0 for iv, d in zip(bs, lhs[:-2], strict=True)]
        bb = [iv if d > 1 else 0 for iv, d in zip(bs, rhs[:-2], strict=True)]

        def mac(ks: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            return (k.addf(acc[0], k.mulf(k.load(a, [*ab, i, ks[0]]), k.load(b, [*bb, ks[0], j]))),)

        (total,) = k.reduce([(0, depth, "k")], [k.f32(0.0)], mac)
        k.store(total, y, ivs)

    k.nest([*((0, d, f"b{x}") for x, d in enumerate(batch)), (0, m, "i"), (0, n, "j")], cell)


class LowerMatmul(RewritePattern):
    """nn.matmul -> `@<model>_L<i>_matmul(%lhs, %rhs, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MatmulOp, rewriter: PatternRewriter) -> None:
        lhs, rhs, out = shape_of(op.lhs), shape_of(op.rhs), shape_of(op.output)
        macs = math.prod(out) * lhs[-1]
        replace_with_layer(rewriter, op, [(op.lhs, "lhs"), (op.rhs, "rhs")],
                           lambda k: build_matmul(k, lhs, rhs, out), macs)


@dataclass(frozen=True)
class LowerNnMatmul(ModulePass):
    """Lower every nn.matmul to multiply-accumulate loops."""

    name = "lower-nn-matmul"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerMatmul(), apply_recursively=False).rewrite_module(op)
