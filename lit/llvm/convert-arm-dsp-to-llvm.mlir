// convert-arm-dsp-to-llvm: each DSP op becomes the llvm.arm.* intrinsic of its instruction (rotations as funnel
// shifts, SSUB8+SEL for the byte max, PKHBT/PKHTB as the and/or/shift pattern the ARM backend selects).
// RUN: t2m-opt %s -p convert-arm-dsp-to-llvm | filecheck %s
// The Cortex-M4 object has one instruction per op; the host gets portable definitions (no llvm.arm.* left).
// RUN: t2m-opt %s -p convert-arm-dsp-to-llvm | t2m-translate --emit asm | filecheck %s --check-prefix=M4
// RUN: t2m-opt %s -p convert-arm-dsp-to-llvm | t2m-translate --target host -O 2 --emit ll | filecheck %s --check-prefix=HOST

// CHECK-LABEL: llvm.func @k
// CHECK:      %[[X:.*]] = llvm.call_intrinsic "llvm.arm.sxtb16"(%b)
// CHECK:      %[[ROT:.*]] = llvm.call_intrinsic "llvm.fshr.i32"(%b, %b, %{{.*}})
// CHECK-NEXT: %[[Y:.*]] = llvm.call_intrinsic "llvm.arm.sxtb16"(%[[ROT]])
// CHECK:      %[[ACC:.*]] = llvm.call_intrinsic "llvm.arm.smlad"(%a, %[[X]], %c)
// CHECK:      llvm.call_intrinsic "llvm.arm.ssub8"(%[[ACC]], %a)
// CHECK-NEXT: %[[M:.*]] = llvm.call_intrinsic "llvm.arm.sel"(%[[ACC]], %a)
// CHECK:      llvm.and
// CHECK:      llvm.shl
// CHECK:      llvm.or
// CHECK:      llvm.call_intrinsic "llvm.arm.ssat"

// M4-LABEL: k:
// M4-DAG:   sxtb16 {{r[0-9]+}}, r1{{$}}
// M4-DAG:   sxtb16 {{r[0-9]+}}, r1, ror #8
// M4-DAG:   smlad
// M4-DAG:   ssub8
// M4-DAG:   sel
// M4-DAG:   pkhbt {{.*}}, lsl #16
// M4-DAG:   ssat {{r[0-9]+}}, #8
// M4:       bx lr

// HOST-LABEL: define {{.*}}i32 @k(
// HOST-NOT:   llvm.arm.
// HOST:       ret i32
llvm.func @k(%a: i32, %b: i32, %c: i32) -> i32 {
  %x = arm_dsp.sxtb16 %b {rotate = 0 : i32}
  %y = arm_dsp.sxtb16 %b {rotate = 8 : i32}
  %acc = arm_dsp.smlad %a, %x, %c
  %m = arm_dsp.smax8 %acc, %a
  %p = arm_dsp.pkhbt %m, %y {shift = 16 : i32}
  %s = arm_dsp.ssat %p {bits = 8 : i32}
  llvm.return %s : i32
}
