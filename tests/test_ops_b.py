"""Issue 12's data-movement, reduction, matmul, normalisation, recurrent and embedding layers in fp32, against
PyTorch at every level: the nn reference interpreter (<= 1e-5 relative), the host JIT and the Cortex-M4 object
on the emulator (<= 1e-4), in torch.export's default IR and (where the op has a core-ATen form) after
`run_decompositions()`.

Slicing (steps, negative bounds), select, chunk/split/unbind, permute/transpose (ShuffleNet's channel shuffle),
sum/mean over axes with and without keepdim, matmul/bmm of two activations (broadcast batch dims, vectors),
LayerNorm (with and without affine parameters), softmax over every axis, LSTM and GRU (batch_first both ways,
stacked, bidirectional, no bias, a given initial state), Embedding (int32 indices in, out-of-range rows clamped
to row 0 on the target).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

from t2m.compiler.backend import HostJIT
from t2m.compiler.compare import relative_error
from t2m.compiler.compile import CompileOptions, compile_module
from t2m.compiler.emulate import run_object
from t2m.compiler.errors import T2MError
from t2m.compiler.importer import export, import_program, unsupported_error
from t2m.compiler.importer.loading import LoadedModel
from t2m.compiler.interpreter import run_module

NN_RTOL = 1e-5
OBJECT_RTOL = 1e-4


class Lambda(nn.Module):
    """A model whose forward is `fn` (after an optional 1x1 conv, so the op reads an activation)."""

    def __init__(self, fn: Callable[..., object], channels: int = 0):
        super().__init__()
        self.fn = fn
        self.conv = nn.Conv2d(channels, channels, 1) if channels else None

    def forward(self, *xs: torch.Tensor) -> object:
        if self.conv is not None:
            xs = (self.conv(xs[0]), *xs[1:])
        return self.fn(*xs)


class Recurrent(nn.Module):
    def __init__(self, kind: str, initial: bool = False, **kw: object):
        super().__init__()
        self.rnn = getattr(nn, kind)(5, 6, **kw)
        self.initial = initial

    def forward(self, x: torch.Tensor) -> object:
        if not self.initial:
            return self.rnn(x)
        layers = self.rnn.num_layers * (2 if self.rnn.bidirectional else 1)
        batch = x.shape[0] if self.rnn.batch_first else x.shape[1]
        h0 = torch.tanh(x.sum() * torch.ones(layers, batch, 6) * 0.1)  # a state computed from the input
        return self.rnn(x, (h0, 0.5 * h0) if isinstance(self.rnn, nn.LSTM) else h0)


class Attention(nn.Module):
    """A tiny transformer block: LayerNorm, Q K^T / sqrt(d), softmax over the last axis, times V, a residual."""

    def __init__(self, dim: int = 8):
        super().__init__()
        self.norm, self.qkv, self.out = nn.LayerNorm(dim), nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.scale = dim**-0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(self.norm(x)).chunk(3, dim=-1)
        attention = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * self.scale, dim=-1)
        return x + self.out(torch.bmm(attention, v))


def channel_shuffle(x: torch.Tensor) -> torch.Tensor:
    """ShuffleNetV2's split + shuffle: half the channels pass, the other half is processed, then interleaved."""
    a, b = x.chunk(2, dim=1)
    y = torch.cat([a, torch.relu(b)], 1)
    n, c, h, w = y.shape
    return y.reshape(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)


