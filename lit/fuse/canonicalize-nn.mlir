// RUN: t2m-opt %s -p canonicalize-nn --split-input-file | filecheck %s

// CHECK-LABEL: func.func @views
// CHECK-NEXT:    %[[R:.*]] = nn.reshape %x : (tensor<1x2x3x4xf32>) -> tensor<6x4xf32>
// CHECK-NEXT:    func.return %[[R]], %x
func.func @views(%x: tensor<1x2x3x4xf32>) -> (tensor<6x4xf32>, tensor<1x2x3x4xf32>) {
  %f = nn.flatten %x {start_dim = 1 : i64, end_dim = 3 : i64} : (tensor<1x2x3x4xf32>) -> tensor<1x24xf32>
  %r = nn.reshape %f : (tensor<1x24xf32>) -> tensor<6x4xf32>
  %same = nn.reshape %x : (tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  func.return %r, %same : tensor<6x4xf32>, tensor<1x2x3x4xf32>
}

// -----

// Identity activations and neutral operands vanish, and so do the weights nothing uses any more.
// CHECK-LABEL: func.func @identities
// CHECK-NEXT:    %[[R:.*]] = nn.relu %x : tensor<2x3xf32>
// CHECK-NEXT:    func.return %[[R]] : tensor<2x3xf32>
func.func @identities(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %zero = nn.constant dense<0.0> : tensor<2x3xf32>
  %one = nn.constant dense<1.0> : tensor<3xf32>
  %unused = nn.constant dense<7.0> : tensor<3x3xf32>
  %a = nn.add %x, %zero : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = nn.mul %one, %a : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %c = nn.clamp %m {min = 0xFF800000 : f32, max = 0x7F800000 : f32} : tensor<2x3xf32>
  %r = nn.relu %c : tensor<2x3xf32>
  %rr = nn.relu %r : tensor<2x3xf32>
  func.return %rr : tensor<2x3xf32>
}

// -----

// NOT simplified: x + 0 that broadcasts x to a bigger shape, x * 2, a real clamp, relu(sigmoid), a used weight,
// a clamp to +-FLT_MAX (it turns +-inf into +-FLT_MAX).
// CHECK-LABEL: func.func @keep
// CHECK-NEXT:    %zero = nn.constant dense<0.000000e+00> : tensor<2x3xf32>
// CHECK-NEXT:    %two = nn.constant dense<2.000000e+00> : tensor<3xf32>
// CHECK-NEXT:    %a = nn.add %x, %zero : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %m = nn.mul %a, %two
// CHECK-NEXT:    %c = nn.clamp %m {min = -1.000000e+00 : f32, max = 3.40282347e+38 : f32}
// CHECK-NEXT:    %s = nn.sigmoid %c
// CHECK-NEXT:    %r = nn.relu %s
// CHECK-NEXT:    %big = nn.clamp %r {min = -3.40282347e+38 : f32, max = 3.40282347e+38 : f32}
func.func @keep(%x: tensor<3xf32>) -> tensor<2x3xf32> {
  %zero = nn.constant dense<0.0> : tensor<2x3xf32>
  %two = nn.constant dense<2.0> : tensor<3xf32>
  %a = nn.add %x, %zero : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = nn.mul %a, %two : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %c = nn.clamp %m {min = -1.0 : f32, max = 3.40282347e+38 : f32} : tensor<2x3xf32>
  %s = nn.sigmoid %c : tensor<2x3xf32>
  %r = nn.relu %s : tensor<2x3xf32>
  %big = nn.clamp %r {min = -3.40282347e+38 : f32, max = 3.40282347e+38 : f32} : tensor<2x3xf32>
  func.return %big : tensor<2x3xf32>
}

// -----

// Conv1d's shape: batch norm, relu and gelu move above the reshape after the conv (the reshapes then cancel), so
// that fold-batchnorm and fuse-activation find the conv2d as their producer.
// CHECK-LABEL: func.func @hoist
// CHECK-NEXT:    %m = nn.constant
// CHECK-NEXT:    %v = nn.constant
// CHECK-NEXT:    %[[B:.*]] = nn.batch_norm %x, %m, %v, %v, %m {eps = 1.000000e-05 : f32} : ({{.*}}) -> tensor<1x2x1x5xf32>
// CHECK-NEXT:    %[[R:.*]] = nn.relu %[[B]] : tensor<1x2x1x5xf32>
// CHECK-NEXT:    %[[G:.*]] = nn.gelu %[[R]] {approximate = "tanh"} : tensor<1x2x1x5xf32>
// CHECK-NEXT:    func.return %[[G]] : tensor<1x2x1x5xf32>
func.func @hoist(%x: tensor<1x2x1x5xf32>) -> tensor<1x2x1x5xf32> {
  %m = nn.constant dense<0.5> : tensor<2xf32>
  %v = nn.constant dense<2.0> : tensor<2xf32>
  %r3 = nn.reshape %x : (tensor<1x2x1x5xf32>) -> tensor<1x2x5xf32>
  %b = nn.batch_norm %r3, %m, %v, %v, %m {eps = 1.0e-05 : f32} : (tensor<1x2x5xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x5xf32>
  %r = nn.relu %b : tensor<1x2x5xf32>
  %g = nn.gelu %r {approximate = "tanh"} : tensor<1x2x5xf32>
  %r4 = nn.reshape %g : (tensor<1x2x5xf32>) -> tensor<1x2x1x5xf32>
  func.return %r4 : tensor<1x2x1x5xf32>
}

// -----

// NOT hoisted: a batch norm when the reshape moves its channel axis, and an op whose reshape has another use.
// CHECK-LABEL: func.func @keep_reshapes
// CHECK-NEXT:    %m = nn.constant
// CHECK-NEXT:    %r = nn.reshape %x : (tensor<1x2x3xf32>) -> tensor<1x6xf32>
// CHECK-NEXT:    %b = nn.batch_norm %r
// CHECK-NEXT:    %f = nn.reshape %x : (tensor<1x2x3xf32>) -> tensor<6xf32>
// CHECK-NEXT:    %s = nn.sigmoid %f : tensor<6xf32>
// CHECK-NEXT:    func.return %b, %s, %f
func.func @keep_reshapes(%x: tensor<1x2x3xf32>) -> (tensor<1x6xf32>, tensor<6xf32>, tensor<6xf32>) {
  %m = nn.constant dense<0.5> : tensor<6xf32>
  %r = nn.reshape %x : (tensor<1x2x3xf32>) -> tensor<1x6xf32>
  %b = nn.batch_norm %r, %m, %m, %m, %m {eps = 1.0e-05 : f32} : (tensor<1x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<1x6xf32>
  %f = nn.reshape %x : (tensor<1x2x3xf32>) -> tensor<6xf32>
  %s = nn.sigmoid %f : tensor<6xf32>
  func.return %b, %s, %f : tensor<1x6xf32>, tensor<6xf32>, tensor<6xf32>
}
