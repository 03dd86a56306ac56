"""LLVM IR to optimised module, object file or assembly, through llvmlite's new pass manager.

llvmlite 0.50 (LLVM 22) notes that shape this file:
- ``llvm.initialize()`` now raises; only the target and asm-printer initialisers remain.
- ``create_pipeline_tuning_options`` takes a speed level only: there is no size level, so ``Os``/``Oz`` are
  built the way clang builds them, the O2 pipeline plus ``optsize``/``minsize`` on every function (the
  inliner, unroller, vectoriser and instruction selection all read those attributes) and a lower inlining
  threshold.
- The target machine always uses the soft-float calling convention, even for ``eabihf``; see armattrs.py for
  why that is harmless for t2m's pointer-only functions and what has to be patched in the object.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import llvmlite.binding as llvm

from .armattrs import ASM_HARD_FLOAT_DIRECTIVE, mark_hard_float
from .dsp_host import make_portable
from .errors import BackendError
from .target import Target, get_target

__all__ = [
    "OPT_LEVELS",
    "OptLevel",
    "compile_asm",
    "compile_object",
    "create_target_machine",
    "get_opt_level",
    "initialise_llvm",
    "optimize",
    "parse_module",
]


@dataclass(frozen=True)
class OptLevel:
    """One ``-O`` level, spelled out as the pipeline knobs llvmlite exposes."""

    name: str
    speed: int  # new pass manager OptimizationLevel, also the code generator's level
    size: int  # 0: none, 1: optsize (Os), 2: optsize + minsize (Oz)
    loop_vectorize: bool
    slp_vectorize: bool
    loop_unroll: bool
    inline_threshold: int | None = None  # None: the pipeline's default for ``speed``


# Vectoriser and unroller settings follow clang's driver defaults for the same flags.
# fmt: off
OPT_LEVELS: dict[str, OptLevel] = {
    level.name: level
    for level in (
        OptLevel("O0", speed=0, size=0, loop_vectorize=False, slp_vectorize=False, loop_unroll=False),
        OptLevel("O1", speed=1, size=0, loop_vectorize=False, slp_vectorize=False, loop_unroll=False),
        OptLevel("O2", speed=2, size=0, loop_vectorize=True, slp_vectorize=True, loop_unroll=True),
        OptLevel("O3", speed=3, size=0, loop_vectorize=True, slp_vectorize=True, loop_unroll=True),
        OptLevel("Os", speed=2, size=1, loop_vectorize=True, slp_vectorize=True, loop_unroll=True,
                 inline_threshold=75),
        OptLevel("Oz", speed=2, size=2, loop_vectorize=False, slp_vectorize=True, loop_unroll=True,
                 inline_threshold=25),
    )
}
# fmt: on


def get_opt_level(level: str | OptLevel, *, origin: str = "-O") -> OptLevel:
    """Look an optimisation level up by name (``O2``, or ``2`` as written after ``-O``)."""
    if isinstance(level, OptLevel):
        return level
    found = OPT_LEVELS.get(level) or OPT_LEVELS.get(f"O{level}")
    if found is None:
        raise BackendError(
            f"unknown optimisation level {level!r}, at {origin}; choose one of: {', '.join(OPT_LEVELS)}"
        )
    return found


ARM_CODEGEN_OPTIONS = ("-arm-assume-misaligned-load-store",)
"""LLVM options of the Arm code generator (process-wide; no other target reads them).

