"""`vector` compute ops -> `llvm` (loads and stores are xDSL's `convert-vector-to-ptr`).

The M4 has no SIMD float unit: LLVM scalarises `<4 x float>`, so these lowerings aim for the scalar code
that results, not for vector instructions.
- `vector.fma` -> `fmul` + `fadd` by default: on cortex-m4 that is VMUL + VADD (2 cycles, vs 3 for VFMA), and the
  host JIT then rounds exactly like the M4 (no FMA contraction on either), so host and target agree bit for
  bit. `fma=fmuladd` emits `llvm.fmuladd` (same M4 code, the host may fuse), `fma=fma` emits `llvm.fma` (VFMA).
- `vector.reduction` -> a chain of `extractelement` + scalar ops, in lane order from the accumulator
  (`llvm.vector.reduce.*` would be the same chain on the M4; the chain also covers kinds LLVM spells as
  separate intrinsics and min/max without libcalls).
- `vector.broadcast` of a scalar -> `insertelement` + zero-mask `shufflevector` (a splat constant if the
  scalar is a constant); `vector.extract`/`vector.insert` of a constant lane -> `extractelement`/`insertelement`.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, llvm, vector
from xdsl.dialects.builtin import (
    AnyFloat,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    VectorType,
    i32,
    i64,
)
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import PassFailedException

from t2m.dialects import llvm_ext
from t2m.passes.convert_index_to_llvm import as_llvm, llvm_type, replace_with_llvm

FMA_MODES = ("split", "fmuladd", "fma")


def _lane(index: int) -> llvm.ConstantOp:
    return llvm.ConstantOp(IntegerAttr(index, i32), i32)


@dataclass
class FMAToLLVM(RewritePattern):
    mode: str = "split"

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.FMAOp, rewriter: PatternRewriter, /):
        a, b, c = (as_llvm(v, rewriter) for v in (op.lhs, op.rhs, op.acc))
        if self.mode == "fmuladd":
            rewriter.replace(op, llvm_ext.FMulAddOp(a, b, c))
        elif self.mode == "fma":
            rewriter.replace(op, llvm.FMAOp(a, b, c))
        else:
            product = llvm.FMulOp(a, b)
            rewriter.replace(op, [product, llvm.FAddOp(product.res, c)])


def _combine(kind: str, acc: SSAValue, lane: SSAValue) -> list[Operation]:
    """Ops computing `acc <kind> lane`; the result is the last op's first result."""
    is_float = isinstance(acc.type, AnyFloat)
    simple: dict[str, type[Operation]] = (
        {"add": llvm.FAddOp, "mul": llvm.FMulOp}
        if is_float
        else {"add": llvm.AddOp, "mul": llvm.MulOp, "and": llvm.AndOp, "or": llvm.OrOp, "xor": llvm.XOrOp}
    )
    if kind in simple:
        return [simple[kind].create(operands=[acc, lane], result_types=[acc.type])]
    if is_float and kind in ("maximumf", "minimumf", "maxnumf", "minnumf"):
        is_max = kind.startswith("max")
        cmp = llvm.FCmpOp(acc, lane, "ogt" if is_max else "olt")
        first = llvm.SelectOp(cmp, acc, lane)  # a NaN in either gives lane
        nan_side = acc if kind.endswith("imumf") else lane
        is_nan = llvm.FCmpOp(nan_side, nan_side, "uno")
        return [cmp, first, is_nan, llvm.SelectOp(is_nan, acc, first)]
    predicates = {"maxsi": "sgt", "minsi": "slt", "maxui": "ugt", "minui": "ult"}
    if not is_float and kind in predicates:
        cmp = llvm.ICmpOp(acc, lane, IntegerAttr(llvm.ICmpPredicateFlag(predicates[kind]).to_int(), i64))
        return [cmp, llvm.SelectOp(cmp, acc, lane)]
    raise PassFailedException(f"vector.reduction <{kind}> on {acc.type} is not supported")


class ReductionToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.ReductionOp, rewriter: PatternRewriter, /):
        source = as_llvm(op.vector, rewriter)
        vector_type = source.type
        assert isinstance(vector_type, VectorType)
        ops: list[Operation] = []
        acc = as_llvm(op.acc, rewriter) if op.acc is not None else None
        for index in range(vector_type.get_shape()[0]):
            ops += [lane_index := _lane(index), lane := llvm_ext.ExtractElementOp(source, lane_index.result)]
            if acc is None:
                acc = lane.res
                continue
            ops += _combine(op.kind.data.value, acc, lane.res)
            acc = ops[-1].results[0]
        assert acc is not None
        replace_with_llvm(rewriter, op, ops, [acc])


class BroadcastToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.BroadcastOp, rewriter: PatternRewriter, /):
        result_type = llvm_type(op.vector.type)
        assert isinstance(result_type, VectorType)
        if result_type.get_num_dims() != 1:
            raise PassFailedException(f"vector.broadcast to {op.vector.type}: only 1-D vectors are supported")
        source = as_llvm(op.source, rewriter)
        if source.type == result_type:
            replace_with_llvm(rewriter, op, [], [source])
            return
        constant = op.source.owner
        lanes = result_type.get_shape()[0]
        if isinstance(constant, llvm.ConstantOp | arith.ConstantOp) and isinstance(
            constant.value, FloatAttr | IntegerAttr
        ):
            splat_attr = DenseIntOrFPElementsAttr.from_list(result_type, [constant.value.value.data] * lanes)
            splat = llvm.ConstantOp(splat_attr, result_type)
            replace_with_llvm(rewriter, op, [splat], [splat.result])
            return
        undef = llvm.UndefOp(result_type)
        zero = _lane(0)
        inserted = llvm.InsertElementOp(undef.res, source, zero.result)
        mask = DenseArrayBase.from_list(i32, [0] * lanes)
        shuffle = llvm.ShuffleVectorOp(inserted.res, undef.res, mask, result_type)
        replace_with_llvm(rewriter, op, [undef, zero, inserted, shuffle], [shuffle.res])


def _static_lane(op: vector.ExtractOp | vector.InsertOp) -> int:
    positions = op.static_position.get_values()
    if op.dynamic_position or len(positions) != 1:
        raise PassFailedException(f"{op.name}: only one constant lane of a 1-D vector is supported")
    return positions[0]


class ExtractToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.ExtractOp, rewriter: PatternRewriter, /):
        lane = _lane(_static_lane(op))
        new = llvm_ext.ExtractElementOp(as_llvm(op.vector, rewriter), lane.result)
        replace_with_llvm(rewriter, op, [lane, new], [new.res])


class InsertToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.InsertOp, rewriter: PatternRewriter, /):
        lane = _lane(_static_lane(op))
        new = llvm.InsertElementOp(as_llvm(op.dest, rewriter), as_llvm(op.source, rewriter), lane.result)
        replace_with_llvm(rewriter, op, [lane, new], [new.res])


@dataclass(frozen=True)
class ConvertVectorToLLVMPass(ModulePass):
    """vector.fma / reduction / broadcast / extract / insert -> llvm; `fma` picks split|fmuladd|fma."""

    name = "convert-vector-to-llvm"

    fma: str = "split"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.fma not in FMA_MODES:
            raise PassFailedException(f"convert-vector-to-llvm: fma={self.fma!r}; choose one of {', '.join(FMA_MODES)}")
        PatternRewriteWalker(
            GreedyRewritePatternApplier(
                [
                    FMAToLLVM(self.fma),
                    ReductionToLLVM(),
                    BroadcastToLLVM(),
                    ExtractToLLVM(),
                    InsertToLLVM(),
                ]
            ),
            apply_recursively=False,
        ).rewrite_module(op)
