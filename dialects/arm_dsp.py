"""The `arm_dsp` dialect: the Cortex-M4's DSP-extension instructions the int8 kernels are built from.

The M4 has no NEON: its SIMD is the DSP extension on 32-bit core registers (docs/design.md §4). A register holds
two int16 lanes (SMLAD multiplies both pairs and adds both products to an accumulator: 2 MACs in one cycle) or
four int8 lanes (QADD8, SSUB8 + SEL). int8 kernels get their speed from packing operands so each SMLAD does two
MACs; SXTB16 widens two int8 lanes (bytes 0 and 2, after an optional rotation) into two int16 lanes.

Every op works on i32 values and has its meaning here, in the functions of the first section, exactly as the
Armv7-M Architecture Reference Manual defines the instruction (results wrap modulo 2^32 where the hardware wraps;
the Q flag the hardware may set is not modelled: t2m never reads it). Three consumers share those functions:
  - `convert-arm-dsp-to-llvm` turns each op into the `llvm.arm.*` intrinsic LLVM's ARM backend selects the
    instruction from (passes/convert_arm_dsp_to_llvm.py);
  - on any other target (the host JIT) the backend links portable LLVM IR definitions of those intrinsics
    (compiler/backend/dsp_host.py), so the host stays an exact oracle for the Cortex-M4 object;
  - the loop-level interpreter runs the ops with these functions (compiler/interpreter_dsp.py).
"""

from __future__ import annotations

from typing import ClassVar

from xdsl.dialects.builtin import IntegerAttr, i32
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

# ---------------------------------------------------------------------------------------------------------------
# Semantics (Python ints; a register is an unsigned 32-bit value)
# ---------------------------------------------------------------------------------------------------------------

MASK = 0xFFFFFFFF


def u32(x: int) -> int:
    return x & MASK


def s32(x: int) -> int:
    x &= MASK
    return x - (1 << 32) if x & (1 << 31) else x


def _lane(x: int, index: int, bits: int) -> int:
    """Signed lane `index` of width `bits` (8 or 16) of a register."""
    value = (x >> (index * bits)) & ((1 << bits) - 1)
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def _pack(lanes: list[int], bits: int) -> int:
    return u32(sum((v & ((1 << bits) - 1)) << (i * bits) for i, v in enumerate(lanes)))


def ror(x: int, amount: int) -> int:
    x = u32(x)
    return u32((x >> amount) | (x << (32 - amount))) if amount else x


def smlad(a: int, b: int, acc: int, exchange: bool = False) -> int:
    """SMLAD{X}: acc + a.lo * b.lo + a.hi * b.hi (X: b's halves swapped), 16x16 signed products, wrapping."""
    b0, b1 = (_lane(b, 1, 16), _lane(b, 0, 16)) if exchange else (_lane(b, 0, 16), _lane(b, 1, 16))
    return u32(acc + _lane(a, 0, 16) * b0 + _lane(a, 1, 16) * b1)


def smuad(a: int, b: int, exchange: bool = False) -> int:
    """SMUAD{X}: a.lo * b.lo + a.hi * b.hi."""
    return smlad(a, b, 0, exchange)


def smlabb(a: int, b: int, acc: int) -> int:
    """SMLABB: acc + a.lo * b.lo (bottom halves)."""
    return u32(acc + _lane(a, 0, 16) * _lane(b, 0, 16))


def sxtb16(x: int, rotate: int = 0) -> int:
    """SXTB16: bytes 0 and 2 of ROR(x, rotate), sign-extended into the two halfwords."""
    r = ror(x, rotate)
    return _pack([_lane(r, 0, 8), _lane(r, 2, 8)], 16)


def sxtab16(a: int, x: int, rotate: int = 0) -> int:
    """SXTAB16: each halfword of a plus the sign-extended byte SXTB16 would put there (halfwords wrap)."""
    wide = sxtb16(x, rotate)
    return _pack([_lane(a, 0, 16) + _lane(wide, 0, 16), _lane(a, 1, 16) + _lane(wide, 1, 16)], 16)


