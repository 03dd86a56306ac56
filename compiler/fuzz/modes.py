"""What a fuzzing mode (`--dtype`) changes: how a PyTorch module becomes t2m's input, and the tolerances.

fp32 imports the module as it is; the ladder is docs/design.md §7: the nn interpreter within 1e-5 of PyTorch
(relative to the output's scale), the host JIT and the Cortex-M4 object within 1e-4 of the interpreter, NaN and
infinities in exactly the same places (`compiler/compare.py`). Random graphs can be ill-conditioned (log_softmax of
inputs of scale 1000, then silu: outputs of 1e-15 computed from values of 1e3), where PyTorch's own float32 result
is far from the exact one. So PyTorch also runs the model in float64, and a level may differ from its reference by
up to `slack` times PyTorch's own float32 error when that exceeds the tolerance; if float32 and float64 PyTorch
disagree on NaN/inf positions (an overflow), the graph is `unstable` and such disagreements are no finding.

int8 is a seam: `int8_prepare` is where the PT2E front end plugs in (quantize the module, calibrated on the
input, import it as a qnn module, and give the quantized input and PyTorch's converted output). Until t2m has
that front end, `--dtype int8` is refused with one line. The op table entries say which modes generate them
(`OpSpec.dtypes`). t2m's int8 levels agree bit for bit (rtol 0); PyTorch's float simulation may differ from the
interpreter by one step of the output scale (docs/int8.md), a tolerance the front end's `prepare` must set.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from t2m.compiler.compare import compare
from t2m.compiler.errors import T2MError

if TYPE_CHECKING:
    import torch

LEVELS = ("torch", "import", "interpreter", "compile", "jit", "object", "emulator")
"""The rungs a graph climbs, in order; a finding names the first one that fails."""


@dataclass
class Prepared:
    module: ModuleOp
    inputs: list[np.ndarray]
    """what t2m's code is called with (the fp32 input, or its int8 quantization)"""
    reference: list[np.ndarray]
    """PyTorch's outputs, in the same representation as t2m's"""
    conditioning: float = 0.0
    """PyTorch's own error: its output against the exact one (float64), relative, finite positions only"""
    unstable: bool = False
    """PyTorch's output and the exact one differ in NaN/inf positions"""


@dataclass(frozen=True)
class Mode:
    name: str
    prepare: Callable[[Any, np.ndarray, str], Prepared]
    """(eval-mode module, input, model name) -> what the levels run"""
    tolerances: dict[str, tuple[str, float]]
    """level -> (the level it is compared with, max relative error)"""
    ready: Callable[[], None] = lambda: None
    """raises a T2MError when the mode cannot run on this t2m"""
    slack: float = 10.0
    """how many times PyTorch's own error a level may be off by, on ill-conditioned graphs"""


def float64_outputs(model: torch.nn.Module, x: np.ndarray) -> list[np.ndarray] | None:
    """The model run in float64, the exact answer to measure PyTorch's own float32 error by; None for a model
    that converts to float32 itself (`x.float()`), where float64 weights meet float32 activations."""
    import torch

    try:
        with torch.no_grad():
            return outputs(copy.deepcopy(model).double()(torch.from_numpy(x.copy()).double()))
    except RuntimeError:
        return None


def float32_error(got: np.ndarray, exact: np.ndarray) -> float:
    """PyTorch's own float32 error: its output against the same model in float64, where both are finite."""
    finite = np.isfinite(got) & np.isfinite(exact)
    return compare(np.where(finite, got, 0), np.where(finite, exact, 0)).error


def conditioning(expected: list[np.ndarray], exact: list[np.ndarray] | None) -> float:
    """PyTorch's own float32 error over every output (0 when there is no float64 answer)."""
    return 0.0 if exact is None else max(map(float32_error, expected, exact))


def fp32_prepare(model: Any, x: np.ndarray, name: str) -> Prepared:
    import torch

    from t2m.compiler.importer import LoadedModel, export, import_program, unsupported_error

    module, unsupported = import_program(export(LoadedModel(name, model, None, (torch.from_numpy(x.copy()),))), name)
    if unsupported:
        raise unsupported_error(name, unsupported)
    with torch.no_grad():  # on copies of x: an in-place op may write into the model's input
        reference = outputs(model(torch.from_numpy(x.copy())))
    exact = float64_outputs(model, x)
    unstable = exact is not None and any(compare(r, e).mismatches for r, e in zip(reference, exact, strict=True))
    return Prepared(module, [x], reference, conditioning(reference, exact), unstable)


def outputs(result: torch.Tensor | tuple[torch.Tensor, ...]) -> list[np.ndarray]:
    """A model's output or tuple of outputs as a list of arrays."""
    return [t.numpy() for t in (result if isinstance(result, tuple) else (result,))]


def int8_ready() -> None:
    raise T2MError(
        "--dtype int8 is not available yet: t2m has no PT2E int8 front end (--quantize int8) to fuzz",
        "--dtype",
        "use --dtype fp32; int8 plugs in at t2m.compiler.fuzz.modes.int8_prepare when the front end lands",
    )


def int8_prepare(model: Any, x: np.ndarray, name: str) -> Prepared:
    int8_ready()
    raise AssertionError("unreachable")


MODES: dict[str, Mode] = {
    "fp32": Mode("fp32", fp32_prepare, {"interpreter": ("torch", 1e-5), "jit": ("interpreter", 1e-4),
                                        "emulator": ("interpreter", 1e-4)}),
    "int8": Mode("int8", int8_prepare, {"interpreter": ("torch", 0.0), "jit": ("interpreter", 0.0),
                                        "emulator": ("interpreter", 0.0)}, ready=int8_ready),
}
