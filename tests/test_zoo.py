"""Tests for the MLPerf Tiny model zoo (compiler/zoo.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from t2m.compiler import zoo

NAMES = ["kws", "vww", "ic", "ad"]

OUTPUT_SHAPES = {"kws": (1, 12), "vww": (1, 2), "ic": (1, 10), "ad": (1, 640)}
INPUT_SHAPES = {"kws": (1, 1, 49, 10), "vww": (1, 3, 96, 96), "ic": (1, 3, 32, 32), "ad": (1, 640)}

# MLPerf Tiny anchor table (compiler/anchors/mlperf-tiny.md).
ANCHOR_MACS = {"kws": 2_656_768, "vww": 7_489_664, "ic": 12_501_632, "ad": 264_192}
ANCHOR_PARAMS = {"kws": 22_606, "vww": 210_852, "ic": 77_708, "ad": 265_864}
# count_params(fold_bn=True) against the table: AD exact; the others are 2 short (most likely the 2-element
# shape tensor of TFLite's Reshape for Flatten, which AD does not have).
PARAMS_SHORT_OF_TABLE = {"kws": 2, "vww": 2, "ic": 2, "ad": 0}
# all trainable parameters (BN weight and bias included)
TRAINABLE_PARAMS = {"kws": 23_756, "vww": 216_322, "ic": 78_186, "ad": 267_928}


@pytest.fixture(scope="module")
def models() -> dict[str, nn.Module]:
    return {name: zoo.build(name) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_eval_mode(models: dict[str, nn.Module], name: str) -> None:
    model = models[name]
    assert not model.training
    assert all(not m.training for m in model.modules())
    inputs = model.example_inputs()
    assert len(inputs) == 1
    assert tuple(inputs[0].shape) == INPUT_SHAPES[name]
    with torch.no_grad():
        out = model(*inputs)
    assert tuple(out.shape) == OUTPUT_SHAPES[name]
    assert torch.isfinite(out).all()
    assert out.abs().max() > 1e-3  # not a dead network


@pytest.mark.parametrize("name", NAMES)
def test_deterministic(models: dict[str, nn.Module], name: str) -> None:
    a = models[name]
    torch.manual_seed(12345)  # the global RNG must not matter
    torch.rand(7)
    b = zoo.build(name)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    (xa,), (xb,) = a.example_inputs(), b.example_inputs()
    assert torch.equal(xa, xb)
    with torch.no_grad():
        assert torch.equal(a(xa), b(xb))


def test_build_leaves_global_rng_alone() -> None:
    torch.manual_seed(0)
    expected = torch.rand(4)
    torch.manual_seed(0)
    zoo.build("ic")
    assert torch.equal(torch.rand(4), expected)


@pytest.mark.parametrize("name", NAMES)
def test_batchnorm_non_trivial(models: dict[str, nn.Module], name: str) -> None:
    bns = [m for m in models[name].modules() if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d)]
    assert bns
    for bn in bns:
        assert bn.running_mean is not None and bn.running_var is not None
        assert bn.weight is not None and bn.bias is not None
        assert bn.running_var.min() >= 0.5 and bn.running_var.max() <= 2.0
        assert bn.running_var.std() > 0.05 and bn.running_mean.abs().max() > 0.01
        assert (bn.weight - 1).abs().max() > 0.01 and bn.bias.abs().max() > 0.01
        assert bn.eps == zoo.BN_EPS


@pytest.mark.parametrize("name", NAMES)
def test_macs_match_anchor(models: dict[str, nn.Module], name: str) -> None:
    model = models[name]
    assert zoo.count_macs(model, *model.example_inputs()) == ANCHOR_MACS[name]


@pytest.mark.parametrize("name", NAMES)
def test_params_vs_anchor(models: dict[str, nn.Module], name: str) -> None:
    model = models[name]
    assert zoo.count_params(model) == ANCHOR_PARAMS[name] - PARAMS_SHORT_OF_TABLE[name]
    assert zoo.count_params(model, fold_bn=False) == TRAINABLE_PARAMS[name]


def test_count_macs_layer_formulas() -> None:
    conv = nn.Conv2d(8, 16, (3, 2), stride=2, padding=1, groups=2)  # 1x8x8x8 -> 1x16x4x5
    assert zoo.count_macs(conv, torch.zeros(1, 8, 8, 8)) == 16 * 4 * 5 * (8 // 2) * 3 * 2
    assert zoo.count_macs(nn.Linear(10, 3), torch.zeros(1, 10)) == 30
    assert zoo.count_macs(nn.Linear(10, 3), torch.zeros(4, 10)) == 120  # scales with the batch


@pytest.mark.parametrize("name", ["kws", "vww", "ic"])
def test_symmetric_padding_variant(name: str) -> None:
    """tf_padding=False: no pad op, same output shape and MACs."""
    cls = type(zoo.build(name))
    model = cls(tf_padding=False).eval()
    assert not any(isinstance(m, nn.ZeroPad2d) for m in model.modules())
    (x,) = model.example_inputs()
    with torch.no_grad():
        assert tuple(model(x).shape) == OUTPUT_SHAPES[name]
    assert zoo.count_macs(model, x) == ANCHOR_MACS[name]


def test_kws_first_conv_is_tf_same() -> None:
    """The first KWS conv pads top 4 / bottom 5 / left 1 / right 1 and yields 25x5x64."""
    model = zoo.build("kws")
    pad, conv = model.features[0], model.features[1]
    assert isinstance(pad, nn.ZeroPad2d) and pad.padding == (1, 1, 4, 5)
    assert isinstance(conv, nn.Conv2d) and conv.padding == (0, 0)
    with torch.no_grad():
        y = conv(pad(model.example_inputs()[0]))
    assert tuple(y.shape) == (1, 64, 25, 5)


@pytest.mark.parametrize("name", NAMES)
def test_torch_export(models: dict[str, nn.Module], name: str) -> None:
    model = models[name]
    inputs = model.example_inputs()
    ep = torch.export.export(model, inputs)
    with torch.no_grad():
        torch.testing.assert_close(ep.module()(*inputs), model(*inputs))


def test_build_unknown() -> None:
    with pytest.raises(KeyError, match="unknown zoo model"):
        zoo.build("nope")
