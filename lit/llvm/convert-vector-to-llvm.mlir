// RUN: t2m-opt %s -p convert-vector-to-llvm | filecheck %s
// RUN: t2m-opt %s -p "convert-vector-to-llvm{fma=fmuladd}" | filecheck %s --check-prefix=MULADD
// RUN: t2m-opt %s -p "convert-vector-to-llvm{fma=fma}" | filecheck %s --check-prefix=FMA

// vector.fma: fmul + fadd by default (VMUL + VADD on the M4, and the host JIT rounds the same way);
// llvm.fmuladd or llvm.fma on request.
// CHECK-LABEL: func.func @fma
// CHECK-NEXT:    %[[M:.*]] = llvm.fmul %a, %b : vector<4xf32>
// CHECK-NEXT:    %[[R:.*]] = llvm.fadd %[[M]], %c : vector<4xf32>
// CHECK-NEXT:    func.return %[[R]]
// MULADD-LABEL: func.func @fma
// MULADD-NEXT:    %{{.*}} = llvm_ext.fmuladd %a, %b, %c : vector<4xf32>
// FMA-LABEL: func.func @fma
// FMA-NEXT:    %{{.*}} = llvm.intr.fma(%a, %b, %c) : (vector<4xf32>, vector<4xf32>, vector<4xf32>) -> vector<4xf32>
func.func @fma(%a: vector<4xf32>, %b: vector<4xf32>, %c: vector<4xf32>) -> vector<4xf32> {
  %r = vector.fma %a, %b, %c : vector<4xf32>
  func.return %r : vector<4xf32>
}

// A reduction is a chain of extractelement + scalar op in lane order, starting from the accumulator.
// CHECK-LABEL: func.func @reduce_add
// CHECK-NEXT:    %[[I0:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:    %[[L0:.*]] = llvm_ext.extractelement %v[%[[I0]] : i32] : vector<4xf32>
// CHECK-NEXT:    %[[S0:.*]] = llvm.fadd %acc, %[[L0]] : f32
// CHECK-NEXT:    %[[I1:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT:    %[[L1:.*]] = llvm_ext.extractelement %v[%[[I1]] : i32] : vector<4xf32>
// CHECK-NEXT:    %[[S1:.*]] = llvm.fadd %[[S0]], %[[L1]] : f32
// CHECK-NEXT:    llvm.mlir.constant(2 : i32)
// CHECK-NEXT:    %[[L2:.*]] = llvm_ext.extractelement
// CHECK-NEXT:    %[[S2:.*]] = llvm.fadd %[[S1]], %[[L2]] : f32
// CHECK-NEXT:    llvm.mlir.constant(3 : i32)
// CHECK-NEXT:    %[[L3:.*]] = llvm_ext.extractelement
// CHECK-NEXT:    %[[S3:.*]] = llvm.fadd %[[S2]], %[[L3]] : f32
// CHECK-NEXT:    func.return %[[S3]] : f32
func.func @reduce_add(%v: vector<4xf32>, %acc: f32) -> f32 {
  %r = vector.reduction <add>, %v, %acc : vector<4xf32> into f32
  func.return %r : f32
}

// Without an accumulator the first lane starts the chain; max is compare + select, no llvm.maxnum.
// CHECK-LABEL: func.func @reduce_max
// CHECK-NEXT:    %{{.*}} = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:    %[[L0:.*]] = llvm_ext.extractelement
// CHECK-NEXT:    %{{.*}} = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT:    %[[L1:.*]] = llvm_ext.extractelement
// CHECK-NEXT:    %[[C:.*]] = llvm.fcmp "ogt" %[[L0]], %[[L1]] : f32
// CHECK-NEXT:    %{{.*}} = llvm.select %[[C]], %[[L0]], %[[L1]] : i1, f32
// CHECK-NOT:     maxnum
func.func @reduce_max(%v: vector<2xf32>) -> f32 {
  %r = vector.reduction <maxnumf>, %v : vector<2xf32> into f32
  func.return %r : f32
}

// Broadcast: a splat constant for a constant scalar, else insertelement + zero-mask shufflevector.
// CHECK-LABEL: func.func @broadcast
// CHECK:         %{{.*}} = llvm.mlir.constant(dense<2.000000e+00> : vector<4xf32>) : vector<4xf32>
// CHECK:         %[[U:.*]] = llvm.mlir.undef : vector<4xf32>
// CHECK-NEXT:    %[[Z:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:    %[[E:.*]] = llvm.insertelement %x, %[[U]][%[[Z]] : i32] : vector<4xf32>
// CHECK-NEXT:    %{{.*}} = llvm.shufflevector %[[E]], %[[U]] [0, 0, 0, 0] : vector<4xf32>
func.func @broadcast(%x: f32) -> (vector<4xf32>, vector<4xf32>) {
  %two = arith.constant 2.0 : f32
  %a = vector.broadcast %two : f32 to vector<4xf32>
  %b = vector.broadcast %x : f32 to vector<4xf32>
  func.return %a, %b : vector<4xf32>, vector<4xf32>
}

// Constant lanes: extractelement / insertelement.
// CHECK-LABEL: func.func @lanes
// CHECK-NEXT:    %[[I:.*]] = llvm.mlir.constant(3 : i32) : i32
// CHECK-NEXT:    %[[E:.*]] = llvm_ext.extractelement %v[%[[I]] : i32] : vector<4xf32>
// CHECK-NEXT:    %[[J:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:    %{{.*}} = llvm.insertelement %[[E]], %v[%[[J]] : i32] : vector<4xf32>
func.func @lanes(%v: vector<4xf32>) -> vector<4xf32> {
  %e = vector.extract %v[3] : f32 from vector<4xf32>
  %r = vector.insert %e, %v[0] : f32 into vector<4xf32>
  func.return %r : vector<4xf32>
}

// Memory ops are convert-vector-to-ptr's: left alone.
// CHECK-LABEL: func.func @memory
// CHECK-NEXT:    %{{.*}} = vector.load %m[%i] : memref<8xf32>, vector<4xf32>
func.func @memory(%m: memref<8xf32>, %i: index) -> vector<4xf32> {
  %v = vector.load %m[%i] : memref<8xf32>, vector<4xf32>
  func.return %v : vector<4xf32>
}
