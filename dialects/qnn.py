"""The `qnn` dialect: int8 neural-network ops with exact integer semantics (TFLite int8, CMSIS-NN rounding).

docs/int8.md writes the semantics down; the numpy functions at the top of this file are that semantics, used by
the reference interpreter and the tests. The scheme (docs/design.md §6):
  - activations int8, asymmetric per tensor: real = scale * (q - zero_point);
  - weights int8, symmetric (zero point 0), per output channel or per tensor;
  - bias int32 at scale input_scale * weight_scale[c];
  - accumulation in int32 with the input zero point subtracted (padding contributes nothing);
  - requantization as CMSIS-NN's `arm_nn_requantize`: the real multiplier M = s_in * s_w[c] / s_out is a Q31
    mantissa m and an exponent e (M = m * 2^(e - 31)); `acc << max(e, 0)`, a rounding doubling high multiply
    by m (`(x * m + 2^30) >> 31` in 64 bits), a rounding divide by `2^max(-e, 0)` (half away from zero), plus
    the output zero point, saturated to int8 and clamped to the fused activation range.

As in TOSA, the integer steps are visible ops: `qnn.conv2d` (int32 accumulator) -> `qnn.rescale` (to int8) ->
`qnn.clamp` (the activation). The `fuse-requant` pass folds the three into one `qnn.conv2d` carrying its
`#qnn.requant` and activation range, which is what the lowering turns into a store-time requantization.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar, cast

import numpy as np
from xdsl.dialects.builtin import (
    DenseArrayBase,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    TensorType,
    f64,
    i32,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, ParametrizedAttribute, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    VarConstraint,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from t2m.dialects.nn import (
    _check_array,
    _expect_rank,
    _expect_result,
    _fmt,
    _i64_array,
    _tensor_shape,
    broadcast_shapes,
    conv2d_output_shape,
    matmul_shape,
    pool2d_output_shape,
    reduced_shape,
)

I8_MIN, I8_MAX = -128, 127
i8 = IntegerType(8)

Q: VarConstraint[Attribute] = VarConstraint("Q", TensorType.constr(i8))
"""The int8 tensor type an op takes and returns unchanged (clamp, softmax)."""

# ---------------------------------------------------------------------------------------------------------------
# The integer semantics (numpy, bit for bit what every level computes)
# ---------------------------------------------------------------------------------------------------------------


def quantize_multiplier(real: float) -> tuple[int, int]:
    """A positive real multiplier as (Q31 mantissa m, exponent e) with real = m * 2^(e - 31), as TFLite's
    `QuantizeMultiplier`: m in [2^30, 2^31), rounded half away from zero; 0 for a zero multiplier."""
    if real <= 0.0:
        return 0, 0
    mantissa, exponent = math.frexp(real)  # real = mantissa * 2^exponent, mantissa in [0.5, 1)
    m = int(math.floor(mantissa * (1 << 31) + 0.5))
    if m == 1 << 31:
        m, exponent = m // 2, exponent + 1
    if exponent < -31:  # too small to represent: the product is 0
        return 0, 0
    return m, exponent


def doubling_high_mul(x: np.ndarray, m: np.ndarray | int) -> np.ndarray:
    """CMSIS-NN `arm_nn_doubling_high_mult_no_sat`: (x * m + 2^30) >> 31 in 64 bits, truncated to int32."""
    product = x.astype(np.int64) * np.asarray(m, np.int64) + (1 << 30)
    return (product >> 31).astype(np.int32)


def divide_by_power_of_two(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """CMSIS-NN `arm_nn_divide_by_power_of_two`: the int32 x / 2^exponent rounded half away from zero, for any
    exponent in [0, 62]. CMSIS-NN's C (and gemmlowp's `RoundingDivideByPOT`) is defined for [0, 31] only: a shift
    by 32 is undefined in C and poison in LLVM. Computed in int64, so that an exponent of 32 or more gives the
    exact quotient (0, or -1 for -2^31 / 2^32), where the int32 form gave 1. Softmax rows of 512 or more nearly
    equal values reach such exponents with non-negative dividends, whose quotient 0 is also what CMSIS-NN's
    inline-assembly form (`asrs` + `adc`) gives on the M4."""
    x64 = np.asarray(x).astype(np.int32).astype(np.int64)  # an int32 dividend, wrapped as before
    e = np.asarray(exponent, np.int64)
    mask = (np.int64(1) << e) - np.int64(1)
    result = x64 >> e
    threshold = (mask >> 1) + (result < 0).astype(np.int64)
    return (result + ((x64 & mask) > threshold).astype(np.int64)).astype(np.int32)


def requantize(acc: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int) -> np.ndarray:
    """CMSIS-NN `arm_nn_requantize` (not CMSIS_NN_USE_SINGLE_ROUNDING): the int32 acc times m * 2^(e - 31).
    `acc << max(e, 0)` wraps like the int32 multiply it is in C (never for multipliers below 1)."""
    e = np.asarray(shift, np.int64)
    shifted = (acc.astype(np.int64) << np.maximum(e, 0)).astype(np.int32)  # int32 wrap, as in C
    return divide_by_power_of_two(doubling_high_mul(shifted, multiplier), np.maximum(-e, 0))


def saturate_i8(x: np.ndarray, lo: int = I8_MIN, hi: int = I8_MAX) -> np.ndarray:
    return np.clip(x, max(lo, I8_MIN), min(hi, I8_MAX)).astype(np.int8)


def rounding_divide(total: np.ndarray, count: np.ndarray | int) -> np.ndarray:
    """CMSIS-NN's average: total / count rounded half away from zero (C division truncates toward zero)."""
    total = total.astype(np.int64)
    count = np.asarray(count, np.int64)
    half = count // 2
    adjusted = np.where(total > 0, total + half, total - half)
    return (np.sign(adjusted) * (np.abs(adjusted) // count)).astype(np.int32)


# int8 normalisation (issue 12): layer norm, and batch norm with batch statistics (a layer norm of each channel
# viewed as a row). Integer statistics of the row, 1/sqrt of the variance as a per-row Q31 multiplier (integer
# square root, one 32-bit division), the normalised value in fixed point, times an int16 gamma plus an int32 beta,
# requantized once, as the converted graph's dequantize -> float norm -> quantize.

NORM_MAX_LENGTH = 1 << 14
"""Longest row: sum((x - zp)^2) stays below 2^31 and |x_hat| * 2^12 * gamma below 2^30."""
NORM_FRACTION_BITS = 12
"""The normalised value x_hat is an int32 with 12 fraction bits (|x_hat| <= sqrt(N - 1) < 2^7)."""
NORM_GAMMA_MAX = 2047
"""Gamma is stored as an integer in [-2047, 2047] at one scale (max |gamma| / 2047)."""
NORM_EPS_BITS = 16
"""W = N Q - S^2 carries 16 fraction bits, so that an epsilon far below one input step squared still counts (a
row of 3 values one step apart has N Q - S^2 = 2; eps / s_in^2 is often a fraction of that)."""
NORM_EPS_MAX = 1 << 61
"""The epsilon term N^2 * eps / s_in^2 * 2^16 saturates here (the variance is then negligible either way): W stays
below 2^62."""
NORM_BIAS_MAX = 1 << 30
"""|beta| in units of the accumulator: the sum with |x_hat * gamma| <= 2^30 stays an int32."""


def norm_eps_term(length: int, eps: float, input_scale: float) -> int:
    """N^2 * eps / s_in^2 * 2^16, rounded: the epsilon of `var + eps` in the units of W = (N * sum(d^2) -
    sum(d)^2) * 2^16."""
    return min(NORM_EPS_MAX, int(round(length * length * eps / (input_scale * input_scale) * 2**NORM_EPS_BITS)))


def norm_row_scale(total: int) -> tuple[int, int]:
    """1 / sqrt(total / 2^16) as a Q31 multiplier and exponent (x * m * 2^(e - 31) = x / sqrt(total / 2^16) *
    2^12): the total (>= 1) scaled by 4^-k into [2^28, 2^30), its integer square root R in [2^14, 2^15), m =
    floor((2^31 - 1) / R) << 14 in [2^30, 2^31), e = 6 - k. Relative error below 2^-13."""
    total = max(int(total), 1)
    k = (total.bit_length() - 29) // 2
    scaled = total >> (2 * k) if k >= 0 else total << (-2 * k)
    root = math.isqrt(scaled)
    return (((1 << 31) - 1) // root) << 14, NORM_EPS_BITS // 2 - 2 - k


def layer_norm_s8(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, input_zp: int, eps_term: int,
                  requant: RequantAttr) -> np.ndarray:
    """`qnn.layer_norm` on rows x[r, :] of N int8 values, d = x - zp: S = sum(d), Q = sum(d^2); W = (N Q - S^2)
    2^16 + eps_term (N^2 times the variance plus epsilon, in input units squared, 16 fraction bits); per row
    (m, e) = norm_row_scale(W); x_hat = requantize(N d - S, m, e) (the normalised value with 12 fraction bits);
    acc = x_hat * gamma + beta (gamma and beta broadcast [1, N] or [R, 1]); the result requant(acc) + output
    zero point, saturated."""
    d = x.astype(np.int64) - input_zp
    length = d.shape[1]
    total = d.sum(axis=1)
    squares = (d * d).sum(axis=1)
    pairs = [norm_row_scale(int(v)) for v in (length * squares - total * total) * 2**NORM_EPS_BITS + eps_term]
    m = np.array([p[0] for p in pairs], np.int64).reshape(-1, 1)
    e = np.array([p[1] for p in pairs], np.int64).reshape(-1, 1)
    centred = (length * d - total[:, None]).astype(np.int32)
    x_hat = requantize(centred, m, e).astype(np.int64)
    acc = x_hat * gamma.astype(np.int64) + beta.astype(np.int64)
    return saturate_i8(requant.apply(acc.astype(np.int32), 0))


# int8 softmax: CMSIS-NN `arm_nn_softmax_common_s8` (TFLite Micro bit-exact), gemmlowp fixed point with 5 integer
# bits for the scaled differences and 12 accumulation bits.

_Q31_MIN, _Q31_MAX = -(1 << 31), (1 << 31) - 1
SOFTMAX_INPUT_INTEGER_BITS = 5
SOFTMAX_ACCUM_BITS = 12
SOFTMAX_MAX_LENGTH = (1 << 13) - 1
"""The longest softmax row: the sum of `exp >> 12` terms (2^19 each at the maximum) must fit 32 bits. Up to
2^31 it is an int32; from 2^31 to 2^32 the generated code's CLZ reads it as unsigned, as the reference does."""


def _trunc_div(x: np.ndarray, d: int) -> np.ndarray:
    """C's integer division (toward zero) of int64 values."""
    return np.sign(x) * (np.abs(x) // d)


def saturating_doubling_high_mul(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """CMSIS-NN `arm_nn_doubling_high_mult` (gemmlowp's SaturatingRoundingDoublingHighMul)."""
    a64, b64 = np.asarray(a, np.int64), np.asarray(b, np.int64)
    nudge = np.where((a64 < 0) ^ (b64 < 0), 1 - (1 << 30), 1 << 30)
    result = _trunc_div(a64 * b64 + nudge, 1 << 31)
    return np.where((a64 == b64) & (a64 == _Q31_MIN), _Q31_MAX, result).astype(np.int32)


def _mul_pow2_sat(x: np.ndarray, exponent: int) -> np.ndarray:
    threshold = (1 << (31 - exponent)) - 1
    x64 = x.astype(np.int64)
    return np.where(x64 > threshold, _Q31_MAX, np.where(x64 < -threshold, _Q31_MIN, x64 << exponent)).astype(np.int32)


def _exp_on_negative_values(val: np.ndarray) -> np.ndarray:
    """exp(x) of x <= 0 in Q5.26, result in Q0.31 (`arm_nn_exp_on_negative_values`)."""
    mul = saturating_doubling_high_mul
    val = val.astype(np.int32)
    quarter = np.int32(1 << 24)
    val_mod_minus_quarter = (val & (quarter - 1)) - quarter
    remainder = (val_mod_minus_quarter - val).astype(np.int32)
    x = ((val_mod_minus_quarter.astype(np.int64) << 5) + (1 << 28)).astype(np.int32)
    x2 = mul(x, x)
    inner = divide_by_power_of_two(mul(divide_by_power_of_two(mul(x2, x2), 2) + mul(x2, x), 715827883) + x2, 1)
    result = np.int64(1895147668) + mul(np.full_like(x, 1895147668), (x.astype(np.int64) + inner).astype(np.int32))
    result = result.astype(np.int32)
    for bit, factor in enumerate((1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242), start=24):
        result = np.where(remainder & (1 << bit), mul(result, factor), result).astype(np.int32)
    return np.where(val == 0, _Q31_MAX, result).astype(np.int32)


def _one_over_one_plus_x(val: np.ndarray) -> np.ndarray:
    """1 / (1 + x) for x in [0, 1) in Q0.31 (`arm_nn_one_over_one_plus_x_for_x_in_0_1`)."""
    mul = saturating_doubling_high_mul
    total = val.astype(np.int64) + _Q31_MAX
    half_denominator = _trunc_div(total + np.where(total >= 0, 1, -1), 2).astype(np.int32)
    x = (np.int64(1515870810) + mul(half_denominator, -1010580540)).astype(np.int32)
    for _ in range(3):  # Newton-Raphson steps
        error = (np.int64(1 << 29) - mul(half_denominator, x)).astype(np.int32)
        x = (x.astype(np.int64) + _mul_pow2_sat(mul(x, error), 2)).astype(np.int32)
    return _mul_pow2_sat(x, 1)


def softmax_params(input_scale: float, beta: float = 1.0) -> tuple[int, int, int]:
    """(multiplier, left shift, diff_min) of TFLite's `PreprocessSoftmaxScaling` for an int8 input scale."""
    real = min(beta * input_scale * (1 << (31 - SOFTMAX_INPUT_INTEGER_BITS)), float((1 << 31) - 1))
    multiplier, shift = quantize_multiplier(real)
    radius = ((1 << SOFTMAX_INPUT_INTEGER_BITS) - 1) * (1 << (31 - SOFTMAX_INPUT_INTEGER_BITS)) / (1 << shift)
    return multiplier, shift, -math.floor(radius)


def softmax_s8(x: np.ndarray, axis: int, multiplier: int, shift: int, diff_min: int) -> np.ndarray:
    """int8 softmax along `axis`, output scale 1/256 and zero point -128 (`arm_nn_softmax_common_s8`)."""
    mul = saturating_doubling_high_mul
    rows = np.moveaxis(x.astype(np.int32), axis, -1)
    diff = rows - rows.max(axis=-1, keepdims=True)
    valid = diff >= diff_min
    exps = _exp_on_negative_values(mul((diff.astype(np.int64) << shift).astype(np.int32), multiplier))
    total = np.where(valid, divide_by_power_of_two(exps, SOFTMAX_ACCUM_BITS), 0).sum(axis=-1, keepdims=True)
    total = total.astype(np.int64)
    headroom = 32 - np.floor(np.log2(total)).astype(np.int64) - 1  # __CLZ of a positive int32
    shifted_scale = _one_over_one_plus_x(((total << headroom) - (1 << 31)).astype(np.int32))
    bits_over_unit = (SOFTMAX_ACCUM_BITS - headroom + 23).astype(np.int32)
    out = divide_by_power_of_two(mul(shifted_scale, exps), bits_over_unit) - 128
    out = np.where(valid, np.clip(out, I8_MIN, I8_MAX), I8_MIN).astype(np.int8)
    return np.moveaxis(out, -1, axis)


# ---------------------------------------------------------------------------------------------------------------
# Attributes
# ---------------------------------------------------------------------------------------------------------------


def _ints(attr: DenseArrayBase) -> list[int]:
    return [int(v) for v in cast(DenseArrayBase[IntegerType], attr).get_values()]


@irdl_attr_definition
class QuantAttr(ParametrizedAttribute):
    """How an int8 tensor maps to reals: real = scale * (q - zero_point). On model inputs and outputs (function
    argument and result attributes `qnn.quant`), where the caller converts; inside the model only integers."""

    name = "qnn.quant"

    scale: FloatAttr[Float64Type]
    zero_point: IntegerAttr

    def __init__(self, scale: float, zero_point: int):
        super().__init__(FloatAttr(scale, f64), IntegerAttr(zero_point, i32))

    @property
    def values(self) -> tuple[float, int]:
        return self.scale.value.data, self.zero_point.value.data

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(f"<{self.scale.value.data!r}, {self.zero_point.value.data}>")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        parser.parse_punctuation("<")
        scale = parser.parse_float()
        parser.parse_punctuation(",")
        zp = parser.parse_integer(allow_boolean=False, context_msg="the zero point")
        parser.parse_punctuation(">")
        return [FloatAttr(scale, f64), IntegerAttr(zp, i32)]

    def verify(self) -> None:
        scale, zp = self.values
        if not (scale > 0 and math.isfinite(scale)):
            raise VerifyException(f"#qnn.quant scale must be positive and finite, got {scale}")
        if not I8_MIN <= zp <= I8_MAX:
            raise VerifyException(f"#qnn.quant zero point {zp} is outside int8 [-128, 127]")


@irdl_attr_definition
class RequantAttr(ParametrizedAttribute):
    """A requantization to int8: Q31 multipliers and exponents (one, or one per channel) and the output zero
    point. `#qnn.requant<multiplier = [1518500250], shift = [-7], output_zp = -3>`."""

    name = "qnn.requant"

    multiplier: DenseArrayBase
    shift: DenseArrayBase
    output_zp: IntegerAttr

    def __init__(self, multiplier: Sequence[int], shift: Sequence[int], output_zp: int):
        super().__init__(
            DenseArrayBase.from_list(i64, multiplier), DenseArrayBase.from_list(i64, shift), IntegerAttr(output_zp, i32)
        )

    @staticmethod
    def from_scales(real: Sequence[float], output_zp: int) -> RequantAttr:
        """From real multipliers (s_in * s_w[c] / s_out)."""
        pairs = [quantize_multiplier(r) for r in real]
        return RequantAttr([m for m, _ in pairs], [e for _, e in pairs], output_zp)

    @property
    def multipliers(self) -> list[int]:
        return _ints(self.multiplier)

    @property
    def shifts(self) -> list[int]:
        return _ints(self.shift)

    @property
    def zero_point(self) -> int:
        return self.output_zp.value.data

    @property
    def channels(self) -> int:
        return len(self.multipliers)

    def apply(self, acc: np.ndarray, axis: int) -> np.ndarray:
        """int32 `acc` requantized and offset by the output zero point (int32, not yet saturated)."""
        shape = [1] * acc.ndim
        if self.channels > 1:
            shape[axis] = self.channels
        m = np.asarray(self.multipliers, np.int64).reshape(shape)
        e = np.asarray(self.shifts, np.int64).reshape(shape)
        return requantize(acc, m, e) + np.int32(self.zero_point)

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(
            f"<multiplier = {self.multipliers}, shift = {self.shifts}, output_zp = {self.zero_point}>"
        )

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        def ints() -> list[int]:
            return parser.parse_comma_separated_list(
                parser.Delimiter.SQUARE, lambda: parser.parse_integer(allow_boolean=False)
            )

        def key(name: str) -> None:
            parser.parse_keyword(name)
            parser.parse_punctuation("=")

        parser.parse_punctuation("<")
        key("multiplier")
        multiplier = ints()
        parser.parse_punctuation(",")
        key("shift")
        shift = ints()
        parser.parse_punctuation(",")
        key("output_zp")
        zp = parser.parse_integer(allow_boolean=False)
        parser.parse_punctuation(">")
        return list(RequantAttr(multiplier, shift, zp).parameters)

    def verify(self) -> None:
        m, e = self.multipliers, self.shifts
        if not m or len(m) != len(e):
            raise VerifyException(f"#qnn.requant needs as many shifts as multipliers (>= 1), got {len(m)} and {len(e)}")
        if any(not (0 <= v < 1 << 31) for v in m):
            raise VerifyException("#qnn.requant multipliers are Q31 mantissas in [0, 2^31)")
        if any(not -31 <= v <= 30 for v in e):
            raise VerifyException("#qnn.requant shifts are exponents in [-31, 30]")
        if not I8_MIN <= self.zero_point <= I8_MAX:
            raise VerifyException(f"#qnn.requant output zero point {self.zero_point} is outside int8")


# ---------------------------------------------------------------------------------------------------------------
# Helpers of the verifiers
# ---------------------------------------------------------------------------------------------------------------


def _element(value: SSAValue) -> Attribute:
    type = value.type
    assert isinstance(type, TensorType)
    return type.get_element_type()


def _expect_element(op: Operation, what: str, value: SSAValue, width: int) -> None:
    if _element(value) != IntegerType(width):
        raise VerifyException(f"'{op.name}' {what} must be an i{width} tensor, got {value.type}")


def _int_prop(value: int) -> IntegerAttr:
    return IntegerAttr(value, i32)


def _i8_range(op: Operation, what: str, value: int) -> None:
    if not I8_MIN <= value <= I8_MAX:
        raise VerifyException(f"'{op.name}' {what} {value} is outside int8 [-128, 127]")


class Int8Activation(IRDLOperation):
    """An op whose int8 result is clamped to [act_min, act_max] (a fused ReLU/ReLU6/clamp in the int8 domain)."""

    act_min = opt_prop_def(IntegerAttr)
    act_max = opt_prop_def(IntegerAttr)

    def activation_range(self) -> tuple[int, int]:
        """(act_min, act_max) as int8 values; (-128, 127) when the op does not clamp."""
        lo = I8_MIN if self.act_min is None else self.act_min.value.data
        hi = I8_MAX if self.act_max is None else self.act_max.value.data
        return lo, hi

    def set_activation_range(self, lo: int, hi: int) -> None:
        """Clamp the int8 result to [lo, hi] (the full range is stored as no property at all)."""
        for name, bound, default in (("act_min", lo, I8_MIN), ("act_max", hi, I8_MAX)):
            if bound == default:
                self.properties.pop(name, None)
            else:
                self.properties[name] = _int_prop(bound)

    def verify_activation(self) -> None:
        lo, hi = self.activation_range()
        _i8_range(self, "act_min", lo)
        _i8_range(self, "act_max", hi)
        if lo > hi:
            raise VerifyException(f"'{self.name}' act_min {lo} must not exceed act_max {hi}")

    def clamp(self, q: np.ndarray) -> np.ndarray:
        """`q` saturated to the activation range (the reference interpreter's last step)."""
        return saturate_i8(q, *self.activation_range())


class Accumulate(Int8Activation):
    """conv2d and linear: int32 accumulation of (input - input_zp) * weight (+ bias); with `requant` the result
    is requantized to int8 in the same op (after `fuse-requant`), otherwise it is the int32 accumulator."""

    input_zp = prop_def(IntegerAttr)
    requant = opt_prop_def(RequantAttr)

    CHANNEL_AXIS: ClassVar[int] = 1

    def verify_accumulate(self, input: SSAValue, weight: SSAValue, bias: SSAValue | None, output: SSAValue) -> None:
        _expect_element(self, "input", input, 8)
        _expect_element(self, "weight", weight, 8)
        _i8_range(self, "input_zp", self.input_zp.value.data)
        if bias is not None:
            _expect_element(self, "bias", bias, 32)
        out_channels = _tensor_shape(weight)[0]
        if self.requant is None:
            _expect_element(self, "result (an int32 accumulator without requant)", output, 32)
            if self.act_min is not None or self.act_max is not None:
                raise VerifyException(f"'{self.name}' act_min/act_max need requant (the range is in int8)")
        else:
            _expect_element(self, "result (int8 with requant)", output, 8)
            if self.requant.channels not in (1, out_channels):
                raise VerifyException(
                    f"'{self.name}' requant has {self.requant.channels} multipliers for {out_channels} output channels"
                )
            self.verify_activation()


# ---------------------------------------------------------------------------------------------------------------
# Ops
# ---------------------------------------------------------------------------------------------------------------


@irdl_op_definition
class Conv2dOp(Accumulate):
    """int8 2-D convolution, NCHW input, OIHW weight (symmetric: zero point 0), optional int32 bias; padding
    taps equal the input zero point, so they add nothing."""

    name = "qnn.conv2d"

    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    output = result_def(TensorType)
    stride = prop_def(DenseArrayBase)
    padding = prop_def(DenseArrayBase)
    dilation = prop_def(DenseArrayBase)
    groups = prop_def(IntegerAttr)

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)"

    def __init__(
        self,
        input: SSAValue | Operation,
        weight: SSAValue | Operation,
        bias: SSAValue | Operation | None,
        stride: Sequence[int],
        padding: Sequence[int],
        dilation: Sequence[int],
        groups: int,
        input_zp: int,
        requant: RequantAttr | None = None,
    ):
        shape = conv2d_output_shape(
            _tensor_shape(SSAValue.get(input)), _tensor_shape(SSAValue.get(weight)), stride, padding, dilation
        )
        properties: dict[str, Attribute] = {
            "stride": _i64_array(stride),
            "padding": _i64_array(padding),
            "dilation": _i64_array(dilation),
            "groups": IntegerAttr(groups, i64),
            "input_zp": _int_prop(input_zp),
        }
        if requant is not None:
            properties["requant"] = requant
        super().__init__(
            operands=[input, weight, [] if bias is None else [bias]],
            result_types=[TensorType(i8 if requant is not None else i32, shape)],
            properties=properties,
        )

    def geometry(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        return (
            _check_array(self, "stride", self.stride, 2, 1),
            _check_array(self, "padding", self.padding, 4, 0),
            _check_array(self, "dilation", self.dilation, 2, 1),
        )

    def verify_(self) -> None:
        stride, padding, dilation = self.geometry()
        x, w = _tensor_shape(self.input), _tensor_shape(self.weight)
        _expect_rank(self, "input", x, 4, "NCHW")
        _expect_rank(self, "weight", w, 4, "OIHW")
        groups = self.groups.value.data
        if groups < 1 or x[1] % groups or w[0] % groups or w[1] * groups != x[1]:
            raise VerifyException(f"'qnn.conv2d' weight {_fmt(w)} with groups={groups} does not fit input {_fmt(x)}")
        if self.bias is not None and _tensor_shape(self.bias) != (w[0],):
            raise VerifyException(f"'qnn.conv2d' bias must have shape {w[0]}, got {_fmt(_tensor_shape(self.bias))}")
        _expect_result(self, _tensor_shape(self.output), conv2d_output_shape(x, w, stride, padding, dilation))
        self.verify_accumulate(self.input, self.weight, self.bias, self.output)


@irdl_op_definition
class LinearOp(Accumulate):
    """int8 fully connected: (x - input_zp) W^T + b with W [out, in] (symmetric), accumulated in int32."""

    name = "qnn.linear"

    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    output = result_def(TensorType)

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)"

    CHANNEL_AXIS: ClassVar[int] = -1

    def __init__(
        self,
        input: SSAValue | Operation,
        weight: SSAValue | Operation,
        bias: SSAValue | Operation | None,
        input_zp: int,
        requant: RequantAttr | None = None,
    ):
        x, w = _tensor_shape(SSAValue.get(input)), _tensor_shape(SSAValue.get(weight))
        properties: dict[str, Attribute] = {"input_zp": _int_prop(input_zp)}
        if requant is not None:
            properties["requant"] = requant
        super().__init__(
            operands=[input, weight, [] if bias is None else [bias]],
            result_types=[TensorType(i8 if requant is not None else i32, (*x[:-1], w[0]))],
            properties=properties,
        )

    def verify_(self) -> None:
        x, w = _tensor_shape(self.input), _tensor_shape(self.weight)
        _expect_rank(self, "weight", w, 2, "[out, in]")
        if not x or x[-1] != w[1]:
            raise VerifyException(f"'qnn.linear' input {_fmt(x)} must end in {w[1]} features (weight {_fmt(w)})")
        if self.bias is not None and _tensor_shape(self.bias) != (w[0],):
            raise VerifyException(f"'qnn.linear' bias must have shape {w[0]}, got {_fmt(_tensor_shape(self.bias))}")
        _expect_result(self, _tensor_shape(self.output), (*x[:-1], w[0]))
        self.verify_accumulate(self.input, self.weight, self.bias, self.output)


@irdl_op_definition
class RescaleOp(IRDLOperation):
    """int32 accumulator (or int8 tensor) -> int8: `requant.apply(input - input_zp)`, saturated to int8.
    `axis` is the channel axis of per-channel multipliers (ignored for one multiplier)."""

    name = "qnn.rescale"

    input = operand_def(TensorType)
    output = result_def(TensorType)
    requant = prop_def(RequantAttr)
    input_zp = prop_def(IntegerAttr)
    axis = prop_def(IntegerAttr)

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue | Operation, requant: RequantAttr, axis: int, input_zp: int = 0):
        super().__init__(
            operands=[input],
            result_types=[TensorType(i8, _tensor_shape(SSAValue.get(input)))],
            properties={"requant": requant, "input_zp": _int_prop(input_zp), "axis": IntegerAttr(axis, i64)},
        )

    def verify_(self) -> None:
        if _element(self.input) not in (IntegerType(32), i8):
            raise VerifyException(f"'qnn.rescale' input must be i32 or i8, got {self.input.type}")
        _expect_element(self, "result", self.output, 8)
        shape = _tensor_shape(self.input)
        _expect_result(self, _tensor_shape(self.output), shape)
        axis = self.axis.value.data
        if not 0 <= axis < len(shape):
            raise VerifyException(f"'qnn.rescale' axis {axis} is out of range for rank {len(shape)}")
        if self.requant.channels not in (1, shape[axis]):
            raise VerifyException(
                f"'qnn.rescale' has {self.requant.channels} multipliers for {shape[axis]} channels on axis {axis}"
            )
        if _element(self.input) == i8:
            _i8_range(self, "input_zp", self.input_zp.value.data)


@irdl_op_definition
class ClampOp(IRDLOperation):
    """int8 clamp to [min, max]: a ReLU, ReLU6 or hardtanh in the int8 domain (bounds quantized)."""

    name = "qnn.clamp"

    input = operand_def(Q)
    output = result_def(Q)
    min = prop_def(IntegerAttr)
    max = prop_def(IntegerAttr)

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` type($input)"

    def __init__(self, input: SSAValue | Operation, lo: int, hi: int):
        super().__init__(
            operands=[input],
            result_types=[SSAValue.get(input).type],
            properties={"min": _int_prop(lo), "max": _int_prop(hi)},
        )

    def verify_(self) -> None:
        _expect_element(self, "input", self.input, 8)
        _expect_result(self, _tensor_shape(self.output), _tensor_shape(self.input))
        lo, hi = self.min.value.data, self.max.value.data
        _i8_range(self, "min", lo)
        _i8_range(self, "max", hi)
        if lo > hi:
            raise VerifyException(f"'qnn.clamp' min {lo} must not exceed max {hi}")


class BinaryOp(Int8Activation):
    """int8 elementwise ops with numpy broadcasting; each operand has its zero point."""

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    output = result_def(TensorType)
    lhs_zp = prop_def(IntegerAttr)
    rhs_zp = prop_def(IntegerAttr)

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def verify_binary(self) -> None:
        for what, value in (("lhs", self.lhs), ("rhs", self.rhs), ("result", self.output)):
            _expect_element(self, what, value, 8)
        a, b = _tensor_shape(self.lhs), _tensor_shape(self.rhs)
        shape = broadcast_shapes(a, b)
        if shape is None:
            raise VerifyException(f"'{self.name}' operands {_fmt(a)} and {_fmt(b)} do not broadcast")
        _expect_result(self, _tensor_shape(self.output), shape)
        _i8_range(self, "lhs_zp", self.lhs_zp.value.data)
        _i8_range(self, "rhs_zp", self.rhs_zp.value.data)
        self.verify_activation()


ADD_LEFT_SHIFT = 20
"""TFLite's int8 add: both operands are shifted left by 20 bits before their rescale, keeping 20 fraction bits."""


@irdl_op_definition
class AddOp(BinaryOp):
    """int8 add, as TFLite and CMSIS-NN `arm_elementwise_add_s8`: each operand's `(q - zp) << 20` rescaled by its
    own `#qnn.requant` (output_zp unused, 0), summed, rescaled by `output` (with its zero point), clamped."""

    name = "qnn.add"

    lhs_scale = prop_def(RequantAttr)
    rhs_scale = prop_def(RequantAttr)
    output_scale = prop_def(RequantAttr)

    def verify_(self) -> None:
        self.verify_binary()
        for name in ("lhs_scale", "rhs_scale", "output_scale"):
            if cast(RequantAttr, getattr(self, name)).channels != 1:
                raise VerifyException(f"'qnn.add' {name} must be per tensor (one multiplier)")


@irdl_op_definition
class MulOp(BinaryOp):
    """int8 multiply, as CMSIS-NN `arm_elementwise_mul_s8`: (a - a_zp) * (b - b_zp) rescaled by `output_scale`
    (with its zero point), clamped."""

    name = "qnn.mul"

    output_scale = prop_def(RequantAttr)

    def verify_(self) -> None:
        self.verify_binary()
        if self.output_scale.channels != 1:
            raise VerifyException("'qnn.mul' output_scale must be per tensor (one multiplier)")


class Pool2dOp(Int8Activation):
    """int8 windowed pooling on NCHW; input and output share scale and zero point (a rescale follows otherwise)."""

    input = operand_def(TensorType)
    output = result_def(TensorType)
    kernel = prop_def(DenseArrayBase)
    stride = prop_def(DenseArrayBase)
    padding = prop_def(DenseArrayBase)

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def window(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        return (
            _check_array(self, "kernel", self.kernel, 2, 1),
            _check_array(self, "stride", self.stride, 2, 1),
            _check_array(self, "padding", self.padding, 4, 0),
        )

    def verify_(self) -> None:
        kernel, stride, padding = self.window()
        _expect_element(self, "input", self.input, 8)
        _expect_element(self, "result", self.output, 8)
        x = _tensor_shape(self.input)
        _expect_rank(self, "input", x, 4, "NCHW")
        expected = pool2d_output_shape(x, kernel, stride, padding, (1, 1))
        if min(expected) < 1 or any(p >= k for p, k in zip(padding, (*kernel, *kernel), strict=True)):
            raise VerifyException(f"'{self.name}' window {list(kernel)} with padding {list(padding)} does not fit")
        _expect_result(self, _tensor_shape(self.output), expected)
        self.verify_activation()


def _pool_properties(kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int]) -> dict[str, Attribute]:
    return {"kernel": _i64_array(kernel), "stride": _i64_array(stride), "padding": _i64_array(padding)}


@irdl_op_definition
class MaxPool2dOp(Pool2dOp):
    """int8 max over each window; padded taps do not take part."""

    name = "qnn.max_pool2d"

    def __init__(
        self, input: SSAValue | Operation, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int]
    ):
        shape = pool2d_output_shape(_tensor_shape(SSAValue.get(input)), kernel, stride, padding, (1, 1))
        super().__init__(
            operands=[input], result_types=[TensorType(i8, shape)], properties=_pool_properties(kernel, stride, padding)
        )


@irdl_op_definition
class AvgPool2dOp(Pool2dOp):
    """int8 average of each window, rounded half away from zero (CMSIS-NN `arm_avgpool_s8`): the sum of the taps
    in the input, divided by their number, or with `count_include_pad` by the window's size with padded taps
    equal to `input_zp` (a real 0)."""

    name = "qnn.avg_pool2d"

    count_include_pad = prop_def(IntegerAttr)
    input_zp = prop_def(IntegerAttr)
    divisor_override = opt_prop_def(IntegerAttr)
    """PyTorch's `divisor_override` d: round(sum(q - input_zp) / d) + input_zp, saturated (padded taps add 0)."""

    def __init__(
        self,
        input: SSAValue | Operation,
        kernel: Sequence[int],
        stride: Sequence[int],
        padding: Sequence[int],
        count_include_pad: bool,
        input_zp: int,
        divisor_override: int | None = None,
    ):
        shape = pool2d_output_shape(_tensor_shape(SSAValue.get(input)), kernel, stride, padding, (1, 1))
        properties = _pool_properties(kernel, stride, padding) | {
            "count_include_pad": IntegerAttr(int(count_include_pad), i64),
            "input_zp": _int_prop(input_zp),
        }
        if divisor_override is not None:
            properties["divisor_override"] = IntegerAttr(divisor_override, i64)
        super().__init__(operands=[input], result_types=[TensorType(i8, shape)], properties=properties)

    def divisor(self) -> int | None:
        return None if self.divisor_override is None else self.divisor_override.value.data

    def verify_(self) -> None:
        super().verify_()
        divisor = self.divisor()
        if divisor is not None and divisor < 1:
            raise VerifyException(f"'qnn.avg_pool2d' divisor_override must be >= 1, got {divisor}")


@irdl_op_definition
class AdaptiveAvgPool2dOp(Int8Activation):
    """int8 adaptive average pool (PyTorch's windows), rounded as `qnn.avg_pool2d`; [1, 1] is global average."""

    name = "qnn.adaptive_avg_pool2d"

    input = operand_def(TensorType)
    output = result_def(TensorType)
    output_size = prop_def(DenseArrayBase)

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue | Operation, output_size: Sequence[int]):
        n, c, _, _ = _tensor_shape(SSAValue.get(input))
        super().__init__(
            operands=[input],
            result_types=[TensorType(i8, (n, c, *output_size))],
            properties={"output_size": _i64_array(output_size)},
        )

    def verify_(self) -> None:
        size = _check_array(self, "output_size", self.output_size, 2, 1)
        _expect_element(self, "input", self.input, 8)
        x = _tensor_shape(self.input)
        _expect_rank(self, "input", x, 4, "NCHW")
        _expect_result(self, _tensor_shape(self.output), (x[0], x[1], *size))
        self.verify_activation()


@irdl_op_definition
class SoftmaxOp(IRDLOperation):
    """int8 softmax along `axis` with CMSIS-NN `arm_softmax_s8` semantics: input differences from the row maximum
    scaled by (multiplier, shift) (beta * input scale in Q5.26), differences below `diff_min` count as 0, output
    scale 1/256 and zero point -128 (TFLite's fixed output quantization)."""

    name = "qnn.softmax"

    input = operand_def(Q)
    output = result_def(Q)
    axis = prop_def(IntegerAttr)
    multiplier = prop_def(IntegerAttr)
    shift = prop_def(IntegerAttr)
    diff_min = prop_def(IntegerAttr)

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` type($input)"

    OUTPUT_QUANT: ClassVar[tuple[float, int]] = (1.0 / 256.0, -128)

    def __init__(self, input: SSAValue | Operation, axis: int, multiplier: int, shift: int, diff_min: int):
        super().__init__(
            operands=[input],
            result_types=[SSAValue.get(input).type],
            properties={
                "axis": IntegerAttr(axis, i64),
                "multiplier": _int_prop(multiplier),
                "shift": _int_prop(shift),
                "diff_min": _int_prop(diff_min),
            },
        )

    def verify_(self) -> None:
        _expect_element(self, "input", self.input, 8)
        _expect_result(self, _tensor_shape(self.output), _tensor_shape(self.input))
        rank = len(_tensor_shape(self.input))
        if not 0 <= self.axis.value.data < rank:
            raise VerifyException(f"'qnn.softmax' axis {self.axis.value.data} is out of range for rank {rank}")
        length = _tensor_shape(self.input)[self.axis.value.data]
        if length > SOFTMAX_MAX_LENGTH:
            raise VerifyException(f"'qnn.softmax' over {length} values: at most {SOFTMAX_MAX_LENGTH} (the sum of "
                                  "exponentials is a 32-bit integer)")


# ---------------------------------------------------------------------------------------------------------------
# Whole-tensor int8 ops (issue 12): the product of two activations, sums over axes. Both give the int32
# accumulator of the zero-point-corrected values; a `qnn.rescale` makes int8 of it (s_a s_b / s_out for matmul,
# s_in / (count s_out) for a mean). Slices, transposes and embeddings of int8 tensors are the nn ops themselves.
# ---------------------------------------------------------------------------------------------------------------


@irdl_op_definition
class MatmulOp(IRDLOperation):
    """int32 sum over k of (lhs[..., m, k] - lhs_zp) * (rhs[..., k, n] - rhs_zp): [..., M, K] x [..., K, N], equal
    ranks, batch dims broadcast (nn.matmul's shapes)."""

    name = "qnn.matmul"

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    output = result_def(TensorType)
    lhs_zp = prop_def(IntegerAttr)
    rhs_zp = prop_def(IntegerAttr)

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def __init__(self, lhs: SSAValue | Operation, rhs: SSAValue | Operation, lhs_zp: int, rhs_zp: int):
        shape = matmul_shape(_tensor_shape(SSAValue.get(lhs)), _tensor_shape(SSAValue.get(rhs)))
        assert shape is not None, "operands do not multiply"
        super().__init__(
            operands=[lhs, rhs],
            result_types=[TensorType(i32, shape)],
            properties={"lhs_zp": _int_prop(lhs_zp), "rhs_zp": _int_prop(rhs_zp)},
        )

    def verify_(self) -> None:
        _expect_element(self, "lhs", self.lhs, 8)
        _expect_element(self, "rhs", self.rhs, 8)
        _expect_element(self, "result (an int32 accumulator)", self.output, 32)
        _i8_range(self, "lhs_zp", self.lhs_zp.value.data)
        _i8_range(self, "rhs_zp", self.rhs_zp.value.data)
        a, b = _tensor_shape(self.lhs), _tensor_shape(self.rhs)
        shape = matmul_shape(a, b)
        if shape is None:
            raise VerifyException(
                f"'qnn.matmul' operands {_fmt(a)} and {_fmt(b)} must be [..., M, K] and [..., K, N] of one rank >= 2"
            )
        _expect_result(self, _tensor_shape(self.output), shape)


@irdl_op_definition
class ReduceSumOp(IRDLOperation):
    """int32 sum of (input - input_zp) over `axes` (sorted, distinct), the reduced axes kept as size 1."""

    name = "qnn.reduce_sum"

    input = operand_def(TensorType)
    output = result_def(TensorType)
    axes = prop_def(DenseArrayBase)
    input_zp = prop_def(IntegerAttr)

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue | Operation, axes: Sequence[int], input_zp: int):
        x = _tensor_shape(SSAValue.get(input))
        super().__init__(
            operands=[input],
            result_types=[TensorType(i32, reduced_shape(x, axes))],
            properties={"axes": _i64_array(sorted(axes)), "input_zp": _int_prop(input_zp)},
        )

    def reduced_axes(self) -> tuple[int, ...]:
        return tuple(_ints(self.axes))

    def verify_(self) -> None:
        _expect_element(self, "input", self.input, 8)
        _expect_element(self, "result (an int32 accumulator)", self.output, 32)
        _i8_range(self, "input_zp", self.input_zp.value.data)
        x, axes = _tensor_shape(self.input), self.reduced_axes()
        if not axes or list(axes) != sorted(set(axes)) or axes[0] < 0 or axes[-1] >= len(x):
            raise VerifyException(f"'qnn.reduce_sum' axes {list(axes)} must be sorted, distinct and in [0, {len(x)})")
        if math.prod(x[a] for a in axes) * 255 >= 2**31:
            raise VerifyException(f"'qnn.reduce_sum' over {math.prod(x[a] for a in axes)} elements may overflow int32")
        _expect_result(self, _tensor_shape(self.output), reduced_shape(x, axes))


# ---------------------------------------------------------------------------------------------------------------
# Normalisation (issue 12)
# ---------------------------------------------------------------------------------------------------------------


@irdl_op_definition
class LayerNormOp(IRDLOperation):
    """int8 normalisation of each row of a [R, N] tensor (`layer_norm_s8`): the row's mean and variance in
    integers, 1/sqrt(variance + eps) as a per-row Q31 multiplier, gamma (int16, at most 2047 in magnitude) and
    beta (int32) applied to the normalised value (12 fraction bits), one requantization to the output. gamma and
    beta are [1, N] (a layer norm's per-element affine) or [R, 1] (a batch norm's per-channel one, each channel a
    row). `eps` is N^2 eps / s_in^2 (`norm_eps_term`); `requant` is s_gamma 2^-12 / s_out."""

    name = "qnn.layer_norm"

    input = operand_def(TensorType)
    gamma = operand_def(TensorType)
    beta = operand_def(TensorType)
    output = result_def(TensorType)
    input_zp = prop_def(IntegerAttr)
    eps = prop_def(IntegerAttr)
    requant = prop_def(RequantAttr)

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input `,` $gamma `,` $beta attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue | Operation, gamma: SSAValue | Operation, beta: SSAValue | Operation,
                 input_zp: int, eps: int, requant: RequantAttr):
        super().__init__(
            operands=[input, gamma, beta],
            result_types=[SSAValue.get(input).type],
            properties={"input_zp": _int_prop(input_zp), "eps": IntegerAttr(eps, i64), "requant": requant},
        )

    def verify_(self) -> None:
        _expect_element(self, "input", self.input, 8)
        _expect_element(self, "result", self.output, 8)
        _expect_element(self, "gamma", self.gamma, 16)
        _expect_element(self, "beta", self.beta, 32)
        _i8_range(self, "input_zp", self.input_zp.value.data)
        x = _tensor_shape(self.input)
        if len(x) != 2:
            raise VerifyException(f"'qnn.layer_norm' input must be [rows, N], got {_fmt(x)}")
        if x[1] > NORM_MAX_LENGTH:
            raise VerifyException(f"'qnn.layer_norm' rows of {x[1]} values: at most {NORM_MAX_LENGTH} (the sum "
                                  "of squares is a 32-bit integer)")
        for what, value in (("gamma", self.gamma), ("beta", self.beta)):
            shape = _tensor_shape(value)
            if shape not in ((1, x[1]), (x[0], 1)):
                raise VerifyException(f"'qnn.layer_norm' {what} must be [1, {x[1]}] or [{x[0]}, 1], got {_fmt(shape)}")
        if not 0 <= self.eps.value.data <= NORM_EPS_MAX:
            raise VerifyException(f"'qnn.layer_norm' eps {self.eps.value.data} must be in [0, 2^61]")
        if self.requant.channels != 1:
            raise VerifyException("'qnn.layer_norm' requant must have one multiplier")
        _expect_result(self, _tensor_shape(self.output), x)


INDEX_QUANT = (1.0, 0)
"""Where an int8 model's int32 input (embedding indices, taken as they are) stands in its list of input and output
quantizations (`#t2m.model`'s `quant`): the identity."""

QUANT_KEY = "qnn.quant"
"""Argument and result attribute of an int8 model function: the `QuantAttr` of that input or output."""


def io_quant(function: Operation) -> list[Attribute | None]:
    """The `qnn.quant` of each argument, then each result, of a `func.func` (None where it has none), aligned
    with the function type even when only the arguments or only the results carry attributes."""
    from xdsl.dialects import func

    assert isinstance(function, func.FuncOp)
    args, results = len(function.function_type.inputs.data), len(function.function_type.outputs.data)
    dictionaries = [*(function.arg_attrs or [None] * args), *(function.res_attrs or [None] * results)]
    return [d.data.get(QUANT_KEY) if d is not None else None for d in dictionaries]


def verify_io_quant(module: Operation) -> None:
    """`qnn.quant` on a function's arguments and results, as MLIR verifies a dialect's argument attributes: a
    `#qnn.quant` on int8 tensors only, and on every input and output of a function once on any (the C header and
    t2m-run need each one's scale and zero point)."""
    from xdsl.dialects import func

    for op in module.walk():
        if not isinstance(op, func.FuncOp):
            continue
        types = [*op.function_type.inputs.data, *op.function_type.outputs.data]
        names = [f"argument {i}" for i in range(len(op.function_type.inputs.data))]
        names += [f"result {i}" for i in range(len(op.function_type.outputs.data))]
        found = io_quant(op)
        where = f"'func.func' @{op.sym_name.data}"
        for name, type, quant in zip(names, types, found, strict=True):
            if quant is None:
                continue
            if not isinstance(quant, QuantAttr):
                raise VerifyException(f"{where} {name} has {QUANT_KEY} = {quant}, expected a #qnn.quant<scale, zp>")
            if not (isinstance(type, TensorType) and type.get_element_type() == i8):
                raise VerifyException(f"{where} {name} has a #qnn.quant but is {type}: only int8 tensors are quantized")
        int8 = [isinstance(t, TensorType) and t.get_element_type() == i8 for t in types]
        missing = [name for name, quant, q8 in zip(names, found, int8, strict=True) if quant is None and q8]
        if missing and len(missing) < sum(int8):
            raise VerifyException(
                f"{where} has a #qnn.quant on {sum(int8) - len(missing)} of its {sum(int8)} int8 inputs and outputs "
                f"({missing[0]} has none): an int8 model gives every int8 input and output its scale and zero point"
            )


# ---------------------------------------------------------------------------------------------------------------
# Table lookups (issue 12)
# ---------------------------------------------------------------------------------------------------------------


def lut_s8(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """`qnn.lut`: y = table[k, x + 128], k the channel (dim 1) for a per-channel table, else 0."""
    index = x.astype(np.int64) + 128
    if table.shape[0] == 1:
        return table[0][index].astype(np.int8)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    channel = np.arange(table.shape[0]).reshape(shape)
    return table[channel, index].astype(np.int8)


@irdl_op_definition
class LutOp(IRDLOperation):
    """int8 -> int8 through a 256-entry table per tensor ([1, 256]) or per channel of dim 1 ([C, 256]), entry
    `x + 128`. Any elementwise function of one int8 value is one: the importer fills the table at compile time
    from the input and output quantization (ELU, GELU, SiLU, hardswish, leaky ReLU, PReLU...), so the result is
    exactly what dequantize -> float op -> quantize gives, at one load per element (TFLite's LUT kernels)."""

    name = "qnn.lut"

    input = operand_def(TensorType)
    table = operand_def(TensorType)
    output = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "$input `,` $table attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue | Operation, table: SSAValue | Operation):
        super().__init__(operands=[input, table], result_types=[SSAValue.get(input).type])

    def verify_(self) -> None:
        for what, value in (("input", self.input), ("table", self.table), ("result", self.output)):
            _expect_element(self, what, value, 8)
        x, t = _tensor_shape(self.input), _tensor_shape(self.table)
        channels = x[1] if len(x) >= 2 else 1
        if len(t) != 2 or t[1] != 256 or t[0] not in (1, channels):
            raise VerifyException(
                f"'qnn.lut' table must have shape 1x256 or {channels}x256 (one row per channel of input {_fmt(x)}), "
                f"got {_fmt(t)}"
            )
        _expect_result(self, _tensor_shape(self.output), x)


QNN = Dialect(
    "qnn",
    [
        Conv2dOp,
        LinearOp,
        RescaleOp,
        ClampOp,
        AddOp,
        MulOp,
        MaxPool2dOp,
        AvgPool2dOp,
        AdaptiveAvgPool2dOp,
        SoftmaxOp,
        LutOp,
        MatmulOp,
        ReduceSumOp,
        LayerNormOp,
    ],
    [QuantAttr, RequantAttr],
)
