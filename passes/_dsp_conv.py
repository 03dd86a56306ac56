"""The SMLAD conv kernel (plain, strided, padded, dilated, grouped, 1x1): packed columns + register-blocked GEMM.

Per output row run (`window_runs`: rows whose windows see the same kernel rows) and per group of pixel blocks
whose pixels see the same kernel columns, a loop over blocks of `pb` pixels fills one column per pixel
(passes/_dsp_kernels.py) with the taps known at compile time: a padding tap is the zero point, a constant, with no
bounds test; the full-window interior is one loop. Every block of `ob` output channels then runs the SMLAD
multiply over the columns and stores through the fused requantization. A block straddling a border and the
interior needs no loop of its own kind: its pixels are filled each with its own taps, at constant positions.
A 1x1 conv with stride 1 and no padding is a matrix multiply over the flattened plane (blocks cross rows).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from xdsl.ir import SSAValue

from t2m.dialects import qnn
from t2m.passes._dsp_kernels import Gemm, column, fill, gemm, pack_weights
from t2m.passes._int8 import Ints
from t2m.passes._loops import Ix, Kernel, window_runs
from t2m.passes.lower_nn_conv import ConvGeometry, _blocks, _key

BORDER_UNROLL = 4
"""Tap pairs per iteration in a copy of the kernel that serves at most 1/8 of the output plane (border blocks):
a short loop body saves code and costs little time."""

Run = tuple[int, int, int, int]  # (o0, o1, k0, k1): outputs [o0, o1) see kernel taps [k0, k1)


def flattened(g: ConvGeometry) -> ConvGeometry:
    """A 1x1 conv, stride 1, no padding, as one row of h * w pixels (blocks then cross row ends)."""
    if (g.kh, g.kw, *g.stride, *g.padding) == (1, 1, 1, 1, 0, 0, 0, 0):
        return replace(g, h=1, w=g.h * g.w, oh=1, ow=g.oh * g.ow)
    return g


def packed_conv_weights(weight: np.ndarray, g: ConvGeometry, gm: Gemm) -> np.ndarray:
    """Per group, the [ocg, icg * kh * kw] matrix packed for the kernel, groups one after another."""
    w = weight.reshape(g.groups, g.ocg, -1)
    return np.concatenate([pack_weights(w[i], gm) for i in range(g.groups)])


def pixel_groups(cols: list[Run], ow: int, pb: int) -> list[tuple[int, int, int, tuple[tuple[int, int], ...]]]:
    """Blocks of pb pixels (a smaller last one) as loops (start, end, size, kernel column range of each pixel):
    consecutive blocks whose pixels see the same taps share one loop."""
    taps = [next((k0, k1) for o0, o1, k0, k1 in cols if o0 <= o < o1) for o in range(ow)]
    groups: list[tuple[int, int, int, tuple[tuple[int, int], ...]]] = []
    for start in range(0, ow, pb):
        size = min(pb, ow - start)
        sig = tuple(taps[start:start + size])
        if groups and groups[-1][1] == start and groups[-1][2] == size and groups[-1][3] == sig:
            groups[-1] = (groups[-1][0], start + size, size, sig)
        else:
            groups.append((start, start + size, size, sig))
    return groups


def build_gemm_conv(k: Kernel, g: ConvGeometry, op: qnn.Conv2dOp, gm: Gemm, has_table: bool,
                    bound: int | None) -> None:
    """Arguments: input, packed weights, folded bias, [requant table], output."""
    q = Ints(k)
    x, packed, bias, *rest = k.args
    table = rest.pop(0) if has_table else None
    (out,) = rest
    g2 = flattened(g)
    if g2 is not g:
        x, out = k.view(x, [g.n, g.c, 1, g2.w]), k.view(out, [g.n, g.oc, 1, g2.ow])
        g = g2
    zp = op.input_zp.value.data
    lo, hi = op.activation_range()
    (sh, sw), (dh, dw) = g.stride, g.dilation
    top, left = g.padding[0], g.padding[1]
    khw = g.kh * g.kw
    taps = g.icg * khw
    words = gm.pairs(taps)
    per_channel = words // (2 if gm.w8 else 1)
    chunk_channels = 1 if khw % 2 == 0 else 2
    while chunk_channels * khw < 8 and chunk_channels * 2 <= g.icg:
        chunk_channels *= 2  # 1x1: several channels per fill step
    col = column(k, words, gm.pb)

    def pixel_block(n: Ix, grp: Ix, oh: Ix, ow0: Ix, size: int, khs: tuple[int, int],
                    kws: tuple[tuple[int, int], ...], pixels_served: int) -> None:
        loaded: dict[object, SSAValue] = {}  # loads shared by the block's pixels (stride 1: most of the window)

        def value(c: Ix | int, t: int, p: int) -> SSAValue | int:
            ic = Ix(const=0) + c * chunk_channels + t // khw
            kh, kw = divmod(t % khw, g.kw)
            if not (khs[0] <= kh < khs[1] and kws[p][0] <= kw < kws[p][1]):
                return zp
            row = oh * sh + (kh * dh - top)
            colx = (ow0 + p) * sw + (kw * dw - left)
            key = (_key(ic), _key(row), _key(colx))
            if key not in loaded:
                loaded[key] = q.load(x, [n, grp * g.icg + ic, row, colx])
            return loaded[key]

        fill(k, col, size, taps, chunk_channels * khw, value, words, loaded)

        def channels(o0: Ix, nb: int) -> None:
            ocs = [grp * g.ocg + o0 + j for j in range(nb)]
            starts = [q.load(bias, [oc]) for oc in ocs]
            requants = ([q.requant_of(table, op.requant, oc, bound, with_zero_point=True) for oc in ocs]
                        if op.requant is not None else [])

            def store(acc: SSAValue, j: int, p: int) -> None:
                idx = [n, ocs[j], oh, ow0 + p]
                if op.requant is None:
                    k.store(acc, out, idx)
                else:
                    q.store_i8(q.output(acc, requants[j], op.requant.zero_point), out, idx, lo, hi)

            base = grp * (g.ocg * per_channel) + o0 * per_channel
            few = 8 * pixels_served <= g.oh * g.ow  # a border copy of the code: keep it short
            small = replace(gm, unroll=min(gm.unroll, BORDER_UNROLL)) if few else gm
            gemm(k, small, col, packed, taps, base, nb, size, starts, store)

        for o0, o1, nb in _blocks(0, g.ocg, gm.ob):
            k.nest([(o0, o1, "oc", nb)], lambda ivs, nb=nb: channels(ivs[0], nb))

    rows = window_runs(g.h, g.kh, sh, top, dh, g.oh)
    cols = window_runs(g.w, g.kw, sw, left, dw, g.ow)
    groups = pixel_groups(cols, g.ow, gm.pb)

    def plane(n: Ix, grp: Ix) -> None:
        for r0, r1, kh0, kh1 in rows:
            for c0, c1, size, sig in groups:
                k.nest([(r0, r1, "oh"), (c0, c1, "ow", size)],
                       lambda ivs, size=size, sig=sig, khs=(kh0, kh1), served=(r1 - r0) * (c1 - c0):
                       pixel_block(n, grp, ivs[0], ivs[1], size, khs, sig, served))

    k.nest([(0, g.n, "n"), (0, g.groups, "g")], lambda ivs: plane(ivs[0], ivs[1]))
