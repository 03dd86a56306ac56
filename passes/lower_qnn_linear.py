"""lower-qnn-linear: `qnn.linear` (y = (x - zp) W^T + b, W as [out, in] int8) -> integer dot-product loops.

With constant weights the default kernel is SMLAD (passes/_dsp_kernels.py): each input row is packed once into
int16 pairs on the stack, weights are packed at compile time, 6 outputs share each column load (variants:
`passes/_variants.py`, `t2m.variant` pins one). The scalar kernel (`scalar`, and weights known only at run time):
leading input dims are flattened into rows. Per row, blocks of `BLOCK` outputs share each input load (one
LDRSB feeds four MACs); the accumulators live in `iter_args` and are stored once through the requantization,
the output zero point and the fused activation clamp. A remainder of `out % BLOCK` outputs gets a smaller block.

The input zero point costs nothing per MAC: with constant weights, `b - zp * sum(W[o, :])` is folded at compile
time into a new bias (the i32 sums wrap like the accumulator, so the result is exact); otherwise the zero point
is subtracted after each input load. Per-channel requantization reads a `[out, 2]` table once per output (the
SMLAD kernel: `requant_table`, `[out, 3]` in the fast form).
"""

from __future__ import annotations

import math
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
from t2m.passes._dsp_kernels import Gemm, column, fill, gemm, pack_weights
from t2m.passes._int8 import Ints, accumulator_bound, folded_bias, requant_params, requant_table
from t2m.passes._loops import Ix, Kernel, constant_array, new_constant, replace_with_layer, shape_of
from t2m.passes._variants import chosen, register
from t2m.passes.lower_nn_conv import _blocks

BLOCK = 4
"""Outputs computed together: 4 accumulators + 4 weights + the input fit the M4's free core registers."""


def build_linear(k: Kernel, rows: int, n_in: int, n_out: int, op: qnn.LinearOp, tables: tuple[bool, bool, bool],
                 bound: int | None) -> None:
    """tables: (a bias operand, zero point folded into it, a per-channel requant table); bound: of the
    accumulators' magnitude when known, for the fast requantization."""
    q = Ints(k)
    has_bias, folded, has_requant_table = tables
    x, w, *rest = k.args
    bias = rest.pop(0) if has_bias else None
    requant_table = rest.pop(0) if has_requant_table else None
    (out,) = rest
    x, out = k.view(x, [rows, n_in]), k.view(out, [rows, n_out])
    zp = 0 if folded else op.input_zp.value.data
    lo, hi = op.activation_range()

    def block(m: Ix, o0: Ix, nb: int) -> None:
        outs = [o0 + j for j in range(nb)]
        inits = [q.load(bias, [o]) if bias is not None else q.const(0) for o in outs]

        def mac(ivs: list[Ix], acc: tuple[SSAValue, ...]) -> list[SSAValue]:
            xv = q.sub(q.load(x, [m, ivs[0]]), zp)
            return [q.add(a, q.mul(xv, q.load(w, [o, ivs[0]]))) for a, o in zip(acc, outs, strict=True)]

        accs = k.reduce([(0, n_in, "i")], inits, mac)
        for acc, o in zip(accs, outs, strict=True):
            if op.requant is None:
                k.store(acc, out, [m, o])
                continue
            r = q.requant_of(requant_table, op.requant, o, bound)
            q.store_i8(q.add(q.requantize(acc, r), op.requant.zero_point), out, [m, o], lo, hi)

    def row(ivs: list[Ix]) -> None:
        for o0, o1, nb in _blocks(0, n_out, BLOCK):
            k.nest([(o0, o1, "o", nb)], lambda o, nb=nb: block(ivs[0], o[0], nb))

    k.nest([(0, rows, "m")], row)


