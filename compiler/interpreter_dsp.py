"""The `arm_dsp` ops in xDSL's interpreter (loop-level IR): each computes its Armv7-M meaning (dialects/arm_dsp.py).

xDSL's interpreter carries i32 values as Python ints; the DSP semantics work on unsigned 32-bit registers, so each
op converts in and out. One implementation serves every op: `arm_dsp.SEMANTICS` says what each computes.
"""

from __future__ import annotations

from typing import Any

from xdsl.interpreter import Interpreter, InterpreterFunctions, PythonValues, impl, register_impls

from t2m.dialects import arm_dsp


def _run(_: InterpreterFunctions, interpreter: Interpreter, op: arm_dsp.DspOp, args: tuple[Any, ...]) -> PythonValues:
    semantics = arm_dsp.SEMANTICS[type(op)]
    return (arm_dsp.s32(semantics(op, *(arm_dsp.u32(int(a)) for a in args))),)


ArmDspFunctions: type[InterpreterFunctions] = register_impls(
    type(
        "ArmDspFunctions",
        (InterpreterFunctions,),
        {f"run_{op.name.split('.')[1]}": impl(op)(_run) for op in arm_dsp.SEMANTICS},
    )
)
"""xDSL interpreter functions for every arm_dsp op."""
