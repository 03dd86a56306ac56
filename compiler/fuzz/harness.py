"""What a finding's test file imports (emit.py writes them, tests/fuzz_regressions/ keeps them): the seeded weights
and input the fuzzer used, the model's outputs as arrays, PyTorch's own float32 error, and the assertions of one
rung of the ladder at the mode's tolerance.

The test files import these rather than carry copies, so a fix to the harness reaches every kept finding. The seeded
weights and inputs (`init_weights`, `make_input`) are part of what `--seed S` means: changing them changes every
campaign's graphs and every kept finding's model, so they change only with the findings rewritten.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from t2m.compiler.compare import compare
from t2m.compiler.fuzz.graph import init_weights, make_input
from t2m.compiler.fuzz.modes import conditioning, float32_error, float64_outputs, int8_disagreement, outputs

__all__ = ["agree", "agree_int8", "conditioning", "float32_error", "float64_outputs", "init_weights",
           "int8_disagreement", "make_input", "outputs", "torch_int8_values"]


def agree(got: list[np.ndarray], expected: list[np.ndarray], rtol: float) -> None:
    """Every output within `rtol` of its reference, NaN and infinities in the same places."""
    assert len(got) == len(expected), f"{len(got)} outputs, expected {len(expected)}"
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert compare(a, b).agrees(rtol), f"output {i}: {compare(a, b)}"


def agree_int8(got: list[np.ndarray], expected: list[np.ndarray], lsb: int,
               exact: list[np.ndarray] | None = None) -> None:
    """Every integer output within `lsb` steps of its reference (`int8_disagreement`)."""
    assert len(got) == len(expected), f"{len(got)} outputs, expected {len(expected)}"
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert a.shape == b.shape, f"output {i}: shape {a.shape}, expected {b.shape}"
        why = int8_disagreement(a, b, lsb, None if exact is None else exact[i])
        assert why is None, f"output {i}: {why}"


def torch_int8_values(converted: Any, x: Any) -> list[np.ndarray]:
    """The int8 tensors of PyTorch's converted PT2E graph on input x, in graph order (each quantize op's result):
    what a finding's test compares t2m's intermediate values with, to tell an upstream 1-LSB tie from a fault."""
    import torch

    values: list[np.ndarray] = []

    class Recorder(torch.fx.Interpreter):
        def run_node(self, n: torch.fx.Node) -> Any:
            result = super().run_node(n)
            if n.op == "call_function" and "quantize_per_tensor" in str(n.target) and "dequantize" not in str(n.target):
                values.append(result.numpy())
            return result

    with torch.no_grad():
        Recorder(converted.module()).run(x)
    return values
