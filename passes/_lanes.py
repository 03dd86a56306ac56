"""Four int8 lanes in a 32-bit word: the loads, stores and `arm_dsp` ops of the SIMD pool kernels.

The Cortex-M4's SIMD is the DSP extension on core registers (docs/design.md §4): a word read from memory holds
four consecutive int8 values, byte j (bits 8j..8j+7, little-endian) being the value at index + j. The kernels
compute on such words with `arm_dsp` ops (SSUB8 + SEL for a per-byte maximum, SXTAB16 to add bytes 0/2 or 1/3
into two int16 lanes, SMLAD to fold those lanes) and store bytes back.

A word is loaded as four byte loads combined with shifts and ors: the loop-level interpreter reads it byte by byte
(every index stays inside the buffer), and LLVM's load combiner turns the four loads into one LDR (unaligned
when the index is: the Cortex-M4 allows unaligned LDR, never LDRD/LDM, which LLVM does not form from align-1
loads). Four byte stores of one word's lanes become one STR in the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerAttr, i32
from xdsl.ir import SSAValue

from t2m.dialects import arm_dsp
from t2m.passes._int8 import I8, I32, Ints
from t2m.passes._loops import Index, Ix

ONES16 = 0x00010001
"""Two int16 lanes of 1: SMLAD(x, ONES16, acc) = acc + x.lo + x.hi."""


def _shifted(idx: Sequence[Index], j: int) -> list[Index]:
    last = idx[-1]
    return [*idx[:-1], last + j if isinstance(last, Ix) else last + j]


def replicate(byte: int) -> int:
    """An int8 value in all four lanes of a word, as a signed i32 constant."""
    return arm_dsp.s32((byte & 0xFF) * 0x01010101)


def load_word(q: Ints, mem: SSAValue, idx: Sequence[Index]) -> SSAValue:
    """The four int8 elements at idx, idx + 1, idx + 2, idx + 3 (last axis) as one i32, element j in byte j."""
    word: SSAValue | None = None
    for j in range(4):
        byte = q.k.emit(arith.ExtUIOp(q.k.load(mem, _shifted(idx, j)), I32))
        part = q.shl(byte, 8 * j)
        word = part if word is None else q.k.emit(arith.OrIOp(word, part))
    assert word is not None
    return word


def store_lane(q: Ints, word: SSAValue, lane: int, mem: SSAValue, idx: Sequence[Index]) -> None:
    """Byte `lane` of the word, stored as the int8 element at idx."""
    shifted = word if lane == 0 else q.k.emit(arith.ShRUIOp(word, q.const(8 * lane)))
    q.k.store(q.trunc(shifted, I8), mem, idx)


def smax8(q: Ints, a: SSAValue, b: SSAValue) -> SSAValue:
    """The signed maximum of each byte lane (SSUB8 + SEL)."""
    return q.k.emit(arm_dsp.Smax8Op(a, b))


def smin8(q: Ints, a: SSAValue, byte: int) -> SSAValue:
    """The signed minimum of each byte lane with a constant int8: ~max(~a, ~byte), as ~x = -1 - x reverses the
    order of int8 values and never overflows (MVN costs one cycle for four lanes)."""
    ones = q.const(-1)
    flipped = smax8(q, q.k.emit(arith.XOrIOp(a, ones)), q.const(replicate(-1 - byte)))
    return q.k.emit(arith.XOrIOp(flipped, ones))


def clamp_lanes(q: Ints, word: SSAValue, lo: int, hi: int) -> SSAValue:
    """Each int8 lane clamped to [lo, hi] (the fused activation of an op whose values are int8 already)."""
    if lo > -128:
        word = smax8(q, word, q.const(replicate(lo)))
    if hi < 127:
        word = smin8(q, word, hi)
    return word


def sxtab16(q: Ints, acc: SSAValue, word: SSAValue, rotate: int = 0) -> SSAValue:
    """acc's two int16 lanes plus bytes 0 and 2 (rotate 8: bytes 1 and 3) of the word, sign-extended."""
    return q.k.emit(arm_dsp.Sxtab16Op(acc, word, rotate=IntegerAttr(rotate, i32)))


def smlad(q: Ints, a: SSAValue, b: SSAValue, acc: SSAValue) -> SSAValue:
    """acc + a.lo * b.lo + a.hi * b.hi."""
    return q.k.emit(arm_dsp.SmladOp(a, b, acc))
