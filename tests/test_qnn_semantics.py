"""The int8 semantics of the qnn dialect (dialects/qnn.py): CMSIS-NN's rounding, checked case by case and against
a float simulation; the reference interpreter on qnn ops; fuse-requant changes no bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from t2m.compiler.interpreter import run_module
from t2m.compiler.ir import parse_module
from t2m.compiler.pipeline import apply_passes
from t2m.dialects import qnn


@pytest.mark.parametrize(
    ("real", "expected"),
    [
        (0.5, (1 << 30, 0)),  # 0.5 = 2^30 * 2^(0 - 31)
        (0.25, (1 << 30, -1)),
        (1.0, (1 << 30, 1)),
        (0.0, (0, 0)),
        (0.1, (1717986918, -3)),  # round(0.8 * 2^31), 0.1 = 0.8 * 2^-3
        (2**-32, (1 << 30, -31)),  # the smallest exponent CMSIS-NN shifts by
        (2**-40, (0, 0)),  # below it: TFLite's QuantizeMultiplier gives 0
    ],
)
def test_quantize_multiplier(real: float, expected: tuple[int, int]) -> None:
    m, e = qnn.quantize_multiplier(real)
    assert (m, e) == expected
    if m:
        assert math.isclose(m * 2.0 ** (e - 31), real, rel_tol=2**-30)


def test_divide_by_power_of_two_rounds_half_away_from_zero() -> None:
    x = np.array([5, 6, 7, -5, -6, -7, 4, -4, 0, 2**31 - 1, -(2**31)], np.int32)
    assert qnn.divide_by_power_of_two(x, 2).tolist() == [1, 2, 2, -1, -2, -2, 1, -1, 0, 2**29, -(2**29)]
    assert qnn.divide_by_power_of_two(np.array([3, -3, 2, -2], np.int32), 1).tolist() == [2, -2, 1, -1]


def test_divide_by_power_of_two_beyond_31_is_the_exact_quotient() -> None:
    """Exponents 32 to 35 (softmax rows of 512 or more values near the maximum): int32 / 2^e is below one half,
    so 0, but -2^31 / 2^32 = -0.5 rounds away to -1 (CMSIS-NN's `asrs` + `adc`). The int32 shift gave 1."""
    x = np.array([0, 1, 2**30, 2**31 - 1, -1, -(2**30), -(2**31)], np.int32)
    assert qnn.divide_by_power_of_two(x, 32).tolist() == [0, 0, 0, 0, 0, 0, -1]
    for e in (33, 35):
        assert qnn.divide_by_power_of_two(x, e).tolist() == [0] * 7
    per_element = qnn.divide_by_power_of_two(np.array([2**31 - 1, 2**31 - 1], np.int32), np.array([31, 32]))
    assert per_element.tolist() == [1, 0]


def test_doubling_high_mul_ties_round_up() -> None:
    # (x * m + 2^30) >> 31: exact halves go up (toward +inf), as the no-saturation CMSIS-NN helper does.
    x = np.array([1, -1, 3, -3], np.int32)
    assert qnn.doubling_high_mul(x, 1 << 30).tolist() == [1, 0, 2, -1]


def test_requantize_matches_the_real_multiplier() -> None:
    """Within 1 LSB of round(acc * M) for random accumulators and multipliers, both below and above 1."""
    rng = np.random.default_rng(0)
    acc = rng.integers(-(2**20), 2**20, 5000).astype(np.int32)
    for real in (0.0003, 0.017, 0.3, 0.9999, 1.7, 5.2):
        m, e = qnn.quantize_multiplier(real)
        got = qnn.requantize(acc, m, e).astype(np.int64)
        exact = acc.astype(np.float64) * real
        assert np.max(np.abs(got - np.round(exact))) <= 1, real


def test_rounding_divide() -> None:
    total = np.array([5, 6, 7, -5, -6, -7, 0], np.int64)
    assert qnn.rounding_divide(total, 4).tolist() == [1, 2, 2, -1, -2, -2, 0]  # 1.25, 1.5, 1.75 ...


@pytest.mark.parametrize("scale", [0.02, 0.05, 0.1, 0.25])
def test_softmax_is_within_one_lsb_of_float(scale: float) -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, (16, 12)).astype(np.int8)
    m, s, d = qnn.softmax_params(scale)
    got = qnn.softmax_s8(x, 1, m, s, d).astype(np.int64)
    e = np.exp(scale * (x.astype(np.float64) - x.max(axis=1, keepdims=True)))
    want = np.clip(np.round(e / e.sum(axis=1, keepdims=True) * 256) - 128, -128, 127)
    assert np.max(np.abs(got - want)) <= 1


