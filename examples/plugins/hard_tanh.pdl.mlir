// A declarative rewrite for `t2m-opt -p 'apply-pdl{pdl_file="examples/plugins/hard_tanh.pdl.mlir"}'`:
// replace every nn.tanh with the piecewise-linear clamp(x, -1, 1) ("hard tanh"), an approximation that costs two
// compares instead of an exp on the Cortex-M4. Whether the model's accuracy survives is the experiment.
pdl.pattern @tanh_to_hard_tanh : benefit(1) {
  %type = pdl.type
  %x = pdl.operand
  %tanh = pdl.operation "nn.tanh" (%x : !pdl.value) -> (%type : !pdl.type)
  pdl.rewrite %tanh {
    %lo = pdl.attribute = -1.0 : f32
    %hi = pdl.attribute = 1.0 : f32
    %clamp = pdl.operation "nn.clamp" (%x : !pdl.value) {"min" = %lo, "max" = %hi} -> (%type : !pdl.type)
    pdl.replace %tanh with %clamp
  }
}
