"""NaN, +inf and -inf through every nn op at every level, against PyTorch.

One small nn module per op, with NaN and infinities at chosen positions (a NaN as the first and as the last tap of
a pooling window, a window of only -inf, inf * 0 in a convolution, NaN / +inf / -inf rows of a softmax...). Each
runs on the nn interpreter (as written and fused), on the loop-level IR in xDSL's interpreter, compiled by the
host JIT and as a Cortex-M4 object on the emulator. Every level must give NaN exactly where PyTorch does, the same
infinities, and finite values within 1e-5 (relative to the output's scale). Then the checks themselves:
`compiler/compare.py` and `t2m-run --check`, which must fail (exit 1) on a NaN/inf mismatch and agree when both
sides have NaN in the same places.
"""

from __future__ import annotations

import math
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.interpreter import Interpreter
from xdsl.interpreters.affine import AffineFunctions
from xdsl.interpreters.arith import ArithFunctions
from xdsl.interpreters.func import FuncFunctions
from xdsl.interpreters.memref import MemRefFunctions
from xdsl.interpreters.shaped_array import ShapedArray
from xdsl.interpreters.utils.ptr import TypedPtr
from xdsl.ir import Region, SSAValue

from t2m.compiler.backend import HostJIT
from t2m.compiler.compare import compare, relative_error
from t2m.compiler.compile import CompileOptions, CompileResult, compile_module
from t2m.compiler.emulate import run_object
from t2m.compiler.interpreter import run_module
from t2m.compiler.ir import module_to_text
from t2m.compiler.pipeline import FUSE, apply_passes
from t2m.dialects import nn
from t2m.passes._loops import Kernel, memref_of

sys.path.insert(0, str(Path(__file__).parent / "lowering"))  # the loop-level interpreter of tests/lowering
from lowering_interp import F32Functions, lower, nn_module, run_lowered  # noqa: E402

NAN, INF = math.nan, math.inf
RTOL = 1e-5

Const = Callable[[np.ndarray], SSAValue]
T = torch.from_numpy


def special(shape: Sequence[int], seed: int, values: dict[int, float]) -> np.ndarray:
    """Random normal values with `values` placed at their flat indices."""
    x = np.random.default_rng(seed).standard_normal(tuple(shape)).astype(np.float32).reshape(-1)
    for index, value in values.items():
        x[index] = value
    return x.reshape(tuple(shape))


def weights(shape: Sequence[int], seed: int) -> np.ndarray:
    """Weights in [-1, 1] with a zero, so that inf * 0 = NaN meets a weight."""
    w = np.random.default_rng(seed).uniform(-1, 1, tuple(shape)).astype(np.float32)
    w.reshape(-1)[1] = 0.0
    return w


@dataclass
class Case:
    """One op: the nn module's body, PyTorch's computation, the inputs."""

    name: str
    inputs: list[np.ndarray]
    build: Callable[[list[SSAValue], Const], SSAValue]
    reference: Callable[..., torch.Tensor]
    expect_inf: bool = False
    consts: dict[str, np.ndarray] = field(default_factory=dict[str, np.ndarray])

    def module(self) -> ModuleOp:
        return nn_module(self.name, [x.shape for x in self.inputs], self.build)

    def torch_output(self) -> np.ndarray:
        with torch.no_grad():
            return self.reference(*(torch.from_numpy(x) for x in self.inputs)).numpy()


