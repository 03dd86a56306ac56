"""Importer + reference interpreter against PyTorch (verification ladder rung 1), and text round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from t2m.compiler import zoo
from t2m.compiler.compare import relative_error
from t2m.compiler.errors import T2MError
from t2m.compiler.importer import export, import_program
from t2m.compiler.importer.loading import LoadedModel
from t2m.compiler.interpreter import run_module
from t2m.compiler.ir import module_to_text, parse_module
from t2m.dialects import nn as nn_dialect

RTOL = 1e-5


def import_module(model: nn.Module, *inputs: torch.Tensor, decompose: bool = False):
    """nn module of `model` (optionally after torch's core-ATen decompositions, as a saved .pt2 may hold)."""
    model = model.eval()
    loaded = LoadedModel("m", model, None, inputs)
    program = export(loaded)
    if decompose:
        program = program.run_decompositions()
    module, unsupported = import_program(program, "m")
    assert not unsupported, [u.describe() for u in unsupported]
    return module


def check_against_torch(model: nn.Module, *inputs: torch.Tensor, decompose: bool = False) -> float:
    module = import_module(model, *inputs, decompose=decompose)
    with torch.no_grad():
        ref = model(*inputs)
    got = run_module(module, [x.numpy() for x in inputs])
    refs = ref if isinstance(ref, tuple) else (ref,)
    assert len(got) == len(refs)
    err = max(relative_error(g, r.numpy()) for g, r in zip(got, refs, strict=True))
    assert err <= RTOL, err
    return err


@pytest.fixture(scope="module", params=sorted(zoo.ZOO))
def zoo_model(request: pytest.FixtureRequest):
    model = zoo.build(request.param)
    return request.param, model, import_module(model, *model.example_inputs())


def test_zoo_interpreter_matches_torch(zoo_model) -> None:
    name, model, module = zoo_model
    for seed in (0, 1):
        x = torch.randn(model.example_inputs()[0].shape, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            ref = model(x).numpy()
        got = run_module(module, [x.numpy()])[0]
        assert got.shape == ref.shape
        assert relative_error(got, ref) <= RTOL, (name, relative_error(got, ref))


def test_zoo_text_round_trip(zoo_model) -> None:
    """Printed IR re-parses to identical text, and large weights are printed in hex, never as decimal lists."""
    name, _, module = zoo_model
    text = module_to_text(module)
    reparsed = parse_module(text, name)
    assert module_to_text(reparsed) == text
    assert 'dense<"0x' in text  # a decimal list would take minutes to parse on VWW (speed: t2m-bench)


def test_zoo_has_no_unexpected_ops(zoo_model) -> None:
    """Zoo models import to the core nn ops: batch norm stays explicit until the folding pass runs."""
    name, _, module = zoo_model
    ops = {op.name for op in module.walk()}
    assert "nn.batch_norm" in ops
    assert ops <= {"builtin.module", "func.func", "func.return", *(op.name for op in nn_dialect.NN.operations)}


# --- small models covering every importer path ------------------------------------------------------------------


class Pools(nn.Module):
    def __init__(self, ceil: bool = False, include_pad: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2))
        self.mp = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=ceil)
        self.ap = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=include_pad)
        self.gap = nn.AdaptiveAvgPool2d((2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gap(self.ap(self.mp(self.conv(x))))


class Elementwise(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(10, 7)
        self.fc2 = nn.Linear(7, 7, bias=False)
        self.scale = nn.Parameter(torch.randn(7))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.sigmoid(self.fc1(x)) * torch.tanh(self.fc2(torch.relu(self.fc1(x))))
        y = nn.functional.hardtanh(y * self.scale - 0.5, -0.3, 0.4) + torch.clamp(y, min=0.1) / 4.0
        return torch.softmax(torch.cat([y, nn.functional.relu6(y * 8.0)], dim=1), dim=-1)


class Activations(nn.Module):
    """hardswish, hardsigmoid and silu (each one nn op) between convs, a linear and muls."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.hardswish(self.conv(x) * 3.0)
        gate = nn.functional.hardsigmoid(self.fc(y.mean((2, 3))) * 4.0)
        return nn.functional.silu(y * gate[:, :, None, None])


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.dw = nn.Conv2d(6, 6, 3, padding=1, groups=6, bias=False)
        self.bn = nn.BatchNorm2d(6)
        self.pw = nn.Conv2d(6, 6, 1)
        self.grouped = nn.Conv2d(6, 4, 3, padding=2, dilation=2, groups=2)
        self.same = nn.Conv2d(4, 4, 4, padding="same")
        self.fc = nn.Linear(4 * 5 * 5, 3)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-1, 1)
            self.bn.running_var.uniform_(0.5, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pw(torch.relu(self.bn(self.dw(x)))) + x
        y = self.same(self.grouped(y))
        return self.fc(torch.flatten(y, 1))


class TfSame(nn.Module):
    """ZeroPad2d + conv (TensorFlow "same" padding in PyTorch): the pad folds into the conv's padding."""

    def __init__(self) -> None:
        super().__init__()
        self.pad = nn.ZeroPad2d((1, 2, 0, 1))
        self.conv = nn.Conv2d(2, 3, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(x))


class GlobalMean(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 1)
        self.drop = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.conv(x)
        return self.drop(y.mean(dim=(2, 3))), y.mean(dim=(-1, -2), keepdim=True)


def _x(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("decompose", [False, True], ids=["training-ir", "core-aten"])
@pytest.mark.parametrize(
    "model, shape",
    [
        (Pools(), (1, 3, 11, 9)),
        (Pools(ceil=True, include_pad=False), (1, 3, 12, 10)),
        (Elementwise(), (2, 10)),
        (GlobalMean(), (1, 3, 6, 7)),
        (TfSame(), (1, 2, 9, 8)),
        (Residual(), (1, 6, 5, 5)),
        (Activations(), (1, 3, 6, 6)),
    ],
    ids=["pools", "pools-ceil-nopad", "elementwise", "global-mean", "tf-same", "residual", "activations"],
)
def test_small_models_match_torch(model: nn.Module, shape: tuple[int, ...], decompose: bool) -> None:
    torch.manual_seed(0)
    check_against_torch(model, _x(*shape), decompose=decompose)


def test_tf_same_pad_folds_into_conv() -> None:
    module = import_module(TfSame(), _x(1, 2, 9, 8))
    convs = [op for op in module.walk() if isinstance(op, nn_dialect.Conv2dOp)]
    assert len(convs) == 1 and convs[0].padding.get_values() == (0, 1, 1, 2)


def test_linear_imports_without_transpose_in_core_aten() -> None:
    """addmm(b, x, permute(W)) imports back as nn.linear with PyTorch's [out, in] weight."""
    model = nn.Linear(6, 3).eval()
    module = import_module(model, _x(2, 6), decompose=True)
    linear = next(op for op in module.walk() if isinstance(op, nn_dialect.LinearOp))
    assert linear.weight.type.get_shape() == (3, 6)  # type: ignore[attr-defined]


def test_zoo_kws_module_text_names_model() -> None:
    model = zoo.build("kws")
    text = module_to_text(import_module(model, *model.example_inputs()))
    assert "func.func @m(%x: tensor<1x1x49x10xf32>) -> tensor<1x12xf32>" in text


def test_pt2_archive_imports(tmp_path) -> None:
    from t2m.compiler.importer import import_model

    model = TfSame().eval()
    x = _x(1, 2, 9, 8)
    torch.export.save(torch.export.export(model, (x,)), tmp_path / "tf_same.pt2")
    module = import_model(str(tmp_path / "tf_same.pt2"))
    got = run_module(module, [x.numpy()])[0]
    assert relative_error(got, model(x).detach().numpy()) <= RTOL


def test_unsupported_ops_are_all_listed() -> None:
    from t2m.compiler.importer import import_model

    with pytest.raises(T2MError) as info:
        import_model("examples/models.py:WithCumsum")
    err = info.value
    assert err.what == (
        "model 'examples/models.py:WithCumsum' uses 2 unsupported ops (aten.cumsum.default, aten.flip.default)"
    )
    assert err.details == [
        "examples/models.py:45 `y = torch.cumsum(self.gru(x)[0], dim=1)`: aten.cumsum.default",
        "examples/models.py:46 `return self.fc(torch.flip(y, dims=[1])[:, -1])`: aten.flip.default",
    ]


def test_reference_interpreter_checks_input_shape() -> None:
    model = TfSame()
    module = import_module(model, _x(1, 2, 9, 8))
    with pytest.raises(T2MError, match=r"input 0 has shape 1x2x9x9, the model expects 1x2x9x8"):
        run_module(module, [np.zeros((1, 2, 9, 9), np.float32)])
