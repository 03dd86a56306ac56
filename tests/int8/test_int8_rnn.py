"""int8 GRU and LSTM: unrolled into their time steps before PT2E (compiler/importer/unroll.py), quantized by t2m's
quantizer, imported as qnn ops.

The unrolled float graph computes what nn.LSTM / nn.GRU compute (to float rounding); the integer interpreter is
within 2 LSB of PyTorch's converted model of it (one LSB per layer on ties and Q31 multipliers, carried through
the recurrence); the interpreter, the loop IR, the host JIT and the Cortex-M4 object on the emulator agree bit for
bit; the recurrent weights are one constant in flash whatever the sequence length.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from int8_helpers import Pair, cosine, import_quantized, io_quant, qnn_ops, quantize, quantize_input, samples
from qnn_models import emulated_outputs, first_difference, loop_outputs, reference
from torch import nn

from t2m.compiler.backend import HostJIT
from t2m.compiler.compile import CompileOptions, compile_module
from t2m.compiler.errors import T2MError
from t2m.compiler.importer import import_program
from t2m.compiler.importer.quantizer import T2MQuantizer, prepare_pt2e
from t2m.compiler.importer.unroll import STATE, unroll_recurrent

FEATURES, HIDDEN, STEPS = 8, 16, 5


class Recurrent(nn.Module):
    """A GRU or LSTM returning its output sequence and its final state(s); with `state`, h0 (and c0) are model
    inputs, else PyTorch's zero state."""

    def __init__(self, cell: str, state: bool = False, features: int = FEATURES, hidden: int = HIDDEN, **kw: Any):
        super().__init__()
        self.rnn = getattr(nn, cell)(features, hidden, **kw)
        self.lstm, self.state = cell == "LSTM", state

    def forward(self, x: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
        hx = (tuple(state) if self.lstm else state[0]) if state else None
        y, hidden = self.rnn(x, hx)
        return (y, *hidden) if self.lstm else (y, hidden)


CASES: dict[str, tuple[str, dict[str, Any], bool]] = {
    "lstm": ("LSTM", {}, False),
    "lstm-2-layers-batch-first": ("LSTM", {"num_layers": 2, "batch_first": True}, False),
    "lstm-bidirectional-given-state": ("LSTM", {"bidirectional": True}, True),
    "gru": ("GRU", {}, False),
    "gru-2-layers-batch-first": ("GRU", {"num_layers": 2, "batch_first": True}, False),
    "gru-bidirectional-given-state-no-bias": ("GRU", {"bidirectional": True, "bias": False}, True),
}


def _model(name: str, steps: int = STEPS, **sizes: int) -> tuple[nn.Module, list[tuple[int, ...]]]:
    """The seeded model of case `name` and its input shapes (batch 2 for the batch-first ones)."""
    cell, kw, state = CASES[name]
    torch.manual_seed(0)
    model = Recurrent(cell, state, **sizes, **kw).eval()
    rnn = model.rnn
    x = (2, steps, rnn.input_size) if rnn.batch_first else (steps, 1, rnn.input_size)
    batch = x[0] if rnn.batch_first else x[1]
    h = (rnn.num_layers * (2 if rnn.bidirectional else 1), batch, rnn.hidden_size)
    return model, [x, *([h] * (2 if cell == "LSTM" else 1) if state else [])]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_unrolled_float_graph_is_the_recurrent_layer(name: str) -> None:
    """What PT2E quantizes: the exported graph with every step spelled out, equal to nn.LSTM / nn.GRU."""
    model, shapes = _model(name)
    inputs = samples(shapes, 1, seed=3)[0]
    gm = torch.export.export(model, inputs).module(check_guards=False)
    unroll_recurrent(gm)
    targets = {str(node.target) for node in gm.graph.nodes}
    assert not targets & {"aten.lstm.input", "aten.gru.input"}
    assert {"aten.linear.default", "aten.sigmoid.default", "aten.tanh.default", "aten.mul.Tensor"} <= targets
    with torch.no_grad():
        for got, want in zip(gm(*inputs), model(*inputs), strict=True):
            assert got.shape == want.shape
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module", params=sorted(CASES))
def quantized(request: pytest.FixtureRequest) -> tuple[str, nn.Module, list[tuple[int, ...]], Pair]:
    model, shapes = _model(request.param)
    program = quantize(model, samples(shapes, 32, seed=1))
    return request.param, model, shapes, Pair(program, import_quantized(program))


def test_within_two_lsb_of_pytorchs_converted_model(quantized: tuple[str, nn.Module, list[Any], Pair]) -> None:
    """The integer interpreter against PyTorch's converted (float-simulated) model over 16 inputs: measured 2 LSB
    at most for every case (1 LSB from a rounding at one step moves the gates of the next one); and close to the
    float model (cosine of the dequantized outputs)."""
    name, model, shapes, pair = quantized
    assert not [op for op in qnn_ops(pair.module) if op in ("nn.linear", "nn.sigmoid", "nn.tanh", "nn.mul")]
    worst, similarity = 0, 1.0
    for inputs in samples(shapes, 16, seed=2):
        outputs = pair.run(inputs)
        worst = max(worst, outputs.max_lsb())
        with torch.no_grad():
            exact = model(*inputs)
        for real, want in zip(outputs.real("t2m"), exact, strict=True):
            similarity = min(similarity, cosine(real, want.numpy()))
    assert worst <= 2, name
    assert similarity >= 0.99, (name, similarity)


@pytest.mark.parametrize("name", ["lstm-2-layers-batch-first", "gru-bidirectional-given-state-no-bias"])
def test_each_value_of_a_step_has_one_observer_across_the_steps(name: str) -> None:
    """h and c, and every value a step computes, are quantized alike at every step (one observer per layer,
    direction and value): no step rescales the state it reads, and the steps share tables and multipliers."""
    model, shapes = _model(name)
    gm = torch.export.export(model, samples(shapes, 1, seed=1)[0]).module(check_guards=False)
    prepared = prepare_pt2e(gm, T2MQuantizer())
    observers: dict[str, set[int]] = {}
    members: dict[str, int] = {}
    for node in prepared.graph.nodes:
        if (group := node.meta.get(STATE)) is not None:
            found = {id(prepared.get_submodule(u.target)) for u in node.users if u.op == "call_module"}
            observers.setdefault(group, set()).update(found)
            members[group] = members.get(group, 0) + 1
    last = "lstm.1" if name.startswith("lstm") else "gru.1"
    assert members[f"{last}.h"] == STEPS and members[f"{last}.pre0"] == (STEPS - 1 if last == "lstm.1" else STEPS)
    assert {group: len(found) for group, found in observers.items() if len(found) != 1} == {}


@pytest.mark.parametrize("name", ["lstm-2-layers-batch-first", "gru-bidirectional-given-state-no-bias"])
def test_jit_and_emulator_are_bit_exact(name: str) -> None:
    """One LLVM module for the Cortex-M4, run by the host JIT and, as an object, by the emulator (3 steps: each
    step is some 40 layer functions to compile)."""
    model, shapes = _model(name, steps=3)
    module = import_quantized(quantize(model, samples(shapes, 16, seed=1)))
    in_quant, _ = io_quant(module)
    inputs = [quantize_input(x, s, z) for x, (s, z) in zip(samples(shapes, 1, seed=4)[0], in_quant, strict=True)]
    want = reference(module, inputs)
    assert all(len(np.unique(w)) > 8 for w in want), "outputs that vary, or bit-exactness proves little"
    result = compile_module(module, "int8", CompileOptions(run=False))
    assert result.info is not None
    got = [np.full(shape, 99, np.int8) for shape in result.info.outputs]
    assert HostJIT(result.ll).run(result.info.entry, inputs, got) == 0
    assert first_difference(got, want) is None
    assert first_difference(emulated_outputs(result.obj, inputs), want) is None


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_loop_level_ir_is_bit_exact(name: str) -> None:
    """Rung 2 (xDSL's interpreter is slow: a small layer)."""
    model, shapes = _model(name, steps=3, features=3, hidden=4)
    program = quantize(model, samples(shapes, 8, seed=1))
    module = import_quantized(program)
    inputs = [np.random.default_rng(5).integers(-128, 128, shape).astype(np.int8) for shape in shapes]
    assert first_difference(loop_outputs(module, inputs), reference(module, inputs)) is None


def _flash(cell: str, steps: int) -> dict[str, int]:
    torch.manual_seed(0)
    model = Recurrent(cell).eval()
    program = quantize(model, samples([(steps, 1, FEATURES)], 8, seed=1))
    return compile_module(import_quantized(program), "int8", CompileOptions(run=False)).sizes


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_recurrent_weights_are_one_constant_whatever_the_length(cell: str) -> None:
    """Every step's hidden projection reads the same int8 weights (and, from the second step on, the same
    requantization and tables): the object's weights (.rodata) do not grow with the sequence; its code does,
    one layer function per op of each step."""
    short, long = _flash(cell, 2), _flash(cell, 4)
    assert short["rodata"] == long["rodata"]
    assert long["text"] > short["text"]


def test_a_projected_lstm_is_refused_with_the_reason() -> None:
    torch.manual_seed(0)
    model = Recurrent("LSTM", proj_size=4).eval()
    with pytest.raises(T2MError) as error:
        quantize(model, samples([(STEPS, 1, FEATURES)], 2, seed=1))
    assert str(error.value).startswith("int8 LSTM: recurrent weights with projections (proj_size)")


class Whole(T2MQuantizer):
    """A quantizer that leaves the recurrent layer whole, as other quantizers do."""

    def transform_for_annotation(self, model: Any) -> Any:
        return model


def test_a_recurrent_layer_left_whole_by_another_quantizer_is_refused_with_the_reason() -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gru, self.head = nn.GRU(4, 4, batch_first=True), nn.Linear(4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.gru(x)[0])

    program = quantize(Model().eval(), samples([(1, 3, 4)], 2, seed=5), Whole())
    _, unsupported = import_program(program, "m")
    assert [u.op for u in unsupported] == ["aten.gru.input"]
    assert unsupported[0].reason.startswith("an LSTM/GRU left whole by the quantizer stays float inside")


def test_one_minus_x_is_a_table() -> None:
    """`1 - x` (the GRU's 1 - z) of an int8 activation: a qnn.lut, within 1 LSB of PyTorch."""

    class OneMinus(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 1 - torch.sigmoid(x)

    program = quantize(OneMinus().eval(), samples([(2, 16)], 8, seed=1))
    pair = Pair(program, import_quantized(program))
    assert qnn_ops(pair.module).count("qnn.lut") == 2
    assert max(pair.run(x).max_lsb() for x in samples([(2, 16)], 4, seed=2)) <= 1
