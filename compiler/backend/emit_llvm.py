"""llvm-dialect module -> LLVM IR text that llvmlite parses and verifies.

xDSL's converter (`xdsl.backend.llvm`, `-t llvm`) does the instruction-level work; this file adds what t2m's
object contract needs and the converter lacks:
- function linkage and attributes: the converter declares every function `external` and drops `no_inline`,
  so layer functions would be inlined into `<name>_run` (the emulator attributes cycles per function);
- globals: weights as `internal constant` with their data written straight from the dense attribute's bytes
  as hex floats (0.09 s for 210 k weights; the converter's `get_values()` + one Python float per element
  takes 0.75 s), and zero-initialised buffers (the converter leaves a global without a value uninitialised,
  which is a declaration, or invalid IR for an internal one);
- the ops of `t2m.dialects.llvm_ext` (fptosi, fptoui, uitofp, extractelement, llvm.fmuladd);
- GEPs without the converter's `bitcast ptr to ptr`, splat vector constants, i1 constants as 0/1;
- SSA names from the module's name hints, so the `.ll` reads like the `.mlir` it came from;
- one section per function and per global (`.text.<name>`, `.rodata.<name>`, `.bss.<name>`), what
  `-ffunction-sections -fdata-sections` gives C code (llvmlite's target machine has no such option), so a
  firmware linked with `--gc-sections` keeps only what it calls: `<name>_run_with_arena` alone does not drag
  in the static arena of `<name>_run`;
- `source_filename` = the model's name, so the object's FILE symbol, and the linker's messages, name the model;
- the model's description (dialects/t2m.py) as `!llvm.ident`, so the object carries it in `.comment`.
The triple and data layout are the target's (`target.py`); `jit.py` retargets the same text for the host.
"""

from __future__ import annotations

from collections.abc import Callable

import llvmlite.ir as ir
import numpy as np
from xdsl.backend.llvm.convert_op import convert_op, declare_intrinsic
from xdsl.backend.llvm.convert_type import convert_type
from xdsl.dialects import llvm
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    Float32Type,
    Float64Type,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    UnrealizedConversionCastOp,
    VectorType,
)
from xdsl.ir import Block, Operation, SSAValue
from xdsl.utils.exceptions import LLVMTranslationException

from t2m.compiler.model_info import describe, encode
from t2m.dialects import llvm_ext
from t2m.dialects.t2m import layer_of, model_of

from .errors import BackendError
from .llvm import create_target_machine, get_opt_level, parse_module
from .target import Target, get_target

__all__ = ["to_llvm_ir"]

_Handler = Callable[[Operation, ir.IRBuilder, dict[SSAValue, ir.Value]], None]


# --- globals ------------------------------------------------------------------------------------------------


def _float_items(values: np.ndarray, name: str) -> list[str]:
    """LLVM spells a float constant as the hex of the equal double: exact for every f32, NaN and inf too."""
    bits = values.astype(np.float64).view(np.uint64)
    return [f"{name} 0x{b:016X}" for b in bits.tolist()]


def _array_text(llvm_type: ir.Type, data: bytes, element: object, count: int) -> str:
    """An initialiser for `count` elements read from a dense attribute's raw (little-endian) bytes."""
    if isinstance(element, Float32Type):
        values, spelled = np.frombuffer(data, "<f4"), "float"
    elif isinstance(element, Float64Type):
        values, spelled = np.frombuffer(data, "<f8"), "double"
    elif isinstance(element, IntegerType) and element.width.data in (8, 16, 32, 64):
        values, spelled = np.frombuffer(data, f"<i{element.width.data // 8}"), f"i{element.width.data}"
    else:
        raise BackendError(f"cannot write a global of {element} elements; use f32/f64 or i8..i64")
    if values.size == 1 and count > 1:  # a splat stored once
        values = np.repeat(values, count)
    if values.size != count:
        raise BackendError(f"global initialiser has {values.size} elements for a {llvm_type} global")
    if not values.any() and not (isinstance(element, Float32Type | Float64Type) and np.signbit(values).any()):
        return "zeroinitializer"
    if spelled in ("float", "double"):
        items = _float_items(values, spelled)
    else:
        items = [f"{spelled} {v}" for v in values.tolist()]
    if not isinstance(llvm_type, ir.ArrayType):
        return items[0].split(" ", 1)[1]
    return f"[{', '.join(items)}]"


