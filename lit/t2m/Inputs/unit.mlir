func.func private @m_L00_relu() attributes {t2m.layer} {
  func.return
}
