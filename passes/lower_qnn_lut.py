"""lower-qnn-lut: qnn.lut -> one load from a 256-entry int8 table per element.

The table is a constant operand (`[1, 256]`, or `[C, 256]` with one row per channel of dim 1), so it lands in
flash next to the weights; the element `x` reads entry `x + 128` (an `index_cast` of the int8 value, the +128 an
affine offset folded into the address). A per-channel table is indexed by the channel loop's variable, the row
chosen once per channel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from t2m.dialects import qnn
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of
from t2m.passes.lower_nn_activation import channel_view


def build_lut(k: Kernel, shape: Sequence[int], per_channel: bool) -> None:
    dims = channel_view(shape) if per_channel else [1, 1, math.prod(shape)]
    x, table, out = k.args
    x, out = k.view(x, dims), k.view(out, dims)

    def channel(ivs: list[Ix]) -> None:
        row = ivs[1] if per_channel else 0

        def element(i: list[Ix]) -> None:
            v = k.load(x, [*ivs, *i])
            entry: SSAValue = k.emit(arith.IndexCastOp(v, IndexType()))
            k.store(k.load(table, [row, Ix.of(entry) + 128]), out, [*ivs, *i])

        k.nest([(0, dims[2], "i")], element)

    k.nest([(0, dims[0], "n"), (0, dims[1], "c")], channel)


class LowerLut(RewritePattern):
    """qnn.lut -> `@<model>_L<i>_lut(%in, %table, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.LutOp, rewriter: PatternRewriter) -> None:
        shape = shape_of(op.input)
        per_channel = shape_of(op.table)[0] > 1
        replace_with_layer(rewriter, op, [(op.input, "in"), (op.table, "table")],
                           lambda k: build_lut(k, shape, per_channel))


@dataclass(frozen=True)
class LowerQnnLut(ModulePass):
    """Lower qnn.lut to table loads, one layer function each."""

    name = "lower-qnn-lut"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerLut(), apply_recursively=False).rewrite_module(op)
