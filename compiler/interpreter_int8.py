"""Reference semantics of the `qnn` dialect in integer arithmetic (numpy int32/int64): the exact answer.

Every later level of an int8 model (loop IR, host JIT, the Cortex-M4 object) must give these bits exactly. The
rounding and requantization steps are the numpy functions of `t2m.dialects.qnn` (CMSIS-NN's, docs/int8.md);
this file applies them op by op. Accumulators are int64 here and checked to fit int32, as on the M4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.interpreter import Interpreter, InterpreterFunctions, impl, register_impls

from t2m.compiler.interpreter import _ints, _pad_nchw, _windows, adaptive_windows
from t2m.dialects import qnn

Array = np.ndarray


def _int32(acc: Array, op: str) -> Array:
    """The int32 accumulator of `acc` (int64): an overflow would wrap on the M4, so it is an error here."""
    if acc.size and (acc.min() < np.iinfo(np.int32).min or acc.max() > np.iinfo(np.int32).max):
        raise ValueError(f"'{op}' accumulator overflows int32")
    return acc.astype(np.int32)


def _exact(sums: Array) -> Array:
    """Integer sums computed in float64 (BLAS): exact, since every partial sum of int8 x int8 products of a layer
    stays far below 2^53; back to int64 without rounding error."""
    return np.rint(sums).astype(np.int64)


def conv2d_acc(
    x: Array,
    w: Array,
    bias: Array | None,
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    groups: int,
    input_zp: int,
) -> Array:
    """int32 sum of (x - input_zp) * w over each window (+ bias); padded taps are input_zp, so they add 0."""
    n, c, _, _ = x.shape
    oc, icg, kh, kw = w.shape
    shifted = _pad_nchw(x.astype(np.int64), padding, input_zp) - input_zp
    win = _windows(shifted, (kh, kw), stride, dilation)
    oh, ow = win.shape[2:4]
    win = win.reshape(n, groups, c // groups, oh, ow, kh, kw).astype(np.float64)
    wg = w.astype(np.float64).reshape(groups, oc // groups, icg, kh, kw)
    acc = _exact(np.einsum("ngchwij,gocij->ngohw", win, wg, optimize=True)).reshape(n, oc, oh, ow)
    if bias is not None:
        acc = acc + bias.astype(np.int64)[None, :, None, None]
    return _int32(acc, "qnn.conv2d")


def linear_acc(x: Array, w: Array, bias: Array | None, input_zp: int) -> Array:
    acc = _exact((x.astype(np.float64) - input_zp) @ w.astype(np.float64).T)
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    return _int32(acc, "qnn.linear")


def _requantized(op: qnn.Accumulate, acc: Array) -> Array:
    """An accumulating op's result: the int32 accumulator, or with `requant` the clamped int8 values."""
    if op.requant is None:
        return acc
    return op.clamp(op.requant.apply(acc, op.CHANNEL_AXIS % acc.ndim))


def add_s8(op: qnn.AddOp, a: Array, b: Array) -> Array:
    """TFLite / CMSIS-NN int8 add: both operands at a common scale with 20 fraction bits, then requantized."""

    def side(q: Array, zp: int, scale: qnn.RequantAttr) -> Array:
        shifted = (q.astype(np.int32) - np.int32(zp)) << np.int32(qnn.ADD_LEFT_SHIFT)
        return qnn.requantize(shifted, scale.multipliers[0], scale.shifts[0])

    total = side(a, op.lhs_zp.value.data, op.lhs_scale) + side(b, op.rhs_zp.value.data, op.rhs_scale)
    return op.clamp(op.output_scale.apply(total.astype(np.int32), 0))


def mul_s8(op: qnn.MulOp, a: Array, b: Array) -> Array:
    product = (a.astype(np.int32) - op.lhs_zp.value.data) * (b.astype(np.int32) - op.rhs_zp.value.data)
    return op.clamp(op.output_scale.apply(product.astype(np.int32), 0))


def avg_pool_s8(x: Array, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int],
                count_include_pad: bool, input_zp: int) -> Array:
    """Sum of each window's taps over their count, rounded half away from zero (`arm_avgpool_s8`)."""
    sums = _windows(_pad_nchw(x.astype(np.int64), padding, input_zp), kernel, stride, (1, 1)).sum(axis=(4, 5))
    if count_include_pad:
        return qnn.rounding_divide(sums, kernel[0] * kernel[1])
    inside = _windows(_pad_nchw(np.ones((1, 1, *x.shape[2:]), np.int64), padding, 0), kernel, stride, (1, 1))
    counts = inside.sum(axis=(4, 5))
    real = _windows(_pad_nchw(x.astype(np.int64), padding, 0), kernel, stride, (1, 1)).sum(axis=(4, 5))
    return qnn.rounding_divide(real, counts)