@pytest.mark.parametrize("length", [511, 512, 528, 1092, 4096, 8191])
def test_softmax_of_long_rows_is_within_one_lsb_of_float(length: int) -> None:
    """Rows of nearly equal values (a softmax of a softmax's output: scale 1/256) long enough that the final
    division is by 2^32 to 2^35: every output is below half a step, so -128, as float softmax says."""
    rng = np.random.default_rng(length)
    x = np.stack([np.full(length, -127), rng.integers(-128, -120, length)]).astype(np.int8)
    scale = 1 / 256
    got = qnn.softmax_s8(x, 1, *qnn.softmax_params(scale)).astype(np.int64)
    e = np.exp(scale * (x.astype(np.float64) - x.max(axis=1, keepdims=True)))
    want = np.clip(np.round(e / e.sum(axis=1, keepdims=True) * 256) - 128, -128, 127)
    assert np.max(np.abs(got - want)) <= 1
    if length >= 528:
        assert (got == -128).all()


CONV = """
func.func @m(%x: tensor<1x2x5x5xi8>) -> tensor<1x3x5x5xi8> {
  %w = nn.constant dense<[[[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]],
    [[[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[1, 1, 1], [1, 1, 1], [1, 1, 1]]],
    [[[127, -127, 0], [0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0], [0, 0, -128]]]]> : tensor<3x2x3x3xi8>
  %b = nn.constant dense<[100, -50, 7]> : tensor<3xi32>
  %acc = qnn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
    dilation = array<i64: 1, 1>, groups = 1 : i64, input_zp = -3 : i32}
    : (tensor<1x2x5x5xi8>, tensor<3x2x3x3xi8>, tensor<3xi32>) -> tensor<1x3x5x5xi32>
  %q = qnn.rescale %acc {requant = #qnn.requant<multiplier = [1073741824, 1288490189, 1717986918],
    shift = [-3, -4, -5], output_zp = 2>, input_zp = 0 : i32, axis = 1 : i64}
    : (tensor<1x3x5x5xi32>) -> tensor<1x3x5x5xi8>
  %r = qnn.clamp %q {min = 2 : i32, max = 100 : i32} : tensor<1x3x5x5xi8>
  func.return %r : tensor<1x3x5x5xi8>
}
"""


def _conv_reference(x: np.ndarray) -> np.ndarray:
    """The same layer by loops over plain Python ints (the written-down semantics, docs/int8.md)."""
    module = parse_module(CONV)
    w = next(op for op in module.walk() if op.name == "nn.constant").to_array()  # type: ignore[attr-defined]
    bias, mult, shift, zp_in, zp_out = [100, -50, 7], [1073741824, 1288490189, 1717986918], [-3, -4, -5], -3, 2
    out = np.zeros((1, 3, 5, 5), np.int64)
    for o in range(3):
        for y in range(5):
            for xx in range(5):
                acc = bias[o]
                for c in range(2):
                    for i in range(3):
                        for j in range(3):
                            yy, xj = y + i - 1, xx + j - 1
                            if 0 <= yy < 5 and 0 <= xj < 5:
                                acc += (int(x[0, c, yy, xj]) - zp_in) * int(w[o, c, i, j])
                prod = acc * (1 << max(shift[o], 0)) * mult[o] + (1 << 30)
                high = prod >> 31
                exponent = max(-shift[o], 0)
                mask = (1 << exponent) - 1
                rounded = (high >> exponent) + ((high & mask) > (mask >> 1) + (1 if high < 0 else 0))
                out[0, o, y, xx] = min(max(rounded + zp_out, 2), 100)
    return out


