"""Reference semantics of the `nn` ops that move, reduce, multiply and normalise whole tensors (nn.slice,
nn.insert_slice, nn.transpose, nn.reduce, nn.matmul, nn.layer_norm, nn.embedding), in numpy, float64 accumulation.

Kept apart from interpreter.py's NnFunctions so each op family reads on its own; `run_module` registers both.
The movement ops (slice, insert_slice, transpose, embedding) are exact and element-type agnostic: int8 models
use them too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from xdsl.interpreter import Interpreter, InterpreterFunctions, impl, register_impls

from t2m.compiler.interpreter_int8 import _int32
from t2m.dialects import nn, qnn


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def slice_box(x: np.ndarray, start: tuple[int, ...], step: tuple[int, ...], sizes: tuple[int, ...]) -> np.ndarray:
    return x[tuple(slice(s, s + (n - 1) * k + 1, k) for s, k, n in zip(start, step, sizes, strict=True))].copy()


def insert_slice(dest: np.ndarray, source: np.ndarray, start: tuple[int, ...], step: tuple[int, ...]) -> np.ndarray:
    out = dest.copy()
    out[tuple(slice(s, s + (n - 1) * k + 1, k) for s, k, n in zip(start, step, source.shape, strict=True))] = source
    return out


def layer_norm(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, axis: int, eps: float) -> np.ndarray:
    v = x.astype(np.float64)
    axes = tuple(range(axis, x.ndim))
    mean = v.mean(axis=axes, keepdims=True)
    var = ((v - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (v - mean) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight.astype(np.float64)
    if bias is not None:
        y = y + bias.astype(np.float64)
    return _f32(y)


def embedding(weight: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Rows of the table; an index outside the table reads row 0, as the lowered code does."""
    idx = indices.astype(np.int64)
    idx = np.where((idx >= 0) & (idx < weight.shape[0]), idx, 0)
    return weight[idx]


@register_impls
class NnTensorFunctions(InterpreterFunctions):
    """One numpy function per whole-tensor `nn` op."""

    @impl(nn.SliceOp)
    def run_slice(self, interpreter: Interpreter, op: nn.SliceOp, args: tuple[Any, ...]):
        return (slice_box(args[0], *op.box()),)

    @impl(nn.InsertSliceOp)
    def run_insert_slice(self, interpreter: Interpreter, op: nn.InsertSliceOp, args: tuple[Any, ...]):
        start, step, _ = op.box()
        return (insert_slice(args[1], args[0], start, step),)

    @impl(nn.TransposeOp)
    def run_transpose(self, interpreter: Interpreter, op: nn.TransposeOp, args: tuple[Any, ...]):
        return (np.ascontiguousarray(np.transpose(args[0], op.perm())),)

    @impl(nn.ReduceOp)
    def run_reduce(self, interpreter: Interpreter, op: nn.ReduceOp, args: tuple[Any, ...]):
        fold = np.mean if op.kind.data == "mean" else np.sum
        return (_f32(fold(args[0].astype(np.float64), axis=op.reduced_axes(), keepdims=True)),)

    @impl(nn.MatmulOp)
    def run_matmul(self, interpreter: Interpreter, op: nn.MatmulOp, args: tuple[Any, ...]):
        return (_f32(np.matmul(args[0].astype(np.float64), args[1].astype(np.float64))),)

    @impl(nn.LayerNormOp)
    def run_layer_norm(self, interpreter: Interpreter, op: nn.LayerNormOp, args: tuple[Any, ...]):
        x, rest = args[0], list(args[1:])
        weight = rest.pop(0) if op.weight is not None else None
        bias = rest.pop(0) if op.bias is not None else None
        return (layer_norm(x, weight, bias, op.axis.value.data, float(np.float32(op.eps.value.data))),)

    @impl(nn.EmbeddingOp)
    def run_embedding(self, interpreter: Interpreter, op: nn.EmbeddingOp, args: tuple[Any, ...]):
        return (embedding(args[0], args[1]),)


@register_impls
class QnnTensorFunctions(InterpreterFunctions):
    """The int32 accumulators of qnn.matmul and qnn.reduce_sum (exact; checked to fit int32, as on the M4)."""

    @impl(qnn.MatmulOp)
    def run_matmul(self, interpreter: Interpreter, op: qnn.MatmulOp, args: tuple[Any, ...]):
        a = args[0].astype(np.int64) - op.lhs_zp.value.data
        b = args[1].astype(np.int64) - op.rhs_zp.value.data
        return (_int32(np.matmul(a, b), "qnn.matmul"),)

    @impl(qnn.ReduceSumOp)
    def run_reduce_sum(self, interpreter: Interpreter, op: qnn.ReduceSumOp, args: tuple[Any, ...]):
        shifted = args[0].astype(np.int64) - op.input_zp.value.data
        return (_int32(shifted.sum(axis=op.reduced_axes(), keepdims=True), "qnn.reduce_sum"),)
