// RUN: t2m-opt %s -p convert-arith-to-llvm --split-input-file | filecheck %s

// Constants: index becomes i32 (users still typed index get a cast back, removed later by
// reconcile-unrealized-casts); f32 and vector splats stay as they are.
// CHECK-LABEL: func.func @constants
// CHECK-NEXT:    %[[I:.*]] = llvm.mlir.constant(7 : i32) : i32
// CHECK-NEXT:    %[[IX:.*]] = builtin.unrealized_conversion_cast %[[I]] : i32 to index
// CHECK-NEXT:    %[[B:.*]] = llvm.mlir.constant(true) : i1
// CHECK-NEXT:    %[[F:.*]] = llvm.mlir.constant(-1.500000e+00 : f32) : f32
// CHECK-NEXT:    %[[V:.*]] = llvm.mlir.constant(dense<0.000000e+00> : vector<4xf32>) : vector<4xf32>
// CHECK-NEXT:    %[[BIG:.*]] = llvm.mlir.constant(-1 : i32) : i32
// CHECK-NEXT:    %{{.*}} = builtin.unrealized_conversion_cast %[[BIG]] : i32 to index
// CHECK-NEXT:    "test.op"(%[[IX]], %[[B]], %[[F]], %[[V]], %{{.*}})
func.func @constants() {
  %i = arith.constant 7 : index
  %b = arith.constant true
  %f = arith.constant -1.5 : f32
  %v = arith.constant dense<0.0> : vector<4xf32>
  %big = arith.constant 4294967295 : index
  "test.op"(%i, %b, %f, %v, %big) : (index, i1, f32, vector<4xf32>, index) -> ()
  func.return
}

// -----

// One LLVM instruction per binary op; index operands are cast to i32 first; overflow and fast-math
// flags are kept. Vectors are fine.
// CHECK-LABEL: func.func @binary
// CHECK:         %[[A:.*]] = builtin.unrealized_conversion_cast %a : index to i32
// CHECK:         %[[S:.*]] = llvm.add %[[A]], %{{.*}} overflow<nsw> : i32
// CHECK-NEXT:    builtin.unrealized_conversion_cast %[[S]] : i32 to index
// CHECK:         llvm.mul %[[S]], %{{.*}} : i32
// CHECK:         llvm.sdiv %x, %x : i32
// CHECK-NEXT:    llvm.udiv %x, %x : i32
// CHECK-NEXT:    llvm.srem %x, %x : i32
// CHECK-NEXT:    llvm.urem %x, %x : i32
// CHECK-NEXT:    llvm.and %x, %x : i32
// CHECK-NEXT:    llvm.or %x, %x : i32
// CHECK-NEXT:    llvm.xor %x, %x : i32
// CHECK-NEXT:    llvm.shl %x, %x : i32
// CHECK-NEXT:    llvm.ashr %x, %x : i32
// CHECK-NEXT:    llvm.lshr %x, %x : i32
// CHECK-NEXT:    llvm.sub %x, %x : i32
// CHECK-NEXT:    llvm.fadd %f, %f {fastmathFlags = #llvm.fastmath<contract>} : f32
// CHECK-NEXT:    llvm.fsub %f, %f : f32
// CHECK-NEXT:    llvm.fmul %v, %v : vector<4xf32>
// CHECK-NEXT:    llvm.fdiv %f, %f : f32
// CHECK-NEXT:    llvm.fneg %f : f32
func.func @binary(%a: index, %x: i32, %f: f32, %v: vector<4xf32>) {
  %0 = arith.addi %a, %a overflow<nsw> : index
  %1 = arith.muli %0, %a : index
  %2 = arith.divsi %x, %x : i32
  %3 = arith.divui %x, %x : i32
  %4 = arith.remsi %x, %x : i32
  %5 = arith.remui %x, %x : i32
  %6 = arith.andi %x, %x : i32
  %7 = arith.ori %x, %x : i32
  %8 = arith.xori %x, %x : i32
  %9 = arith.shli %x, %x : i32
  %10 = arith.shrsi %x, %x : i32
  %11 = arith.shrui %x, %x : i32
  %12 = arith.subi %x, %x : i32
  %13 = arith.addf %f, %f fastmath<contract> : f32
  %14 = arith.subf %f, %f : f32
  %15 = arith.mulf %v, %v : vector<4xf32>
  %16 = arith.divf %f, %f : f32
  %17 = arith.negf %f : f32
  "test.op"(%1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17) : (index, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, f32, f32, vector<4xf32>, f32, f32) -> ()
  func.return
}