def test_interpreter_conv_rescale_clamp_and_fused_are_the_written_semantics() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(-128, 128, (1, 2, 5, 5)).astype(np.int8)
    want = _conv_reference(x)
    module = parse_module(CONV)
    (got,) = run_module(module, [x])
    assert got.dtype == np.int8 and np.array_equal(got.astype(np.int64), want)
    apply_passes(module, ["fuse-requant"])
    assert [op.name for op in module.walk() if op.name.startswith("qnn.")] == ["qnn.conv2d"]
    (fused,) = run_module(module, [x])
    assert np.array_equal(fused, got)


def test_interpreter_add_mul_pools() -> None:
    """qnn.add against TFLite's float definition of the same scales (within 1 LSB), the pools exactly."""
    s_a, z_a, s_b, z_b, s_o, z_o = 0.05, -3, 0.08, 4, 0.1, -10
    twice = 2 * max(s_a, s_b)
    lhs = qnn.RequantAttr.from_scales([s_a / twice], 0)
    rhs = qnn.RequantAttr.from_scales([s_b / twice], 0)
    out = qnn.RequantAttr.from_scales([twice / ((1 << qnn.ADD_LEFT_SHIFT) * s_o)], z_o)
    text = f"""
func.func @m(%a: tensor<2x8xi8>, %b: tensor<2x8xi8>) -> tensor<2x8xi8> {{
  %s = qnn.add %a, %b {{lhs_zp = {z_a} : i32, rhs_zp = {z_b} : i32, lhs_scale = {lhs}, rhs_scale = {rhs},
    output_scale = {out}}} : (tensor<2x8xi8>, tensor<2x8xi8>) -> tensor<2x8xi8>
  func.return %s : tensor<2x8xi8>
}}
"""
    rng = np.random.default_rng(3)
    a, b = (rng.integers(-128, 128, (2, 8)).astype(np.int8) for _ in range(2))
    (got,) = run_module(parse_module(text), [a, b])
    real = s_a * (a.astype(np.float64) - z_a) + s_b * (b.astype(np.float64) - z_b)
    want = np.clip(np.round(real / s_o) + z_o, -128, 127)
    assert np.max(np.abs(got.astype(np.int64) - want)) <= 1

    x = rng.integers(-128, 128, (1, 2, 5, 5)).astype(np.int8)
    pools = """
func.func @p(%x: tensor<1x2x5x5xi8>) -> (tensor<1x2x3x3xi8>, tensor<1x2x3x3xi8>) {
  %m = qnn.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>}
    : (tensor<1x2x5x5xi8>) -> tensor<1x2x3x3xi8>
  %a = qnn.avg_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>,
    count_include_pad = 0 : i64, input_zp = 0 : i32} : (tensor<1x2x5x5xi8>) -> tensor<1x2x3x3xi8>
  func.return %m, %a : tensor<1x2x3x3xi8>, tensor<1x2x3x3xi8>
}
"""
    got_max, got_avg = run_module(parse_module(pools), [x])
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=np.nan)
    for i in range(3):
        for j in range(3):
            window = padded[:, :, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3]
            assert np.array_equal(got_max[:, :, i, j], np.nanmax(window, axis=(2, 3)).astype(np.int8))
            mean = np.nanmean(window, axis=(2, 3))
            rounded = np.sign(mean) * np.floor(np.abs(mean) + 0.5)  # half away from zero
            assert np.array_equal(got_avg[:, :, i, j], rounded.astype(np.int8))
