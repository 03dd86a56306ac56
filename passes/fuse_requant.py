"""fuse-requant: the int8 conv2d / linear -> rescale -> clamp chain becomes one op that stores int8 directly.

The importer writes the integer steps as TOSA does, one op each (docs/int8.md): `qnn.conv2d` accumulates in
int32, `qnn.rescale` requantizes to int8, `qnn.clamp` applies the activation. Separately they would cost an
int32 buffer four times the size of the result and two more passes over memory; fused, the requantization and
the clamp happen in the store of each accumulator, which is how CMSIS-NN's kernels (and t2m's) work:

    %acc = qnn.conv2d %x, %w, %b {input_zp = -3}                  ->  %r = qnn.conv2d %x, %w, %b {input_zp = -3,
    %q = qnn.rescale %acc {requant = #qnn.requant<...>, axis = 1}           requant = #qnn.requant<...>,
    %r = qnn.clamp %q {min = -3, max = 127}                                 act_min = -3 : i32}

Fused only when the accumulator has no other user and the rescale's channel axis is the op's output channel
axis; a clamp also fuses into the other int8 ops that carry an activation range (add, mul, the pools).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from t2m.dialects import qnn


class FuseRescale(RewritePattern):
    """rescale(conv2d | linear accumulator) -> conv2d | linear {requant}, storing int8."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.RescaleOp, rewriter: PatternRewriter) -> None:
        producer = op.input.owner
        if not isinstance(producer, qnn.Accumulate) or producer.requant is not None or not op.input.has_one_use():
            return
        rank = len(op.input.type.get_shape())  # pyright: ignore[reportAttributeAccessIssue]
        per_channel = op.requant.channels > 1
        if op.input_zp.value.data != 0 or (per_channel and op.axis.value.data != producer.CHANNEL_AXIS % rank):
            return
        new = type(producer).create(
            operands=list(producer.operands),
            result_types=[op.output.type],
            properties=dict(producer.properties) | {"requant": op.requant},
            attributes=dict(producer.attributes),
        )
        rewriter.replace(op, new)
        rewriter.erase(producer)


class FuseClamp(RewritePattern):
    """clamp(op with an int8 activation range) -> op {act_min, act_max} narrowed to the clamp's bounds."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.ClampOp, rewriter: PatternRewriter) -> None:
        producer = op.input.owner
        if not isinstance(producer, qnn.Int8Activation) or not op.input.has_one_use():
            return
        if isinstance(producer, qnn.Accumulate) and producer.requant is None:
            return  # an int32 accumulator: the clamp needs the rescale first
        lo, hi = producer.activation_range()
        lo, hi = max(lo, op.min.value.data), min(hi, op.max.value.data)
        if lo > hi:
            return  # an empty range: leave the IR as written
        producer.set_activation_range(lo, hi)
        rewriter.replace_all_uses_with(op.output, op.input)
        rewriter.erase(op)


@dataclass(frozen=True)
class FuseRequantPass(ModulePass):
    """Fold each int8 accumulator's rescale and clamp into the op that computes it."""

    name = "fuse-requant"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(GreedyRewritePatternApplier([FuseRescale(), FuseClamp()])).rewrite_module(op)
