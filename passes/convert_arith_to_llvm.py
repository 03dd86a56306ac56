"""`arith` -> `llvm` (xDSL 0.74 has no such conversion), with `index` as i32.

Mostly one LLVM instruction per op. The exceptions, and why:
- min/max (`maximumf`, `maxnumf`, `maxsi`, ...) become compare + select, never `llvm.maxnum`/`llvm.maximum`:
  without ARMv8 FP those are `fmaxf` libcalls on the M4 (a soft-float call into a hard-float libm);
  with a non-NaN constant operand (relu's 0.0) one compare + select suffices, else a second select
  fixes the NaN case;
- `floordivsi`/`ceildivsi`/`ceildivui` (from affine maps) are expanded into div/rem arithmetic;
- fptosi/fptoui become LLVM's saturating intrinsics (NaN gives 0; plain fptosi of NaN or inf is poison);
- casts LLVM has but xDSL's `llvm` dialect lacks come from `t2m.dialects.llvm_ext`;
- `math.ctlz` (no math-to-llvm pass of its own for one op) becomes `llvm.ctlz`.
Vector operands are fine wherever LLVM accepts vectors (`addf`/`mulf` on `vector<4xf32>`...).
"""

from __future__ import annotations

from math import isnan

from xdsl.context import Context
from xdsl.dialects import arith, llvm, math
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    VectorType,
    i1,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
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

_INT_BINARY: dict[type[Operation], type[Operation]] = {
    arith.AddiOp: llvm.AddOp,
    arith.SubiOp: llvm.SubOp,
    arith.MuliOp: llvm.MulOp,
    arith.DivSIOp: llvm.SDivOp,
    arith.DivUIOp: llvm.UDivOp,
    arith.RemSIOp: llvm.SRemOp,
    arith.RemUIOp: llvm.URemOp,
    arith.AndIOp: llvm.AndOp,
    arith.OrIOp: llvm.OrOp,
    arith.XOrIOp: llvm.XOrOp,
    arith.ShLIOp: llvm.ShlOp,
    arith.ShRSIOp: llvm.AShrOp,
    arith.ShRUIOp: llvm.LShrOp,
}
_FLOAT_BINARY: dict[type[Operation], type[llvm.AbstractFloatArithOp]] = {
    arith.AddfOp: llvm.FAddOp,
    arith.SubfOp: llvm.FSubOp,
    arith.MulfOp: llvm.FMulOp,
    arith.DivfOp: llvm.FDivOp,
}
_CASTS: dict[type[Operation], type[Operation]] = {
    arith.SIToFPOp: llvm.SIToFPOp,
    arith.UIToFPOp: llvm_ext.UIToFPOp,
    arith.BitcastOp: llvm.BitcastOp,
    arith.ExtFOp: llvm.FPExtOp,
    arith.TruncFOp: llvm.FPTruncOp,
    arith.TruncIOp: llvm.TruncOp,
    arith.ExtSIOp: llvm.SExtOp,
    arith.ExtUIOp: llvm.ZExtOp,
}


def _fastmath(op: Operation) -> llvm.FastMathAttr:
    flags = op.properties.get("fastmath")
    return llvm.FastMathAttr(list(flags.data) if isinstance(flags, arith.FastMathFlagsAttr) else None)


def _int_value(value: int, t: Attribute) -> int:
    """Wrap to the signed range of `t` (an index constant may not fit i32 as written)."""
    if not isinstance(t, IntegerType) or t.width.data == 1:
        return value & 1 if isinstance(t, IntegerType) else value
    bits = t.width.data
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


class ConstantToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.ConstantOp, rewriter: PatternRewriter, /):
        t = llvm_type(op.result.type)
        value = op.value
        if isinstance(value, IntegerAttr):
            assert isinstance(t, IntegerType)
            value = IntegerAttr(_int_value(value.value.data, t), t)
        elif isinstance(value, DenseIntOrFPElementsAttr) and value.type != t:
            assert isinstance(t, VectorType)
            ints = [_int_value(int(v), t.element_type) for v in value.get_values()]  # type: ignore[arg-type]
            value = DenseIntOrFPElementsAttr.from_list(t, ints)
        elif not isinstance(value, FloatAttr | DenseIntOrFPElementsAttr):
            raise PassFailedException(f"cannot convert constant {value} to LLVM")
        new = llvm.ConstantOp(value, t)
        replace_with_llvm(rewriter, op, [new], [new.result])


