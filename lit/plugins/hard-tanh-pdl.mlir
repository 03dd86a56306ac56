// The PDL example of docs/extending.md: a declarative rewrite applied with xDSL's apply-pdl.
// RUN: t2m-opt %s -p 'apply-pdl{pdl_file="%S/../../examples/plugins/hard_tanh.pdl.mlir"}' | filecheck %s

// CHECK-LABEL: func.func @f
// CHECK-NEXT:    %[[C:.*]] = nn.clamp %x {min = -1.000000e+00 : f32, max = 1.000000e+00 : f32} : tensor<2x3xf32>
// CHECK-NEXT:    %{{.*}} = nn.sigmoid %[[C]]
// CHECK-NOT:     nn.tanh
func.func @f(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %y = nn.tanh %x : tensor<2x3xf32>
  %z = nn.sigmoid %y : tensor<2x3xf32>
  func.return %z : tensor<2x3xf32>
}
