"""memref storage and views -> LLVM globals, stack slots and pointers (what `convert-memref-to-ptr` leaves out).

Bare-metal code has no heap, so storage is static:
- `memref.global` -> `llvm.mlir.global` (private -> `internal`; constant -> `.rodata`, in flash; an
  uninitialised one -> zero-initialised `.bss`), `memref.get_global` -> `llvm.mlir.addressof`;
- `memref.alloc` (static shape) -> a fresh zero-initialised internal global (`.bss`), never malloc;
  `memref.dealloc` -> nothing; `memref.alloca` -> `llvm.alloca` hoisted to the function's entry block;
- views (`collapse_shape`, `expand_shape`, `view`) reuse the source's base pointer, through
  `ptr_xdsl.to_ptr`/`from_ptr` so `convert-memref-to-ptr` and `convert-ptr-to-llvm-gep` finish them.
  `subview`, `reinterpret_cast` and `cast` are xDSL's `convert-memref-to-ptr`'s.
A memref produced here is the LLVM pointer cast back to the memref type; `reconcile-unrealized-casts` removes
the cast once the loads and stores are pointer ops too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod

from xdsl.context import Context
from xdsl.dialects import func, llvm, memref, ptr
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FixedBitwidthType,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    StringAttr,
    SymbolRefAttr,
    UnrealizedConversionCastOp,
    i32,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint
from xdsl.utils.exceptions import DiagnosticException

MIN_ALIGNMENT = 4
"""Word alignment for every buffer: Cortex-M4 VLDR/LDRD fault on unaligned words."""


def storage_type(memref_type: MemRefType) -> Attribute:
    """`memref<4x3xf32>` -> `!llvm.array<12 x f32>` (rank 0: the element type itself)."""
    shape = memref_type.get_shape()
    if any(d < 0 for d in shape):
        raise DiagnosticException(f"{memref_type} has a dynamic shape; t2m allocates every buffer statically")
    if not shape:
        return memref_type.element_type
    return llvm.LLVMArrayType(prod(shape), memref_type.element_type)


def alignment_of(memref_type: MemRefType, requested: IntegerAttr | None) -> int:
    element = memref_type.element_type
    size = element.compile_time_size if isinstance(element, FixedBitwidthType) else MIN_ALIGNMENT
    return max(MIN_ALIGNMENT, size, requested.value.data if requested is not None else 0)


def _as_memref(pointer: SSAValue, memref_type: Attribute) -> UnrealizedConversionCastOp:
    return UnrealizedConversionCastOp.get([pointer], [memref_type])


class GlobalToLLVM(RewritePattern):
    """`memref.global` -> `llvm.mlir.global` with the dense data kept as is (the emitter writes it as hex)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.GlobalOp, rewriter: PatternRewriter, /):
        value = op.initial_value if isinstance(op.initial_value, DenseIntOrFPElementsAttr) else None
        linkage = "internal" if op.sym_visibility.data == "private" else "external"
        new = llvm.GlobalOp(
            storage_type(op.type),
            op.sym_name,
            linkage,
            constant=op.constant is not None,
            value=value,
            alignment=alignment_of(op.type, op.alignment),
        )
        rewriter.replace(op, new)


class GetGlobalToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.GetGlobalOp, rewriter: PatternRewriter, /):
        address = llvm.AddressOfOp(op.name_, llvm.LLVMPointerType())
        rewriter.replace(op, [address, _as_memref(address.result, op.memref.type)])


@dataclass
class AllocToGlobal(RewritePattern):
    """A static `memref.alloc` becomes its own zero-initialised internal global named `<function>_buf<n>`."""

    taken: set[str] = field(default_factory=set[str])

    def fresh_name(self, op: Operation) -> str:
        function = op.parent_op()
        while function is not None and not isinstance(function, func.FuncOp | llvm.FuncOp):
            function = function.parent_op()
        base = f"{function.sym_name.data if function is not None else 't2m'}_buf"
        index = 0
        while f"{base}{index}" in self.taken:
            index += 1
        self.taken.add(f"{base}{index}")
        return f"{base}{index}"

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.AllocOp, rewriter: PatternRewriter, /):
        memref_type = op.memref.type
        assert isinstance(memref_type, MemRefType)
        name = self.fresh_name(op)
        module = op.get_toplevel_object()
        assert isinstance(module, ModuleOp)
        new_global = llvm.GlobalOp(
            storage_type(memref_type), name, "internal", alignment=alignment_of(memref_type, op.alignment)
        )
        rewriter.insert(new_global, InsertPoint.at_start(module.body.block))
        address = llvm.AddressOfOp(SymbolRefAttr(name), llvm.LLVMPointerType())
        rewriter.replace(op, [address, _as_memref(address.result, memref_type)])


class AllocaToLLVM(RewritePattern):
    """`memref.alloca` -> `llvm.alloca` in the entry block, so a loop does not grow the stack."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.AllocaOp, rewriter: PatternRewriter, /):
        memref_type = op.memref.type
        assert isinstance(memref_type, MemRefType)
        region = op.parent_region()
        while region is not None and not isinstance(region.parent_op(), func.FuncOp | llvm.FuncOp):
            parent = region.parent_op()
            region = parent.parent_region() if parent is not None else None
        if region is None or region.first_block is None:
            raise DiagnosticException("memref.alloca outside a function")
        one = llvm.ConstantOp(IntegerAttr(1, i32), i32)
        slot = llvm.AllocaOp(one, storage_type(memref_type), alignment_of(memref_type, op.alignment))
        rewriter.insert([one, slot], InsertPoint.at_start(region.first_block))
        rewriter.replace(op, _as_memref(slot.res, memref_type))


class DeallocToNothing(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.DeallocOp, rewriter: PatternRewriter, /):
        rewriter.erase(op)


class ReshapeToSamePointer(RewritePattern):
    """`collapse_shape`/`expand_shape` of a contiguous memref: same base pointer, new type."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.CollapseShapeOp | memref.ExpandShapeOp, rewriter: PatternRewriter, /):
        base = ptr.ToPtrOp(op.src)
        rewriter.replace(op, [base, ptr.FromPtrOp(base.res, op.result.type)])


class ViewToOffsetPointer(RewritePattern):
    """`memref.view %arena[%bytes][]` -> the arena pointer advanced by `%bytes`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.ViewOp, rewriter: PatternRewriter, /):
        if op.sizes:
            raise DiagnosticException("memref.view with dynamic sizes is not supported")
        base = ptr.ToPtrOp(op.source)
        shifted = ptr.PtrAddOp(base.res, op.byte_shift)
        rewriter.replace(op, [base, shifted, ptr.FromPtrOp(shifted.result, op.result.type)])


@dataclass(frozen=True)
class ConvertMemRefToLLVMPass(ModulePass):
    """Static storage (globals, allocs, allocas) and reshaping views; loads/stores are `convert-memref-to-ptr`'s."""

    name = "convert-memref-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        names = (getattr(inner, "sym_name", None) for inner in op.body.block.ops)
        taken = {name.data for name in names if isinstance(name, StringAttr)}
        PatternRewriteWalker(
            GreedyRewritePatternApplier(
                [
                    GlobalToLLVM(),
                    GetGlobalToLLVM(),
                    AllocToGlobal(taken),
                    AllocaToLLVM(),
                    DeallocToNothing(),
                    ReshapeToSamePointer(),
                    ViewToOffsetPointer(),
                ]
            ),
            apply_recursively=False,
        ).rewrite_module(op)
