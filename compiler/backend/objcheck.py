"""Inspect a compiled object and check it against the Cortex-M4 contract (docs/design.md §3 and §4).

The checks catch what the toolchain would accept but the chip or the firmware would not: NEON, double
precision or ARMv8 FP instructions (undefined on FPv4-SP, they fault at run time), soft-float libm calls (they
link against a hard-float libm and silently compute garbage), and any undefined symbol beyond ``mem*``.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import capstone
from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import Section, SymbolTableSection

from .armattrs import (
    TAG_ABI_VFP_ARGS,
    TAG_CPU_ARCH,
    TAG_CPU_ARCH_V7EM,
    TAG_FP_ARCH,
    TAG_THUMB_ISA_USE,
    read_arm_attributes,
)
from .errors import BackendError

__all__ = [
    "Instruction",
    "ObjectInfo",
    "Symbol",
    "check_cortex_m4_object",
    "classify_instruction",
    "disassemble",
    "inspect_object",
]

UNDECODABLE = ".byte"  # capstone's skipdata mnemonic

SECTION_KINDS: tuple[str, ...] = ("text", "rodata", "data", "bss")

# Functions the object may leave to the firmware: the C memory functions and their AEABI variants.
ALLOWED_UNDEFINED = frozenset(
    {"memcpy", "memmove", "memset"}
    | {
        f"__aeabi_{name}{suffix}"
        for name in ("memcpy", "memmove", "memset", "memclr")
        for suffix in ("", "4", "8")
    }
)

# Float helpers LLVM calls by itself: libm (from intrinsics like llvm.exp.f32, or frem) and the run-time
# library's float/double arithmetic and conversions (AEABI and libgcc spellings).
_LIBM = frozenset(
    name + suffix
    for name in (
        "exp", "exp2", "exp10", "expm1", "log", "log2", "log10", "log1p", "pow", "sqrt", "cbrt",
        "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh",
        "atanh", "erf", "erfc", "fmod", "remainder", "fmax", "fmin", "fabs", "floor", "ceil", "trunc",
        "round", "roundeven", "rint", "nearbyint", "lrint", "llrint", "lround", "llround", "ldexp", "frexp",
        "copysign", "hypot", "sincos", "modf",
    )
    for suffix in ("", "f", "l")
)  # fmt: skip
_FLOAT_RUNTIME = re.compile(
    r"^__aeabi_(?:[fd].*|u?[il]2[fd]|h2f)$|^__gnu_(?:h2f|f2h)_ieee$"
    r"|^__(?:add|sub|mul|div|neg|cmp|eq|ne|lt|le|gt|ge|unord)[sd]f[23]$"
    r"|^__(?:extend|trunc)[hsd]f[hsd]f2$|^__fix(?:uns)?[sd]f[sd]i$|^__float(?:un)?[sd]i[sd]f$"
)

_Q_REGISTER = re.compile(r"\bq(?:[0-9]|1[0-5])\b")
_D_REGISTER = re.compile(r"\bd(?:[0-9]|[12][0-9]|3[01])\b")
_HIGH_D_REGISTER = re.compile(r"\bd(?:1[6-9]|2[0-9]|3[01])\b")
_CORE_REGISTER = re.compile(r"\b(?:r(?:[0-9]|1[0-2])|sb|sl|fp|ip|sp|lr|pc)\b")
_NEON_LOAD_STORE = re.compile(r"^v(?:ld|st)[1-4]$")
# Instructions that touch d registers on FPv4-SP-D16 without doing double or vector arithmetic.
_D_REGISTER_TRANSFER = ("vldr", "vstr", "vldm", "vstm", "vpush", "vpop")
_ARMV8_FP = re.compile(r"^(?:vmaxnm|vminnm|vrint[anpmxzr]|vsel(?:eq|ge|gt|vs)|vcvt[anpm]|vjcvt)$")


@dataclass(frozen=True)
class Symbol:
    """A symbol table entry; ``section`` is None for undefined symbols."""

    name: str
    value: int
    size: int
    kind: str  # STT_FUNC, STT_OBJECT, STT_NOTYPE, ...
    binding: str  # STB_GLOBAL, STB_LOCAL, STB_WEAK
    section: str | None


@dataclass(frozen=True)
class Instruction:
    function: str
    address: int  # offset in the function's section
    mnemonic: str
    op_str: str

    def __str__(self) -> str:
        return f"{self.function}+{self.address:#x}: {self.mnemonic} {self.op_str}".rstrip()


@dataclass(frozen=True)
class ObjectInfo:
    """What a relocatable object contains, as far as size budgets and the M4 contract care."""

    elf_class: int  # 32 or 64
    machine: str  # pyelftools' e_machine name, e.g. "EM_ARM"
    section_sizes: dict[str, int]  # text/rodata/data/bss, each summed over .text*, .rodata*, ...
    sections: dict[str, int]  # every allocated section by name
    defined: tuple[Symbol, ...]  # named, non-local-mapping symbols defined in a section
    undefined: tuple[str, ...]
    attributes: dict[int, int | str]  # .ARM.attributes file scope; empty for non-ARM objects

    @property
    def functions(self) -> tuple[Symbol, ...]:
        return tuple(symbol for symbol in self.defined if symbol.kind == "STT_FUNC")

    @property
    def flash_bytes(self) -> int:
        """Code plus read-only data: what the object costs in flash (initialised .data is counted in RAM)."""
        return self.section_sizes["text"] + self.section_sizes["rodata"]


@contextlib.contextmanager
def _reading_elf() -> Iterator[None]:
    """pyelftools parses lazily, so a corrupt file can fail at any access: report all of them the same way."""
    try:
        yield
    except ELFError as error:
        raise BackendError(f"not a readable ELF object: {error}") from None


def _section_kind(name: str) -> str | None:
    for kind in SECTION_KINDS:
        if name == f".{kind}" or name.startswith(f".{kind}."):
            return kind
    return None


def _symbols(elf: ELFFile) -> list[Symbol]:
    table = elf.get_section_by_name(".symtab")
    if not isinstance(table, SymbolTableSection):
        return []
    return [
        Symbol(
            name=entry.name,
            value=entry["st_value"],
            size=entry["st_size"],
            kind=entry["st_info"]["type"],
            binding=entry["st_info"]["bind"],
            section=_symbol_section(elf, entry["st_shndx"]),
        )
        for entry in table.iter_symbols()
    ]


def _symbol_section(elf: ELFFile, index: int | str) -> str | None:
    """Section name of a symbol; pyelftools spells the special indices as strings (SHN_UNDEF, SHN_ABS...)."""
    if isinstance(index, int):
        return elf.get_section(index).name if index > 0 else None
    return {"SHN_ABS": "*ABS*", "SHN_COMMON": "*COM*"}.get(index)


def _is_mapping_symbol(name: str) -> bool:
    """ARM ELF ``$t``/``$a``/``$d`` markers (optionally ``$d.N``) that delimit code and literal pools."""
    return len(name) >= 2 and name[0] == "$" and name[1] in "tad" and (len(name) == 2 or name[2] == ".")


def inspect_object(obj: bytes) -> ObjectInfo:
    """Sections, symbols and build attributes of a relocatable ELF object."""
    with _reading_elf():
        return _inspect(ELFFile(io.BytesIO(obj)), obj)


def _inspect(elf: ELFFile, obj: bytes) -> ObjectInfo:
    sizes: dict[str, int] = dict.fromkeys(SECTION_KINDS, 0)
    allocated: dict[str, int] = {}
    for section in elf.iter_sections():
        if section["sh_flags"] & 0x2:  # SHF_ALLOC
            allocated[section.name] = section["sh_size"]
        kind = _section_kind(section.name)
        if kind is not None:
            sizes[kind] += section["sh_size"]
    symbols = _symbols(elf)
    defined = tuple(
        s for s in symbols
        if s.section is not None and s.name and s.kind not in ("STT_SECTION", "STT_FILE")
        and not _is_mapping_symbol(s.name)
    )  # fmt: skip
    undefined = tuple(sorted({s.name for s in symbols if s.section is None and s.name}))
    is_arm = elf["e_machine"] == "EM_ARM" and elf.elfclass == 32
    return ObjectInfo(
        elf_class=elf.elfclass,
        machine=elf["e_machine"],
        section_sizes=sizes,
        sections=allocated,
        defined=defined,
        undefined=undefined,
        attributes=read_arm_attributes(obj) if is_arm and _has_attributes(elf) else {},
    )


def _has_attributes(elf: ELFFile) -> bool:
    return any(section["sh_type"] == "SHT_ARM_ATTRIBUTES" for section in elf.iter_sections())


# --- disassembly ------------------------------------------------------------------------------------------


def _code_ranges(symbols: list[Symbol], section: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sub-ranges of [start, end) that hold instructions, according to the ``$t``/``$d`` mapping symbols."""
    marks = sorted(
        (s.value, s.name[1]) for s in symbols if s.section == section and _is_mapping_symbol(s.name)
    )
    state = "t"
    for value, kind in marks:
        if value <= start:
            state = kind
    ranges: list[tuple[int, int]] = []
    cursor = start
    for value, kind in marks:
        if not start < value < end:
            continue
        if state != "d" and value > cursor:
            ranges.append((cursor, value))
        state, cursor = kind, value
    if state != "d" and end > cursor:
        ranges.append((cursor, end))
    return ranges


