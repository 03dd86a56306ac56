"""Chapter 4, exercise 1: `drop-redundant-relu`, a ReLU whose input is never negative is the identity.

    t2m-opt docs/tutorial/code/redundant.mlir --load-pass-plugin docs/tutorial/solutions/drop_relu.py \
        -p drop-redundant-relu

Non-negative producers: sigmoid, relu, a clamp with min >= 0, and any op with a fused activation whose act_min is
>= 0 (a conv after fuse-activation). tanh is not one of them: its ReLU stays.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern, op_type_rewrite_pattern

from t2m.dialects import nn


def never_negative(value: SSAValue) -> bool:
    """True where the op producing `value` guarantees value >= 0 (NaN aside, which relu keeps too)."""
    op = value.owner
    if isinstance(op, nn.SigmoidOp | nn.ReluOp):
        return True
    if isinstance(op, nn.ClampOp):
        return op.min.value.data >= 0
    if isinstance(op, nn.FusedActivation):
        lo, _ = op.activation_bounds()
        return lo is not None and lo >= 0
    return False


class DropRedundantRelu(RewritePattern):
    """relu(x) -> x where x >= 0 already."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ReluOp, rewriter: PatternRewriter) -> None:
        if never_negative(op.input):
            rewriter.replace_all_uses_with(op.output, op.input)
            rewriter.erase(op)


@dataclass(frozen=True)
class DropRedundantReluPass(ModulePass):
    name = "drop-redundant-relu"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(DropRedundantRelu()).rewrite_module(op)
