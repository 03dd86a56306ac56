"""How t2m compares two numeric results (used by `t2m-run --check`/`--torch`, the tests and the benchmarks).

Non-finite values must agree exactly, as PyTorch defines them: NaN where the reference has NaN, and the same
infinity where it has one, are agreement; NaN or an infinity on one side only, or opposite infinities, is a
mismatch, reported with its first position and how many there are. NaN's sign and payload are not compared
(IEEE leaves them open: x86's default NaN is negative, Arm's positive). Finite values: max |got - ref| / max |ref|
over the positions finite on both sides, relative to the output's scale so values near zero do not blow it up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Comparison:
    """How one result agrees with its reference."""

    error: float
    """max relative error over the positions finite on both sides; inf when shapes or non-finite values differ"""
    size: int
    nan: int
    """positions NaN on both sides"""
    inf: int
    """positions with the same infinity on both sides"""
    mismatches: int = 0
    """positions where NaN/inf differ"""
    first: tuple[int, ...] = ()
    """index of the first such position"""
    got: float = 0.0
    expected: float = 0.0
    shapes: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    """(got, reference) when the shapes differ"""

    @property
    def finite(self) -> int:
        return self.size - self.nan - self.inf - self.mismatches

    def agrees(self, rtol: float) -> bool:
        return self.shapes is None and self.mismatches == 0 and self.error <= rtol

    def mismatch(self, reference: str = "the reference") -> str | None:
        """The first shape or NaN/inf disagreement in words, or None."""
        if self.shapes is not None:
            got, ref = ("x".join(map(str, s)) for s in self.shapes)
            return f"shape {got} where {reference} has {ref}"
        if not self.mismatches:
            return None
        where = "[" + ", ".join(map(str, self.first)) + "]"
        return (
            f"{self.got:.7g} at {where} where {reference} has {self.expected:.7g} "
            f"({self.mismatches} of {self.size} values differ in NaN/inf)"
        )


def compare(got: np.ndarray, ref: np.ndarray) -> Comparison:
    """Compare `got` with `ref` (see the module docstring)."""
    got64, ref64 = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    if got64.shape != ref64.shape:
        return Comparison(float("inf"), ref64.size, 0, 0, shapes=(got64.shape, ref64.shape))
    got_nan, ref_nan = np.isnan(got64), np.isnan(ref64)
    finite = np.isfinite(got64) & np.isfinite(ref64)
    same_nan = got_nan & ref_nan
    same_inf = np.isinf(ref64) & (got64 == ref64)
    differ = ~(finite | same_nan | same_inf)
    scale = float(np.max(np.abs(ref64[finite]))) if finite.any() else 0.0
    diff = float(np.max(np.abs(got64[finite] - ref64[finite]))) if finite.any() else 0.0
    error = diff / scale if scale > 0 else diff
    nan, inf = int(same_nan.sum()), int(same_inf.sum())
    if not differ.any():
        return Comparison(error, ref64.size, nan, inf)
    first = tuple(int(i) for i in np.argwhere(differ)[0])
    return Comparison(
        float("inf"), ref64.size, nan, inf, int(differ.sum()), first, float(got64[first]), float(ref64[first])
    )


def relative_error(got: np.ndarray, ref: np.ndarray) -> float:
    """The max relative error of the finite values, inf when shapes or NaN/inf positions disagree."""
    return compare(got, ref).error


def cosine(got: np.ndarray, ref: np.ndarray) -> float:
    """Cosine similarity of two outputs (1.0 when both are zero): how int8 results are judged against float ones,
    whose differences are quantization, not error."""
    a, b = np.asarray(got, np.float64).ravel(), np.asarray(ref, np.float64).ravel()
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / norm) if norm else float(np.array_equal(a, b))


INT8_MIN_COSINE = {"converted": 0.999, "fp32": 0.99}
"""Agreement an int8 model must reach: with PyTorch's own converted (PT2E) int8 model, and with the fp32 model."""
