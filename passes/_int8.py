"""Integer arithmetic of the int8 lowerings (`lower-qnn-*` passes): the semantics of docs/int8.md as arith ops.

Every int8 kernel loads int8 values, widens them to i32, accumulates with wrapping i32 arithmetic (exact: the
reference's int32 results are the same modulo 2^32), requantizes with CMSIS-NN's `arm_nn_requantize` and stores
int8. `Ints` wraps a `Kernel` with the integer ops in the form they take here:

- an operand may be a Python int: it becomes a constant of the other operand's type (hoisted, one per function);
- requantization: `acc << left`, a 64-bit `(x * m + 2^30) >> 31` (SMLAL + a few ALU ops on the M4, no libcall),
  then a rounding divide by `2^right` (mask, shift, compare: no division). m, left and right are compile-time
  constants for a per-tensor multiplier; per channel they come from an i32 table `[channels, 2]` of multipliers
  and exponents (`requant_params`, CMSIS-NN's 8 bytes per channel) loaded once per output channel, outside the
  pixel loops. Only 32-bit shifts take a variable amount (one instruction each on Thumb-2); 64-bit shifts are by
  constants. When the accumulators are bounded at compile time (constant weights: |acc| <= |bias| + 255 sum|w|)
  so that nothing can overflow, the same bits come from a cheaper form: one SMMULR and an add-and-shift rounding
  that SSAT can finish (`Requant`, `fits`), with the output zero point in the rounding constant and a
  `[channels, 3]` table when that cannot overflow either (`folds_zero_point`, `fast_requant_params`);
- saturation to int8 and the fused activation clamp are `cmpi` + `select`, then `trunci` to i8 for the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerType, MemRefType, TensorType, i1
from xdsl.ir import SSAValue

from t2m.dialects import qnn
from t2m.passes._loops import Index, Kernel

I8, I32, I64 = IntegerType(8), IntegerType(32), IntegerType(64)

Int = SSAValue | int
"""An integer operand: a value, or a compile-time constant."""


def int_type(value: SSAValue) -> IntegerType:
    t = value.type
    assert isinstance(t, IntegerType), t
    return t


@dataclass(frozen=True)
class Requant:
    """One output channel's requantization (values, or compile-time ints): Q31 multiplier (i64), left shift
    max(e, 0), right shift max(-e, 0), and for the exact rounding divide its mask 2^right - 1 and half mask >> 1.

    `nudge` set: the fast form, for accumulators the caller bounded (`fits`). Then `left` includes the doubling
    (max(e, 0) + 1), the high multiply is `(x * m + 2^31) >> 32` (one SMMULR on the M4) and the rounding divide
    `(x + 2^(right - 1) + (x >> 31)) >> right` (an add with a shifted operand, an add, and a shift that SSAT can
    take): the same bits, as nothing overflows.

    Two refinements of the fast form, exact under conditions checked at compile time (`fast_requant`): with
    multipliers >= 0 the sign of `acc << left` is the sign of the high product or that product is 0, where the
    sign term cannot change the result (right >= 1), so the sign comes from the input and the high multiply
    is needed once (SMMLAR with the nudge as its accumulator); and when `zp << right` cannot overflow, the
    output zero point rides in the nudge (`(x + zp * 2^right) >> right = (x >> right) + zp`), one add less per
    output. The rounding constant of each channel is then a table column, not derived from the exponent."""

    multiplier: Int
    left: Int
    right: Int
    mask: Int = 0
    half: Int = 0
    nudge: Int | None = None
    input_sign: bool = False  # fast form, multipliers >= 0: the rounding's sign term from `acc << left`
    offset: int = 0  # fast form: the output zero point, included in `nudge` (`output` adds the rest)


FAST_LIMIT = 1 << 30
"""`acc << left` below this in magnitude: doubling it cannot overflow, nor can the rounding add after it."""


def fits(requant: qnn.RequantAttr, bound: int | None) -> bool:
    """Whether the fast form gives the reference's bits for accumulators within +-bound: `acc << left` stays below
    2^30 for every channel, and (per channel, as the shift is then a run-time value) every right shift is >= 1."""
    if bound is None:
        return False
    shifts = requant.shifts
    if requant.channels > 1 and any(e >= 0 for e in shifts):
        return False
    return all(bound << max(e, 0) < FAST_LIMIT for e in shifts)


def requant_bound(requant: qnn.RequantAttr, bound: int) -> int:
    """A bound of the requantized values (before the output zero point) of accumulators within +-bound."""
    return max(((((bound << max(e, 0)) * m) >> 31) + 1 >> max(-e, 0)) + 1
               for m, e in zip(requant.multipliers, requant.shifts, strict=True))


def folded_bias(weight: np.ndarray, bias: np.ndarray | None, zp: int) -> np.ndarray:
    """bias - zp * (every weight of the output channel, axis 0, summed): with it, `sum((x - zp) * w)` over a full
    window or row is `sum(x * w)` plus this start, so the zero point costs nothing per MAC. int32, wrapping like the
    accumulator it starts (exact modulo 2^32, as the accumulation)."""
    base = np.zeros(weight.shape[0], np.int64) if bias is None else bias.astype(np.int64)
    return (base - zp * weight.astype(np.int64).reshape(weight.shape[0], -1).sum(axis=1)).astype(np.int32)


def accumulator_bound(weight: np.ndarray | None, bias: np.ndarray | None) -> int | None:
    """max |bias + sum((x - zp) * w)| over int8 inputs and zero points (|x - zp| <= 255), per output channel
    (axis 0 of the weights); None when the weights are not known at compile time."""
    if weight is None:
        return None
    total = 255 * np.abs(weight.astype(np.int64)).reshape(weight.shape[0], -1).sum(axis=1)
    if bias is not None:
        total = total + np.abs(bias.astype(np.int64))
    return int(total.max())


def requant_params(requant: qnn.RequantAttr) -> np.ndarray:
    """`[channels, 2]` int32: (multiplier, exponent) per channel, the table per-channel kernels read."""
    return np.stack([np.asarray(requant.multipliers, np.int64), np.asarray(requant.shifts, np.int64)], axis=1
                    ).astype(np.int32)


def folds_zero_point(requant: qnn.RequantAttr, bound: int | None) -> bool:
    """Whether the fast form can carry the output zero point in its nudge: every right shift >= 1 (else there is
    no nudge) and `|high| + 2^(right - 1) + 1 + |zp| * 2^right` stays below 2^31 for accumulators within +-bound."""
    if not fits(requant, bound):
        return False
    assert bound is not None
    zp = abs(requant.zero_point)
    for m, e in zip(requant.multipliers, requant.shifts, strict=True):
        right = max(-e, 0)
        high = ((bound << (max(e, 0) + 1)) * abs(m) >> 32) + 1
        if right == 0 or high + (1 << (right - 1)) + 1 + (zp << right) >= 1 << 31:
            return False
    return True


def fast_requant_params(requant: qnn.RequantAttr, bound: int | None) -> np.ndarray | None:
    """The per-channel table of the fast form when the output zero point folds into it (`folds_zero_point`):
    `[channels, 3]` int32 (multiplier, right shift, nudge `2^(right - 1) + zp * 2^right`), read with three loads
    and no arithmetic per channel; None otherwise (then `requant_params`)."""
    if not folds_zero_point(requant, bound):
        return None
    right = -np.asarray(requant.shifts, np.int64)
    nudge = (1 << (right - 1)) + (requant.zero_point << right)
    return np.stack([np.asarray(requant.multipliers, np.int64), right, nudge], axis=1).astype(np.int32)


def requant_table(requant: qnn.RequantAttr, bound: int | None) -> np.ndarray:
    """The per-channel table a kernel reads with `Ints.requant_of`: the fast one when it applies."""
    fast = fast_requant_params(requant, bound)
    return fast if fast is not None else requant_params(requant)


class Ints:
    """Integer ops on a `Kernel` (see the module docstring)."""

    def __init__(self, k: Kernel):
        self.k = k

    def _pair(self, a: Int, b: Int) -> tuple[SSAValue, SSAValue]:
        if isinstance(a, int):
            assert isinstance(b, SSAValue), "at least one operand must be a value"
            return self.k.iconst(a, int_type(b)), b
        return a, (self.k.iconst(b, int_type(a)) if isinstance(b, int) else b)

    def const(self, value: int, type: IntegerType = I32) -> SSAValue:
        return self.k.iconst(value, type)

    def add(self, a: Int, b: Int) -> SSAValue:
        if isinstance(b, int) and b == 0:
            assert isinstance(a, SSAValue)
            return a
        return self.k.emit(arith.AddiOp(*self._pair(a, b)))

    def sub(self, a: Int, b: Int) -> SSAValue:
        if isinstance(b, int) and b == 0:
            assert isinstance(a, SSAValue)
            return a
        return self.k.emit(arith.SubiOp(*self._pair(a, b)))

    def mul(self, a: Int, b: Int) -> SSAValue:
        return self.k.emit(arith.MuliOp(*self._pair(a, b)))

    def and_(self, a: Int, b: Int) -> SSAValue:
        return self.k.emit(arith.AndIOp(*self._pair(a, b)))

    def shl(self, a: SSAValue, b: Int) -> SSAValue:
        if isinstance(b, int) and b == 0:
            return a
        return self.k.emit(arith.ShLIOp(*self._pair(a, b)))

    def shrs(self, a: SSAValue, b: Int) -> SSAValue:
        """Arithmetic shift right (rounds toward -inf)."""
        if isinstance(b, int) and b == 0:
            return a
        return self.k.emit(arith.ShRSIOp(*self._pair(a, b)))

    def cmp(self, predicate: str, a: Int, b: Int) -> SSAValue:
        return self.k.emit(arith.CmpiOp(*self._pair(a, b), predicate))

    def select(self, cond: SSAValue, a: Int, b: Int) -> SSAValue:
        a, b = self._pair(a, b)
        return self.k.select(cond, a, b)

    def bit(self, cond: SSAValue, type: IntegerType = I32) -> SSAValue:
        """0 or 1 from an i1."""
        assert cond.type == i1
        return self.k.emit(arith.ExtUIOp(cond, type))

    def sext(self, a: SSAValue, type: IntegerType) -> SSAValue:
        return a if int_type(a) == type else self.k.emit(arith.ExtSIOp(a, type))

    def trunc(self, a: SSAValue, type: IntegerType) -> SSAValue:
        return a if int_type(a) == type else self.k.emit(arith.TruncIOp(a, type))

    def ctlz(self, a: SSAValue) -> SSAValue:
        """Leading zeros of an i32 (the M4's CLZ; `llvm.ctlz`, never a libcall)."""
        from xdsl.dialects import math

        return self.k.emit(math.CountLeadingZerosOp(a))

    # -- memory -------------------------------------------------------------------------------------------------

    def load(self, mem: SSAValue, idx: Sequence[Index]) -> SSAValue:
        """An element widened to i32 (int8 activations and weights, i32 biases and tables)."""
        return self.sext(self.k.load(mem, idx), I32)

    def store_i8(self, value: SSAValue, mem: SSAValue, idx: Sequence[Index], lo: int = qnn.I8_MIN,
                 hi: int = qnn.I8_MAX, in_range: bool = False) -> None:
        """Saturate an i32 to [lo, hi] (int8 and the fused activation range) and store it as int8. `in_range`:
        the value is an int8 already (a maximum or an average of int8 values), so the int8 bounds cost nothing."""
        self.k.store(self.trunc(self.clamp(value, lo, hi, in_range), I8), mem, idx)

    def clamp(self, x: SSAValue, lo: int, hi: int, in_range: bool = False) -> SSAValue:
        if not (in_range and lo == qnn.I8_MIN):
            x = self.select(self.cmp("slt", x, lo), lo, x)
        if not (in_range and hi == qnn.I8_MAX):
            x = self.select(self.cmp("sgt", x, hi), hi, x)
        return x

    def max(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.select(self.cmp("sgt", b, a), b, a)

    # -- fixed point (CMSIS-NN) ---------------------------------------------------------------------------------

    def doubling_high_mul(self, x: SSAValue, m: Int) -> SSAValue:
        """`arm_nn_doubling_high_mult_no_sat`: (x * m + 2^30) >> 31 in 64 bits, truncated to i32."""
        wide_m = self.sext(m, I64) if isinstance(m, SSAValue) else m
        product = self.add(self.mul(self.sext(x, I64), wide_m), 1 << 30)
        return self.trunc(self.shrs(product, 31), I32)

    def divide_by_power_of_two(self, x: SSAValue, exponent: Int, mask: tuple[Int, Int] | None = None) -> SSAValue:
        """`arm_nn_divide_by_power_of_two`: x / 2^exponent rounded half away from zero, with no overflow:
        `(x >> e) + ((x & mask) > (mask >> 1) + (x < 0))`, mask = 2^e - 1 (given with mask >> 1 when computed
        already, once per channel)."""
        if isinstance(exponent, int):
            if exponent == 0:
                return x
            mask = ((1 << exponent) - 1, ((1 << exponent) - 1) >> 1)
        elif mask is None:
            ones = self.sub(self.shl(self.const(1, int_type(x)), exponent), 1)
            mask = (ones, self.shrs(ones, 1))
        result = self.shrs(x, exponent)
        threshold = self.add(self.bit(self.cmp("slt", result, 0)), mask[1])
        return self.add(result, self.bit(self.cmp("sgt", self.and_(x, mask[0]), threshold)))

    def requantize(self, acc: SSAValue, r: Requant) -> SSAValue:
        """`arm_nn_requantize`: acc * m * 2^(e - 31), the left shift wrapping as the int32 multiply in C (or the
        fast form of the same, see `Requant`)."""
        if r.nudge is None:
            high = self.doubling_high_mul(self.shl(acc, r.left), r.multiplier)
            return self.divide_by_power_of_two(high, r.right, (r.mask, r.half))
        wide_m = self.sext(r.multiplier, I64) if isinstance(r.multiplier, SSAValue) else r.multiplier
        shifted = self.shl(acc, r.left)
        product = self.add(self.mul(self.sext(shifted, I64), wide_m), 1 << 31)
        high = self.trunc(self.shrs(product, 32), I32)
        if isinstance(r.right, int) and r.right == 0:
            return high
        sign = self.shrs(shifted if r.input_sign else high, 31)
        return self.shrs(self.add(self.add(high, r.nudge), sign), r.right)

    def output(self, acc: SSAValue, r: Requant, zero_point: int) -> SSAValue:
        """`requantize` plus the output zero point (the part the nudge does not carry already)."""
        return self.add(self.requantize(acc, r), zero_point - r.offset)

    def requant_of(self, table: SSAValue | None, requant: qnn.RequantAttr, channel: Index = 0,
                   bound: int | None = None, with_zero_point: bool = False) -> Requant:
        """The requantization of `channel` for accumulators within +-bound (None: unknown): constants for one
        multiplier, else two loads of `table` and the shifts and masks derived from the exponent (once per
        channel, outside the loops over its elements), or three loads of a `fast_requant_params` table (then the
        output zero point is in the nudge). The fast form when `fits(requant, bound)`. `with_zero_point`: the
        caller stores through `output`, so a per-tensor nudge may carry the zero point too."""
        fast = fits(requant, bound)
        input_sign = fast and min(requant.multipliers) >= 0
        if requant.channels == 1 or table is None:
            m, e = requant.multipliers[0], requant.shifts[0]
            left, right = max(e, 0), max(-e, 0)
            if fast:
                zp = requant.zero_point if with_zero_point and folds_zero_point(requant, bound) else 0
                return Requant(m, left + 1, right, nudge=((1 << right) >> 1) + (zp << right), input_sign=input_sign,
                               offset=zp)
            mask = (1 << right) - 1
            return Requant(m, left, right, mask, mask >> 1)
        table_type = table.type
        assert isinstance(table_type, MemRefType)
        if table_type.get_shape()[1] == 3:  # `fast_requant_params`: multiplier, right shift, nudge with the zp
            m, right, nudge = (self.load(table, [channel, j]) for j in range(3))
            return Requant(self.sext(m, I64), 1, right, nudge=nudge, input_sign=input_sign, offset=requant.zero_point)
        m, e = (self.load(table, [channel, j]) for j in range(2))
        if fast:  # every exponent is negative: no left shift but the doubling
            right = self.sub(0, e)
            return Requant(self.sext(m, I64), 1, right, nudge=self.shrs(self.shl(self.const(1), right), 1),
                           input_sign=input_sign)
        positive = self.cmp("sgt", e, 0)
        left = self.select(positive, e, 0)
        right = self.select(positive, 0, self.sub(0, e))
        mask = self.sub(self.shl(self.const(1), right), 1)
        return Requant(self.sext(m, I64), left, right, mask, self.shrs(mask, 1))


def is_int8(value: SSAValue) -> bool:
    t = value.type
    return isinstance(t, TensorType | MemRefType) and t.get_element_type() == I8
