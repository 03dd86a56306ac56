"""plan-memory: every activation buffer of `<name>_run` becomes a slice of one static arena.

After `bufferize`, each intermediate result is its own `memref.alloc` (a static `.bss` buffer), so RAM is the
sum of all of them. But a buffer only needs its bytes from the layer that writes it to the last layer that reads
it. This pass computes those lifetimes (in layer calls, looking through views), and places the buffers in one
byte arena so that buffers whose lifetimes overlap never share bytes: largest first, each at the lowest 8-byte
aligned offset that is free for its whole lifetime (greedy first fit, as TFLite's planner; a few orders are tried
and the smallest arena kept).

The model then has two entry points:
  - `<name>_run_with_arena(inputs..., outputs..., arena)`: the arena is the caller's (`<NAME>_ARENA_SIZE` bytes,
    8-byte aligned), for firmware that places RAM itself;
  - `<name>_run(inputs..., outputs...)`: calls it with a static arena in `.bss`.
Buffers become `memref.view`s of the arena at constant byte offsets, and the model's description
(`#t2m.model`, dialects/t2m.py) records the arena size and the bytes live during each layer call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import (
    FunctionType,
    IndexType,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    StringAttr,
    i8,
)
from xdsl.ir import Block, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter
from xdsl.traits import SymbolTable
from xdsl.utils.exceptions import PassFailedException

from t2m.dialects.t2m import MODEL_KEY, ModelAttr, model_of
from t2m.passes._loops import memref_bytes

ALIGN = 8  # LDRD/STRD and double-word VLDM want 8-byte aligned buffers


@dataclass
class Buffer:
    op: memref.AllocOp | memref.ViewOp  # an allocation, or (once planned) a view of the arena
    size: int
    first: int = -1  # index of the first layer call using it
    last: int = -1
    offset: int = 0

    def overlaps(self, other: Buffer) -> bool:
        return not (self.last < other.first or other.last < self.first)


def lifetimes(block: Block) -> tuple[list[Buffer], int]:
    """The buffers of `block` (allocations, or views of a planned arena) used by its layer calls, each with the
    first and last call touching it (through reinterpret casts), and the number of calls."""
    buffers: dict[SSAValue, Buffer] = {}
    root: dict[SSAValue, SSAValue] = {}
    calls = 0
    for op in block.ops:
        if isinstance(op, memref.AllocOp | memref.ViewOp):
            buffers[op.results[0]] = Buffer(op, memref_bytes(op.results[0].type))
        elif isinstance(op, func.CallOp):
            for arg in op.arguments:
                if (buffer := buffers.get(root.get(arg, arg))) is not None:
                    buffer.first = calls if buffer.first < 0 else buffer.first
                    buffer.last = calls
            calls += 1
        elif op.results and op.operands and (base := root.get(op.operands[0], op.operands[0])) in buffers:
            root[op.results[0]] = base  # a view (reinterpret_cast) of a buffer
    return [b for b in buffers.values() if b.first >= 0], calls


ORDERS: tuple[Callable[[Buffer], tuple[int, ...]], ...] = (
    lambda b: (-b.size, b.first),  # largest first (TFLite's greedy-by-size)
    lambda b: (-b.size, -b.last),  # the same, from the end of the model
    lambda b: (b.first, -b.size),  # in execution order (linear scan)
)


def first_fit(buffers: list[Buffer]) -> int:
    """Place buffers in the given order, each at the lowest aligned offset free for its lifetime; the arena size."""
    placed: list[Buffer] = []
    for buffer in buffers:
        offset = 0
        for other in sorted((p for p in placed if p.overlaps(buffer)), key=lambda p: p.offset):
            if offset + buffer.size <= other.offset:
                break
            offset = max(offset, -(-(other.offset + other.size) // ALIGN) * ALIGN)
        buffer.offset = offset
        placed.append(buffer)
    return max((b.offset + b.size for b in placed), default=0)


def assign_offsets(buffers: list[Buffer]) -> int:
    """First fit in a few orders (optimal placement is NP-hard); keeps the smallest arena."""
    best = min(ORDERS, key=lambda order: first_fit(sorted(buffers, key=order)))
    return first_fit(sorted(buffers, key=best))


def live_bytes(buffers: list[Buffer], calls: int) -> list[int]:
    """Bytes of activation buffers live during each layer call (the report's memory-over-time plot)."""
    return [sum(b.size for b in buffers if b.first <= i <= b.last) for i in range(calls)]


def plan_function(module: ModuleOp, run: func.FuncOp, model: ModelAttr) -> None:
    block = run.body.block
    buffers, calls = lifetimes(block)
    size = assign_offsets(buffers)
    arena_type = MemRefType(i8, [max(size, ALIGN)])
    arena = block.insert_arg(arena_type, len(block.args))
    arena.name_hint = "arena"
    for buffer in buffers:
        offset = arith.ConstantOp(IntegerAttr(buffer.offset, IndexType()))
        block.insert_op_before(offset, buffer.op)
        view = memref.ViewOp(arena, offset, [], buffer.op.results[0].type)  # type: ignore[arg-type]
        Rewriter.replace_op(buffer.op, view)
    for op in [op for op in block.ops if isinstance(op, memref.AllocOp)]:  # allocated but never used
        Rewriter.erase_op(op)

    # `<name>_run_with_arena` is the planned body; `<name>_run` passes it the static arena.
    name = run.sym_name.data
    inputs = list(run.function_type.inputs)
    run.sym_name = StringAttr(f"{name.removesuffix('_run')}_run_with_arena")
    run.function_type = FunctionType.from_lists([*inputs, arena_type], list(run.function_type.outputs))
    wrapper_block = Block(arg_types=inputs)
    for arg, old in zip(wrapper_block.args, block.args, strict=False):
        arg.name_hint = old.name_hint
    static_arena = memref.AllocOp.get(i8, ALIGN, [max(size, ALIGN)])
    call = func.CallOp(run.sym_name.data, [*wrapper_block.args, static_arena.memref], list(run.function_type.outputs))
    wrapper_block.add_ops([static_arena, call, func.ReturnOp(*call.results)])
    wrapper = func.FuncOp(name, (inputs, list(run.function_type.outputs)), Region(wrapper_block))
    module.body.block.insert_op_before(wrapper, run)
    module.attributes[MODEL_KEY] = model.with_memory(size, True, live_bytes(buffers, calls))


@dataclass(frozen=True)
class PlanMemoryPass(ModulePass):
    """One arena for the activation buffers of every `<name>_run`, offsets from buffer lifetimes."""

    name = "plan-memory"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        model = model_of(op)
        if model is None or model.is_planned:
            return  # nothing bufferized yet, or planned already
        run = SymbolTable.lookup_symbol(op, model.entry)
        if not isinstance(run, func.FuncOp):
            raise PassFailedException(f"plan-memory: the model's entry @{model.entry} is not a func.func")
        plan_function(op, run, model)
