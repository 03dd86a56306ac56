"""Run t2m's LLVM IR on this machine through MCJIT, to check generated code against numpy.

The IR is the one that goes to the Cortex-M4: its triple, data layout and per-function CPU attributes are
replaced by the host's before optimisation (``llvm.optimize`` does that). This works because t2m's IR is
target-neutral apart from those: pointer arithmetic is done with GEPs, never by casting pointers to ``i32``.
The Cortex-M4's DSP intrinsics (``llvm.arm.smlad``...) run through portable definitions (dsp_host.py); other
target intrinsics cannot run here.

The code runs natively in this process, so ``HostJIT`` first refuses IR that names anything outside itself that
t2m's code never needs (``check_host_safe``): external functions other than memcpy/memmove/memset, external globals,
LLVM intrinsics outside the arithmetic and memory ones, inline or module-level assembly, indirect calls, static
constructors, and definitions the JIT could bind to this process's symbols (weak, available_externally). A file that
is not t2m's output then cannot call ``system`` or read ``environ``. This limits what the IR can name, not what it
can do with the buffers it is given: the JIT is no sandbox (the emulator is).
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import llvmlite.binding as llvm
import numpy as np

from .dsp_host import PORTABLE
from .errors import BackendError
from .llvm import OptLevel, create_target_machine, get_opt_level, optimize, parse_module
from .target import get_target

__all__ = ["HostJIT", "check_host_safe"]

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


# What t2m's IR may call besides its own functions: the C memory functions (LLVM also lowers its memory intrinsics
# to them) and target-independent arithmetic and memory intrinsics.
RUNTIME_FUNCTIONS = frozenset({"memcpy", "memmove", "memset"})
_INTRINSIC = re.compile(
    r"^llvm\.(?:fmuladd|fma|fabs|sqrt|exp2?|log(?:2|10)?|powi?|floor|ceil|trunc|l?l?round|roundeven|l?l?rint|nearbyint"
    r"|copysign|ldexp|frexp|(?:min|max)(?:num|imum)|[su](?:max|min)|abs|[su](?:add|sub|shl)\.sat"
    r"|[su](?:add|sub|mul)\.with\.overflow|fsh[lr]|ctlz|cttz|ctpop|bswap|bitreverse|fpto[su]i\.sat|is\.fpclass"
    r"|canonicalize|mem(?:cpy|move|set)(?:\.inline)?|lifetime\.(?:start|end)|assume|expect|vector\.reduce"
    r"|masked\.(?:load|store)|invariant\.(?:start|end)|experimental\.noalias\.scope\.decl)(?:\.|$)"
)
# Intrinsics of one instruction set (llvm.<target>.*): LLVM cannot select them for another and aborts the process.
_TARGET_INTRINSIC = re.compile(
    r"^llvm\.(arm|aarch64|x86|amdgcn|r600|nvvm|ppc|mips|riscv|s390|wasm|hexagon|loongarch|bpf|spv|ve|xcore|dx)\."
)
_ASM_WORDS = re.compile(r"\b(?:asm|ifunc)\b")
_MODULE_ASM = re.compile(r"^module asm ", re.MULTILINE)
_IFUNC = re.compile(r"^@\S+ = [^\n]*\bifunc\b", re.MULTILINE)
_LINKAGES = frozenset({llvm.Linkage.external, llvm.Linkage.internal, llvm.Linkage.private})


def _check_declaration(name: str) -> None:
    """A function the IR declares but does not define must be a runtime function or a harmless intrinsic."""
    if name in RUNTIME_FUNCTIONS or name in PORTABLE or _INTRINSIC.match(name):
        return  # PORTABLE: the DSP intrinsics the backend replaces by portable definitions (dsp_host.py)
    target = _TARGET_INTRINSIC.match(name)
    if target:
        raise BackendError(
            f"'{name}' is an intrinsic of the {target.group(1)} instruction set, which this machine cannot run (run"
            " the object on the emulated Cortex-M4 instead)"
        )
    if name.startswith("llvm."):
        what = f"LLVM intrinsic '{name}' (not one of the arithmetic and memory intrinsics t2m emits)"
    else:
        what = f"external function '{name}' (t2m's code calls only its own functions, memcpy, memmove and memset)"
    raise BackendError(f"the host JIT refuses {what}")


def _check_linkage(value: llvm.ValueRef) -> None:
    """A definition the JIT might bind to a symbol of this process instead (weak, available_externally...)."""
    if value.linkage not in _LINKAGES:
        raise BackendError(
            f"the host JIT refuses {value.linkage.name} symbol '{value.name}' (it could bind to code outside the"
            " module)"
        )


def _check_calls(function: llvm.ValueRef) -> None:
    """Calls go to functions by name: no inline assembly, no call through a pointer."""
    for block in function.blocks:
        for instruction in block.instructions:
            if instruction.opcode not in ("call", "invoke", "callbr"):
                continue
            callee = list(instruction.operands)[-1]
            if callee.value_kind == llvm.ValueKind.inline_asm:
                raise BackendError(f"the host JIT refuses inline assembly (in function '{function.name}')")
            if callee.value_kind != llvm.ValueKind.function:
                raise BackendError(
                    f"the host JIT refuses an indirect call (in function '{function.name}'; t2m's code calls"
                    " functions by name)"
                )


def check_host_safe(module: llvm.ModuleRef, ll_text: str | None = None) -> None:
    """Raise ``BackendError`` if ``module`` names anything outside itself that t2m's own IR never needs.

    The error says what is refused; the caller adds where (the user's file) and what to do, as `t2m-run` does.

    ``ll_text``, the text ``module`` was parsed from, saves printing a large module: without the words ``asm`` and
    ``ifunc`` anywhere in it, there is no module-level assembly or ifunc.
    """
    if ll_text is None or _ASM_WORDS.search(ll_text):
        text = str(module)
        if _MODULE_ASM.search(text):
            raise BackendError("the host JIT refuses module-level assembly")
        if _IFUNC.search(text):
            raise BackendError("the host JIT refuses an ifunc (its resolver runs when loaded)")
    for variable in module.global_variables:
        if variable.name in ("llvm.global_ctors", "llvm.global_dtors"):
            raise BackendError(f"the host JIT refuses static constructors or destructors ('{variable.name}')")
        if variable.is_declaration:
            raise BackendError(
                f"the host JIT refuses external global '{variable.name}' (t2m's code defines every global it uses)"
            )
        _check_linkage(variable)
    for function in module.functions:
        if function.is_declaration:
            _check_declaration(function.name)
        else:
            _check_linkage(function)
            _check_calls(function)


def _argument(value: object) -> object:
    """numpy arrays are passed by address; everything else as is."""
    if isinstance(value, np.ndarray):
        return value.ctypes.data
    return value


class HostJIT:
    """One IR module compiled for the host (checked by ``check_host_safe`` first); functions stay callable as long
    as this object lives."""

    def __init__(self, ll_text: str, opt: str | OptLevel = "O2") -> None:
        host = get_target("host")
        level = get_opt_level(opt)
        check_host_safe(parse_module(ll_text), ll_text)
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
            raise BackendError(f"{name} takes ({', '.join(str(p) for p in parameters)}), not {len(arrays)} buffers")
        for array in arrays:
            if not array.flags.c_contiguous:
                raise BackendError(f"{name}: buffers must be C-contiguous")
        for array in outputs:
            if not array.flags.writeable:
                raise BackendError(f"{name}: output buffers must be writeable")
        return int(self.call(name, *arrays))
