// RUN: t2m-opt %s -p lower-qnn-norm | filecheck %s

// qnn.layer_norm, per row: S = sum(d) and Q = sum(d^2) in one loop (d = x - zp); W = (N Q - S^2) 2^16 + eps
// in i64, floored at 1; W scaled into [2^28, 2^30) by constant shifts (five down, five up, counting k); its
// integer square root bit by bit; one UDIV for the Q31 multiplier; then per element x_hat = requantize(N d - S)
// by the row's run-time multiplier and exponent (one high multiply; the sign term masked off where the exponent
// is >= 0), acc = x_hat * gamma + beta, the output requantization. A per-row gamma and beta (a batch norm with
// batch statistics) are loaded once per row.
func.func @norm(%x: tensor<3x8xi8>) -> (tensor<3x8xi8>, tensor<3x8xi8>) {
  %g = nn.constant dense<2047> : tensor<1x8xi16>
  %b = nn.constant dense<-4096> : tensor<1x8xi32>
  %y = qnn.layer_norm %x, %g, %b {input_zp = -5 : i32, eps = 2621 : i64, requant = #qnn.requant<multiplier = [1332838830], shift = [-10], output_zp = 3>} : (tensor<3x8xi8>, tensor<1x8xi16>, tensor<1x8xi32>) -> tensor<3x8xi8>
  %gc = nn.constant dense<1000> : tensor<3x1xi16>
  %bc = nn.constant dense<0> : tensor<3x1xi32>
  %z = qnn.layer_norm %x, %gc, %bc {input_zp = 0 : i32, eps = 0 : i64, requant = #qnn.requant<multiplier = [1332838830], shift = [-10], output_zp = 0>} : (tensor<3x8xi8>, tensor<3x1xi16>, tensor<3x1xi32>) -> tensor<3x8xi8>
  func.return %y, %z : tensor<3x8xi8>, tensor<3x8xi8>
}

// CHECK-LABEL: func.func @norm(
// CHECK:         func.call @norm_L00_layer_norm(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (memref<3x8xi8>, memref<1x8xi16>, memref<1x8xi32>, memref<3x8xi8>) -> ()
// CHECK:         func.call @norm_L01_layer_norm(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (memref<3x8xi8>, memref<3x1xi16>, memref<3x1xi32>, memref<3x8xi8>) -> ()
// CHECK-NOT:     qnn.layer_norm

// CHECK-LABEL: func.func private @norm_L00_layer_norm(%in: memref<3x8xi8>, %gamma: memref<1x8xi16>, %beta: memref<1x8xi32>, %out: memref<3x8xi8>) attributes {t2m.layer = #t2m.layer<"layer_norm", macs = 0>}
// CHECK:         affine.for %r = 0 to 3 {
// CHECK-NEXT:      %[[S:.*]], %[[Q:.*]] = affine.for %j = 0 to 8 iter_args(%[[SA:.*]] = %i0, %[[QA:.*]] = %i0) -> (i32, i32) {
// CHECK-NEXT:        %[[X:.*]] = memref.load %in[%r, %j] : memref<3x8xi8>
// CHECK-NEXT:        %[[XW:.*]] = arith.extsi %[[X]] : i8 to i32
// CHECK-NEXT:        %[[D:.*]] = arith.subi %[[XW]], %im5 : i32
// CHECK-NEXT:        %[[S1:.*]] = arith.addi %[[SA]], %[[D]] : i32
// CHECK-NEXT:        %[[D2:.*]] = arith.muli %[[D]], %[[D]] : i32
// CHECK-NEXT:        %[[Q1:.*]] = arith.addi %[[QA]], %[[D2]] : i32
// CHECK-NEXT:        affine.yield %[[S1]], %[[Q1]] : i32, i32
// CHECK:           %[[NQ:.*]] = arith.muli %{{.*}}, %{{.*}} : i64
// CHECK-NEXT:      %[[S2:.*]] = arith.muli %{{.*}}, %{{.*}} : i64
// CHECK-NEXT:      %[[V:.*]] = arith.subi %[[NQ]], %[[S2]] : i64
// CHECK-NEXT:      %[[VF:.*]] = arith.shli %[[V]], %{{.*}} : i64
// CHECK-NEXT:      %[[W:.*]] = arith.addi %[[VF]], %{{.*}} : i64
// CHECK-NEXT:      %[[LOW:.*]] = arith.cmpi slt, %[[W]], %{{.*}} : i64
// CHECK-NEXT:      %{{.*}} = arith.select %[[LOW]], %{{.*}}, %[[W]] : i64
// CHECK-COUNT-5:   arith.shrsi %{{.*}}, %{{.*}} : i64
// CHECK:           arith.trunci %{{.*}} : i64 to i32
// CHECK-COUNT-5:   arith.shli %{{.*}}, %{{.*}} : i32
// CHECK-COUNT-14:  arith.cmpi sle, %{{.*}}, %{{.*}} : i32
// CHECK:           %[[INV:.*]] = arith.divui %i2147483647, %{{.*}} : i32
// CHECK:           %[[M:.*]] = arith.shli %[[INV]], %i14 : i32
// CHECK-NEXT:      %[[M64:.*]] = arith.extsi %[[M]] : i32 to i64
// CHECK:           affine.for %j_1 = 0 to 8 {
// CHECK:             %[[C:.*]] = arith.subi %{{.*}}, %[[S]] : i32
// CHECK-NEXT:        %[[CL:.*]] = arith.shli %[[C]], %{{.*}} : i32
// CHECK-NEXT:        %[[CW:.*]] = arith.extsi %[[CL]] : i32 to i64
// CHECK-NEXT:        %[[P:.*]] = arith.muli %[[CW]], %[[M64]] : i64
// CHECK-NEXT:        %[[PN:.*]] = arith.addi %[[P]], %{{.*}} : i64
// CHECK-NEXT:        %[[HI64:.*]] = arith.shrsi %[[PN]], %{{.*}} : i64
// CHECK-NEXT:        %[[HI:.*]] = arith.trunci %[[HI64]] : i64 to i32
// CHECK-NEXT:        %[[SIGN:.*]] = arith.shrsi %[[CL]], %i31 : i32
// CHECK-NEXT:        %[[MASKED:.*]] = arith.andi %[[SIGN]], %{{.*}} : i32
// CHECK-NEXT:        %[[NUDGED:.*]] = arith.addi %[[HI]], %{{.*}} : i32
// CHECK-NEXT:        %[[ROUNDED:.*]] = arith.addi %[[NUDGED]], %[[MASKED]] : i32
// CHECK-NEXT:        %[[XHAT:.*]] = arith.shrsi %[[ROUNDED]], %{{.*}} : i32
// CHECK-NEXT:        %[[G:.*]] = memref.load %gamma[%c0, %j_1] : memref<1x8xi16>
// CHECK-NEXT:        %[[GW:.*]] = arith.extsi %[[G]] : i16 to i32
// CHECK-NEXT:        %[[B:.*]] = memref.load %beta[%c0, %j_1] : memref<1x8xi32>
// CHECK-NEXT:        %[[XG:.*]] = arith.muli %[[XHAT]], %[[GW]] : i32
// CHECK-NEXT:        %{{.*}} = arith.addi %[[XG]], %[[B]] : i32
// CHECK:             memref.store %{{.*}}, %out[%r, %j_1] : memref<3x8xi8>

// CHECK-LABEL: func.func private @norm_L01_layer_norm(
// CHECK:           arith.divui
// CHECK:           %[[G:.*]] = memref.load %gamma[%r, %c0] : memref<3x1xi16>
// CHECK:           %[[B:.*]] = memref.load %beta[%r, %c0] : memref<3x1xi32>
// CHECK-NEXT:      affine.for %j_1 = 0 to 8 {
// CHECK-NOT:         memref.load %gamma
// CHECK:             memref.store %{{.*}}, %out[%r, %j_1] : memref<3x8xi8>
