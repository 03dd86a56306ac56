"""What a fuzzing mode (`--dtype`) changes: how a PyTorch module becomes t2m's input, and the tolerances.

fp32 imports the module as it is; the ladder is docs/design.md §7: the nn interpreter within 1e-5 of PyTorch
(relative to the output's scale), the host JIT and the Cortex-M4 object within 1e-4 of the interpreter, NaN and
infinities in exactly the same places (`compiler/compare.py`).

int8 is a seam: `int8_prepare` is where the PT2E front end plugs in (quantize the module, calibrated on the
input, import it as a qnn module, and give the quantized input and PyTorch's converted output). Until t2m has
that front end, `--dtype int8` is refused with one line. The op table entries say which modes generate them
(`OpSpec.dtypes`). t2m's int8 levels agree bit for bit (rtol 0); PyTorch's float simulation may differ from the
interpreter by one step of the output scale (docs/int8.md), a tolerance the front end's `prepare` must set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from t2m.compiler.errors import T2MError

LEVELS = ("torch", "import", "interpreter", "compile", "jit", "object", "emulator")
"""The rungs a graph climbs, in order; a finding names the first one that fails."""


@dataclass
class Prepared:
    module: ModuleOp
    inputs: list[np.ndarray]
    """what t2m's code is called with (the fp32 input, or its int8 quantization)"""
    reference: np.ndarray
    """PyTorch's output, in the same representation as t2m's"""


@dataclass(frozen=True)
class Mode:
    name: str
    prepare: Callable[[Any, np.ndarray, str], Prepared]
    """(eval-mode module, input, model name) -> what the levels run"""
    tolerances: dict[str, tuple[str, float]]
    """level -> (the level it is compared with, max relative error)"""
    ready: Callable[[], None] = lambda: None
    """raises a T2MError when the mode cannot run on this t2m"""


def fp32_prepare(model: Any, x: np.ndarray, name: str) -> Prepared:
    import torch

    from t2m.compiler.importer import LoadedModel, export, import_program, unsupported_error

    inputs = (torch.from_numpy(x),)
    module, unsupported = import_program(export(LoadedModel(name, model, None, inputs)), name)
    if unsupported:
        raise unsupported_error(name, unsupported)
    with torch.no_grad():
        reference = model(*inputs).numpy()
    return Prepared(module, [x], reference)


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
