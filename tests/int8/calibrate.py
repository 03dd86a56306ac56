"""A float nn module turned into an int8 qnn module, deterministically: the test generator of whole int8 models.

`quantize_model(fused_nn_module, calibration_inputs)` runs the fp32 reference interpreter on the calibration
inputs, records the range of every tensor, and rewrites op by op (docs/int8.md's scheme): activations asymmetric
per tensor from their calibrated range (0 included), weights symmetric per output channel in [-127, 127], biases
int32 at scale s_in * s_w, fused activations quantized into act_min/act_max. This is *not* the front end (PT2E,
accuracy against PyTorch): it only has to produce realistic qnn modules, so that every later stage can be checked
bit for bit against the integer reference interpreter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, IntegerAttr, IntegerType, ModuleOp, TensorType, i32
from xdsl.ir import Block, Operation, Region, SSAValue

from t2m.compiler.interpreter import entry_function, run_module
from t2m.dialects import nn, qnn

I8 = IntegerType(8)
Quant = tuple[float, int]


def float_values(module: ModuleOp, inputs_list: Sequence[Sequence[np.ndarray]]) -> list[tuple[float, float]]:
    """(min, max) over the calibration inputs of every op result of the model function, in op order."""
    clone = module.clone()
    function = entry_function(clone)
    block = function.body.block
    ret = block.last_op
    assert isinstance(ret, func.ReturnOp)
    values = [r for op in block.ops if not isinstance(op, func.ReturnOp) for r in op.results]
    ret.operands = values
    function.function_type = func.FunctionType.from_lists(function.function_type.inputs.data,  # type: ignore
                                                          [v.type for v in values])
    ranges = [(math.inf, -math.inf)] * len(values)
    for inputs in inputs_list:
        for i, array in enumerate(run_module(clone, inputs)):
            lo, hi = ranges[i]
            ranges[i] = (min(lo, float(array.min())), max(hi, float(array.max())))
    return ranges


def quant_of(lo: float, hi: float) -> Quant:
    """Asymmetric int8 (scale, zero point) covering [lo, hi] and 0."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max((hi - lo) / 255.0, 1e-8)
    zp = int(np.clip(round(-128 - lo / scale), -128, 127))
    return scale, zp


def _q(value: float | None, quant: Quant, default: int) -> int:
    if value is None:
        return default
    return int(np.clip(round(value / quant[0]) + quant[1], -128, 127))


def _act(op: nn.FusedActivation, quant: Quant) -> tuple[int, int]:
    lo, hi = op.activation_bounds()
    return _q(lo, quant, qnn.I8_MIN), _q(hi, quant, qnn.I8_MAX)


