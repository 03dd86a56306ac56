"""lower-qnn-pool: int8 max / average / adaptive average pooling -> integer window loops.

The nest is lower-nn-pool's (batch, channel, one nest per region of the output plane, window rows, window
columns), and so are the regions: outputs whose windows see the same valid taps share a nest, so padding is
skipped by constant loop bounds, never tested. In integers:
- max: the larger of each valid tap (`cmpi sgt` + `select`), starting from the window's first valid tap;
- average (CMSIS-NN `arm_avgpool_s8`): the i32 sum of the valid taps, plus with `count_include_pad` the padded
  taps as the input zero point (a compile-time constant per region), divided by the region's count with
  rounding half away from zero: `(sum > 0 ? sum + count/2 : sum - count/2) / count`, C division (SDIV on the
  M4, or a multiply by LLVM's magic constant);
- adaptive average: PyTorch's windows, as runs of equal windows (lower-nn-pool's `adaptive_axis`).
Then the fused activation clamp and an int8 store.

The DSP extension (docs/design.md §4) works on four int8 lanes per word (passes/_lanes.py), in kernel variants
(passes/_variants.py; `--tune` measures them, the default is the first listed):
- max pool `simd2` / `simd4`: in a region whose columns allow it, groups of output columns take their windows a
  word at a time and keep the maximum per byte (SSUB8 + SEL, `arm_dsp.smax8`) over the window rows. Stride 1:
  one word per tap holds that tap of 4 consecutive outputs. Stride 2 with 2 taps (the 2x2/2 pool): a word holds
  both taps of 2 outputs, whose maxima come from the word against itself shifted by a byte; `simd2` reads one
  word per row for 2 outputs, `simd4` two for 4. The fused clamp works on the lanes; the remaining columns and
  the padded regions take the scalar loop;
- average pool `simd`: each window row (all rows at once when the window spans whole rows, as global pooling
  does) summed a word at a time into two int16-lane accumulators (SXTAB16 of bytes 0/2 and 1/3; at most 255
  words per lane), its last bytes one by one, the lanes folded with SMLAD by 0x00010001;
- `scalar`: the byte loops above, always available.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import ModuleOp
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
from t2m.passes._int8 import Ints
from t2m.passes._lanes import ONES16, clamp_lanes, load_word, smax8, smlad, store_lane, sxtab16
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of
from t2m.passes._variants import chosen, register
from t2m.passes.lower_nn_pool import Run, adaptive_axis, window_axis

SCALAR, SIMD2, SIMD4, SIMD = "scalar", "simd2", "simd4", "simd"
"""Kernel variants (passes/_variants.py): byte-at-a-time loops; max pool 2 or 4 outputs per group of words;
average pool window rows summed by words."""


@dataclass(frozen=True)
class Average:
    """How an average pool divides: by the window's size with padded taps counted as `zp`, or by the valid taps."""

    include_pad: bool = False
    window: int = 0
    zp: int = 0
    divisor: int | None = None  # divisor_override: (sum - taps * zp) / divisor + zp


def rounding_divide(q: Ints, total: SSAValue, count: int) -> SSAValue:
    """total / count rounded half away from zero (`arm_avgpool_s8`), count a compile-time constant."""
    if count == 1:
        return total
    half = count // 2
    adjusted = q.select(q.cmp("sgt", total, 0), q.add(total, half), q.sub(total, half))
    return q.k.emit(arith.DivSIOp(adjusted, q.const(count)))


