"""t2m-fuzz finding: crash at import: quantized model 'fuzz' has 1 part t2m cannot represent exactly in int8
(aten.to.dtype) for `x.float()` of a float32 model input (the same for x.to(torch.float32), x[:] and x.detach() of
the input): identities the int8 front end left in float. Fixed in compiler/importer/quantizer.py: what returns its
input itself (`to.dtype` to the tensor's own dtype without a copy, detach, alias) is dropped before annotation
(`T2MQuantizer.transform_for_annotation`), with the dtype checks torch.export puts before conversions; a copying
conversion to the same dtype shares its input's quantization, as clone, and qgraph reads it as the identity.
(`x[:]` of the input quantizes as a slice already.)

Found by `t2m-fuzz --dtype int8` while its op table still drew these forms (now left out of int8 graphs).

Reproduce: pytest test_int8_float_conversion.py
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from t2m.compiler.backend import HostJIT
from t2m.compiler.compile import CompileOptions, build_object, compile_module
from t2m.compiler.emulate import run_object
from t2m.compiler.fuzz.harness import agree_int8, init_weights, make_input, outputs
from t2m.compiler.importer import LoadedModel, export, import_program
from t2m.compiler.importer.quantizer import quantize_program
from t2m.compiler.interpreter import entry_function, run_module
from t2m.compiler.model_info import describe_function, quantize

INPUT_SHAPE = (1, 2, 4, 4)
SEED = 7
SPECIAL = ()
SCALE = 1.0


class FuzzModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.l2 = nn.Conv2d(
            2, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1, bias=True
        )
        self.l3 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v1 = x.float()  # identity: 1x2x4x4
        v2 = self.l2(v1)  # conv2d: 1x2x4x4
        v3 = self.l3(v2)  # relu: 1x2x4x4
        return v3


def test_fuzz_finding() -> None:
    model = FuzzModel()
    init_weights(model, SEED)
    model.eval()
    x = make_input(INPUT_SHAPE, SEED, SPECIAL, SCALE)
    example = (torch.from_numpy(x.copy()),)  # PT2E int8, calibrated on x
    converted = quantize_program(export(LoadedModel('fuzz', model, None, example)), example, [example])
    module, unsupported = import_program(converted, 'fuzz')
    assert not unsupported, [u.describe() for u in unsupported]
    info = describe_function(entry_function(module))
    xq = quantize(x, *info.input_quant[0])
    with torch.no_grad():  # PyTorch's converted model, and the float model, quantized as the outputs are
        expected = [quantize(y, *q) for y, q in zip(outputs(converted.module()(example[0])), info.output_quant,
                                                    strict=True)]
        exact = [quantize(y, *q) for y, q in zip(outputs(model(torch.from_numpy(x.copy()))), info.output_quant,
                                                 strict=True)]
    interpreted = run_module(module, [xq])
    agree_int8(interpreted, expected, 12, exact)
    result = compile_module(module, 'fuzz', CompileOptions(run=False), stop_at="ll")
    assert result.info is not None
    jitted = [np.zeros(shape, np.int8) for shape in result.info.outputs]
    assert HostJIT(result.ll).run(result.info.entry, [xq], jitted) == 0
    agree_int8(jitted, interpreted, 0)
    build_object(result, 'fuzz', CompileOptions(run=False))
    emulated = run_object(result.obj, [xq], 'fuzz').outputs
    agree_int8(emulated, interpreted, 0)
