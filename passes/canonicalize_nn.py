"""canonicalize-nn: local simplifications of `nn` ops that later passes then need not handle.

- flatten is a reshape: one view op for the lowering to know;
- reshape to the same shape is the identity; reshape of a reshape is one reshape;
- an elementwise op, or a batch norm whose channel axis a reshape keeps, moves above the reshape it reads, so that
  it meets its producer: Conv1d's `conv2d -> reshape -> batch_norm -> relu` becomes `conv2d -> batch_norm -> relu
  -> reshape`, which fold-batchnorm and fuse-activation then fuse (the pipeline canonicalizes before and after);
- clamp to [-inf, inf] and relu of a relu do nothing;
- adding a zero constant or multiplying by a one constant (same shape as the result) does nothing;
- a weight no op uses any more (e.g. after batch-norm folding) is removed: the pattern walker erases every
  trivially dead op (nn ops are Pure) before it tries the patterns.

Dropout in eval mode never reaches the nn dialect: the importer drops it (it is the identity at inference).
"""

from __future__ import annotations

import math
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
from xdsl.rewriter import InsertPoint

from t2m.dialects import nn


class FlattenToReshape(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.FlattenOp, rewriter: PatternRewriter) -> None:
        rewriter.replace(op, nn.ReshapeOp(op.input, op.output.type.get_shape()))  # type: ignore[attr-defined]


class FoldReshape(RewritePattern):
    """reshape(x) to x's own shape -> x; reshape(reshape(x)) -> reshape(x)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ReshapeOp, rewriter: PatternRewriter) -> None:
        if op.input.type == op.output.type:
            rewriter.replace_all_uses_with(op.output, op.input)
            rewriter.erase(op)
        elif isinstance(inner := op.input.owner, nn.ReshapeOp):
            rewriter.replace(op, nn.ReshapeOp(inner.input, op.output.type.get_shape()))  # type: ignore[attr-defined]


ELEMENTWISE = (nn.UnaryOp, nn.ClampOp, nn.ScalarParamOp, nn.GeluOp)
"""one-input ops that act on each element alone: they commute with any reshape"""


class HoistOverReshape(RewritePattern):
    """op(reshape(x)) -> reshape(op(x)) for an elementwise op, or a batch norm when the reshape keeps dims 0 and 1
    (its channel axis); only when the reshape has no other use, so nothing is computed twice."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.UnaryOp | nn.ClampOp | nn.ScalarParamOp | nn.GeluOp | nn.BatchNormOp,
                          rewriter: PatternRewriter) -> None:
        reshape = op.operands[0].owner
        if not isinstance(reshape, nn.ReshapeOp) or not reshape.output.has_one_use():
            return
        source = reshape.input.type.get_shape()  # type: ignore[attr-defined]
        if isinstance(op, nn.BatchNormOp) and source[:2] != op.output.type.get_shape()[:2]:  # type: ignore[attr-defined]
            return
        hoisted = type(op).create(operands=[reshape.input, *op.operands[1:]], result_types=[reshape.input.type],
                                  properties=dict(op.properties), attributes=dict(op.attributes))
        rewriter.insert(hoisted, InsertPoint.before(op))
        rewriter.replace(op, nn.ReshapeOp(hoisted.results[0], op.results[0].type.get_shape()))  # type: ignore[attr-defined]


class RemoveNoOpActivation(RewritePattern):
    """clamp(x, -inf, inf) -> x (not with finite bounds, even +-FLT_MAX: they turn +-inf into +-FLT_MAX)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ClampOp, rewriter: PatternRewriter) -> None:
        if op.min.value.data == -math.inf and op.max.value.data == math.inf:
            rewriter.replace_all_uses_with(op.output, op.input)
            rewriter.erase(op)


class FoldReluOfRelu(RewritePattern):
    """relu(relu(x)) -> relu(x)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ReluOp, rewriter: PatternRewriter) -> None:
        if isinstance(op.input.owner, nn.ReluOp):
            rewriter.replace_all_uses_with(op.output, op.input)
            rewriter.erase(op)


class RemoveNeutralOperand(RewritePattern):
    """x + 0 -> x and x * 1 -> x, when x already has the result's shape and no activation is fused."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.BinaryOp, rewriter: PatternRewriter) -> None:
        neutral = 0.0 if isinstance(op, nn.AddOp) else 1.0
        if op.activation_bounds() != (None, None):
            return
        for keep, other in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            value = nn.constant_array(other)
            if keep.type == op.output.type and value is not None and np.all(value == neutral):
                rewriter.replace_all_uses_with(op.output, keep)
                rewriter.erase(op)
                return


@dataclass(frozen=True)
class CanonicalizeNnPass(ModulePass):
    """Simplify nn ops and drop unused weights."""

    name = "canonicalize-nn"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = [
            FlattenToReshape(),
            FoldReshape(),
            HoistOverReshape(),
            RemoveNoOpActivation(),
            FoldReluOfRelu(),
            RemoveNeutralOperand(),
        ]
        PatternRewriteWalker(GreedyRewritePatternApplier(patterns)).rewrite_module(op)