X = special((1, 2, 3, 4), 0, {0: NAN, 5: INF, 6: -INF, 13: NAN, 17: INF, 22: -INF})
Y = special((1, 2, 3, 4), 1, {1: NAN, 5: -INF, 6: -INF, 9: INF, 17: INF})  # inf + -inf, -inf * -inf
CW, CB = weights((3, 2, 3, 3), 2), np.array([0.1, -0.2, 0.3], np.float32)
DW = weights((2, 1, 3, 3), 3)
LW9, LW3 = weights((9, 6), 4), weights((3, 6), 5)
LB9 = np.random.default_rng(6).uniform(-1, 1, 9).astype(np.float32)
MEAN, VAR = np.array([0.5, -0.5], np.float32), np.array([2.0, 0.5], np.float32)
GAMMA, BETA = np.array([1.5, -0.75], np.float32), np.array([0.25, 1.0], np.float32)
SCALE = np.array([2.0, 0.0], np.float32).reshape(1, 2, 1, 1)
# 2x2 windows of a 4x6 plane: NaN as the first tap, NaN as the last tap, only -inf; +inf, -inf, none among numbers
POOL = special((1, 1, 4, 6), 7, {0: NAN, 9: NAN, 4: -INF, 5: -INF, 10: -INF, 11: -INF, 19: INF, 14: -INF})
# 3x3 receptive fields of a 5x6 plane: NaN, +inf and -inf each reach some outputs, not all
XC = special((1, 2, 5, 6), 11, {7: NAN, 22: INF, 40: -INF})
POOL5 = special((1, 2, 5, 5), 8, {0: NAN, 12: NAN, 19: -INF, 24: INF, 31: INF, 44: -INF, 45: -INF, 49: -INF})
# softmax rows: NaN, +inf, -inf among numbers, only -inf, two +inf, numbers only
ROWS = special((6, 5), 9, {2: NAN, 6: INF, 10: -INF, 13: -INF, 15: -INF, 16: -INF, 17: -INF, 18: -INF, 19: -INF,
                           20: INF, 23: INF})  # fmt: skip
SOFT4 = special((1, 3, 2, 2), 10, {0: NAN, 5: INF, 2: -INF, 6: -INF})  # axis 1, rows strided by 4
# rows of a linear's input: NaN; +inf meeting a zero weight; +inf and -inf; numbers only
LX = special((4, 6), 12, {0: NAN, 7: INF, 14: INF, 16: -INF})


def _conv(x: SSAValue, const: Const, w: np.ndarray, b: np.ndarray | None, groups: int) -> SSAValue:
    return nn.Conv2dOp(x, const(w), None if b is None else const(b), (1, 1), (1, 1, 1, 1), (1, 1), groups).output


