"""lower-nn-linear: `nn.linear` (y = x W^T + b, W as PyTorch's [out, in]) -> a layer function of vector ops.

Per output: `vector<4xf32>` loads of the input row and of the weight row, `vector.fma` into a vector
accumulator, `vector.reduction <add>` with the bias as its accumulator, and a scalar loop for the `in % 4`
remainder. With weights in the "blocked" layout (the pack-weights pass), 8 outputs at once instead: one input load
feeds 8 MACs. Leading input dims are flattened into rows. The M4 has no SIMD floats, so LLVM scalarises the
vectors: what they buy is four independent accumulators (no serial dependency through one register).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import vector
from xdsl.dialects.builtin import ModuleOp, VectorType, f32
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from t2m.dialects import nn
from t2m.passes._loops import Ix, Kernel, replace_with_layer, shape_of

WIDTH = 4
VEC = VectorType(f32, [WIDTH])


def build_dot(k: Kernel, rows: int, n_in: int, n_out: int, op: nn.LinearOp) -> None:
    """One output at a time: vector dot product of the input row and the weight row (+ scalar remainder)."""
    x, w, *rest = k.args
    bias, out = (rest[0], rest[1]) if op.bias is not None else (None, rest[0])
    x, out = k.view(x, [rows, n_in]), k.view(out, [rows, n_out])
    n_vec = n_in - n_in % WIDTH
    zero = k.emit(vector.BroadcastOp(k.f32(0.0), VEC))

    def output(ivs: list[Ix]) -> None:
        m, o = ivs

        def vmac(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            xv = k.emit(vector.LoadOp(x, [k.index(m), k.index(ivs[0])], VEC))
            wv = k.emit(vector.LoadOp(w, [k.index(o), k.index(ivs[0])], VEC))
            return (k.emit(vector.FMAOp(xv, wv, acc[0])),)

        init = k.load(bias, [o]) if bias is not None else k.f32(0.0)
        if n_vec:
            (vacc,) = k.reduce([(0, n_vec, "i", WIDTH)], [zero], vmac)
            init = k.emit(vector.ReductionOp.build(operands=[vacc, init], result_types=[f32], properties={
                "kind": vector.CombiningKindAttr(vector.CombiningKindFlag.ADD)}))

        def mac(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            return (k.addf(acc[0], k.mulf(k.load(x, [m, ivs[0]]), k.load(w, [o, ivs[0]]))),)

        (acc,) = k.reduce([(n_vec, n_in, "i")], [init], mac)
        k.store(k.activation(acc, op), out, [m, o])

    k.nest([(0, rows, "m"), (0, n_out, "o")], output)


def build_blocked(k: Kernel, rows: int, n_in: int, n_out: int, op: nn.LinearOp) -> None:
    """8 outputs at once over weights in the "blocked" layout (pack-weights): per input, one scalar load
    broadcast to two vector<4xf32>, two contiguous weight vector loads, two vector.fma (8 MACs per input load);
    outputs that do not fill a block of 4 use a scalar dot product over the packed tail (row-major)."""
    x, w, *rest = k.args
    bias, out = (rest[0], rest[1]) if op.bias is not None else (None, rest[0])
    x, out, w = k.view(x, [rows, n_in]), k.view(out, [rows, n_out]), k.view(w, [n_out * n_in])
    zero = k.emit(vector.BroadcastOp(k.f32(0.0), VEC))
    activation = isinstance(op, nn.FusedActivation) and op.activation_bounds() != (None, None)

    def block(m: Ix, o0: Ix, width: int) -> None:
        lanes = range(0, width, WIDTH)
        inits = [k.emit(vector.LoadOp(bias, [k.index(o0 + lane)], VEC)) if bias is not None else zero
                 for lane in lanes]

        def mac(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> list[SSAValue]:
            xb = k.emit(vector.BroadcastOp(k.load(x, [m, ivs[0]]), VEC))
            base = o0 * n_in + ivs[0] * width
            ws = [k.emit(vector.LoadOp(w, [k.index(base + lane)], VEC)) for lane in lanes]
            return [k.emit(vector.FMAOp(xb, wv, a)) for wv, a in zip(ws, acc, strict=True)]

        accs = k.reduce([(0, n_in, "i")], inits, mac)
        for lane, acc in zip(lanes, accs, strict=True):
            k.put(vector.StoreOp(acc, out, [k.index(m), k.index(o0 + lane)]))
        if activation:  # the clamp on the stored block (lane-wise select would need vector masks)
            k.nest([(0, width, "j")], lambda ivs: k.store(k.activation(k.load(out, [m, o0 + ivs[0]]), op), out,
                                                          [m, o0 + ivs[0]]))

    def tail_output(m: Ix, o: Ix) -> None:
        def dot(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> tuple[SSAValue, ...]:
            return (k.addf(acc[0], k.mulf(k.load(x, [m, ivs[0]]), k.load(w, [o * n_in + ivs[0]]))),)

        init = k.load(bias, [o]) if bias is not None else k.f32(0.0)
        (acc,) = k.reduce([(0, n_in, "i")], [init], dot)
        k.store(k.activation(acc, op), out, [m, o])

    def row(ivs: list[Ix]) -> None:
        for start, end, width in nn.linear_weight_blocks(n_out):
            k.nest([(start, end, "o", width)], lambda o, width=width: block(ivs[0], o[0], width))
        done = nn.linear_weight_blocks(n_out)[-1][1]
        k.nest([(done, n_out, "o")], lambda o: tail_output(ivs[0], o[0]))

    k.nest([(0, rows, "m")], row)


class LowerLinear(RewritePattern):
    """nn.linear -> call of `@<model>_L<i>_linear(%in, %weight[, %bias], %out)`: the blocked kernel when
    pack-weights stored the weights for it, the dot-product kernel otherwise."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.LinearOp, rewriter: PatternRewriter) -> None:
        x_shape = shape_of(op.input)
        n_out, n_in = shape_of(op.weight)
        rows = math.prod(x_shape[:-1])
        build = build_blocked if op.weight_layout is not None else build_dot
        operands = [(op.input, "in"), (op.weight, "weight")]
        if op.bias is not None:
            operands.append((op.bias, "bias"))
        replace_with_layer(rewriter, op, operands, lambda k: build(k, rows, n_in, n_out, op), rows * n_in * n_out)


@dataclass(frozen=True)
class LowerNnLinear(ModulePass):
    """Lower every nn.linear to vector loops in its own layer function."""

    name = "lower-nn-linear"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerLinear(), apply_recursively=False).rewrite_module(op)
