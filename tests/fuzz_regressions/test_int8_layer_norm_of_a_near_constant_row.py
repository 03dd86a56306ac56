"""t2m-fuzz finding: mismatch at interpreter: -12 at [0, 8, 0, 1] where torch has 93 (3 of 108 values more than 12
LSB off): a conv, a batch norm, a 1x1 conv, then `nn.LayerNorm([3])`, normalising rows of 3 values.

Not a fault of the layer norm: one row of its int8 input is [-9, -9, -9] in t2m and [-9, -8, -9] in PyTorch's
converted model. The 1x1 conv before it rounds one output differently by 1 LSB: t2m requantizes in fixed point,
PyTorch simulates the same in float (docs/int8.md). A row of 3 equal values has variance 0, so the norm gives beta.
With one value 1 LSB off it gives +-0.7 and 1.4 standard deviations, about 100 output steps away. Fed PyTorch's own
int8 input, t2m's layer norm gives PyTorch's output within 1 LSB. The test checks that explanation, and that every
level of t2m gives the interpreter's bits. The fuzzer still reports such amplified differences, since the oracle
cannot tell a 1-LSB tie upstream from a fault; this file records why this one is not a fault.

Found by `t2m-fuzz --dtype int8 --seed 2033 graph 469` (5 ops), minimised to 4 ops in 20 runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from xdsl.dialects.builtin import ModuleOp

from t2m.compiler.backend import HostJIT
from t2m.compiler.compile import CompileOptions, compile_module
from t2m.compiler.fuzz.harness import agree_int8, init_weights, make_input, torch_int8_values
from t2m.compiler.importer import LoadedModel, export, import_program
from t2m.compiler.importer.quantizer import quantize_program
from t2m.compiler.interpreter import entry_function, run_module
from t2m.compiler.model_info import describe_function, quantize
from t2m.dialects import qnn

INPUT_SHAPE = (1, 2, 11, 11)
SEED = 2033006568


class FuzzModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.l1 = nn.Conv2d(2, 2, kernel_size=(2, 2), stride=(3, 3), dilation=(3, 3), groups=2)
        self.l2 = nn.BatchNorm2d(2)
        self.l3 = nn.Conv2d(2, 12, kernel_size=(1, 1))
        self.l4 = nn.LayerNorm([3])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.l4(self.l3(self.l2(self.l1(x))))




def _converted() -> tuple[Any, ModuleOp, torch.Tensor, np.ndarray]:
    """PyTorch's converted model, its import, the input, and the input quantized as t2m's model takes it."""
    model = FuzzModel()
    init_weights(model, SEED)
    model.eval()
    x = make_input(INPUT_SHAPE, SEED, (), 1.0)
    example = (torch.from_numpy(x.copy()),)
    converted = quantize_program(export(LoadedModel("fuzz", model, None, example)), example, [example])
    module, unsupported = import_program(converted, "fuzz")
    assert not unsupported, [u.describe() for u in unsupported]
    return converted, module, example[0], quantize(x, *describe_function(entry_function(module)).input_quant[0])


def test_the_difference_is_the_layer_norm_inputs_1_lsb_not_the_layer_norm() -> None:
    converted, module, x, xq = _converted()
    norm = next(op for op in module.walk() if isinstance(op, qnn.LayerNormOp))
    *_, torch_norm_input, torch_output = torch_int8_values(converted, x)

    # t2m's int8 input of the layer norm (the model cut there): 1 LSB from PyTorch's, and in the failing row all
    # three values equal where PyTorch has one of them 1 LSB higher
    function = entry_function(module)
    ret = function.body.block.last_op
    assert ret is not None
    ret.operands = [norm.input]
    ours = run_module(module, [xq])[0].reshape(torch_norm_input.shape)
    assert np.abs(ours.astype(np.int64) - torch_norm_input).max() == 1
    assert ours[0, 8, 0].tolist() == [-9, -9, -9] and torch_norm_input[0, 8, 0].tolist() == [-9, -8, -9]

    # t2m's layer norm on PyTorch's own input: PyTorch's output within 1 LSB
    gamma, beta = (qnn_constant(v) for v in (norm.gamma, norm.beta))
    rows = torch_norm_input.reshape(-1, 3)
    got = qnn.layer_norm_s8(rows, gamma, beta, norm.input_zp.value.data, norm.eps.value.data, norm.requant)
    assert np.abs(got.astype(np.int64) - torch_output.reshape(-1, 3)).max() <= 1


def test_every_level_gives_the_interpreters_bits() -> None:
    _, module, _, xq = _converted()
    interpreted = run_module(module, [xq])
    result = compile_module(module, "fuzz", CompileOptions(run=False), stop_at="ll")
    assert result.info is not None
    jitted = [np.zeros(shape, np.int8) for shape in result.info.outputs]
    assert HostJIT(result.ll).run(result.info.entry, [xq], jitted) == 0
    agree_int8(jitted, interpreted, 0)


def qnn_constant(value: Any) -> np.ndarray:
    from t2m.dialects import nn as t2m_nn

    array = t2m_nn.constant_array(value)
    assert array is not None
    return array
