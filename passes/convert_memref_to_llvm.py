"""memref (and vector.load/store) -> `llvm`: static storage, GEP addressing, views on the same pointer.

A memref is a pointer to its first element (offset included), as in xDSL's `convert-memref-to-ptr`; its
strides come from the type. Bare-metal code has no heap, so storage is static:
- `memref.global` -> `llvm.mlir.global` (private -> `internal`; constant -> `.rodata`, in flash; no initial
  value -> zero-initialised), `memref.get_global` -> `llvm.mlir.addressof`;
- `memref.alloc` (static shape) -> a fresh zero-initialised internal global (`.bss`), never malloc;
  `memref.dealloc` -> nothing; `memref.alloca` -> `llvm.alloca` hoisted to the entry block.
Accesses (`memref.load/store`, `vector.load/store`) become one `getelementptr inbounds <element>` on an i32
linear index plus an aligned load/store. Why not xDSL's memref-to-ptr + ptr-to-llvm: that route emits a
`to_ptr`, stride constants, a byte scaling and a `ptradd` per access and needs `convert-ptr-type-offsets` and
`canonicalize` after it (7 s of VWW's 20 s conversion, vs 1.4 s here); its `ptr-to-llvm` also goes through
`ptrtoint`/`inttoptr`. Here constant indices fold into the offset while building.
Views (`collapse_shape`, `expand_shape`, `cast`, `reinterpret_cast`, `subview`, `view`) are the source pointer,
advanced by their static or dynamic offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from math import prod

from xdsl.context import Context
from xdsl.dialects import func, llvm, memref, vector
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    DenseIntOrFPElementsAttr,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    StridedLayoutAttr,
    StringAttr,
    SymbolRefAttr,
    UnrealizedConversionCastOp,
    i8,
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
from xdsl.transforms.convert_memref_to_ptr import get_strides
from xdsl.utils.exceptions import PassFailedException

from t2m.passes.convert_index_to_llvm import (
    INDEX_TYPE,
    as_llvm,
    element_alignment,
    int_constant,
    replace_with_llvm,
)

MIN_ALIGNMENT = 4
"""Word alignment for every buffer: Cortex-M4 VLDR/LDRD fault on unaligned words."""
_NSW = IntegerAttr(llvm.OverflowAttr([llvm.OverflowFlag.NO_SIGNED_WRAP]).to_int(), 32)


def storage_type(memref_type: MemRefType) -> Attribute:
    """`memref<4x3xf32>` -> `!llvm.array<12 x f32>` (rank 0: the element type itself)."""
    shape = memref_type.get_shape()
    if any(d < 0 for d in shape):
        raise PassFailedException(f"{memref_type} has a dynamic shape; t2m allocates every buffer statically")
    return llvm.LLVMArrayType(prod(shape), memref_type.element_type) if shape else memref_type.element_type


def alignment_of(memref_type: MemRefType, requested: IntegerAttr | None) -> int:
    return max(MIN_ALIGNMENT, element_alignment(memref_type.element_type), requested.value.data if requested else 0)


def _as_memref(pointer: SSAValue, memref_type: Attribute) -> UnrealizedConversionCastOp:
    return UnrealizedConversionCastOp.get([pointer], [memref_type])


def _const(value: int) -> llvm.ConstantOp:
    return llvm.ConstantOp(IntegerAttr(value, INDEX_TYPE), INDEX_TYPE)


def offset_pointer(
    rewriter: PatternRewriter,
    base: SSAValue,
    offsets: Sequence[SSAValue | int],
    strides: Sequence[int],
    element: Attribute,
) -> SSAValue:
    """`base` advanced by sum(offsets * strides) elements: one GEP, constant parts folded while building."""
    constant, dynamic = 0, None
    for offset, stride in zip(offsets, strides, strict=True):
        known = offset if isinstance(offset, int) else int_constant(offset)
        if known is not None:
            constant += known * stride
            continue
        assert not isinstance(offset, int)
        term = as_llvm(offset, rewriter)
        if stride != 1:
            term = rewriter.insert(llvm.MulOp(term, rewriter.insert(_const(stride)).result, overflow=_NSW)).res
        dynamic = term if dynamic is None else rewriter.insert(llvm.AddOp(dynamic, term, overflow=_NSW)).res
    pointer = as_llvm(base, rewriter)
    if dynamic is None:
        if constant == 0:
            return pointer
        gep = llvm.GEPOp(pointer, [constant], element, inbounds=True)
    else:
        if constant:
            dynamic = rewriter.insert(llvm.AddOp(dynamic, rewriter.insert(_const(constant)).result, overflow=_NSW)).res
        gep = llvm.GEPOp.from_mixed_indices(pointer, [dynamic], element, inbounds=True)
    return rewriter.insert(gep).result


def element_pointer(rewriter: PatternRewriter, ref: SSAValue, indices: Sequence[SSAValue]) -> SSAValue:
    memref_type = ref.type
    assert isinstance(memref_type, MemRefType)
    strides = get_strides(ref, memref_type, rewriter)
    if not all(isinstance(s, int) for s in strides):
        raise PassFailedException(f"{memref_type}: dynamic strides are not supported")
    return offset_pointer(rewriter, ref, indices, strides, memref_type.element_type)  # type: ignore[arg-type]


class LoadToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.LoadOp | vector.LoadOp, rewriter: PatternRewriter, /):
        ref = op.memref if isinstance(op, memref.LoadOp) else op.base
        result = op.results[0]
        load = llvm.LoadOp(element_pointer(rewriter, ref, op.indices), result.type, element_alignment(result.type))
        replace_with_llvm(rewriter, op, [load], [load.dereferenced_value])


class StoreToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.StoreOp | vector.StoreOp, rewriter: PatternRewriter, /):
        ref, value = (op.memref, op.value) if isinstance(op, memref.StoreOp) else (op.base, op.vector)
        value = as_llvm(value, rewriter)
        rewriter.replace(
            op, llvm.StoreOp(value, element_pointer(rewriter, ref, op.indices), element_alignment(value.type))
        )


class GlobalToLLVM(RewritePattern):
    """`memref.global` -> `llvm.mlir.global`; the dense data is kept as is (the emitter writes its bytes)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.GlobalOp, rewriter: PatternRewriter, /):
        value = op.initial_value if isinstance(op.initial_value, DenseIntOrFPElementsAttr) else None
        linkage = "internal" if op.sym_visibility.data == "private" else "external"
        constant = op.constant is not None
        new = llvm.GlobalOp(storage_type(op.type), op.sym_name, linkage, constant=constant, value=value,
                            alignment=alignment_of(op.type, op.alignment))  # fmt: skip
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
        index = next(i for i in range(len(self.taken) + 1) if f"{base}{i}" not in self.taken)
        self.taken.add(f"{base}{index}")
        return f"{base}{index}"

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.AllocOp, rewriter: PatternRewriter, /):
        memref_type = op.memref.type
        module = op.get_toplevel_object()
        assert isinstance(memref_type, MemRefType) and isinstance(module, ModuleOp)
        name = self.fresh_name(op)
        buffer = llvm.GlobalOp(
            storage_type(memref_type), name, "internal", alignment=alignment_of(memref_type, op.alignment)
        )
        rewriter.insert(buffer, InsertPoint.at_start(module.body.block))
        address = llvm.AddressOfOp(SymbolRefAttr(name), llvm.LLVMPointerType())
        rewriter.replace(op, [address, _as_memref(address.result, memref_type)])


