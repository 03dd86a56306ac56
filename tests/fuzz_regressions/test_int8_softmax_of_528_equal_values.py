"""t2m-fuzz finding: mismatch at jit: -128 at [0, 0] where interpreter has -127 (528 of 528 values more than 0 LSB
off), for an int8 softmax over 528 values of a softmax's output (all nearly equal: each result is about 1/528,
half an output step). The host JIT (and the Cortex-M4 object) gave -128 and the integer interpreter
(`qnn.softmax_s8`) -127. With 528 equal values the sum of exponentials has 3 bits of headroom, so the last
division is by 2^(SOFTMAX_ACCUM_BITS - headroom + 23) = 2^32: a rounding shift of a 32-bit value by 32 (undefined
in CMSIS-NN's C, poison in LLVM, and 1 in numpy's int32 form, where the mask 2^32 - 1 wrapped to -1). Graph 986
of the same campaign (softmax of a softmax over 1092 values, a shift by 33) differed on the emulated Cortex-M4
only, as x86 masks shift counts to 5 bits and ARM does not. The exact quotient of a non-negative int32 by 2^32
or more is below one half: 0, an output of -128, which is also PyTorch's float result quantized (256 / 528 < 1/2).
Fixed in dialects/qnn.py `divide_by_power_of_two` (exact in int64 for any exponent) and passes/lower_qnn_softmax.py
`below_half_a_step` (a row whose exponent passes 31 gets a zero scale and the exponent 31, the same 0).

Found by `t2m-fuzz --dtype int8 --seed 12 graph 642` (8 ops), minimised to 3 ops in 74 runs.

Reproduce: pytest test_int8_softmax_of_528_equal_values.py
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

INPUT_SHAPE = (1, 3, 11, 16)
SEED = 12000678
SPECIAL = ()
SCALE = 1.0


class FuzzModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.l1 = nn.Flatten()
        self.l2 = nn.Softmax(dim=1)
        self.l3 = nn.Softmax(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v1 = self.l1(x)  # flatten: 1x528
        v2 = self.l2(v1)  # softmax: 1x528
        v3 = self.l3(v2)  # softmax: 1x528
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
