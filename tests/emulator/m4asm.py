"""A tiny Thumb-2 assembler for hand-written cycle-model tests, checked against capstone.

llvmlite's LLVM is built without the ARM assembly parser, so `module asm` and inline asm abort
("Inline asm not supported by this streamer because we don't have an asm parser for this target"). These
tests need exact instruction sequences, so they assemble them here: a fixed set of encodings, written in
capstone's own syntax, and every assembled instruction is disassembled again and compared with its source
line, so a wrong encoding cannot pass silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import capstone

CONDITIONS = {
    "eq": 0, "ne": 1, "hs": 2, "lo": 3, "mi": 4, "pl": 5, "vs": 6, "vc": 7,
    "hi": 8, "ls": 9, "ge": 10, "lt": 11, "gt": 12, "le": 13,
}  # fmt: skip
_CORE = {f"r{i}": i for i in range(13)} | {"sp": 13, "lr": 14, "pc": 15}


class AsmError(ValueError):
    pass


def _core(name: str) -> int:
    try:
        return _CORE[name]
    except KeyError:
        raise AsmError(f"not a core register: {name}") from None


def _low(name: str) -> int:
    r = _core(name)
    if r > 7:
        raise AsmError(f"{name} is not a low register (r0-r7)")
    return r


def _single(name: str) -> int:
    if not re.fullmatch(r"s([0-9]|[12][0-9]|3[01])", name):
        raise AsmError(f"not a single-precision register: {name}")
    return int(name[1:])


def _vreg(name: str) -> tuple[int, int]:
    """(4-bit field, extra bit) of an S register: S<n> is Vd = n >> 1, D = n & 1."""
    n = _single(name)
    return n >> 1, n & 1


def _imm(text: str) -> int:
    if not text.startswith("#"):
        raise AsmError(f"expected an immediate: {text}")
    return int(text[1:], 0)


def _reglist(text: str) -> list[str]:
    m = re.fullmatch(r"\{(.*)\}", text)
    if not m:
        raise AsmError(f"expected a register list: {text}")
    return [r.strip() for r in m.group(1).split(",")]


def _mem(text: str) -> tuple[str, int]:
    """`[rn]` or `[rn, #imm]`."""
    m = re.fullmatch(r"\[(\w+)(?:,\s*(#-?\w+))?\]", text)
    if not m:
        raise AsmError(f"expected [reg] or [reg, #imm]: {text}")
    return m.group(1), _imm(m.group(2)) if m.group(2) else 0


def _split_operands(text: str) -> list[str]:
    """Split at commas outside brackets and braces."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def _t32(hw1: int, hw2: int) -> bytes:
    return hw1.to_bytes(2, "little") + hw2.to_bytes(2, "little")


def _t16(hw: int) -> bytes:
    return hw.to_bytes(2, "little")


# --- encoders: (operands, address, labels) → bytes --------------------------------------------------------

Encoder = Callable[[list[str], int, dict[str, int]], bytes]


def _branch_offset(target: str, address: int, labels: dict[str, int]) -> int:
    if target not in labels:
        raise AsmError(f"unknown label {target}")
    return labels[target] - (address + 4)


def _b16(ops: list[str], address: int, labels: dict[str, int], cond: int | None) -> bytes:
    off = _branch_offset(ops[0], address, labels)
    if cond is None:
        if not -2048 <= off < 2048:
            raise AsmError("b out of range")
        return _t16(0xE000 | (off >> 1) & 0x7FF)
    if not -256 <= off < 256:
        raise AsmError("b<c> out of range")
    return _t16(0xD000 | cond << 8 | (off >> 1) & 0xFF)