class AllocaToLLVM(RewritePattern):
    """`memref.alloca` -> `llvm.alloca` in the entry block, so a loop does not grow the stack."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.AllocaOp, rewriter: PatternRewriter, /):
        memref_type = op.memref.type
        assert isinstance(memref_type, MemRefType)
        function = op.parent_op()
        while function is not None and not isinstance(function, func.FuncOp | llvm.FuncOp):
            function = function.parent_op()
        if function is None or not function.regions[0].blocks:
            raise PassFailedException("memref.alloca outside a function")
        one = _const(1)
        slot = llvm.AllocaOp(one, storage_type(memref_type), alignment_of(memref_type, op.alignment))
        rewriter.insert([one, slot], InsertPoint.at_start(function.regions[0].blocks[0]))
        rewriter.replace(op, _as_memref(slot.res, memref_type))


class DeallocToNothing(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.DeallocOp, rewriter: PatternRewriter, /):
        rewriter.erase(op)


class ReshapeToSamePointer(RewritePattern):
    """`collapse_shape`/`expand_shape`/`cast` of a contiguous memref: the same pointer, a new type."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.CollapseShapeOp | memref.ExpandShapeOp | memref.CastOp,
                          rewriter: PatternRewriter, /):  # fmt: skip
        rewriter.replace(op, _as_memref(as_llvm(op.operands[0], rewriter), op.results[0].type))


class OffsetViewToGEP(RewritePattern):
    """`reinterpret_cast` (flat element offset) and `subview` (offsets times source strides): an offset pointer."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.ReinterpretCastOp | memref.SubviewOp, rewriter: PatternRewriter, /):
        source_type, result_type = op.source.type, op.result.type
        assert isinstance(source_type, MemRefType) and isinstance(result_type, MemRefType)
        dynamic = iter(op.offsets)
        offsets = [next(dynamic) if o == DYNAMIC_INDEX else o for o in op.static_offsets.get_values()]
        if isinstance(op, memref.ReinterpretCastOp):
            layout = source_type.layout
            if isinstance(layout, StridedLayoutAttr) and layout.get_offset() != 0:
                raise PassFailedException(f"reinterpret_cast of {source_type}: only sources at offset 0")
            strides: list[int] = [1]  # one offset, in elements of the underlying buffer
        else:
            strides = list(get_strides(op.source, source_type, rewriter))  # type: ignore[arg-type]
        pointer = offset_pointer(rewriter, op.source, offsets, strides, result_type.element_type)
        rewriter.replace(op, _as_memref(pointer, result_type))


class ViewToGEP(RewritePattern):
    """`memref.view %arena[%bytes][]`: the arena pointer advanced by `%bytes`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.ViewOp, rewriter: PatternRewriter, /):
        if op.sizes:
            raise PassFailedException("memref.view with dynamic sizes is not supported")
        pointer = offset_pointer(rewriter, op.source, [op.byte_shift], [1], i8)
        rewriter.replace(op, _as_memref(pointer, op.result.type))


@dataclass(frozen=True)
class ConvertMemRefToLLVMPass(ModulePass):
    """Static storage, element addressing and views of memrefs (and vector.load/store) -> `llvm`."""

    name = "convert-memref-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        names = (getattr(inner, "sym_name", None) for inner in op.body.block.ops)
        taken = {name.data for name in names if isinstance(name, StringAttr)}
        patterns: list[RewritePattern] = [
            LoadToLLVM(), StoreToLLVM(), GlobalToLLVM(), GetGlobalToLLVM(), AllocToGlobal(taken), AllocaToLLVM(),
            DeallocToNothing(), ReshapeToSamePointer(), OffsetViewToGEP(), ViewToGEP(),
        ]  # fmt: skip
        PatternRewriteWalker(GreedyRewritePatternApplier(patterns), apply_recursively=False).rewrite_module(op)
