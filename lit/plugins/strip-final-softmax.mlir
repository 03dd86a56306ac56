// The Python plugin example of docs/extending.md, loaded from its file.
// RUN: t2m-opt %s --load-pass-plugin %S/../../examples/plugins/strip_softmax.py -p strip-final-softmax | filecheck %s

// CHECK-LABEL: func.func @classifier
// CHECK:         %[[L:.*]] = nn.linear %x, %w
// CHECK-NEXT:    func.return %[[L]] : tensor<1x3xf32>
func.func @classifier(%x: tensor<1x4xf32>) -> tensor<1x3xf32> {
  %w = nn.constant dense<0.5> : tensor<3x4xf32>
  %l = nn.linear %x, %w : (tensor<1x4xf32>, tensor<3x4xf32>) -> tensor<1x3xf32>
  %s = nn.softmax %l {axis = 1 : i64} : tensor<1x3xf32>
  func.return %s : tensor<1x3xf32>
}

// NOT stripped: a softmax whose probabilities are used inside the model.
// CHECK-LABEL: func.func @attention
// CHECK:         %[[S:.*]] = nn.softmax
// CHECK-NEXT:    nn.mul %[[S]]
func.func @attention(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %s = nn.softmax %x {axis = 1 : i64} : tensor<1x4xf32>
  %m = nn.mul %s, %x : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  func.return %m : tensor<1x4xf32>
}
