// RUN: t2m-opt %s -p lower-nn-activation | filecheck %s

// leaky_relu and prelu are cmpf + select (NaN stays NaN: the compare is false and NaN * slope is NaN); prelu loads
// its slope once per channel; hardswish is one loop: clamp(x + 3, 0, 6) * (1/6) * x; batch_norm_stats makes two
// passes per channel (mean, then squares around it) and 1/sqrt by three Newton steps from 0x5f3759df; gelu calls
// nothing (erfc and exp in arith). nn.relu (another family) is left alone.
func.func @act(%x: tensor<1x3x2x2xf32>) -> tensor<1x3x2x2xf32> {
  %l = nn.leaky_relu %x {negative_slope = 0.25 : f32} : tensor<1x3x2x2xf32>
  %s = nn.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %p = nn.prelu %l, %s : (tensor<1x3x2x2xf32>, tensor<3xf32>) -> tensor<1x3x2x2xf32>
  %h = nn.hardswish %p : tensor<1x3x2x2xf32>
  %w = nn.constant dense<1.0> : tensor<3xf32>
  %b = nn.constant dense<0.0> : tensor<3xf32>
  %n = nn.batch_norm_stats %h, %w, %b {eps = 1.0e-05 : f32} : (tensor<1x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x2x2xf32>
  %g = nn.gelu %n {approximate = "none"} : tensor<1x3x2x2xf32>
  %r = nn.relu %g : tensor<1x3x2x2xf32>
  func.return %r : tensor<1x3x2x2xf32>
}

// CHECK-LABEL: func.func @act(
// CHECK:         func.call @act_L00_leaky_relu(
// CHECK:         func.call @act_L01_prelu(
// CHECK:         func.call @act_L02_hardswish(
// CHECK:         func.call @act_L03_batch_norm_stats(
// CHECK:         func.call @act_L04_gelu(
// CHECK:         nn.relu

// CHECK-LABEL: func.func private @act_L00_leaky_relu(%in: memref<1x3x2x2xf32>, %out: memref<1x3x2x2xf32>) attributes {t2m.layer = #t2m.layer<"leaky_relu", macs = 0>}
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[SLOPE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK:         affine.for %i = 0 to 12 {
// CHECK-NEXT:      %[[X:.*]] = memref.load %{{.*}}[%i] : memref<12xf32>
// CHECK-NEXT:      %[[POS:.*]] = arith.cmpf ogt, %[[X]], %[[ZERO]] : f32
// CHECK-NEXT:      %[[NEG:.*]] = arith.mulf %[[X]], %[[SLOPE]] : f32
// CHECK-NEXT:      %[[Y:.*]] = arith.select %[[POS]], %[[X]], %[[NEG]] : f32
// CHECK-NEXT:      memref.store %[[Y]], %{{.*}}[%i] : memref<12xf32>

// CHECK-LABEL: func.func private @act_L01_prelu(%in: memref<1x3x2x2xf32>, %slope: memref<3xf32>, %out: memref<1x3x2x2xf32>)
// CHECK:         affine.for %c = 0 to 3 {
// CHECK-NEXT:      %[[S:.*]] = memref.load %slope[%c] : memref<3xf32>
// CHECK-NEXT:      affine.for %i = 0 to 4 {
// CHECK-NEXT:        %[[X:.*]] = memref.load %{{.*}}[%c0, %c, %i] : memref<1x3x4xf32>
// CHECK-NEXT:        %[[POS:.*]] = arith.cmpf ogt, %[[X]], %{{.*}} : f32
// CHECK-NEXT:        %[[NEG:.*]] = arith.mulf %[[X]], %[[S]] : f32
// CHECK-NEXT:        arith.select %[[POS]], %[[X]], %[[NEG]] : f32

// CHECK-LABEL: func.func private @act_L02_hardswish(
// CHECK-DAG:     %[[THREE:.*]] = arith.constant 3.000000e+00 : f32
// CHECK-DAG:     %[[SIXTH:.*]] = arith.constant 0.166666672 : f32
// CHECK:         affine.for %i = 0 to 12 {
// CHECK-NEXT:      %[[X:.*]] = memref.load
// CHECK-NEXT:      %[[T:.*]] = arith.addf %[[X]], %[[THREE]] : f32
// CHECK-COUNT-4:   arith.{{cmpf|select}}
// CHECK-NEXT:      %[[G:.*]] = arith.mulf %{{.*}}, %[[SIXTH]] : f32
// CHECK-NEXT:      %[[Y:.*]] = arith.mulf %[[X]], %[[G]] : f32
// CHECK-NEXT:      memref.store %[[Y]]

// CHECK-LABEL: func.func private @act_L03_batch_norm_stats(%in: memref<1x3x2x2xf32>, %weight: memref<3xf32>, %bias: memref<3xf32>, %out: memref<1x3x2x2xf32>)
// CHECK-DAG:     %[[QUARTER:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG:     %[[MAGIC:.*]] = arith.constant 1597463007 : i32
// CHECK:         affine.for %c = 0 to 3 {
// CHECK-NEXT:      %[[SUM:.*]] = affine.for %i = 0 to 4 iter_args
// CHECK:           %[[MEAN:.*]] = arith.mulf %[[SUM]], %[[QUARTER]] : f32
// CHECK-NEXT:      %[[SQ:.*]] = affine.for %{{.*}} = 0 to 4 iter_args
// CHECK:             arith.subf %{{.*}}, %[[MEAN]] : f32
// CHECK:           %[[VAR:.*]] = arith.mulf %[[SQ]], %[[QUARTER]] : f32
// CHECK-NEXT:      %[[VE:.*]] = arith.addf %[[VAR]], %{{.*}} : f32
// CHECK-NEXT:      %[[BITS:.*]] = arith.bitcast %[[VE]] : f32 to i32
// CHECK:           arith.subi %[[MAGIC]]
// CHECK-COUNT-3:   arith.subf %{{.*}}, %{{.*}} : f32
// CHECK:           memref.load %weight[%c] : memref<3xf32>
// CHECK:           memref.load %bias[%c] : memref<3xf32>
// CHECK:           affine.for %{{.*}} = 0 to 4 {

// CHECK-LABEL: func.func private @act_L04_gelu(
// CHECK-NOT:     func.call
// CHECK:         affine.for %i = 0 to 12 {
// CHECK:           arith.divf
// CHECK:           arith.select
// CHECK:           memref.store
// CHECK:         func.return
