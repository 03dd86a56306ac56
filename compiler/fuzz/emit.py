"""A minimised finding as a ready-to-paste pytest file: the module's source, its seeded weights and input, and
the whole ladder, each level asserted against its reference at the mode's tolerance. The test fails at the
level the fuzzer reported; once the bug is fixed it checks every level, as a regression test should.

The class is the source the fuzzer ran; the helpers it calls (`init_weights`, `make_input`, the comparisons) are
imported from `t2m.compiler.fuzz.harness`, the fuzzer's own, so the test reproduces the finding bit for bit and
a kept finding follows the harness when it is fixed. Each mode has its template: fp32 compares floats, int8
quantizes the model first.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from t2m.compiler.files import write_output
from t2m.compiler.fuzz.graph import WIDTH, Graph, render
from t2m.compiler.fuzz.minimise import Minimised
from t2m.compiler.fuzz.modes import LEVELS, Mode
from t2m.compiler.fuzz.runner import MODEL_NAME

HEADER = '''{docstring}

from __future__ import annotations

import numpy as np
import torch
from torch import nn

{imports}

INPUT_SHAPE = {shape!r}
SEED = {seed!r}
SPECIAL = {special}
SCALE = {scale!r}
'''

IMPORTS = [
    "from t2m.compiler.backend import HostJIT",
    "from t2m.compiler.compile import CompileOptions, build_object, compile_module",
    "from t2m.compiler.emulate import run_object",
    "from t2m.compiler.importer import LoadedModel, export, import_program",
]

COMPILE = {
    "compile": """
    result = compile_module(module, {name!r}, CompileOptions(run=False), stop_at="ll")
    assert result.info is not None""",
    "object": """
    build_object(result, {name!r}, CompileOptions(run=False))""",
}


@dataclass(frozen=True)
class Template:
    imports: list[str]
    setup: list[str]
    """lines after `x = make_input(...)`"""
    steps: dict[str, str]
    """level -> its lines (format fields: name, tolerance, reference)"""
    harness: list[str]
    """what the test imports from t2m.compiler.fuzz.harness"""


FP32 = Template(
    [*IMPORTS, "from t2m.compiler.interpreter import run_module"],
    ["    with torch.no_grad():  # on copies of x: an in-place op may write into the model's input",
     "        expected = outputs(model(torch.from_numpy(x.copy())))",
     "    slack = {slack!r} * conditioning(expected, float64_outputs(model, x))  # ill-conditioned graphs"],
    {"import": """
    example = (torch.from_numpy(x.copy()),)
    module, unsupported = import_program(export(LoadedModel({name!r}, model, None, example)), {name!r})
    assert not unsupported, [u.describe() for u in unsupported]""",
     "interpreter": """
    interpreted = run_module(module, [x])
    agree(interpreted, expected, max({tolerance}, slack))""",
     "jit": """
    jitted = [np.zeros(shape, np.float32) for shape in result.info.outputs]
    assert HostJIT(result.ll).run(result.info.entry, [x], jitted) == 0
    agree(jitted, {reference}, max({tolerance}, slack))""",
     "emulator": """
    emulated = run_object(result.obj, [x], {name!r}).outputs
    agree(emulated, {reference}, max({tolerance}, slack))""", **COMPILE},
    ["agree", "conditioning", "float64_outputs", "init_weights", "make_input", "outputs"],
)

INT8 = Template(
    [*IMPORTS, "from t2m.compiler.importer.quantizer import quantize_program",
     "from t2m.compiler.interpreter import entry_function, run_module",
     "from t2m.compiler.model_info import describe_function, quantize"],
    ["    example = (torch.from_numpy(x.copy()),)  # PT2E int8, calibrated on x",
     "    converted = quantize_program(export(LoadedModel({name!r}, model, None, example)), example, [example])"],
    {"import": """
    module, unsupported = import_program(converted, {name!r})
    assert not unsupported, [u.describe() for u in unsupported]
    info = describe_function(entry_function(module))
    xq = quantize(x, *info.input_quant[0])
    with torch.no_grad():  # PyTorch's converted model, and the float model, quantized as the outputs are
        expected = [quantize(y, *q) for y, q in zip(outputs(converted.module()(example[0])), info.output_quant,
                                                    strict=True)]
        exact = [quantize(y, *q) for y, q in zip(outputs(model(torch.from_numpy(x.copy()))), info.output_quant,
                                                 strict=True)]""",
     "interpreter": """
    interpreted = run_module(module, [xq])
    agree_int8(interpreted, expected, {tolerance}, exact)""",
     "jit": """
    jitted = [np.zeros(shape, np.int8) for shape in result.info.outputs]
    assert HostJIT(result.ll).run(result.info.entry, [xq], jitted) == 0
    agree_int8(jitted, {reference}, {tolerance})""",
     "emulator": """
    emulated = run_object(result.obj, [xq], {name!r}).outputs
    agree_int8(emulated, {reference}, {tolerance})""", **COMPILE},
    ["agree_int8", "init_weights", "make_input", "outputs"],
)

TEMPLATES = {"fp32": FP32, "int8": INT8}
VARIABLES = {"torch": "expected", "interpreter": "interpreted", "jit": "jitted", "emulator": "emulated"}


def _float(value: float) -> str:
    if math.isnan(value):
        return 'float("nan")'
    if math.isinf(value):
        return 'float("inf")' if value > 0 else '-float("inf")'
    return repr(value)


def finding_source(graph: Graph, mode: Mode, summary: str, provenance: str, filename: str) -> str:
    """The pytest file for `graph`: the whole ladder, as the fuzzer climbed it."""
    template = TEMPLATES[mode.name]
    special = "(" + "".join(f"({i}, {_float(v)}), " for i, v in graph.special) + ")"
    docstring = "\n\n".join([
        textwrap.fill(f'"""t2m-fuzz finding: {summary}', WIDTH, break_long_words=True, break_on_hyphens=False),
        textwrap.fill(provenance, WIDTH),
        f'Reproduce: pytest {filename}\n"""',
    ])
    imports = [*template.imports, f"from t2m.compiler.fuzz.harness import {', '.join(template.harness)}"]
    text = HEADER.format(docstring=docstring, imports="\n".join(sorted(imports)), shape=graph.input_shape,
                         seed=graph.seed, special=special, scale=graph.scale)
    fields: dict[str, Any] = {"name": MODEL_NAME, "slack": mode.slack}
    body = [
        "def test_fuzz_finding() -> None:",
        "    model = FuzzModel()",
        "    init_weights(model, SEED)",
        "    model.eval()",
        "    x = make_input(INPUT_SHAPE, SEED, SPECIAL, SCALE)",
        *(line.format(**fields) for line in template.setup),
    ]
    for step in LEVELS[1:]:
        reference, tolerance = mode.tolerances.get(step, ("torch", 0))
        body.append(template.steps[step].format(**fields, tolerance=tolerance, reference=VARIABLES[reference])
                    .lstrip("\n"))
    return text + "\n\n" + render(graph) + "\n\n" + "\n".join(body) + "\n"


def write_finding(found: Minimised, mode: Mode, path: Path) -> Path:
    """Write `found` as the test file `path`; its docstring says what failed and where the graph came from."""
    outcome = found.outcome
    summary = f"{outcome.kind} at {outcome.level}: {outcome.detail}"
    provenance = (
        f"Found by `t2m-fuzz --dtype {mode.name} {found.graph.origin}` ({found.original_ops} ops), minimised to "
        f"{len(found.graph.nodes)} op{'s' if len(found.graph.nodes) != 1 else ''} in {found.checks} runs."
    )
    write_output(path, finding_source(found.graph, mode, summary, provenance, path.name))
    return path
