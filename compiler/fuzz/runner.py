"""Run one fuzz graph up the verification ladder and say where, if anywhere, it first goes wrong.

PyTorch runs the module first: if it fails, the graph itself is invalid (a generator bug, `invalid`). Then the
mode imports it, and every later level (nn interpreter, host JIT of the LLVM IR, the Cortex-M4 object on the
emulator) is compared with its reference level at the mode's tolerance. The first disagreement is a `mismatch`;
any exception, including a T2MError, is a `crash`, except the refusals t2m documents (the mode's `documented`),
which are `unsupported`. The generator never draws documented-unsupported constructs, so that list stays short.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from t2m.compiler.compare import compare
from t2m.compiler.errors import T2MError
from t2m.compiler.fuzz.graph import Graph, build, make_input
from t2m.compiler.fuzz.modes import LEVELS, Mode, Prepared, int8_disagreement

if TYPE_CHECKING:
    from t2m.compiler.compile import CompileResult

MODEL_NAME = "fuzz"


@dataclass
class Outcome:
    kind: str
    """ok, mismatch, crash, unsupported (documented), unstable (overflow in float32 PyTorch) or invalid"""
    level: str = ""
    """the first level that failed (one of modes.LEVELS)"""
    detail: str = ""
    error_type: str = ""
    errors: dict[str, float] = field(default_factory=dict[str, float])
    """level -> relative error against its reference (for integer outputs: the largest difference in LSB)"""
    widened: bool = False
    """the graph is ill-conditioned enough that PyTorch's own float32 error widened the tolerance"""

    @property
    def finding(self) -> bool:
        return self.kind in ("mismatch", "crash")

    def signature(self) -> tuple[str, str, str]:
        """What the minimiser keeps constant: the same kind of failure at the same level (for a crash, the same
        exception type and message stem, numbers blanked out, so shrinking shapes does not change it)."""
        stem = re.sub(r"\d+", "N", self.detail)[:60] if self.kind == "crash" else ""
        return self.kind, self.level, f"{self.error_type} {stem}".strip()

    def describe(self) -> str:
        return f"{self.kind} at {self.level}: {self.detail}" if self.kind != "ok" else "ok"


def _first_line(e: BaseException) -> str:
    if isinstance(e, T2MError):
        return "; ".join([e.one_line(), *e.details])
    return (str(e).strip().splitlines() or [""])[0][:300]


def documented(mode: Mode, message: str) -> str | None:
    return next((where for pattern, where in mode.documented if re.search(pattern, message)), None)


