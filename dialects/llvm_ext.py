"""LLVM instructions t2m needs that xDSL 0.74's `llvm` dialect lacks.

xDSL has `llvm.sitofp` but no `fptosi`/`fptoui`/`uitofp`, no `extractelement` and no `llvm.fmuladd` intrinsic.
These ops mirror the LLVM instructions one to one; `t2m.compiler.backend.emit_llvm` prints them to LLVM IR.
They live in their own `llvm_ext` dialect so that xDSL's `llvm` dialect stays untouched.
"""

from __future__ import annotations

from typing import ClassVar

from xdsl.dialects.builtin import AnyFloatConstr, IntegerType, SignlessIntegerConstraint, VectorType
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    AnyAttr,
    IRDLOperation,
    VarConstraint,
    irdl_op_definition,
    operand_def,
    result_def,
    traits_def,
)
from xdsl.traits import NoMemoryEffect, Pure
from xdsl.utils.exceptions import VerifyException

_FLOAT = AnyFloatConstr | VectorType.constr(AnyFloatConstr)
_INT = SignlessIntegerConstraint | VectorType.constr(SignlessIntegerConstraint)


def _shape(t: Attribute) -> tuple[int, ...]:
    return tuple(t.get_shape()) if isinstance(t, VectorType) else ()


class _FloatIntCast(IRDLOperation):
    """A float <-> integer conversion; vectors convert lane by lane and keep their shape."""

    traits = traits_def(Pure())
    assembly_format = "$arg attr-dict `:` type($arg) `to` type($res)"

    def __init__(self, arg: SSAValue | Operation, res_type: Attribute):
        super().__init__(operands=[arg], result_types=[res_type])

    def verify_(self) -> None:
        arg, res = self.operands[0].type, self.results[0].type
        if _shape(arg) != _shape(res):
            raise VerifyException(f"{self.name}: {arg} and {res} must have the same shape")


@irdl_op_definition
class FPToSIOp(_FloatIntCast):
    """Float to signed integer, rounding toward zero (C's `(int)x`); out of range gives poison."""

    name = "llvm_ext.fptosi"
    arg = operand_def(_FLOAT)
    res = result_def(_INT)


@irdl_op_definition
class FPToUIOp(_FloatIntCast):
    """Float to unsigned integer, rounding toward zero."""

    name = "llvm_ext.fptoui"
    arg = operand_def(_FLOAT)
    res = result_def(_INT)


@irdl_op_definition
class UIToFPOp(_FloatIntCast):
    """Unsigned integer to float, rounding to nearest."""

    name = "llvm_ext.uitofp"
    arg = operand_def(_INT)
    res = result_def(_FLOAT)


@irdl_op_definition
class ExtractElementOp(IRDLOperation):
    """One lane of a 1-D vector (`extractelement <4 x float> %v, i32 %i`)."""

    name = "llvm_ext.extractelement"
    ELEMENT: ClassVar = VarConstraint("ELEMENT", AnyAttr())

    vector = operand_def(VectorType.constr(ELEMENT))
    index = operand_def(SignlessIntegerConstraint)
    res = result_def(ELEMENT)

    traits = traits_def(NoMemoryEffect())
    assembly_format = "$vector `[` $index `:` type($index) `]` attr-dict `:` type($vector)"

    def __init__(self, vector: SSAValue | Operation, index: SSAValue | Operation):
        vector_type = SSAValue.get(vector).type
        assert isinstance(vector_type, VectorType)
        super().__init__(operands=[vector, index], result_types=[vector_type.element_type])

    def verify_(self) -> None:
        vector_type = self.vector.type
        assert isinstance(vector_type, VectorType)
        if vector_type.get_num_dims() != 1:
            raise VerifyException(f"{self.name}: only 1-D vectors, got {vector_type}")
        if not isinstance(self.index.type, IntegerType):
            raise VerifyException(f"{self.name}: the lane index must be an integer")


@irdl_op_definition
class FMulAddOp(IRDLOperation):
    """`llvm.fmuladd`: a * b + c, fused only where the target makes that faster (VMUL + VADD on cortex-m4)."""

    name = "llvm_ext.fmuladd"
    T: ClassVar = VarConstraint("T", _FLOAT)

    a = operand_def(T)
    b = operand_def(T)
    c = operand_def(T)
    res = result_def(T)

    traits = traits_def(Pure())
    assembly_format = "$a `,` $b `,` $c attr-dict `:` type($res)"

    def __init__(self, a: SSAValue | Operation, b: SSAValue | Operation, c: SSAValue | Operation):
        super().__init__(operands=[a, b, c], result_types=[SSAValue.get(c).type])


LLVM_EXT = Dialect("llvm_ext", [FPToSIOp, FPToUIOp, UIToFPOp, ExtractElementOp, FMulAddOp], [])
