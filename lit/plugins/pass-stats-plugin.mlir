// --pass-stats counts the patterns a plugin hands straight to a PatternRewriteWalker (docs/extending.md's
// strip_softmax), PDL rewrites by their pattern's name, and xDSL's own canonicalize: every walker, one listener.
// RUN: t2m-opt %s --load-pass-plugin %S/../../examples/plugins/strip_softmax.py --fuse -p strip-final-softmax --pass-stats -o /dev/null 2>&1 | filecheck %s
// RUN: t2m-opt %s -p 'apply-pdl{pdl_file="%S/../../examples/plugins/hard_tanh.pdl.mlir"}' --pass-stats -o /dev/null 2>&1 | filecheck %s --check-prefix=PDL

// CHECK:      ===- pass statistics -===
// CHECK-NEXT: pass                         pattern                                  applied
// CHECK-NEXT: fuse-activation              FuseRelu                                       1
// CHECK-NEXT: strip-final-softmax          StripReturnedSoftmax                           1
// CHECK-NOT:  {{.}}

// PDL:      pass                         pattern                                  applied
// PDL-NEXT: apply-pdl                    pdl @tanh_to_hard_tanh                         1
func.func @classifier(%x: tensor<1x4xf32>) -> tensor<1x3xf32> {
  %w = nn.constant dense<0.5> : tensor<3x4xf32>
  %l = nn.linear %x, %w : (tensor<1x4xf32>, tensor<3x4xf32>) -> tensor<1x3xf32>
  %r = nn.relu %l : tensor<1x3xf32>
  %t = nn.tanh %r : tensor<1x3xf32>
  %s = nn.softmax %t {axis = 1 : i64} : tensor<1x3xf32>
  func.return %s : tensor<1x3xf32>
}