// -----

// Comparisons keep their predicate; cmpf false/true fold to i1 constants.
// CHECK-LABEL: func.func @compare
// CHECK-NEXT:    %{{.*}} = llvm.icmp "sge" %x, %x : i32
// CHECK-NEXT:    %{{.*}} = llvm.fcmp "ult" %f, %f : f32
// CHECK-NEXT:    %{{.*}} = llvm.fcmp "uno" %f, %f : f32
// CHECK-NEXT:    %{{.*}} = llvm.mlir.constant(false) : i1
// CHECK-NEXT:    %{{.*}} = llvm.mlir.constant(true) : i1
// CHECK-NEXT:    %{{.*}} = llvm.select %c, %x, %x : i1, i32
func.func @compare(%x: i32, %f: f32, %c: i1) {
  %0 = arith.cmpi sge, %x, %x : i32
  %1 = arith.cmpf ult, %f, %f : f32
  %2 = arith.cmpf uno, %f, %f : f32
  %3 = arith.cmpf false, %f, %f : f32
  %4 = arith.cmpf true, %f, %f : f32
  %5 = arith.select %c, %x, %x : i32
  "test.op"(%0, %1, %2, %3, %4, %5) : (i1, i1, i1, i1, i1, i32) -> ()
  func.return
}

// -----

// Casts: the ones xDSL's llvm dialect lacks come from llvm_ext; fptosi/fptoui are the saturating intrinsics
// (defined for NaN and inf, one VCVT on the M4); index_cast is nothing between index and i32, a sign extension or
// truncation otherwise.
// CHECK-LABEL: func.func @casts
// CHECK-NEXT:    %{{.*}} = llvm.sitofp %x : i32 to f32
// CHECK-NEXT:    %{{.*}} = llvm_ext.uitofp %x : i32 to f32
// CHECK-NEXT:    %{{.*}} = llvm.call_intrinsic "llvm.fptosi.sat.i32.f32"(%f) : (f32) -> i32
// CHECK-NEXT:    %{{.*}} = llvm.call_intrinsic "llvm.fptoui.sat.i32.f32"(%f) : (f32) -> i32
// CHECK-NEXT:    %{{.*}} = llvm.bitcast %x : i32 to f32
// CHECK-NEXT:    %{{.*}} = llvm.trunc %x : i32 to i8
// CHECK-NEXT:    %{{.*}} = llvm.sext %b : i8 to i32
// CHECK-NEXT:    %{{.*}} = llvm.zext %b : i8 to i32
// CHECK-NEXT:    %[[IX:.*]] = builtin.unrealized_conversion_cast %x : i32 to index
// CHECK-NEXT:    %[[I32:.*]] = builtin.unrealized_conversion_cast %i : index to i32
// CHECK-NEXT:    %[[W:.*]] = llvm.sext %[[I32]] : i32 to i64
// CHECK-NEXT:    %[[I32B:.*]] = builtin.unrealized_conversion_cast %i : index to i32
// CHECK-NEXT:    %[[N:.*]] = llvm.trunc %[[I32B]] : i32 to i8
// CHECK-NEXT:    "test.op"({{.*}}, %[[IX]], %[[W]], %[[N]])
func.func @casts(%x: i32, %f: f32, %b: i8, %i: index) {
  %0 = arith.sitofp %x : i32 to f32
  %1 = arith.uitofp %x : i32 to f32
  %2 = arith.fptosi %f : f32 to i32
  %3 = arith.fptoui %f : f32 to i32
  %4 = arith.bitcast %x : i32 to f32
  %5 = arith.trunci %x : i32 to i8
  %6 = arith.extsi %b : i8 to i32
  %7 = arith.extui %b : i8 to i32
  %8 = arith.index_cast %x : i32 to index
  %9 = arith.index_cast %i : index to i64
  %10 = arith.index_cast %i : index to i8
  "test.op"(%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10) : (f32, f32, i32, i32, f32, i8, i32, i32, index, i64, i8) -> ()
  func.return
}

