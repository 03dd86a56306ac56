"""Target descriptions: the triple, CPU and features llvmlite needs to build a target machine.

Only two targets exist on purpose. ``cortex-m4`` is what t2m ships; ``host`` runs the very same IR under
the JIT so tests can compare the generated code against numpy without an emulator.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import llvmlite.binding as llvm

from .errors import BackendError

__all__ = ["TARGET_NAMES", "Target", "get_target"]


@dataclass(frozen=True)
class Target:
    """Everything needed to create an llvmlite ``TargetMachine`` for one target."""

    name: str
    triple: str
    cpu: str
    features: str
    reloc: str
    code_model: str
    jit: bool = False
    # Objects for this target get Tag_ABI_VFP_args = 1 (see armattrs.py): llvmlite leaves it out, and GNU ld
    # then refuses to link them into a -mfloat-abi=hard firmware.
    mark_hard_float: bool = False
    # RAM of the part t2m assumes when the user names none (`t2m-compile --ram-size`): the activation arena and
    # the caller's input and output buffers must fit in it. None: no limit (the host).
    sram: int | None = None


# FPv4-SP with 16 double registers, no double precision, no NEON. "+fp-armv8" must stay off: it lets
# LLVM select VMAXNM/VMINNM, which are undefined instructions on the Cortex-M4.
CORTEX_M4 = Target(
    name="cortex-m4",
    triple="thumbv7em-none-eabihf",
    cpu="cortex-m4",
    features="+thumb-mode,+dsp,+vfp4d16sp,-fp64,-d32,-neon",
    reloc="static",
    code_model="small",
    mark_hard_float=True,
    sram=640 << 10,  # STM32L4R5, MLPerf Tiny's Cortex-M4 board (compiler/anchors/mlperf-tiny.md)
)


@functools.cache
def _host() -> Target:
    """The machine running this process, as MCJIT wants it (process triple, host CPU and features)."""
    return Target(
        name="host",
        triple=llvm.get_process_triple(),
        cpu=llvm.get_host_cpu_name(),
        features=llvm.get_host_cpu_features().flatten(),
        reloc="default",
        code_model="jitdefault",
        jit=True,
    )


_REGISTRY: dict[str, Callable[[], Target]] = {
    CORTEX_M4.name: lambda: CORTEX_M4,
    "host": _host,
}

TARGET_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get_target(target: str | Target, *, origin: str = "--target") -> Target:
    """Look a target up by name; ``origin`` names where the user wrote it, for the error message."""
    if isinstance(target, Target):
        return target
    factory = _REGISTRY.get(target)
    if factory is None:
        raise BackendError(
            f"unknown target {target!r}, at {origin}; choose one of: {', '.join(TARGET_NAMES)}"
        )
    return factory()
