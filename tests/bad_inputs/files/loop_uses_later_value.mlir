func.func @f(%m: memref<4xf32>) {
  affine.for %i = 0 to 4 {
    memref.store %one, %m[%i] : memref<4xf32>
  }
  %one = arith.constant 1.0 : f32
  func.return
}
