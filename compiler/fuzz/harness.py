"""What a finding's test file imports (emit.py writes them, tests/fuzz_regressions/ keeps them): the seeded weights
and input the fuzzer used, the model's outputs as arrays, PyTorch's own float32 error, and the assertions of one
rung of the ladder at the mode's tolerance.

The test files import these rather than carry copies, so a fix to the harness reaches every kept finding. The seeded
weights and inputs (`init_weights`, `make_input`) are part of what `--seed S` means: changing them changes every
campaign's graphs and every kept finding's model, so they change only with the findings rewritten.
"""

from __future__ import annotations

import numpy as np

from t2m.compiler.compare import compare
from t2m.compiler.fuzz.graph import init_weights, make_input
from t2m.compiler.fuzz.modes import conditioning, float32_error, float64_outputs, int8_disagreement, outputs

__all__ = ["agree", "agree_int8", "conditioning", "float32_error", "float64_outputs", "init_weights",
           "int8_disagreement", "make_input", "outputs"]


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
