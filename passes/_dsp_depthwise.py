"""The SMLAD depthwise kernel (one input and one output channel per group, any window, stride and padding).

A depthwise output has only kh * kw MACs and no reuse across channels, so no column is worth building: pairs are
made in registers. Kernel rows go in pairs, (r, r + 1): for each input column a block of `pb` neighbouring
output pixels touches, one PKHBT packs `(x[row r], x[row r + 1])`, and every pixel using that column adds it with
one SMLAD against the pre-packed weight word `(w[r][kw], w[r + 1][kw])`. An odd last row multiplies the loaded
value itself against `(w[r][kw], 0)` (the sign-extended upper half meets a zero). With 3x3 and 4 pixels: 18 loads,
6 packs and 24 SMLADs for 36 MACs. A padding tap is the input zero point, a constant in the pair (the bias has
`zp * sum(w)` folded out, as for the other kernels), with no bounds test: border regions and the interior differ
only in which taps are constants (`window_runs`, blocks straddling a border at constant positions). Per channel,
outside the pixel loops: the folded bias, the requantization and, with `hoist`, the weight words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from xdsl.ir import SSAValue

from t2m.dialects import arm_dsp, qnn
from t2m.passes._dsp_conv import pixel_groups
from t2m.passes._dsp_kernels import pair
from t2m.passes._int8 import Ints
from t2m.passes._loops import Ix, Kernel, window_runs
from t2m.passes.lower_nn_conv import ConvGeometry


@dataclass(frozen=True)
class Depthwise:
    """pb output pixels per block (along a row); hoist: the channel's weight words stay in registers."""

    pb: int = 4
    hoist: bool = True

    @property
    def name(self) -> str:
        return f"smlad-dw-p{self.pb}" + ("" if self.hoist else "-reload")

    @staticmethod
    def parse(name: str) -> Depthwise | None:
        m = re.fullmatch(r"smlad-dw-p(\d+)(-reload)?", name)
        return Depthwise(int(m[1]), m[2] is None) if m else None


DEPTHWISE = [Depthwise(4, True), Depthwise(2, True), Depthwise(4, False), Depthwise(3, True), Depthwise(6, False)]
"""The variants, the default first."""