def _branch24(ops: list[str], address: int, labels: dict[str, int], link: bool) -> bytes:
    """BL (T1) or B.W (T4): S:I1:I2:imm10:imm11 with J = NOT(I) XOR S."""
    off = _branch_offset(ops[0], address, labels)
    s = (off >> 24) & 1
    j1 = 1 ^ ((off >> 23) & 1) ^ s
    j2 = 1 ^ ((off >> 22) & 1) ^ s
    hw2 = (0xD000 if link else 0x9000) | j1 << 13 | j2 << 11 | (off >> 1) & 0x7FF
    return _t32(0xF000 | s << 10 | (off >> 12) & 0x3FF, hw2)


def _bl(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
    return _branch24(ops, address, labels, link=True)


def _bcond_w(ops: list[str], address: int, labels: dict[str, int], cond: int) -> bytes:
    """B<c>.W (T3): S:J2:J1:imm6:imm11, ±1 MiB."""
    off = _branch_offset(ops[0], address, labels)
    s, j2, j1 = (off >> 20) & 1, (off >> 19) & 1, (off >> 18) & 1
    return _t32(0xF000 | s << 10 | cond << 6 | (off >> 12) & 0x3F, 0x8000 | j1 << 13 | j2 << 11 | (off >> 1) & 0x7FF)


def _cbz(nonzero: bool) -> Encoder:
    def encode(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
        off = _branch_offset(ops[1], address, labels)
        if not 0 <= off <= 126:
            raise AsmError("cbz/cbnz only branch forward by 0-126 bytes")
        return _t16(0xB100 | nonzero << 11 | (off >> 6) << 9 | ((off >> 1) & 0x1F) << 3 | _low(ops[0]))

    return encode


def _alu16(ops: list[str], flag_op: str) -> bytes:
    """adds/subs/movs/cmp low-register forms (the same encodings are add/sub/mov inside an IT block)."""
    if flag_op == "mov":
        if ops[1].startswith("#"):
            return _t16(0x2000 | _low(ops[0]) << 8 | _imm(ops[1]))
        return _t16(0x4600 | (_core(ops[0]) >> 3) << 7 | _core(ops[1]) << 3 | _core(ops[0]) & 7)
    if flag_op == "cmp":
        return _t16(0x2800 | _low(ops[0]) << 8 | _imm(ops[1]))
    sub = flag_op == "sub"
    if len(ops) == 2:
        return _t16((0x3800 if sub else 0x3000) | _low(ops[0]) << 8 | _imm(ops[1]))
    rd, rn, last = _low(ops[0]), _low(ops[1]), ops[2]
    if last.startswith("#"):
        return _t16((0x1E00 if sub else 0x1C00) | _imm(last) << 6 | rn << 3 | rd)
    return _t16((0x1A00 if sub else 0x1800) | _low(last) << 6 | rn << 3 | rd)


def _ldst16(load: bool, scale: int, base_t1: int) -> Encoder:
    def encode(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
        rn, imm = _mem(ops[1])
        if rn == "sp" and scale == 4:
            return _t16((0x9800 if load else 0x9000) | _low(ops[0]) << 8 | imm >> 2)
        return _t16(base_t1 | (imm // scale) << 6 | _low(rn) << 3 | _low(ops[0]))

    return encode


def _ldr_w(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
    rn, imm = _mem(ops[1])
    return _t32(0xF8D0 | _core(rn), _core(ops[0]) << 12 | imm)


def _ldrd(load: bool) -> Encoder:
    def encode(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
        rn, imm = _mem(ops[2])
        return _t32((0xE9D0 if load else 0xE9C0) | _core(rn), _core(ops[0]) << 12 | _core(ops[1]) << 8 | imm >> 2)

    return encode


def _pushpop16(pop: bool) -> Encoder:
    def encode(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
        bits, extra = 0, 0
        for r in _reglist(ops[0]):
            if r == ("pc" if pop else "lr"):
                extra = 1
            else:
                bits |= 1 << _low(r)
        return _t16((0xBC00 if pop else 0xB400) | extra << 8 | bits)

    return encode


def _pushpop32(pop: bool) -> Encoder:
    def encode(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
        bits = sum(1 << _core(r) for r in _reglist(ops[0]))
        return _t32(0xE8BD if pop else 0xE92D, bits)

    return encode


def _ldm16(load: bool) -> Encoder:
    def encode(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
        rn = _low(ops[0].rstrip("!"))
        bits = sum(1 << _low(r) for r in _reglist(ops[1]))
        return _t16((0xC800 if load else 0xC000) | rn << 8 | bits)

    return encode


def _mul32(hw1_base: int, hw2_op: int, accumulate: bool) -> Encoder:
    """MUL/MLA/MLS/SMLAD/SMLABB/SDIV/UDIV: hw1 = base | Rn, hw2 = Ra:Rd:op:Rm."""

    def encode(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
        rd, rn, rm = _core(ops[0]), _core(ops[1]), _core(ops[2])
        ra = _core(ops[3]) if accumulate else 0xF
        return _t32(hw1_base | rn, ra << 12 | rd << 8 | hw2_op | rm)

    return encode


def _vfp3(hw1_base: int, op: int) -> Encoder:
    """Three-register VFP data processing (single precision)."""

    def encode(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
        (vd, d), (vn, n), (vm, m) = _vreg(ops[0]), _vreg(ops[1]), _vreg(ops[2])
        return _t32(hw1_base | d << 6 | vn, vd << 12 | 0xA00 | n << 7 | op << 6 | m << 5 | vm)

    return encode


def _vsqrt(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
    (vd, d), (vm, m) = _vreg(ops[0]), _vreg(ops[1])
    return _t32(0xEEB1 | d << 6, vd << 12 | 0xAC0 | m << 5 | vm)


def _vldst(load: bool) -> Encoder:
    def encode(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
        (vd, d), (rn, imm) = _vreg(ops[0]), _mem(ops[1])
        up = 1 if imm >= 0 else 0
        return _t32((0xED10 if load else 0xED00) | up << 7 | d << 6 | _core(rn), vd << 12 | 0xA00 | abs(imm) >> 2)

    return encode


def _vmov(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
    if ops[0].startswith("s"):
        (vn, n), rt = _vreg(ops[0]), _core(ops[1])
        return _t32(0xEE00 | vn, rt << 12 | 0xA10 | n << 7)
    rt, (vn, n) = _core(ops[0]), _vreg(ops[1])
    return _t32(0xEE10 | vn, rt << 12 | 0xA10 | n << 7)


def _vpushpop(pop: bool) -> Encoder:
    def encode(ops: list[str], address: int, labels: dict[str, int]) -> bytes:
        regs = [_single(r) for r in _reglist(ops[0])]
        if regs != list(range(regs[0], regs[0] + len(regs))):
            raise AsmError("vpush/vpop need consecutive registers")
        vd, d = regs[0] >> 1, regs[0] & 1
        return _t32((0xECBD if pop else 0xED2D) | d << 6, vd << 12 | 0xA00 | len(regs))

    return encode


def _it(mnemonic: str, ops: list[str]) -> tuple[bytes, list[int]]:
    """IT{x{y{z}}} cond → encoding and the conditions of the predicated instructions."""
    first = CONDITIONS[ops[0]]
    pattern = mnemonic[2:]
    conds = [first]
    mask = 0
    for i, letter in enumerate(pattern):
        bit = (first & 1) if letter == "t" else 1 - (first & 1)
        mask |= bit << (3 - i)
        conds.append(first if letter == "t" else first ^ 1)
    mask |= 1 << (3 - len(pattern))
    return _t16(0xBF00 | first << 4 | mask), conds


def _fixed(hw: int) -> Encoder:
    return lambda ops, address, labels: _t16(hw)


def _imm8(base: int) -> Encoder:
    return lambda ops, address, labels: _t16(base | _imm(ops[0]))


def _bx(base: int) -> Encoder:
    return lambda ops, address, labels: _t16(base | _core(ops[0]) << 3)


ENCODERS: dict[str, Encoder] = {
    "bl": _bl,
    "cbz": _cbz(False),
    "cbnz": _cbz(True),
    "bx": _bx(0x4700),
    "blx": _bx(0x4780),
    "ldr": _ldst16(True, 4, 0x6800),
    "str": _ldst16(False, 4, 0x6000),
    "ldrb": _ldst16(True, 1, 0x7800),
    "strb": _ldst16(False, 1, 0x7000),
    "ldrh": _ldst16(True, 2, 0x8800),
    "strh": _ldst16(False, 2, 0x8000),
    "ldr.w": _ldr_w,
    "ldrd": _ldrd(True),
    "strd": _ldrd(False),
    "push": _pushpop16(False),
    "pop": _pushpop16(True),
    "push.w": _pushpop32(False),
    "pop.w": _pushpop32(True),
    "ldm": _ldm16(True),
    "stm": _ldm16(False),
    "mul": _mul32(0xFB00, 0x0000, False),
    "mla": _mul32(0xFB00, 0x0000, True),
    "mls": _mul32(0xFB00, 0x0010, True),
    "smlad": _mul32(0xFB20, 0x0000, True),
    "smlabb": _mul32(0xFB10, 0x0000, True),
    "sdiv": _mul32(0xFB90, 0x00F0, False),
    "udiv": _mul32(0xFBB0, 0x00F0, False),
    "vmla.f32": _vfp3(0xEE00, 0),
    "vmls.f32": _vfp3(0xEE00, 1),
    "vnmls.f32": _vfp3(0xEE10, 0),
    "vnmla.f32": _vfp3(0xEE10, 1),
    "vmul.f32": _vfp3(0xEE20, 0),
    "vnmul.f32": _vfp3(0xEE20, 1),
    "vadd.f32": _vfp3(0xEE30, 0),
    "vsub.f32": _vfp3(0xEE30, 1),
    "vdiv.f32": _vfp3(0xEE80, 0),
    "vfnms.f32": _vfp3(0xEE90, 0),
    "vfnma.f32": _vfp3(0xEE90, 1),
    "vfma.f32": _vfp3(0xEEA0, 0),
    "vfms.f32": _vfp3(0xEEA0, 1),
    "vsqrt.f32": _vsqrt,
    "vldr": _vldst(True),
    "vstr": _vldst(False),
    "vmov": _vmov,
    "vpush": _vpushpop(False),
    "vpop": _vpushpop(True),
    "nop": _fixed(0xBF00),
    "bkpt": _imm8(0xBE00),
    "udf": _imm8(0xDE00),
}
_ALU = {"adds": "add", "subs": "sub", "movs": "mov", "cmp": "cmp"}
_ALU_IN_IT = {"add": "add", "sub": "sub", "mov": "mov"}  # inside IT the 16-bit forms do not set flags


@dataclass
class _Line:
    address: int
    mnemonic: str
    operands: list[str]
    source: str
    cond: int | None  # condition of an IT-predicated instruction


def _parse(source: str) -> tuple[list[_Line], dict[str, int]]:
    """First pass: sizes and label addresses (every instruction's width is fixed by its mnemonic)."""
    lines: list[_Line] = []
    labels: dict[str, int] = {}
    address = 0
    it_conds: list[int] = []
    for raw in source.splitlines():
        text = raw.split("@")[0].strip()
        if not text:
            continue
        if text.endswith(":"):
            labels[text[:-1]] = address
            continue
        mnemonic, _, rest = text.partition(" ")
        cond = it_conds.pop(0) if it_conds else None
        line = _Line(address, mnemonic, _split_operands(rest), " ".join(text.split()), cond)
        if re.fullmatch(r"it[te]{0,3}", mnemonic):
            it_conds = _it(mnemonic, line.operands)[1]
        lines.append(line)
        address += _size(line)
    return lines, labels


def _strip_condition(line: _Line) -> str:
    if line.cond is None:
        return line.mnemonic
    suffix = next(name for name, code in CONDITIONS.items() if code == line.cond)
    base, width = line.mnemonic.split(".", 1) if "." in line.mnemonic else (line.mnemonic, "")
    if not base.endswith(suffix):
        raise AsmError(f"'{line.source}' should carry the IT condition {suffix}")
    base = base[: -len(suffix)]
    return f"{base}.{width}" if width else base


def _size(line: _Line) -> int:
    mnemonic = _strip_condition(line)
    if mnemonic in _ALU or mnemonic in ("nop", "bkpt", "udf", "bx", "blx", "cbz", "cbnz", "b", "push", "pop"):
        return 2
    if line.cond is not None and mnemonic in _ALU_IN_IT:
        return 2
    if mnemonic.startswith("it") or re.fullmatch(r"b(eq|ne|hs|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)", mnemonic):
        return 2
    if mnemonic in ("ldr", "str", "ldrb", "strb", "ldrh", "strh", "ldm", "stm"):
        return 2
    if mnemonic in ("mov",):
        return 2
    return 4


def _encode(line: _Line, labels: dict[str, int]) -> bytes:
    mnemonic = _strip_condition(line)
    ops = line.operands
    if re.fullmatch(r"it[te]{0,3}", mnemonic):
        return _it(mnemonic, ops)[0]
    if mnemonic in _ALU:
        return _alu16(ops, _ALU[mnemonic])
    if mnemonic in _ALU_IN_IT and (line.cond is not None or mnemonic == "mov"):
        return _alu16(ops, _ALU_IN_IT[mnemonic])
    if mnemonic == "b.w":
        return _branch24(ops, line.address, labels, link=False)
    wide = re.fullmatch(r"b(eq|ne|hs|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)\.w", mnemonic)
    if wide:
        return _bcond_w(ops, line.address, labels, CONDITIONS[wide.group(1)])
    if mnemonic == "b" or re.fullmatch(r"b(eq|ne|hs|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)", mnemonic):
        return _b16(ops, line.address, labels, CONDITIONS[mnemonic[1:]] if len(mnemonic) == 3 else None)
    encoder = ENCODERS.get(mnemonic)
    if encoder is None:
        raise AsmError(f"m4asm cannot assemble '{line.source}'")
    return encoder(ops, line.address, labels)


def _normalize(text: str) -> str:
    """Immediates compare by value (capstone prints #12 as #0xc, and [r0, #0] as [r0])."""
    text = re.sub(r"#(-?(?:0x[0-9a-f]+|\d+))", lambda m: f"#{int(m.group(1), 0)}", text)
    return text.replace(", #0]", "]")


def _check(code: bytes, lines: list[_Line], labels: dict[str, int], origin: int) -> None:
    """Disassemble and compare each instruction with its source line (branches: mnemonic and target)."""
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    decoded = {i.address - origin: i for i in md.disasm(code, origin)}
    for line in lines:
        ins = decoded.get(line.address)
        if ins is None:
            raise AsmError(f"capstone cannot decode '{line.source}'")
        text = f"{ins.mnemonic} {ins.op_str}".strip()
        target = line.operands[-1] if line.operands else ""
        if target in labels:
            expected_mnemonic = line.source.split(" ")[0]
            prefix = f"{expected_mnemonic} " + (f"{line.operands[0]}, " if len(line.operands) == 2 else "")
            expected = f"{prefix}#{labels[target] + origin:#x}"
        else:
            expected = line.source
        if _normalize(text) != _normalize(expected):
            raise AsmError(f"'{line.source}' assembled to '{text}'")


def assemble(source: str, origin: int = 0x0800_0000) -> tuple[bytes, dict[str, int]]:
    """Machine code and label offsets for `source` (one instruction per line, `label:` lines, `@` comments).

    `origin` is only used to check branch targets in the disassembly; the code is position independent.
    """
    lines, labels = _parse(source)
    code = b"".join(_encode(line, labels) for line in lines)
    _check(code, lines, labels, origin)
    return code, labels
