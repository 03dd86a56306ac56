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