def build_gemm_linear(k: Kernel, rows: int, n_in: int, n_out: int, op: qnn.LinearOp, gm: Gemm, has_table: bool,
                      bound: int | None) -> None:
    """Arguments: input, packed weights, folded bias, [requant table], output. Per block of `pb` rows, the rows
    are packed into int16 pairs once (passes/_dsp_kernels.py), then every block of `ob` outputs runs SMLAD."""
    q = Ints(k)
    x, packed, bias, *rest = k.args
    table = rest.pop(0) if has_table else None
    (out,) = rest
    x, out = k.view(x, [rows, n_in]), k.view(out, [rows, n_out])
    lo, hi = op.activation_range()
    words = gm.pairs(n_in)
    per_output = words // (2 if gm.w8 else 1)
    col = column(k, words, min(gm.pb, rows))

    def row_block(m0: Ix, size: int) -> None:
        fill(k, col, size, n_in, 8, lambda c, t, p: q.load(x, [m0 + p, Ix(const=0) + c * 8 + t]), words)

        def outputs(o0: Ix, nb: int) -> None:
            outs = [o0 + j for j in range(nb)]
            starts = [q.load(bias, [o]) for o in outs]

            def store(acc: SSAValue, j: int, p: int) -> None:
                if op.requant is None:
                    k.store(acc, out, [m0 + p, outs[j]])
                    return
                r = q.requant_of(table, op.requant, outs[j], bound, with_zero_point=True)
                q.store_i8(q.output(acc, r, op.requant.zero_point), out, [m0 + p, outs[j]], lo, hi)

            gemm(k, gm, col, packed, n_in, o0 * per_output, nb, size, starts, store)

        for o0, o1, nb in _blocks(0, n_out, gm.ob):
            k.nest([(o0, o1, "o", nb)], lambda ivs, nb=nb: outputs(ivs[0], nb))

    for m0, m1, size in _blocks(0, rows, gm.pb):
        k.nest([(m0, m1, "m", size)], lambda ivs, size=size: row_block(ivs[0], size))


def variants(op: Operation) -> list[str]:
    """SMLAD blocks (outputs x rows, pairs unrolled, int16 or int8 weight words) with constant weights, the default
    first (6 outputs per column load: measured best on 64 -> 12 and 640 -> 128), and the scalar kernel."""
    assert isinstance(op, qnn.LinearOp)
    if constant_array(op.weight) is None or (op.bias is not None and constant_array(op.bias) is None):
        return ["scalar"]
    n_in = shape_of(op.weight)[1]
    words = Gemm().pairs(n_in)
    unroll = words if words <= 16 else 4
    choices = [Gemm(6, 1, unroll), Gemm(4, 1, unroll), Gemm(2, 2, unroll), Gemm(6, 1, unroll, True), Gemm(4, 1, 8),
               Gemm(8, 1, 2)]
    return [*(gm.name for gm in choices), "scalar"]


register("qnn.linear", variants)


class LowerQnnLinearOp(RewritePattern):
    """qnn.linear -> call of `@<model>_L<i>_linear(%in, %weight[, %bias][, %requant], %out)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: qnn.LinearOp, rewriter: PatternRewriter) -> None:
        rows = math.prod(shape_of(op.input)[:-1])
        n_out, n_in = shape_of(op.weight)
        names = variants(op)
        name = chosen(op) or names[0]
        if name not in names and (names == ["scalar"] or Gemm.parse(name) is None):
            raise PassFailedException(f"qnn.linear: unknown kernel variant '{name}'; known: {', '.join(names)}")
        weight = constant_array(op.weight)
        bias = constant_array(op.bias) if op.bias is not None else None
        zp = op.input_zp.value.data
        per_channel = op.requant is not None and op.requant.channels > 1
        gm = Gemm.parse(name)
        if gm is not None:
            assert weight is not None
            operands = [(op.input, "in"), (new_constant(rewriter, op, pack_weights(weight, gm)), "weight"),
                        (new_constant(rewriter, op, folded_bias(weight, bias, zp)), "bias")]
            bound = accumulator_bound(weight, bias)
            if per_channel:
                assert op.requant is not None
                operands.append((new_constant(rewriter, op, requant_table(op.requant, bound)), "requant"))
            replace_with_layer(rewriter, op, operands,
                               lambda k: build_gemm_linear(k, rows, n_in, n_out, op, gm, per_channel, bound),
                               rows * n_in * n_out)
            return
        operands = [(op.input, "in"), (op.weight, "weight")]
        folded = zp != 0 and weight is not None and (op.bias is None or bias is not None)
        if folded:
            assert weight is not None
            operands.append((new_constant(rewriter, op, folded_bias(weight, bias, zp)), "bias"))
        elif op.bias is not None:
            operands.append((op.bias, "bias"))
        if per_channel:
            assert op.requant is not None
            operands.append((new_constant(rewriter, op, requant_params(op.requant)), "requant"))
        tables = (folded or op.bias is not None, folded, per_channel)
        bound = None if op.bias is not None and bias is None else accumulator_bound(weight, bias)
        replace_with_layer(rewriter, op, operands, lambda k: build_linear(k, rows, n_in, n_out, op, tables, bound),
                           rows * n_in * n_out)


@dataclass(frozen=True)
class LowerQnnLinear(ModulePass):
    """Lower every qnn.linear to integer dot-product loops in its own layer function."""

    name = "lower-qnn-linear"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerQnnLinearOp(), apply_recursively=False).rewrite_module(op)
