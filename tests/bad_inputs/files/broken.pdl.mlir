pdl.pattern @p : benefit(1) {
  %x = pdl.operand
  %op = pdl.operation "nn.tanh" (%x : !pdl.value
}
