"""linear, pools, elementwise, softmax, shape ops at loop level (xDSL interpreter, f32) vs the nn reference."""

from __future__ import annotations

import numpy as np
import pytest
from lowering_interp import LOWER_TO_LOOPS, check_lowering, nn_module
from xdsl.dialects import func

from t2m.dialects import nn


def rand(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("block", [True, False], ids=["blocked", "dot"])
@pytest.mark.parametrize("rows,n_in,n_out,bias", [((1,), 10, 3, True), ((1,), 8, 5, False), ((2,), 3, 2, True),
                                                   ((2, 3), 13, 4, True), ((1,), 1, 1, True), ((1,), 6, 13, True),
                                                   ((2,), 5, 16, False), ((1,), 9, 12, True)])
def test_linear(rows: tuple[int, ...], n_in: int, n_out: int, bias: bool, block: bool) -> None:
    rng = np.random.default_rng(n_in * 10 + n_out)
    w, b = rand(rng, n_out, n_in), rand(rng, n_out)
    module = nn_module("net", [(*rows, n_in)],
                       lambda xs, c: nn.LinearOp(xs[0], c(w), c(b) if bias else None).output)
    passes = [p for p in LOWER_TO_LOOPS if block or p != "pack-weights"]
    check_lowering(module, [rand(rng, *rows, n_in)], passes=passes)


def fused(op, lo: float | None, hi: float | None):
    op.set_activation_bounds(lo, hi)
    return op.output


@pytest.mark.parametrize("lo,hi", [(0.0, None), (0.0, 6.0), (-0.5, 0.5), (None, 0.25)])
def test_fused_activations(lo: float | None, hi: float | None) -> None:
    """act_min / act_max that fuse-activation moves into conv2d, linear, add, mul and pools."""
    rng = np.random.default_rng(12)
    w, lw, lw2 = rand(rng, 4, 2, 3, 3), rand(rng, 3, 16), rand(rng, 9, 16)

    def body(xs, c):
        y = fused(nn.Conv2dOp(xs[0], c(w), None, (1, 1), (1, 1, 1, 1), (1, 1), 1), lo, hi)
        y = fused(nn.MaxPool2dOp(y, (2, 2), (2, 2), (0, 0, 0, 0)), lo, hi)
        y = fused(nn.AddOp(y, c(rand(rng, 1, 4, 1, 1))), lo, hi)
        y = fused(nn.MulOp(y, c(rand(rng, 2, 2))), lo, hi)
        y = fused(nn.AvgPool2dOp(y, (1, 1), (1, 1), (0, 0, 0, 0)), lo, hi)
        flat = nn.FlattenOp(y, 1, 3).output
        return [fused(nn.LinearOp(flat, c(lw), None), lo, hi), fused(nn.LinearOp(flat, c(lw2), None), lo, hi)]

    check_lowering(nn_module("net", [(1, 2, 4, 4)], body), [rand(rng, 1, 2, 4, 4) * 2])


POOLS = [  # kernel, stride, padding, dilation, input hw
    ((2, 2), (2, 2), (0, 0, 0, 0), (1, 1), (4, 6)),
    ((3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (5, 5)),
    ((3, 2), (1, 2), (1, 0, 2, 1), (1, 1), (4, 5)),
    ((2, 3), (1, 1), (1, 1, 1, 1), (2, 1), (5, 4)),
    ((4, 4), (4, 4), (0, 0, 0, 0), (1, 1), (4, 4)),
]


@pytest.mark.parametrize("kernel,stride,padding,dilation,hw", POOLS)
def test_max_pool(kernel, stride, padding, dilation, hw) -> None:
    rng = np.random.default_rng(1)
    module = nn_module("net", [(1, 2, *hw)],
                       lambda xs, c: nn.MaxPool2dOp(xs[0], kernel, stride, padding, dilation).output)
    check_lowering(module, [rand(rng, 1, 2, *hw)])


@pytest.mark.parametrize("kernel,stride,padding,dilation,hw", [p for p in POOLS if p[3] == (1, 1)])
@pytest.mark.parametrize("include_pad", [True, False])
def test_avg_pool(kernel, stride, padding, dilation, hw, include_pad: bool) -> None:
    rng = np.random.default_rng(2)
    module = nn_module("net", [(1, 2, *hw)],
                       lambda xs, c: nn.AvgPool2dOp(xs[0], kernel, stride, padding, include_pad).output)
    check_lowering(module, [rand(rng, 1, 2, *hw)])


@pytest.mark.parametrize("hw,size", [((4, 6), (1, 1)), ((4, 6), (2, 3)), ((5, 7), (3, 2)), ((3, 2), (4, 3))])
def test_adaptive_avg_pool(hw, size) -> None:
    rng = np.random.default_rng(3)
    module = nn_module("net", [(1, 2, *hw)], lambda xs, c: nn.AdaptiveAvgPool2dOp(xs[0], size).output)
    check_lowering(module, [rand(rng, 1, 2, *hw)])


@pytest.mark.parametrize("kind", ["relu", "relu6", "hardtanh", "sigmoid", "tanh"])
def test_unary(kind: str) -> None:
    rng = np.random.default_rng(4)
    make = {
        "relu": nn.ReluOp,
        "relu6": lambda x: nn.ClampOp(x, 0.0, 6.0),
        "hardtanh": lambda x: nn.ClampOp(x, -1.0, 1.0),
        "sigmoid": nn.SigmoidOp,
        "tanh": nn.TanhOp,
    }[kind]
    module = nn_module("net", [(1, 3, 2, 4)], lambda xs, c: make(xs[0]).output)
    check_lowering(module, [rand(rng, 1, 3, 2, 4) * 4], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("lhs,rhs", [((1, 3, 2, 2), (1, 3, 2, 2)), ((1, 3, 2, 2), (1, 3, 1, 1)),
                                     ((2, 3), (3,)), ((3, 1), (1, 4)), ((1, 2, 3), ()), ((2, 1, 3), (2, 2, 1))])
@pytest.mark.parametrize("op", [nn.AddOp, nn.MulOp])
def test_binary(lhs, rhs, op) -> None:
    rng = np.random.default_rng(5)
    module = nn_module("net", [lhs], lambda xs, c: op(xs[0], c(rand(rng, *rhs))).output)
    check_lowering(module, [rand(rng, *lhs)], rtol=1e-6, atol=1e-7)


def test_add_two_activations_and_same_operand() -> None:
    rng = np.random.default_rng(6)
    module = nn_module("net", [(1, 2, 3), (1, 1, 3)],
                       lambda xs, c: nn.MulOp(nn.AddOp(xs[0], xs[1]).output, xs[0]).output)
    check_lowering(module, [rand(rng, 1, 2, 3), rand(rng, 1, 1, 3)], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", [(1, 3, 2, 2), (2, 3)])
def test_batch_norm(shape) -> None:
    rng = np.random.default_rng(7)
    ch = shape[1]
    mean, var = rand(rng, ch), rng.uniform(0.5, 2, ch).astype(np.float32)
    w, b = rand(rng, ch), rand(rng, ch)
    module = nn_module("net", [shape],
                       lambda xs, c: nn.BatchNormOp(xs[0], c(mean), c(var), c(w), c(b), 1e-3).output)
    check_lowering(module, [rand(rng, *shape)])


@pytest.mark.parametrize("shape,axis", [((2, 5), 1), ((1, 4, 2, 3), 1), ((3, 2), 0), ((2, 3, 4), 2)])
def test_softmax(shape, axis) -> None:
    rng = np.random.default_rng(8)
    module = nn_module("net", [shape], lambda xs, c: nn.SoftmaxOp(xs[0], axis).output)
    check_lowering(module, [rand(rng, *shape) * 5], rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("axis", [0, 1, 2, 3])
def test_concat(axis: int) -> None:
    rng = np.random.default_rng(9)
    a, b = [1, 2, 2, 3], [1, 2, 2, 3]
    b[axis] = 2 if axis else 1
    module = nn_module("net", [tuple(a)], lambda xs, c: nn.ConcatOp([xs[0], c(rand(rng, *b)), xs[0]], axis).output)
    check_lowering(module, [rand(rng, *a)], rtol=0, atol=0)


def test_flatten_reshape_views_feed_linear() -> None:
    rng = np.random.default_rng(10)
    w = rand(rng, 3, 12)

    def body(xs, c):
        y = nn.ReluOp(xs[0]).output
        flat = nn.FlattenOp(y, 1, 3).output
        lin = nn.LinearOp(flat, c(w), None).output
        return nn.ReshapeOp(lin, (3, 1)).output

    lowered = check_lowering(nn_module("net", [(1, 3, 2, 2)], body), [rand(rng, 1, 3, 2, 2)])
    names = [f.sym_name.data for f in lowered.ops if isinstance(f, func.FuncOp)]
    assert not any("flatten" in n or "reshape" in n for n in names)  # views: no layer function


def test_output_is_input_or_constant_is_copied() -> None:
    rng = np.random.default_rng(11)
    k = rand(rng, 2, 2)
    module = nn_module("net", [(2, 2)], lambda xs, c: [xs[0], c(k), nn.ReluOp(xs[0]).output])
    check_lowering(module, [rand(rng, 2, 2)], rtol=0, atol=0)
