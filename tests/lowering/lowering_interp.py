"""Ladder rung 2: run loop-level IR with xDSL's interpreter and compare it with the nn reference interpreter.

xDSL's interpreter computes floats as Python doubles and lacks some ops t2m emits, so this file adds
interpreter functions that round every float op to f32 (as the Cortex-M4 does) and implement `affine.for` with
iter_args, `memref.reinterpret_cast`, `arith.bitcast/divf/negf/andi/ori/shrui/sitofp` and the vector ops of linear.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from xdsl.dialects import affine, arith, func, memref, vector
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, FloatAttr, MemRefType, ModuleOp, TensorType, f32
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    impl,
    register_impls,
)
from xdsl.interpreters.affine import AffineFunctions
from xdsl.interpreters.arith import ArithFunctions
from xdsl.interpreters.builtin import xtype_for_el_type
from xdsl.interpreters.func import FuncFunctions
from xdsl.interpreters.memref import MemRefFunctions
from xdsl.interpreters.scf import ScfFunctions
from xdsl.interpreters.shaped_array import ShapedArray
from xdsl.interpreters.utils.ptr import TypedPtr
from xdsl.ir import Block, Region, SSAValue
from xdsl.passes import PassPipeline
from xdsl.transforms import get_all_passes as xdsl_passes

from t2m.compiler.interpreter import run_module
from t2m.compiler.ir import make_context, module_to_text, parse_module
from t2m.compiler.pipeline import LOWER_TO_LOOPS
from t2m.dialects import nn
from t2m.passes import get_all_passes


def r32(x: float) -> float:
    with np.errstate(all="ignore"):
        return float(np.float32(x))


def f2i(x: float) -> int:
    return struct.unpack("<i", struct.pack("<f", x))[0]


def i2f(i: int) -> float:
    return struct.unpack("<f", struct.pack("<i", ((i + 2**31) % 2**32) - 2**31))[0]


@register_impls
class F32Functions(InterpreterFunctions):
    """f32-exact arithmetic and the ops xDSL's interpreter lacks."""

    @impl(arith.ConstantOp)
    def run_constant(self, interpreter: Interpreter, op: arith.ConstantOp, args: PythonValues):
        value = op.value
        if isinstance(value, DenseIntOrFPElementsAttr):
            return (tuple(r32(float(v)) for v in value.get_values()),)  # type: ignore[arg-type]
        if isinstance(value, FloatAttr):
            return (r32(value.value.data),)
        return (value.value.data,)  # type: ignore[union-attr]  (index/integer: t2m uses small non-negatives)

    @impl(arith.AddfOp)
    def run_addf(self, interpreter: Interpreter, op: arith.AddfOp, args: PythonValues):
        return (_lift(lambda a, b: r32(a + b), *args),)

    @impl(arith.SubfOp)
    def run_subf(self, interpreter: Interpreter, op: arith.SubfOp, args: PythonValues):
        return (_lift(lambda a, b: r32(a - b), *args),)

    @impl(arith.MulfOp)
    def run_mulf(self, interpreter: Interpreter, op: arith.MulfOp, args: PythonValues):
        return (_lift(lambda a, b: r32(a * b), *args),)

    @impl(arith.DivfOp)
    def run_divf(self, interpreter: Interpreter, op: arith.DivfOp, args: PythonValues):
        with np.errstate(all="ignore"):
            return (_lift(lambda a, b: float(np.float32(a) / np.float32(b)), *args),)

    @impl(arith.NegfOp)
    def run_negf(self, interpreter: Interpreter, op: arith.NegfOp, args: PythonValues):
        return (-args[0],)

    @impl(arith.BitcastOp)
    def run_bitcast(self, interpreter: Interpreter, op: arith.BitcastOp, args: PythonValues):
        return (i2f(args[0]) if op.result.type == f32 else f2i(args[0]),)

    @impl(arith.AndIOp)
    def run_andi(self, interpreter: Interpreter, op: arith.AndIOp, args: PythonValues):
        return (_wrap32(args[0] & args[1]),)

    @impl(arith.OrIOp)
    def run_ori(self, interpreter: Interpreter, op: arith.OrIOp, args: PythonValues):
        return (_wrap32(args[0] | args[1]),)

    @impl(arith.ShRUIOp)
    def run_shrui(self, interpreter: Interpreter, op: arith.ShRUIOp, args: PythonValues):
        return (_wrap32((args[0] % 2**32) >> args[1]),)

    @impl(arith.SIToFPOp)
    def run_sitofp(self, interpreter: Interpreter, op: arith.SIToFPOp, args: PythonValues):
        return (r32(float(args[0])),)

    @impl(memref.LoadOp)
    def run_load(self, interpreter: Interpreter, op: memref.LoadOp, args: PythonValues):
        mem, *idx = args
        _check_bounds(op, mem, idx, 1)
        return (mem.load(tuple(idx)),)

    @impl(memref.StoreOp)
    def run_store(self, interpreter: Interpreter, op: memref.StoreOp, args: PythonValues):
        value, mem, *idx = args
        _check_bounds(op, mem, idx, 1)
        mem.store(tuple(idx), value)
        return ()

    @impl(affine.ForOp)
    def run_for(self, interpreter: Interpreter, op: affine.ForOp, args: PythonValues):
        lo = op.lowerBoundMap.data.eval([], [])[0]
        hi = op.upperBoundMap.data.eval([], [])[0]
        values = tuple(args)
        for i in range(lo, hi, op.step.value.data):
            values = interpreter.run_ssacfg_region(op.body, (i, *values), "affine.for")
        return values

    @impl(memref.ReinterpretCastOp)
    def run_reinterpret_cast(self, interpreter: Interpreter, op: memref.ReinterpretCastOp, args: PythonValues):
        assert tuple(op.static_offsets.get_values()) == (0,)
        return (ShapedArray(args[0].data_ptr, list(op.static_sizes.get_values())),)

    @impl(memref.ViewOp)
    def run_view(self, interpreter: Interpreter, op: memref.ViewOp, args: PythonValues):
        """A float buffer at a byte offset of plan-memory's i8 arena (same bytes, no copy)."""
        arena, shift = args[0], args[1]
        ptr = TypedPtr(arena.data_ptr.raw + shift, xtype=xtype_for_el_type(f32, interpreter.index_bitwidth))
        return (ShapedArray(ptr, list(op.result.type.get_shape())),)

    @impl(vector.LoadOp)
    def run_vload(self, interpreter: Interpreter, op: vector.LoadOp, args: PythonValues):
        mem, *idx = args
        n = op.result.type.get_shape()[0]
        _check_bounds(op, mem, idx, n)
        start = mem.offset(idx)
        return (tuple(mem.data_ptr[start + i] for i in range(n)),)

    @impl(vector.StoreOp)
    def run_vstore(self, interpreter: Interpreter, op: vector.StoreOp, args: PythonValues):
        vec, mem, *idx = args
        _check_bounds(op, mem, idx, len(vec))
        start = mem.offset(idx)
        for i, v in enumerate(vec):
            mem.data_ptr[start + i] = v
        return ()

    @impl(vector.FMAOp)
    def run_fma(self, interpreter: Interpreter, op: vector.FMAOp, args: PythonValues):
        a, b, c = args
        # as convert-vector-to-llvm lowers it by default: fmul + fadd, two roundings
        return (tuple(r32(r32(x * y) + z) for x, y, z in zip(a, b, c, strict=True)),)

    @impl(vector.BroadcastOp)
    def run_broadcast(self, interpreter: Interpreter, op: vector.BroadcastOp, args: PythonValues):
        return ((args[0],) * op.vector.type.get_shape()[0],)

    @impl(vector.ReductionOp)
    def run_reduction(self, interpreter: Interpreter, op: vector.ReductionOp, args: PythonValues):
        assert op.kind.data.value == "add"
        vec, *acc = args
        total = acc[0] if acc else vec[0]
        for v in vec if acc else vec[1:]:
            total = r32(total + v)
        return (total,)


