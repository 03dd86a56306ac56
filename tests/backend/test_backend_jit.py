"""The host JIT runs the IR that goes to the M4 and must agree with numpy."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from backend_kernels import (
    CORTEX_M4_HEADER,
    dense_relu_ir,
    dense_relu_reference,
    dot_i8_ir,
    random_dense,
)

from t2m.compiler.backend.errors import BackendError
from t2m.compiler.backend.jit import HostJIT
from t2m.compiler.backend.llvm import OPT_LEVELS

WEIGHTS, BIAS = random_dense(16, 64, seed=3)
DENSE = dense_relu_ir(WEIGHTS, BIAS)
INPUT = np.random.default_rng(4).standard_normal(64).astype(np.float32)


@pytest.fixture(scope="module")
def dense_jit() -> HostJIT:
    return HostJIT(DENSE)


def run_dense(jit: HostJIT, x: np.ndarray) -> np.ndarray:
    y = np.full(WEIGHTS.shape[0], np.nan, np.float32)
    assert jit.run("dense_run", [x], [y]) == 0
    return y


def test_dense_relu_matches_numpy(dense_jit: HostJIT) -> None:
    y = run_dense(dense_jit, INPUT)
    np.testing.assert_array_equal(y, dense_relu_reference(WEIGHTS, BIAS, INPUT))  # same operation order
    np.testing.assert_allclose(y, np.maximum(WEIGHTS @ INPUT + BIAS, 0), rtol=1e-6, atol=1e-5)
    assert (y == 0).any() and (y > 0).any()  # both sides of the relu were exercised


@pytest.mark.parametrize("level", list(OPT_LEVELS))
def test_every_level_computes_the_same(level: str) -> None:
    y = run_dense(HostJIT(DENSE, opt=level), INPUT)
    np.testing.assert_array_equal(y, dense_relu_reference(WEIGHTS, BIAS, INPUT))


def test_ir_written_for_the_m4_runs_on_the_host() -> None:
    """Triple, data layout and per-function CPU attributes of the M4 module are replaced for the host."""
    m4_only = (
        CORTEX_M4_HEADER
        + DENSE.replace("define i32 @dense_run(ptr noalias %input, ptr noalias %output) {",
                        "define i32 @dense_run(ptr noalias %input, ptr noalias %output) #0 {")
        + 'attributes #0 = { nounwind "target-cpu"="cortex-m4" "target-features"="+dsp,+vfp4d16sp" }\n'
    )  # fmt: skip
    jit = HostJIT(m4_only)
    assert jit.module.triple != "thumbv7em-none-eabihf"
    np.testing.assert_array_equal(run_dense(jit, INPUT), dense_relu_reference(WEIGHTS, BIAS, INPUT))


def test_int8_buffers() -> None:
    rng = np.random.default_rng(5)
    a = rng.integers(-128, 128, 100, dtype=np.int8)
    b = rng.integers(-128, 128, 100, dtype=np.int8)
    out = np.zeros(1, np.int32)
    assert HostJIT(dot_i8_ir(100)).run("dot_i8", [a, b], [out]) == 0
    assert out[0] == int(a.astype(np.int32) @ b.astype(np.int32))


def test_call_with_scalars() -> None:
    jit = HostJIT(
        """
define i32 @add(i32 %a, i32 %b) {
  %s = add i32 %a, %b
  ret i32 %s
}
define float @fma(float %a, float %b, float %c) {
  %p = fmul float %a, %b
  %s = fadd float %p, %c
  ret float %s
}
define void @fill(ptr %p, i8 %v) {
  store i8 %v, ptr %p
  ret void
}
"""
    )
    assert jit.call("add", 40, 2) == 42
    assert jit.call("add", 2**31 - 1, 1) == -(2**31)  # i32 wraps
    assert jit.call("fma", 1.5, 2.0, 0.25) == pytest.approx(3.25)
    cell = np.zeros(1, np.int8)
    assert jit.call("fill", cell, -7) is None and cell[0] == -7


def test_engine_outlives_the_source(dense_jit: HostJIT) -> None:
    function = dense_jit.function("dense_run")
    gc.collect()
    assert dense_jit.function("dense_run") is function
    np.testing.assert_array_equal(run_dense(dense_jit, INPUT), dense_relu_reference(WEIGHTS, BIAS, INPUT))


def test_run_checks_its_buffers(dense_jit: HostJIT) -> None:
    with pytest.raises(BackendError, match=r"^dense_run takes \(ptr, ptr\), not 3 buffers$"):
        dense_jit.run("dense_run", [INPUT, INPUT], [INPUT])
    with pytest.raises(BackendError, match="C-contiguous"):
        dense_jit.run("dense_run", [np.zeros(128, np.float32)[::2]], [np.zeros(16, np.float32)])
    with pytest.raises(BackendError, match=r"^no function 'missing' in the JIT module$"):
        dense_jit.run("missing", [INPUT], [INPUT])
