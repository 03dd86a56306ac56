// RUN: t2m-opt %s -p fuse-activation --split-input-file | filecheck %s

// relu, relu6 (clamp 0..6) and clamp move into conv2d, linear, add, pooling.
// CHECK-LABEL: func.func @fuse
// CHECK:         %[[C:.*]] = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64, act_min = 0.000000e+00 : f32}
// CHECK-NEXT:    %[[P:.*]] = nn.max_pool2d %[[C]] {kernel = array<i64: 1, 1>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, act_min = 0.000000e+00 : f32, act_max = 6.000000e+00 : f32}
// CHECK-NEXT:    %[[A:.*]] = nn.add %[[P]], %[[P2:.*]] {act_min = -1.000000e+00 : f32, act_max = 1.000000e+00 : f32}
// CHECK-NEXT:    %[[F:.*]] = nn.reshape %[[A]]
// CHECK-NEXT:    %[[L:.*]] = nn.linear %[[F]], %lw {act_min = 0.000000e+00 : f32}
// CHECK-NOT:     nn.relu
// CHECK-NOT:     nn.clamp
// CHECK-NEXT:    func.return %[[L]]
func.func @fuse(%x: tensor<1x1x2x2xf32>, %p2: tensor<1x2x2x2xf32>) -> tensor<1x3xf32> {
  %w = nn.constant dense<0.5> : tensor<2x1x1x1xf32>
  %lw = nn.constant dense<0.5> : tensor<3x8xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %r = nn.relu %c : tensor<1x2x2x2xf32>
  %p = nn.max_pool2d %r {kernel = array<i64: 1, 1>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %r6 = nn.clamp %p {min = 0.0 : f32, max = 6.0 : f32} : tensor<1x2x2x2xf32>
  %a = nn.add %r6, %p2 : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %ht = nn.clamp %a {min = -1.0 : f32, max = 1.0 : f32} : tensor<1x2x2x2xf32>
  %f = nn.reshape %ht : (tensor<1x2x2x2xf32>) -> tensor<1x8xf32>
  %l = nn.linear %f, %lw : (tensor<1x8xf32>, tensor<3x8xf32>) -> tensor<1x3xf32>
  %lr = nn.relu %l : tensor<1x3xf32>
  func.return %lr : tensor<1x3xf32>
}

// -----

// Activations compose: clamp(relu(conv), -2, 3) keeps the tighter bounds [0, 3].
// CHECK-LABEL: func.func @compose
// CHECK:         nn.conv2d {{.*}}act_min = 0.000000e+00 : f32, act_max = 3.000000e+00 : f32}
// CHECK-NOT:     nn.clamp
func.func @compose(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = nn.constant dense<0.5> : tensor<2x1x1x1xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %r = nn.relu %c : tensor<1x2x2x2xf32>
  %k = nn.clamp %r {min = -2.0 : f32, max = 3.0 : f32} : tensor<1x2x2x2xf32>
  func.return %k : tensor<1x2x2x2xf32>
}

// -----

// NOT fused: the producer has another user; the input is an argument; the producer (sigmoid) cannot clamp.
// CHECK-LABEL: func.func @no_fuse
// CHECK:         %[[C:.*]] = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} :
// CHECK-NEXT:    %[[R:.*]] = nn.relu %[[C]]
// CHECK-NEXT:    %[[A:.*]] = nn.add %[[R]], %[[C]] :
// CHECK-NEXT:    %[[R2:.*]] = nn.relu %x
// CHECK-NEXT:    %[[S:.*]] = nn.sigmoid %[[R2]]
// CHECK-NEXT:    %{{.*}} = nn.relu %[[S]]
func.func @no_fuse(%x: tensor<1x1x2x2xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x1x2x2xf32>) {
  %w = nn.constant dense<0.5> : tensor<2x1x1x1xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %r = nn.relu %c : tensor<1x2x2x2xf32>
  %a = nn.add %r, %c : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %r2 = nn.relu %x : tensor<1x1x2x2xf32>
  %s = nn.sigmoid %r2 : tensor<1x1x2x2xf32>
  %r3 = nn.relu %s : tensor<1x1x2x2xf32>
  func.return %a, %r3 : tensor<1x2x2x2xf32>, tensor<1x1x2x2xf32>
}
