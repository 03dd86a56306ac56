func.func @m_run() attributes {t2m.model = #t2m.model<"m", inputs = [tensor<4xf32>], outputs = [tensor<4xf32>], layout = "NCHW", arena = 0, live = []>} {
  func.return
}