def disassemble(obj: bytes) -> list[Instruction]:
    """M-profile Thumb-2 listing of every function; literal pools skipped, undecodable bytes as .byte."""
    with _reading_elf():
        return _disassemble(ELFFile(io.BytesIO(obj)))


def _disassemble(elf: ELFFile) -> list[Instruction]:
    if elf["e_machine"] != "EM_ARM":
        raise BackendError(f"cannot disassemble a {elf['e_machine']} object as Thumb code")
    decoder = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    decoder.skipdata = True  # undecodable halfwords come out as ".byte" instead of ending the listing
    symbols = _symbols(elf)
    lines: list[Instruction] = []
    for function in sorted((s for s in symbols if s.kind == "STT_FUNC" and s.section), key=lambda s: s.value):
        assert function.section is not None
        section = elf.get_section_by_name(function.section)
        if not isinstance(section, Section):
            continue
        data: bytes = section.data()
        start = function.value & ~1
        end = start + function.size if function.size else len(data)
        for low, high in _code_ranges(symbols, function.section, start, end):
            for insn in decoder.disasm(data[low:high], low):
                lines.append(Instruction(function.name, insn.address, insn.mnemonic, insn.op_str))
    return lines


def classify_instruction(mnemonic: str, op_str: str) -> str | None:
    """Why an instruction cannot run on a Cortex-M4 (FPv4-SP-D16, no NEON), or None if it can."""
    if not mnemonic.startswith("v"):
        return None
    base, *types = mnemonic.split(".")
    if _ARMV8_FP.match(base):
        return "ARMv8 FP instruction (undefined on FPv4-SP)"
    if _Q_REGISTER.search(op_str) or _NEON_LOAD_STORE.match(base):
        return "NEON instruction"
    if _HIGH_D_REGISTER.search(op_str):
        return "register d16-d31 (FPv4-SP-D16 has d0-d15 only)"
    if "f64" in types:
        return "double-precision instruction (FPv4-SP has no double unit)"
    if not _D_REGISTER.search(op_str) or base.startswith(_D_REGISTER_TRANSFER):
        return None
    if base.startswith("vmov") and _CORE_REGISTER.search(op_str) and types in ([], ["32"]):
        return None  # vmov r0, r1, d0 / vmov.32 r0, d0[1]: register transfers, part of the FP extension
    return "NEON instruction"


