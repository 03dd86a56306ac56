"""lower-nn-conv: `nn.conv2d` (plain, grouped, depthwise) -> a layer function holding an explicit loop nest.

Loop order: batch, group, block of output channels, then one nest per *region* of the output plane (rows,
block of output columns), then input channels of the group, kernel rows, kernel columns. Regions come from
`window_runs`: output rows (and columns) whose windows see the same range of valid kernel taps share a nest
whose kernel loops have exactly that range as constant bounds. The interior (all taps inside the input) has
the full kernel and no bounds test; border regions skip the padding taps instead of testing them.

Register blocking (docs/design.md §8): each innermost step computes `ob` output channels x `pb` neighbouring output
columns, so one input load feeds `ob` MACs and one weight load `pb`. The ob * pb accumulators start at the bias,
live in `iter_args` (registers after LLVM) and are stored once, through the fused activation. With `unroll`
the kernel-column loop is unrolled and input loads shared between taps (a 3-wide kernel over 4 pixels loads 6
inputs, not 12) — what makes depthwise convolutions fast, as they have no input reuse across channels.
Remainders (channels % ob, columns % pb) get smaller blocks. The MAC is `mulf` + `addf`: VMUL + VADD (2
cycles) beats VFMA (3) on the M4. `{block=false}` gives the plain one-output-at-a-time nest.
"""

from __future__ import annotations

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

from t2m.dialects import nn
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of, window_runs


@dataclass(frozen=True)
class ConvGeometry:
    """Compile-time shape of one convolution."""

    n: int
    c: int
    h: int
    w: int
    oc: int
    icg: int
    kh: int
    kw: int
    oh: int
    ow: int
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int

    @staticmethod
    def of(op: nn.Conv2dOp) -> ConvGeometry:
        n, c, h, w = shape_of(op.input)
        oc, icg, kh, kw = shape_of(op.weight)
        _, _, oh, ow = shape_of(op.output)
        stride, padding, dilation = op.geometry()
        return ConvGeometry(n, c, h, w, oc, icg, kh, kw, oh, ow, stride, padding, dilation, op.groups.value.data)

    @property
    def ocg(self) -> int:
        return self.oc // self.groups

    @property
    def macs(self) -> int:
        return self.n * self.oc * self.oh * self.ow * self.icg * self.kh * self.kw


@dataclass(frozen=True)
class Blocking:
    """Register block: ob output channels x rb output rows x pb output columns per innermost step.

    unroll: 1 unrolls the kernel columns, 2 the whole kernel window (with one input channel per group, as in
    depthwise, the window's weights are then loaded once per channel, outside the pixel loops).
    """

    ob: int = 1
    rb: int = 1
    pb: int = 1
    unroll: int = 0


def choose_blocking(g: ConvGeometry) -> Blocking:
    """Register blocks that fit the M4's 32 single-precision registers (accumulators + operands)."""
    if g.icg == 1 and g.ocg == 1:  # depthwise: no reuse across channels; share inputs between taps
        return Blocking(1, 2, 4, 2) if g.kh * g.kw <= 9 else Blocking(1, 1, 4, 1)
    return Blocking(4, 1, 5, 0)


def _blocks(lo: int, hi: int, size: int) -> list[tuple[int, int, int]]:
    """[(start, end, block)]: full blocks of `size` over [lo, hi), then one block of the remainder."""
    full = lo + (hi - lo) - (hi - lo) % size
    return [(s, e, b) for s, e, b in ((lo, full, size), (full, hi, hi - full)) if e > s]


def _key(i: Ix) -> tuple[object, ...]:
    return tuple((id(v), c) for v, c in i.terms), i.const


