"""int8 layer norm and batch norm with batch statistics (`qnn.layer_norm`): the integer semantics against the
float formula, PT2E-quantized models within 1 LSB of PyTorch's converted model, and the same bits at every level
(integer interpreter = loop IR in xDSL's interpreter = host JIT = the Cortex-M4 object on the emulator)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from int8_helpers import Pair, import_quantized, qnn_ops, quantize, quantize_input, samples
from qnn_models import Builder, Case, emulated_outputs, jit_outputs, loop_outputs, module_of, reference
from torch import nn

from t2m.compiler.compile import CompileOptions, compile_module
from t2m.compiler.importer import import_program
from t2m.dialects import qnn

# ---------------------------------------------------------------------------------------------------------------
# The semantics
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("total", [1, 2, 3, 5, 1 << 28, (1 << 30) - 1, 1 << 30, 123456789012, (1 << 62) - 1])
def test_the_row_scale_is_a_q31_multiplier_within_2_to_the_minus_13(total: int) -> None:
    m, e = qnn.norm_row_scale(total)
    assert 1 << 30 <= m < 1 << 31
    real = m * 2.0 ** (e - 31)
    assert real == pytest.approx(2.0**12 / math.sqrt(total / 2.0**qnn.NORM_EPS_BITS), rel=2.0**-13)


def _float_layer_norm(x: np.ndarray, zp: int, s_in: float, gamma: np.ndarray, beta: np.ndarray,
                      eps: float) -> np.ndarray:
    real = (x.astype(np.float64) - zp) * s_in
    mean, var = real.mean(axis=1, keepdims=True), real.var(axis=1, keepdims=True)
    return (real - mean) / np.sqrt(var + eps) * gamma + beta


@pytest.mark.parametrize(("rows", "length", "per_row"), [(5, 64, False), (3, 7, False), (6, 30, True),
                                                         (2, qnn.NORM_MAX_LENGTH, False)])
def test_layer_norm_s8_is_within_one_lsb_of_the_float_formula(rows: int, length: int, per_row: bool) -> None:
    rng = np.random.default_rng(rows * length)
    zp, s_in, eps = int(rng.integers(-128, 128)), 0.05, 1e-5
    x = rng.integers(-128, 128, (rows, length)).astype(np.int8)
    x[0, :] = x[0, 0]  # a constant row: variance 0, the output is beta
    shape = (rows, 1) if per_row else (1, length)
    gamma, beta = rng.normal(1.0, 0.5, shape), rng.normal(0.0, 0.5, shape)
    y = _float_layer_norm(x, zp, s_in, gamma, beta, eps)
    s_out = (y.max() - y.min()) / 255
    z_out = int(round(-128 - y.min() / s_out))
    scale = np.abs(gamma).max() / qnn.NORM_GAMMA_MAX
    unit = scale * 2.0**-qnn.NORM_FRACTION_BITS
    got = qnn.layer_norm_s8(x, np.round(gamma / scale).astype(np.int16), np.round(beta / unit).astype(np.int32), zp,
                            qnn.norm_eps_term(length, eps, s_in), qnn.RequantAttr.from_scales([unit / s_out], z_out))
    want = np.clip(np.round(y / s_out) + z_out, -128, 127)
    assert np.abs(got.astype(np.int64) - want).max() <= 1


def _norm_case(name: str, rows: int, length: int, zp: int, eps: int, per_row: bool, seed: int) -> Case:
    rng = np.random.default_rng(seed)
    shape = (rows, 1) if per_row else (1, length)
    gamma = rng.integers(-qnn.NORM_GAMMA_MAX, qnn.NORM_GAMMA_MAX + 1, shape).astype(np.int16)
    beta = rng.integers(-(1 << 20), 1 << 20, shape).astype(np.int32)
    requant = qnn.RequantAttr.from_scales([float(rng.uniform(2.0**-14, 2.0**-10))], int(rng.integers(-128, 128)))

    def body(b: Builder, args: list) -> list:
        return [b.op(qnn.LayerNormOp(args[0], b.const(gamma), b.const(beta), zp, eps, requant))]

    return Case(name, [((rows, length), (0.05, zp))], body)


def _edge_rows(rows: int, length: int, zp: int, seed: int) -> np.ndarray:
    """Random rows, a constant row (variance 0), rows of two values one step apart (the smallest variances: the
    row scale's exponent is >= 0 there), and rows at the int8 extremes (the largest)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (rows, length))
    x[0] = zp
    x[1] = np.where(np.arange(length) == 0, zp + 1 if zp < 127 else zp - 1, zp)
    x[2] = np.where(np.arange(length) % 2 == 0, 5, 6)
    x[3] = np.where(np.arange(length) % 2 == 0, -128, 127)
    return x.astype(np.int8)


def test_every_level_gives_the_reference_bits_on_edge_rows() -> None:
    """Hand-built qnn.layer_norm layers (eps 0 and large, per-element and per-row gamma, zero points at the
    extremes) on rows whose variance is 0, one step, or the largest: the loop IR, the host JIT and the Cortex-M4
    object give the reference interpreter's bits."""
    cases = [_norm_case("a", 6, 16, -128, 0, False, 1), _norm_case("b", 5, 33, 127, 1 << 40, False, 2),
             _norm_case("c", 4, 7, 3, 1, True, 3), _norm_case("d", 6, 40, -5, 2621, True, 4)]
    module = module_of(cases)
    shapes = [c.inputs[0][0] for c in cases]
    zps = [c.inputs[0][1][1] for c in cases]
    ints = [_edge_rows(r, n, zp, seed) for seed, ((r, n), zp) in enumerate(zip(shapes, zps, strict=True))]
    want = reference(module, ints)
    assert len(np.unique(want[3][0])) == 1  # a constant row of a per-row norm: every output is its beta's
    obj = compile_module(module, "int8", CompileOptions(run=False)).obj
    for got in (loop_outputs(module, ints), jit_outputs(module, ints), emulated_outputs(obj, ints)):
        assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))