class BinaryToLLVM(RewritePattern):
    """Integer and float binary ops, one LLVM instruction each (overflow and fast-math flags kept)."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        float_cls, int_cls = _FLOAT_BINARY.get(type(op)), _INT_BINARY.get(type(op))
        if float_cls is None and int_cls is None:
            return  # min/max and the rounding divisions have their own patterns
        lhs, rhs = as_llvm(op.operands[0], rewriter), as_llvm(op.operands[1], rewriter)
        if float_cls is not None:
            new = float_cls(lhs, rhs, _fastmath(op))
        else:
            assert int_cls is not None
            new = int_cls.create(operands=[lhs, rhs], result_types=[lhs.type])
            flags = op.properties.get("overflowFlags")
            if isinstance(flags, arith.IntegerOverflowAttr) and flags.data:
                overflow = llvm.OverflowAttr([llvm.OverflowFlag(f.value) for f in flags.data])
                new.properties["overflowFlags"] = IntegerAttr(overflow.to_int(), 32)
        replace_with_llvm(rewriter, op, [new], new.results)


class NegfToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.NegfOp, rewriter: PatternRewriter, /):
        rewriter.replace(op, llvm.FNegOp(as_llvm(op.operand, rewriter), _fastmath(op)))


class CastToLLVM(RewritePattern):
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        cls = _CASTS.get(type(op))
        if cls is None:
            return
        new = cls.create(operands=[as_llvm(op.operands[0], rewriter)], result_types=[llvm_type(op.results[0].type)])
        replace_with_llvm(rewriter, op, [new], new.results)


def _mangle(t: Attribute) -> str:
    """An LLVM intrinsic's type suffix: f32, i32, v4f32."""
    if isinstance(t, VectorType):
        return f"v{t.get_shape()[0]}{_mangle(t.element_type)}"
    return f"i{t.width.data}" if isinstance(t, IntegerType) else str(t)


class FloatToIntToLLVM(RewritePattern):
    """fptosi/fptoui as LLVM's saturating intrinsics: a plain fptosi of NaN, an infinity or an out-of-range value
    is poison, the host and the M4 would each make up their own integer. `llvm.fptosi.sat` is defined (NaN gives 0,
    the rest saturates) and is exactly what the M4's VCVT does: one instruction for i32."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.FPToSIOp | arith.FPToUIOp, rewriter: PatternRewriter, /):
        source = as_llvm(op.input, rewriter)
        target = llvm_type(op.result.type)
        kind = "fptosi" if isinstance(op, arith.FPToSIOp) else "fptoui"
        name = f"llvm.{kind}.sat.{_mangle(target)}.{_mangle(source.type)}"
        new = llvm.CallIntrinsicOp(name, [source], [target])
        replace_with_llvm(rewriter, op, [new], new.results)


class CountLeadingZerosToLLVM(RewritePattern):
    """`math.ctlz` (the int8 softmax normalises its sum with it) -> `llvm.ctlz.iN(x, false)`: CLZ on the M4, defined
    for 0 (gives N)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: math.CountLeadingZerosOp, rewriter: PatternRewriter, /):
        source = as_llvm(op.operand, rewriter)
        poison_at_zero = llvm.ConstantOp(IntegerAttr(0, i1), i1)
        new = llvm.CallIntrinsicOp(f"llvm.ctlz.{_mangle(source.type)}", [source, poison_at_zero.result], [source.type])
        replace_with_llvm(rewriter, op, [poison_at_zero, new], new.results)


class IndexCastToLLVM(RewritePattern):
    """index <-> iN: nothing for i32, else sign-extend or truncate (index is i32)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.IndexCastOp, rewriter: PatternRewriter, /):
        source = as_llvm(op.input, rewriter)
        target = llvm_type(op.result.type)
        src_t, dst_t = source.type, target
        src_w = (src_t.element_type if isinstance(src_t, VectorType) else src_t).width.data  # type: ignore[union-attr]
        dst_w = (dst_t.element_type if isinstance(dst_t, VectorType) else dst_t).width.data  # type: ignore[union-attr]
        if src_w == dst_w:
            replace_with_llvm(rewriter, op, [], [source])
            return
        new = (llvm.SExtOp if src_w < dst_w else llvm.TruncOp).create(operands=[source], result_types=[target])
        replace_with_llvm(rewriter, op, [new], new.results)


class CmpiToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.CmpiOp, rewriter: PatternRewriter, /):
        # arith and llvm number the predicates alike: eq ne slt sle sgt sge ult ule ugt uge
        lhs, rhs = as_llvm(op.lhs, rewriter), as_llvm(op.rhs, rewriter)
        rewriter.replace(op, llvm.ICmpOp(lhs, rhs, IntegerAttr(op.predicate.value.data, i64)))


class CmpfToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.CmpfOp, rewriter: PatternRewriter, /):
        predicate = op.predicate.value.data  # false oeq ogt oge olt ole one ord ueq ugt uge ult ule une uno true
        if predicate in (0, 15):
            rewriter.replace(op, llvm.ConstantOp(IntegerAttr(int(predicate == 15), i1), i1))
            return
        lhs, rhs = as_llvm(op.lhs, rewriter), as_llvm(op.rhs, rewriter)
        rewriter.replace(op, llvm.FCmpOp(lhs, rhs, IntegerAttr(predicate, i64)))


class SelectToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.SelectOp, rewriter: PatternRewriter, /):
        new = llvm.SelectOp(as_llvm(op.cond, rewriter), as_llvm(op.lhs, rewriter), as_llvm(op.rhs, rewriter))
        replace_with_llvm(rewriter, op, [new], [new.res])


def _is_number_constant(value: SSAValue) -> bool:
    """A float constant that is not NaN (after conversion it is an `llvm.mlir.constant`)."""
    owner = value.owner
    if isinstance(owner, arith.ConstantOp | llvm.ConstantOp):
        attr = owner.value
        if isinstance(attr, FloatAttr):
            return not isnan(attr.value.data)
        if isinstance(attr, DenseIntOrFPElementsAttr):
            return not any(isnan(v) for v in attr.get_values())  # type: ignore[arg-type]
    return False


class MinMaxFToLLVM(RewritePattern):
    """Float min/max as fcmp + select (see the module docstring)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.MaximumfOp | arith.MaxnumfOp | arith.MinimumfOp | arith.MinnumfOp,
                          rewriter: PatternRewriter, /):  # fmt: skip
        a, b = as_llvm(op.lhs, rewriter), as_llvm(op.rhs, rewriter)
        if isinstance(a.type, VectorType):
            raise PassFailedException(f"{op.name} on vectors is not supported; use it on scalars")
        is_max = isinstance(op, arith.MaximumfOp | arith.MaxnumfOp)
        propagate_nan = isinstance(op, arith.MaximumfOp | arith.MinimumfOp)
        if _is_number_constant(op.lhs):
            a, b = b, a  # the constant is never NaN: keep it as b
        better = "ogt" if is_max else "olt"
        ops: list[Operation] = []
        if _is_number_constant(op.rhs) or _is_number_constant(op.lhs):
            # NaN in a: `a better b` is false for maxnum (gives b), so ask the opposite question for maximum.
            if propagate_nan:
                cmp = llvm.FCmpOp(a, b, "olt" if is_max else "ogt")
                ops = [cmp, sel := llvm.SelectOp(cmp, b, a)]
            else:
                cmp = llvm.FCmpOp(a, b, better)
                ops = [cmp, sel := llvm.SelectOp(cmp, a, b)]
        else:
            cmp = llvm.FCmpOp(a, b, better)
            first = llvm.SelectOp(cmp, a, b)  # NaN in a or b gives b
            nan_side, other = (a, a) if propagate_nan else (b, a)
            is_nan = llvm.FCmpOp(nan_side, nan_side, "uno")
            ops = [cmp, first, is_nan, sel := llvm.SelectOp(is_nan, other, first)]
        rewriter.replace(op, ops, [sel.res])


