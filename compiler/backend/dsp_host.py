"""The Cortex-M4 DSP intrinsics (`llvm.arm.smlad`...) as portable LLVM IR, so the host JIT runs t2m's int8 kernels.

`convert-arm-dsp-to-llvm` emits the ARM intrinsics that select to SMLAD, SXTB16, QADD8...; LLVM cannot compile
them for another machine. For any non-ARM target the backend renames each such declaration to `t2m.arm.<name>`
and links the definitions below: generic LLVM IR (vector lanes over bitcasts of the i32 register, `sadd.sat`,
`smax`...) with the bits of the Armv7-M instruction, inlined away by the optimizer. The host JIT is then an exact
oracle of the Cortex-M4 object (tests/test_arm_dsp.py checks each one against dialects/arm_dsp.py).

Lanes: a little-endian host puts byte 0 of the register in vector lane 0, as the M4 does.
`sel` reads flags set by the preceding `ssub8` on the M4; t2m emits it only as the pair `ssub8(a, b); sel(a, b)`
(a per-byte max), which `check_pairs` enforces before the portable `sel` stands in as that max.
"""

from __future__ import annotations

import llvmlite.binding as llvm

from .errors import BackendError

_DEFINITIONS = r"""
define linkonce_odr i32 @t2m.arm.smlad(i32 %a, i32 %b, i32 %acc) alwaysinline {
  %va = bitcast i32 %a to <2 x i16>
  %vb = bitcast i32 %b to <2 x i16>
  %wa = sext <2 x i16> %va to <2 x i32>
  %wb = sext <2 x i16> %vb to <2 x i32>
  %p = mul <2 x i32> %wa, %wb
  %s = call i32 @llvm.vector.reduce.add.v2i32(<2 x i32> %p)
  %r = add i32 %s, %acc
  ret i32 %r
}

define linkonce_odr i32 @t2m.arm.smladx(i32 %a, i32 %b, i32 %acc) alwaysinline {
  %vb = bitcast i32 %b to <2 x i16>
  %sw = shufflevector <2 x i16> %vb, <2 x i16> poison, <2 x i32> <i32 1, i32 0>
  %b2 = bitcast <2 x i16> %sw to i32
  %r = call i32 @t2m.arm.smlad(i32 %a, i32 %b2, i32 %acc)
  ret i32 %r
}

define linkonce_odr i32 @t2m.arm.smuad(i32 %a, i32 %b) alwaysinline {
  %r = call i32 @t2m.arm.smlad(i32 %a, i32 %b, i32 0)
  ret i32 %r
}

define linkonce_odr i32 @t2m.arm.smlabb(i32 %a, i32 %b, i32 %acc) alwaysinline {
  %ta = trunc i32 %a to i16
  %tb = trunc i32 %b to i16
  %wa = sext i16 %ta to i32
  %wb = sext i16 %tb to i32
  %p = mul i32 %wa, %wb
  %r = add i32 %p, %acc
  ret i32 %r
}

define linkonce_odr i32 @t2m.arm.sxtb16(i32 %x) alwaysinline {
  %v = bitcast i32 %x to <4 x i8>
  %even = shufflevector <4 x i8> %v, <4 x i8> poison, <2 x i32> <i32 0, i32 2>
  %w = sext <2 x i8> %even to <2 x i16>
  %r = bitcast <2 x i16> %w to i32
  ret i32 %r
}

define linkonce_odr i32 @t2m.arm.sxtab16(i32 %a, i32 %x) alwaysinline {
  %e = call i32 @t2m.arm.sxtb16(i32 %x)
  %ve = bitcast i32 %e to <2 x i16>
  %va = bitcast i32 %a to <2 x i16>
  %s = add <2 x i16> %va, %ve
  %r = bitcast <2 x i16> %s to i32
  ret i32 %r
}

define linkonce_odr i32 @t2m.arm.qadd8(i32 %a, i32 %b) alwaysinline {
  %va = bitcast i32 %a to <4 x i8>
  %vb = bitcast i32 %b to <4 x i8>
  %s = call <4 x i8> @llvm.sadd.sat.v4i8(<4 x i8> %va, <4 x i8> %vb)
  %r = bitcast <4 x i8> %s to i32
  ret i32 %r
}

define linkonce_odr i32 @t2m.arm.qsub8(i32 %a, i32 %b) alwaysinline {
  %va = bitcast i32 %a to <4 x i8>
  %vb = bitcast i32 %b to <4 x i8>
  %s = call <4 x i8> @llvm.ssub.sat.v4i8(<4 x i8> %va, <4 x i8> %vb)
  %r = bitcast <4 x i8> %s to i32
  ret i32 %r
}

define linkonce_odr i32 @t2m.arm.ssub8(i32 %a, i32 %b) alwaysinline {
  %va = bitcast i32 %a to <4 x i8>
  %vb = bitcast i32 %b to <4 x i8>
  %s = sub <4 x i8> %va, %vb
  %r = bitcast <4 x i8> %s to i32
  ret i32 %r
}

define linkonce_odr i32 @t2m.arm.sel(i32 %a, i32 %b) alwaysinline {
  %va = bitcast i32 %a to <4 x i8>
  %vb = bitcast i32 %b to <4 x i8>
  %m = call <4 x i8> @llvm.smax.v4i8(<4 x i8> %va, <4 x i8> %vb)
  %r = bitcast <4 x i8> %m to i32
  ret i32 %r
}

define linkonce_odr i32 @t2m.arm.ssat(i32 %x, i32 %bits) alwaysinline {
  %k = sub i32 %bits, 1
  %top = shl i32 1, %k
  %hi = sub i32 %top, 1
  %lo = sub i32 0, %top
  %a = call i32 @llvm.smin.i32(i32 %x, i32 %hi)
  %r = call i32 @llvm.smax.i32(i32 %a, i32 %lo)
  ret i32 %r
}

define linkonce_odr i32 @t2m.arm.usat(i32 %x, i32 %bits) alwaysinline {
  %top = shl i32 1, %bits
  %hi = sub i32 %top, 1
  %a = call i32 @llvm.smax.i32(i32 %x, i32 0)
  %r = call i32 @llvm.smin.i32(i32 %a, i32 %hi)
  ret i32 %r
}

define linkonce_odr i32 @t2m.arm.ssat16(i32 %x, i32 %bits) alwaysinline {
  %k = sub i32 %bits, 1
  %k16 = trunc i32 %k to i16
  %top = shl i16 1, %k16
  %hi = sub i16 %top, 1
  %lo = sub i16 0, %top
  %vhi0 = insertelement <2 x i16> poison, i16 %hi, i32 0
  %vhi = shufflevector <2 x i16> %vhi0, <2 x i16> poison, <2 x i32> zeroinitializer
  %vlo0 = insertelement <2 x i16> poison, i16 %lo, i32 0
  %vlo = shufflevector <2 x i16> %vlo0, <2 x i16> poison, <2 x i32> zeroinitializer
  %v = bitcast i32 %x to <2 x i16>
  %a = call <2 x i16> @llvm.smin.v2i16(<2 x i16> %v, <2 x i16> %vhi)
  %s = call <2 x i16> @llvm.smax.v2i16(<2 x i16> %a, <2 x i16> %vlo)
  %r = bitcast <2 x i16> %s to i32
  ret i32 %r
}

declare i32 @llvm.vector.reduce.add.v2i32(<2 x i32>)
declare <4 x i8> @llvm.sadd.sat.v4i8(<4 x i8>, <4 x i8>)
declare <4 x i8> @llvm.ssub.sat.v4i8(<4 x i8>, <4 x i8>)
declare <4 x i8> @llvm.smax.v4i8(<4 x i8>, <4 x i8>)
declare i32 @llvm.smin.i32(i32, i32)
declare i32 @llvm.smax.i32(i32, i32)
declare <2 x i16> @llvm.smin.v2i16(<2 x i16>, <2 x i16>)
declare <2 x i16> @llvm.smax.v2i16(<2 x i16>, <2 x i16>)
"""