def pkhbt(a: int, b: int, shift: int) -> int:
    """PKHBT: bottom halfword of a, top halfword of (b << shift)."""
    return u32((a & 0xFFFF) | (u32(b << shift) & 0xFFFF0000))


def pkhtb(a: int, b: int, shift: int) -> int:
    """PKHTB: top halfword of a, bottom halfword of (b >> shift), arithmetic shift."""
    return u32((a & 0xFFFF0000) | ((s32(b) >> shift) & 0xFFFF))


def ssat(x: int, bits: int) -> int:
    """SSAT #bits: x saturated to the signed range of `bits` bits (1..32)."""
    hi = (1 << (bits - 1)) - 1
    return u32(max(-hi - 1, min(hi, s32(x))))


def usat(x: int, bits: int) -> int:
    """USAT #bits: x saturated to [0, 2^bits - 1] (bits 0..31)."""
    return u32(max(0, min((1 << bits) - 1, s32(x))))


def ssat16(x: int, bits: int) -> int:
    """SSAT16 #bits: each halfword saturated to `bits` signed bits (1..16)."""
    hi = (1 << (bits - 1)) - 1
    return _pack([max(-hi - 1, min(hi, _lane(x, i, 16))) for i in range(2)], 16)


def qadd8(a: int, b: int) -> int:
    """QADD8: four signed byte additions, each saturated to int8."""
    return _pack([max(-128, min(127, _lane(a, i, 8) + _lane(b, i, 8))) for i in range(4)], 8)


def qsub8(a: int, b: int) -> int:
    """QSUB8: four signed byte subtractions, each saturated to int8."""
    return _pack([max(-128, min(127, _lane(a, i, 8) - _lane(b, i, 8))) for i in range(4)], 8)


def smax8(a: int, b: int) -> int:
    """SSUB8 then SEL: the GE flag of each byte lane (a >= b) picks a's byte, else b's: a signed max per byte."""
    return _pack([max(_lane(a, i, 8), _lane(b, i, 8)) for i in range(4)], 8)


# ---------------------------------------------------------------------------------------------------------------
# Ops
# ---------------------------------------------------------------------------------------------------------------


def _i32_imm(value: int) -> IntegerAttr:
    return IntegerAttr(value, i32)


class DspOp(IRDLOperation):
    """An op on i32 registers. `INTRINSIC` names the `llvm.arm.*` intrinsic (the instruction) it becomes."""

    INTRINSIC: ClassVar[str]
    IMMEDIATE: ClassVar[str | None] = None  # the name of an immediate operand of the instruction, if any
    IMMEDIATE_RANGE: ClassVar[tuple[int, int]] = (0, 0)

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)

    def verify_(self) -> None:
        if self.IMMEDIATE is not None:
            attr = self.properties[self.IMMEDIATE]
            assert isinstance(attr, IntegerAttr)
            lo, hi = self.IMMEDIATE_RANGE
            if not lo <= attr.value.data <= hi:
                raise VerifyException(f"'{self.name}' {self.IMMEDIATE} must be in [{lo}, {hi}], got {attr.value.data}")

    def immediate(self) -> int:
        assert self.IMMEDIATE is not None
        attr = self.properties[self.IMMEDIATE]
        assert isinstance(attr, IntegerAttr)
        return attr.value.data


class Binary(DspOp):
    a = operand_def(i32)
    b = operand_def(i32)
    result = result_def(i32)
    assembly_format = "$a `,` $b attr-dict"

    def __init__(self, a: SSAValue | Operation, b: SSAValue | Operation, **props: Attribute):
        super().__init__(operands=[a, b], result_types=[i32], properties=props)


