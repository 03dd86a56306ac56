"""lower-nn-pool: max / average / adaptive average pooling -> layer functions of window loops.

All three share one nest: batch, channel, then one nest per region of the output plane, window rows, window
columns. As for conv2d, a region is a run of outputs whose windows see the same valid taps, so padding is
skipped by the constant loop bounds, never tested: max pool starts from the window's first valid tap (padding
is PyTorch's -inf, which never wins) and propagates NaN as PyTorch does (`Kernel.max`); average pool multiplies
the sum by the region's 1/divisor (count_include_pad: kernel area; else the valid taps).
Adaptive pooling's windows [floor(i*H/O), ceil((i+1)*H/O)) are runs too: equal-size windows with a constant
step share a loop (all of them when O divides H; global pooling is one window).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
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

from t2m.dialects import nn
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of, window_runs


@dataclass(frozen=True)
class Run:
    """Outputs o in [o0, o1) read input coordinates o * stride + offset + t * dilation for taps t in [t0, t1)."""

    o0: int
    o1: int
    stride: int
    offset: int
    dilation: int
    t0: int
    t1: int


def window_axis(size: int, kernel: int, stride: int, pad: int, dilation: int, out: int) -> list[Run]:
    return [Run(o0, o1, stride, -pad, dilation, k0, k1)
            for o0, o1, k0, k1 in window_runs(size, kernel, stride, pad, dilation, out)]


def adaptive_axis(size: int, out: int) -> list[Run]:
    """Greedy runs of PyTorch's adaptive windows: same size, constant step."""
    cells = [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]
    runs: list[Run] = []
    for i, (start, end) in enumerate(cells):
        last = runs[-1] if runs else None
        if last is not None and last.o1 == i and last.t1 == end - start:
            step = start - cells[i - 1][0]
            if last.o1 - last.o0 == 1 or step == last.stride:
                runs[-1] = Run(last.o0, i + 1, step, cells[last.o0][0] - last.o0 * step, 1, 0, last.t1)
                continue
        runs.append(Run(i, i + 1, 0, start, 1, 0, end - start))
    return runs


def build_pool(k: Kernel, shape: Sequence[int], rows: list[Run], cols: list[Run], kind: str,
               divisor: int | None, op: Operation) -> None:
    """kind "max" or "avg"; divisor None means the number of valid taps of each region."""
    x, out = k.args
    n, c = shape[0], shape[1]

    def channel(ivs: list[Ix]) -> None:
        b, ch = ivs
        for r in rows:
            for q in cols:

                def pixel(ivs: list[Ix], r: Run = r, q: Run = q) -> None:
                    oh, ow = ivs

                    def load(th: Ix, tw: Ix) -> SSAValue:
                        return k.load(x, [b, ch, oh * r.stride + th * r.dilation + r.offset,
                                          ow * q.stride + tw * q.dilation + q.offset])

                    def tap(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
                        v = load(*ivs)
                        return (k.max(acc[0], v) if kind == "max" else k.addf(acc[0], v),)

                    if kind == "max" and r.t1 > r.t0 and q.t1 > q.t0:  # from the first tap: one max fewer
                        first = load(Ix(const=r.t0), Ix(const=q.t0))
                        (acc,) = k.reduce([(r.t0, r.t0 + 1, "kh"), (q.t0 + 1, q.t1, "kw")], [first], tap)
                        (acc,) = k.reduce([(r.t0 + 1, r.t1, "kh"), (q.t0, q.t1, "kw")], [acc], tap)
                    else:
                        init = k.f32(float("-inf") if kind == "max" else 0.0)
                        (acc,) = k.reduce([(r.t0, r.t1, "kh"), (q.t0, q.t1, "kw")], [init], tap)
                    if kind == "avg":
                        count = divisor or max(1, (r.t1 - r.t0) * (q.t1 - q.t0))
                        acc = k.mulf(acc, k.f32(1.0 / count))
                    k.store(k.activation(acc, op), out, [b, ch, oh, ow])

                k.nest([(r.o0, r.o1, "oh"), (q.o0, q.o1, "ow")], pixel)

    k.nest([(0, n, "n"), (0, c, "c")], channel)


def _window_op(op: nn.MaxPool2dOp | nn.AvgPool2dOp) -> tuple[list[Run], list[Run]]:
    kernel, stride, padding, dilation = op.window()
    _, _, h, w = shape_of(op.input)
    _, _, oh, ow = shape_of(op.output)
    return (window_axis(h, kernel[0], stride[0], padding[0], dilation[0], oh),
            window_axis(w, kernel[1], stride[1], padding[1], dilation[1], ow))


class LowerMaxPool(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MaxPool2dOp, rewriter: PatternRewriter) -> None:
        rows, cols = _window_op(op)
        shape = shape_of(op.input)
        replace_with_layer(rewriter, op, [(op.input, "in")],
                           lambda k: build_pool(k, shape, rows, cols, "max", None, op))


class LowerAvgPool(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.AvgPool2dOp, rewriter: PatternRewriter) -> None:
        rows, cols = _window_op(op)
        divisor = op.divisor()
        shape = shape_of(op.input)
        replace_with_layer(rewriter, op, [(op.input, "in")],
                           lambda k: build_pool(k, shape, rows, cols, "avg", divisor, op))


class LowerAdaptiveAvgPool(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.AdaptiveAvgPool2dOp, rewriter: PatternRewriter) -> None:
        shape = shape_of(op.input)
        _, _, oh, ow = shape_of(op.output)
        rows, cols = adaptive_axis(shape[2], oh), adaptive_axis(shape[3], ow)
        replace_with_layer(rewriter, op, [(op.input, "in")],
                           lambda k: build_pool(k, shape, rows, cols, "avg", None, op))


@dataclass(frozen=True)
class LowerNnPool(ModulePass):
    """Lower nn.max_pool2d, nn.avg_pool2d and nn.adaptive_avg_pool2d to window loops."""

    name = "lower-nn-pool"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = GreedyRewritePatternApplier([LowerMaxPool(), LowerAvgPool(), LowerAdaptiveAvgPool()])
        PatternRewriteWalker(patterns, apply_recursively=False).rewrite_module(op)
