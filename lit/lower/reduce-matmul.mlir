// RUN: t2m-opt %s -p lower-nn-reduce | filecheck %s --check-prefix=REDUCE
// RUN: t2m-opt %s -p lower-nn-matmul | filecheck %s --check-prefix=MATMUL

// reduce: a nest over the kept axes, the reduced ones summed in an iter_arg, a mean scaled once by 1/count.
// layer_norm: per row a sum, a sum of squared deviations, 1/sqrt by a bit trick and three Newton steps, then
// (x - mean) * inv * weight + bias. matmul: a broadcast batch dim of size 1 reads index 0.
func.func @r(%x: tensor<2x3x4xf32>, %a: tensor<2x3x4xf32>, %b: tensor<1x4x5xf32>) -> (tensor<2x1x4xf32>, tensor<2x3x4xf32>, tensor<2x3x5xf32>) {
  %m = nn.reduce %x {axes = array<i64: 1>, kind = "mean"} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  %w = nn.constant dense<2.0> : tensor<4xf32>
  %c = nn.constant dense<0.5> : tensor<4xf32>
  %l = nn.layer_norm %x weight %w bias %c {axis = 2 : i64, eps = 1.0e-05 : f32} : tensor<2x3x4xf32> weight tensor<4xf32> bias tensor<4xf32>
  %p = nn.matmul %a, %b : (tensor<2x3x4xf32>, tensor<1x4x5xf32>) -> tensor<2x3x5xf32>
  func.return %m, %l, %p : tensor<2x1x4xf32>, tensor<2x3x4xf32>, tensor<2x3x5xf32>
}

// REDUCE-LABEL: func.func private @r_L00_reduce(%in: memref<2x3x4xf32>, %out: memref<2x1x4xf32>)
// REDUCE:         %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// REDUCE-NEXT:    %[[THIRD:.*]] = arith.constant 0.333333343 : f32
// REDUCE:         affine.for %d0 = 0 to 2 {
// REDUCE-NEXT:      affine.for %d2 = 0 to 4 {
// REDUCE-NEXT:        %[[S:.*]] = affine.for %r1 = 0 to 3 iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32) {
// REDUCE-NEXT:          %[[V:.*]] = memref.load %in[%d0, %r1, %d2] : memref<2x3x4xf32>
// REDUCE-NEXT:          %[[N:.*]] = arith.addf %[[ACC]], %[[V]] : f32
// REDUCE-NEXT:          affine.yield %[[N]] : f32
// REDUCE:             %[[M:.*]] = arith.mulf %[[S]], %[[THIRD]] : f32
// REDUCE-NEXT:        memref.store %[[M]], %out[%d0, %c0, %d2] : memref<2x1x4xf32>
// REDUCE-LABEL: func.func private @r_L01_layer_norm(%in: memref<2x3x4xf32>, %weight: memref<4xf32>, %bias: memref<4xf32>, %out: memref<2x3x4xf32>)
// REDUCE:         %[[MAGIC:.*]] = arith.constant 1597463007 : i32
// REDUCE:         affine.for %r = 0 to 6 {
// REDUCE:           %[[MEAN:.*]] = arith.mulf %{{.*}}, %cst_1 : f32
// REDUCE:             %[[D:.*]] = arith.subf %{{.*}}, %[[MEAN]] : f32
// REDUCE-NEXT:        %[[D2:.*]] = arith.mulf %[[D]], %[[D]] : f32
// REDUCE:           %[[VE:.*]] = arith.addf %{{.*}}, %cst_2 : f32
// REDUCE-NEXT:      %[[BITS:.*]] = arith.bitcast %[[VE]] : f32 to i32
// REDUCE-NEXT:      %[[HALFBITS:.*]] = arith.shrsi %[[BITS]], %i1 : i32
// REDUCE-NEXT:      %[[GUESS:.*]] = arith.subi %[[MAGIC]], %[[HALFBITS]] : i32
// REDUCE-COUNT-3:   arith.subf %cst_4
// REDUCE:           affine.for %l_2 = 0 to 4 {
// REDUCE-NEXT:        %[[X:.*]] = memref.load %{{.*}}[%r, %l_2] : memref<6x4xf32>
// REDUCE-NEXT:        %[[XC:.*]] = arith.subf %[[X]], %[[MEAN]] : f32
// REDUCE-NEXT:        %[[XN:.*]] = arith.mulf %[[XC]], %{{.*}} : f32
// REDUCE-NEXT:        %[[W:.*]] = memref.load %weight[%l_2] : memref<4xf32>
// REDUCE-NEXT:        %[[XW:.*]] = arith.mulf %[[XN]], %[[W]] : f32
// REDUCE-NEXT:        %[[B:.*]] = memref.load %bias[%l_2] : memref<4xf32>
// REDUCE-NEXT:        %[[Y:.*]] = arith.addf %[[XW]], %[[B]] : f32
// REDUCE-NEXT:        memref.store %[[Y]], %{{.*}}[%r, %l_2] : memref<6x4xf32>
// REDUCE-NOT:   nn.reduce
// REDUCE-NOT:   nn.layer_norm

// MATMUL-LABEL: func.func private @r_L02_matmul(%lhs: memref<2x3x4xf32>, %rhs: memref<1x4x5xf32>, %out: memref<2x3x5xf32>) attributes {t2m.layer = #t2m.layer<"matmul", macs = 120>}
// MATMUL:         affine.for %b0 = 0 to 2 {
// MATMUL-NEXT:      affine.for %i = 0 to 3 {
// MATMUL-NEXT:        affine.for %j = 0 to 5 {
// MATMUL-NEXT:          %[[S:.*]] = affine.for %k = 0 to 4 iter_args(%[[ACC:.*]] = %cst) -> (f32) {
// MATMUL-NEXT:            %[[A:.*]] = memref.load %lhs[%b0, %i, %k] : memref<2x3x4xf32>
// MATMUL-NEXT:            %[[B:.*]] = memref.load %rhs[%c0, %k, %j] : memref<1x4x5xf32>
// MATMUL-NEXT:            %[[P:.*]] = arith.mulf %[[A]], %[[B]] : f32
// MATMUL-NEXT:            %[[N:.*]] = arith.addf %[[ACC]], %[[P]] : f32
// MATMUL-NEXT:            affine.yield %[[N]] : f32
// MATMUL:               memref.store %[[S]], %out[%b0, %i, %j] : memref<2x3x5xf32>
