"""Reference semantics of the `nn` dialect: numpy implementations registered as xDSL interpreter functions.

This is the first rung of the verification ladder (docs/design.md §7): every later stage (loops, host JIT, the emulated
Cortex-M4) is checked against what these functions compute. They favour clarity over speed and accumulate in
float64, so the reference is at least as accurate as the fp32 code it judges.

NaN and infinities follow PyTorch: numpy's max, maximum, minimum and clip propagate NaN as torch's max_pool2d,
relu and clamp do, and softmax's x - max gives NaN rows for NaN or +inf entries as torch's does. IEEE overflow
and invalid operations are expected there, so numpy's warnings about them are silenced.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.interpreter import Interpreter, InterpreterFunctions, impl, register_impls
from xdsl.interpreters.func import FuncFunctions

from t2m.compiler.errors import T2MError
from t2m.dialects import nn

Array = np.ndarray


def _ints(attr: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in attr.get_values())


def _f32(x: Array) -> Array:
    return np.asarray(x, dtype=np.float32)


def _pad_nchw(x: Array, padding: Sequence[int], value: float) -> Array:
    top, left, bottom, right = padding
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def _windows(x: Array, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]) -> Array:
    """[N, C, OH, OW, KH, KW] view of every (dilated, strided) window of an NCHW array."""
    kh, kw = kernel
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    win = sliding_window_view(x, span, axis=(2, 3))
    return win[:, :, :: stride[0], :: stride[1], :: dilation[0], :: dilation[1]]


def conv2d(
    x: Array,
    w: Array,
    b: Array | None,
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    groups: int,
) -> Array:
    n, c, _, _ = x.shape
    oc, icg, kh, kw = w.shape
    win = _windows(_pad_nchw(x.astype(np.float64), padding, 0.0), (kh, kw), stride, dilation)
    oh, ow = win.shape[2:4]
    win = win.reshape(n, groups, c // groups, oh, ow, kh, kw)
    wg = w.astype(np.float64).reshape(groups, oc // groups, icg, kh, kw)
    y = np.einsum("ngchwij,gocij->ngohw", win, wg, optimize=True).reshape(n, oc, oh, ow)
    if b is not None:
        y = y + b.astype(np.float64)[None, :, None, None]
    return _f32(y)


_erfc = np.frompyfunc(math.erfc, 1, 1)
"""erfc elementwise in float64 (numpy has none; the reference favours clarity over speed)."""


def fused_activation(op: nn.FusedActivation, y: Array) -> Array:
    """Apply the clamp that fuse-activation moved into `op`: np.maximum/np.minimum keep NaN, as torch.clamp does."""
    lo, hi = op.activation_bounds()
    if lo is not None:
        y = np.maximum(y, np.float32(lo))
    if hi is not None:
        y = np.minimum(y, np.float32(hi))
    return y


def adaptive_windows(
    plane: Sequence[int], size: Sequence[int]
) -> Iterator[tuple[int, int, tuple[int, int], tuple[int, int]]]:
    """PyTorch's adaptive pooling windows: output cell (i, j) covers rows [h0, h1) and columns [w0, w1)."""
    h, w = plane
    for i in range(size[0]):
        h0, h1 = (i * h) // size[0], -(-((i + 1) * h) // size[0])
        for j in range(size[1]):
            yield i, j, (h0, h1), ((j * w) // size[1], -(-((j + 1) * w) // size[1]))


def adaptive_avg_pool2d(x: Array, size: Sequence[int]) -> Array:
    n, c, _, _ = x.shape
    out = np.empty((n, c, *size), dtype=np.float64)
    for i, j, (h0, h1), (w0, w1) in adaptive_windows(x.shape[2:], size):
        out[:, :, i, j] = x[:, :, h0:h1, w0:w1].astype(np.float64).mean(axis=(2, 3))
    return _f32(out)


@register_impls
class NnFunctions(InterpreterFunctions):
    """One numpy function per `nn` op."""

    @impl(nn.ConstantOp)
    def run_constant(self, interpreter: Interpreter, op: nn.ConstantOp, args: tuple[Any, ...]):
        value = op.to_array()
        return (value.astype(np.float32) if value.dtype.kind == "f" else value.copy(),)

    @impl(nn.Conv2dOp)
    def run_conv2d(self, interpreter: Interpreter, op: nn.Conv2dOp, args: tuple[Any, ...]):
        x, w, *b = args
        bias = b[0] if b else None
        y = conv2d(x, w, bias, _ints(op.stride), _ints(op.padding), _ints(op.dilation), op.groups.value.data)
        return (fused_activation(op, y),)

    @impl(nn.LinearOp)
    def run_linear(self, interpreter: Interpreter, op: nn.LinearOp, args: tuple[Any, ...]):
        x, w, *b = args
        if op.weight_layout is not None:
            w = nn.unpack_linear_weight(w)
        y = x.astype(np.float64) @ w.astype(np.float64).T
        return (fused_activation(op, _f32(y + b[0] if b else y)),)

    @impl(nn.ReluOp)
    def run_relu(self, interpreter: Interpreter, op: nn.ReluOp, args: tuple[Any, ...]):
        return (np.maximum(args[0], np.float32(0)),)

    @impl(nn.ClampOp)
    def run_clamp(self, interpreter: Interpreter, op: nn.ClampOp, args: tuple[Any, ...]):
        return (_f32(np.clip(args[0], op.min.value.data, op.max.value.data)),)

    @impl(nn.SigmoidOp)
    def run_sigmoid(self, interpreter: Interpreter, op: nn.SigmoidOp, args: tuple[Any, ...]):
        return (_f32(1.0 / (1.0 + np.exp(-args[0].astype(np.float64)))),)

    @impl(nn.TanhOp)
    def run_tanh(self, interpreter: Interpreter, op: nn.TanhOp, args: tuple[Any, ...]):
        return (_f32(np.tanh(args[0].astype(np.float64))),)

    @impl(nn.AddOp)
    def run_add(self, interpreter: Interpreter, op: nn.AddOp, args: tuple[Any, ...]):
        return (fused_activation(op, _f32(args[0].astype(np.float64) + args[1])),)

    @impl(nn.MulOp)
    def run_mul(self, interpreter: Interpreter, op: nn.MulOp, args: tuple[Any, ...]):
        return (fused_activation(op, _f32(args[0].astype(np.float64) * args[1])),)

    @impl(nn.BatchNormOp)
    def run_batch_norm(self, interpreter: Interpreter, op: nn.BatchNormOp, args: tuple[Any, ...]):
        x, mean, var, weight, bias = (a.astype(np.float64) for a in args)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        scale = weight / np.sqrt(var + op.eps.value.data)
        return (_f32((x - mean.reshape(shape)) * scale.reshape(shape) + bias.reshape(shape)),)

    @impl(nn.MaxPool2dOp)
    def run_max_pool2d(self, interpreter: Interpreter, op: nn.MaxPool2dOp, args: tuple[Any, ...]):
        kernel, stride, padding, dilation = op.window()
        win = _windows(_pad_nchw(args[0], padding, -np.inf), kernel, stride, dilation)
        return (fused_activation(op, _f32(win.max(axis=(4, 5)))),)

    @impl(nn.AvgPool2dOp)
    def run_avg_pool2d(self, interpreter: Interpreter, op: nn.AvgPool2dOp, args: tuple[Any, ...]):
        kernel, stride, padding, dilation = op.window()
        x = args[0].astype(np.float64)
        sums = _windows(_pad_nchw(x, padding, 0.0), kernel, stride, dilation).sum(axis=(4, 5))
        if op.divisor() is not None:
            return (fused_activation(op, _f32(sums / op.divisor())),)
        ones = np.ones((1, 1, *x.shape[2:]))
        counts = _windows(_pad_nchw(ones, padding, 0.0), kernel, stride, dilation).sum(axis=(4, 5))
        return (fused_activation(op, _f32(sums / counts)),)

    @impl(nn.AdaptiveAvgPool2dOp)
    def run_adaptive_avg_pool2d(self, interpreter: Interpreter, op: nn.AdaptiveAvgPool2dOp, args: tuple[Any, ...]):
        return (adaptive_avg_pool2d(args[0], _ints(op.output_size)),)

    @impl(nn.FlattenOp)
    def run_flatten(self, interpreter: Interpreter, op: nn.FlattenOp, args: tuple[Any, ...]):
        return (args[0].reshape(op.output.type.get_shape()),)

    @impl(nn.ReshapeOp)
    def run_reshape(self, interpreter: Interpreter, op: nn.ReshapeOp, args: tuple[Any, ...]):
        return (args[0].reshape(op.output.type.get_shape()),)

    @impl(nn.ConcatOp)
    def run_concat(self, interpreter: Interpreter, op: nn.ConcatOp, args: tuple[Any, ...]):
        return (np.concatenate(args, axis=op.axis.value.data),)

    @impl(nn.SoftmaxOp)
    def run_softmax(self, interpreter: Interpreter, op: nn.SoftmaxOp, args: tuple[Any, ...]):
        x = args[0].astype(np.float64)
        e = np.exp(x - x.max(axis=op.axis.value.data, keepdims=True))
        return (_f32(e / e.sum(axis=op.axis.value.data, keepdims=True)),)

    @impl(nn.LogSoftmaxOp)
    def run_log_softmax(self, interpreter: Interpreter, op: nn.LogSoftmaxOp, args: tuple[Any, ...]):
        x = args[0].astype(np.float64)
        shifted = x - x.max(axis=op.axis.value.data, keepdims=True)
        return (_f32(shifted - np.log(np.exp(shifted).sum(axis=op.axis.value.data, keepdims=True))),)


    # -- activations, padding, resizing, batch statistics (issue 12) ---------------------------------------------

    @impl(nn.HardswishOp)
    def run_hardswish(self, interpreter: Interpreter, op: nn.HardswishOp, args: tuple[Any, ...]):
        x = args[0].astype(np.float64)
        return (_f32(x * np.clip(x + 3.0, 0.0, 6.0) / 6.0),)

    @impl(nn.HardsigmoidOp)
    def run_hardsigmoid(self, interpreter: Interpreter, op: nn.HardsigmoidOp, args: tuple[Any, ...]):
        return (_f32(np.clip(args[0].astype(np.float64) + 3.0, 0.0, 6.0) / 6.0),)

    @impl(nn.SiluOp)
    def run_silu(self, interpreter: Interpreter, op: nn.SiluOp, args: tuple[Any, ...]):
        x = args[0].astype(np.float64)
        return (_f32(x / (1.0 + np.exp(-x))),)

    @impl(nn.EluOp)
    def run_elu(self, interpreter: Interpreter, op: nn.EluOp, args: tuple[Any, ...]):
        x = args[0].astype(np.float64)
        return (_f32(np.where(x > 0, x, op.param() * np.expm1(np.minimum(x, 0.0)))),)

    @impl(nn.LeakyReluOp)
    def run_leaky_relu(self, interpreter: Interpreter, op: nn.LeakyReluOp, args: tuple[Any, ...]):
        x = args[0].astype(np.float64)
        return (_f32(np.where(x > 0, x, op.param() * x)),)

    @impl(nn.GeluOp)
    def run_gelu(self, interpreter: Interpreter, op: nn.GeluOp, args: tuple[Any, ...]):
        x = args[0].astype(np.float64)
        if op.approximate.data == "tanh":
            u = np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)
            return (_f32(x / (1.0 + np.exp(-2.0 * u))),)  # 0.5 (1 + tanh(u)) = sigmoid(2u): no cancellation
        y = 0.5 * x * np.asarray(_erfc(-x / np.sqrt(2.0)), np.float64)  # 1 + erf(u) = erfc(-u): no cancellation
        return (_f32(np.where(np.isinf(x), np.nan, y)),)  # PyTorch's GELU gives NaN at +-inf

    @impl(nn.PreluOp)
    def run_prelu(self, interpreter: Interpreter, op: nn.PreluOp, args: tuple[Any, ...]):
        x, slope = (a.astype(np.float64) for a in args)
        shape = (1, -1) + (1,) * (x.ndim - 2) if x.ndim >= 2 else (-1,)
        return (_f32(np.where(x > 0, x, slope.reshape(shape) * x)),)

    @impl(nn.PadOp)
    def run_pad(self, interpreter: Interpreter, op: nn.PadOp, args: tuple[Any, ...]):
        low, high = op.widths()
        widths = list(zip(low, high, strict=True))
        mode = op.mode.data
        if mode == "constant":
            value = np.asarray(op.value.value.data).astype(args[0].dtype)
            return (np.pad(args[0], widths, mode="constant", constant_values=value),)
        return (np.pad(args[0], widths, mode="reflect" if mode == "reflect" else "edge"),)

    @impl(nn.UpsampleOp)
    def run_upsample(self, interpreter: Interpreter, op: nn.UpsampleOp, args: tuple[Any, ...]):
        x = args[0]
        (_, _, h, w), (_, _, oh, ow) = x.shape, op.output.type.get_shape()
        mode, corners = op.mode.data, bool(op.align_corners.value.data)
        sh, sw = op.scales()
        r0, r1, rl = nn.resize_taps(h, oh, sh, mode, corners)
        c0, c1, cl = nn.resize_taps(w, ow, sw, mode, corners)
        if mode == "nearest":
            return (x[:, :, r0][:, :, :, c0].copy(),)
        if x.dtype == np.int8:  # int8 bilinear: Q10 weights per axis, int32 sums, rounded half up
            rw, cw = nn.resize_weights_q10(rl), nn.resize_weights_q10(cl)
            q = x.astype(np.int64)

            def row_q(r: Array) -> Array:
                return cw[:, 0] * q[:, :, r][:, :, :, c0] + cw[:, 1] * q[:, :, r][:, :, :, c1]

            acc = rw[:, 0, None] * row_q(r0) + rw[:, 1, None] * row_q(r1)
            bits = 2 * nn.RESIZE_FRACTION_BITS
            return (((acc + (1 << (bits - 1))) >> bits).astype(np.int8),)
        one = np.float32(1.0)

        def row(r: Array) -> Array:
            return (one - cl) * x[:, :, r][:, :, :, c0] + cl * x[:, :, r][:, :, :, c1]

        rl4 = rl[:, None]
        return (_f32((one - rl4) * row(r0) + rl4 * row(r1)),)

    @impl(nn.BatchNormStatsOp)
    def run_batch_norm_stats(self, interpreter: Interpreter, op: nn.BatchNormStatsOp, args: tuple[Any, ...]):
        x, weight, bias = (a.astype(np.float64) for a in args)
        axes = tuple(i for i in range(x.ndim) if i != 1)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
        y = (x - mean) / np.sqrt(var + float(np.float32(op.eps.value.data)))
        return (_f32(y * weight.reshape(shape) + bias.reshape(shape)),)