def build_pool(k: Kernel, shape: Sequence[int], rows: list[Run], cols: list[Run], average: Average | None,
               op: qnn.Int8Activation, variant: str = SCALAR) -> None:
    """average None: max pool. `variant` (see `pool_variants`) picks the SIMD kernels where a region allows."""
    q = Ints(k)
    x, out = k.args
    n, c, h, w = shape
    lo, hi = op.activation_range()
    flat = k.view(x, [n, c, h * w]) if average is not None and variant != SCALAR else x  # windows as byte runs

    def channel(ivs: list[Ix]) -> None:
        b, ch = ivs
        for r in rows:
            for col in cols:
                o0 = col.o0
                if average is None and variant != SCALAR:
                    o0 = max_lanes(q, x, out, b, ch, r, col, variant, lo, hi)
                scalar = Run(o0, col.o1, col.stride, col.offset, col.dilation, col.t0, col.t1)
                words = average is not None and variant != SCALAR and window_words(r, scalar, w) is not None

                def pixel(ivs: list[Ix], r: Run = r, col: Run = scalar, words: bool = words) -> None:
                    oh, ow = ivs
                    taps = (r.t1 - r.t0) * (col.t1 - col.t0)

                    def load(th: Ix, tw: Ix) -> SSAValue:
                        return q.load(x, [b, ch, oh * r.stride + th * r.dilation + r.offset,
                                          ow * col.stride + tw * col.dilation + col.offset])

                    def tap(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
                        v = load(*ivs)
                        return (q.max(acc[0], v) if average is None else q.add(acc[0], v),)

                    if words:
                        acc = window_sum(q, flat, b, ch, oh, ow, r, col, w)
                    elif average is None and taps:  # from the first tap: one compare fewer
                        first = load(Ix(const=r.t0), Ix(const=col.t0))
                        (acc,) = k.reduce([(r.t0, r.t0 + 1, "kh"), (col.t0 + 1, col.t1, "kw")], [first], tap)
                        (acc,) = k.reduce([(r.t0 + 1, r.t1, "kh"), (col.t0, col.t1, "kw")], [acc], tap)
                    else:  # no valid tap: the reference's max of nothing is below int8 (saturates to act_min)
                        init = q.const(qnn.I8_MIN - 1 if average is None else 0)
                        (acc,) = k.reduce([(r.t0, r.t1, "kh"), (col.t0, col.t1, "kw")], [init], tap)
                    if average is not None and average.divisor is not None:
                        acc = q.sub(acc, taps * average.zp)
                        acc = q.add(rounding_divide(q, acc, average.divisor), average.zp)
                        q.store_i8(acc, out, [b, ch, oh, ow], lo, hi)
                        return
                    if average is not None:
                        if average.include_pad:
                            acc = q.add(acc, (average.window - taps) * average.zp)
                            acc = rounding_divide(q, acc, average.window)
                        else:
                            acc = rounding_divide(q, acc, max(taps, 1))
                    q.store_i8(acc, out, [b, ch, oh, ow], lo, hi, in_range=taps > 0)

                k.nest([(r.o0, r.o1, "oh"), (scalar.o0, scalar.o1, "ow")], pixel)

    k.nest([(0, n, "n"), (0, c, "c")], channel)


# -- max pool: four int8 lanes per word (SSUB8 + SEL) ------------------------------------------------------------


def lane_group(col: Run, variant: str) -> int:
    """Outputs per SIMD group of a run of output columns (0: the run stays scalar).

    Stride 1: one word per tap holds the tap of 4 consecutive outputs (SIMD4). Stride 2 with 2 taps (the 2x2/2
    pool): one word holds both taps of 2 outputs; SIMD2 reads one word per window row for 2 outputs, SIMD4 two
    words for 4 outputs."""
    taps = col.t1 - col.t0
    if taps == 0 or col.dilation != 1:
        return 0
    if col.stride == 1 and variant == SIMD4:
        group = 4
    elif col.stride == 2 and taps == 2 and variant in (SIMD2, SIMD4):
        group = 2 if variant == SIMD2 else 4
    else:
        return 0
    return group if col.o1 - col.o0 >= group else 0


def max_lanes(q: Ints, x: SSAValue, out: SSAValue, b: Ix, ch: Ix, r: Run, col: Run, variant: str, lo: int,
              hi: int) -> int:
    """The SIMD part of one region of a max pool: whole groups of output columns, each a few words reduced by
    per-byte maxima over the window rows (and, stride 1, the taps). Returns the first output column left to the
    scalar loop."""
    group = lane_group(col, variant)
    if group == 0 or r.t1 == r.t0:
        return col.o0
    end = col.o0 + (col.o1 - col.o0) // group * group
    k = q.k
    pairs = col.stride == 2  # each word: both taps of two outputs

    def words(oh: Ix, ow: Ix, th: Ix, tw: Ix) -> list[SSAValue]:
        row = oh * r.stride + th + r.offset
        start = ow * col.stride + tw + col.offset
        return [load_word(q, x, [b, ch, row, start + 4 * i]) for i in range(group // 2 if pairs else 1)]

    def step(oh: Ix, ow: Ix) -> Callable[[list[Ix], tuple[SSAValue, ...]], tuple[SSAValue, ...]]:
        def tap(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            return tuple(smax8(q, a, v) for a, v in zip(acc, words(oh, ow, *ivs), strict=True))

        return tap

    def pixels(ivs: list[Ix]) -> None:
        oh, ow = ivs
        t1 = col.t0 + 1 if pairs else col.t1
        first = words(oh, ow, Ix(const=r.t0), Ix(const=col.t0))
        acc = k.reduce([(r.t0, r.t0 + 1, "kh"), (col.t0 + 1, t1, "kw")], first, step(oh, ow))
        acc = k.reduce([(r.t0 + 1, r.t1, "kh"), (col.t0, t1, "kw")], acc, step(oh, ow))
        for i, word in enumerate(acc):
            if pairs:  # bytes 0/1 and 2/3 are one output's two taps: the max of each pair lands in bytes 0 and 2
                word = smax8(q, word, k.emit(arith.ShRUIOp(word, q.const(8))))
            word = clamp_lanes(q, word, lo, hi)
            for lane in (0, 2) if pairs else range(4):
                store_lane(q, word, lane, out, [b, ch, oh, ow + (2 * i + lane // 2 if pairs else lane)])

    k.nest([(r.o0, r.o1, "oh"), (col.o0, end, "ow", group)], pixels)
    return end


# -- average pool: window rows summed a word at a time (SXTAB16) -------------------------------------------------

MAX_LANE_WORDS = 255
"""Words an int16 lane may accumulate: 255 sign-extended int8 values stay within int16."""


def window_words(r: Run, col: Run, width: int) -> tuple[int, bool] | None:
    """How a window's taps are summed by words: (bytes per contiguous segment, whether the window rows merge into
    one segment, as they do when the taps span whole rows), or None when words do not pay (segments shorter than
    a word, dilation) or would overflow the int16 lanes."""
    taps = col.t1 - col.t0
    if col.dilation != 1 or r.dilation != 1 or r.t1 == r.t0:
        return None
    merged = taps == width
    segment = taps * (r.t1 - r.t0) if merged else taps
    if segment < 4 or segment // 4 * (1 if merged else r.t1 - r.t0) > MAX_LANE_WORDS:
        return None
    return segment, merged


def window_sum(q: Ints, flat: SSAValue, b: Ix, ch: Ix, oh: Ix, ow: Ix, r: Run, col: Run, width: int) -> SSAValue:
    """The i32 sum of one window's valid taps: each segment's words added into two int16-lane accumulators
    (bytes 0/2 and 1/3, one SXTAB16 each), its last bytes one by one, the lanes folded at the end (SMLAD by 1)."""
    shape = window_words(r, col, width)
    assert shape is not None
    segment, merged = shape
    k = q.k
    words = segment // 4
    zero = q.const(0)

    def row_sum(th: Ix, accs: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
        start = (oh * r.stride + th + r.offset) * width + ow * col.stride + col.t0 + col.offset

        def word(ivs: list[Ix], lanes: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            v = load_word(q, flat, [b, ch, start + ivs[0] * 4])
            return sxtab16(q, lanes[0], v), sxtab16(q, lanes[1], v, rotate=8)

        even, odd, total = accs
        even, odd = k.reduce([(0, words, "kw")], [even, odd], word)
        for j in range(4 * words, segment):
            total = q.add(total, q.load(flat, [b, ch, start + j]))
        return even, odd, total

    rows = [(r.t0, r.t0 + 1, "kh")] if merged else [(r.t0, r.t1, "kh")]
    even, odd, total = k.reduce(rows, [zero, zero, zero], lambda ivs, accs: row_sum(ivs[0], accs))
    ones = q.const(ONES16)
    return smlad(q, odd, ones, smlad(q, even, ones, total))


# -- variants -----------------------------------------------------------------------------------------------------

def pool_variants(op: Operation) -> list[str]:
    """The kernels a pool can take, the default first: max pools SIMD2 (stride 2, measured the faster on the
    2x2/2 anchor) or SIMD4 where a column run allows it,
    average pools SIMD (window rows by words) where segments are a word or longer; always the scalar loops."""
    assert isinstance(op, qnn.Pool2dOp | qnn.AdaptiveAvgPool2dOp)
    rows, cols = _runs(op)
    _, _, _, width = shape_of(op.input)
    if isinstance(op, qnn.MaxPool2dOp):
        found = [v for v in (SIMD2, SIMD4) if any(lane_group(col, v) and r.t1 > r.t0 for r in rows for col in cols)]
        return [*found, SCALAR] if found else []
    if any(window_words(r, col, width) is not None for r in rows for col in cols):
        return [SIMD, SCALAR]
    return []


def _variant(op: Operation) -> str:
    """The variant pinned on the op (checked against what it can take), else the default."""
    options = pool_variants(op)
    pinned = chosen(op)
    if pinned is None:
        return options[0] if options else SCALAR
    if pinned not in options:
        raise PassFailedException(
            f"'{op.name}' has no kernel variant '{pinned}'; it takes {', '.join(options) or 'none'}"
        )
    return pinned


for _name in ("qnn.max_pool2d", "qnn.avg_pool2d", "qnn.adaptive_avg_pool2d"):
    register(_name, pool_variants)


def _runs(op: Operation) -> tuple[list[Run], list[Run]]:
    if isinstance(op, qnn.AdaptiveAvgPool2dOp):
        shape = shape_of(op.input)
        _, _, oh, ow = shape_of(op.output)
        return adaptive_axis(shape[2], oh), adaptive_axis(shape[3], ow)
    assert isinstance(op, qnn.Pool2dOp)
    return _window_op(op)


def _window_op(op: qnn.Pool2dOp) -> tuple[list[Run], list[Run]]:
    kernel, stride, padding = op.window()
    _, _, h, w = shape_of(op.input)
    _, _, oh, ow = shape_of(op.output)
    return (window_axis(h, kernel[0], stride[0], padding[0], 1, oh),
            window_axis(w, kernel[1], stride[1], padding[1], 1, ow))


class LowerMaxPool(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.MaxPool2dOp, rewriter: PatternRewriter) -> None:
        rows, cols = _window_op(op)
        shape, variant = shape_of(op.input), _variant(op)
        replace_with_layer(rewriter, op, [(op.input, "in")],
                           lambda k: build_pool(k, shape, rows, cols, None, op, variant))


class LowerAvgPool(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.AvgPool2dOp, rewriter: PatternRewriter) -> None:
        rows, cols = _window_op(op)
        kernel = op.window()[0]
        average = Average(bool(op.count_include_pad.value.data), kernel[0] * kernel[1], op.input_zp.value.data,
                          op.divisor())
        shape, variant = shape_of(op.input), _variant(op)
        replace_with_layer(rewriter, op, [(op.input, "in")],
                           lambda k: build_pool(k, shape, rows, cols, average, op, variant))


class LowerAdaptiveAvgPool(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.AdaptiveAvgPool2dOp, rewriter: PatternRewriter) -> None:
        shape, variant = shape_of(op.input), _variant(op)
        rows, cols = _runs(op)
        replace_with_layer(rewriter, op, [(op.input, "in")],
                           lambda k: build_pool(k, shape, rows, cols, Average(), op, variant))


@dataclass(frozen=True)
class LowerQnnPool(ModulePass):
    """Lower qnn.max_pool2d, qnn.avg_pool2d and qnn.adaptive_avg_pool2d to integer window loops."""

    name = "lower-qnn-pool"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = GreedyRewritePatternApplier([LowerMaxPool(), LowerAvgPool(), LowerAdaptiveAvgPool()])
        PatternRewriteWalker(patterns, apply_recursively=False).rewrite_module(op)
