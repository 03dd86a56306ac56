"""Every zoo model: nn -> loops (lower-nn-*) -> llvm dialect (LOWER_TO_LLVM) -> LLVM IR -> host JIT, against the
nn reference interpreter; the same IR as a Cortex-M4 object against the contract."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects import llvm
from xdsl.passes import PassPipeline
from xdsl.universe import Universe

from t2m.compiler.backend.emit_llvm import to_llvm_ir
from t2m.compiler.backend.jit import HostJIT
from t2m.compiler.backend.llvm import compile_object
from t2m.compiler.backend.objcheck import check_cortex_m4_object, inspect_object
from t2m.compiler.interpreter import entry_function, run_module
from t2m.compiler.ir import make_context
from t2m.compiler.pipeline import LOWER_TO_LLVM

MODELS = {"ad": "FCAutoencoder", "kws": "DSCNN", "ic": "ResNet8", "vww": "MobileNetV1"}
LOWER_TO_LOOPS = [
    "lower-nn-conv", "lower-nn-linear", "lower-nn-pool", "lower-nn-elementwise", "lower-nn-softmax",
    "lower-nn-shape", "lower-nn-constant", "bufferize",
]  # fmt: skip


@pytest.fixture(scope="module", params=sorted(MODELS))
def model(request: pytest.FixtureRequest):
    from t2m.compiler.importer import import_model

    passes = Universe.get_multiverse().all_passes
    missing = [name for name in LOWER_TO_LOOPS if name not in passes]
    if missing:
        pytest.skip(f"lowering passes not registered yet: {', '.join(missing)}")
    module = import_model(f"t2m.compiler.zoo:{MODELS[request.param]}")
    function = entry_function(module)
    rng = np.random.default_rng(7)
    shapes = [tuple(t.get_shape()) for t in function.function_type.inputs]  # pyright: ignore[reportAttributeAccessIssue]
    inputs = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    reference = run_module(module, inputs)
    ctx = make_context()
    PassPipeline.parse_spec(passes, ",".join(LOWER_TO_LOOPS)).apply(ctx, module)
    PassPipeline.parse_spec(passes, ",".join(LOWER_TO_LLVM)).apply(ctx, module)
    module.verify()
    ll = to_llvm_ir(module)
    (run,) = [
        op.sym_name.data
        for op in module.ops
        if isinstance(op, llvm.FuncOp) and op.linkage.linkage.data == "external" and op.body.blocks
    ]
    return request.param, run.removesuffix("_run"), inputs, reference, ll


def test_host_jit_matches_the_nn_interpreter(model) -> None:
    key, name, inputs, reference, ll = model
    outputs = [np.zeros(r.shape, np.float32) for r in reference]
    assert HostJIT(ll).run(f"{name}_run", inputs, outputs) == 0
    for got, want in zip(outputs, reference, strict=True):
        error = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
        assert error <= 1e-4, f"{key}: relative error {error:.2e}"


def test_cortex_m4_object(model) -> None:
    key, name, _, _, ll = model
    obj = compile_object(ll)
    assert check_cortex_m4_object(obj) == []
    info = inspect_object(obj)
    layers = [s for s in info.functions if s.name.startswith(f"{name}_L")]
    assert len(layers) >= 3, f"{key}: layer functions were inlined"
    assert any(s.name == f"{name}_run" and s.binding == "STB_GLOBAL" for s in info.functions)
    assert info.section_sizes["rodata"] > 0 and info.section_sizes["data"] == 0