CASES = [
    Case("relu", [X], lambda a, c: nn.ReluOp(a[0]).output, F.relu, True),
    Case("relu6", [X], lambda a, c: nn.ClampOp(a[0], 0.0, 6.0).output, F.relu6),
    Case("hardtanh", [X], lambda a, c: nn.ClampOp(a[0], -1.0, 1.0).output, F.hardtanh),
    Case("clamp_min", [X], lambda a, c: nn.ClampOp(a[0], 0.5, INF).output, lambda x: x.clamp(min=0.5), True),
    Case("sigmoid", [X], lambda a, c: nn.SigmoidOp(a[0]).output, torch.sigmoid),
    Case("tanh", [X], lambda a, c: nn.TanhOp(a[0]).output, torch.tanh),
    Case("add_relu6", [X, Y], lambda a, c: nn.ClampOp(nn.AddOp(a[0], a[1]), 0.0, 6.0).output,
         lambda x, y: F.relu6(x + y)),
    Case("add", [X, Y], lambda a, c: nn.AddOp(a[0], a[1]).output, torch.add, True),
    Case("mul_relu", [X], lambda a, c: nn.ReluOp(nn.MulOp(a[0], c(SCALE))).output,
         lambda x: F.relu(x * torch.from_numpy(SCALE)), True),
    Case("conv_relu6", [XC], lambda a, c: nn.ClampOp(_conv(a[0], c, CW, CB, 1), 0.0, 6.0).output,
         lambda x: F.relu6(F.conv2d(x, torch.from_numpy(CW), torch.from_numpy(CB), padding=1))),
    Case("conv", [XC], lambda a, c: _conv(a[0], c, CW, None, 1),
         lambda x: F.conv2d(x, torch.from_numpy(CW), padding=1), True),
    Case("depthwise_relu", [XC], lambda a, c: nn.ReluOp(_conv(a[0], c, DW, None, 2)).output,
         lambda x: F.relu(F.conv2d(x, torch.from_numpy(DW), padding=1, groups=2)), True),
    Case("linear_blocked_relu", [LX],
         lambda a, c: nn.ReluOp(nn.LinearOp(a[0], c(LW9), c(LB9))).output,
         lambda x: F.relu(F.linear(x, torch.from_numpy(LW9), torch.from_numpy(LB9))), True),
    Case("linear_dot", [LX], lambda a, c: nn.LinearOp(a[0], c(LW3), None).output,
         lambda x: F.linear(x, torch.from_numpy(LW3)), True),
    Case("batch_norm", [X], lambda a, c: nn.BatchNormOp(a[0], c(MEAN), c(VAR), c(GAMMA), c(BETA), 1e-3).output,
         lambda x: F.batch_norm(x, T(MEAN), T(VAR), T(GAMMA), T(BETA), eps=1e-3), True),
    Case("max_pool", [POOL], lambda a, c: nn.MaxPool2dOp(a[0], (2, 2), (2, 2), (0, 0, 0, 0)).output,
         lambda x: F.max_pool2d(x, 2), True),
    Case("max_pool_pad_relu", [POOL5],
         lambda a, c: nn.ReluOp(nn.MaxPool2dOp(a[0], (3, 3), (2, 2), (1, 1, 1, 1))).output,
         lambda x: F.relu(F.max_pool2d(x, 3, 2, 1)), True),
    Case("max_pool_dilated", [POOL5], lambda a, c: nn.MaxPool2dOp(a[0], (2, 2), (1, 1), (1, 1, 1, 1), (2, 2)).output,
         lambda x: F.max_pool2d(x, 2, 1, 1, dilation=2), True),
    Case("avg_pool", [POOL5],
         lambda a, c: nn.AvgPool2dOp(a[0], (3, 3), (2, 2), (1, 1, 1, 1), count_include_pad=False).output,
         lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), True),
    Case("adaptive_avg_pool", [POOL5], lambda a, c: nn.AdaptiveAvgPool2dOp(a[0], (2, 3)).output,
         lambda x: F.adaptive_avg_pool2d(x, (2, 3)), True),
    Case("softmax", [ROWS], lambda a, c: nn.SoftmaxOp(a[0], 1).output, lambda x: F.softmax(x, 1)),
    Case("softmax_inner", [SOFT4], lambda a, c: nn.SoftmaxOp(a[0], 1).output, lambda x: F.softmax(x, 1)),
    Case("log_softmax", [ROWS], lambda a, c: nn.LogSoftmaxOp(a[0], 1).output, lambda x: F.log_softmax(x, 1), True),
    Case("log_softmax_inner", [SOFT4], lambda a, c: nn.LogSoftmaxOp(a[0], 1).output,
         lambda x: F.log_softmax(x, 1), True),
    Case("concat_reshape", [X, Y], lambda a, c: nn.ReshapeOp(nn.ConcatOp([a[0], a[1]], 1), (4, 12)).output,
         lambda x, y: torch.cat([x, y], 1).reshape(4, 12), True),
]  # fmt: skip
BY_NAME = {case.name: case for case in CASES}


def assert_agrees(got: np.ndarray, want: np.ndarray, level: str) -> None:
    """NaN exactly where `want` has NaN, the same infinities, finite values within RTOL of the output's scale."""
    got, want = np.asarray(got, np.float32).reshape(want.shape), np.asarray(want, np.float32)
    nan_differs = np.argwhere(np.isnan(got) != np.isnan(want))
    assert not nan_differs.size, f"{level}: NaN differs at {nan_differs[0].tolist()}: {got.ravel()} vs {want.ravel()}"
    inf = np.isinf(want) | np.isinf(got)
    assert np.array_equal(got[inf], want[inf]), f"{level}: infinities differ: {got[inf]} vs {want[inf]}"
    finite = np.isfinite(want)
    scale = max(float(np.max(np.abs(want[finite]), initial=0.0)), 1e-30)
    worst = float(np.max(np.abs(got[finite].astype(np.float64) - want[finite]), initial=0.0)) / scale
    assert worst <= RTOL, f"{level}: relative error {worst:.3g}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_pytorch_reference_is_not_trivial(case: Case) -> None:
    """Each case's PyTorch output has NaN and numbers (and infinities where expected): the tests can fail."""
    want = case.torch_output()
    assert np.isnan(want).any() and np.isfinite(want).any()
    assert np.isinf(want).any() == case.expect_inf


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_interpreter(case: Case) -> None:
    module = case.module()
    want = case.torch_output()
    assert_agrees(run_module(module, case.inputs)[0], want, "nn interpreter")
    assert_agrees(run_module(apply_passes(module, FUSE), case.inputs)[0], want, "nn interpreter, fused")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_loop_level_ir(case: Case) -> None:
    """The fused module lowered to loops, in xDSL's interpreter with f32 arithmetic; outputs start at a finite
    sentinel so that an unwritten element cannot pass for a NaN."""
    lowered = lower(apply_passes(case.module(), FUSE))
    assert_agrees(run_lowered(lowered, case.inputs, fill=1234.5)[0], case.torch_output(), "loop-level IR")


