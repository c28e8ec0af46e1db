/**
 * @file mf_fixedpoint.h
 * @brief gemmlowp fixed-point arithmetic (fixedpoint/fixedpoint.h) for int32 raw values, bit-exact
 *        with the exp / logistic / tanh / reciprocal that TensorFlow Lite Micro's int8 SOFTMAX,
 *        LOGISTIC and TANH reference kernels use.
 *
 * A fixed-point value with I integer bits is its raw int32: real = raw / 2^(31 - I).
 * Functions taking `integer_bits` stand for gemmlowp templates on FixedPoint<int32_t, I>.
 * Plain additions that gemmlowp leaves non-saturating wrap modulo 2^32 here (mf_fp_add/sub),
 * which is what the C++ code does in practice, without undefined behaviour.
 * Right shifts of negative values are arithmetic (true on every compiler we target).
 */
#ifndef MF_FIXEDPOINT_H
#define MF_FIXEDPOINT_H

#include <stdint.h>

#include "mf_requant.h"

/** a + b modulo 2^32. */
static inline int32_t mf_fp_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/** a - b modulo 2^32. */
static inline int32_t mf_fp_sub(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/** FixedPoint product: SaturatingRoundingDoublingHighMul (integer bits add up). */
static inline int32_t mf_fp_mul(int32_t a, int32_t b)
{
    return mf_sat_rounding_doubling_high_mul(a, b);
}

/** x * 2^exponent: saturating left shift for exponent > 0, rounding right shift for exponent < 0. */
static inline int32_t mf_fp_sat_rounding_mul_by_pot(int32_t x, int32_t exponent)
{
    if (exponent > 0) {
        const int32_t threshold = (int32_t)(((int32_t)1 << (31 - exponent)) - 1);
        if (x > threshold) {
            return INT32_MAX;
        }
        if (x < -threshold) {
            return INT32_MIN;
        }
        return (int32_t)((uint32_t)x << exponent);
    }
    if (exponent < 0) {
        return mf_rounding_divide_by_pot(x, -exponent);
    }
    return x;
}

/** gemmlowp::Rescale: the same real value from src_integer_bits to dst_integer_bits. */
static inline int32_t mf_fp_rescale(int32_t x, int32_t src_integer_bits, int32_t dst_integer_bits)
{
    return mf_fp_sat_rounding_mul_by_pot(x, src_integer_bits - dst_integer_bits);
}

/** (a + b) / 2, rounded half away from zero. */
static inline int32_t mf_fp_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/** Leading zero bits of x (32 for 0). */
static inline int32_t mf_fp_clz32(uint32_t x)
{
    int32_t n = 0;
    if (x == 0u) {
        return 32;
    }
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        ++n;
    }
    return n;
}

/** exp(a) for Q0.31 a in [-1/4, 0). */
static inline int32_t mf_fp_exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
{
    const int32_t constant_term = 1895147668; /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883;
    const int32_t x = mf_fp_add(a, (int32_t)1 << 28); /* Taylor expansion around -1/8 */
    const int32_t x2 = mf_fp_mul(x, x);
    const int32_t x3 = mf_fp_mul(x2, x);
    const int32_t x4 = mf_fp_mul(x2, x2);
    const int32_t x4_over_4 = mf_rounding_divide_by_pot(x4, 2);
    const int32_t poly = mf_rounding_divide_by_pot(
        mf_fp_add(mf_fp_mul(mf_fp_add(x4_over_4, x3), constant_1_over_3), x2), 1);
    return mf_fp_add(constant_term, mf_fp_mul(constant_term, mf_fp_add(x, poly)));
}

