"""Chapter 5, exercise 2: a lowering of your own, `nn.max_pool2d` as a plain loop nest.

    t2m-opt tiny.fused.mlir --load-pass-plugin docs/tutorial/solutions/maxpool_plain.py -p lower-maxpool-plain --lower

One output at a time: n, c, oh, ow, then the kernel window as a reduction whose accumulator starts at the first
tap. Pools without padding only (TinyCNN's `MaxPool2d(2)`); a padded pool is left for t2m's `lower-nn-pool`,
which then lowers it in the same `--lower` pipeline. `Kernel.max` keeps NaN as PyTorch does.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern, op_type_rewrite_pattern

from t2m.dialects import nn
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of


def build_max_pool(k: Kernel, op: nn.MaxPool2dOp) -> None:
    x, out = k.args
    (kh_, kw_), (sh, sw), _, (dh, dw) = op.window()
    n_, c_, oh_, ow_ = shape_of(op.output)

    def pixel(ivs: list[Ix]) -> None:
        n, c, oh, ow = ivs
        first = k.load(x, [n, c, oh * sh, ow * sw])

        def tap(taps: list[Ix], acc: tuple[SSAValue, ...]) -> list[SSAValue]:
            kh, kw = taps
            return [k.max(acc[0], k.load(x, [n, c, oh * sh + kh * dh, ow * sw + kw * dw]))]

        (best,) = k.reduce([(0, kh_, "kh"), (0, kw_, "kw")], [first], tap)
        k.store(k.activation(best, op), out, [n, c, oh, ow])

    k.nest([(0, n_, "n"), (0, c_, "c"), (0, oh_, "oh"), (0, ow_, "ow")], pixel)


class LowerMaxPoolPlain(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MaxPool2dOp, rewriter: PatternRewriter) -> None:
        if any(op.window()[2]):
            return  # padded: t2m's lower-nn-pool handles it
        replace_with_layer(rewriter, op, [(op.input, "in")], lambda k: build_max_pool(k, op))


@dataclass(frozen=True)
class LowerMaxPoolPlainPass(ModulePass):
    name = "lower-maxpool-plain"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerMaxPoolPlain(), apply_recursively=False).rewrite_module(op)