class Accumulating(DspOp):
    a = operand_def(i32)
    b = operand_def(i32)
    acc = operand_def(i32)
    result = result_def(i32)
    assembly_format = "$a `,` $b `,` $acc attr-dict"

    def __init__(self, a: SSAValue | Operation, b: SSAValue | Operation, acc: SSAValue | Operation):
        super().__init__(operands=[a, b, acc], result_types=[i32])


class Unary(DspOp):
    x = operand_def(i32)
    result = result_def(i32)
    assembly_format = "$x attr-dict"

    def __init__(self, x: SSAValue | Operation, **props: Attribute):
        super().__init__(operands=[x], result_types=[i32], properties=props)


@irdl_op_definition
class SmladOp(Accumulating):
    """acc + a.lo * b.lo + a.hi * b.hi: two signed 16x16 MACs in one cycle."""

    name = "arm_dsp.smlad"
    INTRINSIC: ClassVar[str] = "llvm.arm.smlad"


@irdl_op_definition
class SmladxOp(Accumulating):
    """acc + a.lo * b.hi + a.hi * b.lo (b's halves exchanged)."""

    name = "arm_dsp.smladx"
    INTRINSIC: ClassVar[str] = "llvm.arm.smladx"


@irdl_op_definition
class SmlabbOp(Accumulating):
    """acc + a.lo * b.lo: one MAC (what LLVM picks by itself for plain int8 loops)."""

    name = "arm_dsp.smlabb"
    INTRINSIC: ClassVar[str] = "llvm.arm.smlabb"


@irdl_op_definition
class SmuadOp(Binary):
    """a.lo * b.lo + a.hi * b.hi."""

    name = "arm_dsp.smuad"
    INTRINSIC: ClassVar[str] = "llvm.arm.smuad"


@irdl_op_definition
class Qadd8Op(Binary):
    """Four saturating signed byte additions."""

    name = "arm_dsp.qadd8"
    INTRINSIC: ClassVar[str] = "llvm.arm.qadd8"


@irdl_op_definition
class Qsub8Op(Binary):
    """Four saturating signed byte subtractions."""

    name = "arm_dsp.qsub8"
    INTRINSIC: ClassVar[str] = "llvm.arm.qsub8"


@irdl_op_definition
class Smax8Op(Binary):
    """Four signed byte maxima: SSUB8 sets a GE flag per byte, SEL picks by it (the flags never escape the pair)."""

    name = "arm_dsp.smax8"
    INTRINSIC: ClassVar[str] = "llvm.arm.sel"  # preceded by llvm.arm.ssub8


@irdl_op_definition
class Sxtb16Op(Unary):
    """Bytes 0 and 2 of ROR(x, rotate) sign-extended to two halfwords (rotate 8: bytes 1 and 3)."""

    name = "arm_dsp.sxtb16"
    INTRINSIC: ClassVar[str] = "llvm.arm.sxtb16"
    IMMEDIATE: ClassVar[str | None] = "rotate"
    IMMEDIATE_RANGE: ClassVar[tuple[int, int]] = (0, 24)

    rotate = prop_def(IntegerAttr)

    def __init__(self, x: SSAValue | Operation, rotate: int = 0):
        super().__init__(x, rotate=_i32_imm(rotate))

    def verify_(self) -> None:
        super().verify_()
        if self.immediate() % 8:
            raise VerifyException(f"'arm_dsp.sxtb16' rotate must be 0, 8, 16 or 24, got {self.immediate()}")


@irdl_op_definition
class Sxtab16Op(Binary):
    """Each halfword of a plus the sign-extended byte SXTB16 of ROR(b, rotate) puts there."""

    name = "arm_dsp.sxtab16"
    INTRINSIC: ClassVar[str] = "llvm.arm.sxtab16"
    IMMEDIATE: ClassVar[str | None] = "rotate"
    IMMEDIATE_RANGE: ClassVar[tuple[int, int]] = (0, 24)

    rotate = prop_def(IntegerAttr)

    def verify_(self) -> None:
        super().verify_()
        if self.immediate() % 8:
            raise VerifyException(f"'arm_dsp.sxtab16' rotate must be 0, 8, 16 or 24, got {self.immediate()}")


