"""Patching .ARM.attributes: LLVM's objects, hand-built ELF layouts, and GNU ld when it is installed."""

from __future__ import annotations

import dataclasses
import io
import struct
import subprocess
from pathlib import Path

import pytest
from backend_kernels import dense_relu_ir, random_dense
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import ARMAttributesSection

from t2m.compiler.backend.armattrs import TAG_ABI_VFP_ARGS, mark_hard_float, read_arm_attributes
from t2m.compiler.backend.errors import BackendError
from t2m.compiler.backend.llvm import compile_object
from t2m.compiler.backend.target import get_target

UNMARKED_M4 = dataclasses.replace(get_target("cortex-m4"), mark_hard_float=False)


@pytest.fixture(scope="module")
def llvm_object() -> bytes:
    return compile_object(dense_relu_ir(*random_dense(8, 32)), target=UNMARKED_M4)


# --- a minimal ELF32 ARM relocatable, to exercise layouts LLVM does not produce ----------------------------


def _uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def attributes_section(file_attributes: bytes, extra_vendor: bytes = b"") -> bytes:
    """'A' + one aeabi subsection holding a Tag_File sub-subsection, optionally another vendor's after it."""
    file_part = b"\x01" + struct.pack("<I", 5 + len(file_attributes)) + file_attributes
    aeabi = b"aeabi\0" + file_part
    section = b"A" + struct.pack("<I", 4 + len(aeabi)) + aeabi
    if extra_vendor:
        section += struct.pack("<I", 4 + len(extra_vendor)) + extra_vendor
    return section


def minimal_elf(attributes: bytes, table_first: bool = False) -> bytes:
    """ELF32 LE EM_ARM ET_REL with .text, .ARM.attributes and .shstrtab; the section table at the end or
    right after the file header."""
    names = b"\0.text\0.ARM.attributes\0.shstrtab\0"
    text = bytes(range(16))
    contents = [text, attributes, names]
    table_size = 4 * 40
    offset = 52 + (table_size if table_first else 0)
    offsets = []
    for blob in contents:
        offsets.append(offset)
        offset += len(blob)
    shoff = 52 if table_first else (offset + 3) & ~3
    headers = bytes(40) + b"".join(
        struct.pack("<10I", name, kind, flags, 0, data_offset, len(blob), 0, 0, align, 0)
        for (name, kind, flags, align), data_offset, blob in zip(
            [(1, 1, 6, 4), (7, 0x70000003, 0, 1), (23, 3, 0, 1)], offsets, contents, strict=True
        )
    )
    ident = b"\x7fELF\x01\x01\x01" + bytes(9)
    header = ident + struct.pack("<HHIIIIIHHHHHH", 1, 40, 1, 0, 0, shoff, 0x05000000, 52, 0, 0, 40, 4, 3)
    body = b"".join(contents)
    if table_first:
        return header + headers + body
    return header + body + bytes(shoff - 52 - len(body)) + headers


def pyelftools_attributes(obj: bytes) -> dict[str, object]:
    """An independent reader: pyelftools' own .ARM.attributes parser, by tag name."""
    section = ELFFile(io.BytesIO(obj)).get_section_by_name(".ARM.attributes")
    assert isinstance(section, ARMAttributesSection)
    (aeabi,) = [sub for sub in section.iter_subsections() if sub.header["vendor_name"] == "aeabi"]
    (file_part,) = aeabi.iter_subsubsections("TAG_FILE")
    return {attribute.tag: attribute.value for attribute in file_part.iter_attributes()}


def section_bytes(obj: bytes) -> dict[str, bytes]:
    return {section.name: section.data() for section in ELFFile(io.BytesIO(obj)).iter_sections()}


# --- LLVM's objects ---------------------------------------------------------------------------------------


def test_llvm_writes_no_vfp_args_tag(llvm_object: bytes) -> None:
    attributes = read_arm_attributes(llvm_object)
    assert TAG_ABI_VFP_ARGS not in attributes
    assert attributes[5] == "cortex-m4" and attributes[6] == 13 and attributes[9] == 2 and attributes[10] == 6


def test_reader_agrees_with_pyelftools(llvm_object: bytes) -> None:
    ours = read_arm_attributes(mark_hard_float(llvm_object))
    theirs = pyelftools_attributes(mark_hard_float(llvm_object))
    assert list(ours.values()) == list(theirs.values())
    assert theirs["TAG_ABI_VFP_ARGS"] == 1 and theirs["TAG_CPU_ARCH"] == 13


def test_marking_adds_only_the_tag(llvm_object: bytes) -> None:
    marked = mark_hard_float(llvm_object)
    before, after = read_arm_attributes(llvm_object), read_arm_attributes(marked)
    assert after.pop(TAG_ABI_VFP_ARGS) == 1
    assert list(after.items()) == list(before.items())
    # The tag goes in numeric order, right after Tag_ABI_HardFP_use (27).
    tags = list(read_arm_attributes(marked))
    assert tags[tags.index(TAG_ABI_VFP_ARGS) - 1] == 27


