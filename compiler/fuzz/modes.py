"""What a fuzzing mode (`--dtype`) changes: how a PyTorch module becomes t2m's input, and the tolerances.

fp32 imports the module as it is; the ladder is docs/design.md §7: the nn interpreter within 1e-5 of PyTorch
(relative to the output's scale), the host JIT and the Cortex-M4 object within 1e-4 of the interpreter, NaN and
infinities in exactly the same places (`compiler/compare.py`). Random graphs can be ill-conditioned (log_softmax of
inputs of scale 1000, then silu: outputs of 1e-15 computed from values of 1e3), where PyTorch's own float32 result
is far from the exact one. So PyTorch also runs the model in float64, and a level may differ from its reference by
up to `slack` times PyTorch's own float32 error when that exceeds the tolerance; if float32 and float64 PyTorch
disagree on NaN/inf positions (an overflow), the graph is `unstable` and such disagreements are no finding.

int8 quantizes the module with t2m's PT2E flow (`quantize_program`, calibrated on the graph's own input), imports
the converted program as a qnn module and runs it on the quantized input; PyTorch's reference is the converted
model's output quantized with the model's output (scale, zero point). Integer outputs are compared in steps of the
output scale (LSB): t2m's levels must agree bit for bit (docs/int8.md), while PyTorch's float simulation of the
integer arithmetic differs on ties and by the Q31 multipliers, by one LSB per layer at most, and a later, finer
scale multiplies such a step (one LSB of an average pool is six of the clamp after it that rescales 5.7x). So the
interpreter may be `INT8_TORCH_LSB` (5% of the int8 range) off PyTorch's converted model, and more only where it
is also that much farther from the float model than PyTorch's converted model is. The bit-exact rungs (host JIT,
emulator) are where int8 fuzzing is strict. The op table entries say which modes generate them (`OpSpec.dtypes`);
int8 graphs have no NaN/inf inputs and inputs of scale 1.
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
    exact: list[np.ndarray] | None = None
    """int8: the float model's outputs, quantized: an integer result at least as close to them as PyTorch's is
    no finding, however far from PyTorch's it is"""


@dataclass(frozen=True)
class Mode:
    name: str
    prepare: Callable[[Any, np.ndarray, str], Prepared]
    """(eval-mode module, input, model name) -> what the levels run"""
    tolerances: dict[str, tuple[str, float]]
    """level -> (the level it is compared with, max relative error; for integer outputs: max LSB)"""
    ready: Callable[[], None] = lambda: None
    """raises a T2MError when the mode cannot run on this t2m"""
    slack: float = 10.0
    """how many times PyTorch's own error a level may be off by, on ill-conditioned graphs"""
    special_inputs: bool = True
    """NaN/inf and scales other than 1 in the inputs"""
    documented: tuple[tuple[str, str], ...] = ()
    """(regex on the one-line error, where t2m documents the limitation): refusals that are no finding"""


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


def int8_disagreement(got: np.ndarray, ref: np.ndarray, lsb: int, exact: np.ndarray | None = None,
                      reference: str = "the reference") -> str | None:
    """How integer outputs differ from their reference by more than `lsb` steps, in words; None if they do not, or
    if `got` is no farther than `ref` (plus `lsb`) from `exact`, the float model's output quantized alike."""
    off = np.abs(got.astype(np.int64) - ref.astype(np.int64))
    if off.max(initial=0) <= lsb:
        return None
    if exact is not None:
        to_exact = [np.abs(a.astype(np.int64) - exact.astype(np.int64)).max(initial=0) for a in (got, ref)]
        if to_exact[0] <= to_exact[1] + lsb:
            return None
    first = tuple(int(k) for k in np.unravel_index(int(np.argmax(off)), off.shape))
    return (f"{int(got[first])} at {list(first)} where {reference} has {int(ref[first])} "
            f"({int((off > lsb).sum())} of {off.size} values more than {lsb} LSB off)")


def int8_prepare(model: Any, x: np.ndarray, name: str) -> Prepared:
    """PT2E int8 (t2m's quantizer, calibrated on `x`), imported as qnn; the reference is the converted model."""
    import torch

    from t2m.compiler.importer import LoadedModel, export, import_program, unsupported_error
    from t2m.compiler.importer.quantizer import quantize_program
    from t2m.compiler.interpreter import entry_function
    from t2m.compiler.model_info import describe_function, quantize

    example = (torch.from_numpy(x.copy()),)
    converted = quantize_program(export(LoadedModel(name, model, None, example)), example, [example])
    module, unsupported = import_program(converted, name)
    if unsupported:
        raise unsupported_error(name, unsupported)
    info = describe_function(entry_function(module))
    if not info.quant:
        raise T2MError("the quantizer left the whole model in float", "t2m.compiler.importer.quantizer",
                       "quantize some op of it (a conv, linear, add...)")
    with torch.no_grad():
        reference = outputs(converted.module()(torch.from_numpy(x.copy())))
        exact = outputs(model(torch.from_numpy(x.copy())))
    quantized = [[quantize(r, *q) for r, q in zip(rs, info.output_quant, strict=True)] for rs in (reference, exact)]
    return Prepared(module, [quantize(x, *info.input_quant[0])], quantized[0], exact=quantized[1])


INT8_TORCH_LSB = 12

MODES: dict[str, Mode] = {
    "fp32": Mode("fp32", fp32_prepare, {"interpreter": ("torch", 1e-5), "jit": ("interpreter", 1e-4),
                                        "emulator": ("interpreter", 1e-4)}),
    "int8": Mode("int8", int8_prepare, {"interpreter": ("torch", INT8_TORCH_LSB), "jit": ("interpreter", 0),
                                        "emulator": ("interpreter", 0)}, special_inputs=False,
                 documented=(("output \\d+ of the model is computed in float",
                              "docs/int8.md, the front end: a float op left between quantized ones"),
                             ("the quantizer left the whole model in float",
                              "docs/fuzzing.md, int8: a graph of identities has nothing to quantize"))),
}