/** exp(a) as Q0.31 for a <= 0 given with `integer_bits` integer bits (1..30). */
static inline int32_t mf_fp_exp_on_negative_values(int32_t a, int32_t integer_bits)
{
    static const int32_t barrel_multiplier[7] = {1672461947, 1302514674, 790015084, 290630308,
                                                 39332535,   720401,     242};
    const int32_t frac_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = mf_fp_exp_on_interval_between_negative_one_quarter_and_0_excl(
        mf_fp_rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0));
    const int32_t remainder = mf_fp_sub(a_mod_quarter_minus_one_quarter, a);
    /* Barrel shifter: multiply by exp(-2^k) for each bit k = -2..4 set in the remainder. */
    for (int32_t k = -2; k <= 4; ++k) {
        if (integer_bits > k && (remainder & ((int32_t)1 << (frac_bits + k))) != 0) {
            result = mf_fp_mul(result, barrel_multiplier[k + 2]);
        }
    }
    if (integer_bits > 5 && a < -((int32_t)1 << (36 - integer_bits))) {
        result = 0;
    }
    return a == 0 ? INT32_MAX : result;
}

/** Newton-Raphson: Q2.29 approximation of 1 / half_denominator (Q0.31 in [1/2, 1)). */
static inline int32_t mf_fp_newton_reciprocal(int32_t half_denominator)
{
    const int32_t constant_48_over_17 = 1515870810;
    const int32_t constant_neg_32_over_17 = -1010580540;
    const int32_t one_q2 = (int32_t)1 << 29;
    int32_t x = mf_fp_add(constant_48_over_17, mf_fp_mul(half_denominator, constant_neg_32_over_17));
    for (int i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = mf_fp_mul(half_denominator, x);
        const int32_t one_minus_half_denominator_times_x = mf_fp_sub(one_q2, half_denominator_times_x);
        x = mf_fp_add(x, mf_fp_rescale(mf_fp_mul(x, one_minus_half_denominator_times_x), 4, 2));
    }
    return x;
}

/** 1 / (1 + a) as Q0.31 for Q0.31 a in [0, 1). */
static inline int32_t mf_fp_one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t x = mf_fp_newton_reciprocal(mf_fp_rounding_half_sum(a, INT32_MAX));
    return mf_fp_rescale(x, 1, 0); /* the Q2.29 raw read as Q1.30 (ExactMulByPot<-1>), then to Q0.31 */
}

/** (1 - a) / (1 + a) as Q0.31 for Q0.31 a in [0, 1). */
static inline int32_t mf_fp_one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t x = mf_fp_newton_reciprocal(mf_fp_rounding_half_sum(a, INT32_MAX));
    return mf_fp_rescale(mf_fp_sub(x, (int32_t)1 << 29), 2, 0);
}

/** gemmlowp::logistic: 1 / (1 + exp(-a)) as Q0.31, a with `integer_bits` integer bits. */
static inline int32_t mf_fp_logistic(int32_t a, int32_t integer_bits)
{
    if (a == 0) {
        return (int32_t)1 << 30;
    }
    const int32_t abs_input = a > 0 ? a : -a;
    const int32_t if_positive =
        mf_fp_one_over_one_plus_x_for_x_in_0_1(mf_fp_exp_on_negative_values(-abs_input, integer_bits));
    return a > 0 ? if_positive : mf_fp_sub(INT32_MAX, if_positive);
}

/** gemmlowp::tanh as Q0.31, a with `integer_bits` integer bits. */
static inline int32_t mf_fp_tanh(int32_t a, int32_t integer_bits)
{
    if (a == 0) {
        return 0;
    }
    const int32_t n = a < 0 ? a : -a;
    /* neg_tanh_on_negative_values: ExactMulByPot<1> keeps the raw and adds one integer bit. */
    const int32_t t = mf_fp_one_minus_x_over_one_plus_x_for_x_in_0_1(mf_fp_exp_on_negative_values(n, integer_bits + 1));
    return a < 0 ? -t : t;
}

/**
 * tflite::GetReciprocal: 1/x (x > 0 with `x_integer_digits` integer bits) as a Q0.31 value
 * and the power of two it is scaled by (*num_bits_over_unit).
 */
static inline int32_t mf_fp_get_reciprocal(int32_t x, int32_t x_integer_digits, int32_t *num_bits_over_unit)
{
    const int32_t headroom_plus_one = mf_fp_clz32((uint32_t)x);
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    const uint32_t shifted = headroom_plus_one < 32 ? ((uint32_t)x << headroom_plus_one) : 0u;
    return mf_fp_one_over_one_plus_x_for_x_in_0_1((int32_t)(shifted - 0x80000000u));
}

#endif /* MF_FIXEDPOINT_H */
