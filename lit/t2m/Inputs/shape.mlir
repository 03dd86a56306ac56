builtin.module attributes {t2m.model = #t2m.model<"m", inputs = [memref<4xf32>], outputs = [tensor<4xf32>], layout = "NCHW", arena = 0, live = []>} {
}
