"""Translate a `torch.export` graph (ATen ops) into a `func.func` of `nn` ops.

One small handler per ATen op family, registered in `HANDLERS` by overload name. Weights (parameters, buffers,
lifted constants) stay numpy arrays while the graph only reshapes or transposes them, and become `nn.constant` ops
where an `nn` op consumes them: `addmm(b, x, permute(W))` imports as `nn.linear(x, W, b)` with no transpose left.

Both forms torch.export produces are understood: the default (training) IR, with `aten.conv2d` and
`aten.batch_norm`, and the core ATen IR after `run_decompositions()`, with `aten.convolution`,
`aten._native_batch_norm_legit_no_training` and `aten.addmm`. Every op that cannot be imported is collected with
the Python source line it came from, so a user sees the whole list at once.
"""

from __future__ import annotations

import math
import operator
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.builder import Builder
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, f32, i32
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint

from t2m.dialects import nn

Value = Any  # SSAValue (a tensor in the IR), np.ndarray (a folded constant), a Python scalar/list, or a tuple


class Unsupported(Exception):
    """This node cannot be imported; the message says why (op name and arguments)."""


@dataclass
class UnsupportedOp:
    op: str
    reason: str
    source: str
    quantized: bool = False  # a part of a quantized graph with no exact int8 form (qgraph.py)

    def describe(self) -> str:
        return f"{self.source}: {self.op}" + (f" ({self.reason})" if self.reason else "")


HANDLERS: dict[str, Callable[[Translator, Any], Value]] = {}


def handles(*names: str) -> Callable[[Callable[[Translator, Any], Value]], Callable[[Translator, Any], Value]]:
    def register(fn: Callable[[Translator, Any], Value]) -> Callable[[Translator, Any], Value]:
        for name in names:
            HANDLERS[name] = fn
        return fn

    return register


def op_name(node: Any) -> str:
    return "getitem" if node.target is operator.getitem else str(node.target)


_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


def source_line(node: Any) -> str:
    """The innermost frame of the user's code that created this node: `file.py:LINE (code)`."""
    trace: str = node.meta.get("stack_trace") or ""
    lines = trace.splitlines()
    best = None
    for i, line in enumerate(lines):
        m = _FRAME.search(line)
        if m and "/torch/" not in m.group(1) and "<frozen" not in m.group(1):
            code = lines[i + 1].strip() if i + 1 < len(lines) and not _FRAME.search(lines[i + 1]) else ""
            path = os.path.relpath(m.group(1)) if m.group(1).startswith(os.getcwd() + os.sep) else m.group(1)
            best = f"{path}:{m.group(2)}" + (f" `{code}`" if code else "")
    return best or f"<graph node {node.name}>"


class Translator:
    """Walks the exported graph once, building the `nn` function."""

    def __init__(self, program: Any, name: str):
        self.program = program
        self.name = name
        self.values: dict[Any, Value] = {}
        self.unsupported: list[UnsupportedOp] = []
        self.builder: Builder
        self._constants: dict[int, SSAValue] = {}

    # -- values ------------------------------------------------------------------------------------------------

    def arg(self, node: Any, index: int, default: Any = None, kw: str | None = None) -> Any:
        """Argument `index` (or keyword `kw`) of `node`, with graph nodes replaced by their values."""
        if index < len(node.args):
            raw = node.args[index]
        elif kw is not None and kw in node.kwargs:
            raw = node.kwargs[kw]
        else:
            return default
        return self.lookup(raw)

    def lookup(self, raw: Any) -> Any:
        import torch.fx

        if isinstance(raw, torch.fx.Node):
            return self.values[raw]
        if isinstance(raw, list | tuple):
            return type(raw)(self.lookup(r) for r in raw)
        return raw

    def tensor(self, value: Value) -> SSAValue:
        """An IR tensor for `value`, materialising a folded constant as `nn.constant` (once per array)."""
        if isinstance(value, SSAValue):
            return value
        if isinstance(value, int | float):
            value = np.array(value, dtype=np.float32)
        if isinstance(value, np.ndarray):
            key = id(value)
            if key not in self._constants:
                self._constants[key] = self.emit(nn.ConstantOp.from_array(value)).results[0]
                self._keepalive.append(value)
            return self._constants[key]
        raise Unsupported(f"expected a tensor, got {type(value).__name__}")

    def emit(self, op: Operation) -> Operation:
        self.builder.insert(op)
        return op

    # -- translation -------------------------------------------------------------------------------------------

    def translate(self) -> ModuleOp:
        import torch

        sig = self.program.graph_signature
        state = {**self.program.state_dict, **self.program.constants}
        graph = self.program.graph
        self._keepalive: list[np.ndarray] = []
        user_inputs: list[Any] = []
        param_of = {spec.arg.name: spec.target for spec in sig.input_specs if spec.target is not None}
        for node in graph.nodes:
            if node.op != "placeholder":
                continue
            if node.name in param_of:
                tensor = state[param_of[node.name]]
                self.values[node] = (
                    tensor.detach().to(torch.float32).numpy()
                    if tensor.is_floating_point()
                    else (tensor.detach().numpy())
                )
            else:
                user_inputs.append(node)
        arg_types = []
        for node in user_inputs:
            val = node.meta.get("val")
            if val is not None and _indices_only(node):
                arg_types.append(TensorType(i32, tuple(val.shape)))  # embedding indices: int32 on the target
                continue
            if val is None or val.dtype != torch.float32:
                raise Unsupported(f"input '{node.name}' must be a float32 tensor")
            arg_types.append(TensorType(f32, tuple(val.shape)))
        block = Block(arg_types=arg_types)
        self.builder = Builder(InsertPoint.at_end(block))
        for node, arg in zip(user_inputs, block.args, strict=True):
            self.values[node] = arg
            arg.name_hint = re.sub(r"[^0-9a-zA-Z_]", "_", node.name)

        outputs: list[SSAValue] = []
        for node in graph.nodes:
            if node.op == "call_function":
                self._translate_node(node)
            elif node.op == "output":
                kinds = [spec.kind.name for spec in sig.output_specs]  # user outputs, not input mutations
                returned = [n for n, k in zip(node.args[0], kinds, strict=True) if k == "USER_OUTPUT"]
                outputs = [self.values.get(n) for n in returned]  # type: ignore[misc]
        if self.unsupported:
            return ModuleOp([])
        results = [self.tensor(v) for v in outputs]
        self.emit(func.ReturnOp(*results))
        function = func.FuncOp(self.name, (arg_types, [r.type for r in results]), Region(block))
        return ModuleOp([function])

    def _translate_node(self, node: Any) -> None:
        name = op_name(node)
        handler = HANDLERS.get(name)
        if handler is None:
            self.unsupported.append(UnsupportedOp(name, "", source_line(node)))
            self.values[node] = None
            return
        if any(self.values.get(arg, 0) is None for arg in node.all_input_nodes):
            self.values[node] = None  # depends on an unsupported op: already reported
            return
        try:
            value = handler(self, node)
        except Unsupported as e:
            self.unsupported.append(UnsupportedOp(name, str(e), source_line(node)))
            value = None
        else:
            self._check_shape(node, value)
        self.values[node] = value

    @staticmethod
    def _check_shape(node: Any, value: Value) -> None:
        """The importer's result must have the shape torch.export recorded: catch translation bugs at once."""
        val = node.meta.get("val")
        if isinstance(value, SSAValue) and val is not None and hasattr(val, "shape"):
            got = tuple(value.type.get_shape())  # type: ignore[attr-defined]
            if got != tuple(val.shape):
                raise AssertionError(f"{op_name(node)} imported as shape {got}, torch says {tuple(val.shape)}")


# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------


def _indices_only(node: Any) -> bool:
    """An integer model input read only as embedding indices: it becomes an int32 argument."""
    import torch

    val = node.meta.get("val")
    return (
        val is not None
        and val.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)
        and bool(node.users)
        and all(op_name(u) == "aten.embedding.default" and u.args[1] is node for u in node.users)
    )


