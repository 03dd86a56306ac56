"""`func` -> `llvm` (xDSL 0.74 has no such conversion): functions, calls and returns.

Linkage encodes t2m's object contract: the public `<name>_run` stays `external` (the C entry point); private
functions become `internal`; a layer function (attribute `t2m.layer = #t2m.layer<...>`) is also `noinline`, so
it stays a function of its own in the object, where the emulator attributes cycles to it. Declarations stay
external. Discardable attributes (the layer's description) ride along on the `llvm.func` for the emitter, and argument
attributes (`{llvm.noalias}`, `{llvm.nonnull}`...) on the `func.func` carry over to the LLVM parameters.
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects import func, llvm
from xdsl.dialects.builtin import ModuleOp, UnitAttr, UnrealizedConversionCastOp
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

from t2m.dialects.t2m import layer_of
from t2m.passes.convert_index_to_llvm import as_llvm, llvm_type, replace_with_llvm


def _single_result(types: tuple, what: str):  # type: ignore[type-arg]
    if len(types) > 1:
        raise PassFailedException(f"{what} returns {len(types)} values; LLVM functions return at most one")
    return llvm_type(types[0]) if types else llvm.LLVMVoidType()


class FuncToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.FuncOp, rewriter: PatternRewriter, /):
        name = op.sym_name.data
        inputs = [llvm_type(t) for t in op.function_type.inputs]
        output = _single_result(tuple(op.function_type.outputs), f"function @{name}")
        is_declaration = not op.body.blocks
        private = op.sym_visibility is not None and op.sym_visibility.data == "private"
        linkage = "internal" if private and not is_declaration else "external"
        props: dict = {"no_inline": UnitAttr()} if layer_of(op) is not None else {}  # type: ignore[type-arg]
        if op.arg_attrs is not None:  # e.g. {llvm.noalias} on a layer's output buffer
            props["arg_attrs"] = op.arg_attrs
        body = rewriter.move_region_contents_to_new_regions(op.body)
        if body.blocks:
            entry = body.blocks[0]
            for arg, new_type in zip(list(entry.args), inputs, strict=True):
                if arg.type != new_type:
                    old_type = arg.type
                    new_arg = rewriter.replace_value_with_new_type(arg, new_type)
                    back = UnrealizedConversionCastOp.get([new_arg], [old_type])
                    rewriter.insert(back, InsertPoint.at_start(entry))
                    new_arg.replace_uses_with_if(back.results[0], lambda use, b=back: use.operation is not b)
        new = llvm.FuncOp(
            name,
            llvm.LLVMFunctionType(inputs, output),
            linkage=llvm.LinkageAttr(linkage),
            body=body,
            other_props=props,
            extra_attrs=dict(op.attributes),
        )
        rewriter.replace(op, new)


class CallToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.CallOp, rewriter: PatternRewriter, /):
        result = _single_result(tuple(op.result_types), f"call to @{op.callee.string_value()}")
        returns = None if isinstance(result, llvm.LLVMVoidType) else result
        call = llvm.CallOp(op.callee, *(as_llvm(a, rewriter) for a in op.arguments), return_type=returns)
        replace_with_llvm(rewriter, op, [call], [call.returned] if call.returned is not None else [])


class ReturnToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.ReturnOp, rewriter: PatternRewriter, /):
        if len(op.arguments) > 1:
            raise PassFailedException("func.return of several values; LLVM functions return at most one")
        value = as_llvm(op.arguments[0], rewriter) if op.arguments else None
        rewriter.replace(op, llvm.ReturnOp(value))


class ConvertFuncToLLVMPass(ModulePass):
    """func.func / func.call / func.return -> llvm.func / llvm.call / llvm.return, with t2m's linkage."""

    name = "convert-func-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier([FuncToLLVM(), CallToLLVM(), ReturnToLLVM()]),
            apply_recursively=False,
        ).rewrite_module(op)
