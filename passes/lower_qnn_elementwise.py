"""lower-qnn-elementwise: int8 add, mul (broadcasting), rescale (per tensor or per channel) and clamp -> flat loops.

Every multiplier and shift of these ops is per tensor, so all of the requantization is compile-time constants, and
the int8 operands bound every intermediate value, so the fast requantization applies (`_int8.fits`):
- add (TFLite / `arm_elementwise_add_s8`): each operand's `(q - zp) << 20` requantized by its own multiplier,
  summed, requantized by the output's, plus the output zero point, clamped. Variant `table` (passes/_variants.py;
  the default from 256 outputs): an operand's requantized value depends on its byte alone, so it is read from a
  256-entry i32 table computed at compile time by the reference's own arithmetic (2 KB of flash per add, one
  LDR with a scaled index per operand instead of a 64-bit multiply and a rounding shift); `arith` computes it;
- mul (`arm_elementwise_mul_s8`): `(a - za) * (b - zb)` requantized, plus the output zero point, clamped;
- rescale: `requant(x - input_zp)` of an int8 or int32 tensor, saturated to int8; per-channel multipliers come from
  a `[channels, 2]` table (multiplier, exponent), loaded once per channel outside the loop over the channel's elements;
- clamp: `cmpi` + `select` on int8 values.
Broadcasting is lower-nn-elementwise's: size-1 output dims dropped, neighbouring dims merged while both operands
run along (or are broadcast along) them, so `[1,C,H,W] + [1,C,1,1]` is a C x (H*W) nest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import PassFailedException

from t2m.dialects import qnn
from t2m.passes._int8 import I32, Ints, Requant, fits, is_int8, requant_bound, requant_params
from t2m.passes._loops import Ix, Kernel, new_constant, replace_with_layer, shape_of
from t2m.passes._variants import chosen, register
from t2m.passes.lower_nn_elementwise import broadcast_plan

Combine = Callable[[Ints, SSAValue, SSAValue], SSAValue]


INT8_SPREAD = 255
"""|q - zp| for int8 q and zero point: the bound every requantized quantity here starts from."""


def add_s8(op: qnn.AddOp) -> Combine:
    side_bound = INT8_SPREAD << qnn.ADD_LEFT_SHIFT
    total_bound = requant_bound(op.lhs_scale, side_bound) + requant_bound(op.rhs_scale, side_bound)

    def combine(q: Ints, a: SSAValue, b: SSAValue) -> SSAValue:
        def side(v: SSAValue, zp: int, scale: qnn.RequantAttr) -> SSAValue:
            return q.requantize(q.shl(q.sub(v, zp), qnn.ADD_LEFT_SHIFT), q.requant_of(None, scale, bound=side_bound))

        total = q.add(side(a, op.lhs_zp.value.data, op.lhs_scale), side(b, op.rhs_zp.value.data, op.rhs_scale))
        out = q.requant_of(None, op.output_scale, bound=total_bound)
        return q.add(q.requantize(total, out), op.output_scale.zero_point)

    return combine


def mul_s8(op: qnn.MulOp) -> Combine:
    def combine(q: Ints, a: SSAValue, b: SSAValue) -> SSAValue:
        product = q.mul(q.sub(a, op.lhs_zp.value.data), q.sub(b, op.rhs_zp.value.data))
        out = q.requant_of(None, op.output_scale, bound=INT8_SPREAD * INT8_SPREAD)
        return q.add(q.requantize(product, out), op.output_scale.zero_point)

    return combine


def build_binary(k: Kernel, out_shape: Sequence[int], a_shape: Sequence[int], b_shape: Sequence[int],
                 combine: Combine, op: qnn.BinaryOp) -> None:
    q = Ints(k)
    dims, full_a, full_b = broadcast_plan(out_shape, a_shape, b_shape)
    a, b, *tables, out = k.args
    a = k.view(a, [d if f else 1 for d, f in zip(dims, full_a, strict=True)])
    b = k.view(b, [d if f else 1 for d, f in zip(dims, full_b, strict=True)])
    out = k.view(out, dims)
    lo, hi = op.activation_range()

    def operand(mem: SSAValue, full: list[bool], ivs: list[Ix], table: SSAValue | None) -> SSAValue:
        idx = [iv if f else 0 for iv, f in zip(ivs, full, strict=True)]
        if table is None:
            return q.load(mem, idx)
        byte = k.emit(arith.ExtUIOp(k.load(mem, idx), I32))  # LDRB: the table index, 0..255
        return q.load(table, [Ix.of(k.emit(arith.IndexCastOp(byte, IndexType())))])

    def element(ivs: list[Ix]) -> None:
        va = operand(a, full_a, ivs, tables[0] if tables else None)
        vb = operand(b, full_b, ivs, tables[1] if tables else None)
        q.store_i8(combine(q, va, vb), out, ivs, lo, hi)

    k.nest([(0, d, f"i{j}") for j, d in enumerate(dims)], element)


# -- add by tables -------------------------------------------------------------------------------------------------

TABLE, ARITH = "table", "arith"
"""qnn.add kernels (passes/_variants.py): each operand's rescale read from a 256-entry table, or computed."""

