"""One-shot compilation (`t2m-compile`, `t2m-bench`): nn module -> Cortex-M4 object, header and report data.

Everything is produced in memory first; the caller writes the files only when every stage succeeded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from xdsl.dialects.builtin import ModuleOp

from t2m.compiler.errors import T2MError
from t2m.compiler.ir import module_to_text
from t2m.compiler.model_info import ModelInfo, collect, llvm_ident
from t2m.compiler.pipeline import BUFFERIZE, FUSE, LOWER_NN, LOWER_TO_LLVM, PLAN_MEMORY, apply_passes

EMIT_STAGES = ("nn", "fused", "loops", "llvm", "ll", "obj")


@dataclass
class CompileOptions:
    target: str = "cortex-m4"
    opt: str = "O2"
    flash_size: int = 1 << 20
    fuse: bool = True


@dataclass
class CompileResult:
    info: ModelInfo
    ir: dict[str, str] = field(default_factory=dict[str, str])  # stage -> module text (nn, fused, loops, llvm)
    ll: str = ""
    obj: bytes = b""
    header: str = ""
    sizes: dict[str, int] = field(default_factory=dict[str, int])  # text, rodata, data, bss
    seconds: dict[str, float] = field(default_factory=dict[str, float])  # stage -> compile time


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
    return sorted({op.name for op in module.walk() if op.name.startswith("nn.")})


def compile_module(nn_module: ModuleOp, source: str, options: CompileOptions, stop_at: str = "obj") -> CompileResult:
    """Run every stage on (a copy of) `nn_module` up to `stop_at`, timing each."""
    from t2m.compiler.backend import check_cortex_m4_object, compile_object, get_target, inspect_object
    from t2m.compiler.backend.emit_llvm import to_llvm_ir
    from t2m.compiler.backend.header import render_header

    target = get_target(options.target)
    module = nn_module.clone()
    stages = [("fused", FUSE if options.fuse else []), ("loops", LOWER_NN), ("llvm", LOWER_TO_LLVM)]
    result = CompileResult(info=ModelInfo("?", [], []))
    result.ir["nn"] = module_to_text(module)
    for stage, passes in stages:
        if EMIT_STAGES.index(stop_at) < EMIT_STAGES.index(stage):
            return result
        start = time.perf_counter()
        apply_passes(module, passes)
        result.seconds[stage] = time.perf_counter() - start
        if stage == "loops":
            if left := _unlowered(module):
                raise T2MError(
                    f"no lowering for {', '.join(left)}", source, "this op can be imported but not compiled yet"
                )
            apply_passes(module, BUFFERIZE + PLAN_MEMORY)
            result.seconds[stage] = time.perf_counter() - start
            result.info = collect(nn_module, module)
        result.ir[stage] = module_to_text(module)
    if stop_at == "llvm":
        return result
    start = time.perf_counter()
    result.ll = to_llvm_ir(module, target) + llvm_ident(result.info)
    result.seconds["ll"] = time.perf_counter() - start
    if stop_at == "ll":
        return result
    start = time.perf_counter()
    result.obj = compile_object(result.ll, target, options.opt)
    result.seconds["obj"] = time.perf_counter() - start
    result.sizes = dict(inspect_object(result.obj).section_sizes)
    flash = result.sizes.get("text", 0) + result.sizes.get("rodata", 0) + result.sizes.get("data", 0)
    if flash > options.flash_size:
        raise T2MError(
            f"model '{result.info.name}' needs {flash} bytes of flash (code {result.sizes.get('text', 0)}, weights "
            f"{result.sizes.get('rodata', 0)}), more than the {options.flash_size} available",
            "--flash-size",
            "pass the part's flash size, or make the model smaller",
        )
    if target.name == "cortex-m4" and (problems := check_cortex_m4_object(result.obj)):
        raise T2MError(f"the object breaks the Cortex-M4 contract: {problems[0]}", source, "please report this bug")
    result.header = render_header(result.info, result.obj, source)
    return result
