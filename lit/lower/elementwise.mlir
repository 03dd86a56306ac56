// RUN: t2m-opt %s -p lower-nn-elementwise | filecheck %s

// batch_norm folds into two compile-time constants (scale = g / sqrt(var + eps) = [0.5, 1, 4], shift =
// b - mean * scale = [-0.5, -1, -11.5]): one multiply-add per element. relu / clamp are cmpf + select;
// mul broadcasts a per-channel operand ([1,3,2,2] x [1,3,1,1] -> a 3 x 4 nest); add carries a fused ReLU;
// sigmoid and tanh expand exp into arith ops. nn.softmax (another family) is left alone.
func.func @ew(%x: tensor<1x3x2x2xf32>, %c: tensor<1x3x1x1xf32>) -> tensor<1x3x2x2xf32> {
  %mean = nn.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %var = nn.constant dense<[4.0, 1.0, 0.25]> : tensor<3xf32>
  %g = nn.constant dense<[1.0, 1.0, 2.0]> : tensor<3xf32>
  %b = nn.constant dense<[0.0, 1.0, 0.5]> : tensor<3xf32>
  %bn = nn.batch_norm %x, %mean, %var, %g, %b {eps = 0.0 : f32} : (tensor<1x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x2x2xf32>
  %r = nn.relu %bn : tensor<1x3x2x2xf32>
  %k = nn.clamp %r {min = -1.0 : f32, max = 6.0 : f32} : tensor<1x3x2x2xf32>
  %m = nn.mul %k, %c : (tensor<1x3x2x2xf32>, tensor<1x3x1x1xf32>) -> tensor<1x3x2x2xf32>
  %a = nn.add %m, %x {act_min = 0.0 : f32} : (tensor<1x3x2x2xf32>, tensor<1x3x2x2xf32>) -> tensor<1x3x2x2xf32>
  %s = nn.sigmoid %a : tensor<1x3x2x2xf32>
  %t = nn.tanh %s : tensor<1x3x2x2xf32>
  %sm = nn.softmax %t {axis = 1 : i64} : tensor<1x3x2x2xf32>
  func.return %sm : tensor<1x3x2x2xf32>
}

// CHECK-LABEL: func.func @ew(
// CHECK-DAG:     %[[SCALE:.*]] = nn.constant dense<[5.000000e-01, 1.000000e+00, 4.000000e+00]> : tensor<3xf32>
// CHECK-DAG:     %[[SHIFT:.*]] = nn.constant dense<[-5.000000e-01, -1.000000e+00, -1.150000e+01]> : tensor<3xf32>
// CHECK-NOT:     nn.batch_norm
// CHECK:         func.call @ew_L00_batch_norm(
// CHECK:         func.call @ew_L01_relu(
// CHECK:         func.call @ew_L02_clamp(
// CHECK:         func.call @ew_L03_mul(
// CHECK:         func.call @ew_L04_add(
// CHECK:         func.call @ew_L05_sigmoid(
// CHECK:         func.call @ew_L06_tanh(
// CHECK:         nn.softmax

// CHECK-LABEL: func.func private @ew_L00_batch_norm(%in: memref<1x3x2x2xf32>, %scale: memref<3xf32>, %shift: memref<3xf32>, %out: memref<1x3x2x2xf32>)
// CHECK:         %[[X:.*]] = memref.reinterpret_cast %in to offset: [0], sizes: [1, 3, 4], strides: [12, 4, 1] : memref<1x3x2x2xf32> to memref<1x3x4xf32>
// CHECK:         affine.for %c = 0 to 3 {
// CHECK-NEXT:      %[[S:.*]] = memref.load %scale[%c] : memref<3xf32>
// CHECK-NEXT:      %[[T:.*]] = memref.load %shift[%c] : memref<3xf32>
// CHECK-NEXT:      affine.for %i = 0 to 4 {
// CHECK-NEXT:        %[[V:.*]] = memref.load %[[X]][%c0, %c, %i] : memref<1x3x4xf32>
// CHECK-NEXT:        %[[M:.*]] = arith.mulf %[[V]], %[[S]] : f32
// CHECK-NEXT:        %[[A:.*]] = arith.addf %[[M]], %[[T]] : f32
// CHECK-NEXT:        memref.store %[[A]], %{{.*}}[%c0, %c, %i] : memref<1x3x4xf32>

// CHECK-LABEL: func.func private @ew_L01_relu(
// CHECK:         affine.for %i = 0 to 12 {
// CHECK-NEXT:      %[[V:.*]] = memref.load %{{.*}}[%i] : memref<12xf32>
// CHECK-NEXT:      %[[NEG:.*]] = arith.cmpf olt, %[[V]], %cst : f32
// CHECK-NEXT:      %[[R:.*]] = arith.select %[[NEG]], %cst, %[[V]] : f32
// CHECK-NEXT:      memref.store %[[R]], %{{.*}}[%i] : memref<12xf32>

// CHECK-LABEL: func.func private @ew_L02_clamp(
// CHECK:         %[[LO:.*]] = arith.constant -1.000000e+00 : f32
// CHECK-NEXT:    %[[HI:.*]] = arith.constant 6.000000e+00 : f32
// CHECK:           %[[LT:.*]] = arith.cmpf olt, %[[V:.*]], %[[LO]] : f32
// CHECK-NEXT:      %[[C1:.*]] = arith.select %[[LT]], %[[LO]], %[[V]] : f32
// CHECK-NEXT:      %[[GT:.*]] = arith.cmpf ogt, %[[C1]], %[[HI]] : f32
// CHECK-NEXT:      arith.select %[[GT]], %[[HI]], %[[C1]] : f32

// CHECK-LABEL: func.func private @ew_L03_mul(%lhs: memref<1x3x2x2xf32>, %rhs: memref<1x3x1x1xf32>, %out: memref<1x3x2x2xf32>)
// CHECK:         %[[L:.*]] = memref.reinterpret_cast %lhs {{.*}} to memref<3x4xf32>
// CHECK-NEXT:    %[[R:.*]] = memref.reinterpret_cast %rhs {{.*}} to memref<3x1xf32>
// CHECK:         affine.for %i0 = 0 to 3 {
// CHECK-NEXT:      affine.for %i1 = 0 to 4 {
// CHECK-NEXT:        %[[A:.*]] = memref.load %[[L]][%i0, %i1] : memref<3x4xf32>
// CHECK-NEXT:        %[[B:.*]] = memref.load %[[R]][%i0, %c0] : memref<3x1xf32>
// CHECK-NEXT:        arith.mulf %[[A]], %[[B]] : f32

// CHECK-LABEL: func.func private @ew_L04_add(
// CHECK:         affine.for %i0 = 0 to 12 {
// CHECK:           %[[S:.*]] = arith.addf
// CHECK-NEXT:      %[[NEG:.*]] = arith.cmpf olt, %[[S]], %cst : f32
// CHECK-NEXT:      arith.select %[[NEG]], %cst, %[[S]] : f32

// sigmoid: e = exp(-|x|); exp: k = round(x log2e) with the 1.5 * 2^23 trick, Cody-Waite reduction, Cephes
// polynomial, 2^k built in the exponent bits; then 1/(1+e), or e/(1+e) for x < 0.
// CHECK-LABEL: func.func private @ew_L05_sigmoid(
// CHECK-DAG:     %[[MASK:.*]] = arith.constant 2147483647 : i32
// CHECK-DAG:     %[[LN2LO:.*]] = arith.constant -87.3365402 : f32
// CHECK-DAG:     %[[LOG2E:.*]] = arith.constant 1.44269502 : f32
// CHECK-DAG:     %[[MAGIC:.*]] = arith.constant 0x4B400000 : f32
// CHECK-DAG:     %[[MAGICI:.*]] = arith.constant 1262485504 : i32
// CHECK-DAG:     %[[C1:.*]] = arith.constant 0.693359375 : f32
// CHECK-DAG:     %[[C2:.*]] = arith.constant -0.000212194442 : f32
// CHECK-DAG:     %[[BIAS:.*]] = arith.constant 127 : i32
// CHECK-DAG:     %[[SHIFT:.*]] = arith.constant 23 : i32
// CHECK:         affine.for %i = 0 to 12 {
// CHECK-NEXT:      %[[X:.*]] = memref.load
// CHECK-NEXT:      %[[BITS:.*]] = arith.bitcast %[[X]] : f32 to i32
// CHECK-NEXT:      %[[ABSB:.*]] = arith.andi %[[BITS]], %[[MASK]] : i32
// CHECK-NEXT:      %[[ABS:.*]] = arith.bitcast %[[ABSB]] : i32 to f32
// CHECK-NEXT:      %[[NX:.*]] = arith.negf %[[ABS]] : f32
// CHECK-NEXT:      %[[UNDER:.*]] = arith.cmpf olt, %[[NX]], %[[LN2LO]] : f32
// CHECK-NEXT:      %[[XC:.*]] = arith.select %[[UNDER]], %[[LN2LO]], %[[NX]] : f32
// CHECK-NEXT:      %[[T:.*]] = arith.mulf %[[XC]], %[[LOG2E]] : f32
// CHECK-NEXT:      %[[M:.*]] = arith.addf %[[T]], %[[MAGIC]] : f32
// CHECK-NEXT:      %[[KF:.*]] = arith.subf %[[M]], %[[MAGIC]] : f32
// CHECK-NEXT:      %[[MB:.*]] = arith.bitcast %[[M]] : f32 to i32
// CHECK-NEXT:      %[[K:.*]] = arith.subi %[[MB]], %[[MAGICI]] : i32
// CHECK-NEXT:      %[[H:.*]] = arith.mulf %[[KF]], %[[C1]] : f32
// CHECK-NEXT:      %[[R1:.*]] = arith.subf %[[XC]], %[[H]] : f32
// CHECK-NEXT:      %[[L:.*]] = arith.mulf %[[KF]], %[[C2]] : f32
// CHECK-NEXT:      %[[R:.*]] = arith.subf %[[R1]], %[[L]] : f32
// CHECK-COUNT-5:   arith.mulf {{.*}}, %[[R]] : f32
// CHECK:           %[[E1:.*]] = arith.addi %[[K]], %[[BIAS]] : i32
// CHECK-NEXT:      %[[E2:.*]] = arith.shli %[[E1]], %[[SHIFT]] : i32
// CHECK-NEXT:      %[[P2K:.*]] = arith.bitcast %[[E2]] : i32 to f32
// CHECK-NEXT:      %[[EXP:.*]] = arith.mulf %{{.*}}, %[[P2K]] : f32
// CHECK-NEXT:      %[[U:.*]] = arith.cmpf olt, %[[NX]], %[[LN2LO]] : f32
// CHECK-NEXT:      %[[E:.*]] = arith.select %[[U]], %cst{{.*}}, %[[EXP]] : f32
// CHECK-NEXT:      %[[D:.*]] = arith.addf %[[ONE:.*]], %[[E]] : f32
// CHECK-NEXT:      %[[S:.*]] = arith.divf %[[ONE]], %[[D]] : f32
// CHECK-NEXT:      %[[NEG:.*]] = arith.cmpf olt, %[[X]], %{{.*}} : f32
// CHECK-NEXT:      %[[ES:.*]] = arith.mulf %[[E]], %[[S]] : f32
// CHECK-NEXT:      %[[Y:.*]] = arith.select %[[NEG]], %[[ES]], %[[S]] : f32
// CHECK-NEXT:      memref.store %[[Y]]

// tanh: |x| < 0.625: odd polynomial; else (1 - e) / (1 + e) with e = exp(-2|x|), sign restored.
// CHECK-LABEL: func.func private @ew_L06_tanh(
// CHECK:           %[[X:.*]] = memref.load
// CHECK:           %[[SMALL:.*]] = arith.addf %{{.*}}, %[[X]] : f32
// CHECK:           %[[Q:.*]] = arith.divf
// CHECK:           %[[NQ:.*]] = arith.negf %[[Q]] : f32
// CHECK-NEXT:      %[[LARGE:.*]] = arith.select %{{.*}}, %[[NQ]], %[[Q]] : f32
// CHECK-NEXT:      %[[SMALLX:.*]] = arith.cmpf olt, %{{.*}}, %{{.*}} : f32
// CHECK-NEXT:      %[[Y:.*]] = arith.select %[[SMALLX]], %[[SMALL]], %[[LARGE]] : f32
// CHECK-NEXT:      memref.store %[[Y]]
// CHECK-NOT:     math.
