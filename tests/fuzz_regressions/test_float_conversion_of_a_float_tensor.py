"""t2m-fuzz finding: crash at import: model 'fuzz' uses 1 unsupported op (aten._assert_tensor_metadata.default) for
`x.float()` and `x.to(torch.float32)`: torch.export checks the tensor's dtype before the conversion with an op that
computes nothing. Fixed in compiler/importer/aten.py: that check imports as nothing.

Found by `t2m-fuzz --seed 7` (graphs 39, 43, 103, 106, 159 and 178; each minimised to one x.float() or
x.to(torch.float32)).

Reproduce: pytest test_float_conversion_of_a_float_tensor.py
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

INPUT_SHAPE = (1, 3, 5, 5)
SEED = 43
SPECIAL = ()
SCALE = 1.0


class FuzzModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.l2 = nn.Conv2d(
            3, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1, bias=True
        )
        self.l4 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v1 = x.float()  # identity: 1x3x5x5
        v2 = self.l2(v1)  # conv2d: 1x4x5x5
        v3 = v2.to(torch.float32)  # identity: 1x4x5x5
        v4 = self.l4(v3)  # relu: 1x4x5x5
        return v4


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
