"""t2m-fuzz finding: crash at import: model 'fuzz' uses 1 unsupported op (aten.slice_scatter.default), for an
in-place activation on a full slice of the input (`nn.Hardswish(inplace=True)(x[:])`). Functionalization (see
test_inplace_op_on_a_view_of_the_input.py) writes the activation back into the input with slice_scatter, which the
importer did not know. Fixed in compiler/importer/aten.py `slice_scatter`: over a full slice its result is the
written value (a partial one is nn.insert_slice: test_inplace_op_on_a_slice_of_an_activation.py).

Found by `t2m-fuzz --seed 12 graph 571` (minimised to 2 ops).

Reproduce: pytest test_inplace_op_on_a_full_slice.py
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

INPUT_SHAPE = (1, 1, 1)
SEED = 12000607
SPECIAL = ()
SCALE = 1.0


class FuzzModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.l2 = nn.Hardswish(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v1 = x[:]  # identity: 1x1x1
        v2 = self.l2(v1)  # hardswish: 1x1x1
        return v2


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
