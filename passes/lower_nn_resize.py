"""lower-nn-resize: nn.pad and nn.upsample -> copy loops (any element type for pad and nearest resizing).

- pad: each dim splits at compile time into runs: the low border, the input, the high border. The border runs of
  a constant pad store the value; the others copy, reading index `o - low` in the middle, a mirrored affine index
  in a reflect border (`low - o`, `2 (size - 1) + low - o`) and the edge in a replicate border. So no index is
  tested at run time, and the nest count is 3^(padded dims).
- upsample: the source rows and columns are compile-time tables (`nn.resize_taps`, PyTorch's own float32
  arithmetic), passed as constant operands: nearest copies x[rows[oh], cols[ow]]; bilinear blends the four
  neighbours with the tables' weights, the row weights loaded once per output row. On int8 values the weight
  tables are Q10 integers (`nn.resize_weights_q10`), the blend an int32 sum rounded half up by >> 20.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, IntegerType, ModuleOp, f32
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from t2m.dialects import nn
from t2m.passes._int8 import Ints
from t2m.passes._loops import Ix, Kernel, element_of, new_constant, replace_with_layer, shape_of


@dataclass(frozen=True)
class PadRun:
    """Outputs [o0, o1) along one dim read input index coeff * o + const, or store the pad value (`fill`)."""

    o0: int
    o1: int
    coeff: int
    const: int
    fill: bool = False


def pad_runs(size: int, low: int, high: int, mode: str) -> list[PadRun]:
    runs = [PadRun(low, low + size, 1, -low)]
    if low:
        first = {"constant": PadRun(0, low, 0, 0, True), "reflect": PadRun(0, low, -1, low),
                 "replicate": PadRun(0, low, 0, 0)}[mode]
        runs.insert(0, first)
    if high:
        end = low + size + high
        last = {"constant": PadRun(low + size, end, 0, 0, True),
                "reflect": PadRun(low + size, end, -1, 2 * (size - 1) + low),
                "replicate": PadRun(low + size, end, 0, size - 1)}[mode]
        runs.append(last)
    return runs


def build_pad(k: Kernel, shape: Sequence[int], low: Sequence[int], high: Sequence[int], mode: str,
              value: SSAValue | None) -> None:
    x, out = k.args
    per_dim = [pad_runs(d, a, b, mode) for d, a, b in zip(shape, low, high, strict=True)]
    for runs in product(*per_dim):

        def element(ivs: list[Ix], runs: tuple[PadRun, ...] = runs) -> None:
            if any(r.fill for r in runs):
                assert value is not None
                k.store(value, out, ivs)
                return
            src = [iv * r.coeff + r.const for iv, r in zip(ivs, runs, strict=True)]
            k.store(k.load(x, src), out, ivs)

        k.nest([(r.o0, r.o1, f"o{d}") for d, r in enumerate(runs)], element)


class LowerPad(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.PadOp, rewriter: PatternRewriter) -> None:
        shape = shape_of(op.input)
        low, high = op.widths()
        mode, fill = op.mode.data, float(op.value.value.data)
        element = element_of(op.input)

        def build(k: Kernel) -> None:
            value = None
            if mode == "constant":
                value = k.iconst(int(fill), element) if isinstance(element, IntegerType) else k.f32(fill)
            build_pad(k, shape, low, high, mode, value)

        replace_with_layer(rewriter, op, [(op.input, "in")], build)


def build_upsample(k: Kernel, shape: Sequence[int], size: Sequence[int], bilinear: bool, ints: bool = False
                   ) -> None:
    n, c = shape[:2]
    if bilinear:
        x, rows, row_w, cols, col_w, out = k.args
    else:
        (x, rows, cols, out), row_w, col_w = k.args, None, None

    def index(table: SSAValue, i: Ix, which: int) -> SSAValue:
        return k.emit(arith.IndexCastOp(k.load(table, [i, which]), IndexType()))

    def channel(ivs: list[Ix]) -> None:
        b, ch = ivs

        def row(oh_ivs: list[Ix]) -> None:
            (oh,) = oh_ivs
            h0 = Ix.of(index(rows, oh, 0))
            if not bilinear:
                k.nest([(0, size[1], "ow")], lambda w: k.store(k.load(x, [b, ch, h0, Ix.of(index(cols, w[0], 0))]),
                                                               out, [b, ch, oh, w[0]]))
                return
            assert row_w is not None and col_w is not None
            weights = col_w
            h1 = Ix.of(index(rows, oh, 1))
            blend = blend_int8 if ints else blend_f32
            row_weights = blend.row(k, row_w, oh)
            k.nest([(0, size[1], "ow")], lambda w: blend(k, x, cols, weights, index, (b, ch, oh, w[0]), (h0, h1),
                                                         row_weights, out))

        k.nest([(0, size[0], "oh")], row)

    k.nest([(0, n, "n"), (0, c, "c")], channel)


class Blend:
    """One bilinear output pixel from the four neighbours, f32 or int8; `row` loads a row's weights once."""

    def row(self, k: Kernel, table: SSAValue, oh: Ix) -> tuple[SSAValue, SSAValue]:
        raise NotImplementedError

    def __call__(self, k: Kernel, x: SSAValue, cols: SSAValue, col_w: SSAValue,
                 index: Callable[[SSAValue, Ix, int], SSAValue], at: tuple[Ix, Ix, Ix, Ix], hs: tuple[Ix, Ix],
                 row_weights: tuple[SSAValue, SSAValue], out: SSAValue) -> None:
        raise NotImplementedError


