"""Translate a quantized PT2E graph (`quantized_decomposed` quantize/dequantize ops around float ATen ops) into
a `func.func` of `qnn` ops with integer parameters.

`convert_pt2e` writes an int8 model as float ops between quantize (q) and dequantize (dq) nodes:

    q(x, s_in, z_in) -> dq -> conv2d(., dq(W_i8, s_w[c]), dq(b_i32, s_in*s_w[c])) -> relu -> q(., s_out, z_out)

The importer reads it back as what it means in integers (docs/int8.md): a dq node costs nothing (the int8
tensor it reads stays in the IR, with its scale and zero point on the side), a float op waits until a q node
gives its result a (scale, zero point), and then becomes qnn ops whose integer parameters come from the scales:
`qnn.conv2d` (int32) -> `qnn.rescale` (multipliers s_in * s_w[c] / s_out) -> `qnn.clamp` (the ReLU's bounds in
the int8 domain). Ops that commute with dequantization (reshapes, max pooling, zero padding that a convolution
absorbs) are translated on the int8 tensor at once. The model takes and returns int8 tensors whose (scale, zero
point) are the `qnn.quant` argument and result attributes: the first q of the input and the last dq of the output.

One handler per op family, as in aten.py: `WALK` handlers run as the graph is walked (q, dq, the ops that
commute with dequantization), `EMIT` handlers when a q node quantizes a float op's result. Everything that has
no exact int8 form (int16 or per-channel activations, asymmetric weights, a float op left between quantized
ones) is collected with its source line and reported in one error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from xdsl.builder import Builder
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    BytesAttr,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    IntegerType,
    ModuleOp,
    TensorType,
    f32,
    i32,
)
from xdsl.ir import Block, Region, SSAValue
from xdsl.rewriter import InsertPoint

from t2m.compiler.importer.aten import (
    Translator,
    Unsupported,
    UnsupportedOp,
    _ceil_extra,
    _indices_only,
    _norm_dim,
    _pair,
    op_name,
    source_line,
)
from t2m.dialects import nn, qnn

I8_MIN, I8_MAX = qnn.I8_MIN, qnn.I8_MAX
I32_MIN, I32_MAX = -(2**31), 2**31 - 1


# ---------------------------------------------------------------------------------------------------------------
# What a graph node stands for
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QParams:
    """real = scale * (q - zero_point)."""

    scale: float
    zero_point: int

    def same(self, other: QParams) -> bool:
        """The same quantization (scales equal to float32 precision, as PT2E stores them)."""
        return self.zero_point == other.zero_point and math.isclose(self.scale, other.scale, rel_tol=1e-6)


@dataclass(frozen=True)
class QTensor:
    """An int8 activation in the IR with its quantization (what a q node produces). `pads` is zero padding
    (top, left, bottom, right) not applied yet: the convolution that reads the tensor absorbs it."""

    value: SSAValue
    q: QParams
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.type.get_shape())  # type: ignore[attr-defined]

    def plain(self) -> SSAValue:
        """The tensor for any op but a convolution, which alone can absorb pending padding."""
        if any(self.pads):
            raise Unsupported("zero padding whose result is used by something other than a convolution")
        return self.value


@dataclass(frozen=True)
class Real:
    """The real-valued view of an int8 activation (a dq node): exact, and nothing is emitted for it."""

    t: QTensor


@dataclass(frozen=True)
class Quantized:
    """A quantized constant: a dq node reading a frozen integer tensor (weights, a bias, a constant operand)."""

    data: np.ndarray
    scales: np.ndarray  # float64, one per tensor or one per slice along `axis`
    zero_points: np.ndarray
    axis: int | None


@dataclass(frozen=True)
class Float:
    """The result of a float op (or of an activation applied to one) before any q node gives it a scale."""

    node: Any


@dataclass(frozen=True)
class ModelInput:
    """A float model input; its q node (the model's input quantization) makes it the function's int8 argument."""

    arg: SSAValue
    q: QParams | None


class UnsupportedAt(Unsupported):
    """Reported at `node` (the float op that cannot be quantized), not at the q node that found out."""

    def __init__(self, node: Any, reason: str):
        super().__init__(reason)
        self.node = node


WalkHandler = Callable[["QTranslator", Any], Any]
EmitHandler = Callable[["QTranslator", Any, QParams], "SSAValue | QTensor"]
WALK: dict[str, WalkHandler] = {}
EMIT: dict[str, EmitHandler] = {}


def walks(*names: str) -> Callable[[WalkHandler], WalkHandler]:
    def register(fn: WalkHandler) -> WalkHandler:
        WALK.update(dict.fromkeys(names, fn))
        return fn

    return register


def emits(*names: str) -> Callable[[EmitHandler], EmitHandler]:
    def register(fn: EmitHandler) -> EmitHandler:
        EMIT.update(dict.fromkeys(names, fn))
        return fn

    return register


ACTIVATIONS = frozenset(
    {
        "aten.relu.default",
        "aten.relu_.default",
        "aten.relu6.default",
        "aten.hardtanh.default",
        "aten.hardtanh_.default",
        "aten.clamp.default",
        "aten.clamp_.default",
    }
)


def dense_int(array: np.ndarray, width: int) -> DenseIntOrFPElementsAttr:
    """An i8 or i32 dense attribute built from the array's raw little-endian bytes."""
    data = np.asarray(array, dtype=f"<i{width // 8}", order="C")
    return DenseIntOrFPElementsAttr(TensorType(IntegerType(width), data.shape), BytesAttr(data.tobytes()))


def _quant_attr(q: QParams) -> DictionaryAttr:
    return DictionaryAttr({"qnn.quant": qnn.QuantAttr(q.scale, q.zero_point)})


def _quantized_bound(x: float, q: QParams) -> int:
    """A real activation bound in int8, as PT2E's quantize rounds it: `round(x * (1 / scale))` in float32, half
    to even, plus the zero point."""
    return int(np.round(np.float32(x) * np.float32(1.0 / q.scale))) + q.zero_point


# ---------------------------------------------------------------------------------------------------------------
# The translator
# ---------------------------------------------------------------------------------------------------------------


class QTranslator(Translator):
    """Walks a converted PT2E graph once, building the `qnn` function."""

    def __init__(self, program: Any, name: str):
        super().__init__(program, name)
        self._emitted: dict[tuple[Any, QParams], QTensor] = {}  # a float result quantized twice is emitted once

    # -- the walk ----------------------------------------------------------------------------------------------

    def translate(self) -> ModuleOp:
        sig = self.program.graph_signature
        state = {**self.program.state_dict, **self.program.constants}
        param_of = {spec.arg.name: spec.target for spec in sig.input_specs if spec.target is not None}
        user_inputs = []
        for node in self.program.graph.nodes:
            if node.op != "placeholder":
                continue
            if node.name in param_of:
                self.values[node] = state[param_of[node.name]].detach().numpy()
            else:
                user_inputs.append(node)
        quants = [self._input_quantization(node) for node in user_inputs]
        arg_types = [
            TensorType(_input_element(node, q), tuple(node.meta["val"].shape))
            for node, q in zip(user_inputs, quants, strict=True)
        ]
        block = Block(arg_types=arg_types)
        self.builder = Builder(InsertPoint.at_end(block))
        for node, arg, q in zip(user_inputs, block.args, quants, strict=True):
            self.values[node] = ModelInput(arg, q)
            arg.name_hint = "".join(c if c.isalnum() or c == "_" else "_" for c in node.name)
        outputs: list[Any] = []
        for node in self.program.graph.nodes:
            if node.op == "call_function":
                self._translate_node(node)
            elif node.op == "output":
                outputs = list(node.args[0])
        results = [self._result(i, n) for i, n in enumerate(outputs)]
        if self.unsupported:
            return ModuleOp([])
        values = [r.value for r in results if r is not None]
        self.emit(func.ReturnOp(*values))
        function = func.FuncOp(self.name, (arg_types, [v.type for v in values]), Region(block))
        if any(q is not None for q in quants):
            function.arg_attrs = ArrayAttr([_quant_attr(q) if q else DictionaryAttr({}) for q in quants])
        function.res_attrs = ArrayAttr([_quant_attr(r.q) for r in results if r is not None])
        return ModuleOp([function])

    def _input_quantization(self, node: Any) -> QParams | None:
        """The model input's (scale, zero point): those of the q nodes reading it (all alike), if any, directly
        or after ops that commute with quantization (a quantizer may quantize the input after a zero pad)."""
        qs, todo = [], list(node.users)
        while todo:
            user = todo.pop()
            if op_name(user) in QUANTIZE:
                qs.append(user)
            elif op_name(user) in COMMUTING:
                todo.extend(user.users)
        params = {QParams(float(user.args[1]), int(user.args[2])) for user in qs if _int8_quantize(user)}
        if len(params) > 1:
            self._report(qs[0], f"the model input '{node.name}' is quantized with {len(params)} different scales")
        return next(iter(params)) if len(params) == 1 else None

    def _translate_node(self, node: Any) -> None:
        name = op_name(node)
        if any(self.values.get(arg, 0) is None for arg in node.all_input_nodes):
            self.values[node] = None  # depends on an unsupported op: already reported
            return
        try:
            handler = WALK.get(name)
            value = handler(self, node) if handler is not None else Float(node)
        except UnsupportedAt as e:
            self._report(e.node, str(e))
            value = None
        except Unsupported as e:
            self._report(node, str(e))
            value = None
        self.values[node] = value

    def _report(self, node: Any, reason: str) -> None:
        entry = UnsupportedOp(op_name(node), reason, _source(node), quantized=True)
        if entry not in self.unsupported:
            self.unsupported.append(entry)

    def _result(self, index: int, node: Any) -> QTensor | None:
        """Output `index` of the model: an int8 tensor (a dequantized one, as PT2E's graph ends in dq)."""
        value = self.values.get(node)
        if value is None:
            return None  # already reported
        if isinstance(value, Real):
            value = value.t
        if isinstance(value, QTensor):
            try:
                value.plain()
            except Unsupported as e:
                self._report(node, str(e))
                return None
            return value
        culprit = value.node if isinstance(value, Float) else node
        self._report(culprit, f"output {index} of the model is computed in float: no quantize follows it")
        return None

    # -- values the emitters read ------------------------------------------------------------------------------

    def real(self, raw: Any) -> QTensor:
        """The int8 tensor behind a float operand (which must come from a dq node)."""
        value = self.lookup(raw)
        if isinstance(value, Real):
            return value.t
        if isinstance(value, Float):
            raise UnsupportedAt(value.node, "a float op between quantized ones: its result is not quantized to int8")
        if isinstance(value, ModelInput):
            raise Unsupported("reads the model input in float: the input is not quantized")
        if isinstance(value, Quantized):
            return self.constant_activation(value)
        raise Unsupported(f"a float operand that is not quantized: {type(value).__name__}")

    def constant_activation(self, value: Quantized) -> QTensor:
        """A quantized constant used as an activation (e.g. an operand of add): an int8 `nn.constant`."""
        if value.axis is not None or value.data.dtype != np.int8:
            raise Unsupported("a constant operand quantized per channel or not to int8")
        q = QParams(float(value.scales.reshape(-1)[0]), int(value.zero_points.reshape(-1)[0]))
        return QTensor(self.constant(value.data, 8), q)

    def weight(self, raw: Any, rank: int) -> Quantized:
        """An int8 weight, symmetric (zero point 0), per tensor or per output channel (axis 0)."""
        value = self.lookup(raw)
        if not isinstance(value, Quantized):
            raise Unsupported("float weights: the weights must be quantized to int8")
        if value.data.dtype != np.int8:
            raise Unsupported(f"{value.data.dtype} weights: t2m takes int8 weights")
        if value.data.ndim != rank:
            raise Unsupported(f"weights of shape {list(value.data.shape)}")
        if np.any(value.zero_points != 0):
            raise Unsupported("asymmetric weights: t2m takes symmetric int8 weights, zero point 0")
        if value.axis not in (None, 0):
            raise Unsupported(f"weights quantized per channel along axis {value.axis}, not the output channels")
        return value

    def bias(self, raw: Any, acc_scales: np.ndarray, channels: int) -> SSAValue | None:
        """The int32 bias at the accumulator's scale s_in * s_w[c]: taken as is when it is quantized at that
        scale (as PT2E's derived bias spec does), else round(b / (s_in * s_w[c])) clamped to int32."""
        value = self.lookup(raw)
        if value is None:
            return None
        scales = np.broadcast_to(acc_scales, (channels,))
        if isinstance(value, Quantized):
            if np.any(value.zero_points != 0) or value.data.size not in (1, channels):
                raise Unsupported("a bias quantized with a zero point or of the wrong size")
            data = np.broadcast_to(value.data.reshape(-1), (channels,)).astype(np.int64)
            bias_scales = np.broadcast_to(value.scales.reshape(-1), (channels,))
            if value.data.dtype == np.int32 and np.allclose(bias_scales, scales, rtol=1e-5, atol=0):
                return self.constant(data, 32)
            real = data * bias_scales
        elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
            real = np.broadcast_to(value.astype(np.float64).reshape(-1), (channels,))
        else:
            raise Unsupported("a bias that is neither a constant nor quantized")
        return self.constant(np.clip(np.round(real / scales), I32_MIN, I32_MAX).astype(np.int32), 32)

    def constant(self, array: np.ndarray, width: int) -> SSAValue:
        return self.emit(nn.ConstantOp(dense_int(array, width))).results[0]

    # -- quantization ------------------------------------------------------------------------------------------

    def quantize(self, node: Any, out: QParams, bounds: tuple[int, int]) -> QTensor:
        """The int8 tensor a q node makes of the float value `node`, clamped to `bounds` (int8)."""
        value = self.values[node]
        lo, hi = bounds
        while isinstance(value, Float) and op_name(value.node) in ACTIVATIONS:  # fused activations, outermost first
            a, b = _activation_bounds(self, value.node)
            lo = lo if a is None else max(lo, _quantized_bound(a, out))
            hi = hi if b is None else min(hi, _quantized_bound(b, out))
            value = self.values[value.node.args[0]]
        if isinstance(value, ModelInput):
            if value.q is None:
                raise Unsupported("a model input quantized other than to int8")
            result = self.requantize(QTensor(value.arg, value.q), out)
        elif isinstance(value, Float):
            key = (value.node, out)
            if key not in self._emitted:
                emitted = self._emit(value.node, out)
                self._emitted[key] = emitted if isinstance(emitted, QTensor) else QTensor(emitted, out)
            result = self._emitted[key]
        elif isinstance(value, Real | Quantized):
            result = self.requantize(value.t if isinstance(value, Real) else self.constant_activation(value), out)
        else:
            raise Unsupported(f"quantizing a {type(value).__name__}")
        if (lo, hi) != (I8_MIN, I8_MAX):
            if lo > hi:
                raise Unsupported(f"an activation range that is empty in int8: [{lo}, {hi}]")
            result = replace(result, value=self.emit(qnn.ClampOp(result.plain(), lo, hi)).results[0])
        return result

    def _emit(self, node: Any, out: QParams) -> SSAValue | QTensor:
        """The qnn ops of float op `node` with output quantization `out`; what fails is reported at `node`."""
        emitter = EMIT.get(op_name(node))
        if emitter is None:
            raise UnsupportedAt(node, "a float op between quantized ones: t2m has no int8 form of it")
        try:
            return emitter(self, node, out)
        except UnsupportedAt:
            raise
        except Unsupported as e:
            raise UnsupportedAt(node, str(e)) from e

    def requantize(self, t: QTensor, out: QParams) -> QTensor:
        """`t` with the quantization `out`: itself, or a `qnn.rescale` by s_in / s_out. Pending zero padding
        stays pending: the rescale maps one zero point to the other exactly."""
        if t.q.same(out):
            return t
        return QTensor(self.rescale(t.value, t.q, out), out, t.pads)

    def rescale(self, value: SSAValue, q_in: QParams, out: QParams) -> SSAValue:
        requant = qnn.RequantAttr.from_scales([q_in.scale / out.scale], out.zero_point)
        return self.emit(qnn.RescaleOp(value, requant, 1 if _rank(value) > 1 else 0, q_in.zero_point)).results[0]


def _input_element(node: Any, q: QParams | None) -> IntegerType | Any:
    """A model input's element type: int32 embedding indices, int8 when quantized, else float32 (refused later)."""
    return i32 if _indices_only(node) else qnn.i8 if q is not None else f32


def _source(node: Any) -> str:
    """The user's source line of `node`; a q/dq node that PT2E inserted has none, so that of the op it quantizes
    (or, for the model input's quantization, of the first op that reads it)."""
    for candidate in (node, *node.all_input_nodes, *node.users):
        if candidate.meta.get("stack_trace"):
            return source_line(candidate)
    return source_line(node)


def _rank(value: SSAValue) -> int:
    return len(value.type.get_shape())  # type: ignore[attr-defined]


def _int8_quantize(node: Any) -> bool:
    import torch

    return node.args[5] == torch.int8 if len(node.args) > 5 else False


def _activation_bounds(t: QTranslator, node: Any) -> tuple[float | None, float | None]:
    """The real bounds of a ReLU / ReLU6 / hardtanh / clamp (None: unbounded)."""
    name = op_name(node)
    if "relu6" in name:
        return 0.0, 6.0
    if "relu" in name:
        return 0.0, None
    if "hardtanh" in name:
        return t.arg(node, 1, -1.0, "min_val"), t.arg(node, 2, 1.0, "max_val")
    lo, hi = t.arg(node, 1, kw="min"), t.arg(node, 2, kw="max")
    if not all(v is None or isinstance(v, int | float) for v in (lo, hi)):
        raise Unsupported("clamp with tensor bounds")
    return lo, hi


# ---------------------------------------------------------------------------------------------------------------
# Quantize and dequantize
# ---------------------------------------------------------------------------------------------------------------

QUANTIZE = frozenset(
    {"quantized_decomposed.quantize_per_tensor.default", "quantized_decomposed.quantize_per_tensor.tensor"}
)
DEQUANTIZE = frozenset(
    {"quantized_decomposed.dequantize_per_tensor.default", "quantized_decomposed.dequantize_per_tensor.tensor"}
)


def _scalar(t: QTranslator, node: Any, index: int) -> float:
    """A scale or zero point: a number, or (the `.tensor` overloads) a one-element constant tensor."""
    value = t.arg(node, index)
    if isinstance(value, np.ndarray) and value.size == 1:
        return float(value.reshape(-1)[0])
    if isinstance(value, int | float):
        return float(value)
    raise Unsupported("a scale or zero point computed at run time: dynamic quantization")


def _dtype_check(t: QTranslator, node: Any, what: str) -> tuple[int, int]:
    """The (quant_min, quant_max) of an int8 q/dq node; other integer types cannot be represented."""
    import torch

    dtype = t.arg(node, 5, kw="dtype")
    if dtype != torch.int8:
        bits = {torch.int16: "int16", torch.uint8: "uint8", torch.int32: "int32"}.get(dtype, str(dtype))
        raise Unsupported(f"{bits} {what}: t2m's integer path takes int8 activations only")
    return int(t.arg(node, 3)), int(t.arg(node, 4))


@walks(*QUANTIZE)
def quantize_per_tensor(t: QTranslator, node: Any) -> Any:
    qmin, qmax = _dtype_check(t, node, "activations")
    out = QParams(_scalar(t, node, 1), int(_scalar(t, node, 2)))
    value = t.values[node.args[0]]
    if isinstance(value, np.ndarray):  # a float constant quantized in the graph (convert_pt2e without folding)
        data = np.clip(np.round(value.astype(np.float32) * np.float32(1.0 / out.scale)) + out.zero_point, qmin, qmax)
        return Quantized(data.astype(np.int8), np.array([out.scale]), np.array([out.zero_point]), None)
    return t.quantize(node.args[0], out, (max(qmin, I8_MIN), min(qmax, I8_MAX)))


@walks(*DEQUANTIZE)
def dequantize_per_tensor(t: QTranslator, node: Any) -> Any:
    value = t.values[node.args[0]]
    scale, zero_point = _scalar(t, node, 1), int(_scalar(t, node, 2))
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        return Quantized(value, np.array([scale]), np.array([zero_point]), None)
    _dtype_check(t, node, "activations")
    if isinstance(value, Quantized):
        return value
    if not isinstance(value, QTensor) or not value.q.same(QParams(scale, zero_point)):
        raise Unsupported("a dequantize that does not read the quantize before it with the same parameters")
    return Real(value)


@walks("quantized_decomposed.dequantize_per_channel.default")
def dequantize_per_channel(t: QTranslator, node: Any) -> Any:
    value, scales, zero_points = t.values[node.args[0]], t.arg(node, 1), t.arg(node, 2)
    if not isinstance(value, np.ndarray) or not isinstance(scales, np.ndarray):
        raise Unsupported("activations quantized per channel: t2m takes one scale per activation tensor")
    axis = _norm_dim(int(t.arg(node, 3)), value.ndim)
    zps = np.zeros_like(scales, np.int64) if zero_points is None else np.asarray(zero_points, np.int64)
    return Quantized(value, scales.astype(np.float64), zps, axis)


@walks("quantized_decomposed.quantize_per_channel.default")
def quantize_per_channel(t: QTranslator, node: Any) -> Any:
    value, scales, zero_points = t.values[node.args[0]], t.arg(node, 1), t.arg(node, 2)
    if not isinstance(value, np.ndarray) or not isinstance(scales, np.ndarray):
        raise Unsupported("activations quantized per channel: t2m takes one scale per activation tensor")
    axis = _norm_dim(int(t.arg(node, 3)), value.ndim)
    qmin, qmax, dtype = int(t.arg(node, 4)), int(t.arg(node, 5)), t.arg(node, 6)
    shape = [1] * value.ndim
    shape[axis] = -1
    inv = (1.0 / scales.astype(np.float32)).reshape(shape)
    data = np.clip(np.round(value.astype(np.float32) * inv) + np.asarray(zero_points).reshape(shape), qmin, qmax)
    import torch

    kind = {torch.int8: np.int8, torch.int32: np.int32}.get(dtype)
    if kind is None:
        raise Unsupported(f"constants quantized to {dtype}")
    return Quantized(data.astype(kind), scales.astype(np.float64), np.asarray(zero_points, np.int64), axis)


@walks("quantized_decomposed.choose_qparams.tensor", "quantized_decomposed.choose_qparams_symmetric.tensor")
def choose_qparams(t: QTranslator, node: Any) -> Any:
    raise Unsupported("dynamic quantization, scales chosen at run time: t2m needs static int8 quantization")


# ---------------------------------------------------------------------------------------------------------------
# Ops that commute with dequantization: translated on the int8 tensor as the graph is walked
# ---------------------------------------------------------------------------------------------------------------


def _real_or_float(t: QTranslator, node: Any) -> QTensor | None:
    """The int8 tensor behind a dequantized operand, or None when the operand is float (the op waits)."""
    value = t.values[node.args[0]]
    return value.t if isinstance(value, Real) else None


def _view(t: QTranslator, x: QTensor, shape: Sequence[int]) -> QTensor:
    if tuple(shape) == x.shape:
        return x
    return QTensor(t.emit(nn.ReshapeOp(x.plain(), list(shape))).results[0], x.q)


RESHAPES = (
    "aten.view.default",
    "aten.reshape.default",
    "aten._unsafe_view.default",
    "aten.flatten.using_ints",
    "aten.squeeze.dim",
    "aten.squeeze.dims",
    "aten.squeeze.default",
    "aten.unsqueeze.default",
)
PADS = ("aten.pad.default", "aten.constant_pad_nd.default")
COMMUTING = frozenset({*RESHAPES, *PADS})
"""Ops that give the same integers before or after a quantization (a quantizer may quantize after them)."""


@walks(*RESHAPES)
def reshape(t: QTranslator, node: Any) -> Any:
    """A reshape (any of them: the shape torch.export recorded is the one to take) keeps the int8 values."""
    shape = tuple(node.meta["val"].shape)
    if isinstance(t.values[node.args[0]], np.ndarray):
        return np.reshape(t.values[node.args[0]], shape)
    x = _real_or_float(t, node)
    return Float(node) if x is None else Real(_view(t, x, shape))


@emits(*RESHAPES)
def reshape_then_quantize(t: QTranslator, node: Any, out: QParams) -> QTensor:
    """A reshape of a float value quantized afterwards: quantized first, then reshaped (the same integers)."""
    return _view(t, t.quantize(node.args[0], out, (I8_MIN, I8_MAX)), tuple(node.meta["val"].shape))


@walks(
    "aten.clone.default",
    "aten.contiguous.default",
    "aten.alias.default",
    "aten.detach.default",
    "aten.dropout.default",
    "aten.dropout_.default",
    "aten.feature_dropout.default",
)
def identity(t: QTranslator, node: Any) -> Any:
    if "dropout" in op_name(node) and t.arg(node, 2, False, "train"):
        raise Unsupported("dropout in training mode: call model.eval() before export")
    return t.values[node.args[0]]


@walks("aten.to.dtype", "aten.to.dtype_layout", "aten._to_copy.default")
def conversion(t: QTranslator, node: Any) -> Any:
    """`x.float()` of a float32 tensor and the like: a conversion to the dtype the tensor has is the identity;
    any other stays float (and is reported if quantized ops read it)."""
    source, val = node.args[0].meta.get("val"), node.meta.get("val")
    if source is None or val is None or source.dtype != val.dtype:
        return Float(node)
    return t.values[node.args[0]]


@walks("aten.max_pool2d.default", "aten.max_pool2d_with_indices.default")
def max_pool2d(t: QTranslator, node: Any) -> Any:
    """The max of int8 values is the int8 of the max (dequantization is increasing): exact."""
    x = _real_or_float(t, node)
    if x is None:
        return Float(node)
    x, unbatched = _batched(t, x)
    kernel = _pair(t.arg(node, 1))
    stride = _pair(t.arg(node, 2, []) or kernel)
    ph, pw = _pair(t.arg(node, 3, 0))
    pads = [ph, pw, ph, pw]
    if _pair(t.arg(node, 4, 1, "dilation")) != [1, 1]:
        raise Unsupported("dilated max pooling")
    if t.arg(node, 5, False, "ceil_mode"):
        pads[2] += _ceil_padding(x.shape[2], kernel[0], stride[0], pads[0])
        pads[3] += _ceil_padding(x.shape[3], kernel[1], stride[1], pads[1])
    result = _unbatch(t, t.emit(qnn.MaxPool2dOp(x.plain(), kernel, stride, pads)).results[0], node, unbatched)
    pooled = Real(QTensor(result, x.q))
    return (pooled, None) if "with_indices" in op_name(node) else pooled


def _ceil_padding(size: int, kernel: int, stride: int, pad: int) -> int:
    """Bottom/right padding that gives PyTorch's ceil_mode windows in floor mode: just enough for the last
    window (padded taps take no part in a max)."""
    windows = -(-(size + 2 * pad - kernel) // stride) + 1
    if (windows - 1) * stride >= size + pad:  # PyTorch: the last window starts inside the input or left padding
        windows -= 1
    return max(0, (windows - 1) * stride + kernel - (size + 2 * pad))


@walks("getitem")
def getitem(t: QTranslator, node: Any) -> Any:
    value = t.values[node.args[0]]
    if isinstance(value, tuple):
        item = value[node.args[1]]
        if item is None:
            raise Unsupported(f"output {node.args[1]} of {op_name(node.args[0])} (only the first output imports)")
        return item
    return Float(node)


@walks(*PADS)
def pad(t: QTranslator, node: Any) -> Any:
    """Zero padding stays pending on the int8 tensor (its real 0 is the zero point); a convolution absorbs it."""
    x = _real_or_float(t, node)
    return Float(node) if x is None else Real(_padded(t, node, x))


@emits(*PADS)
def pad_then_quantize(t: QTranslator, node: Any, out: QParams) -> QTensor:
    """Zero padding of a float value (the model input, say) quantized afterwards: quantized first, then padded
    (the same integers: 0 quantizes to the zero point)."""
    return _padded(t, node, t.quantize(node.args[0], out, (I8_MIN, I8_MAX)))


def _padded(t: QTranslator, node: Any, x: QTensor) -> QTensor:
    widths = list(t.arg(node, 1))
    is_pad = op_name(node) == "aten.pad.default"
    mode = t.arg(node, 2, "constant", "mode") if is_pad else "constant"
    value = t.arg(node, 3 if is_pad else 2, 0.0, "value") or 0.0
    if (mode != "constant" or value != 0.0 or len(x.shape) != 4 or len(widths) != 4 or min(widths) < 0
            or not _feeds_only_convolutions(node)):
        return _pad_int8(t, x, widths, mode, float(value))
    left, right, top, bottom = widths
    pads = tuple(a + b for a, b in zip(x.pads, (top, left, bottom, right), strict=True))
    return replace(x, pads=pads)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------------
# Float ops emitted when a q node quantizes their result
# ---------------------------------------------------------------------------------------------------------------


def _accumulate(t: QTranslator, op: qnn.Accumulate, acc_scales: np.ndarray, out: QParams, axis: int) -> SSAValue:
    """The int32 accumulator of a conv/linear -> `qnn.rescale` by s_in * s_w[c] / s_out (per output channel)."""
    t.emit(op)
    requant = qnn.RequantAttr.from_scales([float(s) / out.scale for s in acc_scales], out.zero_point)
    return t.emit(qnn.RescaleOp(op.results[0], requant, axis)).results[0]


def _conv_padding(padding: Any, kernel: Sequence[int], dilation: Sequence[int]) -> list[int]:
    if padding == "valid":
        return [0, 0, 0, 0]
    if padding == "same":
        total = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        return [total[0] // 2, total[1] // 2, total[0] - total[0] // 2, total[1] - total[1] // 2]
    ph, pw = _pair(padding)
    return [ph, pw, ph, pw]


@emits("aten.conv2d.default", "aten.conv2d.padding", "aten.convolution.default", "aten.conv1d.default",
       "aten.conv1d.padding")
def conv2d(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    if op_name(node) == "aten.convolution.default":
        x_raw, w_raw, b_raw, stride, padding, dilation, transposed, _, groups = node.args[:9]
        if transposed:
            raise Unsupported("transposed convolution")
    else:
        x_raw, w_raw = node.args[0], node.args[1]
        b_raw = node.args[2] if len(node.args) > 2 else node.kwargs.get("bias")
        stride, padding = t.arg(node, 3, 1, "stride"), t.arg(node, 4, 0, "padding")
        dilation, groups = t.arg(node, 5, 1, "dilation"), t.arg(node, 6, 1, "groups")
    if len(w_raw.meta["val"].shape) == 3:
        return _conv1d(t, node, out, t.real(x_raw), t.weight(w_raw, 3), b_raw, stride, padding, dilation, groups)
    x, w = t.real(x_raw), t.weight(w_raw, 4)
    x, unbatched = _batched(t, x)
    stride, dilation = _pair(stride), _pair(dilation)
    pads = [p + e for p, e in zip(_conv_padding(padding, w.data.shape[2:], dilation), x.pads, strict=True)]
    acc_scales = x.q.scale * w.scales.reshape(-1)
    bias = t.bias(b_raw, acc_scales, w.data.shape[0])
    op = qnn.Conv2dOp(x.value, t.constant(w.data, 8), bias, stride, pads, dilation, int(groups), x.q.zero_point)
    return _unbatch(t, _accumulate(t, op, acc_scales, out, 1), node, unbatched)


@emits("aten.linear.default")
def linear(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    x, w = t.real(node.args[0]), t.weight(node.args[1], 2)
    b_raw = node.args[2] if len(node.args) > 2 else node.kwargs.get("bias")
    acc_scales = x.q.scale * w.scales.reshape(-1)
    bias = t.bias(b_raw, acc_scales, w.data.shape[0])
    op = qnn.LinearOp(x.plain(), t.constant(w.data, 8), bias, x.q.zero_point)
    return _accumulate(t, op, acc_scales, out, len(x.shape) - 1)


def _operands(t: QTranslator, node: Any) -> tuple[QTensor, QTensor]:
    a, b = t.lookup(node.args[0]), t.lookup(node.args[1])
    if not all(isinstance(v, Real | Quantized | Float | ModelInput) for v in (a, b)):
        raise Unsupported("an operand that is a Python number: only two int8 tensors can be combined")
    return t.real(node.args[0]), t.real(node.args[1])


def _binary(t: QTranslator, kind: type[qnn.BinaryOp], a: QTensor, b: QTensor, props: dict[str, Any]) -> SSAValue:
    shape = nn.broadcast_shapes(a.shape, b.shape)
    assert shape is not None
    properties = {"lhs_zp": qnn._int_prop(a.q.zero_point), "rhs_zp": qnn._int_prop(b.q.zero_point)} | props
    op = kind.create(operands=[a.plain(), b.plain()], result_types=[TensorType(qnn.i8, shape)], properties=properties)
    return t.emit(op).results[0]


@emits("aten.add.Tensor", "aten.add_.Tensor")
def add(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    """TFLite's int8 add (PrepareAdd): both sides at 2 * max(s_a, s_b) with 20 fraction bits, then to s_out."""
    if t.arg(node, 2, 1, "alpha") != 1:
        raise Unsupported("add with alpha != 1")
    a, b = _operands(t, node)
    twice = 2 * max(a.q.scale, b.q.scale)
    scales = {
        "lhs_scale": qnn.RequantAttr.from_scales([a.q.scale / twice], 0),
        "rhs_scale": qnn.RequantAttr.from_scales([b.q.scale / twice], 0),
        "output_scale": qnn.RequantAttr.from_scales([twice / (2**qnn.ADD_LEFT_SHIFT * out.scale)], out.zero_point),
    }
    return _binary(t, qnn.AddOp, a, b, scales)


@emits("aten.mul.Tensor", "aten.mul_.Tensor")
def mul(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    a, b = _operands(t, node)
    requant = qnn.RequantAttr.from_scales([a.q.scale * b.q.scale / out.scale], out.zero_point)
    return _binary(t, qnn.MulOp, a, b, {"output_scale": requant})


@emits("aten.avg_pool2d.default")
def avg_pool2d(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    """Average in the input's quantization (padding = the zero point), then a rescale if the output's differs."""
    x, unbatched = _batched(t, t.real(node.args[0]))
    kernel = _pair(t.arg(node, 1))
    stride = _pair(t.arg(node, 2, []) or kernel)
    ph, pw = _pair(t.arg(node, 3, 0))
    if t.arg(node, 4, False, "ceil_mode"):
        h, w = x.shape[2:]
        if _ceil_extra(h, kernel[0], stride[0], ph, 1) or _ceil_extra(w, kernel[1], stride[1], pw, 1):
            raise Unsupported("avg_pool2d with ceil_mode=True where it changes the output size")
    divisor = t.arg(node, 6, None, "divisor_override")
    include_pad = bool(t.arg(node, 5, True, "count_include_pad"))
    pool = qnn.AvgPool2dOp(x.plain(), kernel, stride, [ph, pw, ph, pw], include_pad, x.q.zero_point, divisor)
    return _unbatch(t, t.requantize(QTensor(t.emit(pool).results[0], x.q), out).value, node, unbatched)


@emits("aten.adaptive_avg_pool2d.default", "aten._adaptive_avg_pool2d.default", "aten.mean.dim")
def adaptive_avg_pool2d(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    x = t.real(node.args[0])
    if len(x.shape) == 3 and op_name(node) != "aten.mean.dim":  # unbatched [C, H, W]
        x, _ = _batched(t, x)
        size = [s if s is not None else x.shape[2 + i] for i, s in enumerate(_pair(t.arg(node, 1)))]
        pooled = QTensor(t.emit(qnn.AdaptiveAvgPool2dOp(x.plain(), size)).results[0], x.q)
        return _unbatch(t, t.requantize(pooled, out).value, node, True)
    if len(x.shape) != 4 and op_name(node) == "aten.mean.dim":
        return _reduce_q(t, node, out)
    if len(x.shape) != 4:
        raise Unsupported(f"average over a rank-{len(x.shape)} tensor (only NCHW spatial averages)")
    keep = True
    if op_name(node) == "aten.mean.dim":
        dims, keep = t.arg(node, 1), bool(t.arg(node, 2, False, "keepdim"))
        if sorted(_norm_dim(d, 4) for d in dims) != [2, 3]:
            return _reduce_q(t, node, out)  # not a spatial mean: a sum over the axes, rescaled
        size = [1, 1]
    else:
        size = [s if s is not None else x.shape[2 + i] for i, s in enumerate(_pair(t.arg(node, 1)))]
    pooled = QTensor(t.emit(qnn.AdaptiveAvgPool2dOp(x.plain(), size)).results[0], x.q)
    result = t.requantize(pooled, out).value
    return result if keep else t.emit(nn.ReshapeOp(result, list(x.shape[:2]))).results[0]


def _as_2d(t: QTranslator, x: QTensor) -> QTensor:
    """A 1-d pool's [N, C, L] (or unbatched [C, L]) input as the [N, C, 1, L] of the 2-d pool of height 1."""
    return _view(t, x, (1, x.shape[0], 1, x.shape[1]) if len(x.shape) == 2 else (x.shape[0], x.shape[1], 1, x.shape[2]))


def _window1d(t: QTranslator, node: Any) -> tuple[int, int, int]:
    kernel = int(_pair(t.arg(node, 1))[0])
    return kernel, int(_pair(t.arg(node, 2, []) or [kernel])[0]), int(_pair(t.arg(node, 3, 0))[0])


@walks("aten.max_pool1d.default", "aten.max_pool1d_with_indices.default")
def max_pool1d(t: QTranslator, node: Any) -> Any:
    """The 2-d max pool of height 1 (exact, as max_pool2d)."""
    x = _real_or_float(t, node)
    if x is None:
        return Float(node)
    x4 = _as_2d(t, x)
    kernel, stride, pad = _window1d(t, node)
    if _pair(t.arg(node, 4, 1, "dilation"))[0] != 1:
        raise Unsupported("dilated max pooling")
    extra = _ceil_padding(x4.shape[3], kernel, stride, pad) if t.arg(node, 5, False, "ceil_mode") else 0
    pooled = t.emit(qnn.MaxPool2dOp(x4.plain(), [1, kernel], [1, stride], [0, pad, 0, pad + extra])).results[0]
    val = node.meta["val"]
    shape = tuple((val[0] if isinstance(val, tuple | list) else val).shape)  # with_indices: (values, indices)
    result = Real(_view(t, QTensor(pooled, x.q), shape))
    return (result, None) if "with_indices" in op_name(node) else result


@emits("aten.avg_pool1d.default")
def avg_pool1d(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    """The 2-d average pool of height 1 in the input's quantization, then a rescale if the output's differs."""
    x4 = _as_2d(t, t.real(node.args[0]))
    kernel, stride, pad = _window1d(t, node)
    if t.arg(node, 4, False, "ceil_mode") and _ceil_extra(x4.shape[3], kernel, stride, pad, 1):
        raise Unsupported("avg_pool1d with ceil_mode=True where it changes the output size")
    include_pad = bool(t.arg(node, 5, True, "count_include_pad"))
    pool = qnn.AvgPool2dOp(x4.plain(), [1, kernel], [1, stride], [0, pad, 0, pad], include_pad, x4.q.zero_point, None)
    pooled = t.requantize(QTensor(t.emit(pool).results[0], x4.q), out)
    return _view(t, pooled, tuple(node.meta["val"].shape)).value


@emits("aten.adaptive_avg_pool1d.default")
def adaptive_avg_pool1d(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    x4 = _as_2d(t, t.real(node.args[0]))
    pool = qnn.AdaptiveAvgPool2dOp(x4.plain(), [1, int(_pair(t.arg(node, 1))[0])])
    pooled = t.requantize(QTensor(t.emit(pool).results[0], x4.q), out)
    return _view(t, pooled, tuple(node.meta["val"].shape)).value


@emits("aten.cat.default", "aten.concat.default")
def cat(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    """Concatenation of int8 tensors in one quantization: inputs in another one are rescaled first."""
    parts = [t.requantize(t.real(raw), out).plain() for raw in node.args[0]]
    axis = _norm_dim(t.arg(node, 1, 0, "dim"), _rank(parts[0]))
    return t.emit(nn.ConcatOp(parts, axis)).results[0]


@emits("aten.softmax.int", "aten._softmax.default")
def softmax(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    """CMSIS-NN's int8 softmax, parameters from the input scale; its output is (1/256, -128), rescaled if the
    graph quantizes it otherwise."""
    x = t.real(node.args[0])
    axis = _norm_dim(t.arg(node, 1), len(x.shape))
    if x.shape[axis] > qnn.SOFTMAX_MAX_LENGTH:
        raise Unsupported(f"an int8 softmax over {x.shape[axis]} values: at most {qnn.SOFTMAX_MAX_LENGTH} (its sum "
                          "of exponentials is a 32-bit integer)")
    multiplier, shift, diff_min = qnn.softmax_params(x.q.scale)
    result = t.emit(qnn.SoftmaxOp(x.plain(), axis, multiplier, shift, diff_min)).results[0]
    return t.requantize(QTensor(result, QParams(*qnn.SoftmaxOp.OUTPUT_QUANT)), out).value


# ---------------------------------------------------------------------------------------------------------------
# Issue 12: table activations, Conv1d, padding, nearest resizing
# ---------------------------------------------------------------------------------------------------------------

LUT_OPS = (
    "aten.elu.default",
    "aten.elu_.default",
    "aten.gelu.default",
    "aten.gelu_.default",
    "aten.leaky_relu.default",
    "aten.leaky_relu_.default",
    "aten.hardswish.default",
    "aten.hardswish_.default",
    "aten.hardsigmoid.default",
    "aten.hardsigmoid_.default",
    "aten.silu.default",
    "aten.silu_.default",
    "aten.sigmoid.default",
    "aten.tanh.default",
    "aten.prelu.default",
    "aten.batch_norm.default",
    "aten._native_batch_norm_legit_no_training.default",
    "aten.rsub.Scalar",
)
PER_CHANNEL_LUT = ("aten.prelu.default", "aten.batch_norm.default", "aten._native_batch_norm_legit_no_training.default")


def _torch_operand(value: Any) -> Any:
    """A constant operand of a table op as PyTorch's op takes it (parameters are numpy arrays here)."""
    import torch

    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, Quantized | Real | Float | ModelInput | QTensor):
        raise Unsupported("an operand other than the activation that is not a constant")
    return value


@emits(*LUT_OPS)
def lut(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    """An elementwise op of one int8 activation as a 256-entry table: PyTorch's own op evaluated at compile time
    on the 256 dequantized inputs and quantized to `out`, exactly the converted graph's dq -> op -> q. PReLU with
    one slope per channel and batch norm get one table per channel."""
    import torch

    x = t.real(node.args[0])
    name = op_name(node)
    if name == "aten.batch_norm.default" and t.arg(node, 5, False):
        return batch_norm_stats(t, node, out)
    channels = x.shape[1] if name in PER_CHANNEL_LUT and len(x.shape) >= 2 else 1
    q = torch.arange(-128, 128, dtype=torch.int32).to(torch.int8).repeat(channels, 1).reshape(1, channels, 256)
    real = torch.ops.quantized_decomposed.dequantize_per_tensor(q, x.q.scale, x.q.zero_point, I8_MIN, I8_MAX,
                                                                torch.int8)
    if channels == 1:
        real = real.reshape(256)
    args = [_torch_operand(t.lookup(a)) for a in node.args[1:]]
    kwargs = {k: _torch_operand(t.lookup(v)) for k, v in node.kwargs.items()}
    with torch.no_grad():
        y = node.target(real, *args, **kwargs)
    y = y[0] if isinstance(y, tuple | list) else y
    if tuple(y.shape) != tuple(real.shape):
        raise Unsupported(f"an op whose result is not elementwise (shape {list(y.shape)})")
    qy = torch.ops.quantized_decomposed.quantize_per_tensor(y.to(torch.float32), out.scale, out.zero_point, I8_MIN,
                                                            I8_MAX, torch.int8)
    table = t.constant(qy.reshape(channels, 256).numpy(), 8)
    return t.emit(qnn.LutOp(x.plain(), table)).results[0]


def _conv1d(t: QTranslator, node: Any, out: QParams, x: QTensor, w: Quantized, b_raw: Any, stride: Any,
            padding: Any, dilation: Any, groups: Any) -> SSAValue:
    """Conv1d as a conv2d of height 1 on the int8 tensor viewed [N, C, 1, L] (unbatched [C, L]: [1, C, 1, L])."""

    def one(v: Any) -> Any:
        return v if isinstance(v, str | int) else list(v)[0]

    shape = x.shape if len(x.shape) == 3 else (1, *x.shape)
    x4 = _view(t, x, (shape[0], shape[1], 1, shape[2]))
    kernel = [1, w.data.shape[2]]
    dil = [1, one(dilation)]
    pad = one(padding)
    pads = _conv_padding(pad, kernel, dil) if isinstance(pad, str) else [0, pad, 0, pad]
    w4 = replace(w, data=w.data[:, :, None, :])
    acc_scales = x4.q.scale * w4.scales.reshape(-1)
    bias = t.bias(b_raw, acc_scales, w4.data.shape[0])
    op = qnn.Conv2dOp(x4.plain(), t.constant(w4.data, 8), bias, [1, one(stride)], pads, dil, int(groups),
                      x4.q.zero_point)
    y = _accumulate(t, op, acc_scales, out, 1)
    result = tuple(node.meta["val"].shape)
    return t.emit(nn.ReshapeOp(y, list(result))).results[0]


def _batched(t: QTranslator, x: QTensor) -> tuple[QTensor, bool]:
    """An unbatched [C, H, W] activation as [1, C, H, W] (PyTorch's conv and pools take both), and whether it was."""
    if len(x.shape) != 3:
        return x, False
    return _view(t, x, (1, *x.shape)), True


def _unbatch(t: QTranslator, value: SSAValue, node: Any, unbatched: bool) -> SSAValue:
    """The op's [1, C, H, W] result viewed as the [C, H, W] torch.export recorded."""
    if not unbatched:
        return value
    return t.emit(nn.ReshapeOp(value, list(node.meta["val"].shape))).results[0]


def _feeds_only_convolutions(node: Any) -> bool:
    """Every consumer of the pad (through PT2E's q/dq pairs) is a convolution, which absorbs zero padding."""
    convs = ("aten.conv2d.default", "aten.conv2d.padding", "aten.convolution.default")
    todo, seen = list(node.users), 0
    while todo:
        user = todo.pop()
        if op_name(user) in QUANTIZE or op_name(user) in DEQUANTIZE:
            todo.extend(user.users)
        elif op_name(user) in convs:
            seen += 1
        else:
            return False
    return seen > 0


def _pad_int8(t: QTranslator, x: QTensor, widths: list[int], mode: str, value: float) -> QTensor:
    """Padding materialised on the int8 tensor: the value quantized as PT2E's quantize would, reflect and
    replicate copy int8 values (they commute with dequantization)."""
    from t2m.compiler.importer.aten import _pad

    fill = min(I8_MAX, max(I8_MIN, _quantized_bound(value, x.q))) if mode == "constant" else 0
    padded = _pad(t, x.plain(), widths, mode, float(fill))
    return QTensor(t.tensor(padded), x.q)


@walks("aten.reflection_pad1d.default", "aten.reflection_pad2d.default", "aten.replication_pad1d.default",
       "aten.replication_pad2d.default")
def reflection_pad(t: QTranslator, node: Any) -> Any:
    x = _real_or_float(t, node)
    if x is None:
        return Float(node)
    mode = "reflect" if "reflection" in op_name(node) else "replicate"
    return Real(_pad_int8(t, x, list(t.arg(node, 1)), mode, 0.0))


RESIZE = ("aten.upsample_nearest2d.vec", "aten.upsample_nearest2d.default", "aten.upsample_nearest1d.vec",
          "aten.upsample_nearest1d.default", "aten.upsample_bilinear2d.vec", "aten.upsample_bilinear2d.default",
          "aten.upsample_linear1d.vec", "aten.upsample_linear1d.default")


@walks(*RESIZE)
def upsample(t: QTranslator, node: Any) -> Any:
    """Resizing in the input's quantization (the quantizer shares it): nearest copies int8 values, exactly;
    bilinear blends them with Q10 weights (within 1 LSB of dequantize -> float resize -> quantize)."""
    from t2m.compiler.importer.aten import upsample

    x = _real_or_float(t, node)
    if x is None:
        return Float(node)
    original = t.values[node.args[0]]
    t.values[node.args[0]] = x.plain()
    try:
        value = upsample(t, node)
    finally:
        t.values[node.args[0]] = original
    return Real(QTensor(value, x.q))


def is_quantized(program: Any) -> bool:
    """A graph with PT2E quantize/dequantize ops: a converted (quantized) model."""
    return any(
        node.op == "call_function" and op_name(node).startswith("quantized_decomposed.") for node in program.graph.nodes
    )


# ---------------------------------------------------------------------------------------------------------------
# Issue 12: slices, splits and transposes of int8 tensors (exact: they move integers), the product of two
# activations and sums/means over axes (int32 accumulators, then a rescale), and the layers with no int8 form
# ---------------------------------------------------------------------------------------------------------------

MOVEMENT = (
    "aten.slice.Tensor",
    "aten.select.int",
    "aten.split.Tensor",
    "aten.split_with_sizes.default",
    "aten.chunk.default",
    "aten.unbind.int",
    "aten.permute.default",
    "aten.transpose.int",
    "aten.t.default",
    "aten.numpy_T.default",
)


def _moved(t: QTranslator, node: Any, x: QTensor) -> Any:
    """The float importer's handler of `node` applied to the int8 tensor `x` (it only moves elements), each
    result keeping x's quantization."""
    from t2m.compiler.importer.aten import HANDLERS

    arg = node.args[0]
    saved = t.values[arg]
    t.values[arg] = x.plain()
    try:
        result = HANDLERS[op_name(node)](t, node)
    finally:
        t.values[arg] = saved

    def wrap(value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(wrap(v) for v in value)
        return Real(QTensor(value, x.q))

    return wrap(result)


@walks(*MOVEMENT)
def movement(t: QTranslator, node: Any) -> Any:
    if isinstance(t.values[node.args[0]], np.ndarray):
        from t2m.compiler.importer.aten import HANDLERS

        return HANDLERS[op_name(node)](t, node)  # a constant: folded in numpy
    x = _real_or_float(t, node)
    return Float(node) if x is None else _moved(t, node, x)


@emits("aten.slice.Tensor", "aten.select.int", "aten.permute.default", "aten.transpose.int", "aten.t.default")
def movement_then_quantize(t: QTranslator, node: Any, out: QParams) -> QTensor:
    """A slice or transpose of a float value quantized afterwards: quantized first, then moved (same integers)."""
    moved = _moved(t, node, t.quantize(node.args[0], out, (I8_MIN, I8_MAX)))
    return moved.t


def _rescaled_acc(t: QTranslator, acc: SSAValue, scale: float, out: QParams) -> SSAValue:
    """int8 of an int32 accumulator whose real value is acc * scale."""
    requant = qnn.RequantAttr.from_scales([scale / out.scale], out.zero_point)
    return t.emit(qnn.RescaleOp(acc, requant, 0)).results[0]


@emits("aten.matmul.default", "aten.bmm.default", "aten.mm.default")
def matmul(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    """(a - za)(b - zb) summed in int32, rescaled by s_a s_b / s_out; shapes as the float importer's `_matmul`."""
    a, b = t.real(node.args[0]), t.real(node.args[1])
    sa, sb = a.shape, b.shape
    if len(sa) < 2 or len(sb) < 2:
        raise Unsupported("int8 matmul with a vector operand (reshape it to a matrix)")
    rank = max(len(sa), len(sb))
    a2, b2 = (1,) * (rank - len(sa)) + sa, (1,) * (rank - len(sb)) + sb
    if nn.matmul_shape(a2, b2) is None:
        raise Unsupported(f"matmul of shapes {list(sa)} and {list(sb)}")
    acc = t.emit(qnn.MatmulOp(_view(t, a, a2).plain(), _view(t, b, b2).plain(), a.q.zero_point, b.q.zero_point))
    result = _rescaled_acc(t, acc.results[0], a.q.scale * b.q.scale, out)
    want = tuple(node.meta["val"].shape)
    return result if _shape_of(result) == want else t.emit(nn.ReshapeOp(result, list(want))).results[0]


def _shape_of(value: SSAValue) -> tuple[int, ...]:
    return tuple(value.type.get_shape())  # type: ignore[attr-defined]


@emits("aten.sum.dim_IntList", "aten.sum.default", "aten.mean.default")
def reduce(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    return _reduce_q(t, node, out)


def _reduce_q(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    """sum / mean over axes: the int32 sum of (x - zp), rescaled by s_in / s_out (a mean: divided by the count)."""
    x = t.real(node.args[0])
    rank = len(x.shape)
    whole = op_name(node).endswith(".default")
    dims = None if whole else t.arg(node, 1)
    keepdim = False if whole else bool(t.arg(node, 2, False, "keepdim"))
    axes = sorted({_norm_dim(d, rank) for d in dims}) if dims else list(range(rank))
    count = math.prod(x.shape[a] for a in axes)
    acc = t.emit(qnn.ReduceSumOp(x.plain(), axes, x.q.zero_point)).results[0]
    scale = x.q.scale / count if "mean" in op_name(node) else x.q.scale
    result = _rescaled_acc(t, acc, scale, out)
    if keepdim:
        return result
    return t.emit(nn.ReshapeOp(result, [d for i, d in enumerate(x.shape) if i not in axes])).results[0]


def _normalise(t: QTranslator, x: QTensor, rows: int, gamma: Any, beta: Any, eps: float, out: QParams,
               per_row: bool) -> SSAValue:
    """`qnn.layer_norm` of x viewed [rows, N]: gamma at one scale as integers up to 2047 (coarser when beta is so
    large that it would not fit its int32 otherwise), beta at s_gamma 2^-12, the output requantized by
    s_gamma 2^-12 / s_out."""
    length = math.prod(x.shape) // rows
    if length > qnn.NORM_MAX_LENGTH:
        raise Unsupported(f"an int8 normalisation over {length} values: at most {qnn.NORM_MAX_LENGTH} (its sum of "
                          "squares is a 32-bit integer)")
    count = rows if per_row else length
    for name, value in (("weight", gamma), ("bias", beta)):
        if value is not None and not isinstance(value, np.ndarray):
            raise Unsupported(f"a normalisation {name} that is not a constant")
    g = np.ones(count) if gamma is None else np.asarray(gamma, np.float64).reshape(-1)
    b = np.zeros(count) if beta is None else np.asarray(beta, np.float64).reshape(-1)
    scale = max(float(np.abs(g).max()) / qnn.NORM_GAMMA_MAX, float(np.abs(b).max()) / 2.0**18) or 1.0
    unit = scale * 2.0**-qnn.NORM_FRACTION_BITS
    shape = (rows, 1) if per_row else (1, length)
    g_q = t.constant(np.round(g / scale).astype(np.int16).reshape(shape), 16)
    b_q = t.constant(np.round(b / unit).astype(np.int32).reshape(shape), 32)
    requant = qnn.RequantAttr.from_scales([unit / out.scale], out.zero_point)
    eps_term = qnn.norm_eps_term(length, eps, x.q.scale)
    x2 = _view(t, x, (rows, length)).plain()
    return t.emit(qnn.LayerNormOp(x2, g_q, b_q, x.q.zero_point, eps_term, requant)).results[0]


@emits("aten.layer_norm.default")
def layer_norm(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    """Layer norm over the trailing dims: each [N] row normalised in integers (`qnn.layer_norm`)."""
    x = t.real(node.args[0])
    normalized = [int(d) for d in t.arg(node, 1)]
    axis = len(x.shape) - len(normalized)
    if axis < 0 or list(x.shape[axis:]) != normalized:
        raise Unsupported(f"layer_norm over {normalized} of a tensor of shape {list(x.shape)}")
    gamma, beta = t.arg(node, 2), t.arg(node, 3)
    eps = float(t.arg(node, 4, 1e-5))
    y = _normalise(t, x, math.prod(x.shape[:axis]), gamma, beta, eps, out, per_row=False)
    return t.emit(nn.ReshapeOp(y, list(x.shape))).results[0]


def batch_norm_stats(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    """Batch norm with the batch's statistics (`track_running_stats=False`): each channel, over the batch and
    the positions, is one row of `qnn.layer_norm` with its gamma and beta (channels first: a transpose when the
    batch is larger than 1)."""
    x = t.real(node.args[0])
    shape = x.shape
    channels = shape[1]
    gamma, beta = t.arg(node, 1), t.arg(node, 2)
    eps = float(t.arg(node, 7, 1e-5, "eps"))
    order = [1, 0, *range(2, len(shape))]
    moved = x if shape[0] == 1 else QTensor(t.emit(nn.TransposeOp(x.plain(), order)).results[0], x.q)
    y = _normalise(t, moved, channels, gamma, beta, eps, out, per_row=True)
    if shape[0] == 1:
        return t.emit(nn.ReshapeOp(y, list(shape))).results[0]
    y = t.emit(nn.ReshapeOp(y, [shape[i] for i in order])).results[0]
    return t.emit(nn.TransposeOp(y, order)).results[0]


@emits("aten.embedding.default")
def embedding(t: QTranslator, node: Any, out: QParams) -> SSAValue:
    """Rows of an int8 table (quantized per tensor) gathered by int32 indices, a model input: exact, in the
    table's quantization (rescaled if the graph quantizes the result otherwise)."""
    table = t.lookup(node.args[0])
    indices = t.lookup(node.args[1])
    if not isinstance(table, Quantized) or table.axis is not None or table.data.ndim != 2:
        raise Unsupported("an embedding whose table is not a constant [rows, features] weight quantized per tensor")
    if not isinstance(indices, ModelInput) or indices.q is not None:
        raise Unsupported("embedding indices computed in the model: pass the indices as an integer model input")
    q = QParams(float(table.scales.reshape(-1)[0]), int(table.zero_points.reshape(-1)[0]))
    rows = t.emit(nn.EmbeddingOp(t.constant(table.data, 8), indices.arg)).results[0]
    return t.requantize(QTensor(rows, q), out).value


@walks("aten.lstm.input", "aten.gru.input")
def recurrent(t: QTranslator, node: Any) -> Any:
    """A recurrent layer left whole in a quantized graph is float inside: t2m's quantizer unrolls it into its
    steps before PT2E (`unroll.py`), another quantizer did not."""
    raise Unsupported("an LSTM/GRU left whole by the quantizer stays float inside (no gate is quantized); "
                      "quantize with t2m's --quantize int8, which unrolls it into its time steps")