@irdl_op_definition
class PkhbtOp(Binary):
    """Bottom halfword of a, top halfword of b << shift."""

    name = "arm_dsp.pkhbt"
    INTRINSIC: ClassVar[str] = "pkhbt"  # no intrinsic: LLVM selects PKHBT from the and/or/shl pattern
    IMMEDIATE: ClassVar[str | None] = "shift"
    IMMEDIATE_RANGE: ClassVar[tuple[int, int]] = (0, 31)

    shift = prop_def(IntegerAttr)


@irdl_op_definition
class PkhtbOp(Binary):
    """Top halfword of a, bottom halfword of b >> shift (arithmetic)."""

    name = "arm_dsp.pkhtb"
    INTRINSIC: ClassVar[str] = "pkhtb"  # selected from the and/or/ashr pattern
    IMMEDIATE: ClassVar[str | None] = "shift"
    IMMEDIATE_RANGE: ClassVar[tuple[int, int]] = (1, 31)

    shift = prop_def(IntegerAttr)


@irdl_op_definition
class SsatOp(Unary):
    """x saturated to `bits` signed bits."""

    name = "arm_dsp.ssat"
    INTRINSIC: ClassVar[str] = "llvm.arm.ssat"
    IMMEDIATE: ClassVar[str | None] = "bits"
    IMMEDIATE_RANGE: ClassVar[tuple[int, int]] = (1, 32)

    bits = prop_def(IntegerAttr)


@irdl_op_definition
class UsatOp(Unary):
    """x saturated to [0, 2^bits - 1]."""

    name = "arm_dsp.usat"
    INTRINSIC: ClassVar[str] = "llvm.arm.usat"
    IMMEDIATE: ClassVar[str | None] = "bits"
    IMMEDIATE_RANGE: ClassVar[tuple[int, int]] = (0, 31)

    bits = prop_def(IntegerAttr)


@irdl_op_definition
class Ssat16Op(Unary):
    """Each halfword saturated to `bits` signed bits."""

    name = "arm_dsp.ssat16"
    INTRINSIC: ClassVar[str] = "llvm.arm.ssat16"
    IMMEDIATE: ClassVar[str | None] = "bits"
    IMMEDIATE_RANGE: ClassVar[tuple[int, int]] = (1, 16)

    bits = prop_def(IntegerAttr)


SEMANTICS = {
    SmladOp: lambda op, a, b, acc: smlad(a, b, acc),
    SmladxOp: lambda op, a, b, acc: smlad(a, b, acc, exchange=True),
    SmlabbOp: lambda op, a, b, acc: smlabb(a, b, acc),
    SmuadOp: lambda op, a, b: smuad(a, b),
    Qadd8Op: lambda op, a, b: qadd8(a, b),
    Qsub8Op: lambda op, a, b: qsub8(a, b),
    Smax8Op: lambda op, a, b: smax8(a, b),
    Sxtb16Op: lambda op, x: sxtb16(x, op.immediate()),
    Sxtab16Op: lambda op, a, b: sxtab16(a, b, op.immediate()),
    PkhbtOp: lambda op, a, b: pkhbt(a, b, op.immediate()),
    PkhtbOp: lambda op, a, b: pkhtb(a, b, op.immediate()),
    SsatOp: lambda op, x: ssat(x, op.immediate()),
    UsatOp: lambda op, x: usat(x, op.immediate()),
    Ssat16Op: lambda op, x: ssat16(x, op.immediate()),
}
"""Each op's meaning on unsigned 32-bit register values (the interpreter and the tests use it)."""


ARM_DSP = Dialect("arm_dsp", list(SEMANTICS))