def packed_depthwise_weights(weight: np.ndarray, dw: Depthwise) -> np.ndarray:
    """[C, 1, kh, kw] int8 -> [C, ceil(kh / 2), kw] words (w[2r][kw], w[2r + 1][kw] or 0) as int16 pairs."""
    c, _, kh, kw = weight.shape
    rows = np.zeros((c, 2 * (-(-kh // 2)), kw), np.int64)
    rows[:, :kh] = weight[:, 0]
    pairs = rows.reshape(c, -1, 2, kw) & 0xFFFF
    return (pairs[:, :, 0] | pairs[:, :, 1] << 16).astype(np.uint32).view(np.int32).reshape(c, -1, kw)


Class = tuple[tuple[int, int], tuple[int, int]]
"""A pixel's border class: the kernel rows and columns its window sees inside the input."""


def border_classes(g: ConvGeometry) -> list[Class]:
    """Every class of output pixel, the interior among them (`window_runs` of rows x columns)."""
    (sh, sw), (dh, dw) = g.stride, g.dilation
    rows = window_runs(g.h, g.kh, sh, g.padding[0], dh, g.oh)
    cols = window_runs(g.w, g.kw, sw, g.padding[1], dw, g.ow)
    return [((r[2], r[3]), (c[2], c[3])) for r in rows for c in cols]


def padded_pair(g: ConvGeometry, cls: Class, rp: int, b: int) -> bool:
    """Whether the pair (kernel rows 2rp, 2rp + 1 at column b) is padding only: a constant, in the start table."""
    (kh0, kh1), (kw0, kw1) = cls
    rows = [r for r in (2 * rp, 2 * rp + 1) if r < g.kh]
    return not kw0 <= b < kw1 or all(not kh0 <= r < kh1 for r in rows)


def start_table(weight: np.ndarray, folded: np.ndarray, g: ConvGeometry, zp: int) -> np.ndarray:
    """[classes, C] i32: the folded bias plus zp * the weights of the class's padding-only pairs, so that those
    pairs cost nothing per pixel (the zero point folded into per-border-class biases)."""
    w = weight[:, 0].astype(np.int64)
    table = []
    for cls in border_classes(g):
        start = folded.astype(np.int64).copy()
        for rp in range(-(-g.kh // 2)):
            for b in range(g.kw):
                if padded_pair(g, cls, rp, b):
                    start += zp * w[:, 2 * rp:2 * rp + 2, b].sum(axis=1)
        table.append(start)
    return np.array(table).astype(np.int32)


def packed_pair(lo: int, hi: int) -> int:
    """The i32 value of the int16 pair (lo, hi)."""
    word = (lo & 0xFFFF) | (hi & 0xFFFF) << 16
    return word - (1 << 32) if word & 0x80000000 else word


def build_depthwise(k: Kernel, g: ConvGeometry, op: qnn.Conv2dOp, dw: Depthwise, has_table: bool,
                    bound: int | None) -> None:
    """Arguments: input, packed weights, start table (`start_table`), [requant table], output."""
    q = Ints(k)
    x, packed, bias, *rest = k.args
    table = rest.pop(0) if has_table else None
    (out,) = rest
    zp = op.input_zp.value.data
    lo, hi = op.activation_range()
    (sh, sw), (dh, dw_) = g.stride, g.dilation
    top, left = g.padding[0], g.padding[1]
    row_pairs = -(-g.kh // 2)
    rows = window_runs(g.h, g.kh, sh, top, dh, g.oh)
    groups = pixel_groups(window_runs(g.w, g.kw, sw, left, dw_, g.ow), g.ow, dw.pb)

    classes = border_classes(g)

    def channel(n: Ix, c: Ix) -> None:
        requant = q.requant_of(table, op.requant, c, bound, with_zero_point=True) if op.requant is not None else None
        hoisted = {(rp, b): k.load(packed, [c, rp, b]) for rp in range(row_pairs) for b in range(g.kw)} \
            if dw.hoist else {}

        def weight(rp: int, b: int) -> SSAValue:
            return hoisted[(rp, b)] if dw.hoist else k.load(packed, [c, rp, b])

        def block(oh: Ix, ow0: Ix, size: int, khs: tuple[int, int], kws: tuple[tuple[int, int], ...]) -> None:
            starts: dict[Class, SSAValue] = {}  # per block: loop-invariant loads LLVM hoists as it sees fit
            for p in range(size):
                cls = (khs, kws[p])
                if cls not in starts:
                    starts[cls] = q.load(bias, [classes.index(cls), c])
            acc = [starts[(khs, kws[p])] for p in range(size)]
            for rp in range(row_pairs):
                pairs: dict[int, SSAValue | int] = {}  # input column offset -> pair (or the value of an odd row)

                def tap(row: int, offset: int, p: int) -> SSAValue | int:
                    """x at kernel row `row`, input column ow0 * sw + offset - left; zp where padding."""
                    kw, rem = divmod(offset - p * sw, dw_)
                    if not (khs[0] <= row < khs[1] and rem == 0 and kws[p][0] <= kw < kws[p][1]):
                        return zp
                    return q.load(x, [n, c, oh * sh + (row * dh - top), ow0 * sw + (offset - left)])

                for p in range(size):
                    for b in range(g.kw):
                        offset = p * sw + b * dw_
                        if offset not in pairs:
                            a = tap(2 * rp, offset, p)
                            if 2 * rp + 1 >= g.kh:  # odd last row: the value itself (upper half meets a 0)
                                pairs[offset] = a
                            else:
                                b_ = tap(2 * rp + 1, offset, p)
                                both = isinstance(a, int) and isinstance(b_, int)
                                pairs[offset] = packed_pair(a, b_) if both else pair(k, a, b_)  # type: ignore
                        value = pairs[offset]
                        if padded_pair(g, (khs, kws[p]), rp, b):
                            continue  # in the start table
                        if isinstance(value, int):
                            value = k.i32(value)
                        acc[p] = k.emit(arm_dsp.SmladOp(value, weight(rp, b), acc[p]))
            for p in range(size):
                idx = [n, c, oh, ow0 + p]
                if op.requant is None or requant is None:
                    k.store(acc[p], out, idx)
                else:
                    q.store_i8(q.output(acc[p], requant, op.requant.zero_point), out, idx, lo, hi)

        for r0, r1, kh0, kh1 in rows:
            for c0, c1, size, sig in groups:
                k.nest([(r0, r1, "oh"), (c0, c1, "ow", size)],
                       lambda ivs, size=size, sig=sig, khs=(kh0, kh1): block(ivs[0], ivs[1], size, khs, sig))

    k.nest([(0, g.n, "n"), (0, g.c, "c")], lambda ivs: channel(ivs[0], ivs[1]))
