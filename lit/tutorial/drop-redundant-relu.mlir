// The solution of docs/tutorial chapter 4, exercise 1 (a Python pass plugin).
// RUN: t2m-opt %s --load-pass-plugin %S/../../docs/tutorial/solutions/drop_relu.py -p drop-redundant-relu | filecheck %s

// CHECK-LABEL: func.func @redundant
// CHECK-NEXT:    %s = nn.sigmoid %x
// CHECK-NEXT:    %r2 = nn.relu %x
// CHECK-NEXT:    %t = nn.tanh %x
// CHECK-NEXT:    %r4 = nn.relu %t
// CHECK-NEXT:    %a = nn.add %s, %r2
func.func @redundant(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %s = nn.sigmoid %x : tensor<1x4xf32>
  %r1 = nn.relu %s : tensor<1x4xf32>
  %r2 = nn.relu %x : tensor<1x4xf32>
  %r3 = nn.relu %r2 : tensor<1x4xf32>
  %t = nn.tanh %x : tensor<1x4xf32>
  %r4 = nn.relu %t : tensor<1x4xf32>
  %a = nn.add %r1, %r3 : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = nn.add %a, %r4 : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  func.return %y : tensor<1x4xf32>
}

// A clamp with min >= 0 and a fused activation are never negative; a clamp reaching below 0 is.
// CHECK-LABEL: func.func @clamps
// CHECK-NEXT:    %c = nn.clamp %x {min = 0.000000e+00 : f32, max = 6.000000e+00 : f32}
// CHECK-NEXT:    %n = nn.clamp %x {min = -1.000000e+00 : f32, max = 1.000000e+00 : f32}
// CHECK-NEXT:    %rn = nn.relu %n
// CHECK-NEXT:    %l = nn.linear %x, %w {act_min = 0.000000e+00 : f32}
// CHECK-NEXT:    %a = nn.add %c, %rn
// CHECK-NEXT:    func.return %a, %l
func.func @clamps(%x: tensor<1x4xf32>, %w: tensor<4x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>) {
  %c = nn.clamp %x {min = 0.0 : f32, max = 6.0 : f32} : tensor<1x4xf32>
  %rc = nn.relu %c : tensor<1x4xf32>
  %n = nn.clamp %x {min = -1.0 : f32, max = 1.0 : f32} : tensor<1x4xf32>
  %rn = nn.relu %n : tensor<1x4xf32>
  %l = nn.linear %x, %w {act_min = 0.0 : f32} : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  %rl = nn.relu %l : tensor<1x4xf32>
  %a = nn.add %rc, %rn : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  func.return %a, %rl : tensor<1x4xf32>, tensor<1x4xf32>
}
