"""lower-qnn-norm: `qnn.layer_norm` -> integer statistics, a per-row 1/sqrt and one requantization per element.

Per row of N int8 values (d = x - zp), as `qnn.layer_norm_s8`:

1. S = sum(d) and Q = sum(d^2) in one pass (int32: N <= 2^14);
2. W = (N Q - S^2) 2^16 + eps in 64 bits (N^2 times the variance plus epsilon, 16 fraction bits), at least 1;
3. W scaled by an even power of two into [2^28, 2^30): five conditional shifts down (16, 8, 4, 2, 2 bits), five
   up, by constants (the M4 has no 64-bit shift by a variable amount: each is two or three instructions by a
   constant), counting k;
4. R = isqrt(W) bit by bit (14 compares of a square), then one UDIV: m = ((2^31 - 1) / R) << 14, e = 6 - k: the
   row's 1/sqrt(W) as a run-time Q31 multiplier and exponent, the form a per-channel requantization reads from
   its table;
5. per element: x_hat = requantize(N d - S, m, e) (12 fraction bits) in the one-SMMULR form of `_int8.Requant`,
   exact because |(N d - S) << max(e, 0)| < 2^22 (a value is at most sqrt(N - 1) standard deviations from the
   mean), with the round-half-away sign term masked off where e >= 0; acc = x_hat * gamma + beta; the output
   requantization (a compile-time multiplier, in the cheap form when gamma and beta are constants that bound
   acc) and zero point, saturated to int8. 16 rows of 64: 30 cycles per element on the M4 (fp32: 15).

x is read twice (statistics, then output); nothing is stored between the passes, so the op needs no scratch.
gamma and beta are per element ([1, N], layer norm) or per row ([R, 1], batch norm with batch statistics, one
channel per row), then loaded once per row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from t2m.dialects import qnn
from t2m.passes._int8 import I32, I64, Ints
from t2m.passes._loops import Ix, Kernel, constant_array, replace_with_layer, shape_of

DOWN = ((16, 46), (8, 38), (4, 34), (2, 32), (2, 30))
"""(shift, threshold bits): W >= 2^threshold is shifted right; W < 2^62 ends in [2^28, 2^30) or below 2^30."""
UP = ((16, 14), (8, 20), (4, 24), (2, 26), (2, 28))
"""(shift, threshold bits): W < 2^threshold is shifted left; W >= 1 ends in [2^28, 2^30)."""


def normalised(q: Ints, total: SSAValue) -> tuple[SSAValue, SSAValue]:
    """(W scaled into [2^28, 2^30) as an i32, k) with W = scaled * 4^k (`qnn.norm_row_scale`)."""
    k = q.const(0)
    for shift, bits in DOWN:
        big = q.cmp("sge", total, q.const(1 << bits, I64))
        total = q.select(big, q.shrs(total, shift), total)
        k = q.add(k, q.select(big, q.const(shift // 2), 0))
    small32 = q.trunc(total, I32)
    for shift, bits in UP:
        small = q.cmp("slt", small32, 1 << bits)
        small32 = q.select(small, q.shl(small32, shift), small32)
        k = q.sub(k, q.select(small, q.const(shift // 2), 0))
    return small32, k


def isqrt(q: Ints, w: SSAValue) -> SSAValue:
    """floor(sqrt(w)) of w in [2^28, 2^30): bit 14 is set, the 14 below are tried from the top."""
    root = q.const(1 << 14)
    for bit in range(13, -1, -1):
        trial = q.add(root, 1 << bit)
        root = q.select(q.cmp("sle", q.mul(trial, trial), w), trial, root)
    return root


@dataclass(frozen=True)
class RowScale:
    """A row's 1/sqrt(W) * 2^12 in the cheap form of `_int8.Requant` (one SMMULR): the doubling is in `left`,
    the rounding constant 2^(right - 1) in `nudge`, and `sign_mask` keeps the round-half-away sign term only
    where right >= 1 (the exponent is a run-time value that can be >= 0)."""

    multiplier: SSAValue
    left: SSAValue
    right: SSAValue
    nudge: SSAValue
    sign_mask: SSAValue


def row_scale(q: Ints, total: SSAValue) -> RowScale:
    """The row's multiplier m = ((2^31 - 1) / isqrt(W')) << 14 and exponent e = 6 - k, once per row."""
    w, k = normalised(q, total)
    inverse = q.k.emit(arith.DivUIOp(q.const((1 << 31) - 1), isqrt(q, w)))
    e = q.sub(qnn.NORM_EPS_BITS // 2 - 2, k)
    positive = q.cmp("sgt", e, 0)
    right = q.select(positive, 0, q.sub(0, e))
    return RowScale(q.sext(q.shl(inverse, 14), I64), q.add(q.select(positive, e, 0), 1), right,
                    q.shrs(q.shl(q.const(1), right), 1), q.sub(0, q.bit(q.cmp("sgt", right, 0))))


def normalise(q: Ints, centred: SSAValue, row: RowScale) -> SSAValue:
    """`requantize(centred, m, e)`: exact in this form, as |centred << max(e, 0)| < 2^22 (module docstring)."""
    shifted = q.shl(centred, row.left)
    high = q.trunc(q.shrs(q.add(q.mul(q.sext(shifted, I64), row.multiplier), 1 << 31), 32), I32)
    sign = q.and_(q.shrs(shifted, 31), row.sign_mask)
    return q.shrs(q.add(q.add(high, row.nudge), sign), row.right)


def accumulator_bound(length: int, gamma: np.ndarray | None, beta: np.ndarray | None) -> int | None:
    """max |x_hat * gamma + beta| when gamma and beta are known: |x_hat| <= sqrt(N - 1) * 2^12 (a value's distance
    from the mean is at most sqrt(N - 1) standard deviations; the floored square root adds less than 2^-13)."""
    if gamma is None or beta is None:
        return None
    x_hat = (math.isqrt(max(length - 1, 0)) + 1) << qnn.NORM_FRACTION_BITS
    return x_hat * int(np.abs(gamma.astype(np.int64)).max()) + int(np.abs(beta.astype(np.int64)).max())


def build_layer_norm(k: Kernel, rows: int, length: int, per_row: bool, zp: int, eps: int,
                     requant: qnn.RequantAttr, bound: int | None) -> None:
    q = Ints(k)
    x, gamma, beta, out = k.args
    output = q.requant_of(None, requant, bound=bound, with_zero_point=True)

    def row(ivs: list[Ix]) -> None:
        (r,) = ivs

        def statistics(j: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            d = q.sub(q.load(x, [r, j[0]]), zp)
            return q.add(acc[0], d), q.add(acc[1], q.mul(d, d))

        total, squares = k.reduce([(0, length, "j")], [q.const(0), q.const(0)], statistics)
        wide_total = q.sext(total, I64)
        variance = q.sub(q.mul(q.sext(squares, I64), length), q.mul(wide_total, wide_total))
        variance = q.shl(variance, qnn.NORM_EPS_BITS)
        variance = q.add(variance, q.const(eps, I64)) if eps else variance
        variance = q.select(q.cmp("slt", variance, 1), q.const(1, I64), variance)
        scale = row_scale(q, variance)
        row_affine = (q.load(gamma, [r, 0]), q.load(beta, [r, 0])) if per_row else None

        def element(j: list[Ix]) -> None:
            d = q.sub(q.load(x, [r, j[0]]), zp)
            x_hat = normalise(q, q.sub(q.mul(d, length), total), scale)
            g, b = row_affine or (q.load(gamma, [0, j[0]]), q.load(beta, [0, j[0]]))
            q.store_i8(q.output(q.add(q.mul(x_hat, g), b), output, requant.zero_point), out, [r, j[0]])

        k.nest([(0, length, "j")], element)

    k.nest([(0, rows, "r")], row)


class LowerLayerNorm(RewritePattern):
    """qnn.layer_norm -> `@<model>_L<i>_layer_norm(%in, %gamma, %beta, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.LayerNormOp, rewriter: PatternRewriter) -> None:
        rows, length = shape_of(op.input)
        per_row = shape_of(op.gamma) != (1, length)
        zp, eps = op.input_zp.value.data, op.eps.value.data
        bound = accumulator_bound(length, constant_array(op.gamma), constant_array(op.beta))
        replace_with_layer(rewriter, op, [(op.input, "in"), (op.gamma, "gamma"), (op.beta, "beta")],
                           lambda k: build_layer_norm(k, rows, length, per_row, zp, eps, op.requant, bound))


@dataclass(frozen=True)
class LowerQnnNorm(ModulePass):
    """Lower every qnn.layer_norm to integer statistics and fixed-point normalisation, a layer function each."""

    name = "lower-qnn-norm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerLayerNorm(), apply_recursively=False).rewrite_module(op)
