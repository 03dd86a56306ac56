// The integer arith of the int8 kernels -> llvm: i8/i32/i64 values keep their width; extsi/extui/trunci are
// sext/zext/trunc; add/mul carry no overflow flags (int32 accumulators wrap, as the reference's modulo-2^32
// results do); math.ctlz (the softmax's normalisation) becomes llvm.ctlz with zero defined.
// RUN: t2m-opt %s -p convert-arith-to-llvm --split-input-file | filecheck %s
// A whole int8 softmax to Cortex-M4 code: 64-bit products are SMLAL, the leading zeros CLZ, and nothing calls
// a runtime helper (no __aeabi_* 64-bit division or shift).
// RUN: t2m-opt --fuse --lower %S/Inputs/int8-softmax.mlir -o %t.mlir
// RUN: t2m-translate %t.mlir | filecheck %s --check-prefix=LL
// RUN: t2m-translate %t.mlir --emit asm -O2 -o %t.s
// RUN: filecheck %s --check-prefix=ASM < %t.s
// RUN: filecheck %s --check-prefix=CALLS < %t.s

// CHECK-LABEL: func.func @ints(%b: i8, %x: i32, %m: i64) -> i8 {
// CHECK-NEXT:    %c31 = llvm.mlir.constant(31) : i64
// CHECK-NEXT:    %big = llvm.mlir.constant(1073741824) : i64
// CHECK-NEXT:    %zero = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:    %w = llvm.sext %b : i8 to i32
// CHECK-NEXT:    %p = llvm.mul %w, %x : i32
// CHECK-NEXT:    %s = llvm.add %p, %x : i32
// CHECK-NEXT:    %wide = llvm.sext %s : i32 to i64
// CHECK-NEXT:    %prod = llvm.mul %wide, %m : i64
// CHECK-NEXT:    %nudged = llvm.add %prod, %big : i64
// CHECK-NEXT:    %high = llvm.ashr %nudged, %c31 : i64
// CHECK-NEXT:    %h = llvm.trunc %high : i64 to i32
// CHECK-NEXT:    %mask = llvm.and %h, %x : i32
// CHECK-NEXT:    %neg = llvm.icmp "slt" %h, %zero : i32
// CHECK-NEXT:    %bit = llvm.zext %neg : i1 to i32
// CHECK-NEXT:    %sh = llvm.ashr %h, %x : i32
// CHECK-NEXT:    %sl = llvm.shl %sh, %bit : i32
// CHECK-NEXT:    %[[DEFINED:.*]] = llvm.mlir.constant(false) : i1
// CHECK-NEXT:    %[[LZ:.*]] = llvm.call_intrinsic "llvm.ctlz.i32"(%sl, %[[DEFINED]]) : (i32, i1) -> i32
// CHECK-NEXT:    %sel = llvm.select %neg, %[[LZ]], %mask : i1, i32
// CHECK-NEXT:    %q = llvm.sdiv %sel, %x : i32
// CHECK-NEXT:    %y = llvm.trunc %q : i32 to i8
// CHECK-NEXT:    func.return %y : i8
func.func @ints(%b: i8, %x: i32, %m: i64) -> i8 {
  %c31 = arith.constant 31 : i64
  %big = arith.constant 1073741824 : i64
  %zero = arith.constant 0 : i32
  %w = arith.extsi %b : i8 to i32
  %p = arith.muli %w, %x : i32
  %s = arith.addi %p, %x : i32
  %wide = arith.extsi %s : i32 to i64
  %prod = arith.muli %wide, %m : i64
  %nudged = arith.addi %prod, %big : i64
  %high = arith.shrsi %nudged, %c31 : i64
  %h = arith.trunci %high : i64 to i32
  %mask = arith.andi %h, %x : i32
  %neg = arith.cmpi slt, %h, %zero : i32
  %bit = arith.extui %neg : i1 to i32
  %sh = arith.shrsi %h, %x : i32
  %sl = arith.shli %sh, %bit : i32
  %lz = math.ctlz %sl : i32
  %sel = arith.select %neg, %lz, %mask : i32
  %q = arith.divsi %sel, %x : i32
  %y = arith.trunci %q : i32 to i8
  func.return %y : i8
}

// -----

// i8 and i64 constants keep their type (a negative i8 stays negative).
// CHECK-LABEL: func.func @constants
// CHECK-NEXT:    %[[A:.*]] = llvm.mlir.constant(-128 : i8) : i8
// CHECK-NEXT:    %[[B:.*]] = llvm.mlir.constant(-1073741823) : i64
// CHECK-NEXT:    "test.op"(%[[A]], %[[B]]) : (i8, i64) -> ()
func.func @constants() {
  %a = arith.constant -128 : i8
  %b = arith.constant -1073741823 : i64
  "test.op"(%a, %b) : (i8, i64) -> ()
  func.return
}

// LL:      define internal void @"q_L00_softmax"(ptr %"in", ptr %"out") noinline
// LL:        load i8, ptr
// LL:        sext i8 %{{.*}} to i32
// LL:        mul i64 %{{.*}}, 1717986918
// LL:        call i32 @"llvm.ctlz.i32"(i32 %{{.*}}, i1 0)
// LL:        trunc i32 %{{.*}} to i8
// LL:        store i8
// LL:      declare i32 @"llvm.ctlz.i32"(i32 %{{.*}}, i1 %{{.*}})

// ASM-LABEL: q_L00_softmax:
// ASM:         smlal
// ASM:         clz
// ASM:         .fnend

// CALLS-LABEL: q_L00_softmax:
// CALLS-NOT:     __aeabi
// CALLS-NOT:     {{[[:space:]]}}bl{{[[:space:]]}}
// CALLS:         .fnend