def build_conv(k: Kernel, g: ConvGeometry, op: nn.Conv2dOp, blocking: Blocking) -> None:
    x, w, *rest = k.args
    bias, out = (rest[0], rest[1]) if op.bias is not None else (None, rest[0])
    (sh, sw), (dh, dw) = g.stride, g.dilation
    top, left = g.padding[0], g.padding[1]
    rows = window_runs(g.h, g.kh, sh, top, dh, g.oh)
    cols = window_runs(g.w, g.kw, sw, left, dw, g.ow)

    def channels(n: Ix, grp: Ix, o0: Ix, nb: int) -> None:
        ocs = [grp * g.ocg + o0 + j for j in range(nb)]
        inits = [k.load(bias, [oc]) if bias is not None else k.f32(0.0) for oc in ocs]
        hoisted: dict[tuple[int, int, int], SSAValue] = {}
        if blocking.unroll == 2 and g.icg == 1:
            hoisted = {(j, a, b): k.load(w, [oc, 0, a, b]) for j, oc in enumerate(ocs)
                       for a in range(g.kh) for b in range(g.kw)}

        def weight(j: int, icg: Ix, kh: Ix, kw: Ix) -> SSAValue:
            if icg.is_const and kh.is_const and kw.is_const and (j, kh.const, kw.const) in hoisted:
                return hoisted[(j, kh.const, kw.const)]
            return k.load(w, [ocs[j], icg, kh, kw])

        def block(oh0: Ix, ow0: Ix, nr: int, nc: int, khs: tuple[int, int], kws: tuple[int, int]) -> None:
            pixels = [(r, c) for r in range(nr) for c in range(nc)]

            def mac(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> list[SSAValue]:
                icg, *loop = ivs
                kh_taps = [loop.pop(0)] if blocking.unroll < 2 else [Ix(const=t) for t in range(*khs)]
                kw_taps = [loop.pop(0)] if blocking.unroll < 1 else [Ix(const=t) for t in range(*kws)]
                ic = grp * g.icg + icg
                inputs: dict[object, SSAValue] = {}
                products: list[tuple[int, SSAValue, SSAValue]] = []
                for kh in kh_taps:
                    for kw in kw_taps:
                        ws = [weight(j, icg, kh, kw) for j in range(nb)]
                        for p, (r, c) in enumerate(pixels):
                            row = (oh0 + r) * sh + kh * dh - top
                            col = (ow0 + c) * sw + kw * dw - left
                            key = _key(row), _key(col)
                            if key not in inputs:  # taps of neighbouring pixels share inputs
                                inputs[key] = k.load(x, [n, ic, row, col])
                            products += [(j * len(pixels) + p, inputs[key], ws[j]) for j in range(nb)]
                new = list(acc)
                for i, xv, wv in products:
                    new[i] = k.addf(new[i], k.mulf(xv, wv))
                return new

            loops: list[tuple[int, int, str]] = [(0, g.icg, "ic")]
            if blocking.unroll < 2:
                loops.append((*khs, "kh"))
            if blocking.unroll < 1:
                loops.append((*kws, "kw"))
            acc = k.reduce(loops, [v for v in inits for _ in pixels], mac)
            for j, oc in enumerate(ocs):
                for p, (r, c) in enumerate(pixels):
                    k.store(k.activation(acc[j * len(pixels) + p], op), out, [n, oc, oh0 + r, ow0 + c])

        for r0, r1, kh0, kh1 in rows:
            for c0, c1, kw0, kw1 in cols:
                for a0, a1, nr in _blocks(r0, r1, blocking.rb):
                    for b0, b1, nc in _blocks(c0, c1, blocking.pb):
                        k.nest([(a0, a1, "oh", nr), (b0, b1, "ow", nc)],
                               lambda ivs, nr=nr, nc=nc, khs=(kh0, kh1), kws=(kw0, kw1):
                               block(ivs[0], ivs[1], nr, nc, khs, kws))

    for o0, o1, nb in _blocks(0, g.ocg, blocking.ob):
        k.nest([(0, g.n, "n"), (0, g.groups, "g"), (o0, o1, "oc", nb)],
               lambda ivs, nb=nb: channels(ivs[0], ivs[1], ivs[2], nb))


class LowerConv2d(RewritePattern):
    """nn.conv2d -> call of `@<model>_L<i>_conv2d(%in, %weight[, %bias], %out)`."""

    def __init__(self, blocking: Blocking | None):
        self.blocking = blocking

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.Conv2dOp, rewriter: PatternRewriter) -> None:
        g = ConvGeometry.of(op)
        blocking = self.blocking or choose_blocking(g)
        operands = [(op.input, "in"), (op.weight, "weight")]
        if op.bias is not None:
            operands.append((op.bias, "bias"))
        replace_with_layer(rewriter, op, operands, lambda k: build_conv(k, g, op, blocking), g.macs)


@dataclass(frozen=True)
class LowerNnConv(ModulePass):
    """Lower every nn.conv2d to a loop nest in its own layer function.

    Options: block=false for the plain nest; ob/rb/pb/unroll force one blocking for every conv (all 0: chosen
    per layer by `choose_blocking`).
    """

    name = "lower-nn-conv"

    block: bool = True
    ob: int = 0
    rb: int = 0
    pb: int = 0
    unroll: int = 0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        blocking = None
        if not self.block:
            blocking = Blocking()
        elif self.ob or self.rb or self.pb or self.unroll:
            blocking = Blocking(self.ob or 1, self.rb or 1, self.pb or 1, self.unroll)
        PatternRewriteWalker(LowerConv2d(blocking), apply_recursively=False).rewrite_module(op)
