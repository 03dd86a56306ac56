"""A small static linker for the emulator: relocatable ARM objects → one memory image.

Code and read-only data go to flash at 0x0800_0000, `.data`/`.bss` to SRAM at a base the machine chooses.
Relocations are applied here (no external linker is needed or wanted: the emulator must not depend on an ARM
toolchain). The only external calls a t2m object may make are the memory routines LLVM emits on its own;
they are linked from runtime.py. Unwind tables (`.ARM.exidx`/`.ARM.extab`) are skipped: nothing unwinds.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import Section, SymbolTableSection

from t2m.compiler.emulator import relocations
from t2m.compiler.emulator.errors import LoadError
from t2m.compiler.emulator.runtime import RUNTIME_SYMBOLS, runtime_object

FLASH_BASE = 0x0800_0000
SRAM_BASE = 0x2000_0000

_SHF_WRITE = 0x1
_SHF_ALLOC = 0x2
_SHF_EXECINSTR = 0x4
_SKIPPED_PREFIXES = (".ARM.exidx", ".ARM.extab")
_CONSTRUCTOR_PREFIXES = (".init_array", ".preinit_array", ".fini_array", ".ctors", ".dtors")
_BKPT = b"\xfe\xbe"  # bkpt #0xfe: fills the return trampoline so stray execution there stops loudly


@dataclass(frozen=True, slots=True)
class Symbol:
    """A defined symbol in the image; `address` has no Thumb bit, `thumb` says whether it is Thumb code."""

    name: str
    address: int
    size: int
    is_code: bool
    thumb: bool

    @property
    def call_address(self) -> int:
        """Address to branch to (Thumb bit set)."""
        return self.address | 1


@dataclass
class Image:
    """A linked program: flash contents, initial SRAM contents and the symbols."""

    flash_base: int
    flash: bytes
    data_base: int
    data: bytes  # initial .data, then zeroed .bss
    return_address: int  # even address of a BKPT halfword in flash, used as LR sentinel
    symbols: dict[str, Symbol]
    functions: list[Symbol]  # code symbols by address, one per address (aliases folded)

    @property
    def data_end(self) -> int:
        return self.data_base + len(self.data)

    def symbolize(self, address: int) -> str:
        """`name+0x12` for a code or data address (the innermost symbol), or the bare hex address."""
        containing = [s for s in self.symbols.values() if s.address <= address < s.address + max(s.size, 1)]
        if not containing:
            return f"{address:#010x}"
        sym = max(containing, key=lambda s: (s.address, -s.size))
        offset = address - sym.address
        return f"{sym.name}+{offset:#x}" if offset else sym.name


@dataclass
class _Placed:
    """One allocatable input section and where it lands."""

    obj: _Object
    index: int
    name: str
    region: str  # "code", "rodata", "data", "bss"
    data: bytearray
    align: int
    address: int = 0


@dataclass
class _Object:
    name: str
    elf: ELFFile
    placed: dict[int, _Placed] = field(default_factory=dict)
    symtab: SymbolTableSection | None = None
    addresses: dict[int, int] = field(default_factory=dict)  # symbol index → address (with Thumb bit)
    library: bool = False  # its global definitions give way to the model's (the runtime's mem* routines)


def _parse(name: str, data: bytes) -> _Object:
    try:
        elf = ELFFile(io.BytesIO(data))
    except ELFError as exc:
        raise LoadError(f"{name} is not an ELF object ({exc})") from None
    machine = elf["e_machine"]
    if machine != "EM_ARM" or elf.elfclass != 32 or not elf.little_endian:
        raise LoadError(
            f"{name} is an object for {machine} ({elf.elfclass}-bit), not 32-bit little-endian ARM; "
            "compile for thumbv7em-none-eabihf (cortex-m4)"
        )
    if elf["e_type"] != "ET_REL":
        raise LoadError(f"{name} is {elf['e_type']}, expected a relocatable object (ET_REL)")
    symtab = elf.get_section_by_name(".symtab")
    return _Object(name, elf, symtab=symtab if isinstance(symtab, SymbolTableSection) else None)


def _region(section: Section) -> str | None:
    flags = section["sh_flags"]
    name = section.name
    if not flags & _SHF_ALLOC or name.startswith(_SKIPPED_PREFIXES) or section["sh_type"] == "SHT_ARM_EXIDX":
        return None
    if name.startswith(_CONSTRUCTOR_PREFIXES) and section["sh_size"]:
        raise LoadError(f"section {name}: t2m objects must not have static constructors or destructors")
    if flags & _SHF_EXECINSTR or name.startswith(".text"):
        return "code"
    if flags & _SHF_WRITE:
        return "bss" if section["sh_type"] == "SHT_NOBITS" else "data"
    return "rodata"


def _collect_sections(obj: _Object) -> None:
    for index, section in enumerate(obj.elf.iter_sections()):
        region = _region(section)
        if region is None:
            continue
        size = section["sh_size"]
        data = bytearray(size) if region == "bss" else bytearray(section.data())
        obj.placed[index] = _Placed(obj, index, section.name, region, data, max(section["sh_addralign"], 1))


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def _lay_out(sections: Sequence[_Placed], start: int) -> int:
    address = start
    for placed in sections:
        address = _align(address, placed.align)
        placed.address = address
        address += len(placed.data)
    return address


def _symbols(obj: _Object) -> Iterator[tuple[int, Any]]:
    if obj.symtab is not None:
        yield from enumerate(obj.symtab.iter_symbols())


class _Linker:
    """Places sections, resolves symbols and applies relocations across objects."""

    def __init__(self, objects: Sequence[_Object]) -> None:
        self.objects = list(objects)
        self.globals: dict[str, int] = {}

    def link(self, flash_base: int, data_base: int) -> Image:
        placed = [p for obj in self.objects for p in obj.placed.values()]
        by_region = {r: [p for p in placed if p.region == r] for r in ("code", "rodata", "data", "bss")}
        flash_end = _lay_out(by_region["code"] + by_region["rodata"], flash_base)
        data_end = _lay_out(by_region["data"] + by_region["bss"], data_base)
        data_end = self._define_symbols(data_end)
        for obj in self.objects:
            self._relocate(obj)
        return self._image(flash_base, flash_end, data_base, data_end, by_region)

    def _define_symbols(self, data_end: int) -> int:
        """Addresses of every defined symbol; COMMON symbols are allocated after .bss."""
        for obj in self.objects:
            for index, sym in _symbols(obj):
                shndx, value = sym["st_shndx"], sym["st_value"]
                if shndx == "SHN_COMMON":
                    data_end = _align(data_end, max(value, 1))
                    address, data_end = data_end, data_end + sym["st_size"]
                elif shndx == "SHN_ABS":
                    address = value
                elif isinstance(shndx, int) and shndx in obj.placed:
                    address = obj.placed[shndx].address + value
                else:
                    continue
                obj.addresses[index] = address
                name = sym.name
                if sym["st_info"]["bind"] != "STB_LOCAL" and name:
                    if name in self.globals and obj.library:
                        continue
                    if name in self.globals:
                        raise LoadError(f"symbol '{name}' is defined twice (second time in {obj.name})")
                    self.globals[name] = address
        return data_end

    def _resolve(self, obj: _Object, index: int) -> int:
        address = obj.addresses.get(index)
        if address is not None:
            return address
        assert obj.symtab is not None
        sym = obj.symtab.get_symbol(index)
        if sym["st_shndx"] == "SHN_UNDEF" and sym.name in self.globals:
            return self.globals[sym.name]
        what = sym.name or f"section symbol #{index}"
        raise LoadError(f"{obj.name}: relocation against '{what}', which is not loaded")

    def _relocate(self, obj: _Object) -> None:
        for section in obj.elf.iter_sections():
            if not isinstance(section, RelocationSection):
                continue
            target = obj.placed.get(section["sh_info"])
            if target is None:
                continue  # relocations of skipped sections (unwind tables)
            for rel in section.iter_relocations():
                rtype = rel["r_info_type"]
                if rtype in relocations.IGNORED:
                    continue
                offset = rel["r_offset"]
                symbol = self._resolve(obj, rel["r_info_sym"])
                addend = rel["r_addend"] if rel.is_RELA() else None
                try:
                    relocations.apply(target.data, offset, rtype, symbol, target.address + offset, addend)
                except LoadError as exc:
                    raise LoadError(f"{obj.name}: {exc} at {target.name}+{offset:#x}") from None

    def _image(
        self, flash_base: int, flash_end: int, data_base: int, data_end: int, regions: dict[str, list[_Placed]]
    ) -> Image:
        trampoline = _align(flash_end, 8) + 8
        flash = bytearray(trampoline + 8 - flash_base)
        flash[trampoline - flash_base - 8 :] = _BKPT * 8
        for placed in regions["code"] + regions["rodata"]:
            flash[placed.address - flash_base : placed.address - flash_base + len(placed.data)] = placed.data
        data = bytearray(data_end - data_base)
        for placed in regions["data"]:
            data[placed.address - data_base : placed.address - data_base + len(placed.data)] = placed.data
        symbols, functions = self._symbol_table(regions)
        return Image(flash_base, bytes(flash), data_base, bytes(data), trampoline, symbols, functions)

    def _symbol_table(self, regions: dict[str, list[_Placed]]) -> tuple[dict[str, Symbol], list[Symbol]]:
        code = {(p.obj.name, p.index) for p in regions["code"]}
        symbols: dict[str, Symbol] = {}
        for obj in self.objects:
            for index, sym in _symbols(obj):
                name = sym.name
                kind = sym["st_info"]["type"]
                if index not in obj.addresses or not name or name.startswith(("$", ".L")):
                    continue
                if kind in ("STT_SECTION", "STT_FILE"):
                    continue
                address = obj.addresses[index]
                is_code = (obj.name, sym["st_shndx"]) in code
                thumb = is_code and (kind != "STT_FUNC" or bool(address & 1))
                symbols.setdefault(name, Symbol(name, address & ~1, sym["st_size"], is_code, thumb))
        code_ranges = [(p.address, p.address + len(p.data)) for p in regions["code"]]
        functions = _extend_unsized(_fold_aliases(s for s in symbols.values() if s.is_code), code_ranges)
        for function in functions:
            symbols[function.name] = function
        return symbols, functions


def _alias_rank(sym: Symbol) -> tuple[bool, int, str]:
    """Prefer the plain name among aliases (memcpy over __aeabi_memcpy)."""
    return (sym.name.startswith("_"), len(sym.name), sym.name)


def _fold_aliases(code_symbols: Iterator[Symbol]) -> list[Symbol]:
    best: dict[int, Symbol] = {}
    for sym in code_symbols:
        other = best.get(sym.address)
        if other is None or _alias_rank(sym) < _alias_rank(other):
            best[sym.address] = sym
    return sorted(best.values(), key=lambda s: s.address)


def _extend_unsized(functions: list[Symbol], code_ranges: list[tuple[int, int]]) -> list[Symbol]:
    """Hand-written assembly often has code labels without a size: they reach the next label."""
    result: list[Symbol] = []
    for i, sym in enumerate(functions):
        if sym.size == 0:
            end = next((e for s, e in code_ranges if s <= sym.address < e), sym.address)
            if i + 1 < len(functions):
                end = min(end, functions[i + 1].address)
            sym = replace(sym, size=max(end - sym.address, 0))
        result.append(sym)
    return result


def _undefined_references(obj: _Object) -> set[str]:
    """Undefined symbols that loaded sections actually reference (unwind-table references do not count)."""
    if obj.symtab is None:
        return set()
    names: set[str] = set()
    for section in obj.elf.iter_sections():
        if not isinstance(section, RelocationSection) or section["sh_info"] not in obj.placed:
            continue
        for rel in section.iter_relocations():
            if rel["r_info_type"] in relocations.IGNORED:
                continue
            sym = obj.symtab.get_symbol(rel["r_info_sym"])
            if sym["st_shndx"] == "SHN_UNDEF" and sym.name:
                names.add(sym.name)
    return names


def _defined_globals(obj: _Object) -> set[str]:
    return {
        sym.name for _, sym in _symbols(obj) if sym["st_shndx"] != "SHN_UNDEF" and sym["st_info"]["bind"] != "STB_LOCAL"
    }


def load(objects: Sequence[tuple[str, bytes]], *, flash_base: int = FLASH_BASE, data_base: int = SRAM_BASE) -> Image:
    """Link `(name, ELF bytes)` objects into an image, adding t2m's memory routines if they are called."""
    parsed = [_parse(name, data) for name, data in objects]
    for obj in parsed:
        _collect_sections(obj)
    defined = set().union(*(_defined_globals(o) for o in parsed))
    for obj in parsed:
        missing = sorted(_undefined_references(obj) - defined - RUNTIME_SYMBOLS)
        if missing:
            names = ", ".join(f"'{m}'" for m in missing)
            plural = "symbols" if len(missing) > 1 else "symbol"
            raise LoadError(f"undefined {plural} {names} in {obj.name}; t2m objects may only call memcpy/memset")
    needed = set().union(*(_undefined_references(o) for o in parsed)) - defined
    if needed:
        runtime = _parse("t2m-runtime.o", runtime_object())
        runtime.library = True
        _collect_sections(runtime)
        parsed.append(runtime)
    return _Linker(parsed).link(flash_base, data_base)