class MinMaxIToLLVM(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.MaxSIOp | arith.MinSIOp | arith.MaxUIOp | arith.MinUIOp,
                          rewriter: PatternRewriter, /):  # fmt: skip
        a, b = as_llvm(op.lhs, rewriter), as_llvm(op.rhs, rewriter)
        predicate = {arith.MaxSIOp: "sgt", arith.MinSIOp: "slt", arith.MaxUIOp: "ugt", arith.MinUIOp: "ult"}[type(op)]
        cmp = llvm.ICmpOp(a, b, IntegerAttr(llvm.ICmpPredicateFlag(predicate).to_int(), i64))
        sel = llvm.SelectOp(cmp, a, b)
        replace_with_llvm(rewriter, op, [cmp, sel], [sel.res])


class RoundingDivToLLVM(RewritePattern):
    """floordivsi/ceildivsi/ceildivui: truncating division, then step by one when the remainder says so."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.FloorDivSIOp | arith.CeilDivSIOp | arith.CeilDivUIOp,
                          rewriter: PatternRewriter, /):  # fmt: skip
        a, b = as_llvm(op.lhs, rewriter), as_llvm(op.rhs, rewriter)
        t = a.type
        if not isinstance(t, IntegerType):
            raise PassFailedException(f"{op.name} on {t} is not supported; use it on scalars")

        def icmp(x: SSAValue, y: SSAValue, predicate: str) -> llvm.ICmpOp:
            return llvm.ICmpOp(x, y, IntegerAttr(llvm.ICmpPredicateFlag(predicate).to_int(), i64))

        zero = llvm.ConstantOp(IntegerAttr(0, t), t)
        signed = not isinstance(op, arith.CeilDivUIOp)
        quotient = llvm.SDivOp(a, b) if signed else llvm.UDivOp(a, b)
        remainder = llvm.SRemOp(a, b) if signed else llvm.URemOp(a, b)
        inexact = icmp(remainder.res, zero.result, "ne")
        ops: list[Operation] = [zero, quotient, remainder, inexact]
        if signed:
            sign = llvm.XOrOp(remainder.res, b)  # remainder and divisor signs differ <=> sign < 0
            ops += [sign, side := icmp(sign.res, zero.result, "slt" if isinstance(op, arith.FloorDivSIOp) else "sge")]
            ops.append(step := llvm.AndOp(inexact.res, side.res))
        else:
            step = inexact
        if isinstance(op, arith.FloorDivSIOp):
            ops += [delta := llvm.SExtOp(step.results[0], t), result := llvm.AddOp(quotient.res, delta.res)]
        else:
            ops += [delta := llvm.ZExtOp(step.results[0], t), result := llvm.AddOp(quotient.res, delta.res)]
        replace_with_llvm(rewriter, op, ops, [result.res])


class ConvertArithToLLVMPass(ModulePass):
    """Every `arith` op t2m's lowering emits, to `llvm` ops on i32/f32 (and vectors of them)."""

    name = "convert-arith-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier(
                [
                    ConstantToLLVM(),
                    BinaryToLLVM(),
                    NegfToLLVM(),
                    CastToLLVM(),
                    FloatToIntToLLVM(),
                    CountLeadingZerosToLLVM(),
                    IndexCastToLLVM(),
                    CmpiToLLVM(),
                    CmpfToLLVM(),
                    SelectToLLVM(),
                    MinMaxFToLLVM(),
                    MinMaxIToLLVM(),
                    RoundingDivToLLVM(),
                ]
            ),
            apply_recursively=False,
        ).rewrite_module(op)