CASES: dict[str, tuple[Callable[[], nn.Module], list[tuple[int, ...]]]] = {
    "slice": (lambda: Lambda(lambda x: x[:, 2:5], 6), [(2, 6, 5, 4)]),
    "slice_steps": (lambda: Lambda(lambda x: x[:, ::2, 1::3, -3:], 6), [(2, 6, 7, 5)]),
    "slice_negative": (lambda: Lambda(lambda x: x[..., -4:-1] + x[..., 1:4], 3), [(1, 3, 4, 6)]),
    "select": (lambda: Lambda(lambda x: x.select(1, 2) * x[:, -1], 4), [(2, 4, 3, 5)]),
    "select_batch": (lambda: Lambda(lambda x: x[0], 3), [(2, 3, 4, 4)]),
    "chunk": (lambda: Lambda(lambda x: torch.cat(list(reversed(x.chunk(3, dim=1))), 1), 7), [(1, 7, 3, 3)]),
    "split_sizes": (lambda: Lambda(lambda x: torch.split(x, [1, 3, 2], dim=2)[1].relu(), 2), [(2, 2, 6, 3)]),
    "split_size": (lambda: Lambda(lambda x: torch.cat(list(reversed(torch.split(x, 2, dim=3))), 3), 2),
                   [(1, 2, 3, 5)]),
    "unbind": (lambda: Lambda(lambda x: torch.stack(list(reversed(x.unbind(1))), 1), 3), [(2, 3, 2, 2)]),
    "channel_shuffle": (lambda: Lambda(channel_shuffle, 8), [(2, 8, 4, 3)]),
    "permute": (lambda: Lambda(lambda x: x.permute(0, 2, 3, 1).contiguous(), 5), [(2, 5, 3, 4)]),
    "transpose": (lambda: Lambda(lambda x: x.transpose(1, 3) + 1, 4), [(1, 4, 3, 2)]),
    "t": (lambda: Lambda(lambda x: torch.relu(x).t()), [(5, 3)]),
    "mean_axes": (lambda: Lambda(lambda x: x.mean(dim=(1, 3)), 4), [(2, 4, 3, 5)]),
    "mean_keepdim": (lambda: Lambda(lambda x: x * x.mean(dim=-1, keepdim=True), 4), [(2, 4, 3, 5)]),
    "mean_all": (lambda: Lambda(lambda x: x.mean() * x, 2), [(1, 2, 3, 3)]),
    "sum_axis": (lambda: Lambda(lambda x: x.sum(1), 6), [(2, 6, 3, 4)]),
    "sum_keepdim": (lambda: Lambda(lambda x: x / 4 + x.sum(dim=(0, 2), keepdim=True), 3), [(2, 3, 4, 5)]),
    "sum_all": (lambda: Lambda(lambda x: torch.sum(x) + x, 3), [(1, 3, 2, 2)]),
    "matmul": (lambda: Lambda(lambda x: torch.matmul(x, x.transpose(2, 3)), 3), [(2, 3, 4, 5)]),
    "matmul_inputs": (lambda: Lambda(torch.matmul), [(2, 3, 4), (2, 4, 6)]),
    "matmul_broadcast": (lambda: Lambda(torch.matmul), [(2, 3, 4, 5), (1, 5, 2)]),
    "matmul_vector": (lambda: Lambda(torch.matmul), [(3, 4), (4,)]),
    "matmul_vector_left": (lambda: Lambda(torch.matmul), [(4,), (2, 4, 3)]),
    "bmm": (lambda: Lambda(torch.bmm), [(3, 2, 5), (3, 5, 4)]),
    "layer_norm": (lambda: nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8)), [(2, 5, 6)]),
    "layer_norm_2d": (lambda: nn.LayerNorm([3, 4]), [(2, 5, 3, 4)]),
    "layer_norm_plain": (lambda: nn.LayerNorm(7, elementwise_affine=False, eps=1e-3), [(3, 7)]),
    "softmax_axis0": (lambda: Lambda(lambda x: torch.softmax(x, 0), 3), [(2, 3, 4, 2)]),
    "softmax_axis1": (lambda: Lambda(lambda x: torch.softmax(x, 1), 3), [(2, 3, 4, 2)]),
    "softmax_axis2": (lambda: Lambda(lambda x: torch.softmax(x, -2), 3), [(2, 3, 4, 2)]),
    "attention": (Attention, [(2, 5, 8)]),
    "lstm": (lambda: Recurrent("LSTM", batch_first=True), [(2, 4, 5)]),
    "lstm_time_major": (lambda: Recurrent("LSTM"), [(3, 3, 5)]),
    "lstm_stacked_bidirectional": (lambda: Recurrent("LSTM", num_layers=2, bidirectional=True, batch_first=True),
                                   [(2, 2, 5)]),
    "lstm_no_bias_initial": (lambda: Recurrent("LSTM", initial=True, bias=False), [(3, 2, 5)]),
    "gru": (lambda: Recurrent("GRU", batch_first=True), [(2, 4, 5)]),
    "gru_time_major": (lambda: Recurrent("GRU"), [(3, 3, 5)]),
    "gru_stacked_bidirectional": (lambda: Recurrent("GRU", num_layers=2, bidirectional=True), [(2, 2, 5)]),
    "gru_initial": (lambda: Recurrent("GRU", initial=True, batch_first=True), [(2, 3, 5)]),
}