class Quantizer:
    def __init__(self, block: Block, ranges: dict[SSAValue, tuple[float, float]]):
        self.block = block
        self.ranges = ranges
        self.values: dict[SSAValue, SSAValue] = {}
        self.quant: dict[SSAValue, Quant] = {}

    def emit(self, op: Operation) -> SSAValue:
        self.block.add_op(op)
        return op.results[0]

    def const(self, array: np.ndarray) -> SSAValue:
        return self.emit(nn.ConstantOp(nn.dense_of(array)))

    def weights(self, weight: SSAValue, bias: SSAValue | None, s_in: float
                ) -> tuple[SSAValue, SSAValue | None, np.ndarray]:
        """Per-output-channel symmetric int8 weights and int32 bias; returns the weight scales too."""
        w = nn.constant_array(weight)
        assert w is not None, "weights must be constants"
        w = np.asarray(w, np.float64)
        flat = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
        scales = np.where(flat > 0, flat / 127.0, 1.0)
        shape = (-1,) + (1,) * (w.ndim - 1)
        wq = np.clip(np.round(w / scales.reshape(shape)), -127, 127).astype(np.int8)
        b = None
        if bias is not None:
            bf = nn.constant_array(bias)
            assert bf is not None
            b = self.const(np.round(np.asarray(bf, np.float64) / (s_in * scales)).astype(np.int32))
        return self.const(wq), b, scales

    def convert(self, op: Operation) -> None:
        if isinstance(op, nn.ConstantOp):
            return
        out = op.results[0] if op.results else None
        quant = quant_of(*self.ranges[out]) if out is not None else None
        x = self.values.get(op.operands[0]) if op.operands else None
        q_in = self.quant.get(op.operands[0]) if op.operands else None
        if isinstance(op, nn.Conv2dOp | nn.LinearOp):
            assert x is not None and q_in is not None and quant is not None and out is not None
            w, b, scales = self.weights(op.weight, op.bias, q_in[0])
            requant = qnn.RequantAttr.from_scales([float(v) for v in q_in[0] * scales / quant[0]], quant[1])
            if isinstance(op, nn.Conv2dOp):
                stride, padding, dilation = op.geometry()
                new: qnn.Accumulate = qnn.Conv2dOp(x, w, b, stride, padding, dilation, op.groups.value.data, q_in[1],
                                                   requant)
            else:
                new = qnn.LinearOp(x, w, b, q_in[1], requant)
            new.set_activation_range(*_act(op, quant))
            self._set(out, self.emit(new), quant)
        elif isinstance(op, nn.AddOp):
            assert out is not None and quant is not None
            (a, qa), (c, qc) = ((self.values[v], self.quant[v]) for v in (op.lhs, op.rhs))
            twice = 2 * max(qa[0], qc[0])
            new_add = qnn.AddOp.create(
                operands=[a, c],
                result_types=[TensorType(I8, out.type.get_shape())],  # type: ignore[attr-defined]
                properties={
                    "lhs_zp": IntegerAttr(qa[1], i32), "rhs_zp": IntegerAttr(qc[1], i32),
                    "lhs_scale": qnn.RequantAttr.from_scales([qa[0] / twice], 0),
                    "rhs_scale": qnn.RequantAttr.from_scales([qc[0] / twice], 0),
                    "output_scale": qnn.RequantAttr.from_scales(
                        [twice / ((1 << qnn.ADD_LEFT_SHIFT) * quant[0])], quant[1]),
                },
            )
            assert isinstance(new_add, qnn.AddOp)
            new_add.set_activation_range(*_act(op, quant))
            self._set(out, self.emit(new_add), quant)
        elif isinstance(op, nn.AvgPool2dOp | nn.MaxPool2dOp):
            assert x is not None and q_in is not None and out is not None
            kernel, stride, padding, dilation = op.window()
            assert dilation == (1, 1)
            if isinstance(op, nn.AvgPool2dOp):
                pool: qnn.Pool2dOp = qnn.AvgPool2dOp(x, kernel, stride, padding, bool(op.count_include_pad.value.data),
                                                     q_in[1])
            else:
                pool = qnn.MaxPool2dOp(x, kernel, stride, padding)
            pool.set_activation_range(*_act(op, q_in))
            self._set(out, self.emit(pool), q_in)  # pools keep the input's quantization
        elif isinstance(op, nn.AdaptiveAvgPool2dOp):
            assert x is not None and q_in is not None and out is not None
            size = tuple(int(v) for v in out.type.get_shape()[2:])  # type: ignore[attr-defined]
            self._set(out, self.emit(qnn.AdaptiveAvgPool2dOp(x, size)), q_in)
        elif isinstance(op, nn.ReshapeOp | nn.FlattenOp):
            assert x is not None and q_in is not None and out is not None
            shape = tuple(out.type.get_shape())  # type: ignore[attr-defined]
            self._set(out, self.emit(nn.ReshapeOp(x, shape)), q_in)
        elif isinstance(op, nn.ReluOp):
            assert x is not None and q_in is not None and out is not None
            self._set(out, self.emit(qnn.ClampOp(x, q_in[1], qnn.I8_MAX)), q_in)
        elif isinstance(op, nn.SoftmaxOp):
            assert x is not None and q_in is not None and out is not None
            m, s, d = qnn.softmax_params(q_in[0])
            self._set(out, self.emit(qnn.SoftmaxOp(x, op.axis.value.data, m, s, d)), qnn.SoftmaxOp.OUTPUT_QUANT)
        else:
            raise NotImplementedError(f"calibrate: no int8 form for {op.name}")

    def _set(self, old: SSAValue, new: SSAValue, quant: Quant) -> None:
        self.values[old] = new
        self.quant[old] = quant


def quantize_model(module: ModuleOp, calibration: Sequence[Sequence[np.ndarray]], name: str | None = None
                   ) -> ModuleOp:
    """The qnn module of a fused fp32 nn module (see the module docstring)."""
    function = entry_function(module)
    block = function.body.block
    result_ranges = float_values(module, calibration)
    results = [r for op in block.ops if not isinstance(op, func.ReturnOp) for r in op.results]
    ranges = dict(zip(results, result_ranges, strict=True))
    for i, arg in enumerate(block.args):
        values = [np.asarray(inputs[i]) for inputs in calibration]
        ranges[arg] = (min(float(v.min()) for v in values), max(float(v.max()) for v in values))
    types = [TensorType(I8, t.get_shape()) for t in function.function_type.inputs]  # type: ignore[attr-defined]
    new_block = Block(arg_types=types)
    quantizer = Quantizer(new_block, ranges)
    for old, new in zip(block.args, new_block.args, strict=True):
        quantizer._set(old, new, quant_of(*ranges[old]))
    ret = block.last_op
    assert isinstance(ret, func.ReturnOp)
    for op in block.ops:
        if op is not ret:
            quantizer.convert(op)
    outputs = [quantizer.values[v] for v in ret.arguments]
    new_block.add_op(func.ReturnOp(*outputs))

    def attrs(quants: Sequence[Quant]) -> ArrayAttr[DictionaryAttr]:
        return ArrayAttr([DictionaryAttr({"qnn.quant": qnn.QuantAttr(*q)}) for q in quants])

    new_function = func.FuncOp(
        name or function.sym_name.data,
        (types, [v.type for v in outputs]),
        Region(new_block),
        arg_attrs=attrs([quantizer.quant[a] for a in block.args]),
        res_attrs=attrs([quantizer.quant[v] for v in ret.arguments]),
    )
    quantized = ModuleOp([new_function])
    quantized.verify()
    return quantized
