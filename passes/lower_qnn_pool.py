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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from t2m.dialects import qnn
from t2m.passes._int8 import Ints
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of
from t2m.passes.lower_nn_pool import Run, adaptive_axis, window_axis


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
               op: qnn.Int8Activation) -> None:
    """average None: max pool."""
    q = Ints(k)
    x, out = k.args
    n, c = shape[0], shape[1]
    lo, hi = op.activation_range()

    def channel(ivs: list[Ix]) -> None:
        b, ch = ivs
        for r in rows:
            for col in cols:

                def pixel(ivs: list[Ix], r: Run = r, col: Run = col) -> None:
                    oh, ow = ivs
                    taps = (r.t1 - r.t0) * (col.t1 - col.t0)

                    def load(th: Ix, tw: Ix) -> SSAValue:
                        return q.load(x, [b, ch, oh * r.stride + th * r.dilation + r.offset,
                                          ow * col.stride + tw * col.dilation + col.offset])

                    def tap(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
                        v = load(*ivs)
                        return (q.max(acc[0], v) if average is None else q.add(acc[0], v),)

                    if average is None and taps:  # from the first tap: one compare fewer
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

                k.nest([(r.o0, r.o1, "oh"), (col.o0, col.o1, "ow")], pixel)

    k.nest([(0, n, "n"), (0, c, "c")], channel)


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
        shape = shape_of(op.input)
        replace_with_layer(rewriter, op, [(op.input, "in")], lambda k: build_pool(k, shape, rows, cols, None, op))


class LowerAvgPool(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.AvgPool2dOp, rewriter: PatternRewriter) -> None:
        rows, cols = _window_op(op)
        kernel = op.window()[0]
        average = Average(bool(op.count_include_pad.value.data), kernel[0] * kernel[1], op.input_zp.value.data,
                          op.divisor())
        shape = shape_of(op.input)
        replace_with_layer(rewriter, op, [(op.input, "in")], lambda k: build_pool(k, shape, rows, cols, average, op))


class LowerAdaptiveAvgPool(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.AdaptiveAvgPool2dOp, rewriter: PatternRewriter) -> None:
        shape = shape_of(op.input)
        _, _, oh, ow = shape_of(op.output)
        rows, cols = adaptive_axis(shape[2], oh), adaptive_axis(shape[3], ow)
        replace_with_layer(rewriter, op, [(op.input, "in")],
                           lambda k: build_pool(k, shape, rows, cols, Average(), op))


@dataclass(frozen=True)
class LowerQnnPool(ModulePass):
    """Lower qnn.max_pool2d, qnn.avg_pool2d and qnn.adaptive_avg_pool2d to integer window loops."""

    name = "lower-qnn-pool"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = GreedyRewritePatternApplier([LowerMaxPool(), LowerAvgPool(), LowerAdaptiveAvgPool()])
        PatternRewriteWalker(patterns, apply_recursively=False).rewrite_module(op)
