// --print-ir-after-change dumps the IR after each pass that changed it (fuse-activation did, canonicalize-nn did not).
// RUN: t2m-opt %s -p fuse-activation,canonicalize-nn --print-ir-after-change --pass-stats -o /dev/null 2>&1 | filecheck %s

// CHECK:      // -----// IR Dump After fuse-activation //----- //
// CHECK:      nn.linear %x, %w {act_min = 0.000000e+00 : f32}
// CHECK-NOT:  IR Dump After canonicalize-nn
// CHECK:      ===- pass statistics -===
// CHECK:      fuse-activation FuseRelu 1
func.func @f(%x: tensor<1x4xf32>) -> tensor<1x3xf32> {
  %w = nn.constant dense<0.5> : tensor<3x4xf32>
  %l = nn.linear %x, %w : (tensor<1x4xf32>, tensor<3x4xf32>) -> tensor<1x3xf32>
  %r = nn.relu %l : tensor<1x3xf32>
  func.return %r : tensor<1x3xf32>
}
