"""The four zoo models as int8 models, through the whole compiler, bit for bit.

Each fp32 zoo model is imported, fused, and turned into a qnn module by the test quantizer (`calibrate.py`:
scales from a calibration run of the fp32 reference interpreter). The module then goes through the int8
pipeline once; the host JIT and the Cortex-M4 object on the emulator must give exactly the integer reference
interpreter's outputs, and the activation arena must not exceed MLPerf Tiny's int8 lower bound.
"""

from __future__ import annotations

import numpy as np
import pytest
from calibrate import quantize_model
from qnn_models import first_difference, random_inputs, reference
from xdsl.dialects.builtin import ModuleOp

from t2m.compiler import zoo
from t2m.compiler.backend import HostJIT, check_cortex_m4_object
from t2m.compiler.bench import find_anchors, import_torch, read_memory_bounds
from t2m.compiler.compile import CompileOptions, CompileResult, compile_module
from t2m.compiler.emulate import run_object
from t2m.compiler.interpreter import entry_function
from t2m.compiler.pipeline import FUSE, apply_passes


@pytest.fixture(scope="module", params=sorted(zoo.ZOO))
def int8_model(request: pytest.FixtureRequest) -> tuple[str, ModuleOp, CompileResult]:
    name = request.param
    module = apply_passes(import_torch(zoo.build(name), (), name), FUSE)
    shapes = [tuple(t.get_shape()) for t in entry_function(module).function_type.inputs]  # type: ignore
    rng = np.random.default_rng(0)
    calibration = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(4)]
    quantized = quantize_model(module, calibration)
    return name, quantized, compile_module(quantized, f"zoo:{name}", CompileOptions(flash_size=2 << 20, run=False))


def test_host_jit_and_emulator_are_bit_exact(int8_model: tuple[str, ModuleOp, CompileResult]) -> None:
    name, module, result = int8_model
    info = result.info
    assert info is not None and info.dtype == "int8" and len(info.quant) == 2
    assert not check_cortex_m4_object(result.obj)
    jit = HostJIT(result.ll)
    for seed in (0, 1):
        inputs = random_inputs(module, seed)
        want = reference(module, inputs)
        assert len(np.unique(want[0])) > 1, "a constant output would prove nothing"
        got = [np.zeros(shape, np.int8) for shape in info.outputs]
        assert jit.run(info.entry, inputs, got) == 0
        assert first_difference(got, want) is None, name
    inputs = random_inputs(module, 2)
    run = run_object(result.obj, inputs, name)
    assert first_difference(run.outputs, reference(module, inputs)) is None, name
    assert run.cycles > 0 and all(layer.cycles > 0 for layer in run.layers)


def test_arena_within_the_int8_lower_bound(int8_model: tuple[str, ModuleOp, CompileResult]) -> None:
    """One byte per activation: the planned arena is at most MLPerf Tiny's int8 liveness bound (which counts the
    model's input and output too; they are the caller's buffers here)."""
    name, _, result = int8_model
    assert result.info is not None
    bound = read_memory_bounds(find_anchors())[name]
    assert 0 < result.info.arena_bytes <= bound, (name, result.info.arena_bytes, bound)
