"""lower-nn-tensor: nn.slice, nn.insert_slice, nn.transpose and nn.embedding -> copy loops, each in its own layer
function.

They move data without arithmetic, so one lowering serves every element type (f32 models and int8 models alike).
A slice reads a strided box of its input (one nest over the result, the input index `start + i * step` per axis);
an insert_slice copies its dest whole, then its source into that box (two nests, the second overwriting);
a transpose walks its result in order and reads the input at the permuted index (stores stay sequential, which
the M4's write buffer prefers); an embedding copies one table row per index, reading row 0 for an index outside
the table (a bounds check per row, not per element: a stray index must not read past the table in flash).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from t2m.dialects import nn
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of


def _axes(shape: tuple[int, ...]) -> list[tuple[int, int, str]]:
    return [(0, n, f"d{i}") for i, n in enumerate(shape)]


def build_slice(k: Kernel, start: tuple[int, ...], step: tuple[int, ...], sizes: tuple[int, ...]) -> None:
    x, out = k.args

    def copy(ivs: list[Ix]) -> None:
        k.store(k.load(x, [iv * s + b for iv, s, b in zip(ivs, step, start, strict=True)]), out, ivs)

    k.nest(_axes(sizes), copy)


def build_insert_slice(k: Kernel, start: tuple[int, ...], step: tuple[int, ...], dest: tuple[int, ...],
                       sizes: tuple[int, ...]) -> None:
    source, base, out = k.args

    def copy(ivs: list[Ix]) -> None:
        k.store(k.load(base, ivs), out, ivs)

    def write(ivs: list[Ix]) -> None:
        k.store(k.load(source, ivs), out, [iv * s + b for iv, s, b in zip(ivs, step, start, strict=True)])

    k.nest(_axes(dest), copy)
    k.nest(_axes(sizes), write)


def build_transpose(k: Kernel, perm: tuple[int, ...], out_shape: tuple[int, ...]) -> None:
    x, out = k.args

    def copy(ivs: list[Ix]) -> None:
        source: list[Ix] = [Ix()] * len(perm)
        for axis, p in enumerate(perm):
            source[p] = ivs[axis]
        k.store(k.load(x, source), out, ivs)

    k.nest(_axes(out_shape), copy)


def build_embedding(k: Kernel, rows: int, features: int, count: int) -> None:
    weight, indices, out = k.args
    indices = k.view(indices, [count])
    out = k.view(out, [count, features])

    def lookup(ivs: list[Ix]) -> None:
        (p,) = ivs
        index = k.load(indices, [p])
        zero = k.i32(0)
        inside = k.emit(arith.AndIOp(k.emit(arith.CmpiOp(index, zero, "sge")),
                                     k.emit(arith.CmpiOp(index, k.i32(rows), "slt"))))
        row = k.emit(arith.IndexCastOp(k.select(inside, index, zero), IndexType()))
        k.nest([(0, features, "f")], lambda f: k.store(k.load(weight, [Ix.of(row), f[0]]), out, [p, f[0]]))

    k.nest([(0, count, "p")], lookup)


class LowerSlice(RewritePattern):
    """nn.slice -> `@<model>_L<i>_slice(%in, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.SliceOp, rewriter: PatternRewriter) -> None:
        start, step, sizes = op.box()
        replace_with_layer(rewriter, op, [(op.input, "in")], lambda k: build_slice(k, start, step, sizes))


class LowerInsertSlice(RewritePattern):
    """nn.insert_slice -> `@<model>_L<i>_insert_slice(%source, %dest, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.InsertSliceOp, rewriter: PatternRewriter) -> None:
        start, step, sizes = op.box()
        dest = shape_of(op.dest)
        replace_with_layer(rewriter, op, [(op.source, "source"), (op.dest, "dest")],
                           lambda k: build_insert_slice(k, start, step, dest, sizes))


class LowerTranspose(RewritePattern):
    """nn.transpose -> `@<model>_L<i>_transpose(%in, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.TransposeOp, rewriter: PatternRewriter) -> None:
        perm, shape = op.perm(), shape_of(op.output)
        replace_with_layer(rewriter, op, [(op.input, "in")], lambda k: build_transpose(k, perm, shape))


class LowerEmbedding(RewritePattern):
    """nn.embedding -> `@<model>_L<i>_embedding(%weight, %indices, %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.EmbeddingOp, rewriter: PatternRewriter) -> None:
        rows, features = shape_of(op.weight)
        count = 1
        for d in shape_of(op.indices):
            count *= d
        replace_with_layer(rewriter, op, [(op.weight, "weight"), (op.indices, "indices")],
                           lambda k: build_embedding(k, rows, features, count))


@dataclass(frozen=True)
class LowerNnTensor(ModulePass):
    """Lower nn.slice / nn.insert_slice / nn.transpose / nn.embedding to copy loops (any element type)."""

    name = "lower-nn-tensor"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = GreedyRewritePatternApplier([LowerSlice(), LowerInsertSlice(), LowerTranspose(), LowerEmbedding()])
        PatternRewriteWalker(patterns, apply_recursively=False).rewrite_module(op)
