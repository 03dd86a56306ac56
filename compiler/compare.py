"""How t2m compares two numeric results (used by `t2m-run --check`, the tests and the benchmarks)."""

from __future__ import annotations

import numpy as np


def relative_error(got: np.ndarray, ref: np.ndarray) -> float:
    """max |got - ref| / max |ref|: relative to the output's scale, so values near zero do not blow it up."""
    got64, ref64 = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    if got64.shape != ref64.shape:
        return float("inf")
    scale = float(np.max(np.abs(ref64))) if ref64.size else 0.0
    diff = float(np.max(np.abs(got64 - ref64))) if ref64.size else 0.0
    return diff / scale if scale > 0 else diff
