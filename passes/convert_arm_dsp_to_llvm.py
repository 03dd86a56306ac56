"""convert-arm-dsp-to-llvm: each `arm_dsp` op becomes the LLVM intrinsic the ARM backend selects its instruction from.

    arm_dsp.smlad %a, %b, %acc      ->  llvm.call_intrinsic "llvm.arm.smlad"(%a, %b, %acc)        SMLAD
    arm_dsp.sxtb16 %x {rotate = 8}  ->  llvm.arm.sxtb16(llvm.fshr.i32(%x, %x, 8))                 SXTB16 ..., ROR #8
    arm_dsp.smax8 %a, %b            ->  llvm.arm.ssub8(%a, %b); llvm.arm.sel(%a, %b)              SSUB8 + SEL
    arm_dsp.pkhbt %a, %b {shift}    ->  (%a & 0xffff) | ((%b << shift) & 0xffff0000)              PKHBT

The result is target-neutral text: on the Cortex-M4 each intrinsic is one instruction; on the host the backend
links portable definitions of the same intrinsics (compiler/backend/dsp_host.py), so the host JIT computes the
M4's bits. Immediates (rotation, saturation width, pack shift) are constants, as the instructions need.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import llvm
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i32
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import IRDLOperation
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern

from t2m.dialects import arm_dsp


def _const(value: int, ops: list[Operation]) -> SSAValue:
    constant = llvm.ConstantOp(IntegerAttr(value, i32), i32)
    ops.append(constant)
    return constant.result


def _intrinsic(name: str, args: list[SSAValue], ops: list[Operation]) -> SSAValue:
    call = llvm.CallIntrinsicOp(name, args, [i32])
    ops.append(call)
    result = call.ress
    assert result is not None
    return result


def _rotated(x: SSAValue, rotate: int, ops: list[Operation]) -> SSAValue:
    """ROR(x, rotate) as a funnel shift, which the ARM backend folds into SXTB16/SXTAB16's ROR operand."""
    if rotate == 0:
        return x
    return _intrinsic("llvm.fshr.i32", [x, x, _const(rotate, ops)], ops)


def _binary(kind: type[IRDLOperation], a: SSAValue, b: SSAValue, ops: list[Operation]) -> SSAValue:
    new = kind(a, b)  # pyright: ignore[reportCallIssue]
    ops.append(new)
    return new.results[0]


def lower(op: arm_dsp.DspOp, ops: list[Operation]) -> SSAValue:
    """The llvm ops (appended to `ops`) computing `op`; returns its value."""
    args = list(op.operands)
    match op:
        case arm_dsp.Sxtb16Op():
            return _intrinsic(op.INTRINSIC, [_rotated(args[0], op.immediate(), ops)], ops)
        case arm_dsp.Sxtab16Op():
            return _intrinsic(op.INTRINSIC, [args[0], _rotated(args[1], op.immediate(), ops)], ops)
        case arm_dsp.Smax8Op():
            _intrinsic("llvm.arm.ssub8", args, ops)  # sets the GE flags SEL reads
            return _intrinsic("llvm.arm.sel", args, ops)
        case arm_dsp.SsatOp() | arm_dsp.UsatOp() | arm_dsp.Ssat16Op():
            return _intrinsic(op.INTRINSIC, [args[0], _const(op.immediate(), ops)], ops)
        case arm_dsp.PkhbtOp():
            low = _binary(llvm.AndOp, args[0], _const(0xFFFF, ops), ops)
            shifted = _binary(llvm.ShlOp, args[1], _const(op.immediate(), ops), ops)
            high = _binary(llvm.AndOp, shifted, _const(-0x10000, ops), ops)
            return _binary(llvm.OrOp, low, high, ops)
        case arm_dsp.PkhtbOp():
            high = _binary(llvm.AndOp, args[0], _const(-0x10000, ops), ops)
            shifted = _binary(llvm.AShrOp, args[1], _const(op.immediate(), ops), ops)
            low = _binary(llvm.AndOp, shifted, _const(0xFFFF, ops), ops)
            return _binary(llvm.OrOp, high, low, ops)
        case _:
            return _intrinsic(op.INTRINSIC, args, ops)


class LowerDspOp(RewritePattern):
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        if not isinstance(op, arm_dsp.DspOp):
            return
        ops: list[Operation] = []
        value = lower(op, ops)
        rewriter.replace(op, ops, [value])


@dataclass(frozen=True)
class ConvertArmDspToLLVMPass(ModulePass):
    """arm_dsp ops -> llvm intrinsic calls (one instruction each on the Cortex-M4)."""

    name = "convert-arm-dsp-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerDspOp()).rewrite_module(op)

