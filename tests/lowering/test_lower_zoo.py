"""The MLPerf Tiny zoo lowers to loops: every layer becomes one layer function, the IR verifies, and xDSL's
lower-affine / scf-to-cf / canonicalize / cse accept it (running it is the LLVM path's job: too slow here)."""

from __future__ import annotations

import pytest
from lowering_interp import LOWER_TO_LOOPS, apply_passes
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from t2m.compiler import zoo
from t2m.compiler.importer import export, import_program
from t2m.compiler.importer.loading import LoadedModel
from t2m.compiler.model_info import describe
from t2m.compiler.pipeline import FUSE
from t2m.dialects import nn
from t2m.dialects.t2m import layer_of

VIEWS = (nn.ConstantOp, nn.FlattenOp, nn.ReshapeOp)


@pytest.fixture(scope="module", params=sorted(zoo.ZOO))
def zoo_module(request: pytest.FixtureRequest) -> tuple[str, ModuleOp, int]:
    model = zoo.build(request.param).eval()
    inputs = model.example_inputs()  # pyright: ignore[reportCallIssue]
    module, unsupported = import_program(export(LoadedModel("m", model, None, inputs)), request.param)
    assert not unsupported
    return request.param, module, zoo.count_macs(model, *inputs)


@pytest.mark.parametrize("fused", [False, True], ids=["raw", "fused"])
def test_zoo_lowers(zoo_module: tuple[str, ModuleOp, int], fused: bool) -> None:
    name, module, macs = zoo_module
    module = module.clone()
    if fused:
        apply_passes(module, FUSE)
    layers = [op.name for op in module.walk() if op.dialect_name() == "nn" and not isinstance(op, VIEWS)]
    apply_passes(module, LOWER_TO_LOOPS)
    functions = [op for op in module.ops if isinstance(op, func.FuncOp)]
    (run,) = [f for f in functions if not f.is_declaration and f.sym_name.data.endswith("_run")]
    described = [(f.sym_name.data, layer) for f in functions if (layer := layer_of(f)) is not None]
    assert [layer.op_name for _, layer in described] == [n.removeprefix("nn.") for n in layers]
    assert all(symbol.endswith(f"_{layer.op_name}") for symbol, layer in described)
    assert sum(layer.mac_count for _, layer in described) == macs  # conv + linear MACs, MLPerf counting
    info = describe(module)
    assert (info.entry, info.macs, info.arena_entry) == (run.sym_name.data, macs, True)
    dialects = {op.dialect_name() for op in module.walk()}
    assert dialects <= {"builtin", "func", "memref", "affine", "arith", "vector"}, dialects
    if fused:  # the compiler's path (and the slow part): once per model is enough
        apply_passes(module, ["lower-affine", "convert-scf-to-cf", "canonicalize", "cse"])
        assert {op.dialect_name() for op in module.walk()} <= {"builtin", "func", "memref", "arith", "vector", "cf"}
