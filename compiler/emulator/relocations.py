"""ARM ELF relocations (AAELF32) that LLVM emits for Thumb-2 code, applied in place.

Objects for ARM use REL sections: the addend is stored in the field being relocated, so each relocation type
has a reader for that implicit addend and a writer for the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from t2m.compiler.emulator.errors import LoadError

R_ARM_NONE = 0
R_ARM_ABS32 = 2
R_ARM_REL32 = 3
R_ARM_THM_CALL = 10
R_ARM_THM_JUMP24 = 30
R_ARM_TARGET1 = 38
R_ARM_V4BX = 40
R_ARM_PREL31 = 42
R_ARM_THM_MOVW_ABS_NC = 47
R_ARM_THM_MOVT_ABS = 48
R_ARM_THM_JUMP19 = 51
R_ARM_THM_JUMP11 = 102
R_ARM_THM_JUMP8 = 103

RELOCATION_NAMES = {
    0: "R_ARM_NONE", 2: "R_ARM_ABS32", 3: "R_ARM_REL32", 5: "R_ARM_ABS16", 8: "R_ARM_ABS8",
    10: "R_ARM_THM_CALL", 11: "R_ARM_THM_PC8", 25: "R_ARM_BASE_PREL", 26: "R_ARM_GOT_BREL",
    28: "R_ARM_CALL", 29: "R_ARM_JUMP24", 30: "R_ARM_THM_JUMP24", 38: "R_ARM_TARGET1", 40: "R_ARM_V4BX",
    41: "R_ARM_TARGET2", 42: "R_ARM_PREL31", 43: "R_ARM_MOVW_ABS_NC", 44: "R_ARM_MOVT_ABS",
    47: "R_ARM_THM_MOVW_ABS_NC", 48: "R_ARM_THM_MOVT_ABS", 49: "R_ARM_THM_MOVW_PREL_NC",
    50: "R_ARM_THM_MOVT_PREL", 51: "R_ARM_THM_JUMP19", 52: "R_ARM_THM_JUMP6", 53: "R_ARM_THM_ALU_PREL_11_0",
    54: "R_ARM_THM_PC12", 102: "R_ARM_THM_JUMP11", 103: "R_ARM_THM_JUMP8",
}  # fmt: skip

IGNORED = frozenset({R_ARM_NONE, R_ARM_V4BX})


def relocation_name(rtype: int) -> str:
    return RELOCATION_NAMES.get(rtype, f"relocation type {rtype}")


def _sign_extend(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _check_range(value: int, bits: int, what: str) -> None:
    if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
        raise LoadError(f"{what}: offset {value:#x} out of range")


class Field:
    """The bytes being relocated: a 32-bit word or a pair of Thumb halfwords, little-endian."""

    def __init__(self, buf: bytearray, offset: int) -> None:
        self.buf = buf
        self.offset = offset

    def halfword(self, index: int) -> int:
        o = self.offset + 2 * index
        return int.from_bytes(self.buf[o : o + 2], "little")

    def set_halfword(self, index: int, value: int) -> None:
        o = self.offset + 2 * index
        self.buf[o : o + 2] = (value & 0xFFFF).to_bytes(2, "little")

    def word(self) -> int:
        return int.from_bytes(self.buf[self.offset : self.offset + 4], "little")

    def set_word(self, value: int) -> None:
        self.buf[self.offset : self.offset + 4] = (value & 0xFFFFFFFF).to_bytes(4, "little")


# --- Thumb instruction immediates -------------------------------------------------------------------------


def _read_branch24(f: Field) -> int:
    """BL / B.W (T4): S:I1:I2:imm10:imm11:0 with I = NOT(J XOR S)."""
    hw1, hw2 = f.halfword(0), f.halfword(1)
    s = (hw1 >> 10) & 1
    i1 = 1 ^ ((hw2 >> 13) & 1) ^ s
    i2 = 1 ^ ((hw2 >> 11) & 1) ^ s
    value = s << 24 | i1 << 23 | i2 << 22 | (hw1 & 0x3FF) << 12 | (hw2 & 0x7FF) << 1
    return _sign_extend(value, 25)


def _write_branch24(f: Field, value: int) -> None:
    _check_range(value, 25, "branch")
    s = (value >> 24) & 1
    j1 = 1 ^ ((value >> 23) & 1) ^ s
    j2 = 1 ^ ((value >> 22) & 1) ^ s
    f.set_halfword(0, (f.halfword(0) & 0xF800) | s << 10 | (value >> 12) & 0x3FF)
    f.set_halfword(1, (f.halfword(1) & 0xD000) | j1 << 13 | j2 << 11 | (value >> 1) & 0x7FF)


def _read_branch19(f: Field) -> int:
    """B<c>.W (T3): S:J2:J1:imm6:imm11:0."""
    hw1, hw2 = f.halfword(0), f.halfword(1)
    value = ((hw1 >> 10) & 1) << 20 | ((hw2 >> 11) & 1) << 19 | ((hw2 >> 13) & 1) << 18
    value |= (hw1 & 0x3F) << 12 | (hw2 & 0x7FF) << 1
    return _sign_extend(value, 21)


def _write_branch19(f: Field, value: int) -> None:
    _check_range(value, 21, "conditional branch")
    s, j2, j1 = (value >> 20) & 1, (value >> 19) & 1, (value >> 18) & 1
    f.set_halfword(0, (f.halfword(0) & 0xFBC0) | s << 10 | (value >> 12) & 0x3F)
    f.set_halfword(1, (f.halfword(1) & 0xD000) | j1 << 13 | j2 << 11 | (value >> 1) & 0x7FF)


def _read_branch11(f: Field) -> int:
    return _sign_extend((f.halfword(0) & 0x7FF) << 1, 12)


def _write_branch11(f: Field, value: int) -> None:
    _check_range(value, 12, "short branch")
    f.set_halfword(0, (f.halfword(0) & 0xF800) | (value >> 1) & 0x7FF)


def _read_branch8(f: Field) -> int:
    return _sign_extend((f.halfword(0) & 0xFF) << 1, 9)


def _write_branch8(f: Field, value: int) -> None:
    _check_range(value, 9, "short conditional branch")
    f.set_halfword(0, (f.halfword(0) & 0xFF00) | (value >> 1) & 0xFF)


def _read_imm16(f: Field) -> int:
    """MOVW/MOVT (T3/T1): imm4:i:imm3:imm8; the REL addend is that value, signed."""
    hw1, hw2 = f.halfword(0), f.halfword(1)
    value = (hw1 & 0xF) << 12 | ((hw1 >> 10) & 1) << 11 | ((hw2 >> 12) & 7) << 8 | hw2 & 0xFF
    return _sign_extend(value, 16)


def _write_imm16(f: Field, value: int) -> None:
    value &= 0xFFFF
    f.set_halfword(0, (f.halfword(0) & 0xFBF0) | (value >> 12) & 0xF | ((value >> 11) & 1) << 10)
    f.set_halfword(1, (f.halfword(1) & 0x8F00) | ((value >> 8) & 7) << 12 | value & 0xFF)


def _read_word(f: Field) -> int:
    return _sign_extend(f.word(), 32)


def _write_word(f: Field, value: int) -> None:
    f.set_word(value)


@dataclass(frozen=True, slots=True)
class RelocationKind:
    """How one relocation type computes its value from S (symbol, with Thumb bit), A (addend), P (place)."""

    read_addend: Callable[[Field], int]
    write: Callable[[Field, int], None]
    compute: Callable[[int, int, int], int]


def _absolute(s: int, a: int, p: int) -> int:
    return s + a


def _relative(s: int, a: int, p: int) -> int:
    return s + a - p


def _branch(s: int, a: int, p: int) -> int:
    return (s & ~1) + a - p


def _high_half(s: int, a: int, p: int) -> int:
    return (s + a) >> 16


KINDS: dict[int, RelocationKind] = {
    R_ARM_ABS32: RelocationKind(_read_word, _write_word, _absolute),
    R_ARM_TARGET1: RelocationKind(_read_word, _write_word, _absolute),
    R_ARM_REL32: RelocationKind(_read_word, _write_word, _relative),
    R_ARM_THM_CALL: RelocationKind(_read_branch24, _write_branch24, _branch),
    R_ARM_THM_JUMP24: RelocationKind(_read_branch24, _write_branch24, _branch),
    R_ARM_THM_JUMP19: RelocationKind(_read_branch19, _write_branch19, _branch),
    R_ARM_THM_JUMP11: RelocationKind(_read_branch11, _write_branch11, _branch),
    R_ARM_THM_JUMP8: RelocationKind(_read_branch8, _write_branch8, _branch),
    R_ARM_THM_MOVW_ABS_NC: RelocationKind(_read_imm16, _write_imm16, _absolute),
    R_ARM_THM_MOVT_ABS: RelocationKind(_read_imm16, _write_imm16, _high_half),
}


def apply(buf: bytearray, offset: int, rtype: int, symbol: int, place: int, addend: int | None) -> None:
    """Relocate the field at `buf[offset]` (at address `place`) against `symbol` (Thumb bit included).

    `addend` is None for REL sections (implicit addend, read from the field).
    """
    kind = KINDS.get(rtype)
    if kind is None:
        raise LoadError(f"unsupported relocation {relocation_name(rtype)}")
    field = Field(buf, offset)
    a = kind.read_addend(field) if addend is None else addend
    kind.write(field, kind.compute(symbol, a, place))
