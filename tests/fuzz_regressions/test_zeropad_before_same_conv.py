"""t2m-fuzz finding: crash at import: aten.pad.default (zero padding whose result is used by something other than a
convolution) for nn.ZeroPad2d before a Conv2d with padding='same'. Fixed in compiler/importer/aten.py `pad`:
torch.export writes that conv as aten.conv2d.padding, which the pad's check of its users did not list.

Found by `t2m-fuzz --seed 5` (graph 52, 6 ops; minimised to this one conv).

Reproduce: pytest test_zeropad_before_same_conv.py
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from t2m.compiler.backend import HostJIT
from t2m.compiler.compile import CompileOptions, build_object, compile_module
from t2m.compiler.emulate import run_object
from t2m.compiler.fuzz.harness import agree, conditioning, float64_outputs, init_weights, make_input, outputs
from t2m.compiler.importer import LoadedModel, export, import_program
from t2m.compiler.interpreter import run_module

INPUT_SHAPE = (1, 2, 5, 5)
SEED = 52
SPECIAL = ()
SCALE = 1.0


class FuzzModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.l1 = nn.Conv2d(
            2, 4, kernel_size=(3, 3), stride=(1, 1), padding='same', dilation=(1, 1), groups=1, bias=True
        )
        self.l1_pad = nn.ZeroPad2d((1, 1, 1, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v1 = self.l1(self.l1_pad(x))  # conv2d: 1x4x6x7
        return v1


def test_fuzz_finding() -> None:
    model = FuzzModel()
    init_weights(model, SEED)
    model.eval()
    x = make_input(INPUT_SHAPE, SEED, SPECIAL, SCALE)
    with torch.no_grad():  # on copies of x: an in-place op may write into the model's input
        expected = outputs(model(torch.from_numpy(x.copy())))
    slack = 10.0 * conditioning(expected, float64_outputs(model, x))  # ill-conditioned graphs
    example = (torch.from_numpy(x.copy()),)
    module, unsupported = import_program(export(LoadedModel('fuzz', model, None, example)), 'fuzz')
    assert not unsupported, [u.describe() for u in unsupported]
    interpreted = run_module(module, [x])
    agree(interpreted, expected, max(1e-05, slack))
    result = compile_module(module, 'fuzz', CompileOptions(run=False), stop_at="ll")
    assert result.info is not None
    jitted = [np.zeros(shape, np.float32) for shape in result.info.outputs]
    assert HostJIT(result.ll).run(result.info.entry, [x], jitted) == 0
    agree(jitted, interpreted, max(0.0001, slack))
    build_object(result, 'fuzz', CompileOptions(run=False))
    emulated = run_object(result.obj, [x], 'fuzz').outputs
    agree(emulated, interpreted, max(0.0001, slack))
