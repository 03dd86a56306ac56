// Chapter 4, exercise 2: relu(relu(x)) -> relu(x), as a PDL pattern.
//   t2m-opt docs/tutorial/code/redundant.mlir -p 'apply-pdl{pdl_file="docs/tutorial/solutions/double_relu.pdl.mlir"}'
pdl.pattern @double_relu : benefit(1) {
  %type = pdl.type
  %x = pdl.operand
  %inner = pdl.operation "nn.relu" (%x : !pdl.value) -> (%type : !pdl.type)
  %r = pdl.result 0 of %inner
  %outer = pdl.operation "nn.relu" (%r : !pdl.value) -> (%type : !pdl.type)
  pdl.rewrite %outer {
    pdl.replace %outer with (%r : !pdl.value)
  }
}
