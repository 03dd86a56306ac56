// RUN: t2m-opt %s | t2m-opt | filecheck %s

// CHECK:      func.func @relu(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
// CHECK-NEXT:   %y = nn.relu %x : tensor<1x4xf32>
// CHECK-NEXT:   func.return %y : tensor<1x4xf32>
func.func @relu(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %y = nn.relu %x : tensor<1x4xf32>
  func.return %y : tensor<1x4xf32>
}
