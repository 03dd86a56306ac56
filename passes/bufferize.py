"""bufferize: finish the nn -> loops lowering; the model function becomes the C-callable `<name>_run`.

The `lower-nn-*` passes leave the model function in tensor form, every layer wrapped in
`to_buffer ... call @layer ... to_tensor`. This pass
  1. lowers any `nn.constant` left (as lower-nn-constant does) and refuses any other nn or qnn op still there;
  2. turns the signature into `func.func @<name>_run(%in: memref..., %out: memref...) -> i32`: inputs, then one
     output buffer per result; `to_buffer(to_tensor(%m))` folds to `%m`;
  3. lets the layer computing a result write straight into its output argument: the result's `memref.alloc`
     (found through views) is replaced by the argument, or by a view of it. A result that is an input, a
     weight, or the same buffer as another result is copied instead, by a small `@<name>_copy<i>` function;
  4. returns `arith.constant 0 : i32`, and records the model's description on the module
     (`#t2m.model<name, inputs, outputs, ...>`, dialects/t2m.py): which arguments are inputs, which outputs.
Intermediate buffers stay `memref.alloc` (static shapes) until memory planning replaces them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

from xdsl.context import Context
from xdsl.dialects import arith, bufferization, func, memref
from xdsl.dialects.builtin import FunctionType, IntegerAttr, MemRefType, ModuleOp, StringAttr, TensorType, i32
from xdsl.ir import Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriteWalker
from xdsl.traits import SymbolTable
from xdsl.utils.exceptions import PassFailedException

from t2m.dialects.qnn import INDEX_QUANT, QuantAttr, io_quant
from t2m.dialects.t2m import LAYER_KEY, MODEL_KEY, LayerAttr, ModelAttr, layer_of, model_of
from t2m.passes._loops import Kernel, buffer_of, memref_bytes, reinterpret, shape_of, unique_symbol
from t2m.passes.lower_nn_constant import LowerConstant


def _copy_function(module: ModuleOp, name: str, type: MemRefType) -> str:
    """A private `(src, dst)` function copying a buffer (flat loop)."""
    shape = tuple(type.get_shape())
    size = math.prod(shape)
    k = Kernel([type] * 2, ["src", "out"])
    src, dst = (k.view(a, [size]) for a in k.args)
    k.nest([(0, size, "i")], lambda ivs: k.store(k.load(src, ivs), dst, ivs))
    k.put(func.ReturnOp())
    name = unique_symbol(module, name)
    copy = func.FuncOp(name, ([type] * 2, []), Region(k.entry), "private")
    copy.attributes[LAYER_KEY] = LayerAttr("copy", 0)
    module.body.block.add_op(copy)
    return name


def _io_quant(function: func.FuncOp) -> list[QuantAttr]:
    """The `qnn.quant` argument and result attributes of an int8 model (on every int8 input and output, or none: a
    float model), in order; an int32 input (embedding indices, taken as they are) stands at scale 1, zero point 0."""
    inputs, outputs = function.function_type.inputs.data, function.function_type.outputs.data
    found = io_quant(function)
    if not any(isinstance(q, QuantAttr) for q in found):
        return []
    quant = []
    for i, (q, type) in enumerate(zip(found, [*inputs, *outputs], strict=True)):
        index = i < len(inputs) and isinstance(type, TensorType) and type.get_element_type() == i32
        if not isinstance(q, QuantAttr) and not index:
            raise PassFailedException(f"bufferize: @{function.sym_name.data} has qnn.quant on some inputs and "
                                      "outputs only")
        quant.append(q if isinstance(q, QuantAttr) else QuantAttr(*INDEX_QUANT))
    return quant


def _root_alloc(value: SSAValue) -> memref.AllocOp | None:
    """The `memref.alloc` a buffer value is, or is a view of."""
    while isinstance(value.owner, memref.ReinterpretCastOp):
        value = value.owner.source
    return value.owner if isinstance(value.owner, memref.AllocOp) else None


def bufferize_function(module: ModuleOp, function: func.FuncOp) -> None:
    block = function.body.block
    name = function.sym_name.data
    if model_of(module) is not None:
        raise PassFailedException(f"bufferize: the module already has a model entry point; @{name} would be a second")
    if SymbolTable.lookup_symbol(module, f"{name}_run") is not None:
        raise PassFailedException(f"bufferize: symbol @{name}_run, the C entry of @{name}, is already taken")
    tensor_type = function.function_type
    quant = _io_quant(function)  # read off the tensor signature, whose argument attributes go with it
    function.arg_attrs = function.res_attrs = None
    ret = block.last_op
    assert isinstance(ret, func.ReturnOp)

    # inputs: tensor arguments -> memref arguments (seen as tensors through to_tensor until folded)
    for old in list(block.args):
        new = block.insert_arg(buffer_of(old), len(block.args))
        new.name_hint = old.name_hint
        as_tensor = bufferization.ToTensorOp(new)
        block.insert_op_before(as_tensor, block.first_op)  # type: ignore[arg-type]
        old.replace_all_uses_with(as_tensor.tensor)
        block.erase_arg(old)
    outputs = []
    for i, result in enumerate(ret.arguments):
        out = block.insert_arg(buffer_of(result), len(block.args))
        out.name_hint = "output" if len(ret.arguments) == 1 else f"output{i}"
        outputs.append(out)

    # to_buffer(to_tensor(m)) -> m
    for op in list(block.ops):
        if isinstance(op, bufferization.ToBufferOp):
            source = op.tensor.owner
            if not isinstance(source, bufferization.ToTensorOp):
                raise PassFailedException(f"bufferize: {op.tensor} is not a buffer; run the lower-nn-* passes first")
            op.memref.replace_all_uses_with(source.memref)
            block.erase_op(op)

    # results: write in place into the output arguments where possible, else copy
    claimed: set[int] = set()
    new_ops: list[Operation] = []
    for i, (result, out) in enumerate(zip(ret.arguments, outputs, strict=True)):
        tensor = result.owner
        assert isinstance(tensor, bufferization.ToTensorOp)
        alloc = _root_alloc(tensor.memref)
        if alloc is not None and id(alloc) not in claimed and alloc.parent_block() is block:
            claimed.add(id(alloc))
            if alloc.memref.type == out.type:
                alloc.memref.replace_all_uses_with(out)
                block.erase_op(alloc)
            else:
                view = reinterpret(out, shape_of(alloc.memref))
                block.insert_op_before(view, alloc)
                alloc.memref.replace_all_uses_with(view.result)
                block.erase_op(alloc)
        else:
            callee = _copy_function(module, f"{name}_copy{i}", cast(MemRefType, out.type))
            new_ops.append(func.CallOp(callee, [tensor.memref, out], []))
    zero = arith.ConstantOp(IntegerAttr(0, i32))
    new_ops += [zero, func.ReturnOp(zero.result)]
    block.add_ops(new_ops)
    block.erase_op(ret)

    for op in reversed(list(block.ops)):
        if isinstance(op, bufferization.ToTensorOp):
            if op.tensor.uses:
                raise PassFailedException(f"bufferize: tensor {op.tensor} is still used by {op.tensor.uses}")
            block.erase_op(op)
        elif isinstance(op, memref.ReinterpretCastOp | memref.GetGlobalOp) and not op.results[0].uses:
            block.erase_op(op)  # views only the dropped tensors used
    function.function_type = FunctionType.from_lists(list(block.arg_types), [i32])
    function.sym_name = StringAttr(f"{name}_run")
    static = sum(memref_bytes(op.memref.type) for op in block.ops if isinstance(op, memref.AllocOp))
    inputs, outputs = (cast(list[TensorType], list(types)) for types in (tensor_type.inputs, tensor_type.outputs))
    module.attributes[MODEL_KEY] = ModelAttr(name, inputs, outputs, arena=static, quant=quant)


@dataclass(frozen=True)
class Bufferize(ModulePass):
    """Remove the tensor world: memref-only, C-callable `<name>_run(inputs..., outputs...) -> i32`."""

    name = "bufferize"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerConstant(), apply_recursively=False).rewrite_module(op)
        left = sorted({o.name for o in op.walk() if o.dialect_name() in ("nn", "qnn")})
        if left:
            raise PassFailedException(f"bufferize: nn ops not lowered yet: {', '.join(left)}")
        for function in [f for f in op.ops if isinstance(f, func.FuncOp)]:
            if any(isinstance(t, TensorType) for t in (*function.function_type.inputs,
                                                       *function.function_type.outputs)):
                bufferize_function(op, function)
        # layer functions in layer order after their model function (they were appended pass by pass)
        layers = sorted((f for f in op.ops if isinstance(f, func.FuncOp) and layer_of(f) is not None),
                        key=lambda f: f.sym_name.data)
        for f in layers:
            f.detach()
            op.body.block.add_op(f)
