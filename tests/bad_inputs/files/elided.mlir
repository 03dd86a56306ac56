// t2m: dense attributes of more than 8 elements are elided (dense_resource<__elided__>): this text is for reading, t2m refuses it as input
builtin.module {
  func.func @f(%x: tensor<1x4xf32>) -> tensor<1x3xf32> {
    %w = nn.constant dense_resource<__elided__> : tensor<3x4xf32>
    %l = nn.linear %x, %w : (tensor<1x4xf32>, tensor<3x4xf32>) -> tensor<1x3xf32>
    func.return %l : tensor<1x3xf32>
  }
}

