"""Chapter 5's first step: `nn.conv2d` lowered as the textbook loop nest, padding tested at every MAC.

    t2m-opt conv.fused.mlir --load-pass-plugin docs/tutorial/code/conv_plain.py -p lower-conv-plain

One output element at a time: seven loops (n, oc, oh, ow, then ic, kh, kw reduce into one accumulator), and
for each tap a test of whether (row, col) falls inside the input. A tap in the padding reads element 0 (any
in-bounds address would do) and contributes 0. t2m's own `lower-nn-conv` removes those tests by splitting the
output plane into border and interior regions; this plugin is the baseline it is measured against. Groups,
stride and dilation are supported, so it lowers every conv t2m imports.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern, op_type_rewrite_pattern

from t2m.dialects import nn
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of


def inside(k: Kernel, i: SSAValue, size: int) -> SSAValue:
    """0 <= i < size, as an i1."""
    low = k.emit(arith.CmpiOp(i, k.cidx(0), "sge"))
    high = k.emit(arith.CmpiOp(i, k.cidx(size), "slt"))
    return k.emit(arith.AndIOp(low, high))


def build_plain_conv(k: Kernel, op: nn.Conv2dOp) -> None:
    x, w, *rest = k.args
    bias, out = (rest[0], rest[1]) if op.bias is not None else (None, rest[0])
    n_, _, h, wd = shape_of(op.input)
    oc_, icg, kh_, kw_ = shape_of(op.weight)
    _, _, oh_, ow_ = shape_of(op.output)
    (sh, sw), (top, left, _, _), (dh, dw) = op.geometry()
    ocg = oc_ // op.groups.value.data

    def pixel(ivs: list[Ix]) -> None:
        n, oc, oh, ow = ivs
        init = k.load(bias, [oc]) if bias is not None else k.f32(0.0)

        def mac(taps: list[Ix], acc: tuple[SSAValue, ...]) -> list[SSAValue]:
            ic, kh, kw = taps
            row, col = k.index(oh * sh + kh * dh - top), k.index(ow * sw + kw * dw - left)
            valid = k.emit(arith.AndIOp(inside(k, row, h), inside(k, col, wd)))
            zero = k.cidx(0)
            safe_row = k.emit(arith.SelectOp(valid, row, zero))
            safe_col = k.emit(arith.SelectOp(valid, col, zero))
            group = Ix.of(k.emit(arith.DivUIOp(k.index(oc), k.cidx(ocg)))) if ocg < oc_ else Ix()
            group_ic = group * icg + ic
            xv = k.load(x, [n, group_ic, Ix.of(safe_row), Ix.of(safe_col)])
            xv = k.emit(arith.SelectOp(valid, xv, k.f32(0.0)))
            return [k.addf(acc[0], k.mulf(xv, k.load(w, [oc, ic, kh, kw])))]

        (acc,) = k.reduce([(0, icg, "ic"), (0, kh_, "kh"), (0, kw_, "kw")], [init], mac)
        k.store(k.activation(acc, op), out, [n, oc, oh, ow])

    k.nest([(0, n_, "n"), (0, oc_, "oc"), (0, oh_, "oh"), (0, ow_, "ow")], pixel)


class LowerConvPlain(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.Conv2dOp, rewriter: PatternRewriter) -> None:
        operands = [(op.input, "in"), (op.weight, "weight")] + ([(op.bias, "bias")] if op.bias is not None else [])
        n, oc, oh, ow = shape_of(op.output)
        _, icg, kh, kw = shape_of(op.weight)
        replace_with_layer(rewriter, op, operands, lambda k: build_plain_conv(k, op), n * oc * oh * ow * icg * kh * kw)


@dataclass(frozen=True)
class LowerConvPlainPass(ModulePass):
    name = "lower-conv-plain"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerConvPlain(), apply_recursively=False).rewrite_module(op)
