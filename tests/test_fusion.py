"""--fuse on the zoo: no batch_norm or activation op left, and the same answers as the unfused model."""

from __future__ import annotations

import numpy as np
import pytest

from t2m.compiler import zoo
from t2m.compiler.compare import relative_error
from t2m.compiler.importer import export, import_program
from t2m.compiler.importer.loading import LoadedModel
from t2m.compiler.interpreter import run_module
from t2m.compiler.ir import module_to_text, parse_module
from t2m.compiler.pipeline import FUSE, apply_passes


def fuse(module):
    return apply_passes(module.clone(), FUSE)


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_fuse_zoo(name: str) -> None:
    model = zoo.build(name)
    module, _ = import_program(export(LoadedModel(name, model, None, model.example_inputs())), name)
    fused = fuse(module)
    ops = [op.name for op in fused.walk()]
    assert not {"nn.batch_norm", "nn.relu", "nn.clamp", "nn.flatten"} & set(ops), ops
    # every former activation now sits on its producer
    assert any("act_min" in op.properties for op in fused.walk())
    x = np.random.default_rng(5).standard_normal(model.example_inputs()[0].shape).astype(np.float32)
    assert relative_error(run_module(fused, [x])[0], run_module(module, [x])[0]) <= 1e-5
    # fusion left no dead weights, and the fused text round-trips
    constants = [op for op in fused.walk() if op.name == "nn.constant"]
    assert all(op.results[0].uses for op in constants)
    text = module_to_text(fused)
    assert module_to_text(parse_module(text)) == text
    # packed weights mean the same thing to the reference interpreter
    packed = apply_passes(fused.clone(), ["pack-weights"])
    wide = [op for op in packed.walk() if op.name == "nn.linear" and op.results[0].type.get_shape()[-1] >= 4]
    assert wide and all(op.properties.get("weight_layout") for op in wide) or name == "vww"  # vww's head: 2 outputs
    assert relative_error(run_module(packed, [x])[0], run_module(fused, [x])[0]) == 0


def test_conv1d_batch_norm_and_relu_fuse_through_the_reshapes() -> None:
    """Conv1d imports as reshape -> conv2d -> reshape: canonicalize-nn hoists the batch norm and the relu above the
    reshape so that they fold and fuse into the conv2d, as they do after a Conv2d (a KWS TCN block)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(4, 8, 3, padding=1), nn.BatchNorm1d(8), nn.ReLU(),
                          nn.Conv1d(8, 8, 3, padding=2, dilation=2), nn.BatchNorm1d(8), nn.ReLU6()).eval()
    for bn in (model[1], model[4]):
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    x = torch.randn(1, 4, 16)
    module, _ = import_program(export(LoadedModel("tcn", model, None, (x,))), "tcn")
    fused = fuse(module)
    ops = [op.name for op in fused.walk() if op.name.startswith("nn.") and op.name != "nn.constant"]
    assert ops == ["nn.reshape", "nn.conv2d", "nn.conv2d", "nn.reshape"]
    with torch.no_grad():
        expected = model(x).numpy()
    assert relative_error(run_module(fused, [x.numpy()])[0], expected) <= 1e-5
