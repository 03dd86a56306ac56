"""lower-qnn-norm: `qnn.layer_norm` -> integer statistics, a per-row 1/sqrt and one requantization per element.

Per row of N int8 values (d = x - zp), as `qnn.layer_norm_s8`:

1. S = sum(d) and Q = sum(d^2) in one pass (int32: N <= 2^14);
2. W = N Q - S^2 + eps in 64 bits (N^2 times the variance plus epsilon), at least 1;
3. W scaled by an even power of two into [2^28, 2^30): five conditional shifts down (16, 8, 4, 2, 2 bits), five
   up, by constants (the M4 has no 64-bit shift by a variable amount: each is two or three instructions by a
   constant), counting k;
4. R = isqrt(W) bit by bit (14 compares of a square), then one UDIV: m = ((2^31 - 1) / R) << 14, e = -2 - k: the
   row's 1/sqrt(W) as a run-time Q31 multiplier and exponent, the form a per-channel requantization reads from
   its table;
5. per element: x_hat = requantize(N d - S, m, e) (12 fraction bits), acc = x_hat * gamma + beta, the output
   requantization (a compile-time multiplier) and zero point, saturated to int8.

x is read twice (statistics, then output); nothing is stored between the passes, so the op needs no scratch.
gamma and beta are per element ([1, N], layer norm) or per row ([R, 1], batch norm with batch statistics, one
channel per row), then loaded once per row.
"""

from __future__ import annotations

from dataclasses import dataclass

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
from t2m.passes._int8 import I32, I64, Ints, Requant
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of

DOWN = ((16, 46), (8, 38), (4, 34), (2, 32), (2, 30))
"""(shift, threshold bits): W >= 2^threshold is shifted right; W < 2^56 ends in [2^28, 2^30) or below 2^30."""
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


def row_scale(q: Ints, total: SSAValue) -> Requant:
    """The row's 1/sqrt(W) * 2^12 as a requantization with a run-time multiplier and exponent."""
    w, k = normalised(q, total)
    inverse = q.k.emit(arith.DivUIOp(q.const((1 << 31) - 1), isqrt(q, w)))
    m = q.sext(q.shl(inverse, 14), I64)
    e = q.sub(-2, k)
    positive = q.cmp("sgt", e, 0)
    left = q.select(positive, e, 0)
    right = q.select(positive, 0, q.sub(0, e))
    mask = q.sub(q.shl(q.const(1), right), 1)
    return Requant(m, left, right, mask, q.shrs(mask, 1))


def build_layer_norm(k: Kernel, rows: int, length: int, per_row: bool, zp: int, eps: int,
                     requant: qnn.RequantAttr) -> None:
    q = Ints(k)
    x, gamma, beta, out = k.args
    output = q.requant_of(None, requant)

    def row(ivs: list[Ix]) -> None:
        (r,) = ivs

        def statistics(j: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            d = q.sub(q.load(x, [r, j[0]]), zp)
            return q.add(acc[0], d), q.add(acc[1], q.mul(d, d))

        total, squares = k.reduce([(0, length, "j")], [q.const(0), q.const(0)], statistics)
        wide_total = q.sext(total, I64)
        variance = q.sub(q.mul(q.sext(squares, I64), length), q.mul(wide_total, wide_total))
        variance = q.add(variance, q.const(eps, I64)) if eps else variance
        variance = q.select(q.cmp("slt", variance, 1), q.const(1, I64), variance)
        scale = row_scale(q, variance)
        row_affine = (q.load(gamma, [r, 0]), q.load(beta, [r, 0])) if per_row else None

        def element(j: list[Ix]) -> None:
            d = q.sub(q.load(x, [r, j[0]]), zp)
            x_hat = q.requantize(q.sub(q.mul(d, length), total), scale)
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
        replace_with_layer(rewriter, op, [(op.input, "in"), (op.gamma, "gamma"), (op.beta, "beta")],
                           lambda k: build_layer_norm(k, rows, length, per_row, zp, eps, op.requant))


@dataclass(frozen=True)
class LowerQnnNorm(ModulePass):
    """Lower every qnn.layer_norm to integer statistics and fixed-point normalisation, a layer function each."""

    name = "lower-qnn-norm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerLayerNorm(), apply_recursively=False).rewrite_module(op)