TABLE_MIN_ELEMENTS = 256
"""Below this many outputs the tables' 2 KB of flash cost more than the cycles they save: `arith` by default."""


def side_table(zp: int, scale: qnn.RequantAttr, left: int) -> np.ndarray:
    """An add operand's rescaled value `requant((q - zp) << 20)` for each int8 q, as the reference computes it,
    shifted left by the output requantization's `left` (wrapping as the i32 shift does: (a + b) << l is
    (a << l) + (b << l) modulo 2^32, so the sum of two entries is the shifted sum). Indexed by the byte's
    unsigned value (q & 0xFF): a zero-extending LDRB is the index, with no offset to add."""
    q = (np.arange(256, dtype=np.int64) ^ 0x80) - 0x80  # the int8 value of each byte 0..255
    shifted = ((q - zp) << qnn.ADD_LEFT_SHIFT).astype(np.int32)
    side = qnn.requantize(shifted, scale.multipliers[0], scale.shifts[0]).astype(np.int64)
    return ((side << left) & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def add_tables(op: qnn.AddOp) -> tuple[np.ndarray, np.ndarray, Requant]:
    """The two side tables and the output requantization that then starts from their sum (no left shift)."""
    side_bound = INT8_SPREAD << qnn.ADD_LEFT_SHIFT
    total_bound = requant_bound(op.lhs_scale, side_bound) + requant_bound(op.rhs_scale, side_bound)
    m, e = op.output_scale.multipliers[0], op.output_scale.shifts[0]
    left, right = max(e, 0), max(-e, 0)
    if fits(op.output_scale, total_bound):  # the fast form: its doubling joins the tables' shift
        out = Requant(m, 0, right, nudge=(1 << right) >> 1)
        left += 1
    else:
        mask = (1 << right) - 1
        out = Requant(m, 0, right, mask, mask >> 1)
    return (side_table(op.lhs_zp.value.data, op.lhs_scale, left),
            side_table(op.rhs_zp.value.data, op.rhs_scale, left), out)


def table_add(op: qnn.AddOp, out: Requant) -> Combine:
    """`combine` of the table kernel: the operands are the byte values' table entries already (see build_binary)."""

    def combine(q: Ints, a: SSAValue, b: SSAValue) -> SSAValue:
        return q.add(q.requantize(q.add(a, b), out), op.output_scale.zero_point)

    return combine


def add_variants(op: Operation) -> list[str]:
    """Tables first for adds of TABLE_MIN_ELEMENTS outputs or more."""
    big = math.prod(shape_of(op.results[0])) >= TABLE_MIN_ELEMENTS
    return [TABLE, ARITH] if big else [ARITH, TABLE]


register("qnn.add", add_variants)


def _variant(op: qnn.AddOp) -> str:
    options, pinned = add_variants(op), chosen(op)
    if pinned is None:
        return options[0]
    if pinned not in options:
        raise PassFailedException(f"'{op.name}' has no kernel variant '{pinned}'; it takes {', '.join(options)}")
    return pinned


class LowerBinary(RewritePattern):
    """qnn.add / qnn.mul -> `@<model>_L<i>_<op>(%lhs, %rhs, %out)`; the table add takes
    `(%lhs, %rhs, %lhs_table, %rhs_table, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.AddOp | qnn.MulOp, rewriter: PatternRewriter) -> None:
        shapes = shape_of(op.output), shape_of(op.lhs), shape_of(op.rhs)
        operands = [(op.lhs, "lhs"), (op.rhs, "rhs")]
        if isinstance(op, qnn.AddOp) and _variant(op) == TABLE:
            lhs, rhs, out = add_tables(op)
            operands += [(new_constant(rewriter, op, lhs), "lhs_table"), (new_constant(rewriter, op, rhs), "rhs_table")]
            combine = table_add(op, out)
        else:
            combine = add_s8(op) if isinstance(op, qnn.AddOp) else mul_s8(op)
        replace_with_layer(rewriter, op, operands, lambda k: build_binary(k, *shapes, combine, op))


def build_rescale(k: Kernel, shape: Sequence[int], op: qnn.RescaleOp, per_channel: bool) -> None:
    """The tensor as [outer, channels, inner] around the channel axis (one flat loop per tensor)."""
    q = Ints(k)
    x, *table, out = k.args
    axis = op.axis.value.data
    channels = shape[axis] if per_channel else 1
    outer = math.prod(shape[:axis]) if per_channel else 1
    inner = math.prod(shape) // (outer * channels)
    x, out = k.view(x, [outer, channels, inner]), k.view(out, [outer, channels, inner])
    zp_in, zp_out = op.input_zp.value.data, op.requant.zero_point
    bound = INT8_SPREAD if is_int8(op.input) else None  # an int32 input can be anything

    def channel(ivs: list[Ix]) -> None:
        r = q.requant_of(table[0] if table else None, op.requant, ivs[1], bound)

        def element(i: list[Ix]) -> None:
            value = q.requantize(q.sub(q.load(x, [*ivs, i[0]]), zp_in), r)
            q.store_i8(q.add(value, zp_out), out, [*ivs, i[0]])

        k.nest([(0, inner, "i")], element)

    k.nest([(0, outer, "o"), (0, channels, "c")], channel)


class LowerRescale(RewritePattern):
    """qnn.rescale -> `@<model>_L<i>_rescale(%in[, %requant], %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.RescaleOp, rewriter: PatternRewriter) -> None:
        shape = shape_of(op.input)
        per_channel = op.requant.channels > 1
        operands = [(op.input, "in")]
        if per_channel:
            operands.append((new_constant(rewriter, op, requant_params(op.requant)), "requant"))
        replace_with_layer(rewriter, op, operands, lambda k: build_rescale(k, shape, op, per_channel))


def build_clamp(k: Kernel, size: int, lo: int, hi: int) -> None:
    q = Ints(k)
    x, out = (k.view(a, [size]) for a in k.args)
    k.nest([(0, size, "i")], lambda ivs: q.store_i8(q.load(x, ivs), out, ivs, lo, hi, in_range=True))


class LowerClamp(RewritePattern):
    """qnn.clamp (left when nothing could take it as a fused range) -> `@<model>_L<i>_clamp(%in, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.ClampOp, rewriter: PatternRewriter) -> None:
        size = math.prod(shape_of(op.input))
        lo, hi = op.min.value.data, op.max.value.data
        replace_with_layer(rewriter, op, [(op.input, "in")], lambda k: build_clamp(k, size, lo, hi))


@dataclass(frozen=True)
class LowerQnnElementwise(ModulePass):
    """Lower qnn.add, qnn.mul, qnn.rescale and qnn.clamp to flat (or broadcasting) integer loops."""

    name = "lower-qnn-elementwise"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = GreedyRewritePatternApplier([LowerBinary(), LowerRescale(), LowerClamp()])
        PatternRewriteWalker(patterns, apply_recursively=False).rewrite_module(op)
