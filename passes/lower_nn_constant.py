"""lower-nn-constant: `nn.constant` -> `memref.global "private" constant` + `memref.get_global` (+ to_tensor).

Weights become read-only globals (flash, `.rodata`) holding the same dense attribute, so no bytes are decoded or
copied. A global is named after the layer that reads it when there is one (`@<model>_L03_conv2d_weight`), which
makes the object's symbol table and size report readable; otherwise `@<model>_cst`. Constants with the same type
and bytes share one global (named after their first reader): an unrolled LSTM's steps, each a layer reading the
same packed recurrent weights, keep one copy in flash, not one per time step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects import bufferization, func, memref
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, MemRefType, ModuleOp, StringAttr, UnitAttr
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint
from xdsl.traits import SymbolTable

from t2m.dialects import nn
from t2m.passes._loops import buffer_of, memref_bytes, model_function, unique_symbol


def _reader_name(op: nn.ConstantOp) -> str | None:
    """`<layer>_<arg>` of the first layer call reading this constant through a to_buffer."""
    for use in op.output.uses:
        if not isinstance(buf := use.operation, bufferization.ToBufferOp):
            continue
        for call_use in buf.memref.uses:
            call = call_use.operation
            if isinstance(call, func.CallOp):
                callee = SymbolTable.lookup_symbol(call, call.callee)
                if isinstance(callee, func.FuncOp) and callee.body.blocks:
                    arg = callee.body.block.args[call_use.index]
                    return f"{call.callee.root_reference.data}_{arg.name_hint or call_use.index}"
    return None


@dataclass
class LowerConstant(RewritePattern):
    """nn.constant -> global + get_global + to_tensor (the to_tensor folds away in bufferize); a constant whose
    type and bytes a global holds already reads that global."""

    made: dict[tuple[MemRefType, DenseIntOrFPElementsAttr], str] = field(
        default_factory=dict[tuple[MemRefType, DenseIntOrFPElementsAttr], str])

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ConstantOp, rewriter: PatternRewriter) -> None:
        if not op.output.uses:  # e.g. batch_norm statistics after folding: no dead weights in flash
            rewriter.erase(op)
            return
        function = model_function(op)
        module = function.parent_op()
        assert isinstance(module, ModuleOp)
        mem_type = buffer_of(op.output)
        value = op.value
        if len(value.data.data) < memref_bytes(mem_type):  # a splat: store every element
            value = nn.dense_of(nn.dense_to_numpy(value))
        name = self.made.get((mem_type, value))
        if name is None:
            name = unique_symbol(module, _reader_name(op) or f"{function.sym_name.data}_cst")
            glob = memref.GlobalOp.get(StringAttr(name), mem_type, value, StringAttr("private"), UnitAttr())
            rewriter.insert(glob, InsertPoint.before(function))
            self.made[(mem_type, value)] = name
        get = memref.GetGlobalOp(name, mem_type)
        get.memref.name_hint = name
        rewriter.replace(op, [get, tensor := bufferization.ToTensorOp(get.memref)], [tensor.tensor])


@dataclass(frozen=True)
class LowerNnConstant(ModulePass):
    """Turn every nn.constant into a constant memref.global."""

    name = "lower-nn-constant"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerConstant(), apply_recursively=False).rewrite_module(op)
