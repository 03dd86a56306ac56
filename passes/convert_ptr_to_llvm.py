"""`ptr_xdsl` -> `llvm` with GEPs and explicit alignment (replaces xDSL's `convert-ptr-to-llvm` for t2m).

xDSL's `convert-ptr-to-llvm` lowers `ptradd` to `ptrtoint` + an i64 add + `inttoptr`: 64-bit arithmetic on a
32-bit core, and integer round trips that hide the base object from LLVM's alias analysis (and that the host
JIT cannot retarget). Its loads and stores carry no alignment, so LLVM assumes the ABI alignment of the loaded
type: 16 bytes for `<4 x float>` on the host, where a `vector.load` at `%i = 1` would then fault. Here
`ptradd` is an `i8` GEP (`inbounds`: memref accesses stay inside their buffer) with an i32 offset, and every
load/store is aligned to its element size.

`LOWER_TO_LLVM` does not need this pass (`convert-memref-to-llvm` addresses memrefs directly, with fewer ops);
it is for IR that went through xDSL's `convert-memref-to-ptr` / `convert-vector-to-ptr`.
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects import func, llvm, ptr
from xdsl.dialects.builtin import (
    FixedBitwidthType,
    FunctionType,
    IntegerAttr,
    ModuleOp,
    UnrealizedConversionCastOp,
    i8,
)
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

from t2m.passes.convert_index_to_llvm import (
    INDEX_TYPE,
    as_llvm,
    element_alignment,
    llvm_type,
    replace_with_llvm,
)

_PTR = llvm.LLVMPointerType()


class PtrAddToGEP(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: ptr.PtrAddOp, rewriter: PatternRewriter, /):
        base, offset = as_llvm(op.addr, rewriter), as_llvm(op.offset, rewriter)
        gep = llvm.GEPOp.from_mixed_indices(base, [offset], i8, inbounds=True)
        replace_with_llvm(rewriter, op, [gep], [gep.result])


class LoadToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: ptr.LoadOp, rewriter: PatternRewriter, /):
        load = llvm.LoadOp(as_llvm(op.addr, rewriter), llvm_type(op.res.type), element_alignment(op.res.type))
        replace_with_llvm(rewriter, op, [load], [load.dereferenced_value])


class StoreToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: ptr.StoreOp, rewriter: PatternRewriter, /):
        value = as_llvm(op.value, rewriter)
        store = llvm.StoreOp(value, as_llvm(op.addr, rewriter), element_alignment(value.type))
        rewriter.replace(op, store)


class ToPtrToCast(RewritePattern):
    """`to_ptr %memref`: the memref is (a cast of) an LLVM pointer already, or will be once its producer is."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: ptr.ToPtrOp, rewriter: PatternRewriter, /):
        new = UnrealizedConversionCastOp.get([op.source], [_PTR])
        replace_with_llvm(rewriter, op, [new], new.results)


class FromPtrToCast(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: ptr.FromPtrOp, rewriter: PatternRewriter, /):
        new = UnrealizedConversionCastOp.get([as_llvm(op.source, rewriter)], [op.res.type])
        rewriter.replace(op, new)


class TypeOffsetToConstant(RewritePattern):
    """Same as xDSL's `convert-ptr-type-offsets`, for IR that did not run it: sizes are i32 constants."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: ptr.TypeOffsetOp, rewriter: PatternRewriter, /):
        if not isinstance(op.elem_type, FixedBitwidthType):
            raise PassFailedException(f"no static size for {op.elem_type}")
        size = llvm.ConstantOp(IntegerAttr(op.elem_type.compile_time_size, INDEX_TYPE), INDEX_TYPE)
        replace_with_llvm(rewriter, op, [size], [size.result])


class FuncSignatureToLLVMPtr(RewritePattern):
    """`func.func` arguments of type `!ptr_xdsl.ptr` (from `convert-memref-to-ptr{lower_func=true}`)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.FuncOp, rewriter: PatternRewriter, /):
        inputs = [llvm_type(t) if isinstance(t, ptr.PtrType) else t for t in op.function_type.inputs]
        outputs = [llvm_type(t) if isinstance(t, ptr.PtrType) else t for t in op.function_type.outputs]
        new_type = FunctionType.from_lists(inputs, outputs)
        if new_type == op.function_type:
            return
        op.function_type = new_type
        if op.body.blocks:
            for arg in op.body.blocks[0].args:
                if isinstance(arg.type, ptr.PtrType):
                    old = arg.type
                    new_arg = rewriter.replace_value_with_new_type(arg, _PTR)
                    back = UnrealizedConversionCastOp.get([new_arg], [old])
                    rewriter.insert(back, InsertPoint.at_start(op.body.blocks[0]))
                    new_arg.replace_uses_with_if(back.results[0], lambda use, b=back: use.operation is not b)
        rewriter.notify_op_modified(op)


class CallToLLVMPtr(RewritePattern):
    """`func.call` passing `!ptr_xdsl.ptr` values: pass the `!llvm.ptr` they came from."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.CallOp, rewriter: PatternRewriter, /):
        if not any(isinstance(a.type, ptr.PtrType) for a in op.arguments):
            return
        if any(isinstance(t, ptr.PtrType) for t in op.result_types):
            raise PassFailedException("functions returning pointers are not supported")
        new = func.CallOp(op.callee, [as_llvm(a, rewriter) for a in op.arguments], op.result_types)
        rewriter.replace(op, new)


class ConvertPtrToLLVMGEPPass(ModulePass):
    """`ptr_xdsl` loads, stores, offsets and memref <-> pointer casts -> `llvm` (GEP, aligned load/store)."""

    name = "convert-ptr-to-llvm-gep"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        self._apply(op)

    def _apply(self, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier(
                [
                    FuncSignatureToLLVMPtr(),
                    CallToLLVMPtr(),
                    PtrAddToGEP(),
                    LoadToLLVM(),
                    StoreToLLVM(),
                    ToPtrToCast(),
                    FromPtrToCast(),
                    TypeOffsetToConstant(),
                ]
            ),
            apply_recursively=False,
        ).rewrite_module(op)
