"""`cf.br` / `cf.cond_br` -> `llvm.br` / `llvm.cond_br` (xDSL 0.74 has no such conversion).

Branches carry block arguments (loop counters and `iter_args` after `convert-scf-to-cf`), so the successor
blocks' index arguments are retyped to i32 first (`convert_block_arguments`, shared with
`convert-index-to-llvm`), then each branch forwards i32 operands. The emitter turns block arguments into phis.
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects import cf, llvm
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint
from xdsl.utils.exceptions import PassFailedException

from t2m.passes.convert_index_to_llvm import cast, convert_block_arguments


def _forward(values: tuple[SSAValue, ...] | list[SSAValue], block: Block, at: InsertPoint) -> list[SSAValue]:
    """The branch operands, cast to the (already converted) argument types of `block`."""
    return [cast(value, arg.type, at) for value, arg in zip(values, block.args, strict=True)]


class BranchToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: cf.BranchOp, rewriter: PatternRewriter, /):
        convert_block_arguments(op.successor)
        at = InsertPoint.before(op)
        rewriter.replace(op, llvm.BrOp(op.successor, *_forward(list(op.arguments), op.successor, at)))


class CondBranchToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: cf.ConditionalBranchOp, rewriter: PatternRewriter, /):
        convert_block_arguments(op.then_block)
        convert_block_arguments(op.else_block)
        at = InsertPoint.before(op)
        new = llvm.CondBrOp(
            op.cond,
            op.then_block,
            _forward(list(op.then_arguments), op.then_block, at),
            op.else_block,
            _forward(list(op.else_arguments), op.else_block, at),
        )
        rewriter.replace(op, new)


class RejectUnsupported(RewritePattern):
    """`cf.switch` (from `scf.index_switch`) and `cf.assert` have no t2m lowering yet: say so instead of crashing."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: cf.SwitchOp | cf.AssertOp, rewriter: PatternRewriter, /):
        raise PassFailedException(f"{op.name} is not supported by convert-cf-to-llvm")


class ConvertCfToLLVMPass(ModulePass):
    """Unconditional and conditional branches, with their block arguments, to `llvm`."""

    name = "convert-cf-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier([BranchToLLVM(), CondBranchToLLVM(), RejectUnsupported()]),
            apply_recursively=False,
        ).rewrite_module(op)
