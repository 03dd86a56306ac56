"""Cortex-M4 emulator (unicorn) with the estimated-cycle model of compiler/anchors/m4-timing.md.

`run_function(obj, "net_run", [x, out])` links a t2m object (plus memcpy/memset if it calls them), runs the
function on an emulated Cortex-M4 and returns its outputs, estimated cycles (total and per function),
instructions executed and stack high-water mark.
"""

from t2m.compiler.emulator.cycles import CycleReport, FunctionCost
from t2m.compiler.emulator.errors import EmulatorError, InstructionLimitError, LoadError
from t2m.compiler.emulator.loader import FLASH_BASE, SRAM_BASE, Image, Symbol, load
from t2m.compiler.emulator.machine import CycleMode, Emulator, RunResult, run_function
from t2m.compiler.emulator.runtime import compile_m4_object

__all__ = [
    "FLASH_BASE",
    "SRAM_BASE",
    "CycleMode",
    "CycleReport",
    "Emulator",
    "EmulatorError",
    "FunctionCost",
    "Image",
    "InstructionLimitError",
    "LoadError",
    "RunResult",
    "Symbol",
    "compile_m4_object",
    "load",
    "run_function",
]
