"""Shared by the int8 import tests: quantize a model with PT2E, import it, and compare the integer interpreter's
results with PyTorch's converted (float-simulated) model, in int8 LSBs and in real values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from xdsl.dialects.builtin import ModuleOp

from t2m.compiler.importer import import_program
from t2m.compiler.importer.quantizer import quantize_program
from t2m.compiler.interpreter import entry_function, run_module


def samples(shapes: Sequence[tuple[int, ...]], count: int, seed: int, scale: float = 1.0) -> list[tuple[Any, ...]]:
    """`count` tuples of N(0, scale^2) inputs (one tensor per shape), from their own seed."""
    generator = torch.Generator().manual_seed(seed)
    return [tuple(scale * torch.randn(s, generator=generator) for s in shapes) for _ in range(count)]


def quantize(model: torch.nn.Module, calibration: list[tuple[Any, ...]], quantizer: Any = None) -> Any:
    """The converted PT2E program of `model` (t2m's quantizer unless another is given)."""
    program = torch.export.export(model.eval(), calibration[0])
    return quantize_program(program, calibration[0], calibration, quantizer)


def import_quantized(program: Any, name: str = "m") -> ModuleOp:
    module, unsupported = import_program(program, name)
    assert not unsupported, [u.describe() for u in unsupported]
    return module


def io_quant(module: ModuleOp) -> tuple[list[tuple[float, int]], list[tuple[float, int]]]:
    """The (scale, zero point) of each model input and output (the `qnn.quant` argument/result attributes)."""
    function = entry_function(module)

    def values(attrs: Any) -> list[tuple[float, int]]:
        return [d.data["qnn.quant"].values for d in attrs.data]

    return values(function.arg_attrs), values(function.res_attrs)


def quantize_input(x: torch.Tensor, scale: float, zero_point: int) -> np.ndarray:
    """The int8 input as PT2E's graph quantizes it (its own op, so the integers are the same)."""
    q = torch.ops.quantized_decomposed.quantize_per_tensor(x, scale, zero_point, -128, 127, torch.int8)
    return q.numpy()


@dataclass
class Outputs:
    """int8 outputs of t2m's integer interpreter and of PyTorch's converted graph (re-quantized exactly: the
    graph ends in dequantize, so output / scale + zero point is an integer)."""

    t2m: list[np.ndarray]
    torch: list[np.ndarray]
    quant: list[tuple[float, int]]

    def max_lsb(self) -> int:
        pairs = zip(self.t2m, self.torch, strict=True)
        return max(int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max()) for a, b in pairs)

    def real(self, which: str) -> list[np.ndarray]:
        ints = self.t2m if which == "t2m" else self.torch
        return [s * (q.astype(np.float64) - z) for q, (s, z) in zip(ints, self.quant, strict=True)]


class Pair:
    """A converted PT2E program and its import: runs both on the same inputs."""

    def __init__(self, program: Any, module: ModuleOp):
        self.program, self.module = program, module
        self.reference = program.module(check_guards=False)  # built once: it is slow to build
        self.in_quant, self.out_quant = io_quant(module)

    def run(self, inputs: tuple[torch.Tensor, ...]) -> Outputs:
        ints = [quantize_input(x, s, z) for x, (s, z) in zip(inputs, self.in_quant, strict=True)]
        got = run_module(self.module, ints)
        with torch.no_grad():
            ref = self.reference(*inputs)
        refs = list(ref) if isinstance(ref, tuple | list) else [ref]
        ref_ints = [
            np.clip(np.round(r.numpy().astype(np.float64) / s) + z, -128, 127).astype(np.int8)
            for r, (s, z) in zip(refs, self.out_quant, strict=True)
        ]
        assert all(g.dtype == np.int8 for g in got)
        return Outputs(got, ref_ints, self.out_quant)


def run_both(program: Any, module: ModuleOp, inputs: tuple[torch.Tensor, ...]) -> Outputs:
    return Pair(program, module).run(inputs)


def qnn_ops(module: ModuleOp) -> list[str]:
    return [op.name for op in module.walk() if op.name.startswith(("qnn.", "nn."))]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(-1).astype(np.float64), b.reshape(-1).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def top1_agreement(outputs: np.ndarray, refs: np.ndarray) -> float:
    """The share of rows whose top class is a top class of the reference row: with int8 outputs two classes can
    tie, and either is then the reference's answer."""
    picked = refs[np.arange(len(refs)), outputs.argmax(1)]
    return float(np.mean(picked == refs.max(1)))


def weight_bytes(module: ModuleOp) -> int:
    """Bytes of the constants (int8 weights, int32 biases) of an imported module."""
    return sum(op.to_array().nbytes for op in module.walk() if op.name == "nn.constant")  # type: ignore[attr-defined]


__all__ = [
    "Outputs",
    "Pair",
    "cosine",
    "import_quantized",
    "io_quant",
    "qnn_ops",
    "quantize",
    "run_both",
    "samples",
    "top1_agreement",
    "weight_bytes",
]