def test_marking_leaves_every_other_section_intact(llvm_object: bytes) -> None:
    before, after = section_bytes(llvm_object), section_bytes(mark_hard_float(llvm_object))
    assert before.keys() == after.keys()
    for name in before:
        if name != ".ARM.attributes":
            assert after[name] == before[name], name
    assert len(after[".ARM.attributes"]) == len(before[".ARM.attributes"]) + 2


def test_marking_is_idempotent(llvm_object: bytes) -> None:
    marked = mark_hard_float(llvm_object)
    assert mark_hard_float(marked) == marked


# --- hand-built layouts -----------------------------------------------------------------------------------

CPU_NAME = b"\x05cortex-m4\0"
ARCH = b"\x06\x0d"
COMPATIBILITY = b"\x20\x01gnu\0"
ALSO_COMPATIBLE = b"\x41\x06\x0d\0"


@pytest.mark.parametrize("table_first", [False, True], ids=["table-last", "table-first"])
def test_growing_section_moves_to_the_end(table_first: bool) -> None:
    original = minimal_elf(attributes_section(CPU_NAME + ARCH + COMPATIBILITY + ALSO_COMPATIBLE), table_first)
    marked = mark_hard_float(original)
    assert read_arm_attributes(marked) == {5: "cortex-m4", 6: 13, 32: "1:gnu", 65: "6=13", 28: 1}
    assert list(read_arm_attributes(marked))[2] == TAG_ABI_VFP_ARGS  # before 32 and 65
    assert section_bytes(marked)[".text"] == bytes(range(16))
    assert pyelftools_attributes(marked)["TAG_ABI_VFP_ARGS"] == 1
    elf = ELFFile(io.BytesIO(marked))
    moved = elf.get_section_by_name(".ARM.attributes")
    assert moved is not None and moved["sh_offset"] >= len(original) - (0 if table_first else 160)
    if not table_first:  # the old table is dropped; the new one closes the file, as linkers write it
        assert elf["e_shoff"] + 4 * 40 == len(marked) and elf["e_shoff"] % 4 == 0


def test_existing_value_is_replaced_in_place() -> None:
    original = minimal_elf(attributes_section(CPU_NAME + b"\x1c\x00" + ARCH))
    marked = mark_hard_float(original)
    assert len(marked) == len(original)
    assert read_arm_attributes(marked) == {5: "cortex-m4", 28: 1, 6: 13}


def test_other_vendors_survive() -> None:
    gnu = b"gnu\0\x01\x09\x00\x00\x00\x04\x01"  # vendor, then an opaque vendor-specific body
    marked = mark_hard_float(minimal_elf(attributes_section(ARCH, extra_vendor=gnu)))
    section = section_bytes(marked)[".ARM.attributes"]
    assert section.endswith(struct.pack("<I", 4 + len(gnu)) + gnu)
    assert read_arm_attributes(marked) == {6: 13, 28: 1}


def test_rejects_what_it_cannot_patch() -> None:
    with pytest.raises(BackendError, match="not an ELF file"):
        mark_hard_float(b"\0" * 64)
    bad_version = minimal_elf(b"B" + attributes_section(ARCH)[1:])
    with pytest.raises(BackendError, match="expected version 'A'"):
        mark_hard_float(bad_version)
    truncated = minimal_elf(attributes_section(b"\x05cortex-m4"))  # string without its NUL
    with pytest.raises(BackendError, match="unterminated string"):
        read_arm_attributes(truncated)


# --- the reason for all this: GNU ld ----------------------------------------------------------------------

FIRMWARE_STUB = """\
    .syntax unified
    .cpu cortex-m4
    .fpu fpv4-sp-d16
    .eabi_attribute 28, 1   @ Tag_ABI_VFP_args: what gcc -mfloat-abi=hard writes
    .eabi_attribute 23, 3   @ Tag_ABI_FP_number_model: IEEE 754
    .thumb
    .global _start
    .thumb_func
_start:
    bl dense_run
    b .
"""


@pytest.mark.usefixtures("gnu_binutils")  # tests/conftest.py: skips, naming the install command, without them
def test_gnu_ld_links_only_the_marked_object(llvm_object: bytes, tmp_path: Path) -> None:
    stub = tmp_path / "firmware.s"
    stub.write_text(FIRMWARE_STUB)
    subprocess.run(
        ["arm-none-eabi-as", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
         str(stub), "-o", str(tmp_path / "firmware.o")],
        check=True,
    )  # fmt: skip

    def link(obj: bytes) -> subprocess.CompletedProcess[str]:
        (tmp_path / "kernel.o").write_bytes(obj)
        command = ["arm-none-eabi-ld", "-z", "noexecstack", "firmware.o", "kernel.o", "-o", "firmware.elf"]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)

    refused = link(llvm_object)
    assert refused.returncode != 0 and "uses VFP register arguments, kernel.o does not" in refused.stderr
    accepted = link(mark_hard_float(llvm_object))
    assert accepted.returncode == 0, accepted.stderr
