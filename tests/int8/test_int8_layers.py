"""int8 layers, bit for bit at every rung: integer reference interpreter = loop-level IR in xDSL's interpreter =
host JIT = the Cortex-M4 object on the emulator (docs/design.md §7, docs/int8.md).

200 seeded random layers (`qnn_models.random_cases`): conv (plain, strided, padded, dilated, grouped, depthwise,
channel multiplier, 1x1, odd channel counts, 1-channel inputs, unfused int32 accumulators), linear, max/avg/
adaptive pools, add and mul with broadcasting, concat, softmax, rescale, clamp; per-channel and per-tensor
requantization, zero points at the int8 extremes, fused activation ranges. Batches of 25 share one module, so
one compilation serves 25 layers; every output must be identical to the reference's.
"""

from __future__ import annotations

import numpy as np
import pytest
from qnn_models import (
    FAMILIES,
    Builder,
    Case,
    emulated_outputs,
    first_difference,
    jit_outputs,
    loop_outputs,
    module_of,
    random_cases,
    random_inputs,
    reference,
)
from xdsl.ir import SSAValue

from t2m.compiler.backend import HostJIT
from t2m.compiler.compile import CompileOptions, compile_module
from t2m.dialects import qnn

PER_BATCH = {"conv": 8, "linear": 4, "pool": 4, "add": 2, "mul": 2, "concat": 1, "softmax": 2, "rescale": 1,
             "clamp": 1}
BATCHES = 8


def _which(cases: list[Case], difference: str) -> str:
    index = int(difference.split()[1])
    return f"{cases[index].name}: {difference}"


def _extremes(inputs: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """The same shapes with every value at -128 or 127 (saturation everywhere downstream)."""
    rng = np.random.default_rng(seed)
    return [np.where(rng.random(x.shape) < 0.5, -128, 127).astype(np.int8) for x in inputs]


@pytest.mark.parametrize("batch", range(BATCHES))
def test_random_layers_jit_and_emulator_are_bit_exact(batch: int) -> None:
    """Host JIT on every batch; the emulated Cortex-M4 on every other one (its object costs one more LLVM
    compilation). Each with uniform inputs and with inputs pinned at the int8 extremes."""
    cases = random_cases(100 + batch, PER_BATCH)
    module = module_of(cases, f"batch{batch}")
    uniform = random_inputs(module, batch)
    emulate = batch % 2 == 0
    # LLVM IR for the Cortex-M4; the JIT retargets the same text to the host
    result = compile_module(module, f"batch{batch}", CompileOptions(run=False), stop_at="obj" if emulate else "ll")
    assert result.info is not None and result.info.dtype == "int8"
    jit = HostJIT(result.ll)
    for inputs in (uniform, _extremes(uniform, batch)):
        want = reference(module, inputs)
        jit_out = [np.full(shape, 99, np.int8) for shape in result.info.outputs]
        assert jit.run(result.info.entry, inputs, jit_out) == 0
        assert (difference := first_difference(jit_out, want)) is None, _which(cases, difference)
        if emulate:
            got = emulated_outputs(result.obj, inputs)
            assert (difference := first_difference(got, want)) is None, _which(cases, difference)


def test_the_random_layers_are_many_and_informative() -> None:
    """>= 200 layers of every family, and most of them produce varied outputs (not all saturated or constant),
    so that bit-exactness means something."""
    cases = [case for batch in range(BATCHES) for case in random_cases(100 + batch, PER_BATCH)]
    assert len(cases) >= 200
    assert {case.name.split("-")[1] for case in cases} == set(FAMILIES)
    module = module_of(cases[:60], "sample")
    outputs = reference(module, random_inputs(module, 0))
    varied = sum(len(np.unique(y)) > 3 for y in outputs)
    assert varied >= 0.6 * len(outputs), f"only {varied} of {len(outputs)} layers have more than 3 distinct outputs"


@pytest.mark.parametrize("seed", [7, 8])
def test_loop_level_ir_in_xdsl_interpreter_is_bit_exact(seed: int) -> None:
    """Rung 2 on small layers of every family (xDSL's interpreter runs ~10^5 ops/s)."""
    cases = random_cases(seed, {family: 2 for family in FAMILIES})
    module = module_of(cases, "loops")
    inputs = random_inputs(module, seed)
    difference = first_difference(loop_outputs(module, inputs), reference(module, inputs))
    assert difference is None, _which(cases, difference)


def test_softmax_rows_of_512_to_8191_values_are_bit_exact() -> None:
    """Rows long enough that the sum of exponentials has 3 to 0 leading zeros (from 2^31 on, read unsigned), so
    that the last division is by 2^32 to 2^35: poison as an LLVM shift, 0 exactly (`below_half_a_step`). One row
    of equal values, one of values a few steps apart, per length; JIT and emulator identical to the reference."""
    lengths = (511, 512, 1092, 2048, 4096, qnn.SOFTMAX_MAX_LENGTH)
    params = qnn.softmax_params(1 / 256)

    def body(b: Builder, xs: list[SSAValue]) -> list[SSAValue]:
        return [b.op(qnn.SoftmaxOp(xs[0], 1, *params))]

    cases = [Case(f"{n}-softmax", [((2, n), (1 / 256, -128))], body, [qnn.SoftmaxOp.OUTPUT_QUANT]) for n in lengths]
    module = module_of(cases, "long_rows")
    rng = np.random.default_rng(3)
    inputs = [np.stack([np.full(n, -127), rng.integers(-128, -123, n)]).astype(np.int8) for n in lengths]
    want = reference(module, inputs)
    assert [sorted(np.unique(w).tolist()) for w in want[:2]] == [[-128, -127], [-128, -127]]  # 511, 512: 1/2 step
    assert all((w == -128).all() for w in want[2:])
    assert first_difference(jit_outputs(module, inputs), want) is None
    result = compile_module(module, "long_rows", CompileOptions(run=False))
    assert first_difference(emulated_outputs(result.obj, inputs), want) is None