def _check_bounds(op: Any, mem: ShapedArray, idx: Sequence[int], width: int) -> None:
    """Out-of-bounds accesses must fail loudly (a flat buffer would silently wrap into the next row)."""
    if not idx:
        return
    last = [*idx[:-1], idx[-1] + width - 1]
    if any(not 0 <= i < d for i, d in zip(last, mem.shape, strict=True)) or min(idx) < 0:
        raise AssertionError(f"{op.name} out of bounds: {list(idx)} (+{width}) in {mem.shape}")


def _wrap32(v: int) -> int:
    return ((v + 2**31) % 2**32) - 2**31


def _lift(f: Callable[[float, float], float], a: Any, b: Any) -> Any:
    if isinstance(a, tuple):
        return tuple(f(x, y) for x, y in zip(a, b, strict=True))
    return f(a, b)


# ---------------------------------------------------------------------------------------------------------------
# Building nn modules, lowering and running them
# ---------------------------------------------------------------------------------------------------------------


def nn_module(name: str, input_shapes: Sequence[Sequence[int]],
              body: Callable[[list[SSAValue], Callable[[np.ndarray], SSAValue]], Any]
              ) -> ModuleOp:
    """A one-function nn module: body(inputs, const) returns the result(s); const(array) adds an nn.constant."""
    block = Block(arg_types=[TensorType(f32, s) for s in input_shapes])

    def const(array: np.ndarray) -> SSAValue:
        op = nn.ConstantOp.from_array(np.asarray(array, np.float32))
        block.add_op(op)
        return op.output

    results = body(list(block.args), const)
    results = results if isinstance(results, list) else [results]
    # ops created by body are detached: insert them in creation order by walking the operand graph
    ordered: list[Any] = []
    seen: set[int] = set()

    def visit(value: SSAValue) -> None:
        owner = value.owner
        if isinstance(owner, Block) or id(owner) in seen:
            return
        seen.add(id(owner))
        for operand in owner.operands:
            visit(operand)
        if owner.parent is None:
            ordered.append(owner)

    for r in results:
        visit(r)
    block.add_ops(ordered)
    block.add_op(func.ReturnOp(*results))
    function = func.FuncOp(name, ([TensorType(f32, s) for s in input_shapes], [r.type for r in results]),
                           Region(block))
    module = ModuleOp([function])
    module.verify()
    return module