# --- the contract -----------------------------------------------------------------------------------------


def _attribute_violations(attributes: dict[int, int | str]) -> list[str]:
    problems: list[str] = []
    arch = attributes.get(TAG_CPU_ARCH)
    if arch != TAG_CPU_ARCH_V7EM:
        problems.append(f"Tag_CPU_arch is {arch}, expected {TAG_CPU_ARCH_V7EM} (v7E-M)")
    if TAG_THUMB_ISA_USE not in attributes:
        problems.append("Tag_THUMB_ISA_use missing")
    if attributes.get(TAG_FP_ARCH) != 6:
        problems.append(f"Tag_FP_arch is {attributes.get(TAG_FP_ARCH)}, expected 6 (VFPv4-D16)")
    if attributes.get(TAG_ABI_VFP_ARGS) != 1:
        problems.append(
            "Tag_ABI_VFP_args=1 missing: GNU ld rejects the object in a -mfloat-abi=hard firmware"
        )
    return problems


def _symbol_violations(info: ObjectInfo) -> list[str]:
    problems: list[str] = []
    for name in info.undefined:
        if name in _LIBM:
            problems.append(
                f"float library call {name!r}: a soft-float call into a hard-float libm returns wrong values"
            )
        elif _FLOAT_RUNTIME.match(name):
            problems.append(
                f"float library call {name!r}: double precision or a conversion the FPU cannot do, "
                "emulated in software"
            )
        elif name not in ALLOWED_UNDEFINED:
            problems.append(f"undefined symbol {name!r}: only memcpy/memmove/memset and __aeabi_mem* may be")
    for function in info.functions:
        if function.section and not function.value & 1:
            problems.append(f"function {function.name!r} is not Thumb code (symbol value even)")
    return problems


def check_cortex_m4_object(obj: bytes) -> list[str]:
    """Every way ``obj`` breaks the Cortex-M4 contract, one line each; empty when it is fine."""
    info = inspect_object(obj)
    if info.elf_class != 32 or info.machine != "EM_ARM":
        return [f"not an ELF32 ARM object (ELF{info.elf_class}, {info.machine})"]
    problems = _attribute_violations(info.attributes) + _symbol_violations(info)
    for instruction in disassemble(obj):
        if instruction.mnemonic == UNDECODABLE:
            problems.append(f"bytes that are no M-profile Thumb instruction: {instruction}")
            continue
        reason = classify_instruction(instruction.mnemonic, instruction.op_str)
        if reason:
            problems.append(f"{reason}: {instruction}")
    return problems