@cache
def compiled(name: str) -> CompileResult:
    return compile_module(BY_NAME[name].module(), name, CompileOptions())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_host_jit_and_cortex_m4(case: Case) -> None:
    result = compiled(case.name)
    want = case.torch_output()
    got = np.full(result.info.outputs[0], 1234.5, np.float32)
    assert HostJIT(result.ll).run(result.info.entry, case.inputs, [got]) == 0
    assert_agrees(got, want, "host JIT")
    assert_agrees(run_object(result.obj, case.inputs).outputs[0], want, "Cortex-M4 emulator")


@pytest.mark.parametrize("name", ["relu6", "add_relu6", "max_pool_pad_relu", "log_softmax", "sigmoid"])
def test_no_fast_math_or_libm_in_the_llvm_ir(name: str) -> None:
    """Fast-math flags would license LLVM to drop NaN; maxnum/minnum become fmaxf/fminf libcalls on the M4."""
    ll = compiled(name).ll
    assert re.search(r"^\s*%\S+ = (fadd|fmul|fcmp|select)", ll, re.M)  # the IR has float code to look at
    assert not re.search(r"\b(fast|nnan|ninf|nsz|arcp|contract|afn|reassoc)\b", ll)
    assert not re.search(r"llvm\.(maxnum|minnum|maximum|minimum|exp|log)\.", ll)


# --- exp and log, the arith expansions behind sigmoid, tanh, softmax ---------------------------------------------


def _run_scalar_kernel(f: Callable[[Kernel, SSAValue], SSAValue], x: np.ndarray) -> np.ndarray:
    """out[i] = f(in[i]) as a loop-level function, in xDSL's interpreter with f32-exact arithmetic."""
    n = x.size
    k = Kernel([memref_of([n])] * 2, ["in", "out"])
    src, dst = k.args
    k.nest([(0, n, "i")], lambda ivs: k.store(f(k, k.load(src, ivs)), dst, ivs))
    k.put(func.ReturnOp())
    module = ModuleOp([func.FuncOp("scalar", ([memref_of([n])] * 2, []), Region(k.entry))])
    interpreter = Interpreter(module)
    for functions in (FuncFunctions(), ArithFunctions(), MemRefFunctions(), AffineFunctions()):
        interpreter.register_implementations(functions)
    interpreter.register_implementations(F32Functions(), override=True)
    out = ShapedArray(TypedPtr.new_float32([1234.5] * n), [n])
    interpreter.call_op("scalar", (ShapedArray(TypedPtr.new_float32([float(v) for v in x]), [n]), out))
    return np.array(out.data, np.float32)


def test_exp_at_the_edges() -> None:
    """exp on the whole float line: 0 below ln(FLT_MIN), finite up to ln(FLT_MAX), then +inf; NaN stays NaN."""
    x = np.array([-INF, -100.0, 0.0, 1.0, 88.5, 88.72, 88.73, 89.0, 1e30, INF, NAN], np.float32)
    got = _run_scalar_kernel(lambda k, v: k.exp(v), x)
    with np.errstate(over="ignore"):
        want = np.exp(x.astype(np.float64)).astype(np.float32)
    assert_agrees(got, want, "exp")
    assert np.isfinite(got[5]) and got[6] == INF  # ln(FLT_MAX) = 88.7228


def test_exp_nonpositive_and_log_at_the_edges() -> None:
    x = np.array([-INF, -1e30, -50.0, -0.0, NAN], np.float32)
    assert_agrees(_run_scalar_kernel(lambda k, v: k.exp(v, nonpositive=True), x), np.exp(x), "exp(x <= 0)")
    y = np.array([1.0, 2.5, 1e30, INF, NAN], np.float32)
    assert_agrees(_run_scalar_kernel(lambda k, v: k.log(v), y), np.log(y), "log")


