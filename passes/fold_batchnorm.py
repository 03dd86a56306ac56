"""fold-batchnorm: conv2d/linear followed by an inference batch_norm becomes one conv2d/linear.

At inference, batch_norm is an affine map per channel, y = (x - mean) * s + beta with s = gamma / sqrt(var + eps).
Applied to a convolution's output channel c it is the same convolution with weights scaled by s[c] and bias
(b[c] - mean[c]) * s[c] + beta[c]: the whole layer disappears at compile time. The folded constants are computed
in float64 and rounded once to float32.

Not folded: a producer with other users (they need the unnormalised values), non-constant weights or statistics,
a linear whose output features are not dim 1 (batch_norm normalises dim 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
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

from t2m.dialects import nn


def _folded(
    rewriter: PatternRewriter, producer: nn.Conv2dOp | nn.LinearOp, bn: nn.BatchNormOp
) -> tuple[nn.ConstantOp, nn.ConstantOp] | None:
    """New (weight, bias) constants with the batch_norm folded in, inserted before the producer."""
    affine = bn.affine()
    weight = nn.constant_array(producer.weight)
    if affine is None or weight is None:
        return None
    bias = np.zeros(weight.shape[0]) if producer.bias is None else nn.constant_array(producer.bias)
    if bias is None:
        return None
    scale, shift = affine
    shape = (-1,) + (1,) * (weight.ndim - 1)
    new_weight = nn.ConstantOp.from_array(np.asarray(weight, np.float64) * scale.reshape(shape))
    new_bias = nn.ConstantOp.from_array(np.asarray(bias, np.float64) * scale + shift)
    rewriter.insert(new_weight)
    rewriter.insert(new_bias)
    return new_weight, new_bias


class FoldIntoConv2d(RewritePattern):
    """batch_norm(conv2d(x, W, b)) -> conv2d(x, W * s, (b - mean) * s + beta)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.BatchNormOp, rewriter: PatternRewriter) -> None:
        conv = op.input.owner
        if not isinstance(conv, nn.Conv2dOp) or not conv.output.has_one_use() or conv.act_min or conv.act_max:
            return
        folded = _folded(rewriter, conv, op)
        if folded is None:
            return
        weight, bias = folded
        rewriter.replace(op, nn.Conv2dOp(conv.input, weight, bias, *conv.geometry(), conv.groups.value.data))
        rewriter.erase(conv)


class FoldIntoLinear(RewritePattern):
    """batch_norm(linear(x, W, b)) over features -> linear(x, W * s, (b - mean) * s + beta)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.BatchNormOp, rewriter: PatternRewriter) -> None:
        linear = op.input.owner
        if not isinstance(linear, nn.LinearOp) or not linear.output.has_one_use() or linear.act_min or linear.act_max:
            return
        if len(linear.output.type.get_shape()) != 2:  # type: ignore[attr-defined]
            return  # batch_norm's channel dim 1 is the feature dim only for [N, features]
        folded = _folded(rewriter, linear, op)
        if folded is None:
            return
        rewriter.replace(op, nn.LinearOp(linear.input, folded[0], folded[1]))
        rewriter.erase(linear)


@dataclass(frozen=True)
class FoldBatchNormPass(ModulePass):
    """Fold inference batch_norm into the conv2d or linear before it."""

    name = "fold-batchnorm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier([FoldIntoConv2d(), FoldIntoLinear()]), apply_recursively=False
        ).rewrite_module(op)