def apply_passes(module: ModuleOp, names: Sequence[str]) -> ModuleOp:
    """Apply passes given as `t2m-opt -p` specs (`lower-nn-conv{block=false}`)."""
    available = {**xdsl_passes(), **get_all_passes()}
    PassPipeline.parse_spec(available, ",".join(names)).apply(make_context(), module)
    module.verify()
    return module


def lower(module: ModuleOp, passes: Sequence[str] = LOWER_TO_LOOPS, round_trip: bool = True) -> ModuleOp:
    lowered = apply_passes(module.clone(), passes)
    if round_trip:  # the text form must re-parse and still lower (no symbol maps, f32 only)
        text = module_to_text(lowered)
        assert " f64" not in text and "math." not in text and "maximumf" not in text and "maxnumf" not in text
        lowered = parse_module(text)
    return lowered


def run_lowered(module: ModuleOp, inputs: Sequence[np.ndarray], fill: float = math.nan) -> list[np.ndarray]:
    """Call `<name>_run(inputs..., outputs...)` in the interpreter; returns the output buffers, which start as
    `fill` (NaN: an element the code never writes shows)."""
    (run,) = [f for f in module.ops if isinstance(f, func.FuncOp) and f.sym_name.data.endswith("_run")]
    types = run.function_type.inputs.data
    interpreter = Interpreter(module)
    for fns in (FuncFunctions(), ArithFunctions(), MemRefFunctions(), AffineFunctions(), ScfFunctions()):
        interpreter.register_implementations(fns)
    interpreter.register_implementations(F32Functions(), override=True)
    args = []
    for x in inputs:
        args.append(ShapedArray(TypedPtr.new_float32([float(v) for v in np.ravel(x)]), list(np.shape(x))))
    outputs = []
    for t in types[len(inputs):]:
        assert isinstance(t, MemRefType)
        shape = list(t.get_shape())
        outputs.append(ShapedArray(TypedPtr.new_float32([fill] * math.prod(shape)), shape))
    (rc,) = interpreter.call_op(run, (*args, *outputs))
    assert rc == 0
    return [np.array(o.data, dtype=np.float32).reshape(o.shape) for o in outputs]


def check_lowering(module: ModuleOp, inputs: Sequence[np.ndarray], rtol: float = 1e-5, atol: float = 1e-5,
                   passes: Sequence[str] = LOWER_TO_LOOPS) -> ModuleOp:
    """Lower, run at loop level, compare with the nn reference; returns the lowered module."""
    inputs = [np.asarray(x, np.float32) for x in inputs]
    expected = run_module(module, inputs)
    lowered = lower(module, passes)
    got = run_lowered(lowered, inputs)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)
    return lowered
