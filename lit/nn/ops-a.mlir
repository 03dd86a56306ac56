// Issue 12's nn ops (and qnn.lut) in their custom syntax: print, re-parse and print again gives the same text.
// RUN: t2m-opt %s | t2m-opt | filecheck %s
// RUN: t2m-opt %s > %t.1.mlir && t2m-opt %t.1.mlir > %t.2.mlir && diff %t.1.mlir %t.2.mlir

func.func @ops_a(%x: tensor<1x3x4x5xf32>, %q: tensor<1x3x4x5xi8>) -> (tensor<1x3x8x10xf32>, tensor<1x3x6x8xi8>, tensor<1x3x4x5xi8>) {
  %hs = nn.hardswish %x : tensor<1x3x4x5xf32>
  %hg = nn.hardsigmoid %hs : tensor<1x3x4x5xf32>
  %si = nn.silu %hg : tensor<1x3x4x5xf32>
  %el = nn.elu %si {alpha = 0.5 : f32} : tensor<1x3x4x5xf32>
  %lr = nn.leaky_relu %el {negative_slope = 0.01 : f32} : tensor<1x3x4x5xf32>
  %ge = nn.gelu %lr {approximate = "tanh"} : tensor<1x3x4x5xf32>
  %slope = nn.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %pr = nn.prelu %ge, %slope : (tensor<1x3x4x5xf32>, tensor<3xf32>) -> tensor<1x3x4x5xf32>
  %w = nn.constant dense<1.0> : tensor<3xf32>
  %b = nn.constant dense<0.0> : tensor<3xf32>
  %bs = nn.batch_norm_stats %pr, %w, %b {eps = 1.0e-05 : f32} : (tensor<1x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x4x5xf32>
  %up = nn.upsample %bs {mode = "bilinear", scale = array<f32: 0.5, 0.5>, align_corners = false} : (tensor<1x3x4x5xf32>) -> tensor<1x3x8x10xf32>
  %pq = nn.pad %q {low = array<i64: 0, 0, 1, 2>, high = array<i64: 0, 0, 1, 1>, mode = "reflect", value = 0.0 : f32} : (tensor<1x3x4x5xi8>) -> tensor<1x3x6x8xi8>
  %t = nn.constant dense<3> : tensor<1x256xi8>
  %lq = qnn.lut %q, %t : (tensor<1x3x4x5xi8>, tensor<1x256xi8>) -> tensor<1x3x4x5xi8>
  func.return %up, %pq, %lq : tensor<1x3x8x10xf32>, tensor<1x3x6x8xi8>, tensor<1x3x4x5xi8>
}

// CHECK-LABEL: func.func @ops_a(%x: tensor<1x3x4x5xf32>, %q: tensor<1x3x4x5xi8>) -> (tensor<1x3x8x10xf32>, tensor<1x3x6x8xi8>, tensor<1x3x4x5xi8>) {
// CHECK-NEXT: %hs = nn.hardswish %x : tensor<1x3x4x5xf32>
// CHECK-NEXT: %hg = nn.hardsigmoid %hs : tensor<1x3x4x5xf32>
// CHECK-NEXT: %si = nn.silu %hg : tensor<1x3x4x5xf32>
// CHECK-NEXT: %el = nn.elu %si {alpha = 5.000000e-01 : f32} : tensor<1x3x4x5xf32>
// CHECK-NEXT: %lr = nn.leaky_relu %el {negative_slope = 1.000000e-02 : f32} : tensor<1x3x4x5xf32>
// CHECK-NEXT: %ge = nn.gelu %lr {approximate = "tanh"} : tensor<1x3x4x5xf32>
// CHECK-NEXT: %slope = nn.constant dense<[1.000000e-01, 2.000000e-01, 3.000000e-01]> : tensor<3xf32>
// CHECK-NEXT: %pr = nn.prelu %ge, %slope : (tensor<1x3x4x5xf32>, tensor<3xf32>) -> tensor<1x3x4x5xf32>
// CHECK-NEXT: %w = nn.constant dense<1.000000e+00> : tensor<3xf32>
// CHECK-NEXT: %b = nn.constant dense<0.000000e+00> : tensor<3xf32>
// CHECK-NEXT: %bs = nn.batch_norm_stats %pr, %w, %b {eps = 1.000000e-05 : f32} : (tensor<1x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x4x5xf32>
// CHECK-NEXT: %up = nn.upsample %bs {mode = "bilinear", scale = array<f32: 5.000000e-01, 5.000000e-01>, align_corners = false} : (tensor<1x3x4x5xf32>) -> tensor<1x3x8x10xf32>
// CHECK-NEXT: %pq = nn.pad %q {low = array<i64: 0, 0, 1, 2>, high = array<i64: 0, 0, 1, 1>, mode = "reflect", value = 0.000000e+00 : f32} : (tensor<1x3x4x5xi8>) -> tensor<1x3x6x8xi8>
// CHECK-NEXT: %t = nn.constant dense<3> : tensor<1x256xi8>
// CHECK-NEXT: %lq = qnn.lut %q, %t : (tensor<1x3x4x5xi8>, tensor<1x256xi8>) -> tensor<1x3x4x5xi8>
// CHECK-NEXT: func.return %up, %pq, %lq : tensor<1x3x8x10xf32>, tensor<1x3x6x8xi8>, tensor<1x3x4x5xi8>