`-arm-assume-misaligned-load-store` is LLVM's one switch that keeps its Arm load/store optimizer from merging
integer loads and stores through a register base into LDRD/LDM/STRD/STM (SP-relative spills and VLDM/VSTM
still merge). On the Cortex-M4's timing (compiler/anchors/m4-timing.md) a merged access never saves a cycle:
LDRD costs 3 and the load after it cannot pipeline, while two LDRs after a load cost 2; STRD costs 3 against
1 + 1. The SMLAD kernels read their packed columns in runs of loads, so the merge cost them about 1 cycle in
13 (ResNet-8's 3x3 conv: 3.38 -> 3.15 M estimated cycles); fp32 code (VLDR) is unchanged, code grows by a
few bytes per split pair."""


@functools.cache
def initialise_llvm() -> None:
    """Register every target (cortex-m4 is cross) plus the host one MCJIT needs, and set the Arm code
    generator's options; once per process."""
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    for option in ARM_CODEGEN_OPTIONS:
        llvm.set_option("t2m", option)


# Per-function CPU/feature attributes would override the Target (and break the host JIT for IR written for
# the M4): the Target is the single source of truth, so they are dropped before parsing.
_FUNCTION_TARGET_ATTR = re.compile(r'\s*"target-(?:cpu|features)"="[^"]*"')
_PARSE_ERROR_LOCATION = re.compile(r"^<string>:(\d+):(\d+): error: (.*)$")


def _first_error_line(message: str) -> str:
    """LLVM's first informative line, with a parse location moved to the end in t2m's ``at`` style."""
    lines = [line for line in message.splitlines() if line.strip() and line != "LLVM IR parsing error"]
    first = lines[0].strip() if lines else "unknown error"
    located = _PARSE_ERROR_LOCATION.match(first)
    if located:
        line, column, text = located.groups()
        return f"{text}, at line {line}:{column}"
    return first


def parse_module(ll_text: str) -> llvm.ModuleRef:
    """Parse and verify textual IR; any problem becomes a one-line ``BackendError``."""
    initialise_llvm()
    try:
        module = llvm.parse_assembly(_FUNCTION_TARGET_ATTR.sub("", ll_text))
        module.verify()
    except RuntimeError as error:
        raise BackendError(f"invalid LLVM IR: {_first_error_line(str(error))}") from None
    return module


def create_target_machine(target: Target, level: OptLevel) -> llvm.TargetMachine:
    """A target machine generating code at ``level``; make one per use (MCJIT takes ownership)."""
    initialise_llvm()
    return llvm.Target.from_triple(target.triple).create_target_machine(
        cpu=target.cpu,
        features=target.features,
        opt=level.speed,
        reloc=target.reloc,
        codemodel=target.code_model,
        jit=target.jit,
    )


def _retarget(module: llvm.ModuleRef, target: Target, machine: llvm.TargetMachine) -> None:
    """Give the module the target's triple and data layout, whatever the IR text said."""
    module.triple = target.triple
    module.data_layout = str(machine.target_data)


def _function_attributes(level: OptLevel) -> list[str]:
    """Attributes every defined function gets.

    ``nounwind``: t2m's code is C-like and never unwinds; without it, -O0 code references the EH personality
    routine ``__aeabi_unwind_cpp_pr0``, which a bare-metal firmware does not have. ``optsize``/``minsize``:
    the only way to ask LLVM 22's pipeline for Os/Oz through llvmlite.
    """
    return ["nounwind", *(["optsize"] if level.size >= 1 else []), *(["minsize"] if level.size >= 2 else [])]


def _set_function_attributes(module: llvm.ModuleRef, level: OptLevel) -> None:
    wanted = _function_attributes(level)
    for function in module.functions:
        if function.is_declaration:
            continue
        present = b" ".join(function.attributes).split()
        for name in wanted:
            if name.encode() in present or (name != "nounwind" and b"optnone" in present):
                continue  # optnone forbids optsize/minsize
            function.add_function_attribute(name)


def _run_pipeline(module: llvm.ModuleRef, machine: llvm.TargetMachine, level: OptLevel) -> None:
    tuning = llvm.create_pipeline_tuning_options(speed_level=level.speed)
    tuning.loop_vectorization = level.loop_vectorize
    tuning.slp_vectorization = level.slp_vectorize
    tuning.loop_unrolling = level.loop_unroll
    if level.inline_threshold is not None:
        tuning.inlining_threshold = level.inline_threshold
    builder = llvm.create_pass_builder(machine, tuning)
    builder.getModulePassManager().run(module, builder)


def _optimize(
    ll_text: str, target: str | Target, level: str | OptLevel
) -> tuple[llvm.ModuleRef, llvm.TargetMachine, Target]:
    resolved_target = get_target(target)
    resolved_level = get_opt_level(level)
    module = parse_module(ll_text)
    if not resolved_target.triple.startswith(("thumb", "arm")):
        make_portable(module)  # the Cortex-M4's DSP intrinsics as generic IR (compiler/backend/dsp_host.py)
    machine = create_target_machine(resolved_target, resolved_level)
    _retarget(module, resolved_target, machine)
    _set_function_attributes(module, resolved_level)
    _run_pipeline(module, machine, resolved_level)
    return module, machine, resolved_target


def optimize(
    ll_text: str, target: str | Target = "cortex-m4", level: str | OptLevel = "O2"
) -> llvm.ModuleRef:
    """Parse, verify, retarget and run the standard ``level`` pipeline; ``str()`` of the result is the IR."""
    module, _, _ = _optimize(ll_text, target, level)
    return module


def compile_object(ll_text: str, target: str | Target = "cortex-m4", opt: str | OptLevel = "O2") -> bytes:
    """Relocatable ELF object for ``target``; cortex-m4 objects come marked hard-float for GNU ld."""
    module, machine, resolved = _optimize(ll_text, target, opt)
    obj = machine.emit_object(module)
    return mark_hard_float(obj) if resolved.mark_hard_float else obj


def compile_asm(ll_text: str, target: str | Target = "cortex-m4", opt: str | OptLevel = "O2") -> str:
    """Assembly text matching ``compile_object`` (including the hard-float attribute directive)."""
    module, machine, resolved = _optimize(ll_text, target, opt)
    asm = machine.emit_assembly(module)
    return _add_hard_float_directive(asm) if resolved.mark_hard_float else asm


def _add_hard_float_directive(asm: str) -> str:
    """Put ``.eabi_attribute 28, 1`` with the other file attributes, before the first section directive."""
    lines = asm.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.lstrip().startswith((".file", ".text", ".section")):
            lines.insert(index, ASM_HARD_FLOAT_DIRECTIVE)
            break
    else:
        lines.append(ASM_HARD_FLOAT_DIRECTIVE)
    return "".join(lines)
