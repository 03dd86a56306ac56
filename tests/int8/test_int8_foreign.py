"""Graphs from another PT2E quantizer: ExecuTorch 1.5.1's CortexMQuantizer (per-tensor linear weights, weights
in [-128, 127], activations after pools sharing the pool's quantization, the model output quantized twice).

tests/int8/fixtures/cortex_m_int8.pt2 was made by tests/int8/fixtures/make_cortex_m_int8.py; it is read through the safe
.pt2 loader (as `t2m-import model.pt2` reads it) and compared with the converted graph it holds. The live test
quantizes the same model with ExecuTorch when it is installed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures import make_cortex_m_int8 as fixture
from int8_helpers import Pair, cosine, import_quantized, qnn_ops, quantize, samples, top1_agreement
from torch import nn
from xdsl.dialects.builtin import ModuleOp

from t2m.compiler.importer import load_model
from t2m.compiler.interpreter import entry_function
from t2m.dialects import qnn

FIXTURE = Path(fixture.__file__).with_name("cortex_m_int8.pt2")


def _check(program: object, module: ModuleOp) -> None:
    """As the zoo models: top-1 and cosine against the converted graph; and the probabilities within two steps
    of softmax's own int8 output (1/256: the graph then requantizes them to a finer output scale, where one
    softmax step is several output LSBs)."""
    pair = Pair(program, module)
    generator = torch.Generator().manual_seed(7)
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    for _ in range(100):
        out = pair.run((torch.randn(fixture.INPUT_SHAPE, generator=generator),))
        rows.append((out.real("t2m")[0][0], out.real("torch")[0][0]))
    t2m, ref = (np.stack(r) for r in zip(*rows, strict=True))
    assert np.mean([cosine(a, b) for a, b in rows]) >= 0.999
    assert top1_agreement(t2m, ref) >= 0.99
    assert np.abs(t2m - ref).max() <= 2 / 256


def test_cortex_m_graph_imports_and_agrees() -> None:
    program = load_model(str(FIXTURE)).program
    module = import_quantized(program, "cortex_m")
    ops = qnn_ops(module)
    for op in ("qnn.conv2d", "qnn.add", "qnn.mul", "qnn.max_pool2d", "qnn.avg_pool2d", "qnn.linear", "qnn.softmax"):
        assert op in ops, op
    linear = next(op for op in module.walk() if isinstance(op, qnn.LinearOp))
    rescale = next(iter(linear.results[0].uses)).operation
    assert isinstance(rescale, qnn.RescaleOp) and rescale.requant.channels == 1  # per-tensor linear weights
    (clamp,) = [op for op in module.walk() if isinstance(op, qnn.ClampOp)]  # hardtanh after the pool, shared scale
    assert clamp.min.value.data == -128 and -128 < clamp.max.value.data < 127
    assert ops[-1] == "qnn.rescale"  # softmax's 1/256 requantized to the output's scale
    _check(program, module)


@pytest.mark.skipif(
    importlib.util.find_spec("executorch") is None,
    reason="executorch is not installed (pip install executorch==1.5.1 tosa-tools==2026.5.0 to run this test)",
)
def test_cortex_m_quantizer_live() -> None:
    """CortexMQuantizer run now: t2m imports its graph, and the fixture is what the script makes."""
    program = fixture.quantize_with_cortex_m()
    module = import_quantized(program, "cortex_m")
    _check(program, module)
    assert qnn_ops(module) == qnn_ops(import_quantized(load_model(str(FIXTURE)).program, "cortex_m"))


class PaddedResidual(nn.Module):
    """TF-style zero padding on the model input, conv + ReLU, max pool, a residual add, average pool, linear."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.pad = nn.ZeroPad2d((0, 1, 0, 1))
        self.conv = nn.Conv2d(3, 8, 3, stride=2)
        self.inner = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 2 * 2, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.max_pool2d(torch.relu(self.conv(self.pad(x))), 2)
        y = torch.relu(y + self.inner(y))
        return self.fc(torch.flatten(nn.functional.avg_pool2d(y, 2), 1))


def test_xnnpack_quantizer_graph() -> None:
    """torchao's XNNPACKQuantizer (shipped with torchao): float biases, the model input quantized after its zero
    padding, a pad quantized with its own scale before the convolution that absorbs it."""
    import warnings

    from torchao.testing.pt2e._xnnpack_quantizer import XNNPACKQuantizer, get_symmetric_quantization_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "XNNPACKQuantizer is deprecated"
        quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
        program = quantize(PaddedResidual(), samples([(1, 3, 16, 16)], 16, seed=0), quantizer)
    float_biases = [n for n in program.graph.nodes if n.op == "placeholder" and n.name.endswith("_bias") and n.users]
    assert float_biases  # XNNPACK keeps biases float: t2m quantizes them at s_in * s_w[c]
    module = import_quantized(program)
    first = next(op for op in module.walk() if isinstance(op, qnn.Conv2dOp))
    assert first.input == entry_function(module).args[0] and list(first.padding.get_values()) == [0, 0, 1, 1]
    pair = Pair(program, module)
    rows = []
    for x in samples([(1, 3, 16, 16)], 50, seed=1):
        out = pair.run(x)
        rows.append((out.real("t2m")[0][0], out.real("torch")[0][0]))
    t2m, ref = (np.stack(r) for r in zip(*rows, strict=True))
    assert np.mean([cosine(a, b) for a, b in rows]) >= 0.999
    assert top1_agreement(t2m, ref) >= 0.99
