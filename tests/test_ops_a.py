"""Issue 12's layers in fp32, each through every level against PyTorch: the import (the nn ops it makes), the
reference interpreter (<= 1e-5 relative), the host JIT and the Cortex-M4 object on the emulator (<= 1e-4).

Conv1d (padding, 'same', dilation, stride, groups, unbatched), BatchNorm1d, batch norm with batch statistics
in eval, ELU, GELU (erf and tanh), LeakyReLU, PReLU (one slope, per channel), hardswish / hardsigmoid / SiLU
as single ops, Dropout / Identity, zero / constant / reflection / replication padding (2-D and 1-D), nearest
and bilinear resizing (scale factors, sizes, align_corners, 1-D), AvgPool2d's divisor_override, and inputs
without a batch dim.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

from t2m.compiler.backend import HostJIT
from t2m.compiler.compare import relative_error
from t2m.compiler.compile import CompileOptions, compile_module
from t2m.compiler.emulate import run_object
from t2m.compiler.importer import export, import_program
from t2m.compiler.importer.loading import LoadedModel
from t2m.compiler.interpreter import run_module

NN_RTOL = 1e-5
OBJECT_RTOL = 1e-4


class Fn(nn.Module):
    """A functional op as a module."""

    def __init__(self, f: Callable[[torch.Tensor], torch.Tensor]):
        super().__init__()
        self.f = f

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.f(x)


def _interp(**kw: object) -> Fn:
    return Fn(lambda x: nn.functional.interpolate(x, **kw))  # type: ignore[arg-type]


# (name, model, input shape, nn ops the import must contain)
CASES: list[tuple[str, nn.Module, tuple[int, ...], set[str]]] = [
    ("conv1d", nn.Conv1d(3, 4, 3, padding=1), (2, 3, 10), {"nn.conv2d"}),
    ("conv1d-same-dilated", nn.Conv1d(3, 4, 4, padding="same", dilation=2), (1, 3, 12), {"nn.conv2d"}),
    ("conv1d-stride-groups", nn.Conv1d(4, 6, 5, stride=2, groups=2, bias=False), (1, 4, 17), {"nn.conv2d"}),
    ("conv1d-unbatched", nn.Conv1d(3, 4, 3, stride=2), (3, 11), {"nn.conv2d"}),
    ("conv1d-valid", nn.Conv1d(2, 3, 3, padding="valid"), (1, 2, 9), {"nn.conv2d"}),
    ("batchnorm1d-ncl", nn.BatchNorm1d(3), (2, 3, 7), {"nn.batch_norm"}),
    ("batchnorm1d-nc", nn.BatchNorm1d(5), (4, 5), {"nn.batch_norm"}),
    ("linear-batchnorm1d", nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5)), (3, 6), {"nn.linear"}),
    ("batch-stats-2d", nn.BatchNorm2d(3, track_running_stats=False), (2, 3, 4, 5), {"nn.batch_norm_stats"}),
    ("batch-stats-1d", nn.BatchNorm1d(3, track_running_stats=False, affine=False), (4, 3, 6),
     {"nn.batch_norm_stats"}),
    ("elu", nn.ELU(), (1, 3, 5, 5), {"nn.elu"}),
    ("elu-alpha", nn.ELU(0.3), (2, 7), {"nn.elu"}),
    ("gelu-erf", nn.GELU(), (1, 3, 5, 5), {"nn.gelu"}),
    ("gelu-tanh", nn.GELU("tanh"), (1, 3, 5, 5), {"nn.gelu"}),
    ("leaky-relu", nn.LeakyReLU(), (1, 3, 5, 5), {"nn.leaky_relu"}),
    ("leaky-relu-slope", nn.LeakyReLU(0.3, inplace=True), (1, 3, 5, 5), {"nn.leaky_relu"}),
    ("prelu", nn.PReLU(), (1, 3, 5, 5), {"nn.prelu"}),
    ("prelu-channels", nn.PReLU(3, 0.1), (2, 3, 4, 4), {"nn.prelu"}),
    ("hardswish", nn.Hardswish(), (1, 3, 5, 5), {"nn.hardswish"}),
    ("hardsigmoid", nn.Hardsigmoid(), (1, 3, 5, 5), {"nn.hardsigmoid"}),
    ("silu", nn.SiLU(), (1, 3, 5, 5), {"nn.silu"}),
    ("dropout-identity", nn.Sequential(nn.Dropout(0.5), nn.Identity(), nn.Conv2d(2, 2, 1)), (1, 2, 3, 3),
     {"nn.conv2d"}),
    ("zeropad2d", nn.ZeroPad2d((1, 2, 0, 3)), (1, 2, 4, 5), {"nn.pad"}),
    ("zeropad2d-conv", nn.Sequential(nn.ZeroPad2d((1, 2, 0, 1)), nn.Conv2d(2, 3, 3, stride=2)), (1, 2, 9, 8),
     {"nn.conv2d"}),
    ("constantpad2d", nn.ConstantPad2d(2, 1.5), (1, 2, 4, 5), {"nn.pad"}),
    ("constantpad1d", nn.ConstantPad1d((1, 3), -0.5), (1, 2, 5), {"nn.pad"}),
    ("zeropad1d", nn.ZeroPad1d(2), (2, 3, 4), {"nn.pad"}),
    ("reflectionpad2d", nn.ReflectionPad2d((1, 2, 3, 1)), (1, 2, 4, 5), {"nn.pad"}),
    ("reflectionpad1d", nn.ReflectionPad1d(2), (1, 2, 5), {"nn.pad"}),
    ("replicationpad2d", nn.ReplicationPad2d((2, 0, 1, 3)), (1, 2, 4, 5), {"nn.pad"}),
    ("replicationpad1d", nn.ReplicationPad1d((0, 3)), (1, 2, 5), {"nn.pad"}),
    ("pad-functional-reflect", Fn(lambda x: nn.functional.pad(x, (1, 1, 2, 2), mode="reflect")), (1, 2, 4, 4),
     {"nn.pad"}),
    ("upsample-nearest-x2", nn.Upsample(scale_factor=2), (1, 2, 3, 4), {"nn.upsample"}),
    ("upsample-nearest-size", nn.Upsample(size=(5, 7)), (1, 2, 3, 4), {"nn.upsample"}),
    ("upsample-nearest-frac", _interp(scale_factor=1.5, mode="nearest"), (1, 2, 5, 4), {"nn.upsample"}),
    ("upsample-nearest-down", _interp(size=(2, 3), mode="nearest"), (1, 2, 5, 7), {"nn.upsample"}),
    ("upsample-bilinear-x2", nn.Upsample(scale_factor=2, mode="bilinear"), (1, 2, 3, 4), {"nn.upsample"}),
    ("upsample-bilinear-corners", nn.Upsample(size=(5, 9), mode="bilinear", align_corners=True), (1, 2, 3, 4),
     {"nn.upsample"}),
    ("upsample-bilinear-frac", _interp(scale_factor=1.7, mode="bilinear"), (1, 2, 3, 4), {"nn.upsample"}),
    ("upsample-bilinear-down", _interp(size=(3, 2), mode="bilinear"), (1, 2, 7, 5), {"nn.upsample"}),
    ("upsample-nearest1d", nn.Upsample(scale_factor=3), (1, 2, 5), {"nn.upsample"}),
    ("upsample-linear1d", nn.Upsample(scale_factor=2, mode="linear"), (1, 2, 5), {"nn.upsample"}),
    ("avgpool-divisor", nn.AvgPool2d(3, 2, 1, divisor_override=5), (1, 2, 7, 7), {"nn.avg_pool2d"}),
    ("avgpool-divisor-nopad", nn.AvgPool2d(2, divisor_override=3, count_include_pad=False), (1, 2, 6, 6),
     {"nn.avg_pool2d"}),
    ("maxpool-unbatched", nn.MaxPool2d(2), (1, 6, 6), {"nn.max_pool2d"}),
    ("avgpool-unbatched", nn.AvgPool2d(2), (1, 6, 6), {"nn.avg_pool2d"}),
    ("adaptive-unbatched", nn.AdaptiveAvgPool2d(2), (1, 6, 6), {"nn.adaptive_avg_pool2d"}),
    ("conv2d-unbatched", nn.Conv2d(1, 2, 3), (1, 6, 6), {"nn.conv2d"}),
    ("conv2d-unbatched-relu", nn.Sequential(nn.Conv2d(3, 2, 3, padding=1), nn.ReLU()), (3, 5, 4), {"nn.conv2d"}),
    ("maxpool1d-ceil", nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 18), {"nn.max_pool2d"}),
    ("maxpool1d-dilated", nn.MaxPool1d(2, dilation=3), (1, 2, 11), {"nn.max_pool2d"}),
    ("avgpool1d-pad", nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False), (1, 4, 13), {"nn.avg_pool2d"}),
    ("adaptive-avgpool1d", nn.AdaptiveAvgPool1d(3), (2, 3, 10), {"nn.adaptive_avg_pool2d"}),
    ("maxpool1d-unbatched", nn.MaxPool1d(2), (4, 9), {"nn.max_pool2d"}),
    ("tcn-block", nn.Sequential(nn.Conv1d(3, 8, 3, padding=1), nn.BatchNorm1d(8), nn.ReLU(), nn.MaxPool1d(2),
                                nn.AdaptiveAvgPool1d(1)), (1, 3, 20), {"nn.conv2d", "nn.max_pool2d"}),
    # rank-0 values: a scalar input, a full reduction, and constants of rank 0 (they stay rank 0 in the IR)
    ("scalar-softmax", nn.Softmax(0), (), {"nn.softmax"}),
    ("scalar-log-softmax", nn.LogSoftmax(-1), (), {"nn.log_softmax"}),
    ("scalar-input", Fn(lambda x: torch.sigmoid(x) * 0.5 + x), (), {"nn.sigmoid", "nn.mul", "nn.add"}),
    ("sum-then-add", Fn(lambda x: x.sum() + 1.0), (2, 3), {"nn.reduce", "nn.add"}),
    ("mean-then-relu", Fn(lambda x: torch.relu(x.mean() * 2.0 - 1.0)), (1, 4, 5), {"nn.reduce", "nn.relu"}),
    ("scalar-broadcast", Fn(lambda x: x - x.mean()), (1, 3, 4), {"nn.reduce", "nn.add"}),
    ("sub-activations", Fn(lambda x: torch.relu(x) - x), (2, 5), {"nn.relu", "nn.mul", "nn.add"}),
    ("add-alpha-activations", Fn(lambda x: torch.add(x, torch.sigmoid(x), alpha=0.3)), (2, 5), {"nn.mul"}),
]


def _model(model: nn.Module, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d) and module.running_mean is not None:
            assert module.running_var is not None
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
        if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d) and module.affine:
            with torch.no_grad():
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    return model.eval()


def _input(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return 3 * torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _imported(model: nn.Module, x: torch.Tensor):  # noqa: ANN202 - a ModuleOp
    module, unsupported = import_program(export(LoadedModel("layer", model, None, (x,))), "layer")
    assert not unsupported, [u.describe() for u in unsupported]
    return module


@pytest.mark.parametrize(("name", "model", "shape", "ops"), CASES, ids=[c[0] for c in CASES])
def test_layer_at_every_level(name: str, model: nn.Module, shape: tuple[int, ...], ops: set[str]) -> None:
    model = _model(model, 0)
    x = _input(shape, 1)
    with torch.no_grad():
        ref = model(x.clone()).numpy()  # clone: an inplace layer would overwrite x
    module = _imported(model, x)
    names = {op.name for op in module.walk()}
    assert ops <= names, names
    assert relative_error(run_module(module.clone(), [x.numpy()])[0], ref) <= NN_RTOL

    result = compile_module(module, "layer", CompileOptions(run=False), stop_at="obj")
    assert result.info is not None and result.obj is not None
    y = np.full(result.info.outputs[0], np.nan, np.float32)
    assert HostJIT(result.ll).run(result.info.entry, [x.numpy()], [y]) == 0
    assert relative_error(y, ref) <= OBJECT_RTOL
    emulated = run_object(result.obj, [x.numpy()], "layer.o").outputs[0]
    assert relative_error(np.asarray(emulated).reshape(ref.shape), ref) <= OBJECT_RTOL


@pytest.mark.parametrize(
    "model",
    [nn.ELU(0.5), nn.GELU(), nn.GELU("tanh"), nn.SiLU(), nn.Hardswish(), nn.Hardsigmoid(), nn.LeakyReLU(0.05)],
    ids=lambda m: repr(m),
)
def test_activation_over_the_whole_float_range(model: nn.Module) -> None:
    """Every binade from 1e-6 to 1e4 of both signs through the host JIT, element by element against the float64
    reference interpreter: the transcendental expansions keep their accuracy in the tails (no cancellation, where
    PyTorch's own float32 GELU returns 0 below -5.8); NaN and infinities as PyTorch gives them."""
    magnitudes = np.geomspace(1e-6, 1e4, 400, dtype=np.float32)
    values = np.concatenate([magnitudes, -magnitudes, [0.0, np.inf, -np.inf, np.nan]]).astype(np.float32)
    x = torch.from_numpy(values.reshape(1, 1, 1, -1).copy())
    with torch.no_grad():
        torch_y = model(x).numpy()
    module = _imported(model.eval(), x)
    ref = run_module(module.clone(), [x.numpy()])[0]
    result = compile_module(module, "layer", CompileOptions(target="host"), stop_at="ll")
    assert result.info is not None
    y = np.zeros(result.info.outputs[0], np.float32)
    HostJIT(result.ll).run(result.info.entry, [x.numpy()], [y])
    for got in (y, ref):
        assert np.array_equal(np.isnan(got), np.isnan(torch_y))
        infinite = np.isinf(torch_y)
        assert np.array_equal(got[infinite], torch_y[infinite])
    finite = np.isfinite(ref)
    # below 1e-30 absolutely: Kernel.exp flushes results under FLT_MIN to 0 (silu(-88) = -5e-37 becomes -0)
    err = np.abs(y[finite] - ref[finite]) / np.maximum(np.abs(ref[finite]), 1e-30)
    assert float(err.max()) <= 2e-5
    assert relative_error(y, torch_y) <= OBJECT_RTOL


def test_batch_norm_in_training_mode_is_still_refused() -> None:
    """A module in training mode (running statistics present) is a user mistake with its hint; batch
    statistics come only from modules without running statistics."""
    model = nn.BatchNorm2d(3).train()
    x = _input((2, 3, 4, 4), 0)
    module, unsupported = import_program(export(LoadedModel("layer", model, None, (x,))), "layer")
    assert [u.reason for u in unsupported] == ["batch_norm in training mode: call model.eval() before export"]


def test_unsupported_modes_are_named() -> None:
    cases = [
        (Fn(lambda x: nn.functional.pad(x, (1, 1, 1, 1), mode="circular")), "circular padding"),
        (Fn(lambda x: nn.functional.pad(x, (-1, 0, 0, 0))), "negative padding crops"),
    ]
    for model, reason in cases:
        x = _input((1, 2, 4, 4), 0)
        _, unsupported = import_program(export(LoadedModel("layer", model, None, (x,))), "layer")
        assert unsupported and reason in unsupported[0].reason, [u.describe() for u in unsupported]
