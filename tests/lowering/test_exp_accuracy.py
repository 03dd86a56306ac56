"""The arith-only expf/sigmoid/tanh of the lowering against numpy float64, run with f32-exact arithmetic.

Requirement: relative error <= 1e-6 over a wide input range (results below FLT_MIN may flush to 0).
"""

from __future__ import annotations

import numpy as np
import pytest
from lowering_interp import check_lowering, nn_module, run_lowered
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Region

from t2m.dialects import nn
from t2m.passes._loops import Kernel, memref_of

FLT_MIN = float(np.finfo(np.float32).tiny)


def sample(lo: float, hi: float, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([np.linspace(lo, hi, n), rng.uniform(lo, hi, n)]).astype(np.float32)


def assert_relative(got: np.ndarray, x: np.ndarray, ref: np.ndarray, rtol: float = 1e-6) -> None:
    normal = np.abs(ref) >= FLT_MIN
    rel = np.abs(got[normal].astype(np.float64) - ref[normal]) / np.abs(ref[normal])
    worst = int(np.argmax(rel))
    print(f"max relative error {rel.max():.3g} at x={x[normal][worst]!r}")
    assert rel.max() <= rtol, f"relative error {rel.max():.3g} at x={x[normal][worst]!r}"
    assert np.all(np.abs(got[~normal]) <= FLT_MIN)


def test_exp() -> None:
    x = np.concatenate([sample(-87.3, 88.3, 400, 0), sample(-1, 1, 200, 1), [0.0, -0.0, 1e-30, -1e-30]])
    x = x.astype(np.float32)
    n = x.size
    k = Kernel([memref_of([n])] * 2, ["in", "out"])
    src, dst = k.args
    k.nest([(0, n, "i")], lambda ivs: k.store(k.exp(k.load(src, ivs)), dst, ivs))
    k.put(func.ReturnOp())
    module = ModuleOp([func.FuncOp("exp_run", ([memref_of([n])] * 2, []), Region(k.entry))])
    got = _run_void(module, x)
    assert_relative(got, x, np.exp(x.astype(np.float64)))


def test_exp_underflow_flushes_to_zero() -> None:
    x = np.array([-87.5, -100.0, -1e30, -np.inf], np.float32)
    n = x.size
    k = Kernel([memref_of([n])] * 2, ["in", "out"])
    src, dst = k.args
    k.nest([(0, n, "i")], lambda ivs: k.store(k.exp(k.load(src, ivs)), dst, ivs))
    k.put(func.ReturnOp())
    module = ModuleOp([func.FuncOp("exp_run", ([memref_of([n])] * 2, []), Region(k.entry))])
    assert np.all(_run_void(module, x) == 0.0)


def _run_void(module: ModuleOp, x: np.ndarray) -> np.ndarray:
    from lowering_interp import F32Functions
    from xdsl.interpreter import Interpreter
    from xdsl.interpreters.affine import AffineFunctions
    from xdsl.interpreters.arith import ArithFunctions
    from xdsl.interpreters.func import FuncFunctions
    from xdsl.interpreters.memref import MemRefFunctions
    from xdsl.interpreters.shaped_array import ShapedArray
    from xdsl.interpreters.utils.ptr import TypedPtr

    interpreter = Interpreter(module)
    for fns in (FuncFunctions(), ArithFunctions(), MemRefFunctions(), AffineFunctions()):
        interpreter.register_implementations(fns)
    interpreter.register_implementations(F32Functions(), override=True)
    src = ShapedArray(TypedPtr.new_float32([float(v) for v in x]), [x.size])
    dst = ShapedArray(TypedPtr.new_float32([np.nan] * x.size), [x.size])
    interpreter.call_op("exp_run", (src, dst))
    return np.array(dst.data, np.float32)


@pytest.mark.parametrize("kind", ["sigmoid", "tanh"])
def test_sigmoid_tanh_wide_range(kind: str) -> None:
    x = np.concatenate([sample(-30, 30, 300, 2), sample(-1, 1, 100, 3), sample(-1e-3, 1e-3, 40, 4),
                        [0.0, 0.6249, 0.625, 0.6251, -0.625, 1e-7, -1e-7, 90.0, -90.0, -110.0]])
    x = x.astype(np.float32).reshape(1, -1)
    op = nn.SigmoidOp if kind == "sigmoid" else nn.TanhOp
    module = nn_module("act", [x.shape], lambda xs, c: op(xs[0]).output)
    from lowering_interp import lower

    (got,) = run_lowered(lower(module), [x])
    x64 = x.astype(np.float64)
    ref = 1 / (1 + np.exp(-x64)) if kind == "sigmoid" else np.tanh(x64)
    assert_relative(got.ravel(), x.ravel(), ref.ravel())


def test_softmax_extreme_logits() -> None:
    x = np.array([[0.0, 1.0, -50.0, 80.0, 80.0, -200.0, 3.5]], np.float32)
    module = nn_module("sm", [x.shape], lambda xs, c: nn.SoftmaxOp(xs[0], 1).output)
    check_lowering(module, [x], rtol=1e-6, atol=1e-30)
