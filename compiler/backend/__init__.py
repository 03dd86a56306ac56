"""Backend: LLVM IR to Cortex-M4 objects and host JIT through llvmlite.

- ``target``: the ``cortex-m4`` and ``host`` target descriptions.
- ``llvm``: parse/verify, the new-pass-manager pipeline for O0..Oz, object and assembly emission.
- ``armattrs``: the ``Tag_ABI_VFP_args`` patch that lets GNU ld link our objects into hard-float firmware.
- ``objcheck``: object inspection, Thumb disassembly and the Cortex-M4 contract checker.
- ``jit``: MCJIT on the host, to compare the same IR against numpy.
"""

from .armattrs import mark_hard_float, read_arm_attributes
from .errors import BackendError
from .jit import HostJIT
from .llvm import OPT_LEVELS, compile_asm, compile_object, optimize
from .objcheck import ObjectInfo, check_cortex_m4_object, disassemble, inspect_object
from .target import TARGET_NAMES, Target, get_target

__all__ = [
    "OPT_LEVELS",
    "TARGET_NAMES",
    "BackendError",
    "HostJIT",
    "ObjectInfo",
    "Target",
    "check_cortex_m4_object",
    "compile_asm",
    "compile_object",
    "disassemble",
    "get_target",
    "inspect_object",
    "mark_hard_float",
    "optimize",
    "read_arm_attributes",
]
