// RUN: t2m-opt %s -p fold-batchnorm --split-input-file | filecheck %s

// conv2d + batch_norm -> one conv2d whose weights and bias carry the normalisation:
// scale = gamma / sqrt(var + eps) = 2 / sqrt(3 + 1) = 1, so W' = W * 1 = 0.5 and b' = (b - mean) * 1 + beta = (1 - 2) + 3.
// CHECK-LABEL: func.func @conv_bn
// CHECK-NEXT:    %{{.*}} = nn.constant
// CHECK-NEXT:    %{{.*}} = nn.constant
// CHECK-NEXT:    %{{.*}} = nn.constant
// CHECK-NEXT:    %{{.*}} = nn.constant
// CHECK-NEXT:    %{{.*}} = nn.constant
// CHECK-NEXT:    %{{.*}} = nn.constant
// CHECK-NEXT:    %[[W:.*]] = nn.constant dense<5.000000e-01> : tensor<2x1x1x1xf32>
// CHECK-NEXT:    %[[B:.*]] = nn.constant dense<2.000000e+00> : tensor<2xf32>
// CHECK-NEXT:    %[[C:.*]] = nn.conv2d %x, %[[W]], %[[B]] {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
// CHECK-NOT:     nn.batch_norm
// CHECK-NEXT:    func.return %[[C]]
func.func @conv_bn(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = nn.constant dense<0.5> : tensor<2x1x1x1xf32>
  %b = nn.constant dense<1.0> : tensor<2xf32>
  %mean = nn.constant dense<2.0> : tensor<2xf32>
  %var = nn.constant dense<3.0> : tensor<2xf32>
  %gamma = nn.constant dense<2.0> : tensor<2xf32>
  %beta = nn.constant dense<3.0> : tensor<2xf32>
  %c = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %y = nn.batch_norm %c, %mean, %var, %gamma, %beta {eps = 1.0 : f32} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  func.return %y : tensor<1x2x2x2xf32>
}

// -----

// linear without bias + batch_norm over its features: the bias appears, (0 - 1) * 0.5 + 0 = -0.5.
// CHECK-LABEL: func.func @linear_bn
// CHECK:         %[[W:.*]] = nn.constant dense<1.000000e+00> : tensor<3x4xf32>
// CHECK-NEXT:    %[[B:.*]] = nn.constant dense<-5.000000e-01> : tensor<3xf32>
// CHECK-NEXT:    %[[L:.*]] = nn.linear %x, %[[W]], %[[B]] : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    func.return %[[L]]
func.func @linear_bn(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = nn.constant dense<2.0> : tensor<3x4xf32>
  %mean = nn.constant dense<1.0> : tensor<3xf32>
  %var = nn.constant dense<4.0> : tensor<3xf32>
  %gamma = nn.constant dense<1.0> : tensor<3xf32>
  %beta = nn.constant dense<0.0> : tensor<3xf32>
  %l = nn.linear %x, %w : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  %y = nn.batch_norm %l, %mean, %var, %gamma, %beta {eps = 0.0 : f32} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}

// -----

// NOT folded: the conv result has another user, which needs the values before normalisation.
// CHECK-LABEL: func.func @conv_two_users
// CHECK:         %[[C:.*]] = nn.conv2d
// CHECK-NEXT:    %[[Y:.*]] = nn.batch_norm %[[C]]
// CHECK-NEXT:    %{{.*}} = nn.add %[[Y]], %[[C]]
func.func @conv_two_users(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = nn.constant dense<0.5> : tensor<2x1x1x1xf32>
  %s = nn.constant dense<1.0> : tensor<2xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %y = nn.batch_norm %c, %s, %s, %s, %s {eps = 1.0e-05 : f32} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %z = nn.add %y, %c : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  func.return %z : tensor<1x2x2x2xf32>
}

// -----

// NOT folded: batch_norm of a function argument (no producer), and of non-constant statistics.
// CHECK-LABEL: func.func @no_producer
// CHECK:         nn.batch_norm %x
// CHECK:         nn.batch_norm %{{.*}}, %m
func.func @no_producer(%x: tensor<1x2x2x2xf32>, %m: tensor<2xf32>) -> tensor<1x2x2x2xf32> {
  %s = nn.constant dense<1.0> : tensor<2xf32>
  %w = nn.constant dense<0.5> : tensor<2x2x1x1xf32>
  %y = nn.batch_norm %x, %s, %s, %s, %s {eps = 1.0e-05 : f32} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %c = nn.conv2d %y, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x2x2xf32>
  %z = nn.batch_norm %c, %m, %s, %s, %s {eps = 1.0e-05 : f32} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  func.return %z : tensor<1x2x2x2xf32>
}
