"""PyTorch's own module test configurations (`torch.testing._internal.common_modules.module_db`) through t2m.

The configurations of the layers TinyML models use (issue 12: convolutions, linear, pools, norms, activations) are
generated from PyTorch's table here, not written by hand. Each one either compiles and matches PyTorch — the nn
reference interpreter within 1e-5 of PyTorch, the host JIT of the LLVM IR within 1e-4 of the interpreter, and for
one configuration per module the Cortex-M4 object on the emulator within 1e-4 — or is refused with the one-line
error `REFUSED` gives for it, whose reason is true. A refusal anywhere else is a failure, and so is an entry of
`REFUSED` that compiles (the list must say what t2m does).
"""

from __future__ import annotations

import inspect
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

from t2m.compiler.backend import HostJIT
from t2m.compiler.compare import compare
from t2m.compiler.compile import CompileOptions, build_object, compile_module
from t2m.compiler.emulate import run_object
from t2m.compiler.errors import T2MError
from t2m.compiler.importer import export, import_program, unsupported_error
from t2m.compiler.importer.loading import LoadedModel
from t2m.compiler.interpreter import run_module

INTERPRETER_RTOL = 1e-5  # docs/design.md §7: the nn interpreter against PyTorch
LOWERED_RTOL = 1e-4  # the host JIT and the emulated object against the interpreter

MODULES = [
    "Conv1d", "Conv2d", "Linear",
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "ReLU", "ReLU6", "Sigmoid", "Tanh", "Hardtanh", "ELU", "GELU", "LeakyReLU", "PReLU", "Hardswish", "SiLU",
    "Softmax", "LogSoftmax",
]  # fmt: skip
"""module_db's names of the modules under test (module_db has no Hardsigmoid, Upsample, Dropout or Identity)"""

REFUSED: dict[str, tuple[str, str]] = {
    "MaxPool2d/return_indices": (
        r"^model 'maxpool2d' uses 1 unsupported op \(getitem\)",
        "the model returns max_pool2d's int64 indices (for MaxUnpool in training), which t2m does not compute",
    ),
    "MaxPool1d/return_indices": (
        r"^model 'maxpool1d' uses 1 unsupported op \(getitem\)",
        "the model returns max_pool1d's int64 indices (for MaxUnpool in training), which t2m does not compute",
    ),
}
"""configuration -> (the refusal's first line, as a regex; why that is the true reason)"""


@dataclass
class Config:
    name: str
    desc: str
    module: torch.nn.Module
    inputs: tuple[torch.Tensor, ...]

    @property
    def key(self) -> str:
        return f"{self.name}/{self.desc}"


def _configs() -> list[Config]:
    """Every configuration of `MODULES`, in eval mode, on seeded inputs (module_db draws them at random)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.testing._internal.common_modules import module_db

    infos = {info.module_cls.__name__: info for info in module_db}
    configs = []
    for name in MODULES:
        info = infos[name]
        torch.manual_seed(0)
        entries = info.module_inputs_func(info, device="cpu", dtype=torch.float32, requires_grad=False,
                                          training=False)
        for entry in entries:
            torch.manual_seed(0)
            module = info.module_cls(*entry.constructor_input.args, **entry.constructor_input.kwargs).eval()
            forward = entry.forward_input
            bound = inspect.signature(module.forward).bind(*forward.args, **forward.kwargs)
            configs.append(Config(name, entry.desc or "default", module, tuple(bound.args)))
    return configs


def _emulated(configs: list[Config]) -> set[str]:
    """Per module, the configuration with the largest input among those that should compile: it also runs as a
    Cortex-M4 object on the emulator; the rest stop at the host JIT."""
    chosen = {}
    for config in configs:
        if config.key in REFUSED:
            continue
        rank = sum(x.numel() for x in config.inputs)
        if config.name not in chosen or rank > chosen[config.name][0]:
            chosen[config.name] = (rank, config.key)
    return {key for _, key in chosen.values()}


CONFIGS = _configs()
EMULATED = _emulated(CONFIGS)


def test_the_table_is_generated_and_every_list_entry_names_a_configuration() -> None:
    keys = {c.key for c in CONFIGS}
    assert len(CONFIGS) >= 100
    assert set(REFUSED) <= keys


def _climb(config: Config) -> None:
    """Import, interpreter against PyTorch, host JIT (and for `EMULATED`, the emulator) against the interpreter."""
    with torch.no_grad():
        expected = config.module(*config.inputs)
    expected = [t.numpy() for t in (expected if isinstance(expected, tuple) else (expected,))]
    inputs = [x.numpy() for x in config.inputs]
    name = config.name.lower()
    module, unsupported = import_program(export(LoadedModel(name, config.module, None, config.inputs)), name)
    if unsupported:
        raise unsupported_error(name, unsupported)
    outputs = run_module(module, inputs)
    _agree("the interpreter", outputs, "PyTorch", expected, INTERPRETER_RTOL)
    result = compile_module(module, name, CompileOptions(target="host", run=False), stop_at="ll")
    assert result.info is not None
    lowered = [np.zeros(shape, np.float32) for shape in result.info.outputs]
    assert HostJIT(result.ll).run(result.info.entry, inputs, lowered) == 0
    _agree("the host JIT", lowered, "the interpreter", outputs, LOWERED_RTOL)
    if config.key in EMULATED:
        result = compile_module(module, name, CompileOptions(run=False), stop_at="ll")
        build_object(result, name, CompileOptions(run=False))
        run = run_object(result.obj, inputs, name)
        _agree("the emulated Cortex-M4", run.outputs, "the interpreter", outputs, LOWERED_RTOL)


def _agree(label: str, got: list[Any], reference: str, expected: list[Any], rtol: float) -> None:
    assert len(got) == len(expected), f"{label}: {len(got)} outputs, {reference} {len(expected)}"
    for i, (y, r) in enumerate(zip(got, expected, strict=True)):
        result = compare(np.asarray(y).reshape(r.shape) if np.size(y) == r.size else np.asarray(y), r)
        assert result.agrees(rtol), f"{label}, output {i}: {result.mismatch(reference) or result.error} > {rtol}"


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("config", [pytest.param(c, id=c.key) for c in CONFIGS])
def test_a_module_db_configuration_compiles_and_matches_or_is_refused_for_its_true_reason(config: Config) -> None:
    refusal = REFUSED.get(config.key)
    try:
        _climb(config)
    except T2MError as e:
        if refusal is None:
            raise AssertionError(f"refused: {e.one_line()}") from e
        assert re.search(refusal[0], e.one_line()), e.one_line()
        assert "\n" not in e.one_line()
        return
    assert refusal is None, f"{config.key} compiles and matches now: remove it from REFUSED ({refusal[1]})"
