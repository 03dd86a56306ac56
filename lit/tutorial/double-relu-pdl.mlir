// The solution of docs/tutorial chapter 4, exercise 2 (a PDL pattern).
// RUN: t2m-opt %s -p 'apply-pdl{pdl_file="%S/../../docs/tutorial/solutions/double_relu.pdl.mlir"}' | filecheck %s

// CHECK-LABEL: func.func @chain
// CHECK-NEXT:    %r1 = nn.relu %x
// CHECK-NEXT:    %s = nn.sigmoid %r1
// CHECK-NEXT:    %r4 = nn.relu %s
// CHECK-NEXT:    func.return %r4
func.func @chain(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %r1 = nn.relu %x : tensor<1x4xf32>
  %r2 = nn.relu %r1 : tensor<1x4xf32>
  %r3 = nn.relu %r2 : tensor<1x4xf32>
  %s = nn.sigmoid %r3 : tensor<1x4xf32>
  %r4 = nn.relu %s : tensor<1x4xf32>
  func.return %r4 : tensor<1x4xf32>
}
