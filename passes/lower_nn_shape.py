"""lower-nn-shape: flatten / reshape become views, concat becomes copies into one buffer.

A row-major reshape of a contiguous buffer moves no data: it is a `memref.reinterpret_cast` to the new static
shape (offset 0, row-major strides) in the model function, with no layer function (and no layer number).
`convert-memref-to-ptr` lowers the cast to the same pointer. Concatenation copies each input into its slice
of the output, viewed as [outer, axis * inner] so each copy is a contiguous run per outer index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import bufferization
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from t2m.dialects import nn
from t2m.passes._loops import Ix, Kernel, buffer_of, reinterpret, replace_with_layer, shape_of


class LowerView(RewritePattern):
    """flatten / reshape -> to_buffer + reinterpret_cast + to_tensor (a view, no copy)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.FlattenOp | nn.ReshapeOp, rewriter: PatternRewriter) -> None:
        if shape_of(op.input) == shape_of(op.output):
            rewriter.replace(op, [], [op.input])
            return
        buf = bufferization.ToBufferOp.build(operands=[op.input], result_types=[buffer_of(op.input)])
        view = reinterpret(buf.memref, shape_of(op.output))
        rewriter.replace(op, [buf, view, tensor := bufferization.ToTensorOp(view.result)], [tensor.tensor])


def build_concat(k: Kernel, shapes: list[tuple[int, ...]], axis: int) -> None:
    outer, inner = math.prod(shapes[0][:axis]), math.prod(shapes[0][axis + 1 :])
    total = sum(s[axis] for s in shapes) * inner
    *inputs, out = k.args
    out = k.view(out, [outer, total])
    offset = 0
    for x, shape in zip(inputs, shapes, strict=True):
        run = shape[axis] * inner
        x = k.view(x, [outer, run])

        def copy(ivs: list[Ix], x=x, offset=offset) -> None:
            k.store(k.load(x, ivs), out, [ivs[0], ivs[1] + offset])

        k.nest([(0, outer, "o"), (0, run, "i")], copy)
        offset += run


class LowerConcat(RewritePattern):
    """concat -> `@<model>_L<i>_concat(%in0, %in1, ..., %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ConcatOp, rewriter: PatternRewriter) -> None:
        shapes = [shape_of(v) for v in op.inputs]
        axis = op.axis.value.data
        replace_with_layer(rewriter, op, [(v, f"in{i}") for i, v in enumerate(op.inputs)],
                           lambda k: build_concat(k, shapes, axis))


@dataclass(frozen=True)
class LowerNnShape(ModulePass):
    """Lower nn.flatten / nn.reshape to views and nn.concat to copy loops."""

    name = "lower-nn-shape"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = GreedyRewritePatternApplier([LowerView(), LowerConcat()])
        PatternRewriteWalker(patterns, apply_recursively=False).rewrite_module(op)
