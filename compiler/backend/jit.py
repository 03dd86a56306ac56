"""Run t2m's LLVM IR on this machine through MCJIT, to check generated code against numpy.

The IR is the one that goes to the Cortex-M4: its triple, data layout and per-function CPU attributes are
replaced by the host's before optimisation (``llvm.optimize`` does that). This works because t2m's IR is
target-neutral apart from those: pointer arithmetic is done with GEPs, never by casting pointers to ``i32``.
Target intrinsics (``llvm.arm.smlad``...) cannot run here; kernels using them need the emulator instead.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import llvmlite.binding as llvm
import numpy as np

from .errors import BackendError
from .llvm import OptLevel, create_target_machine, get_opt_level, optimize
from .target import get_target

__all__ = ["HostJIT"]

_CType: TypeAlias = "type[ctypes._SimpleCData[Any]]"

_INTEGER_TYPES: dict[int, _CType] = {  # by bit width
    1: ctypes.c_bool,
    8: ctypes.c_int8,
    16: ctypes.c_int16,
    32: ctypes.c_int32,
    64: ctypes.c_int64,
}


def _parameter_ctype(type_ref: llvm.TypeRef) -> _CType:
    """The ctypes type passing one LLVM scalar the way the host C ABI does."""
    text = str(type_ref)
    if type_ref.is_pointer:
        return ctypes.c_void_p
    if text == "float":
        return ctypes.c_float
    if text == "double":
        return ctypes.c_double
    if text.startswith("i") and text[1:].isdigit() and int(text[1:]) in _INTEGER_TYPES:
        return _INTEGER_TYPES[int(text[1:])]
    raise BackendError(f"cannot pass LLVM type {text} between Python and JIT code")


def _return_ctype(type_ref: llvm.TypeRef) -> _CType | None:
    return None if str(type_ref) == "void" else _parameter_ctype(type_ref)


def _argument(value: object) -> object:
    """numpy arrays are passed by address; everything else as is."""
    if isinstance(value, np.ndarray):
        return value.ctypes.data
    return value


class HostJIT:
    """One IR module compiled for the host; functions stay callable as long as this object lives."""

    def __init__(self, ll_text: str, opt: str | OptLevel = "O2") -> None:
        host = get_target("host")
        level = get_opt_level(opt)
        self.module = optimize(ll_text, host, level)
        # The engine owns the module and the target machine from here on.
        self._engine = llvm.create_mcjit_compiler(self.module, create_target_machine(host, level))
        compiled: list[bytes] = []
        self._engine.set_object_cache(lambda _module, data: compiled.append(data))
        self._engine.finalize_object()
        self.object = b"".join(compiled)
        """The host object MCJIT compiled (it carries the model description in `.comment`, as a t2m object does)."""
        self._functions: dict[str, Callable[..., Any]] = {}

    def function(self, name: str) -> Callable[..., Any]:
        """A ctypes callable for the defined function ``name``, typed from its LLVM signature."""
        cached = self._functions.get(name)
        if cached is not None:
            return cached
        signature = self._signature(name)
        prototype = ctypes.CFUNCTYPE(
            _return_ctype(signature.get_function_return()),
            *(_parameter_ctype(parameter) for parameter in signature.get_function_parameters()),
        )
        function = prototype(self._engine.get_function_address(name))
        self._functions[name] = function
        return function

    def _signature(self, name: str) -> llvm.TypeRef:
        try:
            definition = self.module.get_function(name)
        except NameError:
            raise BackendError(f"no function {name!r} in the JIT module") from None
        if definition.is_declaration:
            raise BackendError(f"function {name!r} is only declared in the JIT module")
        return definition.global_value_type

    def call(self, name: str, *args: object) -> Any:
        """Call ``name`` with Python scalars or numpy arrays (passed as pointers to their data)."""
        return self.function(name)(*(_argument(arg) for arg in args))

    def run(self, name: str, inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray]) -> int:
        """Call an ``i32 name(ptr in..., ptr out...)`` kernel; returns its status (0 is success)."""
        parameters = self._signature(name).get_function_parameters()
        arrays = [*inputs, *outputs]
        if len(parameters) != len(arrays) or not all(p.is_pointer for p in parameters):
            raise BackendError(
                f"{name} takes ({', '.join(str(p) for p in parameters)}), not {len(arrays)} buffers"
            )
        for array in arrays:
            if not array.flags.c_contiguous:
                raise BackendError(f"{name}: buffers must be C-contiguous")
        for array in outputs:
            if not array.flags.writeable:
                raise BackendError(f"{name}: output buffers must be writeable")
        return int(self.call(name, *arrays))
