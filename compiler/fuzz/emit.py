"""A minimised finding as a ready-to-paste pytest file: the module's source, its seeded weights and input, and
the ladder up to the level that failed, each level asserted against its reference at the mode's tolerance.

The file needs t2m and torch only (not the fuzzer): the class is the source the fuzzer ran, and `init_weights`
and `make_input` are pasted from `graph.py`, so the test reproduces the finding bit for bit.
"""

from __future__ import annotations

import inspect
import math
import textwrap
from pathlib import Path

from t2m.compiler.files import write_output
from t2m.compiler.fuzz.graph import WIDTH, Graph, init_weights, make_input, render
from t2m.compiler.fuzz.minimise import Minimised
from t2m.compiler.fuzz.modes import LEVELS, Mode
from t2m.compiler.fuzz.runner import MODEL_NAME

HEADER = '''{docstring}

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

{imports}

INPUT_SHAPE = {shape!r}
SEED = {seed!r}
SPECIAL = {special}
'''

IMPORTS = {
    "import": ["from t2m.compiler.importer import LoadedModel, export, import_program"],
    "interpreter": ["from t2m.compiler.compare import compare", "from t2m.compiler.interpreter import run_module"],
    "compile": ["from t2m.compiler.compile import CompileOptions, compile_module"],
    "jit": ["from t2m.compiler.backend import HostJIT"],
    "object": ["from t2m.compiler.compile import CompileOptions, build_object, compile_module"],
    "emulator": ["from t2m.compiler.emulate import run_object"],
}

STEPS = {
    "import": """
    module, unsupported = import_program(export(LoadedModel({name!r}, model, None, (torch.from_numpy(x),))), {name!r})
    assert not unsupported, [u.describe() for u in unsupported]""",
    "interpreter": """
    interpreted = run_module(module, [x])[0]
    assert compare(interpreted, expected).agrees({rtol}), compare(interpreted, expected)""",
    "compile": """
    result = compile_module(module, {name!r}, CompileOptions(run=False), stop_at="ll")
    assert result.info is not None""",
    "jit": """
    jitted = np.zeros(result.info.outputs[0], np.float32)
    assert HostJIT(result.ll).run(result.info.entry, [x], [jitted]) == 0
    assert compare(jitted, {reference}).agrees({rtol}), compare(jitted, {reference})""",
    "object": """
    build_object(result, {name!r}, CompileOptions(run=False))""",
    "emulator": """
    emulated = run_object(result.obj, [x], {name!r}).outputs[0]
    assert compare(emulated, {reference}).agrees({rtol}), compare(emulated, {reference})""",
}

VARIABLES = {"torch": "expected", "interpreter": "interpreted", "jit": "jitted", "emulator": "emulated"}


def _float(value: float) -> str:
    if math.isnan(value):
        return 'float("nan")'
    if math.isinf(value):
        return 'float("inf")' if value > 0 else '-float("inf")'
    return repr(value)


def finding_source(graph: Graph, mode: Mode, level: str, summary: str, provenance: str, filename: str) -> str:
    """The pytest file for `graph` failing at `level` (the steps of the later levels are left out)."""
    if mode.name != "fp32":
        raise NotImplementedError(f"writing {mode.name} findings: add the mode's steps to t2m.compiler.fuzz.emit")
    steps = LEVELS[1 : LEVELS.index(level) + 1]
    imports = sorted({line for step in steps for line in IMPORTS[step]})
    if "object" in steps:
        imports.remove("from t2m.compiler.compile import CompileOptions, compile_module")
    special = "(" + "".join(f"({i}, {_float(v)}), " for i, v in graph.special) + ")"
    docstring = "\n\n".join([
        textwrap.fill(f'"""t2m-fuzz finding: {summary}', WIDTH, break_long_words=True, break_on_hyphens=False),
        textwrap.fill(provenance, WIDTH),
        f'Reproduce: pytest {filename}\n"""',
    ])
    text = HEADER.format(docstring=docstring, imports="\n".join(imports),
                         shape=graph.input_shape, seed=graph.seed, special=special)
    text += "\n\n" + render(graph) + "\n\n" + inspect.getsource(init_weights) + "\n\n" + inspect.getsource(make_input)
    body = [
        "\n\ndef test_fuzz_finding() -> None:",
        "    model = FuzzModel()",
        "    init_weights(model, SEED)",
        "    model.eval()",
        "    x = make_input(INPUT_SHAPE, SEED, SPECIAL)",
        "    with torch.no_grad():",
        "        expected = model(torch.from_numpy(x)).numpy()" if "interpreter" in steps
        else "        model(torch.from_numpy(x))  # a valid PyTorch model",
    ]
    for step in steps:
        reference, rtol = mode.tolerances.get(step, ("torch", 0.0))
        body.append(STEPS[step].format(name=MODEL_NAME, rtol=rtol, reference=VARIABLES[reference]).lstrip("\n"))
    return text + "\n".join(body) + "\n"


def write_finding(found: Minimised, mode: Mode, path: Path) -> Path:
    """Write `found` as the test file `path`; its docstring says what failed and where the graph came from."""
    outcome = found.outcome
    summary = f"{outcome.kind} at {outcome.level}: {outcome.detail}"
    provenance = (
        f"Found by `t2m-fuzz --dtype {mode.name} {found.graph.origin}` ({found.original_ops} ops), minimised to "
        f"{len(found.graph.nodes)} op{'s' if len(found.graph.nodes) != 1 else ''} in {found.checks} runs."
    )
    write_output(path, finding_source(found.graph, mode, outcome.level, summary, provenance, path.name))
    return path
