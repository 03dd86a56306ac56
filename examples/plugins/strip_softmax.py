"""A t2m pass plugin: `t2m-opt --load-pass-plugin examples/plugins/strip_softmax.py -p strip-final-softmax`.

A classifier's firmware usually needs only the arg-max of the logits, and softmax does not change it: dropping the
final softmax saves its exps and divisions. A plugin file is plain Python: define RewritePatterns and a ModulePass
with a `name`; t2m-opt registers every ModulePass subclass the file defines.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern, op_type_rewrite_pattern

from t2m.dialects import nn


class StripReturnedSoftmax(RewritePattern):
    """return softmax(x) -> return x (only where the softmax feeds the function's result and nothing else)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.SoftmaxOp, rewriter: PatternRewriter) -> None:
        if all(isinstance(use.operation, func.ReturnOp) for use in op.output.uses):
            rewriter.replace_all_uses_with(op.output, op.input)
            rewriter.erase(op)


@dataclass(frozen=True)
class StripFinalSoftmax(ModulePass):
    name = "strip-final-softmax"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(StripReturnedSoftmax()).rewrite_module(op)
