"""Single layers through the whole compiler to LLVM IR, run by the host JIT, against PyTorch.

≥ 50 conv2d configurations (stride 1-3, padding 0-2, dilation 1-2, groups 1/2/depthwise, bias on/off,
non-square kernels and inputs, fused ReLU) and ≥ 20 linear shapes (`in` not a multiple of 4, rows > 1).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from t2m.compiler.backend import HostJIT
from t2m.compiler.compare import relative_error
from t2m.compiler.compile import CompileOptions, compile_module
from t2m.compiler.importer import export, import_program
from t2m.compiler.importer.loading import LoadedModel

RTOL = 1e-4


def jit_vs_torch(model: nn.Module, shape: tuple[int, ...], seed: int) -> float:
    torch.manual_seed(seed)
    for p in model.parameters():
        torch.nn.init.uniform_(p, -0.5, 0.5)
    model = model.eval()
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    module, unsupported = import_program(export(LoadedModel("layer", model, None, (x,))), "layer")
    assert not unsupported
    result = compile_module(module, "layer", CompileOptions(target="host"), stop_at="ll")
    with torch.no_grad():
        ref = model(x).numpy()
    y = np.zeros(result.info.outputs[0], np.float32)
    assert HostJIT(result.ll).run(result.info.entry, [x.numpy()], [y]) == 0
    return relative_error(y, ref)


def _conv_configs() -> list[tuple]:
    """(in_ch, out_ch, kernel, stride, padding, dilation, groups, bias, input HxW, relu)."""
    configs = []
    for stride, padding, dilation in itertools.product((1, 2, 3), (0, 1, 2), (1, 2)):
        configs.append((3, 4, (3, 3), stride, padding, dilation, 1, (stride + padding) % 2 == 0, (11, 9), False))
    configs += [
        (4, 6, (3, 3), 1, 1, 1, 2, True, (8, 8), False),  # grouped
        (6, 6, (3, 3), 2, 1, 1, 3, False, (9, 7), True),
        (8, 8, (3, 3), 1, 1, 1, 8, True, (7, 10), True),  # depthwise
        (8, 8, (3, 3), 2, 1, 1, 8, False, (12, 9), False),
        (8, 8, (5, 5), 1, 2, 1, 8, True, (9, 9), False),
        (8, 8, (3, 3), 1, 2, 2, 8, True, (10, 6), True),
        (1, 16, (10, 4), 2, (4, 1), 1, 1, True, (49, 10), True),  # KWS-like first layer
        (3, 5, (1, 7), 1, (0, 3), 1, 1, True, (5, 13), False),  # non-square kernels
        (3, 5, (7, 1), 2, (3, 0), 1, 1, False, (13, 5), False),
        (2, 3, (2, 4), (1, 2), (1, 2), (2, 1), 1, True, (9, 11), True),
        (16, 16, (1, 1), 1, 0, 1, 1, True, (5, 5), True),  # pointwise
        (5, 7, (1, 1), 2, 0, 1, 1, False, (6, 9), False),
        (4, 4, (3, 3), 1, 0, 1, 4, False, (3, 3), False),  # 1x1 output
        (3, 8, (3, 3), 2, 1, 1, 1, True, (16, 16), True),
        (2, 2, (4, 4), 3, 2, 1, 2, True, (14, 11), False),
        (6, 4, (3, 2), 1, 1, 2, 2, True, (8, 12), True),
        (12, 12, (3, 3), 3, 1, 1, 12, True, (15, 15), False),
        (1, 1, (1, 1), 1, 0, 1, 1, False, (1, 1), False),
        (3, 9, (3, 3), 1, 1, 1, 3, True, (6, 6), True),
        (4, 8, (2, 2), 2, 0, 1, 1, True, (8, 8), True),
        (7, 3, (5, 3), 1, (2, 1), 1, 1, True, (10, 7), False),
        (2, 4, (3, 3), 2, 2, 2, 2, False, (13, 13), True),
        (10, 10, (3, 3), 1, 1, 1, 10, False, (25, 5), True),
        (3, 3, (3, 3), 1, "same", 1, 1, True, (7, 8), False),
        (3, 3, (4, 4), 1, "same", 1, 1, True, (7, 8), True),  # asymmetric "same" padding
        (6, 6, (3, 3), 3, 0, 1, 6, True, (11, 11), False),  # depthwise, stride 3
        (6, 6, (3, 3), 1, 2, 2, 6, False, (9, 8), True),  # depthwise, dilated
        (4, 6, (3, 5), 2, (1, 2), (1, 2), 2, True, (10, 12), False),
        (8, 4, (1, 1), 1, 0, 1, 4, True, (4, 6), True),  # grouped pointwise
        (2, 6, (3, 3), 1, 0, 1, 2, False, (5, 4), False),  # groups with channel multiplier
        (3, 4, (6, 6), 2, 0, 1, 1, True, (12, 12), True),  # large kernel
        (5, 5, (2, 3), 3, 2, 2, 5, True, (13, 14), False),
    ]
    return configs


CONVS = _conv_configs()


@pytest.mark.parametrize("config", CONVS, ids=[f"conv{i}" for i in range(len(CONVS))])
def test_conv2d(config: tuple) -> None:
    cin, cout, kernel, stride, padding, dilation, groups, bias, (h, w), relu = config
    conv = nn.Conv2d(cin, cout, kernel, stride, padding, dilation, groups, bias)
    model = nn.Sequential(conv, nn.ReLU()) if relu else conv
    assert jit_vs_torch(model, (1, cin, h, w), seed=len(str(config))) <= RTOL


def test_enough_conv_configurations() -> None:
    assert len(CONVS) >= 50


LINEARS = [
    (n_in, n_out, rows, bias)
    for n_in, n_out, rows, bias in [
        (1, 1, 1, True),
        (3, 2, 1, False),
        (4, 4, 1, True),
        (5, 3, 2, True),
        (6, 8, 1, False),
        (7, 9, 3, True),
        (8, 12, 1, True),
        (9, 13, 1, False),
        (10, 16, 2, True),
        (13, 4, 1, True),
        (16, 17, 1, True),
        (17, 5, 4, False),
        (31, 7, 1, True),
        (33, 24, 1, True),
        (63, 12, 1, True),
        (64, 12, 1, True),
        (100, 10, 2, False),
        (127, 33, 1, True),
        (640, 128, 1, True),
        (128, 640, 1, False),
        (250, 3, 1, True),
        (2, 64, 1, True),
    ]
]


@pytest.mark.parametrize("n_in,n_out,rows,bias", LINEARS)
def test_linear(n_in: int, n_out: int, rows: int, bias: bool) -> None:
    assert jit_vs_torch(nn.Linear(n_in, n_out, bias), (rows, n_in), seed=n_in + n_out) <= RTOL


def test_enough_linear_shapes() -> None:
    assert len(LINEARS) >= 20 and sum(n_in % 4 != 0 for n_in, *_ in LINEARS) >= 10


@pytest.mark.parametrize(
    "activation",
    [nn.Hardswish(), nn.Hardsigmoid(), nn.SiLU(), nn.ReLU6(), nn.Sigmoid(), nn.Tanh()],
    ids=lambda a: type(a).__name__,
)
def test_activation_after_conv(activation: nn.Module) -> None:
    """Activations (some imported as compositions of nn ops) through fusion, lowering and the JIT."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), activation, nn.Conv2d(4, 2, 1))
    assert jit_vs_torch(model, (1, 3, 7, 6), seed=3) <= RTOL


class LogSoftmax(nn.Module):
    def __init__(self, n_in: int, n_out: int, dim: int, scale: float) -> None:
        super().__init__()
        self.fc, self.dim, self.scale = nn.Linear(n_in, n_out), dim, scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.log_softmax(self.fc(x) * self.scale, dim=self.dim)


@pytest.mark.parametrize(
    "n_in,n_out,dim,scale", [(8, 10, 1, 1.0), (16, 3, -1, 40.0), (5, 100, 1, 0.01), (7, 12, 0, 8.0)]
)
def test_log_softmax(n_in: int, n_out: int, dim: int, scale: float) -> None:
    """log(sum(exp)) expanded in arith (no libm): sums from ~1 (one dominant logit) to ~n_out (flat logits)."""
    assert jit_vs_torch(LogSoftmax(n_in, n_out, dim, scale), (3, n_in), seed=n_out) <= RTOL