def entry_function(module: ModuleOp) -> func.FuncOp:
    """The model function: the only public `func.func` with a body."""
    funcs = [op for op in module.ops if isinstance(op, func.FuncOp) and op.body.blocks]
    if len(funcs) != 1:
        names = ", ".join(f.sym_name.data for f in funcs) or "none"
        raise T2MError(
            f"expected one model function in the module, found {names}",
            "the input module",
            "keep one func.func per model file",
        )
    return funcs[0]


def run_module(module: ModuleOp, inputs: Sequence[Array]) -> list[Array]:
    """Run the model function of an `nn` module on numpy inputs (shapes are checked against its signature)."""
    function = entry_function(module)
    expected = [tuple(t.get_shape()) for t in function.function_type.inputs]  # type: ignore[attr-defined]
    if len(inputs) != len(expected):
        raise T2MError(
            f"model '{function.sym_name.data}' takes {len(expected)} inputs, got {len(inputs)}",
            "--input",
            "pass one .npy per input",
        )
    for i, (x, shape) in enumerate(zip(inputs, expected, strict=True)):
        if tuple(x.shape) != shape:
            raise T2MError(
                f"input {i} has shape {'x'.join(map(str, x.shape))}, the model expects {'x'.join(map(str, shape))}",
                "--input",
                "pass an array of the model's input shape",
            )
    from t2m.compiler.interpreter_int8 import QnnFunctions
    from t2m.compiler.interpreter_tensor import NnTensorFunctions, QnnTensorFunctions

    interpreter = Interpreter(module)
    interpreter.register_implementations(FuncFunctions())
    interpreter.register_implementations(NnFunctions())
    interpreter.register_implementations(NnTensorFunctions())
    interpreter.register_implementations(QnnTensorFunctions())
    interpreter.register_implementations(QnnFunctions())
    dtypes = [_NUMPY[str(t.get_element_type())] for t in function.function_type.inputs]  # type: ignore[attr-defined]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        results = interpreter.call_op(function, tuple(np.asarray(x, d) for x, d in zip(inputs, dtypes, strict=True)))
    return [np.asarray(r) for r in results]


_NUMPY = {"f32": np.float32, "i8": np.int8, "i32": np.int32}
"""The numpy type of each element type a model's inputs can have (fp32 models, int8 models)."""
