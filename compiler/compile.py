"""One-shot compilation (`t2m-compile`, `t2m-bench`): nn module -> Cortex-M4 object, header and report data.

The stages run the pipeline lists of `compiler/pipeline.py`, the same lists `t2m-opt --fuse --lower` runs, and
the object is what `t2m-translate` makes of the resulting llvm-dialect module: the model's description rides in
the IR (dialects/t2m.py) and the emitter writes it into the object, so nothing here rebuilds it. Everything is
produced in memory first; the caller writes the files only when every stage succeeded.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute

from t2m.compiler.errors import T2MError
from t2m.compiler.ir import module_to_text
from t2m.compiler.model_info import ModelInfo, describe, read_from_object
from t2m.compiler.pipeline import BUFFERIZE, FUSE, LOWER_NN, LOWER_TO_LLVM, PLAN_MEMORY, apply_passes
from t2m.compiler.plugins import PassRegistry
from t2m.compiler.tune import Choice

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
    ram_size: int | None = None  # for the arena + input/output buffers; None: the target's SRAM (Target.sram)
    max_instructions: int = 500_000_000  # the emulated run's budget (t2m.compiler.emulate.MAX_INSTRUCTIONS)
    tune: bool = False  # measure each layer's kernel variants and keep the fastest (compiler/tune.py)
    tune_cache: str | None = None  # the tuner's cache file (default: compiler.tune.default_cache_path())
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
    tuning: list[Choice] = field(default_factory=list[Choice])  # --tune: each tuned layer's variants and choice


def parse_size(text: str, flag: str = "--flash-size") -> int:
    """`1M`, `512K`, `1048576` -> bytes (`flag` names the option for the error)."""
    units = {"K": 1 << 10, "M": 1 << 20}
    try:
        if text[-1:].upper() in units:
            return int(float(text[:-1]) * units[text[-1].upper()])
        return int(text)
    except ValueError:
        raise T2MError(f"malformed size '{text}'", flag, "write bytes, or a number with K or M") from None


def check_max_instructions(value: int) -> None:
    """`--max-instructions` of the tools that run the emulator must be positive."""
    if value < 1:
        raise T2MError(f"--max-instructions must be at least 1, got {value}", "--max-instructions",
                       "pass the emulated run's instruction budget (default 500000000)")


def format_size(size: int) -> str:
    """Bytes as `parse_size` reads them back: `640K`, `1M`, `1000`."""
    for unit, scale in (("M", 1 << 20), ("K", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale}{unit}"
    return str(size)


def _readable(size: int) -> str:
    """`737684480 bytes (738 MB)`: the exact count, and a figure a reader takes in at once."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size} bytes ({size / scale:.3g} {unit})"
    return f"{size} bytes"


def ram_limit(options: CompileOptions) -> tuple[int, str] | None:
    """The RAM budget and where it comes from (for the error), or None when there is none (the host)."""
    if options.ram_size is not None:
        return options.ram_size, "--ram-size"
    from t2m.compiler.backend import get_target

    target = get_target(options.target)
    if target.sram is None:
        return None
    return target.sram, f"the {target.name} default, {format_size(target.sram)}"


def _tensor_bytes(types: Sequence[Attribute]) -> int:
    total = 0
    for t in types:
        assert isinstance(t, TensorType)
        width = getattr(t.get_element_type(), "bitwidth", 32)
        total += math.prod(t.get_shape()) * max(1, width // 8)
    return total


def check_io_fits(module: ModuleOp, options: CompileOptions) -> None:
    """The caller's input and output buffers alone must fit the RAM budget: checked on the nn module, before any
    loop is compiled (a 1x3x4096x4096 conv needs 738 MB of buffers; compiling it would be wasted work)."""
    if (limit := ram_limit(options)) is None:
        return
    from t2m.compiler.interpreter import entry_function

    function = entry_function(module)
    inputs = _tensor_bytes(function.function_type.inputs.data)
    outputs = _tensor_bytes(function.function_type.outputs.data)
    if inputs + outputs > limit[0]:
        raise T2MError(
            f"model '{function.sym_name.data}' needs {_readable(inputs + outputs)} of RAM for its input and output "
            f"buffers alone (input {inputs}, output {outputs}), more than the {limit[0]} available ({limit[1]})",
            "--ram-size",
            "pass the part's RAM size, or give the model a smaller input",
        )


def check_ram_fits(info: ModelInfo, options: CompileOptions) -> None:
    """The planned activation arena and the caller's input and output buffers must fit the RAM budget together
    (checked once plan-memory has sized the arena, before LLVM compiles anything)."""
    if (limit := ram_limit(options)) is None:
        return
    import numpy as np

    from t2m.compiler.model_info import buffer_dtype

    item = np.dtype(buffer_dtype(info)).itemsize
    inputs, outputs = (sum(math.prod(s) for s in shapes) * item for shapes in (info.inputs, info.outputs))
    needed = info.arena_bytes + inputs + outputs
    if needed > limit[0]:
        raise T2MError(
            f"model '{info.name}' needs {_readable(needed)} of RAM (activation arena {info.arena_bytes}, "
            f"input {inputs}, output {outputs}), more than the {limit[0]} available ({limit[1]})",
            "--ram-size",
            "pass the part's RAM size, or make the model's activations smaller",
        )


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
        if stage == "loops":
            check_io_fits(module, options)
        start = time.perf_counter()
        if stage == "loops" and options.tune:
            result.tuning = tune_layers(module, options)
            result.seconds["tune"] = time.perf_counter() - start
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
            check_ram_fits(result.info, options)
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


def tune_layers(module: ModuleOp, options: CompileOptions) -> list[Choice]:
    """Pin the fastest kernel variant on every layer op of the fused module that has a choice (compiler/tune.py)."""
    from pathlib import Path

    from t2m.compiler.tune import TuneCache, Tuner, default_cache_path

    if options.target != "cortex-m4":
        raise T2MError(f"--tune measures on the emulated Cortex-M4, not on '{options.target}'", "--tune",
                       "drop --tune or compile for --target cortex-m4")
    cache = TuneCache(Path(options.tune_cache) if options.tune_cache else default_cache_path())
    return Tuner(cache, options.opt).tune(module)


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
        result.run = run_object(result.obj, inputs, source, options.max_instructions, "or pass --no-run")
    result.header = render_header(info, result.obj, result.run.result.stack_bytes if result.run else None)
