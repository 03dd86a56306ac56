"""t2m-fuzz finding: crash at import: model 'fuzz' uses 1 unsupported op (aten.slice_scatter.default), for an
in-place activation on a full slice of the input (`nn.Hardswish(inplace=True)(x[:])`). Functionalization (see
test_inplace_op_on_a_view_of_the_input.py) writes the activation back into the input with slice_scatter, which the
importer did not know. Fixed in compiler/importer/aten.py `slice_scatter`: over a full slice its result is the
written value; a partial one is refused with the reason.

Found by `t2m-fuzz --seed 12 graph 571` (minimised to 2 ops).

Reproduce: pytest test_inplace_op_on_a_full_slice.py
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from t2m.compiler.backend import HostJIT
from t2m.compiler.compare import compare
from t2m.compiler.compile import CompileOptions, build_object, compile_module
from t2m.compiler.emulate import run_object
from t2m.compiler.importer import LoadedModel, export, import_program
from t2m.compiler.interpreter import run_module

INPUT_SHAPE = (1, 1, 1)
SEED = 12000607
SPECIAL = ()
SCALE = 1.0


class FuzzModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.l2 = nn.Hardswish(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v1 = x[:]  # identity: 1x1x1
        v2 = self.l2(v1)  # hardswish: 1x1x1
        return v2


def init_weights(model: torch.nn.Module, seed: int) -> None:
    """Seeded weights: uniform with the variance that keeps activations O(1) for weight matrices and kernels,
    uniform in [-1, 1] for biases and constants, batch-norm variances in [0.5, 2]."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            if not tensor.is_floating_point():
                continue
            u = torch.rand(tensor.shape, generator=generator) * 2 - 1
            if name.endswith("running_var"):
                tensor.copy_(1.25 + 0.75 * u)
            elif name.endswith("weight") and tensor.dim() >= 2:
                tensor.copy_(u * math.sqrt(3 / tensor[0].numel()))
            else:
                tensor.copy_(u)


def make_input(shape: tuple[int, ...], seed: int, special: tuple[tuple[int, float], ...], scale: float) -> np.ndarray:
    """Seeded normal input of standard deviation `scale`, with `special` (flat index, value) pairs placed into it."""
    x = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)
    for index, value in special:
        x.reshape(-1)[index] = value
    return x


def outputs(result: torch.Tensor | tuple[torch.Tensor, ...]) -> list[np.ndarray]:
    """A model's output or tuple of outputs as a list of arrays."""
    return [t.numpy() for t in (result if isinstance(result, tuple) else (result,))]


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


def agree(got: list[np.ndarray], expected: list[np.ndarray], rtol: float) -> None:
    """Every output within `rtol` of its reference, NaN and infinities in the same places (pasted into findings)."""
    assert len(got) == len(expected), f"{len(got)} outputs, expected {len(expected)}"
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert compare(a, b).agrees(rtol), f"output {i}: {compare(a, b)}"


def test_fuzz_finding() -> None:
    model = FuzzModel()
    init_weights(model, SEED)
    model.eval()
    x = make_input(INPUT_SHAPE, SEED, SPECIAL, SCALE)
    with torch.no_grad():  # on copies of x: an in-place op may write into the model's input
        expected = outputs(model(torch.from_numpy(x.copy())))
    slack = 10.0 * conditioning(expected, float64_outputs(model, x))  # ill-conditioned graphs
    example = (torch.from_numpy(x.copy()),)
    module, unsupported = import_program(export(LoadedModel('fuzz', model, None, example)), 'fuzz')
    assert not unsupported, [u.describe() for u in unsupported]
    interpreted = run_module(module, [x])
    agree(interpreted, expected, max(1e-05, slack))
    result = compile_module(module, 'fuzz', CompileOptions(run=False), stop_at="ll")
    assert result.info is not None
    jitted = [np.zeros(shape, np.float32) for shape in result.info.outputs]
    assert HostJIT(result.ll).run(result.info.entry, [x], jitted) == 0
    agree(jitted, interpreted, max(0.0001, slack))
    build_object(result, 'fuzz', CompileOptions(run=False))
    emulated = run_object(result.obj, [x], 'fuzz').outputs
    agree(emulated, interpreted, max(0.0001, slack))