def _shape(value: Value) -> tuple[int, ...]:
    if isinstance(value, SSAValue):
        return tuple(value.type.get_shape())  # type: ignore[attr-defined]
    return tuple(np.shape(value))


def _pair(value: int | Sequence[int]) -> list[int]:
    if isinstance(value, int):
        return [value, value]
    values = list(value)
    return values * 2 if len(values) == 1 else values


def _norm_dim(dim: int, rank: int) -> int:
    return dim + rank if dim < 0 else dim


def _result(t: Translator, op: Operation) -> SSAValue:
    return t.emit(op).results[0]


# ---------------------------------------------------------------------------------------------------------------
# Convolution and fully connected
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class ZeroPad:
    """An `aten.pad`/`constant_pad_nd` of zeros, kept pending so the consuming convolution absorbs it.

    TensorFlow-style "same" padding (more at the bottom/right) is written in PyTorch as ZeroPad2d + conv2d; folding
    the pad into the convolution's asymmetric padding avoids materialising the padded tensor.
    """

    input: SSAValue
    pads: list[int]  # top, left, bottom, right


def _conv(t: Translator, x: Value, w: Value, b: Value, stride: Any, padding: Any, dilation: Any, groups: int) -> Value:
    if len(_shape(w)) == 3:
        return _conv1d(t, x, w, b, stride, padding, dilation, groups)
    if not isinstance(x, ZeroPad) and len(_shape(x)) == 3:  # an unbatched [C, H, W] input
        return _unbatched(t, x, lambda x4: _conv(t, x4, w, b, stride, padding, dilation, groups))
    extra = [0, 0, 0, 0]
    if isinstance(x, ZeroPad):
        x, extra = x.input, x.pads
    if len(_shape(w)) != 4:
        raise Unsupported(f"only 2-D convolution is supported, weight has shape {list(_shape(w))}")
    stride, dilation = _pair(stride), _pair(dilation)
    kh, kw = _shape(w)[2:]
    if padding == "valid":
        pads = [0, 0, 0, 0]
    elif padding == "same":
        total = [dilation[0] * (kh - 1), dilation[1] * (kw - 1)]
        pads = [total[0] // 2, total[1] // 2, total[0] - total[0] // 2, total[1] - total[1] // 2]
    else:
        ph, pw = _pair(padding)
        pads = [ph, pw, ph, pw]
    pads = [p + e for p, e in zip(pads, extra, strict=True)]
    bias = None if b is None else t.tensor(b)
    return _result(t, nn.Conv2dOp(t.tensor(x), t.tensor(w), bias, stride, pads, dilation, groups))


@handles("aten.conv2d.default", "aten.conv2d.padding", "aten.conv1d.default", "aten.conv1d.padding")
def conv2d(t: Translator, node: Any) -> Value:
    return _conv(
        t,
        t.arg(node, 0),
        t.arg(node, 1),
        t.arg(node, 2, kw="bias"),
        t.arg(node, 3, 1, "stride"),
        t.arg(node, 4, 0, "padding"),
        t.arg(node, 5, 1, "dilation"),
        t.arg(node, 6, 1, "groups"),
    )


@handles("aten.convolution.default")
def convolution(t: Translator, node: Any) -> Value:
    x, w, b, stride, padding, dilation, transposed, _, groups = (t.arg(node, i) for i in range(9))
    if transposed:
        raise Unsupported("transposed convolution")
    return _conv(t, x, w, b, stride, padding, dilation, groups)


@handles("aten.linear.default")
def linear(t: Translator, node: Any) -> Value:
    b = t.arg(node, 2, kw="bias")
    return _result(
        t, nn.LinearOp(t.tensor(t.arg(node, 0)), t.tensor(t.arg(node, 1)), None if b is None else t.tensor(b))
    )


def _matmul_as_linear(t: Translator, x: Value, m: Value, bias: Value) -> Value:
    if (not isinstance(m, np.ndarray) or m.ndim != 2) and bias is None:
        return _matmul(t, x, m)  # a product with an activation on the right
    if not isinstance(m, np.ndarray) or m.ndim != 2:
        raise Unsupported("addmm of two activations (matmul + add: write them as two ops)")
    weight = np.ascontiguousarray(m.T)  # [in, out] -> PyTorch's [out, in]
    if bias is not None and _shape(bias) != (weight.shape[0],):
        bias = np.broadcast_to(np.asarray(bias, dtype=np.float32), (weight.shape[0],)).copy()
    return _result(t, nn.LinearOp(t.tensor(x), t.tensor(weight), None if bias is None else t.tensor(bias)))


@handles("aten.addmm.default")
def addmm(t: Translator, node: Any) -> Value:
    if t.arg(node, 3, 1, "beta") != 1 or t.arg(node, 4, 1, "alpha") != 1:
        raise Unsupported("addmm with beta or alpha other than 1")
    return _matmul_as_linear(t, t.arg(node, 1), t.arg(node, 2), t.arg(node, 0))


@handles("aten.mm.default", "aten.matmul.default")
def mm(t: Translator, node: Any) -> Value:
    return _matmul_as_linear(t, t.arg(node, 0), t.arg(node, 1), None)


# ---------------------------------------------------------------------------------------------------------------
# Normalisation and activations
# ---------------------------------------------------------------------------------------------------------------


def _batch_norm(t: Translator, x: Value, w: Value, b: Value, mean: Value, var: Value, eps: float) -> Value:
    channels = _shape(x)[1]
    w = np.ones(channels, np.float32) if w is None else w
    b = np.zeros(channels, np.float32) if b is None else b
    if mean is None or var is None:
        raise Unsupported("batch_norm without running statistics (track_running_stats=False)")
    operands = [t.tensor(v) for v in (x, mean, var, w, b)]
    return _result(t, nn.BatchNormOp(*operands, eps=float(eps)))


@handles("aten.batch_norm.default")
def batch_norm(t: Translator, node: Any) -> Value:
    x, w, b, mean, var, training, _, eps = (t.arg(node, i) for i in range(8))
    if training and mean is None and var is None:
        return _batch_norm_stats(t, x, w, b, eps)  # no running statistics: eval mode normalises by the batch's
    if training:
        raise Unsupported("batch_norm in training mode: call model.eval() before export")
    return _batch_norm(t, x, w, b, mean, var, eps)


@handles("aten._native_batch_norm_legit_no_training.default")
def native_batch_norm(t: Translator, node: Any) -> Value:
    x, w, b, mean, var, _, eps = (t.arg(node, i) for i in range(7))
    return (_batch_norm(t, x, w, b, mean, var, eps), None, None)


@handles("aten.relu.default", "aten.relu_.default")
def relu(t: Translator, node: Any) -> Value:
    return _result(t, nn.ReluOp(t.tensor(t.arg(node, 0))))


@handles("aten.hardtanh.default", "aten.hardtanh_.default")
def hardtanh(t: Translator, node: Any) -> Value:
    return _result(
        t, nn.ClampOp(t.tensor(t.arg(node, 0)), t.arg(node, 1, -1.0, "min_val"), t.arg(node, 2, 1.0, "max_val"))
    )


@handles("aten.relu6.default")
def relu6(t: Translator, node: Any) -> Value:
    return _result(t, nn.ClampOp(t.tensor(t.arg(node, 0)), 0.0, 6.0))


@handles("aten.clamp.default")
def clamp(t: Translator, node: Any) -> Value:
    lo, hi = t.arg(node, 1, kw="min"), t.arg(node, 2, kw="max")  # a missing bound is infinite: inf stays inf
    x = t.tensor(t.arg(node, 0))
    lo, hi = -math.inf if lo is None else lo, math.inf if hi is None else hi
    return _result(t, nn.ClampOp(x, min(lo, hi), hi))  # PyTorch: min > max makes every element max


@handles("aten.sigmoid.default")
def sigmoid(t: Translator, node: Any) -> Value:
    return _result(t, nn.SigmoidOp(t.tensor(t.arg(node, 0))))


@handles("aten.tanh.default")
def tanh(t: Translator, node: Any) -> Value:
    return _result(t, nn.TanhOp(t.tensor(t.arg(node, 0))))


def _scale_shift(t: Translator, x: SSAValue, scale: float, shift: float) -> SSAValue:
    """x * scale + shift, as nn ops (constants broadcast)."""
    y = _result(t, nn.MulOp(x, t.tensor(np.array(scale, np.float32)))) if scale != 1.0 else x
    return _result(t, nn.AddOp(y, t.tensor(np.array(shift, np.float32)))) if shift != 0.0 else y


@handles("aten.hardsigmoid.default", "aten.hardsigmoid_.default")
def hardsigmoid(t: Translator, node: Any) -> Value:
    """relu6(x + 3) / 6, one op: one pass over memory instead of three."""
    return _result(t, nn.HardsigmoidOp(t.tensor(t.arg(node, 0))))


@handles("aten.hardswish.default", "aten.hardswish_.default")
def hardswish(t: Translator, node: Any) -> Value:
    """x * hardsigmoid(x) (MobileNetV3), one op instead of four."""
    return _result(t, nn.HardswishOp(t.tensor(t.arg(node, 0))))


@handles("aten.silu.default", "aten.silu_.default")
def silu(t: Translator, node: Any) -> Value:
    """x * sigmoid(x) (swish), one op instead of a sigmoid and a mul."""
    return _result(t, nn.SiluOp(t.tensor(t.arg(node, 0))))


@handles("aten.softmax.int", "aten._softmax.default", "aten.log_softmax.int", "aten._log_softmax.default")
def softmax(t: Translator, node: Any) -> Value:
    """Over any axis; a rank-0 tensor is PyTorch's one-element softmax, taken over its reshape to one element (so
    that NaN and infinities propagate as they do in PyTorch)."""
    x = t.tensor(t.arg(node, 0))
    kind = nn.LogSoftmaxOp if "log_softmax" in op_name(node) else nn.SoftmaxOp
    if not _shape(x):
        y = _result(t, kind(_result(t, nn.ReshapeOp(x, (1,))), 0))
        return _result(t, nn.ReshapeOp(y, ()))
    return _result(t, kind(x, _norm_dim(t.arg(node, 1), len(_shape(x)))))


# ---------------------------------------------------------------------------------------------------------------
# Elementwise arithmetic (constants fold in numpy; anything touching an activation becomes an nn op)
# ---------------------------------------------------------------------------------------------------------------


def _is_const(v: Value) -> bool:
    return isinstance(v, np.ndarray | int | float)


@handles("aten.add.Tensor", "aten.add_.Tensor", "aten.sub.Tensor", "aten.sub_.Tensor")
def add_sub(t: Translator, node: Any) -> Value:
    a, b, alpha = t.arg(node, 0), t.arg(node, 1), t.arg(node, 2, 1, "alpha")
    if "sub" in op_name(node):
        alpha = -alpha
    if _is_const(a) and _is_const(b):
        return np.asarray(a + alpha * np.asarray(b), dtype=np.float32)
    if alpha != 1 and _is_const(b):
        b = np.asarray(alpha * np.asarray(b), dtype=np.float32)
    elif alpha != 1:  # a - b is a + (-1 * b), exactly: negation does not round
        b = _result(t, nn.MulOp(t.tensor(b), t.tensor(np.asarray(alpha, np.float32))))
    return _result(t, nn.AddOp(t.tensor(a), t.tensor(b)))


@handles("aten.mul.Tensor", "aten.mul_.Tensor")
def mul(t: Translator, node: Any) -> Value:
    a, b = t.arg(node, 0), t.arg(node, 1)
    if _is_const(a) and _is_const(b):
        return np.asarray(np.asarray(a) * np.asarray(b), dtype=np.float32)
    return _result(t, nn.MulOp(t.tensor(a), t.tensor(b)))


@handles("aten.div.Tensor")
def div(t: Translator, node: Any) -> Value:
    a, b = t.arg(node, 0), t.arg(node, 1)
    if not _is_const(b):
        raise Unsupported("division by an activation")
    if _is_const(a):
        return np.asarray(np.asarray(a) / np.asarray(b), dtype=np.float32)
    return _result(t, nn.MulOp(t.tensor(a), t.tensor(np.asarray(1.0 / np.asarray(b, dtype=np.float64), np.float32))))


# ---------------------------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------------------------


def _pool_geometry(t: Translator, node: Any, first: int) -> tuple[list[int], list[int], list[int]]:
    kernel = _pair(t.arg(node, first))
    stride = _pair(t.arg(node, first + 1, []) or kernel)
    ph, pw = _pair(t.arg(node, first + 2, 0))
    return kernel, stride, [ph, pw, ph, pw]


def _ceil_extra(size: int, k: int, s: int, p: int, d: int) -> int:
    """Extra bottom/right padding that makes floor mode give PyTorch's ceil_mode size (0 when they agree)."""
    floor_out = (size + 2 * p - d * (k - 1) - 1) // s + 1
    ceil_out = -(-(size + 2 * p - d * (k - 1) - 1) // s) + 1
    if (ceil_out - 1) * s >= size + p:  # PyTorch: the last window must start inside the input or left padding
        ceil_out -= 1
    return (ceil_out - floor_out) * s


@handles("aten.max_pool2d.default", "aten.max_pool2d_with_indices.default")
def max_pool2d(t: Translator, node: Any) -> Value:
    x = t.tensor(t.arg(node, 0))
    if len(_shape(x)) == 3:
        out = _unbatched(t, x, lambda x4: _max_pool2d(t, node, x4))
        return (out, None) if "with_indices" in op_name(node) else out
    out = _max_pool2d(t, node, x)
    return (out, None) if "with_indices" in op_name(node) else out


def _max_pool2d(t: Translator, node: Any, x: SSAValue) -> SSAValue:
    kernel, stride, pads = _pool_geometry(t, node, 1)
    dilation = _pair(t.arg(node, 4, 1, "dilation"))
    if t.arg(node, 5, False, "ceil_mode"):
        h, w = _shape(x)[2:]
        pads[2] += _ceil_extra(h, kernel[0], stride[0], pads[0], dilation[0])
        pads[3] += _ceil_extra(w, kernel[1], stride[1], pads[1], dilation[1])
    return _result(t, nn.MaxPool2dOp(x, kernel, stride, pads, dilation))


@handles("aten.avg_pool2d.default")
def avg_pool2d(t: Translator, node: Any) -> Value:
    x = t.tensor(t.arg(node, 0))
    if len(_shape(x)) == 3:
        return _unbatched(t, x, lambda x4: _avg_pool2d(t, node, x4))
    return _avg_pool2d(t, node, x)


def _avg_pool2d(t: Translator, node: Any, x: SSAValue) -> SSAValue:
    kernel, stride, pads = _pool_geometry(t, node, 1)
    if t.arg(node, 4, False, "ceil_mode"):
        h, w = _shape(x)[2:]
        if _ceil_extra(h, kernel[0], stride[0], pads[0], 1) or _ceil_extra(w, kernel[1], stride[1], pads[1], 1):
            raise Unsupported("avg_pool2d with ceil_mode=True where it changes the output size")
    divisor = t.arg(node, 6, None, "divisor_override")
    include_pad = bool(t.arg(node, 5, True, "count_include_pad"))
    return _result(t, nn.AvgPool2dOp(x, kernel, stride, pads, include_pad, divisor))


@handles("aten.adaptive_avg_pool2d.default", "aten._adaptive_avg_pool2d.default")
def adaptive_avg_pool2d(t: Translator, node: Any) -> Value:
    x = t.tensor(t.arg(node, 0))
    if len(_shape(x)) == 3:
        return _unbatched(t, x, lambda x4: adaptive_avg_pool2d_of(t, node, x4))
    return adaptive_avg_pool2d_of(t, node, x)


def adaptive_avg_pool2d_of(t: Translator, node: Any, x: SSAValue) -> SSAValue:
    size = [s if s is not None else _shape(x)[2 + i] for i, s in enumerate(_pair(t.arg(node, 1)))]
    return _result(t, nn.AdaptiveAvgPool2dOp(x, size))


def _pool1d(t: Translator, x: Value, pool: Callable[[SSAValue, int], SSAValue]) -> SSAValue:
    """A 1-d pool as the 2-d pool of height 1, as Conv1d: [N, C, L] -> [N, C, 1, L] ([C, L]: a batch of one);
    `pool` gets the 4-d value and the length L."""
    x = t.tensor(x)
    shape = _shape(x)
    four = (1, shape[0], 1, shape[1]) if len(shape) == 2 else (shape[0], shape[1], 1, shape[2])
    y = pool(_result(t, nn.ReshapeOp(x, four)), shape[-1])
    return _result(t, nn.ReshapeOp(y, (*shape[:-1], _shape(y)[-1])))


def _window1d(t: Translator, node: Any) -> tuple[int, int, int]:
    """kernel, stride (default: the kernel) and padding of a 1-d pool."""
    kernel = int(_single(t.arg(node, 1)))
    return kernel, int(_single(t.arg(node, 2, []) or [kernel])), int(_single(t.arg(node, 3, 0)))


@handles("aten.max_pool1d.default", "aten.max_pool1d_with_indices.default")
def max_pool1d(t: Translator, node: Any) -> Value:
    kernel, stride, pad = _window1d(t, node)
    dilation = int(_single(t.arg(node, 4, 1, "dilation")))
    ceil_mode = t.arg(node, 5, False, "ceil_mode")

    def pool(x4: SSAValue, length: int) -> SSAValue:
        extra = _ceil_extra(length, kernel, stride, pad, dilation) if ceil_mode else 0
        return _result(t, nn.MaxPool2dOp(x4, [1, kernel], [1, stride], [0, pad, 0, pad + extra], [1, dilation]))

    out = _pool1d(t, t.arg(node, 0), pool)
    return (out, None) if "with_indices" in op_name(node) else out


@handles("aten.avg_pool1d.default")
def avg_pool1d(t: Translator, node: Any) -> Value:
    kernel, stride, pad = _window1d(t, node)
    include_pad = bool(t.arg(node, 5, True, "count_include_pad"))

    def pool(x4: SSAValue, length: int) -> SSAValue:
        if t.arg(node, 4, False, "ceil_mode") and _ceil_extra(length, kernel, stride, pad, 1):
            raise Unsupported("avg_pool1d with ceil_mode=True where it changes the output size")
        return _result(t, nn.AvgPool2dOp(x4, [1, kernel], [1, stride], [0, pad, 0, pad], include_pad, None))

    return _pool1d(t, t.arg(node, 0), pool)


@handles("aten.adaptive_avg_pool1d.default")
def adaptive_avg_pool1d(t: Translator, node: Any) -> Value:
    size = int(_single(t.arg(node, 1)))
    return _pool1d(t, t.arg(node, 0), lambda x4, length: _result(t, nn.AdaptiveAvgPool2dOp(x4, [1, size])))


@handles("aten.mean.dim")
def mean(t: Translator, node: Any) -> Value:
    x, dims, keepdim = t.arg(node, 0), t.arg(node, 1), t.arg(node, 2, False, "keepdim")
    if _is_const(x):
        return np.asarray(np.mean(x, axis=tuple(dims), keepdims=keepdim), np.float32)
    rank = len(_shape(x))
    if rank != 4 or sorted(_norm_dim(d, rank) for d in dims) != [2, 3]:
        return _reduce(t, x, dims, keepdim, "mean")
    pooled = _result(t, nn.AdaptiveAvgPool2dOp(t.tensor(x), [1, 1]))
    return pooled if keepdim else _result(t, nn.ReshapeOp(pooled, _shape(x)[:2]))


# ---------------------------------------------------------------------------------------------------------------
# Shapes, copies and tuples
# ---------------------------------------------------------------------------------------------------------------


def _resolve_shape(shape: Sequence[int], numel: int) -> list[int]:
    shape = list(shape)
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        shape[shape.index(-1)] = numel // known
    return shape


@handles("aten.view.default", "aten.reshape.default", "aten._unsafe_view.default")
def reshape(t: Translator, node: Any) -> Value:
    x = t.arg(node, 0)
    shape = _resolve_shape(t.arg(node, 1), math.prod(_shape(x)))
    if _is_const(x):
        return np.reshape(x, shape)
    return _result(t, nn.ReshapeOp(x, shape))


@handles("aten.flatten.using_ints")
def flatten(t: Translator, node: Any) -> Value:
    x = t.arg(node, 0)
    rank = len(_shape(x))
    start, end = _norm_dim(t.arg(node, 1, 0), rank), _norm_dim(t.arg(node, 2, -1), rank)
    if _is_const(x):
        return np.reshape(x, nn.FlattenOp.flattened(_shape(x), start, end))
    return _result(t, nn.FlattenOp(x, start, end))


@handles("aten.squeeze.dim", "aten.squeeze.dims", "aten.unsqueeze.default")
def squeeze(t: Translator, node: Any) -> Value:
    x = t.arg(node, 0)
    val = node.meta["val"]
    if _is_const(x):
        return np.reshape(x, tuple(val.shape))
    return _result(t, nn.ReshapeOp(x, tuple(val.shape)))


@handles("aten.permute.default", "aten.t.default", "aten.transpose.int", "aten.numpy_T.default")
def permute(t: Translator, node: Any) -> Value:
    x = t.arg(node, 0)
    if not _is_const(x):
        return _permute_activation(t, node, x)
    name = op_name(node)
    if "permute" in name:
        return np.transpose(x, t.arg(node, 1))
    if "transpose" in name:
        return np.swapaxes(x, t.arg(node, 1), t.arg(node, 2))
    return np.transpose(x)


@handles(
    "aten.clone.default",
    "aten.contiguous.default",
    "aten.alias.default",
    "aten.detach.default",
    "aten.lift_fresh_copy.default",
)
def identity(t: Translator, node: Any) -> Value:
    return t.arg(node, 0)


@handles("aten.dropout.default", "aten.dropout_.default", "aten.feature_dropout.default")
def dropout(t: Translator, node: Any) -> Value:
    if t.arg(node, 2, False, "train"):
        raise Unsupported("dropout in training mode: call model.eval() before export")
    return t.arg(node, 0)


@handles("aten._to_copy.default", "aten.to.dtype")
def to_copy(t: Translator, node: Any) -> Value:
    import torch

    dtype = node.kwargs.get("dtype", t.arg(node, 1) if op_name(node) == "aten.to.dtype" else None)
    if dtype not in (None, torch.float32):
        raise Unsupported(f"conversion to {dtype} (t2m's nn dialect is float32)")
    return t.arg(node, 0)


@handles("aten._assert_tensor_metadata.default")
def assert_metadata(t: Translator, node: Any) -> Value:
    """torch.export's check of a tensor's dtype before a conversion (`x.float()`): it computes nothing."""
    return None


@handles("aten.slice.Tensor")
def slice_(t: Translator, node: Any) -> Value:
    x = t.arg(node, 0)
    rank = len(_shape(x))
    dim, start, end, step = _norm_dim(t.arg(node, 1, 0), rank), t.arg(node, 2, 0), t.arg(node, 3), t.arg(node, 4, 1)
    if _is_const(x):
        index = [slice(None)] * rank
        index[dim] = slice(start, end, step)
        return np.asarray(x)[tuple(index)]
    size = _shape(x)[dim]
    if start in (0, None) and (end is None or end >= size) and step == 1:
        return x  # a full slice is a no-op
    return _slice_activation(t, x, dim, start, end, step)


@handles("aten.slice_scatter.default")
def slice_scatter(t: Translator, node: Any) -> Value:
    """What functionalization makes of an in-place op on a slice (`x[:, 1:3].relu_()`, `nn.ReLU(inplace=True)` on
    a chunk): `src` written into that slice of `x`, as `nn.insert_slice`. Over a full slice, the result is `src`."""
    x, src = t.arg(node, 0), t.arg(node, 1)
    rank = len(_shape(x))
    dim, start, end, step = _norm_dim(t.arg(node, 2, 0), rank), t.arg(node, 3, 0), t.arg(node, 4), t.arg(node, 5, 1)
    if step < 1:
        raise Unsupported(f"slice_scatter with step {step} (PyTorch allows only positive steps)")
    begin, _, stride = slice(start, end, step).indices(_shape(x)[dim])
    if _shape(src) == _shape(x):
        return src  # the slice is the whole of x
    return _insert_slice(t, src, x, dim, begin, stride)


@handles("aten.select_scatter.default")
def select_scatter(t: Translator, node: Any) -> Value:
    """What functionalization makes of an in-place op on a `select` (`x[:, 0] += 1`): `src`, which lacks axis
    `dim`, written into index `index` of that axis of `x`."""
    x, src = t.arg(node, 0), t.arg(node, 1)
    rank = len(_shape(x))
    dim, index = _norm_dim(t.arg(node, 2), rank), t.arg(node, 3)
    index = index + _shape(x)[dim] if index < 0 else index
    shape = list(_shape(x))
    shape[dim] = 1
    src = np.reshape(src, shape) if _is_const(src) else _result(t, nn.ReshapeOp(t.tensor(src), shape))
    if _shape(x)[dim] == 1:
        return src
    return _insert_slice(t, src, x, dim, index, 1)


def _insert_slice(t: Translator, src: Value, x: Value, dim: int, start: int, step: int) -> Value:
    """`src` written into `x` from `start` in steps of `step` along `dim` (every other axis whole)."""
    if _is_const(x) and _is_const(src):
        index = [slice(None)] * len(_shape(x))
        index[dim] = slice(start, start + (_shape(src)[dim] - 1) * step + 1, step)
        out = np.array(x, dtype=np.float32)
        out[tuple(index)] = src
        return out
    starts, steps = [0] * len(_shape(x)), [1] * len(_shape(x))
    starts[dim], steps[dim] = start, step
    return _result(t, nn.InsertSliceOp(t.tensor(src), t.tensor(x), starts, steps))


@handles("aten.pad.default", "aten.constant_pad_nd.default")
def pad(t: Translator, node: Any) -> Value:
    x, widths = t.arg(node, 0), list(t.arg(node, 1))
    mode = t.arg(node, 2, "constant", "mode") if op_name(node) == "aten.pad.default" else "constant"
    value = t.arg(node, 3 if op_name(node) == "aten.pad.default" else 2, 0.0, "value") or 0.0
    convs = ("aten.conv2d.default", "aten.conv2d.padding", "aten.convolution.default")
    if (mode != "constant" or value != 0.0 or len(_shape(x)) != 4 or len(widths) != 4 or min(widths) < 0
            or any(op_name(user) not in convs for user in node.users)):
        return _pad(t, x, widths, mode, float(value))
    left, right, top, bottom = widths
    return ZeroPad(t.tensor(x), [top, left, bottom, right])


@handles("aten.cat.default", "aten.concat.default")
def cat(t: Translator, node: Any) -> Value:
    parts = [t.tensor(v) for v in t.arg(node, 0)]
    return _result(t, nn.ConcatOp(parts, _norm_dim(t.arg(node, 1, 0, "dim"), len(_shape(parts[0])))))


@handles("aten.zeros.default", "aten.ones.default", "aten.full.default", "aten.scalar_tensor.default")
def filled(t: Translator, node: Any) -> Value:
    """Tensors of one value (e.g. an initial state) are constants."""
    name = op_name(node)
    fill = {"aten.zeros.default": 0.0, "aten.ones.default": 1.0}.get(name)
    if name == "aten.scalar_tensor.default":
        return np.array(t.arg(node, 0), dtype=np.float32)
    value = t.arg(node, 1) if fill is None else fill
    return np.full(tuple(t.arg(node, 0)), value, dtype=np.float32)


@handles("getitem")
def getitem(t: Translator, node: Any) -> Value:
    value = t.arg(node, 0)[node.args[1]]
    if value is None:
        raise Unsupported(f"output {node.args[1]} of {op_name(node.args[0])} (only the first output imports)")
    return value


# ---------------------------------------------------------------------------------------------------------------
# Issue 12: Conv1d, unbatched inputs, batch statistics, activations, padding, resizing
# ---------------------------------------------------------------------------------------------------------------


def _unbatched(t: Translator, x: Value, op: Callable[[SSAValue], SSAValue]) -> SSAValue:
    """An op on an input without its batch dim (PyTorch accepts [C, H, W] as well as [N, C, H, W]): the op on a
    batch of one, viewed back without it."""
    x = t.tensor(x)
    y = op(_result(t, nn.ReshapeOp(x, (1, *_shape(x)))))
    return _result(t, nn.ReshapeOp(y, _shape(y)[1:]))


def _single(value: Any) -> int | str:
    if isinstance(value, str):
        return value
    return value if isinstance(value, int) else list(value)[0]


def _conv1d(t: Translator, x: Value, w: Value, b: Value, stride: Any, padding: Any, dilation: Any,
            groups: int) -> Value:
    """Conv1d as a conv2d of height 1: [N, C, L] -> [N, C, 1, L], weight [O, I, K] -> [O, I, 1, K]."""
    if not isinstance(w, np.ndarray):
        raise Unsupported("a convolution whose weight is computed at run time")
    x = t.tensor(x)
    if len(_shape(x)) == 2:  # unbatched [C, L]
        return _unbatched(t, x, lambda x3: t.tensor(_conv1d(t, x3, w, b, stride, padding, dilation, groups)))
    n, c, length = _shape(x)
    x4 = _result(t, nn.ReshapeOp(x, (n, c, 1, length)))
    pad = _single(padding)
    y = _conv(t, x4, w[:, :, None, :], b, [1, _single(stride)], pad if isinstance(pad, str) else [0, pad],
              [1, _single(dilation)], groups)
    shape = _shape(y)
    return _result(t, nn.ReshapeOp(t.tensor(y), (shape[0], shape[1], shape[3])))


@handles("aten._native_batch_norm_legit_functional.default", "aten._native_batch_norm_legit.default")
def batch_norm_training(t: Translator, node: Any) -> Value:
    """What torch.export makes of a batch norm module left in training mode (it updates running statistics)."""
    raise Unsupported("batch_norm in training mode: call model.eval() before export")


@handles("aten._native_batch_norm_legit.no_stats")
def batch_norm_no_stats(t: Translator, node: Any) -> Value:
    """A batch norm with no running statistics (`track_running_stats=False`, in eval mode too) in core ATen, as
    functionalization leaves it (an in-place op after it): normalised by the batch's statistics. Only the
    normalised value imports (the batch mean and 1/std outputs are None)."""
    x, w, b, eps = t.arg(node, 0), t.arg(node, 1), t.arg(node, 2), t.arg(node, 5, 1e-5, "eps")
    return (_batch_norm_stats(t, x, w, b, eps), None, None)


def _batch_norm_stats(t: Translator, x: Value, w: Value, b: Value, eps: float) -> Value:
    channels = _shape(x)[1]
    w = np.ones(channels, np.float32) if w is None else w
    b = np.zeros(channels, np.float32) if b is None else b
    return _result(t, nn.BatchNormStatsOp(t.tensor(x), t.tensor(w), t.tensor(b), eps=float(eps)))


@handles("aten.elu.default", "aten.elu_.default")
def elu(t: Translator, node: Any) -> Value:
    alpha, scale = t.arg(node, 1, 1.0, "alpha"), t.arg(node, 2, 1, "scale")
    input_scale = t.arg(node, 3, 1, "input_scale")
    if scale != 1 or input_scale != 1:
        raise Unsupported(f"elu with scale {scale} and input_scale {input_scale} (SELU/CELU): only ELU imports")
    return _result(t, nn.EluOp(t.tensor(t.arg(node, 0)), float(alpha)))


@handles("aten.leaky_relu.default", "aten.leaky_relu_.default")
def leaky_relu(t: Translator, node: Any) -> Value:
    return _result(t, nn.LeakyReluOp(t.tensor(t.arg(node, 0)), float(t.arg(node, 1, 0.01, "negative_slope"))))


@handles("aten.gelu.default", "aten.gelu_.default")
def gelu(t: Translator, node: Any) -> Value:
    return _result(t, nn.GeluOp(t.tensor(t.arg(node, 0)), str(t.arg(node, 1, "none", "approximate"))))


@handles("aten.prelu.default", "aten._prelu_kernel.default")
def prelu(t: Translator, node: Any) -> Value:
    slope = t.arg(node, 1)
    if not isinstance(slope, np.ndarray):
        raise Unsupported("prelu with a slope computed at run time")
    return _result(t, nn.PreluOp(t.tensor(t.arg(node, 0)), t.tensor(np.ascontiguousarray(slope.reshape(-1)))))


def _pad(t: Translator, x: Value, widths: list[int], mode: str, value: float) -> Value:
    """PyTorch's pad widths (last dim first: left, right, top, bottom, ...) as an `nn.pad` of every dim."""
    rank = len(_shape(x))
    if len(widths) % 2 or len(widths) // 2 > rank or min(widths, default=0) < 0:
        raise Unsupported(f"padding {widths} of a rank-{rank} tensor (negative padding crops: not supported)")
    low, high = [0] * rank, [0] * rank
    for i in range(len(widths) // 2):
        low[rank - 1 - i], high[rank - 1 - i] = widths[2 * i], widths[2 * i + 1]
    if mode not in nn.PAD_MODES:
        raise Unsupported(f"{mode} padding (constant, reflect and replicate import)")
    if not any(low) and not any(high):
        return x
    return _result(t, nn.PadOp(t.tensor(x), low, high, mode, value))


@handles("aten.reflection_pad1d.default", "aten.reflection_pad2d.default", "aten.replication_pad1d.default",
         "aten.replication_pad2d.default")
def reflection_pad(t: Translator, node: Any) -> Value:
    mode = "reflect" if "reflection" in op_name(node) else "replicate"
    return _pad(t, t.arg(node, 0), list(t.arg(node, 1)), mode, 0.0)


def _resize_scale(size: int, out: int, factor: float | None) -> float:
    """PyTorch's source step per output pixel (compute_scales_value): 1 / factor when one is given, else in / out."""
    if factor is not None and factor > 0:
        return float(np.float32(1.0 / factor))
    return float(np.float32(size) / np.float32(out))


@handles("aten.upsample_nearest2d.vec", "aten.upsample_nearest2d.default", "aten.upsample_bilinear2d.vec",
         "aten.upsample_bilinear2d.default", "aten.upsample_nearest1d.vec", "aten.upsample_nearest1d.default",
         "aten.upsample_linear1d.vec", "aten.upsample_linear1d.default")
def upsample(t: Translator, node: Any) -> Value:
    name = op_name(node)
    nearest = "nearest" in name
    x = t.tensor(t.arg(node, 0))
    size = tuple(node.meta["val"].shape)
    corners = False if nearest else bool(t.arg(node, 2, False, "align_corners"))
    first = 2 if nearest else 3  # the scale factors' argument
    if name.endswith(".vec"):
        factors = t.arg(node, first, None, "scale_factors")
        factors = list(factors) if factors is not None else [None] * (len(size) - 2)
    else:
        factors = [t.arg(node, first + i) for i in range(len(size) - 2)]
    if len(size) == 3:  # 1-D: a plane of height 1
        n, c, length = _shape(x)
        x4 = _result(t, nn.ReshapeOp(x, (n, c, 1, length)))
        scale = [1.0, _resize_scale(length, size[2], factors[0])]
        y = _result(t, nn.UpsampleOp(x4, (1, size[2]), "nearest" if nearest else "bilinear", scale, corners))
        return _result(t, nn.ReshapeOp(y, size))
    h, w = _shape(x)[2:]
    scale = [_resize_scale(h, size[2], factors[0]), _resize_scale(w, size[3], factors[1])]
    return _result(t, nn.UpsampleOp(x, size[2:], "nearest" if nearest else "bilinear", scale, corners))


# ---------------------------------------------------------------------------------------------------------------
# Activations sliced, selected, split, permuted, reduced, multiplied together, normalised, looked up (issue 12)
# ---------------------------------------------------------------------------------------------------------------


def _slice_activation(t: Translator, x: SSAValue, dim: int, start: int | None, end: int | None, step: int) -> Value:
    """x[..., start:end:step, ...] along `dim` as `nn.slice` (Python's clamping of out-of-range bounds)."""
    shape = _shape(x)
    if step < 1:
        raise Unsupported(f"slicing with step {step} (PyTorch allows only positive steps)")
    begin, stop, stride = slice(start, end, step).indices(shape[dim])
    count = len(range(begin, stop, stride))
    if count == shape[dim]:
        return x
    if count == 0:
        raise Unsupported(f"an empty slice [{start}:{end}:{step}] along dim {dim}")
    starts, steps, sizes = [0] * len(shape), [1] * len(shape), list(shape)
    starts[dim], steps[dim], sizes[dim] = begin, stride, count
    return _result(t, nn.SliceOp(x, starts, steps, sizes))


@handles("aten.select.int")
def select(t: Translator, node: Any) -> Value:
    """x.select(dim, i) (and x[i], x[:, -1]): a slice of one, then the axis dropped (a view)."""
    x = t.arg(node, 0)
    rank = len(_shape(x))
    dim, index = _norm_dim(t.arg(node, 1), rank), t.arg(node, 2)
    index = index + _shape(x)[dim] if index < 0 else index
    if _is_const(x):
        return np.take(np.asarray(x), index, axis=dim)
    picked = _slice_activation(t, x, dim, index, index + 1, 1)
    return _result(t, nn.ReshapeOp(picked, [d for i, d in enumerate(_shape(x)) if i != dim]))


def _pieces(t: Translator, x: Value, sizes: Sequence[int], dim: int) -> tuple[Value, ...]:
    """Consecutive slices of `sizes` along `dim` (chunk, split, unbind): each an `nn.slice`, created only where a
    getitem reads it (torch.export's graph reads each piece it uses)."""
    bounds = np.cumsum([0, *sizes])
    if _is_const(x):
        return tuple(np.split(np.asarray(x), bounds[1:-1], axis=dim))
    return tuple(_slice_activation(t, x, dim, int(a), int(b), 1) for a, b in zip(bounds[:-1], bounds[1:], strict=True))


@handles("aten.split.Tensor", "aten.split_with_sizes.default", "aten.chunk.default", "aten.unbind.int")
def split(t: Translator, node: Any) -> Value:
    x = t.arg(node, 0)
    name, rank = op_name(node), len(_shape(x))
    dim = _norm_dim(t.arg(node, 1 if "unbind" in name else 2, 0, "dim"), rank)
    size = _shape(x)[dim]
    if "unbind" in name:
        pieces = _pieces(t, x, [1] * size, dim)
        return tuple(p if _is_const(p) and np.ndim(p) == rank - 1 else _drop_axis(t, p, dim) for p in pieces)
    if "split_with_sizes" in name:
        sizes = list(t.arg(node, 1))
    elif "chunk" in name:
        each = -(-size // t.arg(node, 1))
        sizes = [min(each, size - s) for s in range(0, size, each)]
    else:
        each = t.arg(node, 1)
        sizes = list(each) if isinstance(each, list | tuple) else [min(each, size - s) for s in range(0, size, each)]
    return _pieces(t, x, sizes, dim)


def _drop_axis(t: Translator, x: Value, dim: int) -> Value:
    shape = [d for i, d in enumerate(_shape(x)) if i != dim]
    return np.reshape(x, shape) if _is_const(x) else _result(t, nn.ReshapeOp(x, shape))


def _permute_activation(t: Translator, node: Any, x: SSAValue) -> Value:
    """permute / transpose / t of an activation: `nn.transpose` (a copy; a no-op permutation is dropped)."""
    rank, name = len(_shape(x)), op_name(node)
    if "permute" in name:
        perm = [_norm_dim(d, rank) for d in t.arg(node, 1)]
    elif "transpose" in name:
        a, b = _norm_dim(t.arg(node, 1), rank), _norm_dim(t.arg(node, 2), rank)
        perm = list(range(rank))
        perm[a], perm[b] = perm[b], perm[a]
    else:
        perm = list(reversed(range(rank)))
    if perm == sorted(perm):
        return x
    return _result(t, nn.TransposeOp(x, perm))


def _reduce(t: Translator, x: Value, dims: Sequence[int] | None, keepdim: bool, kind: str) -> Value:
    """torch.sum / torch.mean over `dims` (all axes when None or empty): `nn.reduce`, then a reshape unless keepdim."""
    shape = _shape(x)
    axes = sorted({_norm_dim(d, len(shape)) for d in dims}) if dims else list(range(len(shape)))
    if _is_const(x):
        fold = np.mean if kind == "mean" else np.sum
        return np.asarray(fold(np.asarray(x, np.float64), axis=tuple(axes), keepdims=keepdim), np.float32)
    reduced = _result(t, nn.ReduceOp(t.tensor(x), axes, kind))
    if keepdim:
        return reduced
    return _result(t, nn.ReshapeOp(reduced, [d for i, d in enumerate(shape) if i not in axes]))


@handles("aten.sum.dim_IntList", "aten.sum.default", "aten.mean.default")
def sum_(t: Translator, node: Any) -> Value:
    dims = None if op_name(node).endswith(".default") else t.arg(node, 1)
    keepdim = False if op_name(node).endswith(".default") else bool(t.arg(node, 2, False, "keepdim"))
    import torch

    if node.kwargs.get("dtype") not in (None, torch.float32):
        raise Unsupported("a reduction to another dtype (t2m's nn dialect is float32)")
    return _reduce(t, t.arg(node, 0), dims, keepdim, "mean" if "mean" in op_name(node) else "sum")


def _matmul(t: Translator, a: Value, b: Value) -> Value:
    """The product of two tensors of which at least one is an activation: `nn.matmul`, vectors and unequal ranks
    made [..., M, K] / [..., K, N] of one rank by reshapes (torch.matmul's rules)."""
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        raise Unsupported("matmul of a scalar")
    a2 = [1, *sa] if len(sa) == 1 else list(sa)
    b2 = [*sb, 1] if len(sb) == 1 else list(sb)
    rank = max(len(a2), len(b2))
    a2, b2 = [1] * (rank - len(a2)) + a2, [1] * (rank - len(b2)) + b2
    if nn.matmul_shape(tuple(a2), tuple(b2)) is None:
        raise Unsupported(f"matmul of shapes {list(sa)} and {list(sb)}")
    lhs = _reshaped(t, a, a2)
    rhs = _reshaped(t, b, b2)
    out = _result(t, nn.MatmulOp(lhs, rhs))
    batch = nn.broadcast_shapes(tuple(sa[:-2]), tuple(sb[:-2])) or ()
    want = [*batch, *([sa[-2]] if len(sa) > 1 else []), *([sb[-1]] if len(sb) > 1 else [])]
    return out if list(_shape(out)) == want else _result(t, nn.ReshapeOp(out, want))


def _reshaped(t: Translator, v: Value, shape: Sequence[int]) -> SSAValue:
    if _is_const(v):
        return t.tensor(np.reshape(np.asarray(v, np.float32), shape))
    return v if list(_shape(v)) == list(shape) else _result(t, nn.ReshapeOp(v, shape))


@handles("aten.bmm.default")
def bmm(t: Translator, node: Any) -> Value:
    return _matmul(t, t.arg(node, 0), t.arg(node, 1))


def _layer_norm(t: Translator, x: Value, normalized: Sequence[int], w: Value, b: Value, eps: float) -> Value:
    shape = _shape(x)
    axis = len(shape) - len(normalized)
    if list(shape[axis:]) != list(normalized):
        raise Unsupported(f"layer_norm over {list(normalized)} of a tensor of shape {list(shape)}")
    weight = None if w is None else t.tensor(np.asarray(w, np.float32) if _is_const(w) else w)
    bias = None if b is None else t.tensor(np.asarray(b, np.float32) if _is_const(b) else b)
    return _result(t, nn.LayerNormOp(t.tensor(x), weight, bias, axis, float(eps)))


@handles("aten.layer_norm.default")
def layer_norm(t: Translator, node: Any) -> Value:
    return _layer_norm(t, t.arg(node, 0), t.arg(node, 1), t.arg(node, 2), t.arg(node, 3), t.arg(node, 4, 1e-5))


@handles("aten.native_layer_norm.default")
def native_layer_norm(t: Translator, node: Any) -> Value:
    out = _layer_norm(t, t.arg(node, 0), t.arg(node, 1), t.arg(node, 2), t.arg(node, 3), t.arg(node, 4))
    return (out, None, None)


@handles("aten.embedding.default")
def embedding(t: Translator, node: Any) -> Value:
    """A table lookup: the table is a weight, the indices a model input (an int32 argument, see `translate`)."""
    weight, indices = t.arg(node, 0), t.arg(node, 1)
    if not isinstance(weight, np.ndarray) or weight.ndim != 2:
        raise Unsupported("an embedding whose table is not a constant [rows, features] weight")
    if _is_const(indices):
        return np.take(weight, np.asarray(indices, np.int64), axis=0)
    if str(cast_element(indices)) != "i32":
        raise Unsupported("embedding indices computed in float: pass the indices as an integer model input")
    return _result(t, nn.EmbeddingOp(t.tensor(weight), indices))


def cast_element(value: SSAValue) -> Any:
    return value.type.get_element_type()  # type: ignore[attr-defined]


# -- recurrent layers: unrolled over the static sequence length, every state a tensor in the arena -------------


def _lin(t: Translator, x: Value, w: np.ndarray, b: np.ndarray | None) -> Value:
    if _is_const(x):
        y = np.asarray(x, np.float64) @ w.astype(np.float64).T
        return np.asarray(y if b is None else y + b, np.float32)
    return _result(t, nn.LinearOp(x, t.tensor(w), None if b is None else t.tensor(np.asarray(b, np.float32))))


def _add(t: Translator, a: Value, b: Value) -> Value:
    if _is_const(a) and _is_const(b):
        return np.asarray(np.asarray(a, np.float32) + np.asarray(b, np.float32), np.float32)
    return _result(t, nn.AddOp(t.tensor(a), t.tensor(b)))


def _mul(t: Translator, a: Value, b: Value) -> Value:
    if _is_const(a) and _is_const(b):
        return np.asarray(np.asarray(a, np.float32) * np.asarray(b, np.float32), np.float32)
    return _result(t, nn.MulOp(t.tensor(a), t.tensor(b)))


def _unary(t: Translator, kind: type[nn.UnaryOp], x: Value) -> Value:
    if _is_const(x):
        v = np.asarray(x, np.float64)
        return np.asarray(1 / (1 + np.exp(-v)) if kind is nn.SigmoidOp else np.tanh(v), np.float32)
    return _result(t, kind(x))


def _cols(t: Translator, x: Value, lo: int, hi: int) -> Value:
    """x[:, lo:hi] of a [batch, features] value."""
    return np.asarray(x)[:, lo:hi] if _is_const(x) else _slice_activation(t, x, 1, lo, hi, 1)


def _lstm_cell(t: Translator, gx: Value, h: Value, c: Value, w_hh: np.ndarray, b_hh: np.ndarray | None
               ) -> tuple[Value, Value]:
    size = w_hh.shape[1]
    gates = _add(t, gx, _lin(t, h, w_hh, b_hh))
    i, f, g, o = (_cols(t, gates, k * size, (k + 1) * size) for k in range(4))
    i, f, o = (_unary(t, nn.SigmoidOp, v) for v in (i, f, o))
    c = _add(t, _mul(t, f, c), _mul(t, i, _unary(t, nn.TanhOp, g)))
    return _mul(t, o, _unary(t, nn.TanhOp, c)), c


def _gru_cell(t: Translator, gx: Value, h: Value, w_hh: np.ndarray, b_hh: np.ndarray | None) -> Value:
    size = w_hh.shape[1]
    gh = _lin(t, h, w_hh, b_hh)
    r, z = (_unary(t, nn.SigmoidOp, _add(t, _cols(t, gx, k * size, (k + 1) * size), _cols(t, gh, k * size,
                                                                                          (k + 1) * size)))
            for k in range(2))
    n = _unary(t, nn.TanhOp, _add(t, _cols(t, gx, 2 * size, 3 * size), _mul(t, r, _cols(t, gh, 2 * size, 3 * size))))
    return _add(t, n, _mul(t, z, _add(t, h, _mul(t, n, np.array(-1.0, np.float32)))))  # (1 - z) n + z h = n + z (h - n)


def _time_step(t: Translator, x: Value, time: int, steps_axis: int) -> Value:
    """Step `time` of a sequence, [batch, features]."""
    return _drop_axis(t, _slice_activation(t, x, steps_axis, time, time + 1, 1), steps_axis) if not _is_const(x) \
        else np.take(np.asarray(x), time, axis=steps_axis)


@handles("aten.lstm.input", "aten.gru.input")
def recurrent(t: Translator, node: Any) -> Value:
    """nn.LSTM / nn.GRU (any layers, bidirectional, batch_first either way), unrolled over the static sequence:
    per layer and direction the input projection of every step is one nn.linear (b_ih + b_hh folded in for the
    LSTM), then each step adds the hidden projection and applies the gates with existing nn ops. A zero initial
    state folds away at the first step. The states are ordinary tensors, so plan-memory places them in the arena."""
    lstm = "lstm" in op_name(node)
    x, hx, params = t.arg(node, 0), t.arg(node, 1), t.arg(node, 2)
    has_biases, layers, _, train, bidirectional, batch_first = (t.arg(node, i) for i in range(3, 9))
    if train:
        raise Unsupported("a recurrent layer in training mode: call model.eval() before export")
    if len(_shape(x)) != 3:
        raise Unsupported(f"a recurrent layer on a rank-{len(_shape(x))} input (t2m takes batched sequences)")
    if not all(isinstance(p, np.ndarray) for p in params):
        raise Unsupported("recurrent weights that are not constants")
    if len(params) != layers * (2 if bidirectional else 1) * (4 if has_biases else 2):
        raise Unsupported("recurrent weights with projections (proj_size) or an unexpected layout")
    h0, c0 = (hx[0], hx[1]) if lstm else (hx, None)
    steps_axis = 1 if batch_first else 0
    steps = _shape(x)[steps_axis]
    per = 4 if has_biases else 2
    directions = 2 if bidirectional else 1
    finals_h: list[Value] = []
    finals_c: list[Value] = []
    seq = x
    for layer in range(layers):
        outputs: list[list[Value]] = []
        for direction in range(directions):
            k = (layer * directions + direction) * per
            w_ih, w_hh = params[k], params[k + 1]
            b_ih, b_hh = (params[k + 2], params[k + 3]) if has_biases else (None, None)
            if lstm and b_ih is not None and b_hh is not None:  # both biases add before any nonlinearity
                b_ih, b_hh = np.asarray(b_ih, np.float64) + np.asarray(b_hh, np.float64), None
            projected = _lin(t, seq, w_ih, b_ih)  # every step's input projection at once
            index = layer * directions + direction
            h = _state(t, h0, index)
            c = _state(t, c0, index) if lstm else None
            order = range(steps - 1, -1, -1) if direction else range(steps)
            hs: list[Value] = [None] * steps
            for step in order:
                gx = _time_step(t, projected, step, steps_axis)
                if lstm:
                    h, c = _lstm_cell(t, gx, h, c, w_hh, b_hh)
                else:
                    h = _gru_cell(t, gx, h, w_hh, b_hh)
                hs[step] = h
            outputs.append(hs)
            finals_h.append(h)
            finals_c.append(c)
        seq = _stack_steps(t, outputs, steps_axis)
    h_n = _stack_states(t, finals_h)
    return (seq, h_n, _stack_states(t, finals_c)) if lstm else (seq, h_n)


def _state(t: Translator, state: Value, index: int) -> Value:
    """The initial state of one layer/direction, [batch, hidden], from [layers * directions, batch, hidden]."""
    if _is_const(state):
        return np.asarray(state, np.float32)[index]
    return _drop_axis(t, _slice_activation(t, state, 0, index, index + 1, 1), 0)


def _stack_steps(t: Translator, outputs: list[list[Value]], steps_axis: int) -> Value:
    """Each direction's states [batch, hidden] stacked along the time axis, directions concatenated on features."""
    per_direction = []
    for hs in outputs:
        parts = [_insert_axis(t, h, steps_axis) for h in hs]
        per_direction.append(parts[0] if len(parts) == 1 else _result(t, nn.ConcatOp(parts, steps_axis)))
    if len(per_direction) == 1:
        return per_direction[0]
    return _result(t, nn.ConcatOp(per_direction, 2))


def _insert_axis(t: Translator, x: Value, axis: int) -> SSAValue:
    shape = list(_shape(x))
    shape.insert(axis, 1)
    return t.tensor(np.reshape(x, shape)) if _is_const(x) else _result(t, nn.ReshapeOp(x, shape))


def _stack_states(t: Translator, states: list[Value]) -> Value:
    parts = [_insert_axis(t, s, 0) for s in states]
    return parts[0] if len(parts) == 1 else _result(t, nn.ConcatOp(parts, 0))


@handles("aten.stack.default")
def stack(t: Translator, node: Any) -> Value:
    """torch.stack: each part with a new axis of one (a view), then one concat."""
    parts = list(t.arg(node, 0))
    dim = _norm_dim(t.arg(node, 1, 0, "dim"), len(_shape(parts[0])) + 1)
    if all(_is_const(p) for p in parts):
        return np.stack([np.asarray(p, np.float32) for p in parts], axis=dim)
    expanded = [_insert_axis(t, p, dim) for p in parts]
    return expanded[0] if len(expanded) == 1 else _result(t, nn.ConcatOp(expanded, dim))


@handles("aten.expand.default")
def expand(t: Translator, node: Any) -> Value:
    """x.expand(shape) (core ATen's matmul broadcasts with it): nothing when the shape does not change, else the
    broadcast as an nn.add of zeros of the new shape (x + 0 is x for every float but -0.0, which becomes +0.0)."""
    return _broadcast(t, t.arg(node, 0), tuple(node.meta["val"].shape))


@handles("aten.copy.default")
def copy(t: Translator, node: Any) -> Value:
    """What functionalization makes of `view.copy_(src)` and of `x[:, 0] += 1` (an add, then a copy into the
    view): `src` broadcast to the destination's shape. The write-back into the tensor the view came from follows
    as a slice_scatter or select_scatter."""
    return _broadcast(t, t.arg(node, 1), tuple(node.meta["val"].shape))


def _broadcast(t: Translator, x: Value, shape: tuple[int, ...]) -> Value:
    if _is_const(x):
        return np.broadcast_to(np.asarray(x, np.float32), shape).copy()
    if _shape(x) == shape:
        return x
    return _result(t, nn.AddOp(x, t.tensor(np.zeros(shape, np.float32))))
