"""lower-qnn-softmax: `qnn.softmax` -> CMSIS-NN's fixed-point softmax (`arm_nn_softmax_common_s8`) in arith ops.

The tensor is viewed as [outer, L, inner] around the axis. Per row, as CMSIS-NN: the maximum; then the sum of
`exp(diff) >> 12` over the entries whose difference from the maximum is at least `diff_min` (diff scaled to
Q5.26 by the op's multiplier and left shift; exp on negative values in gemmlowp's fixed point, Q0.31); then
1 / sum by Newton-Raphson (`one_over_one_plus_x`, after normalising the sum with CLZ: `math.ctlz`, the M4's CLZ);
then each output `exp(diff) * (1 / sum)` rounded to 1/256 and offset by -128 (the exps are computed again rather
than stored: the output is int8 and there is no scratch buffer). Entries below `diff_min` give -128. The final
division is by 2^(35 - CLZ(sum)), up to 2^35 for rows of 512 or more values near the maximum, where CMSIS-NN's C
shifts by 32 or more (undefined) and LLVM's shift would be poison: `below_half_a_step` gives those rows the exact
quotient, 0, as `qnn.divide_by_power_of_two` does.

Every step mirrors `t2m.dialects.qnn` (the numpy semantics): `saturating_doubling_high_mul` with its C division
toward zero written as a shift and a correction (no 64-bit division), `divide_by_power_of_two`, the saturating
multiply by a power of two. The 64-bit products are SMULL; no libcall.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import PassFailedException

from t2m.dialects import qnn
from t2m.passes._int8 import I32, I64, Int, Ints
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of

Q31_MIN, Q31_MAX = -(1 << 31), (1 << 31) - 1
EXP_FACTORS = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)
"""exp(-2^k / 4) in Q0.31 for the bits 24..30 of the remainder (gemmlowp's barrel shifter)."""


class Fixed(Ints):
    """gemmlowp / CMSIS-NN fixed-point helpers on top of the integer ops."""

    def sat_doubling_high_mul(self, a: SSAValue, b: Int) -> SSAValue:
        """`arm_nn_doubling_high_mult`: (a * b + nudge) / 2^31 toward zero; INT_MIN * INT_MIN saturates."""
        if isinstance(b, int):
            negative = self.cmp("slt", a, 0) if b >= 0 else self.cmp("sge", a, 0)
            wide_b: Int = b
        else:
            negative = self.cmp("ne", self.cmp("slt", a, 0), self.cmp("slt", b, 0))
            wide_b = self.sext(b, I64)
        nudge = self.select(negative, self.const(1 - (1 << 30), I64), self.const(1 << 30, I64))
        total = self.add(self.mul(self.sext(a, I64), wide_b), nudge)
        toward_zero = self.add(total, self.and_(self.shrs(total, 63), (1 << 31) - 1))
        result = self.trunc(self.shrs(toward_zero, 31), I32)
        if isinstance(b, int) and b != Q31_MIN:
            return result
        both_min = self.cmp("eq", a, Q31_MIN)
        if not isinstance(b, int):
            both_min = self.and_(both_min, self.cmp("eq", b, Q31_MIN))
        return self.select(both_min, Q31_MAX, result)

    def mul_pow2_sat(self, x: SSAValue, exponent: int) -> SSAValue:
        threshold = (1 << (31 - exponent)) - 1
        shifted = self.select(self.cmp("slt", x, -threshold), Q31_MIN, self.shl(x, exponent))
        return self.select(self.cmp("sgt", x, threshold), Q31_MAX, shifted)

    def exp_on_negative_values(self, val: SSAValue) -> SSAValue:
        """exp(val) of val <= 0 in Q5.26, result in Q0.31 (`arm_nn_exp_on_negative_values`)."""
        mul = self.sat_doubling_high_mul
        quarter = 1 << 24
        val_mod_minus_quarter = self.sub(self.and_(val, quarter - 1), quarter)
        remainder = self.sub(val_mod_minus_quarter, val)
        x = self.add(self.shl(val_mod_minus_quarter, 5), 1 << 28)
        x2 = mul(x, x)
        inner = self.divide_by_power_of_two(self.add(mul(self.add(self.divide_by_power_of_two(mul(x2, x2), 2),
                                                                  mul(x2, x)), 715827883), x2), 1)
        result = self.add(mul(self.const(1895147668), self.add(x, inner)), 1895147668)
        for bit, factor in enumerate(EXP_FACTORS, start=24):
            taken = self.cmp("ne", self.and_(remainder, 1 << bit), 0)
            result = self.select(taken, mul(result, factor), result)
        return self.select(self.cmp("eq", val, 0), Q31_MAX, result)

    def one_over_one_plus_x(self, val: SSAValue) -> SSAValue:
        """1 / (1 + x) for x in [0, 1) in Q0.31 (`arm_nn_one_over_one_plus_x_for_x_in_0_1`), Newton-Raphson."""
        mul = self.sat_doubling_high_mul
        total = self.add(self.sext(val, I64), Q31_MAX)
        rounded = self.add(total, self.select(self.cmp("sge", total, 0), self.const(1, I64), self.const(-1, I64)))
        half = self.shrs(self.add(rounded, self.bit(self.cmp("slt", rounded, 0), I64)), 1)  # / 2 toward zero
        half_denominator = self.trunc(half, I32)
        x = self.add(mul(half_denominator, -1010580540), 1515870810)
        for _ in range(3):
            error = self.sub(self.const(1 << 29), mul(half_denominator, x))
            x = self.add(x, self.mul_pow2_sat(mul(x, error), 2))
        return self.mul_pow2_sat(x, 1)


@dataclass(frozen=True)
class SoftmaxParams:
    multiplier: int
    shift: int
    diff_min: int

    @staticmethod
    def of(op: qnn.SoftmaxOp) -> SoftmaxParams:
        params = SoftmaxParams(op.multiplier.value.data, op.shift.value.data, op.diff_min.value.data)
        if not 0 <= params.multiplier < 1 << 31 or not 0 <= params.shift < 31:
            raise PassFailedException(
                f"qnn.softmax multiplier {params.multiplier} and shift {params.shift} must be a Q31 mantissa and a "
                "left shift in [0, 31) (qnn.softmax_params computes them from the input scale)"
            )
        return params


def below_half_a_step(q: Fixed, shifted_scale: SSAValue, bits_over_unit: SSAValue) -> tuple[SSAValue, SSAValue]:
    """The row's (scale, exponent) with the exponent kept in [23, 31], once per row. A sum of exponentials with
    fewer than 4 leading zeros (512 or more entries near the maximum) makes `bits_over_unit` 32 to 35, a shift
    that is poison in LLVM (x86 masks its count to 5 bits, the M4 does not). Each output's dividend
    `sat_doubling_high_mul(scale, exp)` is in [0, 2^31), so its quotient by 2^32 or more is below one half and
    rounds to 0 (`qnn.divide_by_power_of_two`): a zero scale divided by 2^31 gives that 0 with no new work per
    element."""
    too_far = q.cmp("sgt", bits_over_unit, 31)
    return q.select(too_far, 0, shifted_scale), q.select(too_far, 31, bits_over_unit)


def build_softmax(k: Kernel, outer: int, length: int, inner: int, p: SoftmaxParams) -> None:
    q = Fixed(k)
    x, out = (k.view(a, [outer, length, inner]) for a in k.args)

    def row(ivs: list[Ix]) -> None:
        o, i = ivs

        def at(l_ivs: list[Ix]) -> list[Ix]:
            return [o, l_ivs[0], i]

        def biggest(l_ivs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            return (q.max(acc[0], q.load(x, at(l_ivs))),)

        (top,) = k.reduce([(0, length, "l")], [q.const(qnn.I8_MIN)], biggest)

        def exp_of(l_ivs: list[Ix]) -> tuple[SSAValue, SSAValue]:
            """(exp of the scaled difference, whether the difference is at least diff_min)."""
            diff = q.sub(q.load(x, at(l_ivs)), top)
            scaled = q.sat_doubling_high_mul(q.shl(diff, p.shift), p.multiplier)
            return q.exp_on_negative_values(scaled), q.cmp("sge", diff, p.diff_min)

        def accumulate(l_ivs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            e, valid = exp_of(l_ivs)
            term = q.divide_by_power_of_two(e, qnn.SOFTMAX_ACCUM_BITS)
            return (q.add(acc[0], q.select(valid, term, 0)),)

        (total,) = k.reduce([(0, length, "l")], [q.const(0)], accumulate)
        headroom = q.ctlz(total)
        shifted_scale = q.one_over_one_plus_x(q.sub(q.shl(total, headroom), Q31_MIN))
        bits_over_unit = q.sub(q.const(qnn.SOFTMAX_ACCUM_BITS + 23), headroom)
        shifted_scale, bits_over_unit = below_half_a_step(q, shifted_scale, bits_over_unit)
        ones = q.sub(q.shl(q.const(1), bits_over_unit), 1)  # the rounding masks, once per row
        masks = (ones, q.shrs(ones, 1))

        def output(l_ivs: list[Ix]) -> None:
            e, valid = exp_of(l_ivs)
            y = q.sub(q.divide_by_power_of_two(q.sat_doubling_high_mul(shifted_scale, e), bits_over_unit, masks), 128)
            q.store_i8(q.select(valid, y, qnn.I8_MIN), out, at(l_ivs))

        k.nest([(0, length, "l")], output)

    k.nest([(0, outer, "o"), (0, inner, "i")], row)


class LowerSoftmax(RewritePattern):
    """qnn.softmax -> `@<model>_L<i>_softmax(%in, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.SoftmaxOp, rewriter: PatternRewriter) -> None:
        shape = shape_of(op.input)
        axis = op.axis.value.data
        outer, length, inner = math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :])
        params = SoftmaxParams.of(op)
        replace_with_layer(rewriter, op, [(op.input, "in")], lambda k: build_softmax(k, outer, length, inner, params))


@dataclass(frozen=True)
class LowerQnnSoftmax(ModulePass):
    """Lower every qnn.softmax to CMSIS-NN's fixed-point softmax in its own layer function."""

    name = "lower-qnn-softmax"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerSoftmax(), apply_recursively=False).rewrite_module(op)
