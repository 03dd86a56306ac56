"""The zoo models quantized by t2m's PT2E quantizer and imported to qnn: over 100 inputs of the calibration
distribution (calibrated on 100 others), the integer interpreter agrees with PyTorch's converted model and stays
as close to the fp32 model as that converted model does.

The zoo's weights are random, and on N(0, 1) inputs the three classifiers give one class for every input (the
logits vary little around their biases): top-1 agreement is asserted, but it is the cosine similarities (per
sample, of the dequantized outputs) that carry the comparison. AD (an autoencoder, no classes) is compared by
cosine only. The integer path differs from the converted graph's float simulation by 1 LSB on ties and Q31
rounding (docs/int8.md), and such differences grow through deep stacks (MobileNetV1: 27 layers), which is why
the comparison is on whole outputs and not bit for bit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from int8_helpers import Pair, cosine, import_quantized, quantize, samples, top1_agreement, weight_bytes
from torch import nn
from xdsl.dialects.builtin import ModuleOp

from t2m.compiler import zoo

CLASSIFIERS = {"kws", "vww", "ic"}


@dataclass
class ZooRun:
    name: str
    model: nn.Module
    module: ModuleOp
    t2m: np.ndarray  # dequantized outputs, one row per input
    converted: np.ndarray
    fp32: np.ndarray
    seconds: tuple[float, float]  # calibration + convert, import

    def cosines(self, ref: np.ndarray) -> np.ndarray:
        return np.array([cosine(a, b) for a, b in zip(self.t2m, ref, strict=True)])

    def top1(self, ref: np.ndarray) -> float:
        return top1_agreement(self.t2m, ref)


@pytest.fixture(scope="module", params=sorted(zoo.ZOO))
def run(request: pytest.FixtureRequest) -> ZooRun:
    name = request.param
    model = zoo.build(name)
    shape = tuple(model.example_inputs()[0].shape)
    start = time.perf_counter()
    program = quantize(model, samples([shape], 100, seed=10))
    calibrated = time.perf_counter()
    module = import_quantized(program, name)
    imported = time.perf_counter()
    rows: list[list[np.ndarray]] = [[], [], []]
    pair = Pair(program, module)
    for x in samples([shape], 100, seed=11):
        out = pair.run(x)
        with torch.no_grad():
            fp32 = model(*x).numpy().astype(np.float64)
        for row, value in zip(rows, (out.real("t2m")[0], out.real("torch")[0], fp32), strict=True):
            row.append(value.reshape(-1))
    t2m, converted, fp32 = (np.stack(r) for r in rows)
    return ZooRun(name, model, module, t2m, converted, fp32, (calibrated - start, imported - calibrated))


def test_cosine_against_converted_and_fp32(run: ZooRun) -> None:
    assert run.cosines(run.converted).mean() >= 0.999
    assert run.cosines(run.fp32).mean() >= 0.99


def test_as_close_to_fp32_as_pytorchs_int8(run: ZooRun) -> None:
    """The integer path loses no more than PyTorch's own int8 simulation does (up to 0.002 of cosine)."""
    converted_vs_fp32 = np.array([cosine(a, b) for a, b in zip(run.converted, run.fp32, strict=True)])
    assert run.cosines(run.fp32).mean() >= converted_vs_fp32.mean() - 0.002


def test_top1_agreement(run: ZooRun) -> None:
    if run.name not in CLASSIFIERS:
        pytest.skip("AD is an autoencoder: no classes, compared by cosine")
    assert run.top1(run.converted) >= 0.99
    assert run.top1(run.fp32) >= 0.99


def test_weights_are_int8_and_biases_int32(run: ZooRun) -> None:
    """One byte per weight and four per output channel (every bias, BN folded in): a quarter of fp32."""
    layers = [m for m in run.model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    expected = sum(m.weight.numel() + 4 * m.weight.shape[0] for m in layers)
    assert weight_bytes(run.module) == expected
