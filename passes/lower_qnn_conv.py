"""lower-qnn-conv: `qnn.conv2d` (plain, grouped, depthwise, 1x1) -> a layer function of integer loop nests.

Kernel variants (`passes/_variants.py`: the default first, `t2m.variant` on the op pins another, the tuner picks
by measurement):
- with constant weights, the SMLAD kernels of the DSP extension (two 16x16 MACs per instruction): general and
  1x1 convs as packed int16-pair columns + a register-blocked matrix multiply (passes/_dsp_conv.py, default
  2 output channels x 3 pixels, tap pairs fully unrolled up to 36), depthwise as row pairs packed in registers
  with per-border-class start tables (passes/_dsp_depthwise.py, default a whole row of up to 6 pixels or 4);
  weights re-packed at compile time into the words the inner loop reads (int16 pairs; `-w8`: int8 words in
  SXTB16 order, half the flash);
- `scalar`: the loop nests below (weights not known at compile time, or pinned), LDRSB + SMLABB/MLA.

The scalar loop structure is lower-nn-conv's: batch, group, block of output channels, then one nest per *region*
of the output plane (`window_runs`: outputs whose windows see the same valid taps), input channels, kernel rows,
kernel columns. The interior has the full window and no bounds test; border regions skip the padding taps by
their constant loop bounds.

The input zero point costs nothing per MAC: `bias + sum((x - zp) * w)` over the valid taps is
`(bias - zp * sum(w over those taps)) + sum(x * w)`. The full window's `bias - zp * sum(w)` is folded into the
bias at compile time (same size, no extra flash); a border region, whose taps are known at compile time, adds
back `zp * sum(w over the taps it skips)`, summed once per output channel before its pixel loops (a few taps
per region, against every pixel's full window). A padded tap is `zp` in the reference and adds 0, so it is simply
absent. Folding needs constant weights; otherwise the zero point is subtracted after each input load.

The store requantizes (`#qnn.requant`, per channel from a `[out_channels, 2]` table loaded once per channel (the
SMLAD kernels: `[out_channels, 3]` with the fast form's shift and nudge when it applies, `requant_table`),
or constants per tensor), adds the output zero point, clamps to the fused activation range and stores int8. An
unfused conv (no `requant`) stores its i32 accumulators.

Scalar register blocks (docs/design.md §8, compiler/anchors/attainable-m4.md): 2 output channels x 3 pixels for
plain and 1x1 convs, 1 channel x 4 pixels with the kernel columns unrolled for depthwise; the pass options
ob/pb/unroll/rb force one scalar blocking for every conv.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import PassFailedException

from t2m.dialects import qnn
from t2m.passes._dsp_conv import build_gemm_conv, packed_conv_weights
from t2m.passes._dsp_depthwise import DEPTHWISE, Depthwise, build_depthwise, packed_depthwise_weights, start_table
from t2m.passes._dsp_kernels import Gemm
from t2m.passes._int8 import Ints, Requant, accumulator_bound, folded_bias, requant_params, requant_table
from t2m.passes._loops import Ix, Kernel, constant_array, new_constant, replace_with_layer, shape_of, window_runs
from t2m.passes._variants import chosen, pin, register
from t2m.passes.lower_nn_conv import ConvGeometry, _blocks, _key


@dataclass(frozen=True)
class Blocking:
    """ob output channels x rb output rows x pb output columns per innermost step; unroll 1 unrolls the kernel
    columns, 2 the whole window (with one input channel per group, as in depthwise, the window's weights are then
    loaded once per channel, outside the pixel loops)."""

    ob: int = 1
    pb: int = 1
    unroll: int = 0
    rb: int = 1


def geometry(op: qnn.Conv2dOp) -> ConvGeometry:
    n, c, h, w = shape_of(op.input)
    oc, icg, kh, kw = shape_of(op.weight)
    _, _, oh, ow = shape_of(op.output)
    stride, padding, dilation = op.geometry()
    return ConvGeometry(n, c, h, w, oc, icg, kh, kw, oh, ow, stride, padding, dilation, op.groups.value.data)


def choose_blocking(g: ConvGeometry) -> Blocking:
    """Measured on the zoo's layers (estimated cycles): 2 x 3 beats 2 x 2, 4 x 1 and 2 x 4 (spills) for plain and
    pointwise convs; depthwise prefers 4 pixels with the kernel columns unrolled."""
    if g.icg == 1 and g.ocg == 1:  # depthwise: no reuse across channels; share inputs between taps
        return Blocking(1, 4, 1)
    return Blocking(2, 3, 0)


def missing_taps(g: ConvGeometry, khs: tuple[int, int], kws: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """The kernel taps a border region skips, as rectangles (kh0, kh1, kw0, kw1): rows above and below the valid
    range, then the columns left and right of it within the valid rows. A window entirely in the padding has an
    empty range that `window_runs` may place beyond the kernel ((2, 2) for a kernel 1 wide): clamped to it."""
    khs = (min(khs[0], g.kh), min(khs[1], g.kh))
    kws = (min(kws[0], g.kw), min(kws[1], g.kw))
    rects = [(0, khs[0], 0, g.kw), (khs[1], g.kh, 0, g.kw), (*khs, 0, kws[0]), (*khs, kws[1], g.kw)]
    return [r for r in rects if r[0] < r[1] and r[2] < r[3]]


def build_conv(k: Kernel, g: ConvGeometry, op: qnn.Conv2dOp, blocking: Blocking, tables: tuple[bool, bool],
               bound: int | None) -> None:
    """tables: (the bias operand has the zero point folded in, a requant table follows); bound: of the
    accumulators' magnitude, when known (`accumulator_bound`), for the fast requantization."""
    q = Ints(k)
    folded, has_requant_table = tables
    x, w, *rest = k.args
    bias = rest.pop(0) if folded or op.bias is not None else None
    requant_table = rest.pop(0) if has_requant_table else None
    (out,) = rest
    zp = op.input_zp.value.data
    (sh, sw), (dh, dw) = g.stride, g.dilation
    top, left = g.padding[0], g.padding[1]
    rows = window_runs(g.h, g.kh, sh, top, dh, g.oh)
    cols = window_runs(g.w, g.kw, sw, left, dw, g.ow)
    lo, hi = op.activation_range()

    def channels(n: Ix, grp: Ix, o0: Ix, nb: int) -> None:
        ocs = [grp * g.ocg + o0 + j for j in range(nb)]
        requants = [q.requant_of(requant_table, op.requant, oc, bound) for oc in ocs] if op.requant is not None else []
        full = [q.load(bias, [oc]) for oc in ocs] if bias is not None else [q.const(0)] * nb

        def inits(khs: tuple[int, int], kws: tuple[int, int]) -> list[SSAValue]:
            """The full window's folded bias, plus zp * the weights of the taps this region skips."""
            starts = full
            for kh0, kh1, kw0, kw1 in missing_taps(g, khs, kws) if folded else []:

                def add(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> list[SSAValue]:
                    return [q.add(a, q.load(w, [oc, *ivs])) for a, oc in zip(acc, ocs, strict=True)]

                sums = k.reduce([(0, g.icg, "ic"), (kh0, kh1, "kh"), (kw0, kw1, "kw")], [q.const(0)] * nb, add)
                starts = [q.add(start, q.mul(total, zp)) for start, total in zip(starts, sums, strict=True)]
            return starts

        def store(acc: SSAValue, j: int, idx: list[Ix]) -> None:
            if op.requant is None:
                k.store(acc, out, idx)
                return
            r: Requant = requants[j]
            q.store_i8(q.add(q.requantize(acc, r), op.requant.zero_point), out, idx, lo, hi)

        hoisted: dict[tuple[int, int, int], SSAValue] = {}
        if blocking.unroll == 2 and g.icg == 1:
            hoisted = {(j, a, b): q.load(w, [oc, 0, a, b]) for j, oc in enumerate(ocs)
                       for a in range(g.kh) for b in range(g.kw)}

        def weight(j: int, icg: Ix, kh: Ix, kw: Ix) -> SSAValue:
            if icg.is_const and kh.is_const and kw.is_const and (j, kh.const, kw.const) in hoisted:
                return hoisted[(j, kh.const, kw.const)]
            return q.load(w, [ocs[j], icg, kh, kw])

        def block(oh0: Ix, ow0: Ix, nr: int, nc: int, khs: tuple[int, int], kws: tuple[int, int],
                  starts: list[SSAValue]) -> None:
            pixels = [(r, c) for r in range(nr) for c in range(nc)]

            def mac(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> list[SSAValue]:
                icg, *loop = ivs
                kh_taps = [loop.pop(0)] if blocking.unroll < 2 else [Ix(const=t) for t in range(*khs)]
                kw_taps = [loop.pop(0)] if blocking.unroll < 1 else [Ix(const=t) for t in range(*kws)]
                ic = grp * g.icg + icg
                inputs: dict[object, SSAValue] = {}
                new = list(acc)
                for kh in kh_taps:
                    for kw in kw_taps:
                        ws = [weight(j, icg, kh, kw) for j in range(nb)]
                        for p, (r, c) in enumerate(pixels):
                            row = (oh0 + r) * sh + kh * dh - top
                            col = (ow0 + c) * sw + kw * dw - left
                            key = _key(row), _key(col)
                            if key not in inputs:  # taps of neighbouring pixels share inputs
                                value = q.load(x, [n, ic, row, col])
                                inputs[key] = value if folded else q.sub(value, zp)
                            for j in range(nb):
                                i = j * len(pixels) + p
                                new[i] = q.add(new[i], q.mul(inputs[key], ws[j]))
                return new

            loops: list[tuple[int, int, str]] = [(0, g.icg, "ic")]
            if blocking.unroll < 2:
                loops.append((*khs, "kh"))
            if blocking.unroll < 1:
                loops.append((*kws, "kw"))
            acc = k.reduce(loops, [v for v in starts for _ in pixels], mac)
            for j, oc in enumerate(ocs):
                for p, (r, c) in enumerate(pixels):
                    store(acc[j * len(pixels) + p], j, [n, oc, oh0 + r, ow0 + c])

        for r0, r1, kh0, kh1 in rows:
            for c0, c1, kw0, kw1 in cols:
                starts = inits((kh0, kh1), (kw0, kw1))  # per channel, outside the pixel loops
                for a0, a1, nr in _blocks(r0, r1, blocking.rb):
                    for b0, b1, nc in _blocks(c0, c1, blocking.pb):
                        k.nest([(a0, a1, "oh", nr), (b0, b1, "ow", nc)],
                               lambda ivs, nr=nr, nc=nc, khs=(kh0, kh1), kws=(kw0, kw1), starts=starts:
                               block(ivs[0], ivs[1], nr, nc, khs, kws, starts))

    for o0, o1, nb in _blocks(0, g.ocg, blocking.ob):
        k.nest([(0, g.n, "n"), (0, g.groups, "g"), (o0, o1, "oc", nb)],
               lambda ivs, nb=nb: channels(ivs[0], ivs[1], ivs[2], nb))


def variants(op: Operation) -> list[str]:
    """The kernels a qnn.conv2d can get, the default first: SMLAD register blocks (channels x pixels, tap pairs
    unrolled, int16 or int8 weight words) when the weights are constants, and the scalar kernel."""
    assert isinstance(op, qnn.Conv2dOp)
    g = geometry(op)
    if constant_array(op.weight) is None or (op.bias is not None and constant_array(op.bias) is None):
        return ["scalar"]
    if g.icg == 1 and g.ocg == 1:
        pb = g.ow if g.ow <= 6 else next((b for b in (4, 3, 5) if g.ow % b == 0), 4)
        first = Depthwise(pb, True)
        return [first.name, *(d.name for d in DEPTHWISE if d != first), "scalar"]
    words = Gemm().pairs(g.icg * g.kh * g.kw)
    unroll = words if words <= FULL_UNROLL else max(d for d in range(1, FULL_UNROLL + 1) if words % d == 0)
    default = Gemm(2, 3, unroll)
    others = [Gemm(2, 2, unroll), Gemm(2, 4, unroll), Gemm(2, 3, unroll, True), Gemm(4, 1, unroll), Gemm(2, 3, 8),
              Gemm(2, 2, 4), Gemm(1, 4, unroll)]
    return [default.name, *(o.name for o in others if o != default), "scalar"]


FULL_UNROLL = 36
"""Tap pairs up to which the pair loop is unrolled completely (no loop overhead; ~40 bytes of code a pair), else
the largest divisor of the pair count up to it, pairs an iteration (border copies: 4, passes/_dsp_conv.py).
Measured (estimated cycles): 2 x 3 fully unrolled beats 2 x 2, 2 x 4, 4 x 1 and 1 x 4 on the KWS pointwise
(0.74 MAC/cycle against 0.65 for 2 x 2), the KWS first conv and the ResNet 3x3."""

register("qnn.conv2d", variants)


class LowerQnnConv2d(RewritePattern):
    """qnn.conv2d -> call of `@<model>_L<i>_conv2d(%in, %weight[, %bias][, %requant], %out)`."""

    def __init__(self, blocking: Blocking | None):
        self.blocking = blocking

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.Conv2dOp, rewriter: PatternRewriter) -> None:
        names = variants(op)
        name = chosen(op) or names[0]
        if name not in names and (names == ["scalar"] or (Gemm.parse(name) or Depthwise.parse(name)) is None):
            raise PassFailedException(f"qnn.conv2d: unknown kernel variant '{name}'; known: {', '.join(names)}")
        if self.blocking is not None or name == "scalar":
            pin(op, "scalar")  # what the layer records (#t2m.layer): forced blocking options are the scalar kernel
            self.scalar(op, rewriter)
            return
        g = geometry(op)
        weight = constant_array(op.weight)
        bias = constant_array(op.bias) if op.bias is not None else None
        assert weight is not None
        zp = op.input_zp.value.data
        per_channel = op.requant is not None and op.requant.channels > 1
        bound = accumulator_bound(weight, bias)
        dw = Depthwise.parse(name)
        if dw is not None:
            packed = new_constant(rewriter, op, packed_depthwise_weights(weight, dw))
            folded = new_constant(rewriter, op, start_table(weight, folded_bias(weight, bias, zp), g, zp))
            build = lambda k: build_depthwise(k, g, op, dw, per_channel, bound)  # noqa: E731
        else:
            gm = Gemm.parse(name)
            assert gm is not None
            folded = new_constant(rewriter, op, folded_bias(weight, bias, zp))
            packed = new_constant(rewriter, op, packed_conv_weights(weight, g, gm))
            build = lambda k: build_gemm_conv(k, g, op, gm, per_channel, bound)  # noqa: E731
        operands = [(op.input, "in"), (packed, "weight"), (folded, "bias")]
        if per_channel:
            assert op.requant is not None
            operands.append((new_constant(rewriter, op, requant_table(op.requant, bound)), "requant"))
        replace_with_layer(rewriter, op, operands, build, g.macs)

    def scalar(self, op: qnn.Conv2dOp, rewriter: PatternRewriter) -> None:
        """The LDRSB + multiply-accumulate kernel (weights not known at compile time, or asked for)."""
        g = geometry(op)
        blocking = self.blocking or choose_blocking(g)
        operands = [(op.input, "in"), (op.weight, "weight")]
        weight = constant_array(op.weight)
        bias = constant_array(op.bias) if op.bias is not None else None
        zp = op.input_zp.value.data
        folded = zp != 0 and weight is not None and (op.bias is None or bias is not None)
        if folded:
            assert weight is not None
            operands.append((new_constant(rewriter, op, folded_bias(weight, bias, zp)), "bias"))
        elif op.bias is not None:
            operands.append((op.bias, "bias"))
        per_channel = op.requant is not None and op.requant.channels > 1
        if per_channel:
            assert op.requant is not None
            operands.append((new_constant(rewriter, op, requant_params(op.requant)), "requant"))
        bound = None if op.bias is not None and bias is None else accumulator_bound(weight, bias)
        replace_with_layer(rewriter, op, operands,
                           lambda k: build_conv(k, g, op, blocking, (folded, per_channel), bound), g.macs)


@dataclass(frozen=True)
class LowerQnnConv(ModulePass):
    """Lower every qnn.conv2d to an integer loop nest in its own layer function.

    Options ob/rb/pb/unroll force one register blocking for every conv (none given: chosen per layer by
    `choose_blocking`).
    """

    name = "lower-qnn-conv"

    ob: int = 0
    pb: int = 0
    unroll: int = -1
    rb: int = 0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        blocking = None
        if self.ob or self.pb or self.rb or self.unroll >= 0:
            blocking = Blocking(self.ob or 1, self.pb or 1, max(self.unroll, 0), self.rb or 1)
        PatternRewriteWalker(LowerQnnConv2d(blocking), apply_recursively=False).rewrite_module(op)
