"""gemmlowp fixed-point arithmetic (fixedpoint/fixedpoint.h) on numpy int64 arrays, int32 semantics.

TFLM's int8 SOFTMAX, LOGISTIC and TANH reference kernels evaluate exp, 1/(1+x), logistic and
tanh with gemmlowp's `FixedPoint<int32_t, IntegerBits>`. A fixed-point value is its raw int32:
real = raw / 2^(31 - integer_bits). These functions take and return raw values, elementwise,
as int64 arrays holding int32 values; `integer_bits` is the template parameter of the input.

gemmlowp's plain `+`/`-` on FixedPoint are non-saturating int32 adds; the twins here wrap
modulo 2^32 where an overflow is conceivable (`wrap32`), like the C code on every target.
"""

from __future__ import annotations

import numpy as np

from .quant import INT32_MAX, INT32_MIN, saturating_rounding_doubling_high_mul

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "count_leading_zeros32",
    "exp_on_interval_between_negative_one_quarter_and_0_excl",
    "exp_on_negative_values",
    "get_reciprocal",
    "logistic",
    "one_minus_x_over_one_plus_x_for_x_in_0_1",
    "one_over_one_plus_x_for_x_in_0_1",
    "rescale",
    "rounding_divide_by_pot",
    "rounding_half_sum",
    "saturating_rounding_multiply_by_pot",
    "srdhm",
    "tanh",
    "wrap32",
]

# Raw constants used by gemmlowp (CHECKED_FIXEDPOINT_CONSTANT values for int32).
_EXP_MINUS_ONE_EIGHTH = 1895147668  # exp(-1/8) in Q0.31
_ONE_THIRD = 715827883  # 1/3 in Q0.31
_FORTY_EIGHT_OVER_17 = 1515870810  # 48/17 in Q2.29
_NEG_THIRTY_TWO_OVER_17 = -1010580540  # -32/17 in Q2.29
# exp(-2^k) in Q0.31 for the barrel shifter of exp_on_negative_values, k = -2..4.
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535), (3, 720401), (4, 242))


def _i64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def wrap32(x) -> np.ndarray:
    """Reduce to int32 modulo 2^32 (the non-saturating int32 add/sub of the C code)."""
    return (_i64(x) + 2**31) % 2**32 - 2**31


def srdhm(a, b) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul: the FixedPoint product (integer bits add up)."""
    return saturating_rounding_doubling_high_mul(a, b)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31] (scalar or array)."""
    x = _i64(x)
    exponent = _i64(exponent)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def saturating_rounding_multiply_by_pot(x, exponent: int) -> np.ndarray:
    """x * 2^exponent: saturating left shift when exponent > 0, rounding right shift when < 0."""
    x = _i64(x)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << exponent))


def rescale(x, src_integer_bits: int, dst_integer_bits: int) -> np.ndarray:
    """gemmlowp::Rescale<dst>(FixedPoint<int32, src>)."""
    return saturating_rounding_multiply_by_pot(x, src_integer_bits - dst_integer_bits)


def rounding_half_sum(a, b) -> np.ndarray:
    """(a + b) / 2 rounded half away from zero (C truncating division of sum + sign)."""
    s = _i64(a) + _i64(b)
    t = s + np.where(s >= 0, 1, -1)
    return np.where(t >= 0, t // 2, -((-t) // 2))


def count_leading_zeros32(x) -> np.ndarray:
    """Leading zero bits of x viewed as uint32 (32 for 0)."""
    u = _i64(x) & 0xFFFFFFFF
    n = np.full(u.shape, 32, dtype=np.int64)
    for bit in range(31, -1, -1):
        set_here = (n == 32) & (((u >> bit) & 1) == 1)
        n = np.where(set_here, 31 - bit, n)
    return n


def exp_on_interval_between_negative_one_quarter_and_0_excl(a) -> np.ndarray:
    """exp(a) for Q0.31 a in [-1/4, 0): a 4th-order Taylor expansion around -1/8."""
    x = _i64(a) + (1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    poly = rounding_divide_by_pot(wrap32(srdhm(wrap32(x4_over_4 + x3), _ONE_THIRD) + x2), 1)
    return wrap32(_EXP_MINUS_ONE_EIGHTH + srdhm(_EXP_MINUS_ONE_EIGHTH, wrap32(x + poly)))


def exp_on_negative_values(a, integer_bits: int) -> np.ndarray:
    """exp(a) in Q0.31 for a <= 0 in Q(integer_bits).(31 - integer_bits)."""
    a = _i64(a)
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0)
    )
    remainder = wrap32(a_mod_quarter_minus_one_quarter - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = 1 << (frac_bits + exponent)
            result = np.where((remainder & bit) != 0, srdhm(result, multiplier), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, INT32_MAX, result)


def one_over_one_plus_x_for_x_in_0_1(a) -> np.ndarray:
    """1 / (1 + a) for Q0.31 a in [0, 1): Newton-Raphson division, three iterations."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = _newton_reciprocal(half_denominator)
    return rescale(x, 1, 0)  # Rescale<0>(ExactMulByPot<-1>(x)): the raw Q2.29 read as Q1.30


def one_minus_x_over_one_plus_x_for_x_in_0_1(a) -> np.ndarray:
    """(1 - a) / (1 + a) for Q0.31 a in [0, 1)."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = _newton_reciprocal(half_denominator)
    return rescale(wrap32(x - (1 << 29)), 2, 0)


def _newton_reciprocal(half_denominator: np.ndarray) -> np.ndarray:
    """Q2.29 approximation of 1 / half_denominator (half_denominator in [1/2, 1) as Q0.31)."""
    x = wrap32(_FORTY_EIGHT_OVER_17 + srdhm(half_denominator, _NEG_THIRTY_TWO_OVER_17))
    for _ in range(3):
        half_denominator_times_x = srdhm(half_denominator, x)
        one_minus = wrap32((1 << 29) - half_denominator_times_x)
        x = wrap32(x + rescale(srdhm(x, one_minus), 4, 2))
    return x


def logistic(a, integer_bits: int) -> np.ndarray:
    """gemmlowp::logistic: 1 / (1 + exp(-a)) in Q0.31 for a in Q(integer_bits)."""
    a = _i64(a)
    positive = a > 0
    abs_input = np.where(positive, a, -a)
    if_positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-abs_input, integer_bits))
    if_negative = wrap32(INT32_MAX - if_positive)
    return np.where(a == 0, 1 << 30, np.where(positive, if_positive, if_negative))


def tanh(a, integer_bits: int) -> np.ndarray:
    """gemmlowp::tanh in Q0.31 for a in Q(integer_bits)."""
    a = _i64(a)
    negative = a < 0
    n = np.where(negative, a, -a)
    # neg_tanh_on_negative_values: ExactMulByPot<1> keeps the raw and adds an integer bit.
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1))
    return np.where(a == 0, 0, np.where(negative, -t, t))


def get_reciprocal(x, x_integer_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """tflite::GetReciprocal for x > 0 in Q(x_integer_digits): (1/x scaled to Q0.31, num_bits_over_unit)."""
    x = _i64(x)
    headroom_plus_one = count_leading_zeros32(x)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted = ((x & 0xFFFFFFFF) << headroom_plus_one) & 0xFFFFFFFF
    shifted_sum_minus_one = wrap32(shifted - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit
