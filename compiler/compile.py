"""One-shot compilation (`t2m-compile`, `t2m-bench`): nn module -> Cortex-M4 object, header and report data.

The stages run the pipeline lists of `compiler/pipeline.py`, the same lists `t2m-opt --fuse --lower` runs, and
the object is what `t2m-translate` makes of the resulting llvm-dialect module: the model's description rides in
the IR (dialects/t2m.py) and the emitter writes it into the object, so nothing here rebuilds it. Everything is
produced in memory first; the caller writes the files only when every stage succeeded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xdsl.dialects.builtin import ModuleOp

from t2m.compiler.errors import T2MError
from t2m.compiler.ir import module_to_text
from t2m.compiler.model_info import ModelInfo, describe, read_from_object
from t2m.compiler.pipeline import BUFFERIZE, FUSE, LOWER_NN, LOWER_TO_LLVM, PLAN_MEMORY, apply_passes
from t2m.compiler.plugins import PassRegistry

if TYPE_CHECKING:
    from t2m.compiler.emulate import ObjectRun

EMIT_STAGES = ("nn", "fused", "loops", "llvm", "ll", "obj")


@dataclass
class CompileOptions:
    target: str = "cortex-m4"
    opt: str = "O2"
    flash_size: int = 1 << 20
    fuse: bool = True
    run: bool = True  # run the object once on the emulator: the header's stack size, the report's cycles
    passes: str = ""  # a -p pipeline run after fusion, before lowering (t2m-opt's order)
    registry: PassRegistry | None = None  # where -p finds its passes (plugins included); default: the universe's
    elide: int | None = None  # print the emitted stage with dense constants of more elements elided


@dataclass
class CompileResult:
    info: ModelInfo | None = None
    ir: dict[str, str] = field(default_factory=dict[str, str])  # stage -> module text: "nn", and `stop_at`
    ll: str = ""
    obj: bytes = b""
    header: str = ""
    sizes: dict[str, int] = field(default_factory=dict[str, int])  # text, rodata, data, bss
    seconds: dict[str, float] = field(default_factory=dict[str, float])  # stage -> compile time
    run: ObjectRun | None = None  # the emulator run (seeded random inputs) that measured the stack


def parse_size(text: str) -> int:
    """`1M`, `512K`, `1048576` -> bytes."""
    units = {"K": 1 << 10, "M": 1 << 20}
    try:
        if text[-1:].upper() in units:
            return int(float(text[:-1]) * units[text[-1].upper()])
        return int(text)
    except ValueError:
        raise T2MError(f"malformed size '{text}'", "--flash-size", "write bytes, or a number with K or M") from None


def _unlowered(module: ModuleOp) -> list[str]:
    return sorted({op.name for op in module.walk() if op.dialect_name() in ("nn", "qnn")})


def compile_module(nn_module: ModuleOp, source: str, options: CompileOptions, stop_at: str = "obj") -> CompileResult:
    """Run every stage on (a copy of) `nn_module` up to `stop_at`, timing each."""
    module = nn_module.clone()
    result = CompileResult()
    result.ir["nn"] = module_to_text(module, options.elide if stop_at == "nn" else None)
    stages = [("fused", FUSE if options.fuse else []), ("loops", LOWER_NN), ("llvm", LOWER_TO_LLVM)]
    for stage, passes in stages:
        if EMIT_STAGES.index(stop_at) < EMIT_STAGES.index(stage):
            return result
        start = time.perf_counter()
        apply_passes(module, passes)
        if stage == "fused" and options.passes:  # verified after each pass: a broken plugin pass is named
            apply_passes(module, [options.passes], verify_each=True, available=options.registry)
        if stage == "loops":
            if left := _unlowered(module):
                raise T2MError(
                    f"no lowering for {', '.join(left)}", source, "this op can be imported but not compiled yet"
                )
            apply_passes(module, BUFFERIZE + PLAN_MEMORY)  # LOWER_NN + these = LOWER_TO_LOOPS
        result.seconds[stage] = time.perf_counter() - start
        if stage == stop_at:  # printing a large module takes seconds: only the stage asked for
            result.ir[stage] = module_to_text(module, options.elide)
        if stage == "loops":
            result.info = describe(module)
    if stop_at == "llvm":
        return result
    from t2m.compiler.backend.emit_llvm import to_llvm_ir

    start = time.perf_counter()
    result.ll = to_llvm_ir(module, options.target)
    result.seconds["ll"] = time.perf_counter() - start
    if stop_at == "ll":
        return result
    build_object(result, source, options)
    return result


def build_object(result: CompileResult, source: str, options: CompileOptions) -> None:
    """LLVM IR -> object, checked against the target's contract and flash size, then its header.

    `t2m-translate` calls this too, so an object, and its header, are the same whichever tool made them."""
    from t2m.compiler.backend import check_cortex_m4_object, compile_object, get_target, inspect_object
    from t2m.compiler.backend.header import render_header

    target = get_target(options.target)
    start = time.perf_counter()
    result.obj = compile_object(result.ll, target, options.opt)
    result.seconds["obj"] = time.perf_counter() - start
    result.info = info = read_from_object(result.obj, source)
    result.sizes = dict(inspect_object(result.obj).section_sizes)
    flash = result.sizes.get("text", 0) + result.sizes.get("rodata", 0) + result.sizes.get("data", 0)
    if flash > options.flash_size:
        raise T2MError(
            f"model '{info.name}' needs {flash} bytes of flash (code {result.sizes.get('text', 0)}, weights "
            f"{result.sizes.get('rodata', 0)}), more than the {options.flash_size} available",
            "--flash-size",
            "pass the part's flash size, or make the model smaller",
        )
    if target.name == "cortex-m4" and (problems := check_cortex_m4_object(result.obj)):
        raise T2MError(f"the object breaks the Cortex-M4 contract: {problems[0]}", source, "please report this bug")
    if target.name == "cortex-m4" and options.run:
        import numpy as np

        from t2m.compiler.emulate import run_object

        rng = np.random.default_rng(0)
        if info.dtype == "int8":  # int8 inputs over the whole range
            inputs = [rng.integers(-128, 128, s).astype(np.int8) for s in info.inputs]
        else:
            inputs = [rng.standard_normal(s).astype(np.float32) for s in info.inputs]
        result.run = run_object(result.obj, inputs, source)
    result.header = render_header(info, result.obj, result.run.result.stack_bytes if result.run else None)