@register_impls
class QnnFunctions(InterpreterFunctions):
    """One integer numpy function per `qnn` op."""

    @impl(qnn.Conv2dOp)
    def run_conv2d(self, interpreter: Interpreter, op: qnn.Conv2dOp, args: tuple[Any, ...]):
        x, w, *b = args
        stride, padding, dilation = op.geometry()
        acc = conv2d_acc(x, w, b[0] if b else None, stride, padding, dilation, op.groups.value.data,
                         op.input_zp.value.data)
        return (_requantized(op, acc),)

    @impl(qnn.LinearOp)
    def run_linear(self, interpreter: Interpreter, op: qnn.LinearOp, args: tuple[Any, ...]):
        x, w, *b = args
        return (_requantized(op, linear_acc(x, w, b[0] if b else None, op.input_zp.value.data)),)

    @impl(qnn.RescaleOp)
    def run_rescale(self, interpreter: Interpreter, op: qnn.RescaleOp, args: tuple[Any, ...]):
        shifted = args[0].astype(np.int32) - np.int32(op.input_zp.value.data)
        return (qnn.saturate_i8(op.requant.apply(shifted, op.axis.value.data)),)

    @impl(qnn.ClampOp)
    def run_clamp(self, interpreter: Interpreter, op: qnn.ClampOp, args: tuple[Any, ...]):
        return (qnn.saturate_i8(args[0], op.min.value.data, op.max.value.data),)

    @impl(qnn.AddOp)
    def run_add(self, interpreter: Interpreter, op: qnn.AddOp, args: tuple[Any, ...]):
        return (add_s8(op, *args),)

    @impl(qnn.MulOp)
    def run_mul(self, interpreter: Interpreter, op: qnn.MulOp, args: tuple[Any, ...]):
        return (mul_s8(op, *args),)

    @impl(qnn.MaxPool2dOp)
    def run_max_pool2d(self, interpreter: Interpreter, op: qnn.MaxPool2dOp, args: tuple[Any, ...]):
        kernel, stride, padding = op.window()
        win = _windows(_pad_nchw(args[0].astype(np.int32), padding, qnn.I8_MIN - 1), kernel, stride, (1, 1))
        return (op.clamp(win.max(axis=(4, 5))),)

    @impl(qnn.AvgPool2dOp)
    def run_avg_pool2d(self, interpreter: Interpreter, op: qnn.AvgPool2dOp, args: tuple[Any, ...]):
        kernel, stride, padding = op.window()
        divisor = op.divisor()
        if divisor is not None:  # issue 12: PyTorch's divisor_override
            zp = op.input_zp.value.data
            sums = _windows(_pad_nchw(args[0].astype(np.int64) - zp, padding, 0), kernel, stride, (1, 1))
            return (op.clamp(qnn.rounding_divide(sums.sum(axis=(4, 5)), divisor) + zp),)
        averages = avg_pool_s8(args[0], kernel, stride, padding, bool(op.count_include_pad.value.data),
                               op.input_zp.value.data)
        return (op.clamp(averages),)

    @impl(qnn.AdaptiveAvgPool2dOp)
    def run_adaptive_avg_pool2d(self, interpreter: Interpreter, op: qnn.AdaptiveAvgPool2dOp, args: tuple[Any, ...]):
        x = args[0].astype(np.int64)
        size = _ints(op.output_size)
        out = np.empty((*x.shape[:2], *size), np.int32)
        for i, j, (h0, h1), (w0, w1) in adaptive_windows(x.shape[2:], size):
            window = x[:, :, h0:h1, w0:w1]
            out[:, :, i, j] = qnn.rounding_divide(window.sum(axis=(2, 3)), (h1 - h0) * (w1 - w0))
        return (op.clamp(out),)

    @impl(qnn.SoftmaxOp)
    def run_softmax(self, interpreter: Interpreter, op: qnn.SoftmaxOp, args: tuple[Any, ...]):
        return (
            qnn.softmax_s8(
                args[0], op.axis.value.data, op.multiplier.value.data, op.shift.value.data, op.diff_min.value.data
            ),
        )

    @impl(qnn.LutOp)
    def run_lut(self, interpreter: Interpreter, op: qnn.LutOp, args: tuple[Any, ...]):
        return (qnn.lut_s8(args[0], args[1]),)

    @impl(qnn.LayerNormOp)
    def run_layer_norm(self, interpreter: Interpreter, op: qnn.LayerNormOp, args: tuple[Any, ...]):
        x, gamma, beta = args
        return (qnn.layer_norm_s8(x, gamma, beta, op.input_zp.value.data, op.eps.value.data, op.requant),)
