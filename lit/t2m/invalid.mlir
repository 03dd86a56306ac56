// Descriptions that cannot be right are one-line errors when the file is read.
// RUN: not t2m-opt %s -o %t 2>&1 | filecheck %s --check-prefix=MACS
// MACS: t2m-opt: error: invalid IR: #t2m.layer macs must be >= 0, got -3
builtin.module {
  func.func private @m_L00_relu() attributes {t2m.layer = #t2m.layer<"relu", macs = -3>} {
    func.return
  }
}