FPTOSI = """
func.func @cvt_run(%x: memref<7xf32>, %y: memref<7xi32>) -> i32 {
  affine.for %i = 0 to 7 {
    %v = memref.load %x[%i] : memref<7xf32>
    %n = arith.fptosi %v : f32 to i32
    memref.store %n, %y[%i] : memref<7xi32>
  }
  %ok = arith.constant 0 : i32
  func.return %ok : i32
}
"""


def test_fptosi_of_nan_and_inf_is_defined_and_the_same_on_host_and_m4() -> None:
    """arith.fptosi lowers to llvm.fptosi.sat: NaN gives 0, the rest saturates (the M4's VCVT), where a plain
    fptosi would be poison (x86's cvttss2si gives INT_MIN for all of them)."""
    from t2m.compiler.backend import compile_object
    from t2m.compiler.backend.emit_llvm import to_llvm_ir
    from t2m.compiler.emulator import run_function
    from t2m.compiler.ir import parse_module
    from t2m.compiler.pipeline import LOWER_TO_LLVM

    ll = to_llvm_ir(apply_passes(parse_module(FPTOSI), LOWER_TO_LLVM))
    assert 'call i32 @"llvm.fptosi.sat.i32.f32"' in ll and "fptosi float" not in ll
    x = np.array([NAN, INF, -INF, 3e9, -3e9, -2.75, 7.5], np.float32)
    want = np.array([0, 2**31 - 1, -(2**31), 2**31 - 1, -(2**31), -2, 7], np.int32)
    host = np.full(7, 99, np.int32)
    assert HostJIT(ll).run("cvt_run", [x], [host]) == 0
    np.testing.assert_array_equal(host, want)
    m4 = run_function(compile_object(ll), "cvt_run", [x, np.full(7, 99, np.int32)])
    np.testing.assert_array_equal(np.asarray(m4.outputs[1]).view(np.int32), want)


# --- the checks: compiler/compare.py and t2m-run ------------------------------------------------------------------


def test_compare_agrees_on_nan_in_the_same_places_and_equal_infinities() -> None:
    ref = np.array([[1.0, NAN, INF], [-INF, 2.0, NAN]], np.float32)
    result = compare(ref * np.float32(1 + 1e-7), ref)
    assert (result.nan, result.inf, result.finite, result.mismatches) == (2, 2, 2, 0)
    assert result.mismatch() is None and result.agrees(1e-5) and 0 < result.error <= 1e-6
    assert relative_error(np.full(3, NAN), np.full(3, NAN)) == 0.0


@pytest.mark.parametrize(
    "got,text",
    [
        ([[1.0, 5.0, INF], [-INF, 2.0, NAN]], "5 at [0, 1] where the reference has nan (1 of 6"),
        ([[NAN, NAN, INF], [-INF, NAN, NAN]], "nan at [0, 0] where the reference has 1 (2 of 6"),
        ([[1.0, NAN, -INF], [INF, 2.0, NAN]], "-inf at [0, 2] where the reference has inf (2 of 6"),
        ([[1.0, NAN, 3e38], [-INF, 2.0, NAN]], "3e+38 at [0, 2] where the reference has inf (1 of 6"),
    ],
)
def test_compare_reports_the_first_nan_or_inf_mismatch(got: list[list[float]], text: str) -> None:
    result = compare(np.array(got, np.float32), np.array([[1.0, NAN, INF], [-INF, 2.0, NAN]], np.float32))
    assert result.mismatch() == text + " values differ in NaN/inf)"
    assert not result.agrees(1e-5) and result.error == INF and relative_error(np.array(got), np.array(got)) == 0.0


def test_compare_finite_rule_and_shapes() -> None:
    assert relative_error(np.array([1.0, 2.1]), np.array([1.0, 2.0])) == pytest.approx(0.05)
    assert compare(np.zeros((2, 3)), np.zeros(6)).mismatch("PyTorch") == "shape 2x3 where PyTorch has 6"
    assert relative_error(np.zeros((2, 3)), np.zeros(6)) == INF