def _model(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    factory, shapes = CASES[name]
    torch.manual_seed(0)
    model = factory().eval()
    generator = torch.Generator().manual_seed(1)
    return model, tuple(torch.randn(s, generator=generator) for s in shapes)


def _import(model: nn.Module, inputs: tuple[torch.Tensor, ...], decompose: bool = False):
    program = export(LoadedModel("m", model, None, inputs))
    if decompose:
        program = program.run_decompositions()
    module, unsupported = import_program(program, "m")
    assert not unsupported, [u.describe() for u in unsupported]
    return module


def _reference(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> list[np.ndarray]:
    with torch.no_grad():
        ref = model(*inputs)
    flat: list[np.ndarray] = []
    for r in ref if isinstance(ref, tuple | list) else (ref,):
        flat += [t.numpy() for t in r] if isinstance(r, tuple) else [r.numpy()]
    return flat


def _worst(got: list[np.ndarray], refs: list[np.ndarray]) -> float:
    assert len(got) == len(refs)
    for g, r in zip(got, refs, strict=True):
        assert g.shape == r.shape, (g.shape, r.shape)
    return max(relative_error(g, r) for g, r in zip(got, refs, strict=True))


@pytest.mark.parametrize("name", sorted(CASES))
def test_interpreter_and_jit_match_torch(name: str) -> None:
    model, inputs = _model(name)
    module = _import(model, inputs)
    refs = _reference(model, inputs)
    assert _worst(run_module(module, [x.numpy() for x in inputs]), refs) <= NN_RTOL
    result = compile_module(module, "m", CompileOptions(target="host"), stop_at="ll")
    assert result.info is not None
    outputs = [np.full(shape, np.nan, np.float32) for shape in result.info.outputs]
    assert HostJIT(result.ll).run(result.info.entry, [x.numpy() for x in inputs], outputs) == 0
    assert _worst(outputs, refs) <= OBJECT_RTOL


DECOMPOSED = ["slice_steps", "select", "chunk", "split_sizes", "unbind", "channel_shuffle", "permute", "mean_axes",
              "sum_keepdim", "matmul", "matmul_broadcast", "bmm", "layer_norm", "softmax_axis1", "attention"]


@pytest.mark.parametrize("name", DECOMPOSED)
def test_core_aten_form_matches_torch(name: str) -> None:
    """After run_decompositions() (a saved .pt2 may hold core ATen): split.Tensor, native_layer_norm, expand..."""
    model, inputs = _model(name)
    module = _import(model, inputs, decompose=True)
    assert _worst(run_module(module, [x.numpy() for x in inputs]), _reference(model, inputs)) <= NN_RTOL


class Tagger(nn.Module):
    """Embedding -> GRU -> per-step classifier: a keyword-spotting-style sequence model over token ids."""

    def __init__(self):
        super().__init__()
        self.embed, self.gru, self.head = nn.Embedding(20, 6), nn.GRU(6, 5, batch_first=True), nn.Linear(5, 3)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.head(self.gru(self.embed(ids))[0]), dim=-1)


class Mixed(nn.Module):
    """Every fp32 op of this file in one object (one LLVM compilation for the emulator)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 1)
        self.attention = Attention(8)
        self.lstm = nn.LSTM(8, 4, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        y = channel_shuffle(self.conv(x))  # [2, 8, 4, 3]
        tokens = y.flatten(2).transpose(1, 2)  # [2, 12, 8]
        z = self.attention(tokens)
        seq, (h, _) = self.lstm(z[:, ::3])
        return seq.mean(dim=1), h.sum(0), torch.softmax(y[:, 1:7, 0], dim=1), y.select(3, 2).permute(2, 0, 1)


def test_objects_on_the_emulator_match_torch() -> None:
    torch.manual_seed(0)
    for model, inputs in (
        (Mixed().eval(), (torch.randn(2, 8, 4, 3, generator=torch.Generator().manual_seed(2)),)),
        (Tagger().eval(), (torch.randint(0, 20, (2, 5), generator=torch.Generator().manual_seed(3)),)),
    ):
        module = _import(model, inputs)
        result = compile_module(module, "m", CompileOptions(run=False))
        run = run_object(result.obj, [x.numpy() for x in inputs], "m.o")
        assert _worst(run.outputs, _reference(model, inputs)) <= OBJECT_RTOL
        assert {layer.op for layer in run.layers} >= ({"slice", "transpose", "matmul", "layer_norm", "reduce"}
                                                      if isinstance(model, Mixed) else {"embedding", "linear"})
        if isinstance(model, Tagger):  # the indices are int32 in the C interface too
            assert "int m_run(const int32_t *input, float *output);" in result.header


def test_embedding_indices_are_int32_inputs_and_out_of_range_reads_row_0() -> None:
    model = Tagger().eval()
    ids = torch.tensor([[0, 19, 3, 7, 1], [5, 5, 2, 18, 0]])
    module = _import(model, (ids,))
    assert "tensor<2x5xi32>" in str(module.body.block.first_op.function_type)  # type: ignore[union-attr]
    result = compile_module(module, "m", CompileOptions(target="host"), stop_at="ll")
    assert result.info is not None and result.info.input_types == ["i32"]
    stray = np.array([[0, 25, 3, 7, -4], [5, 5, 2, 18, 0]], np.int32)  # 25 and -4 are outside the table
    clamped = torch.tensor(np.where((stray < 0) | (stray >= 20), 0, stray))
    outputs = [np.zeros(result.info.outputs[0], np.float32)]
    assert HostJIT(result.ll).run(result.info.entry, [stray], outputs) == 0
    assert _worst(outputs, _reference(model, (clamped,))) <= OBJECT_RTOL
    assert _worst(run_module(module, [stray]), _reference(model, (clamped,))) <= NN_RTOL


def test_indices_that_are_not_whole_numbers_are_refused_in_one_line() -> None:
    model = Tagger().eval()
    ids = torch.randint(0, 20, (1, 3))
    obj = compile_module(_import(model, (ids,)), "m", CompileOptions(run=False)).obj
    with pytest.raises(T2MError) as error:
        run_object(obj, [np.full((1, 3), 0.5, np.float32)], "m.o")
    assert str(error.value).splitlines()[0].startswith(
        "input 0 is float32 and not whole numbers in int32's range, but the model reads it as int32 indices")
    whole = run_object(obj, [np.array([[3.0, 0.0, 19.0]], np.float32)], "m.o").outputs  # as `--input ids.npy` loads
    assert _worst(whole, _reference(model, (torch.tensor([[3, 0, 19]]),))) <= OBJECT_RTOL


def test_what_stays_unsupported_is_named() -> None:
    """A float index, an addmm of two activations: refused with the reason, not a crash."""

    class Addmm(nn.Module):
        def forward(self, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return torch.addmm(b, x, y)

    inputs = (torch.randn(3), torch.randn(2, 4), torch.randn(4, 3))
    _, unsupported = import_program(export(LoadedModel("m", Addmm(), None, inputs)), "m")
    assert [u.op for u in unsupported] == ["aten.addmm.default"]
    assert unsupported[0].reason == "addmm of two activations (matmul + add: write them as two ops)"
    message = str(unsupported_error("m.py:M", unsupported)).splitlines()[0]
    assert message.startswith("model 'm.py:M' uses 1 unsupported op (aten.addmm.default)")
