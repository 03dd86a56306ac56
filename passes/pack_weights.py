"""pack-weights: store weights in the order the chosen kernel reads them, at compile time.

The blocked linear kernel computes 8 (or 4) outputs at once: for each input it loads one activation and the
8 weights of that input for those outputs. Stored as PyTorch's [out, in], those 8 weights are `in` floats apart;
packed ("blocked" layout, `nn.pack_linear_weight`) they are adjacent, so the kernel walks its weights in one
sequential stream (LDRD/VLDR with small immediate offsets, one pointer increment per input). The op records
`weight_layout = "blocked"`; the lowering and the reference interpreter read it.

Not packed: weights that are not constants (nothing to reorder at compile time), linears with fewer than 4
outputs (no block to fill), and weights already packed. A weight constant shared with another op is copied.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern, op_type_rewrite_pattern

from t2m.dialects import nn


class PackLinearWeight(RewritePattern):
    """nn.linear(x, W[out, in]) -> nn.linear(x, blocked(W)) {weight_layout = "blocked"}."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.LinearOp, rewriter: PatternRewriter) -> None:
        weight = nn.constant_array(op.weight)
        if op.weight_layout is not None or weight is None or weight.shape[0] < nn.LINEAR_LANES:
            return
        packed = rewriter.insert(nn.ConstantOp.from_array(nn.pack_linear_weight(weight)))
        op.operands[1] = packed.output
        op.weight_layout = StringAttr("blocked")
        rewriter.has_done_action = True


@dataclass(frozen=True)
class PackWeightsPass(ModulePass):
    """Reorder constant weights into the layout their kernels read."""

    name = "pack-weights"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(PackLinearWeight(), apply_recursively=False).rewrite_module(op)