@pytest.fixture(scope="module")
def times_zero(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An object computing x * 0 (NaN at +-inf and NaN inputs) and inputs with -inf at index 1."""
    text = """
    func.func @timeszero(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
      %z = nn.constant dense<0.0> : tensor<1x4xf32>
      %y = nn.mul %x, %z : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
      func.return %y : tensor<1x4xf32>
    }"""
    from t2m.compiler.ir import parse_module

    out = tmp_path_factory.mktemp("timeszero")
    result = compile_module(parse_module(text), "timeszero", CompileOptions())
    (out / "timeszero.o").write_bytes(result.obj)
    (out / "timeszero.mlir").write_text(result.ir["nn"])
    # the same, but relu first: relu(-inf) * 0 = 0, not NaN
    (out / "relu_first.mlir").write_text(
        result.ir["nn"].replace("%y = nn.mul %x, %z", "%r = nn.relu %x : tensor<1x4xf32>\n    %y = nn.mul %r, %z")
    )
    np.save(out / "x.npy", np.array([[1.0, -INF, 2.0, 3.0]], np.float32))
    return out


def t2m_run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """`t2m-run args` in this process (the tool's startup would cost seconds): exit status, stdout, stderr."""
    from t2m.compiler.cli.run_main import main

    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def test_run_check_agrees_with_nan_in_the_same_places(times_zero: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = t2m_run(capsys, times_zero / "timeszero.o", "--input", times_zero / "x.npy", "--check")
    assert status == 0, err
    assert (
        "check vs reference interpreter: max relative error 0, NaN in the same 1 of 4 places (tolerance 1e-05): ok"
        in out
    )


def test_run_check_fails_on_a_nan_mismatch(times_zero: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = t2m_run(
        capsys,
        times_zero / "timeszero.o",
        "--input",
        times_zero / "x.npy",
        "--check",
        "--reference",
        times_zero / "relu_first.mlir",
    )
    assert status == 1
    assert err.splitlines() == [
        "t2m-run: error: outputs differ from the reference interpreter: output 0 has nan at [0, 1] where the "
        "reference interpreter has 0 (1 of 4 values differ in NaN/inf), at --check; this is a t2m bug: please "
        "report it"
    ]
    assert "check vs reference interpreter: output 0: nan at [0, 1] where the reference interpreter has 0" in out
    assert out.rstrip().endswith(": FAILED")


def test_run_mlir_prints_no_numpy_warnings(times_zero: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The reference interpreter computes inf * 0 without a RuntimeWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        status, out, err = t2m_run(capsys, times_zero / "timeszero.mlir", "--input", times_zero / "x.npy")
    assert status == 0 and err == "", err
    assert "output 0: shape 1x4, [ 0., nan,  0.,  0.]" in out


def test_clamp_with_one_bound_keeps_infinities() -> None:
    """torch.clamp(x, min=0) imports as clamp(0, inf), so +inf stays +inf, and canonicalize-nn keeps
    clamp(-FLT_MAX, FLT_MAX), which turns +-inf into +-FLT_MAX in PyTorch."""
    from t2m.compiler.importer import export, import_program
    from t2m.compiler.importer.loading import LoadedModel

    class Clamps(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            big = float(np.finfo(np.float32).max)
            return torch.cat([torch.clamp(x, min=0.0), torch.clamp(x, max=1.0), torch.clamp(x, -big, big)], 1)

    x = np.array([[-INF, -1.0, 0.5, 2.0, INF, NAN]], np.float32)
    model = Clamps().eval()
    module, unsupported = import_program(export(LoadedModel("clamps", model, None, (torch.from_numpy(x),))), "m")
    assert not unsupported
    text = module_to_text(module)
    assert "min = 0.000000e+00 : f32, max = 0x7f800000 : f32" in text
    assert "min = 0xff800000 : f32, max = 1.000000e+00 : f32" in text
    assert "min = -3.40282347e+38 : f32, max = 3.40282347e+38 : f32" in module_to_text(apply_passes(module, FUSE))
    want = model(torch.from_numpy(x)).numpy()
    big = np.finfo(np.float32).max
    np.testing.assert_array_equal(want[0, [4, 6, 16, 12]], [INF, -INF, big, -big])
    assert_agrees(run_module(module, [x])[0], want, "nn interpreter")
    result = compile_module(module, "clamps", CompileOptions())
    assert_agrees(run_object(result.obj, [x]).outputs[0], want, "Cortex-M4 emulator")