class _Failed(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


class Ladder:
    """One climb: the outputs of each level, checked against their reference as soon as they exist."""

    def __init__(self, mode: Mode, model: Any, x: np.ndarray):
        self.mode, self.model, self.x = mode, model, x
        self.outputs: dict[str, list[np.ndarray]] = {}
        self.errors: dict[str, float] = {}
        self.prepared: Prepared | None = None
        self.compiled: CompileResult | None = None

    def record(self, level: str, outputs: list[np.ndarray]) -> None:
        self.outputs[level] = outputs
        if level not in self.mode.tolerances:
            return
        reference, rtol = self.mode.tolerances[level]
        expected = self.outputs[reference]
        if len(outputs) != len(expected):
            raise _Failed(Outcome("mismatch", level, f"{len(outputs)} outputs where {reference} has {len(expected)}"))
        if all(o.dtype.kind == "i" for o in (*outputs, *expected)):
            self.record_integers(level, reference, int(rtol))
            return
        prepared = self.prepared
        assert prepared is not None
        tolerance = max(rtol, self.mode.slack * prepared.conditioning)
        results = [compare(got, ref) for got, ref in zip(outputs, expected, strict=True)]
        self.errors[level] = max(r.error for r in results)
        for i, result in enumerate(results):
            if result.agrees(tolerance):
                continue
            what = result.mismatch(reference)
            if what is None:
                what = f"relative error {result.error:.3g} > {tolerance:.3g} against {reference}"
            if len(results) > 1:
                what = f"output {i}: {what}"
            if tolerance > rtol:
                what += f" (PyTorch's own float32 error {prepared.conditioning:.3g})"
            kind = "unstable" if result.mismatches and prepared.unstable else "mismatch"
            raise _Failed(Outcome(kind, level, what, errors=dict(self.errors)))

    def record_integers(self, level: str, reference: str, lsb: int) -> None:
        """Integer outputs (int8): at most `lsb` steps of the output scale from the reference, shapes equal;
        against PyTorch, also when no farther from the float model (`Prepared.exact`) than PyTorch is."""
        assert self.prepared is not None
        exact = self.prepared.exact if reference == "torch" else None
        for i, (got, ref) in enumerate(zip(self.outputs[level], self.outputs[reference], strict=True)):
            where = f"output {i}: " if len(self.outputs[level]) > 1 else ""
            if got.shape != ref.shape:
                raise _Failed(Outcome("mismatch", level, where + (compare(got, ref).mismatch(reference) or "")))
            off = np.abs(got.astype(np.int64) - ref.astype(np.int64)).max(initial=0)
            self.errors[level] = max(self.errors.get(level, 0.0), float(off))
            if why := int8_disagreement(got, ref, lsb, None if exact is None else exact[i], reference):
                raise _Failed(Outcome("mismatch", level, where + why, errors=dict(self.errors)))

    def climb(self, level: str) -> None:
        from t2m.compiler.backend import HostJIT
        from t2m.compiler.compile import CompileOptions, build_object, compile_module
        from t2m.compiler.emulate import run_object
        from t2m.compiler.interpreter import run_module

        if level == "import":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.prepared = self.mode.prepare(self.model, self.x, MODEL_NAME)
            self.record("torch", self.prepared.reference)
            return
        prepared = self.prepared
        assert prepared is not None
        if level == "interpreter":
            self.record(level, run_module(prepared.module, prepared.inputs))
            return
        if level == "compile":
            self.compiled = compile_module(prepared.module, MODEL_NAME, CompileOptions(run=False), "ll")
            return
        result = self.compiled
        assert result is not None and result.info is not None
        if level == "jit":
            outs = [np.zeros(shape, ref.dtype) for shape, ref in zip(result.info.outputs, prepared.reference,
                                                                      strict=False)]
            status = HostJIT(result.ll).run(result.info.entry, prepared.inputs, outs)
            if status != 0:
                raise RuntimeError(f"{result.info.entry} returned {status} on the host JIT")
            self.record(level, outs)
        elif level == "object":
            build_object(result, MODEL_NAME, CompileOptions(run=False))
        elif level == "emulator":
            self.record(level, run_object(result.obj, prepared.inputs, MODEL_NAME).outputs)


def run_graph(graph: Graph, mode: Mode, emulator: bool = True, last: str = "emulator") -> Outcome:
    """Climb the ladder up to `last` (the last two levels only if `emulator`)."""
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = build(graph)
            x = make_input(graph.input_shape, graph.seed, graph.special, graph.scale)
            with torch.no_grad():
                model(torch.from_numpy(x.copy()))
    except Exception as e:
        return Outcome("invalid", "torch", _first_line(e), type(e).__name__)
    stop = min(LEVELS.index(last), LEVELS.index("emulator" if emulator else "jit"))
    ladder = Ladder(mode, model, x)
    level = "import"
    try:
        for level in LEVELS[1 : stop + 1]:
            ladder.climb(level)
    except _Failed as failed:
        return failed.outcome
    except Exception as e:
        message = _first_line(e)
        if isinstance(e, T2MError) and (where := documented(mode, message)):
            return Outcome("unsupported", level, f"{message} (documented: {where})", type(e).__name__)
        return Outcome("crash", level, message, type(e).__name__, dict(ladder.errors))
    conditioning = ladder.prepared.conditioning if ladder.prepared else 0.0
    widened = mode.slack * conditioning > min(rtol for _, rtol in mode.tolerances.values())
    return Outcome("ok", errors=dict(ladder.errors), widened=widened)
