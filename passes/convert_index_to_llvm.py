"""`index` is `i32` on the Cortex-M4 (32-bit pointers), plus the casts that join converted and unconverted IR.

Every t2m `convert-*-to-llvm` pass builds LLVM ops on `i32` where the source used `index`, the way MLIR's
dialect conversion does: an operand still typed `index` is bridged with `builtin.unrealized_conversion_cast`
(index -> i32), a result an unconverted user still reads as `index` is cast back, and
`reconcile-unrealized-casts` deletes the pairs once both sides are converted. So every pass leaves valid IR
and the passes can run in any order; a cast that survives names the op nobody converted.

This file holds that policy (`llvm_type`, `as_llvm`, `replace_with_llvm`), the helpers the conversions share
(`int_constant`, `element_alignment`) and the pass for the one place `index` lives outside an op:
block arguments, which `convert-scf-to-cf` creates for loop induction variables.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.context import Context
from xdsl.dialects import arith, builtin, cf, llvm, ptr
from xdsl.dialects.builtin import (
    FixedBitwidthType,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    UnrealizedConversionCastOp,
    VectorType,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import PassFailedException

INDEX_BITS = 32
"""Width of `index` on the target: Cortex-M4 pointers and `size_t` are 32-bit."""
INDEX_TYPE = IntegerType(INDEX_BITS)


def llvm_type(t: Attribute) -> Attribute:
    """The LLVM-dialect type of a value: index -> i32 (also inside vectors), memrefs and `!ptr_xdsl.ptr` ->
    `!llvm.ptr` (a memref is the pointer to its first element; shape and strides live in its type)."""
    if isinstance(t, IndexType):
        return INDEX_TYPE
    if isinstance(t, VectorType) and isinstance(t.element_type, IndexType):
        return VectorType(INDEX_TYPE, t.get_shape())
    if isinstance(t, ptr.PtrType | MemRefType):
        return llvm.LLVMPointerType()
    return t


def element_alignment(t: Attribute) -> int:
    """The alignment an element access can promise: the scalar element's size (vectors: per lane)."""
    scalar = t.element_type if isinstance(t, VectorType) else t
    if isinstance(scalar, FixedBitwidthType):
        return scalar.compile_time_size
    raise PassFailedException(f"cannot load or store a value of type {t}")


def int_constant(value: SSAValue) -> int | None:
    """The value of an integer/index constant (arith or llvm, possibly behind an index cast), else None."""
    owner = value.owner
    while isinstance(owner, UnrealizedConversionCastOp) and len(owner.inputs) == 1:
        owner = owner.inputs[0].owner
    if isinstance(owner, arith.ConstantOp | llvm.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    return None


def cast(value: SSAValue, to: Attribute, at: InsertPoint) -> SSAValue:
    """`value` as type `to`: looks through an existing cast from `to`, else inserts one at `at`."""
    if value.type == to:
        return value
    owner = value.owner
    if isinstance(owner, UnrealizedConversionCastOp) and len(owner.inputs) == 1 and owner.inputs[0].type == to:
        return owner.inputs[0]
    op = UnrealizedConversionCastOp.get([value], [to])
    Rewriter.insert_op(op, at)
    return op.results[0]


def as_llvm(value: SSAValue, rewriter: PatternRewriter) -> SSAValue:
    """`value` in its LLVM type, cast just before the op being rewritten if needed."""
    return cast(value, llvm_type(value.type), rewriter.insertion_point)


def replace_with_llvm(
    rewriter: PatternRewriter, op: Operation, new_ops: Sequence[Operation], new_results: Sequence[SSAValue]
) -> None:
    """Replace `op`; where a result type changed (index -> i32), old users get a cast back to the old type."""
    ops = list(new_ops)
    results: list[SSAValue] = []
    for old, new in zip(op.results, new_results, strict=True):
        if new.type != old.type:
            back = UnrealizedConversionCastOp.get([new], [old.type])
            ops.append(back)
            new = back.results[0]
        results.append(new)
    rewriter.replace(op, ops, results)


# --- block arguments ----------------------------------------------------------------------------------------


def _forwarded_operands(term: Operation, block: Block) -> list[tuple[int, int]]:
    """(operand position in `term`, argument index in `block`) for each value `term` passes to `block`."""
    match term:
        case cf.BranchOp() | llvm.BrOp():
            groups = [(term.successor, 0, len(term.arguments))]
        case cf.ConditionalBranchOp() | llvm.CondBrOp():
            n_then = len(term.then_arguments)
            groups = [(term.then_block, 1, n_then), (term.else_block, 1 + n_then, len(term.else_arguments))]
        case _:
            raise PassFailedException(f"cannot retype the block arguments {term.name} passes (index -> i32)")
    return [(start + i, i) for succ, start, count in groups if succ is block for i in range(count)]


def convert_block_arguments(block: Block) -> None:
    """Retype `block`'s index arguments as i32: a cast back at the block's top, casts in its predecessors."""
    for arg in list(block.args):
        new_type = llvm_type(arg.type)
        if new_type == arg.type:
            continue
        old_type = arg.type
        new_arg = Rewriter.replace_value_with_new_type(arg, new_type)
        back = UnrealizedConversionCastOp.get([new_arg], [old_type])
        Rewriter.insert_op(back, InsertPoint.at_start(block))
        new_arg.replace_uses_with_if(back.results[0], lambda use, b=back: use.operation is not b)
    for term in {use.operation for use in block.uses}:
        for position, index in _forwarded_operands(term, block):
            value, want = term.operands[position], block.args[index].type
            if value.type != want:
                term.operands[position] = cast(value, want, InsertPoint.before(term))


class ConvertIndexToLLVMPass(ModulePass):
    """Block arguments of type index (loop counters after `convert-scf-to-cf`) become i32.

    Entry blocks are left alone: their arguments belong to the function signature (`convert-func-to-llvm`).
    """

    name = "convert-index-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for inner in op.walk():
            for region in inner.regions:
                if isinstance(inner, builtin.ModuleOp):
                    continue
                for block in list(region.blocks)[1:]:
                    convert_block_arguments(block)