// -----

// Float min/max are compare + select, never llvm.maxnum (an fmaxf libcall on the M4). With a non-NaN
// constant operand (relu) one compare + select suffices; otherwise a second select handles NaN.
// CHECK-LABEL: func.func @minmax
// CHECK-NEXT:    %[[Z:.*]] = llvm.mlir.constant(0.000000e+00 : f32) : f32
// CHECK-NEXT:    %[[C0:.*]] = llvm.fcmp "olt" %a, %[[Z]] : f32
// CHECK-NEXT:    %[[RELU:.*]] = llvm.select %[[C0]], %[[Z]], %a : i1, f32
// CHECK-NEXT:    %[[C1:.*]] = llvm.fcmp "ogt" %a, %b : f32
// CHECK-NEXT:    %[[S1:.*]] = llvm.select %[[C1]], %a, %b : i1, f32
// CHECK-NEXT:    %[[N1:.*]] = llvm.fcmp "uno" %a, %a : f32
// CHECK-NEXT:    %[[MAX:.*]] = llvm.select %[[N1]], %a, %[[S1]] : i1, f32
// CHECK-NEXT:    %[[C2:.*]] = llvm.fcmp "olt" %a, %b : f32
// CHECK-NEXT:    %[[S2:.*]] = llvm.select %[[C2]], %a, %b : i1, f32
// CHECK-NEXT:    %[[N2:.*]] = llvm.fcmp "uno" %b, %b : f32
// CHECK-NEXT:    %[[MIN:.*]] = llvm.select %[[N2]], %a, %[[S2]] : i1, f32
// CHECK-NEXT:    %[[C3:.*]] = llvm.icmp "sgt" %x, %y : i32
// CHECK-NEXT:    %{{.*}} = llvm.select %[[C3]], %x, %y : i1, i32
// CHECK-NOT:     llvm.intr.maxnum
// CHECK-NOT:     llvm.intr.minnum
func.func @minmax(%a: f32, %b: f32, %x: i32, %y: i32) {
  %z = arith.constant 0.0 : f32
  %relu = arith.maximumf %a, %z : f32
  %max = arith.maximumf %a, %b : f32
  %min = arith.minnumf %a, %b : f32
  %imax = arith.maxsi %x, %y : i32
  "test.op"(%relu, %max, %min, %imax) : (f32, f32, f32, i32) -> ()
  func.return
}

// -----

// floordivsi (from affine maps) is a truncating division stepped down by one when the remainder is
// non-zero and has the divisor's opposite sign.
// CHECK-LABEL: func.func @floordiv
// CHECK:         %[[Q:.*]] = llvm.sdiv %x, %y : i32
// CHECK-NEXT:    %[[R:.*]] = llvm.srem %x, %y : i32
// CHECK-NEXT:    %[[NZ:.*]] = llvm.icmp "ne" %[[R]], %{{.*}} : i32
// CHECK-NEXT:    %[[SG:.*]] = llvm.xor %[[R]], %y : i32
// CHECK-NEXT:    %[[NEG:.*]] = llvm.icmp "slt" %[[SG]], %{{.*}} : i32
// CHECK-NEXT:    %[[STEP:.*]] = llvm.and %[[NZ]], %[[NEG]] : i1
// CHECK-NEXT:    %[[D:.*]] = llvm.sext %[[STEP]] : i1 to i32
// CHECK-NEXT:    %{{.*}} = llvm.add %[[Q]], %[[D]] : i32
func.func @floordiv(%x: i32, %y: i32) -> i32 {
  %q = arith.floordivsi %x, %y : i32
  func.return %q : i32
}

// -----

// Not arith: left alone.
// CHECK-LABEL: func.func @others
// CHECK-NEXT:    %{{.*}} = memref.load %m[%i] : memref<4xf32>
// CHECK-NEXT:    func.return
func.func @others(%m: memref<4xf32>, %i: index) -> f32 {
  %v = memref.load %m[%i] : memref<4xf32>
  func.return %v : f32
}