class BlendF32(Blend):
    def row(self, k: Kernel, table: SSAValue, oh: Ix) -> tuple[SSAValue, SSAValue]:
        lh = k.load(table, [oh])
        return k.subf(k.f32(1.0), lh), lh

    def __call__(self, k: Kernel, x: SSAValue, cols: SSAValue, col_w: SSAValue,
                 index: Callable[[SSAValue, Ix, int], SSAValue], at: tuple[Ix, Ix, Ix, Ix], hs: tuple[Ix, Ix],
                 row_weights: tuple[SSAValue, SSAValue], out: SSAValue) -> None:
        b, ch, oh, ow = at
        w0, w1, lw = Ix.of(index(cols, ow, 0)), Ix.of(index(cols, ow, 1)), k.load(col_w, [ow])
        kw = k.subf(k.f32(1.0), lw)

        def along(h: Ix) -> SSAValue:
            return k.addf(k.mulf(kw, k.load(x, [b, ch, h, w0])), k.mulf(lw, k.load(x, [b, ch, h, w1])))

        kh, lh = row_weights
        k.store(k.addf(k.mulf(kh, along(hs[0])), k.mulf(lh, along(hs[1]))), out, [b, ch, oh, ow])


class BlendInt8(Blend):
    def row(self, k: Kernel, table: SSAValue, oh: Ix) -> tuple[SSAValue, SSAValue]:
        q = Ints(k)
        return q.load(table, [oh, 0]), q.load(table, [oh, 1])

    def __call__(self, k: Kernel, x: SSAValue, cols: SSAValue, col_w: SSAValue,
                 index: Callable[[SSAValue, Ix, int], SSAValue], at: tuple[Ix, Ix, Ix, Ix], hs: tuple[Ix, Ix],
                 row_weights: tuple[SSAValue, SSAValue], out: SSAValue) -> None:
        b, ch, oh, ow = at
        q = Ints(k)
        w0, w1 = Ix.of(index(cols, ow, 0)), Ix.of(index(cols, ow, 1))
        cw0, cw1 = q.load(col_w, [ow, 0]), q.load(col_w, [ow, 1])

        def along(h: Ix) -> SSAValue:
            return q.add(q.mul(cw0, q.load(x, [b, ch, h, w0])), q.mul(cw1, q.load(x, [b, ch, h, w1])))

        acc = q.add(q.mul(row_weights[0], along(hs[0])), q.mul(row_weights[1], along(hs[1])))
        bits = 2 * nn.RESIZE_FRACTION_BITS
        q.store_i8(q.shrs(q.add(acc, 1 << (bits - 1)), bits), out, [b, ch, oh, ow], in_range=True)


blend_f32, blend_int8 = BlendF32(), BlendInt8()


class LowerUpsample(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.UpsampleOp, rewriter: PatternRewriter) -> None:
        shape, out = shape_of(op.input), shape_of(op.output)
        mode, corners = op.mode.data, bool(op.align_corners.value.data)
        bilinear = mode == "bilinear"
        ints = element_of(op.input) != f32
        tables: list[tuple[SSAValue, str]] = []
        for axis, scale, name in zip((2, 3), op.scales(), ("rows", "cols"), strict=True):
            first, second, weight = nn.resize_taps(shape[axis], out[axis], scale, mode, corners)
            taps = np.stack([first, second], axis=1) if bilinear else first[:, None]  # nearest: one source
            tables.append((new_constant(rewriter, op, taps.astype(np.int32)), name))
            if bilinear:
                weights = nn.resize_weights_q10(weight) if ints else weight.astype(np.float32)
                tables.append((new_constant(rewriter, op, weights), f"{name[:-1]}_weights"))
        replace_with_layer(rewriter, op, [(op.input, "in"), *tables],
                           lambda k: build_upsample(k, shape, out[2:], bilinear, ints))


@dataclass(frozen=True)
class LowerNnResize(ModulePass):
    """Lower nn.pad and nn.upsample to copy loops."""

    name = "lower-nn-resize"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = GreedyRewritePatternApplier([LowerPad(), LowerUpsample()])
        PatternRewriteWalker(patterns, apply_recursively=False).rewrite_module(op)
