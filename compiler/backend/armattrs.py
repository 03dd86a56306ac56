"""Read and patch the ``.ARM.attributes`` build-attribute section of an ARM ELF object.

Why: llvmlite's ARM target machine uses the soft-float calling convention and writes no
``Tag_ABI_VFP_args``, so GNU ld refuses to link its objects into a ``-mfloat-abi=hard`` firmware
("uses VFP register arguments, x.o does not"). t2m's generated functions take and return only pointers and
integers and call nothing that takes floats, so no value ever crosses the boundary in a float register and
the object is honestly hard-float compatible: ``mark_hard_float`` records that by setting
``Tag_ABI_VFP_args = 1``.

Section format (ARM IHI 0045, "Addenda to the ARM ABI", build attributes)::

    'A'                                    format version
    { u32 length, "vendor\\0",             vendor subsection; length counts itself
      { uleb tag, u32 size, body } ... }   sub-subsections: Tag_File(1), Tag_Section(2), Tag_Symbol(3);
                                           size counts the tag byte and itself
    body of Tag_File: attributes, each a ULEB128 tag then a ULEB128 or a NUL-terminated string value

String-valued tags: 4 (CPU_raw_name), 5 (CPU_name), 67 (conformance) and, above 32, every odd tag.
Tag 32 (compatibility) is a ULEB flag followed by a string; tag 65 (also_compatible_with) is a nested
tag/value pair closed by a NUL (the string's own NUL when the nested value is a string).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .errors import BackendError

__all__ = [
    "ASM_HARD_FLOAT_DIRECTIVE",
    "TAG_ABI_VFP_ARGS",
    "TAG_CPU_ARCH",
    "TAG_CPU_ARCH_V7EM",
    "TAG_FP_ARCH",
    "TAG_THUMB_ISA_USE",
    "mark_hard_float",
    "read_arm_attributes",
]

SHT_ARM_ATTRIBUTES = 0x70000003
EM_ARM = 40

TAG_FILE = 1
TAG_CPU_RAW_NAME = 4
TAG_CPU_NAME = 5
TAG_CPU_ARCH = 6
TAG_THUMB_ISA_USE = 9
TAG_FP_ARCH = 10
TAG_ABI_VFP_ARGS = 28
TAG_COMPATIBILITY = 32
TAG_NODEFAULTS = 64
TAG_ALSO_COMPATIBLE_WITH = 65
TAG_CONFORMANCE = 67

TAG_CPU_ARCH_V7EM = 13
VFP_ARGS_VFP_REGISTERS = 1

ASM_HARD_FLOAT_DIRECTIVE = "\t.eabi_attribute\t28, 1\t@ Tag_ABI_VFP_args: pointer-only interface\n"

_AEABI = b"aeabi"
_FORMAT_VERSION = ord("A")


# --- ULEB128 and strings --------------------------------------------------------------------------------


def _read_uleb(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise BackendError("truncated ULEB128 in .ARM.attributes")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_ntbs(data: bytes, pos: int) -> tuple[str, int]:
    end = data.find(b"\0", pos)
    if end < 0:
        raise BackendError("unterminated string in .ARM.attributes")
    return data[pos:end].decode("latin-1"), end + 1


# --- attributes -------------------------------------------------------------------------------------------


def _is_string_tag(tag: int) -> bool:
    return tag in (TAG_CPU_RAW_NAME, TAG_CPU_NAME, TAG_CONFORMANCE) or (tag > 32 and tag % 2 == 1)


@dataclass(frozen=True)
class _Attribute:
    """One tag/value pair; ``raw`` is its exact encoding so unknown forms survive a rewrite untouched."""

    tag: int
    value: int | str
    raw: bytes


def _read_value(data: bytes, tag: int, pos: int) -> tuple[int | str, int]:
    if tag == TAG_COMPATIBILITY:
        flag, pos = _read_uleb(data, pos)
        name, pos = _read_ntbs(data, pos)
        return f"{flag}:{name}", pos
    if tag == TAG_ALSO_COMPATIBLE_WITH:
        inner, pos = _read_uleb(data, pos)
        value, pos = _read_value(data, inner, pos)
        if isinstance(value, int):  # a string value's NUL already closes the pair
            _, pos = _read_ntbs(data, pos)
        return f"{inner}={value}", pos
    if _is_string_tag(tag):
        return _read_ntbs(data, pos)
    return _read_uleb(data, pos)


def _parse_attributes(body: bytes) -> list[_Attribute]:
    attributes: list[_Attribute] = []
    pos = 0
    while pos < len(body):
        start = pos
        tag, pos = _read_uleb(body, pos)
        value, pos = _read_value(body, tag, pos)
        attributes.append(_Attribute(tag, value, body[start:pos]))
    return attributes


def _with_attribute(attributes: list[_Attribute], tag: int, value: int) -> list[_Attribute]:
    """Replace ``tag`` or insert it in tag order (after a leading Tag_conformance/Tag_nodefaults)."""
    new = _Attribute(tag, value, _uleb(tag) + _uleb(value))
    if any(a.tag == tag for a in attributes):
        return [new if a.tag == tag else a for a in attributes]
    index = 0
    while index < len(attributes) and attributes[index].tag in (TAG_CONFORMANCE, TAG_NODEFAULTS):
        index += 1
    while index < len(attributes) and attributes[index].tag < tag:
        index += 1
    return [*attributes[:index], new, *attributes[index:]]


# --- section structure ------------------------------------------------------------------------------------


@dataclass
class _Subsubsection:
    tag: int
    body: bytes  # for Tag_Section/Tag_Symbol this includes the index list; kept verbatim


@dataclass
class _VendorSubsection:
    vendor: bytes
    content: bytes = b""  # verbatim for vendors other than aeabi
    parts: list[_Subsubsection] = field(default_factory=list)


def _parse_section(data: bytes, u32: struct.Struct) -> list[_VendorSubsection]:
    if not data or data[0] != _FORMAT_VERSION:
        raise BackendError("unsupported .ARM.attributes format (expected version 'A')")
    vendors: list[_VendorSubsection] = []
    pos = 1
    while pos < len(data):
        if pos + u32.size > len(data):
            raise BackendError("truncated .ARM.attributes subsection")
        (length,) = u32.unpack_from(data, pos)
        end = pos + length
        if length < u32.size + 1 or end > len(data):
            raise BackendError("corrupt .ARM.attributes subsection length")
        name_end = data.find(b"\0", pos + u32.size, end)
        if name_end < 0:
            raise BackendError("corrupt .ARM.attributes vendor name")
        vendor = _VendorSubsection(data[pos + u32.size : name_end], data[name_end + 1 : end])
        if vendor.vendor == _AEABI:
            vendor.parts = _parse_subsubsections(vendor.content, u32)
        vendors.append(vendor)
        pos = end
    return vendors


def _parse_subsubsections(data: bytes, u32: struct.Struct) -> list[_Subsubsection]:
    parts: list[_Subsubsection] = []
    pos = 0
    while pos < len(data):
        tag, body_start = _read_uleb(data, pos)
        if body_start + u32.size > len(data):
            raise BackendError("truncated .ARM.attributes sub-subsection")
        (size,) = u32.unpack_from(data, body_start)
        end = pos + size
        if end > len(data) or end < body_start + u32.size:
            raise BackendError("corrupt .ARM.attributes sub-subsection size")
        parts.append(_Subsubsection(tag, data[body_start + u32.size : end]))
        pos = end
    return parts


def _encode_section(vendors: list[_VendorSubsection], u32: struct.Struct) -> bytes:
    out = bytearray([_FORMAT_VERSION])
    for vendor in vendors:
        content = vendor.content
        if vendor.vendor == _AEABI:
            content = b"".join(_encode_subsubsection(part, u32) for part in vendor.parts)
        payload = vendor.vendor + b"\0" + content
        out += u32.pack(u32.size + len(payload)) + payload
    return bytes(out)


def _encode_subsubsection(part: _Subsubsection, u32: struct.Struct) -> bytes:
    tag = _uleb(part.tag)
    return tag + u32.pack(len(tag) + u32.size + len(part.body)) + part.body


def _file_part(vendors: list[_VendorSubsection]) -> _Subsubsection | None:
    for vendor in vendors:
        if vendor.vendor == _AEABI:
            return next((part for part in vendor.parts if part.tag == TAG_FILE), None)
    return None


# --- ELF container ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Elf32:
    """Just enough of an ELF32 header to find, and move, one section."""

    endian: str
    shoff: int
    shentsize: int
    shnum: int

    @property
    def u32(self) -> struct.Struct:
        return struct.Struct(self.endian + "I")

    def header_offset(self, index: int) -> int:
        return self.shoff + index * self.shentsize

    @property
    def table_end(self) -> int:
        return self.header_offset(self.shnum)


# Offsets inside an ELF32 file header and section header.
_E_MACHINE, _E_SHOFF, _E_SHENTSIZE, _E_SHNUM = 18, 32, 46, 48
_SH_TYPE, _SH_OFFSET, _SH_SIZE = 4, 16, 20


def _read_elf32(obj: bytes) -> _Elf32:
    if obj[:4] != b"\x7fELF":
        raise BackendError("not an ELF file")
    if obj[4] != 1:
        raise BackendError("not an ELF32 object; ARM build attributes live in 32-bit ELF")
    endian = {1: "<", 2: ">"}.get(obj[5])
    if endian is None:
        raise BackendError("ELF object with unknown byte order")
    (machine,) = struct.unpack_from(endian + "H", obj, _E_MACHINE)
    if machine != EM_ARM:
        raise BackendError(f"not an ARM object (e_machine {machine})")
    (shoff,) = struct.unpack_from(endian + "I", obj, _E_SHOFF)
    shentsize, shnum = struct.unpack_from(endian + "HH", obj, _E_SHENTSIZE)
    if shoff == 0 or shnum == 0:
        raise BackendError("ELF object without section headers")
    return _Elf32(endian, shoff, shentsize, shnum)


def _find_attributes(obj: bytes, elf: _Elf32) -> tuple[int, int, int]:
    """Index, file offset and size of the ``.ARM.attributes`` section."""
    for index in range(elf.shnum):
        header = elf.header_offset(index)
        (sh_type,) = elf.u32.unpack_from(obj, header + _SH_TYPE)
        if sh_type == SHT_ARM_ATTRIBUTES:
            offset, size = struct.unpack_from(elf.endian + "II", obj, header + _SH_OFFSET)
            return index, offset, size
    raise BackendError("object has no .ARM.attributes section")


def _replace_section(obj: bytes, elf: _Elf32, index: int, contents: bytes) -> bytes:
    """Copy of the file with section ``index`` holding ``contents``; moved to the end if it grew.

    Nothing in a relocatable object points at a section's file offset except its own header, so moving the
    bytes only needs that header (and ``e_shoff`` when the table moves) updated.
    """
    header = elf.header_offset(index)
    (offset, size) = struct.unpack_from(elf.endian + "II", obj, header + _SH_OFFSET)
    out = bytearray(obj)
    if len(contents) <= size:
        out[offset : offset + len(contents)] = contents
        elf.u32.pack_into(out, header + _SH_SIZE, len(contents))
        return bytes(out)
    table = bytearray(obj[elf.shoff : elf.table_end])
    if elf.table_end == len(obj):  # the usual layout: the table closes the file; keep it that way
        del out[elf.shoff :]
    new_offset = len(out)
    out += contents
    out += bytes(-len(out) % 4)  # ELF32 section headers are 4-byte aligned
    new_shoff = len(out)
    struct.pack_into(elf.endian + "II", table, index * elf.shentsize + _SH_OFFSET, new_offset, len(contents))
    out += table
    elf.u32.pack_into(out, _E_SHOFF, new_shoff)
    return bytes(out)


# --- public API -------------------------------------------------------------------------------------------


def read_arm_attributes(obj: bytes) -> dict[int, int | str]:
    """File-scope ``aeabi`` attributes of an ARM object, tag number to value (ULEB as int, strings as str)."""
    elf = _read_elf32(obj)
    _, offset, size = _find_attributes(obj, elf)
    part = _file_part(_parse_section(obj[offset : offset + size], elf.u32))
    if part is None:
        return {}
    return {attribute.tag: attribute.value for attribute in _parse_attributes(part.body)}


def mark_hard_float(obj: bytes) -> bytes:
    """Return ``obj`` with ``Tag_ABI_VFP_args = 1`` (VFP registers), added or replaced; idempotent."""
    elf = _read_elf32(obj)
    index, offset, size = _find_attributes(obj, elf)
    vendors = _parse_section(obj[offset : offset + size], elf.u32)
    aeabi = next((vendor for vendor in vendors if vendor.vendor == _AEABI), None)
    if aeabi is None:
        aeabi = _VendorSubsection(_AEABI)
        vendors.insert(0, aeabi)
    part = _file_part(vendors)
    if part is None:
        part = _Subsubsection(TAG_FILE, b"")
        aeabi.parts.insert(0, part)  # Tag_File precedes Tag_Section/Tag_Symbol
    attributes = _parse_attributes(part.body)
    if any(a.tag == TAG_ABI_VFP_ARGS and a.value == VFP_ARGS_VFP_REGISTERS for a in attributes):
        return obj
    patched = _with_attribute(attributes, TAG_ABI_VFP_ARGS, VFP_ARGS_VFP_REGISTERS)
    part.body = b"".join(attribute.raw for attribute in patched)
    return _replace_section(obj, elf, index, _encode_section(vendors, elf.u32))