def _emit_global(op: llvm.GlobalOp, module: ir.Module) -> None:
    llvm_type = convert_type(op.global_type)
    gvar = ir.GlobalVariable(module, llvm_type, name=op.sym_name.data, addrspace=op.addr_space.value.data)
    gvar.type = _opaque(gvar.type)
    gvar.linkage = op.linkage.linkage.data
    gvar.global_constant = op.constant is not None
    if op.alignment is not None:
        gvar.align = op.alignment.value.data  # pyright: ignore[reportAttributeAccessIssue]
    value = op.value
    if isinstance(value, DenseIntOrFPElementsAttr):
        count = llvm_type.count if isinstance(llvm_type, ir.ArrayType) else 1
        text = _array_text(llvm_type, value.data.data, value.get_element_type(), count)
        gvar.initializer = ir.FormattedConstant(llvm_type, text)  # pyright: ignore[reportAttributeAccessIssue]
    elif value is not None:
        raise BackendError(f"global @{op.sym_name.data}: unsupported initial value {value}")
    elif gvar.linkage in ("internal", "private"):  # a buffer: .bss
        gvar.initializer = ir.Constant(llvm_type, None)  # pyright: ignore[reportAttributeAccessIssue]
    if gvar.initializer is not None:
        gvar.section = _data_section(gvar)


def _data_section(gvar: ir.GlobalVariable) -> str:
    """`.rodata.<name>` (flash), `.bss.<name>` (zeroed RAM) or `.data.<name>`: LLVM infers the kind from the prefix."""
    if gvar.global_constant:
        return f".rodata.{gvar.name}"
    zero = gvar.initializer.get_reference() == "zeroinitializer"  # pyright: ignore[reportAttributeAccessIssue]
    return f".{'bss' if zero else 'data'}.{gvar.name}"


# --- functions ----------------------------------------------------------------------------------------------


# MLIR's argument attributes that mean something for t2m's pointer parameters (a layer may promise its output
# does not alias its inputs: `{llvm.noalias}`).
_ARG_FLAGS = {
    "llvm.noalias": "noalias",
    "llvm.nonnull": "nonnull",
    "llvm.noundef": "noundef",
    "llvm.nocapture": "captures(none)",
    "llvm.nofree": "nofree",
}


def _opaque(t: ir.Type) -> ir.Type:
    """llvmlite prints typed pointers (`[12 x float]*`) unless told otherwise at import; LLVM >= 17 wants `ptr`."""
    if isinstance(t, ir.PointerType) and not t.is_opaque:
        return ir.PointerType(addrspace=t.addrspace)
    return t


def _declare_function(op: llvm.FuncOp, module: ir.Module) -> None:
    output = op.function_type.output
    function_type = ir.FunctionType(
        ir.VoidType() if isinstance(output, llvm.LLVMVoidType) else convert_type(output),
        [convert_type(t) for t in op.function_type.inputs],
        var_arg=op.function_type.is_variadic,
    )
    function = ir.Function(module, function_type, name=op.sym_name.data)
    if op.body.blocks:
        function.linkage = "" if op.linkage.linkage.data == "external" else op.linkage.linkage.data
        function.section = f".text.{function.name}"
    # After a text round trip `no_inline` comes back as a discardable attribute, not the property.
    # A layer function stays out of line: the emulator counts cycles per function.
    if op.no_inline is not None or "no_inline" in op.attributes or layer_of(op) is not None:
        function.attributes.add("noinline")
    for value, arg in zip(function.args, op.body.blocks[0].args if op.body.blocks else (), strict=False):
        if arg.name_hint:
            value.name = arg.name_hint
    for value, attributes in zip(function.args, op.arg_attrs or (), strict=False):
        for name, attribute in attributes.data.items():
            if name in _ARG_FLAGS:
                value.add_attribute(_ARG_FLAGS[name])
            elif name == "llvm.align" and isinstance(attribute, IntegerAttr):
                value.attributes.align = attribute.value.data  # pyright: ignore[reportAttributeAccessIssue]
            elif name == "llvm.dereferenceable" and isinstance(attribute, IntegerAttr):
                value.attributes.dereferenceable = attribute.value.data  # pyright: ignore[reportAttributeAccessIssue]


