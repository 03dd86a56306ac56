"""fuse-activation: relu / relu6 / clamp after conv2d, linear, add, mul or pooling moves into that op.

The producer then clamps each value as it stores it (`act_min`/`act_max`), so the activation costs two compares
per output instead of a whole extra pass over memory. Activations compose: clamp(relu(conv)) fuses into one
[max(lo1, lo2), min(hi1, hi2)] window.

Not fused: a producer with other users (they need the values before the activation), or a producer that is not
one of the ops above.
"""

from __future__ import annotations

from collections.abc import Callable
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

from t2m.dialects import nn


def _tighter(a: float | None, b: float | None, pick: Callable[[float, float], float]) -> float | None:
    if a is None or b is None:
        return b if a is None else a
    return pick(a, b)


def _fuse(
    input: SSAValue, lo: float | None, hi: float | None, activation: nn.UnaryOp | nn.ClampOp, rewriter: PatternRewriter
) -> None:
    """Narrow the producer's clamp window to [lo, hi] and let it stand in for `activation`."""
    producer = input.owner
    if not isinstance(producer, nn.FusedActivation) or not input.has_one_use():
        return
    old_lo, old_hi = producer.activation_bounds()
    new_lo, new_hi = _tighter(old_lo, lo, max), _tighter(old_hi, hi, min)
    if new_lo is not None and new_hi is not None and new_lo > new_hi:
        return  # an empty window: leave the IR as the user wrote it
    producer.set_activation_bounds(new_lo, new_hi)
    rewriter.replace_all_uses_with(activation.output, input)
    rewriter.erase(activation)


class FuseRelu(RewritePattern):
    """relu(producer(...)) -> producer(...) {act_min = 0.0}."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ReluOp, rewriter: PatternRewriter) -> None:
        _fuse(op.input, 0.0, None, op, rewriter)


class FuseClamp(RewritePattern):
    """clamp(producer(...), lo, hi) -> producer(...) {act_min = lo, act_max = hi} (ReLU6 is clamp 0..6)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ClampOp, rewriter: PatternRewriter) -> None:
        _fuse(op.input, op.min.value.data, op.max.value.data, op, rewriter)


@dataclass(frozen=True)
class FuseActivationPass(ModulePass):
    """Fuse relu/relu6/clamp into the op that produces their input."""

    name = "fuse-activation"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(GreedyRewritePatternApplier([FuseRelu(), FuseClamp()])).rewrite_module(op)
