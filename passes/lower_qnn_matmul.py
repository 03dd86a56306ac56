"""lower-qnn-matmul: qnn.matmul and qnn.reduce_sum -> int32 accumulation loops in their own layer functions.

Both subtract the zero points as they load (i32 arithmetic, as CMSIS-NN's reference kernels) and store the
int32 accumulator; the `qnn.rescale` after them (lower-qnn-elementwise) makes int8 of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.context import Context
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

from t2m.dialects import qnn
from t2m.passes._int8 import Ints
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of


def build_qmatmul(k: Kernel, lhs: tuple[int, ...], rhs: tuple[int, ...], out: tuple[int, ...], zps: tuple[int, int]
                  ) -> None:
    q = Ints(k)
    a, b, y = k.args
    m, n, depth = out[-2], out[-1], lhs[-1]

    def cell(ivs: list[Ix]) -> None:
        *bs, i, j = ivs
        ab = [iv if d > 1 else 0 for iv, d in zip(bs, lhs[:-2], strict=True)]
        bb = [iv if d > 1 else 0 for iv, d in zip(bs, rhs[:-2], strict=True)]

        def mac(ks: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            x = q.sub(q.load(a, [*ab, i, ks[0]]), zps[0])
            w = q.sub(q.load(b, [*bb, ks[0], j]), zps[1])
            return (q.add(acc[0], q.mul(x, w)),)

        (total,) = k.reduce([(0, depth, "k")], [q.const(0)], mac)
        k.store(total, y, ivs)

    k.nest([*((0, d, f"b{x}") for x, d in enumerate(out[:-2])), (0, m, "i"), (0, n, "j")], cell)


def build_reduce_sum(k: Kernel, shape: tuple[int, ...], axes: tuple[int, ...], zp: int) -> None:
    q = Ints(k)
    x, out = k.args
    kept = [(0, 1 if i in axes else d, f"d{i}") for i, d in enumerate(shape)]
    count = math.prod(shape[a] for a in axes)

    def cell(ivs: list[Ix]) -> None:
        def add(rs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            index = list(ivs)
            for a, r in zip(axes, rs, strict=True):
                index[a] = r
            return (q.add(acc[0], q.load(x, index)),)

        (total,) = k.reduce([(0, shape[a], f"r{a}") for a in axes], [q.const(0)], add)
        k.store(q.sub(total, zp * count), out, ivs)  # the zero points subtracted once per sum

    k.nest(kept, cell)


class LowerQMatmul(RewritePattern):
    """qnn.matmul -> `@<model>_L<i>_matmul(%lhs, %rhs, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.MatmulOp, rewriter: PatternRewriter) -> None:
        lhs, rhs, out = shape_of(op.lhs), shape_of(op.rhs), shape_of(op.output)
        zps = (op.lhs_zp.value.data, op.rhs_zp.value.data)
        replace_with_layer(rewriter, op, [(op.lhs, "lhs"), (op.rhs, "rhs")],
                           lambda k: build_qmatmul(k, lhs, rhs, out, zps), math.prod(out) * lhs[-1])


class LowerReduceSum(RewritePattern):
    """qnn.reduce_sum -> `@<model>_L<i>_reduce_sum(%in, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.ReduceSumOp, rewriter: PatternRewriter) -> None:
        shape, axes, zp = shape_of(op.input), op.reduced_axes(), op.input_zp.value.data
        replace_with_layer(rewriter, op, [(op.input, "in")], lambda k: build_reduce_sum(k, shape, axes, zp))


@dataclass(frozen=True)
class LowerQnnMatmul(ModulePass):
    """Lower qnn.matmul and qnn.reduce_sum to int32 accumulation loops."""

    name = "lower-qnn-matmul"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = GreedyRewritePatternApplier([LowerQMatmul(), LowerReduceSum()])
        PatternRewriteWalker(patterns, apply_recursively=False).rewrite_module(op)
