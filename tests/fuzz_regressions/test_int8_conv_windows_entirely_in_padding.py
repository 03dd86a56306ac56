"""t2m-fuzz finding: mismatch at jit: 0 at [0, 2, 0, 0] where interpreter has 56 (3 of 36 values more than 0 LSB
off), for an int8 1x1 conv of a 1x1 input padded by (2, 1, 0, 2): output columns whose window lies entirely in the
left padding. window_runs gives them the empty tap range (2, 2) of a kernel 1 wide, and lower-qnn-conv's
missing_taps summed the zero point's correction over kernel columns 0 and 1, reading a weight beyond the kernel.
Fixed in passes/lower_qnn_conv.py `missing_taps`: the ranges are clamped to the kernel. Here also a dilated
depthwise conv and a padded pointwise one whose windows fall outside the input.

Found by `t2m-fuzz --dtype int8 --seed 2 --max-ops 8` (graphs 29 and 102, each minimised to one conv).

Reproduce: pytest test_int8_conv_windows_entirely_in_padding.py
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

INPUT_SHAPE = (1, 2, 2, 3)
SEED = 2000035
SPECIAL = ()
SCALE = 1.0


class FuzzModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.l1 = nn.Conv2d(
            2, 3, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1, bias=False
        )
        self.l2 = nn.Conv2d(
            3, 3, kernel_size=(3, 2), stride=(1, 1), padding=(3, 3), dilation=(2, 1), groups=3, bias=True
        )
        self.l3 = nn.Conv2d(
            3, 4, kernel_size=(1, 1), stride=(1, 1), padding=(3, 2), dilation=(1, 1), groups=1, bias=True
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v1 = self.l1(nn.functional.pad(x, (2, 1, 0, 2)))  # conv2d: 1x3x4x6
        v2 = self.l2(v1)  # conv2d: 1x3x6x11
        v3 = self.l3(v2)  # conv2d: 1x4x12x15
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
    agree_int8(interpreted, expected, 2, exact)
    result = compile_module(module, 'fuzz', CompileOptions(run=False), stop_at="ll")
    assert result.info is not None
    jitted = [np.zeros(shape, np.int8) for shape in result.info.outputs]
    assert HostJIT(result.ll).run(result.info.entry, [xq], jitted) == 0
    agree_int8(jitted, interpreted, 0)
    build_object(result, 'fuzz', CompileOptions(run=False))
    emulated = run_object(result.obj, [xq], 'fuzz').outputs
    agree_int8(emulated, interpreted, 0)
