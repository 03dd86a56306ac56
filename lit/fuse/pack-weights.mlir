// RUN: t2m-opt %s -p pack-weights --split-input-file | filecheck %s

// A linear with 4 outputs: one block of 4, stored [in][4]: W[o][i] goes to position i * 4 + o.
// W = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]] -> [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11].
// CHECK-LABEL: func.func @blocked
// CHECK:         %[[P:.*]] = nn.constant dense<{{\[}}[0.000000e+00, 3.000000e+00, 6.000000e+00], [9.000000e+00, 1.000000e+00, 4.000000e+00], [7.000000e+00, 1.000000e+01, 2.000000e+00], [5.000000e+00, 8.000000e+00, 1.100000e+01]]> : tensor<4x3xf32>
// CHECK-NEXT:    %{{.*}} = nn.linear %x, %[[P]] {weight_layout = "blocked"} : (tensor<1x3xf32>, tensor<4x3xf32>) -> tensor<1x4xf32>
func.func @blocked(%x: tensor<1x3xf32>) -> tensor<1x4xf32> {
  %w = nn.constant dense<[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0], [9.0, 10.0, 11.0]]> : tensor<4x3xf32>
  %y = nn.linear %x, %w : (tensor<1x3xf32>, tensor<4x3xf32>) -> tensor<1x4xf32>
  func.return %y : tensor<1x4xf32>
}

// -----

// NOT packed: fewer than 4 outputs; a weight that is an argument; an already packed weight.
// CHECK-LABEL: func.func @keep
// CHECK:         nn.linear %x, %w :
// CHECK-NEXT:    nn.linear %x, %warg :
// CHECK-NEXT:    nn.linear %x, %w4 {weight_layout = "blocked"} :
func.func @keep(%x: tensor<1x3xf32>, %warg: tensor<5x3xf32>) -> (tensor<1x2xf32>, tensor<1x5xf32>, tensor<1x4xf32>) {
  %w = nn.constant dense<1.0> : tensor<2x3xf32>
  %w4 = nn.constant dense<1.0> : tensor<4x3xf32>
  %a = nn.linear %x, %w : (tensor<1x3xf32>, tensor<2x3xf32>) -> tensor<1x2xf32>
  %b = nn.linear %x, %warg : (tensor<1x3xf32>, tensor<5x3xf32>) -> tensor<1x5xf32>
  %c = nn.linear %x, %w4 {weight_layout = "blocked"} : (tensor<1x3xf32>, tensor<4x3xf32>) -> tensor<1x4xf32>
  func.return %a, %b, %c : tensor<1x2xf32>, tensor<1x5xf32>, tensor<1x4xf32>
}
