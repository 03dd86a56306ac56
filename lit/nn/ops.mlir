// Every nn op in its custom syntax: print, re-parse and print again gives the same text.
// RUN: t2m-opt %s | t2m-opt | filecheck %s
// RUN: t2m-opt %s > %t.1.mlir && t2m-opt %t.1.mlir > %t.2.mlir && diff %t.1.mlir %t.2.mlir

// CHECK-LABEL: func.func @all_ops(%x: tensor<1x3x8x8xf32>) -> tensor<1x4xf32> {
func.func @all_ops(%x: tensor<1x3x8x8xf32>) -> tensor<1x4xf32> {
  // CHECK-NEXT: %w = nn.constant dense<2.500000e-01> : tensor<4x3x3x3xf32>
  // CHECK-NEXT: %b = nn.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>
  %w = nn.constant dense<0.25> : tensor<4x3x3x3xf32>
  %b = nn.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  // CHECK-NEXT: %c = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  %c = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  // CHECK-NEXT: %dw = nn.constant dense<1.000000e+00> : tensor<4x1x3x3xf32>
  // CHECK-NEXT: %d = nn.conv2d %c, %dw {stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>, dilation = array<i64: 1, 1>, groups = 4 : i64} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x4x4xf32>
  %dw = nn.constant dense<1.0> : tensor<4x1x3x3xf32>
  %d = nn.conv2d %c, %dw {stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>, dilation = array<i64: 1, 1>, groups = 4 : i64} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x4x4xf32>
  // CHECK-NEXT: %mean = nn.constant dense<0.000000e+00> : tensor<4xf32>
  // CHECK-NEXT: %var = nn.constant dense<1.000000e+00> : tensor<4xf32>
  // CHECK-NEXT: %bn = nn.batch_norm %d, %mean, %var, %var, %mean {eps = 1.000000e-05 : f32} : (tensor<1x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %mean = nn.constant dense<0.0> : tensor<4xf32>
  %var = nn.constant dense<1.0> : tensor<4xf32>
  %bn = nn.batch_norm %d, %mean, %var, %var, %mean {eps = 1.0e-05 : f32} : (tensor<1x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  // CHECK-NEXT: %r = nn.relu %bn : tensor<1x4x4x4xf32>
  // CHECK-NEXT: %r6 = nn.clamp %r {min = 0.000000e+00 : f32, max = 6.000000e+00 : f32} : tensor<1x4x4x4xf32>
  // CHECK-NEXT: %sg = nn.sigmoid %r6 : tensor<1x4x4x4xf32>
  // CHECK-NEXT: %th = nn.tanh %sg : tensor<1x4x4x4xf32>
  %r = nn.relu %bn : tensor<1x4x4x4xf32>
  %r6 = nn.clamp %r {min = 0.0 : f32, max = 6.0 : f32} : tensor<1x4x4x4xf32>
  %sg = nn.sigmoid %r6 : tensor<1x4x4x4xf32>
  %th = nn.tanh %sg : tensor<1x4x4x4xf32>
  // CHECK-NEXT: %scale = nn.constant dense<5.000000e-01> : tensor<4x1x1xf32>
  // CHECK-NEXT: %m = nn.mul %th, %scale : (tensor<1x4x4x4xf32>, tensor<4x1x1xf32>) -> tensor<1x4x4x4xf32>
  // CHECK-NEXT: %a = nn.add %m, %r : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %scale = nn.constant dense<0.5> : tensor<4x1x1xf32>
  %m = nn.mul %th, %scale : (tensor<1x4x4x4xf32>, tensor<4x1x1xf32>) -> tensor<1x4x4x4xf32>
  %a = nn.add %m, %r : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  // CHECK-NEXT: %mp = nn.max_pool2d %a {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  // CHECK-NEXT: %ap = nn.avg_pool2d %mp {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = false} : (tensor<1x4x4x4xf32>) -> tensor<1x4x2x2xf32>
  // CHECK-NEXT: %gp = nn.adaptive_avg_pool2d %ap {output_size = array<i64: 1, 1>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x1x1xf32>
  %mp = nn.max_pool2d %a {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %ap = nn.avg_pool2d %mp {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = false} : (tensor<1x4x4x4xf32>) -> tensor<1x4x2x2xf32>
  %gp = nn.adaptive_avg_pool2d %ap {output_size = array<i64: 1, 1>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x1x1xf32>
  // CHECK-NEXT: %f = nn.flatten %gp {start_dim = 1 : i64, end_dim = 3 : i64} : (tensor<1x4x1x1xf32>) -> tensor<1x4xf32>
  // CHECK-NEXT: %rs = nn.reshape %f : (tensor<1x4xf32>) -> tensor<2x2xf32>
  // CHECK-NEXT: %cc = nn.concat %rs, %rs {axis = 0 : i64} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %f = nn.flatten %gp {start_dim = 1 : i64, end_dim = 3 : i64} : (tensor<1x4x1x1xf32>) -> tensor<1x4xf32>
  %rs = nn.reshape %f : (tensor<1x4xf32>) -> tensor<2x2xf32>
  %cc = nn.concat %rs, %rs {axis = 0 : i64} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  // CHECK-NEXT: %lw = nn.constant dense<1.000000e+00> : tensor<4x2xf32>
  // CHECK-NEXT: %l = nn.linear %cc, %lw : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x4xf32>
  // CHECK-NEXT: %lw2 = nn.constant dense<5.000000e-01> : tensor<4x4xf32>
  // CHECK-NEXT: %lb = nn.constant dense<1.000000e-01> : tensor<4xf32>
  // CHECK-NEXT: %l2 = nn.linear %l, %lw2, %lb : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
  %lw = nn.constant dense<1.0> : tensor<4x2xf32>
  %l = nn.linear %cc, %lw : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x4xf32>
  %lw2 = nn.constant dense<0.5> : tensor<4x4xf32>
  %lb = nn.constant dense<0.1> : tensor<4xf32>
  %l2 = nn.linear %l, %lw2, %lb : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
  // CHECK-NEXT: %sm = nn.softmax %l2 {axis = 1 : i64} : tensor<4x4xf32>
  // CHECK-NEXT: %lsm = nn.log_softmax %sm {axis = 0 : i64} : tensor<4x4xf32>
  // CHECK-NEXT: %out = nn.reshape %lsm : (tensor<4x4xf32>) -> tensor<1x16xf32>
  %sm = nn.softmax %l2 {axis = 1 : i64} : tensor<4x4xf32>
  %lsm = nn.log_softmax %sm {axis = 0 : i64} : tensor<4x4xf32>
  %out = nn.reshape %lsm : (tensor<4x4xf32>) -> tensor<1x16xf32>
  %sl = nn.flatten %f {start_dim = 0 : i64, end_dim = 1 : i64} : (tensor<1x4xf32>) -> tensor<4xf32>
  %res = nn.reshape %sl : (tensor<4xf32>) -> tensor<1x4xf32>
  func.return %res : tensor<1x4xf32>
}

// Large constants print as hex (a decimal list of a million floats takes ~20 s to parse).
// CHECK-LABEL: func.func @hex_weights
// CHECK: nn.constant dense<"0x0000803F0000803F{{[0-9A-F]+}}"> : tensor<101xf32>
func.func @hex_weights() -> tensor<101xf32> {
  %w = nn.constant dense<"0x0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F00000040"> : tensor<101xf32>
  func.return %w : tensor<101xf32>
}