def _gep(op: llvm.GEPOp, builder: ir.IRBuilder, values: dict[SSAValue, ir.Value]) -> None:
    dynamic = iter(op.ssa_indices)
    indices = [
        values[next(dynamic)] if index == llvm.GEP_USE_SSA_VAL else ir.Constant(ir.IntType(32), index)
        for index in op.rawConstantIndices.iter_values()
    ]
    values[op.result] = builder.gep(
        values[op.ptr], indices, inbounds=op.inbounds is not None, source_etype=convert_type(op.elem_type)
    )


def _constant(op: llvm.ConstantOp, builder: ir.IRBuilder, values: dict[SSAValue, ir.Value]) -> None:
    result_type = op.result.type
    value = op.value
    if isinstance(value, IntegerAttr) and result_type == IntegerType(1):
        values[op.result] = ir.Constant(ir.IntType(1), value.value.data & 1)
    elif isinstance(value, DenseIntOrFPElementsAttr) and isinstance(result_type, VectorType):
        items = list(value.get_values())
        lanes = result_type.get_shape()[0]
        values[op.result] = ir.Constant(convert_type(result_type), items * lanes if len(items) == 1 else items)
    else:
        convert_op(op, builder, values)


def _cast(name: str) -> _Handler:
    def handler(op: Operation, builder: ir.IRBuilder, values: dict[SSAValue, ir.Value]) -> None:
        method = getattr(builder, name)
        values[op.results[0]] = method(values[op.operands[0]], convert_type(op.results[0].type))

    return handler


def _extractelement(op: Operation, builder: ir.IRBuilder, values: dict[SSAValue, ir.Value]) -> None:
    values[op.results[0]] = builder.extract_element(values[op.operands[0]], values[op.operands[1]])


def _fmuladd(op: Operation, builder: ir.IRBuilder, values: dict[SSAValue, ir.Value]) -> None:
    a, b, c = (values[v] for v in op.operands)
    t = convert_type(op.results[0].type)
    function = declare_intrinsic(builder.module, "llvm.fmuladd", t, ir.FunctionType(t, [t, t, t]))
    values[op.results[0]] = builder.call(function, [a, b, c])


_HANDLERS: dict[type[Operation], _Handler] = {
    llvm.GEPOp: _gep,  # type: ignore[dict-item]
    llvm.ConstantOp: _constant,  # type: ignore[dict-item]
    llvm_ext.FPToSIOp: _cast("fptosi"),
    llvm_ext.FPToUIOp: _cast("fptoui"),
    llvm_ext.UIToFPOp: _cast("uitofp"),
    llvm_ext.ExtractElementOp: _extractelement,
    llvm_ext.FMulAddOp: _fmuladd,
}


_HINT = (
    "run the LOWER_TO_LLVM passes (compiler/pipeline.py) first; "
    "they convert only the loop-level ops t2m's lowering emits"
)


def _function_name(op: Operation) -> str:
    parent = op.parent_op()
    while parent is not None and not isinstance(parent, llvm.FuncOp):
        parent = parent.parent_op()
    return parent.sym_name.data if parent is not None else "?"


def _describe(op: Operation) -> str:
    if isinstance(op, UnrealizedConversionCastOp):
        users = sorted({use.operation.name for r in op.results for use in r.uses})
        source = op.inputs[0].owner
        source_name = source.name if isinstance(source, Operation) else "a block argument"
        return (
            f"a cast {op.inputs.types[0]} -> {op.result_types[0]} between {source_name} and "
            f"{', '.join(users) or 'nothing'} is left: one side was not converted to the llvm dialect"
        )
    return f"op {op.name} was not converted to the llvm dialect"