# ---------------------------------------------------------------------------------------------------------------
# Models through t2m's quantizer
# ---------------------------------------------------------------------------------------------------------------


class Norm(nn.Module):
    """The norm alone (it reads the model input: no layer before it moves its input by an LSB), optionally with
    a linear head after it so that its output is read as an int8 activation."""

    def __init__(self, norm: nn.Module, head: int = 0):
        super().__init__()
        self.norm, self.head = norm, (nn.Linear(head, 3) if head else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(x)
        return self.head(y) if self.head is not None else y


CASES: dict[str, tuple[nn.Module, tuple[int, ...]]] = {
    "layer_norm": (Norm(nn.LayerNorm(16)), (2, 5, 16)),
    "layer_norm_two_dims": (Norm(nn.LayerNorm([4, 6])), (3, 4, 6)),
    "layer_norm_no_affine": (Norm(nn.LayerNorm(12, elementwise_affine=False)), (1, 4, 12)),
    "layer_norm_then_linear": (Norm(nn.LayerNorm(8), head=8), (1, 6, 8)),
    "batch_norm_stats": (Norm(nn.BatchNorm2d(4, track_running_stats=False)), (1, 4, 5, 6)),
    "batch_norm_stats_batch3": (Norm(nn.BatchNorm2d(4, track_running_stats=False)), (3, 4, 5, 6)),
    "batch_norm1d_stats": (Norm(nn.BatchNorm1d(6, track_running_stats=False)), (4, 6)),
    "batch_norm1d_stats_seq": (Norm(nn.BatchNorm1d(3, affine=False, track_running_stats=False)), (2, 3, 10)),
}


def _pair(name: str) -> tuple[Pair, tuple[int, ...]]:
    module, shape = CASES[name]
    torch.manual_seed(0)
    for p in module.parameters():  # non-trivial gamma and beta
        p.data = torch.randn_like(p) * 0.5 + (1.0 if p.dim() == 1 and "norm" in name else 0.0)
    program = quantize(module.eval(), samples([shape], 8, seed=1))
    return Pair(program, import_quantized(program)), shape


@pytest.mark.parametrize("name", sorted(CASES))
def test_within_one_lsb_of_torch_and_bit_exact_across_levels(name: str) -> None:
    pair, shape = _pair(name)
    assert "qnn.layer_norm" in qnn_ops(pair.module)
    tests = samples([shape], 4, seed=2)
    for inputs in tests:
        assert pair.run(inputs).max_lsb() <= 1
    ints = [quantize_input(x, s, z) for x, (s, z) in zip(tests[0], pair.in_quant, strict=True)]
    want = reference(pair.module, ints)
    for got in (loop_outputs(pair.module, ints), jit_outputs(pair.module, ints)):
        assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))


class Transformerish(nn.Module):
    """A linear, a layer norm over tokens, a GELU, a linear; and a conv with a batch-statistics batch norm."""

    def __init__(self):
        super().__init__()
        self.fc1, self.norm, self.fc2 = nn.Linear(8, 16), nn.LayerNorm(16), nn.Linear(16, 8)
        self.conv, self.bn = nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4, track_running_stats=False)

    def forward(self, tokens: torch.Tensor, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.fc2(nn.functional.gelu(self.norm(self.fc1(tokens)))), torch.relu(self.bn(self.conv(image)))


def test_one_object_on_the_emulator_is_bit_exact() -> None:
    torch.manual_seed(0)
    shapes = [(1, 6, 8), (1, 2, 6, 6)]
    program = quantize(Transformerish().eval(), samples(shapes, 8, seed=3))
    pair = Pair(program, import_quantized(program))
    assert qnn_ops(pair.module).count("qnn.layer_norm") == 2
    inputs = samples(shapes, 1, seed=4)[0]
    # layers in a chain: a 1-LSB difference of the linear or conv before a norm is scaled by 1/std; each norm
    # alone is within 1 LSB (the test above)
    assert pair.run(inputs).max_lsb() <= 3
    ints = [quantize_input(x, s, z) for x, (s, z) in zip(inputs, pair.in_quant, strict=True)]
    obj = compile_module(pair.module, "int8", CompileOptions(run=False)).obj
    want = reference(pair.module, ints)
    assert all(np.array_equal(g, w) for g, w in zip(emulated_outputs(obj, ints), want, strict=True))


def test_a_layer_norm_longer_than_its_32_bit_sum_of_squares_is_refused() -> None:
    length = qnn.NORM_MAX_LENGTH + 1
    program = quantize(Norm(nn.LayerNorm(length)).eval(), samples([(1, length)], 2, seed=5))
    _, unsupported = import_program(program, "m")
    assert [u.reason for u in unsupported] == [
        f"an int8 normalisation over {length} values: at most {qnn.NORM_MAX_LENGTH} (its sum of squares is a "
        "32-bit integer)"]