PORTABLE = frozenset(
    f"llvm.arm.{name}"
    for name in ("smlad", "smladx", "smuad", "smlabb", "sxtb16", "sxtab16", "qadd8", "qsub8", "ssub8", "sel",
                 "ssat", "usat", "ssat16")
)
"""The ARM intrinsics t2m emits and the host can run through the definitions above."""


def check_pairs(module: llvm.ModuleRef) -> None:
    """Every `llvm.arm.sel` must directly follow an `llvm.arm.ssub8` of the same operands (a per-byte max)."""
    for function in module.functions:
        for block in function.blocks:
            last_ssub8: list[str] | None = None
            for instruction in block.instructions:
                if instruction.opcode != "call":
                    continue
                operands = list(instruction.operands)
                callee, args = operands[-1].name, [str(a) for a in operands[:-1]]
                if callee == "llvm.arm.sel" and args != last_ssub8:
                    raise BackendError(
                        f"'llvm.arm.sel' in '{function.name}' does not follow an 'llvm.arm.ssub8' of the same "
                        "operands: its GE flags have no portable meaning"
                    )
                last_ssub8 = args if callee == "llvm.arm.ssub8" else None


def make_portable(module: llvm.ModuleRef) -> None:
    """Replace the module's ARM DSP intrinsics by the portable definitions (for a non-ARM target)."""
    used = [f for f in module.functions if f.is_declaration and f.name in PORTABLE]
    if not used:
        return
    check_pairs(module)
    for function in used:
        function.name = function.name.replace("llvm.arm.", "t2m.arm.", 1)
    definitions = llvm.parse_assembly(_DEFINITIONS)
    definitions.triple, definitions.data_layout = module.triple, module.data_layout
    module.link_in(definitions)