def _emit_op(op: Operation, builder: ir.IRBuilder, values: dict[SSAValue, ir.Value], blocks: dict[Block, ir.Block]):
    handler = _HANDLERS.get(type(op))
    try:
        if handler is not None:
            handler(op, builder, values)
        else:
            convert_op(op, builder, values, blocks)
    except (NotImplementedError, LLVMTranslationException) as error:
        detail = "" if isinstance(op, UnrealizedConversionCastOp) else f" ({error})"
        raise BackendError(f"{_describe(op)}{detail}, at @{_function_name(op)}; {_HINT}") from None
    for result in op.results:
        emitted = values.get(result)
        if isinstance(emitted, ir.Instruction):
            emitted.type = _opaque(emitted.type)
        if result.name_hint and isinstance(emitted, ir.Instruction) and not isinstance(emitted.type, ir.VoidType):
            emitted.name = result.name_hint


def _emit_body(op: llvm.FuncOp, module: ir.Module) -> None:
    function = module.get_global(op.sym_name.data)
    values: dict[SSAValue, ir.Value] = {}
    blocks: dict[Block, ir.Block] = {}
    for index, block in enumerate(op.body.blocks):
        blocks[block] = function.append_basic_block(name=block.name_hint or ("entry" if index == 0 else "bb"))
    values.update(zip(op.body.blocks[0].args, function.args, strict=True))
    for block in list(op.body.blocks)[1:]:  # phis first, so branches can add incoming values in any order
        builder = ir.IRBuilder(blocks[block])
        for arg in block.args:
            values[arg] = builder.phi(convert_type(arg.type), name=arg.name_hint or "")
    for block in op.body.blocks:
        builder = ir.IRBuilder(blocks[block])
        for inner in block.ops:
            _emit_op(inner, builder, values, blocks)


# --- module -------------------------------------------------------------------------------------------------


def _describe_model(module: ModuleOp, out: ir.Module) -> None:
    """The model's description (`#t2m.model` and the `#t2m.layer`s) as `!llvm.ident`, which LLVM writes into the
    object's non-allocated `.comment` section: `t2m-run` reads it back with `model_info.read_from_object`."""
    ident = out.add_named_metadata("llvm.ident")
    ident.add(out.add_metadata([ir.MetaDataString(out, encode(describe(module)))]))


def _data_layout(target: Target) -> str:
    return str(create_target_machine(target, get_opt_level("O0")).target_data)


def _model_name(module: ModuleOp) -> str:
    """The model's name (`#t2m.model`; `<name>_run` is its entry point), else the module's, else `t2m`."""
    model = model_of(module)
    if model is not None:
        return model.model.data
    return module.sym_name.data if module.sym_name else "t2m"


def _with_source_filename(text: str, name: str) -> str:
    """llvmlite's printer has no `source_filename`; it goes after the header (the ModuleID, triple and layout)."""
    *header, body = text.split("\n", 3)
    escaped = name.replace("\\", "\\5C").replace('"', "\\22")
    return "\n".join([*header, f'source_filename = "{escaped}"', body])


def to_llvm_ir(module: ModuleOp, target: str | Target = "cortex-m4", *, verify: bool = True) -> str:
    """LLVM IR text for an llvm-dialect module (the output of `LOWER_TO_LLVM`), for `target`'s triple.

    With `verify`, the text is parsed and verified by LLVM: a problem is a one-line `BackendError` here
    rather than later in the object compiler.
    """
    resolved = get_target(target)
    name = _model_name(module)
    out = ir.Module(name=name)
    out.triple = resolved.triple
    out.data_layout = _data_layout(resolved)
    functions: list[llvm.FuncOp] = []
    for op in module.ops:
        if isinstance(op, llvm.GlobalOp):
            _emit_global(op, out)
        elif isinstance(op, llvm.FuncOp):
            functions.append(op)
        else:
            raise BackendError(f"{_describe(op)}, at the top level; {_HINT}")
    for function in functions:
        _declare_function(function, out)
    for function in functions:
        if function.body.blocks:
            _emit_body(function, out)
    if model_of(module) is not None:
        _describe_model(module, out)
    text = _with_source_filename(str(out), name)
    if verify:
        parse_module(text)
    return text
