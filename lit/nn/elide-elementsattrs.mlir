// --elide-elementsattrs-if-larger N: constants of more than N elements print as MLIR's dense_resource<__elided__>
// (splats and small constants stay), under a first line that says the text is for reading; read back, it is
// refused with one line naming the first elided constant.
// RUN: t2m-opt %s --elide-elementsattrs-if-larger 4 | filecheck %s
// RUN: t2m-opt %s --elide-elementsattrs-if-larger 4 -o %t.mlir && not t2m-opt %t.mlir 2>&1 | filecheck %s --check-prefix=REFUSED
// RUN: t2m-opt %s --elide-elementsattrs-if-larger 12 | filecheck %s --check-prefix=NONE

// CHECK:      // t2m: dense attributes of more than 4 elements are elided (dense_resource<__elided__>): this text is for reading, t2m refuses it as input
// CHECK-NEXT: builtin.module {
// CHECK:        %w = nn.constant dense_resource<__elided__> : tensor<3x4xf32>
// CHECK-NEXT:   %b = nn.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
// CHECK-NEXT:   %s = nn.constant dense<5.000000e-01> : tensor<3x4xf32>

// REFUSED: t2m-opt: error: '{{.*}}.mlir' was printed with its large constants elided (dense_resource<__elided__>), so it cannot be read back, at {{.*}}.mlir:4; use the IR printed without --elide-elementsattrs-if-larger

// NONE-NOT: t2m: dense attributes
// NONE-NOT: __elided__
func.func @f(%x: tensor<1x4xf32>) -> tensor<1x3xf32> {
  %w = nn.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 1.0, 2.0, 3.0]]> : tensor<3x4xf32>
  %b = nn.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %s = nn.constant dense<0.5> : tensor<3x4xf32>
  %l = nn.linear %x, %w, %b : (tensor<1x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<1x3xf32>
  %m = nn.linear %x, %s : (tensor<1x4xf32>, tensor<3x4xf32>) -> tensor<1x3xf32>
  %a = nn.add %l, %m : (tensor<1x3xf32>, tensor<1x3xf32>) -> tensor<1x3xf32>
  func.return %a : tensor<1x3xf32>
}
