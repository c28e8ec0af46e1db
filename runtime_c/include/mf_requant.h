/**
 * @file mf_requant.h
 * @brief Fixed-point helpers, bit-exact with TensorFlow Lite Micro's reference kernels
 *        (tflite::MultiplyByQuantizedMultiplier with double rounding).
 *
 * Right shifts of negative values are arithmetic (true on every compiler we target).
 */
#ifndef MF_REQUANT_H
#define MF_REQUANT_H

#include <stdint.h>

/** (a * b * 2) >> 32 with rounding to nearest, saturating the single overflow case. */
static inline int32_t mf_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/** x / 2^exponent rounded to nearest, ties away from zero. exponent in [0, 31]. */
static inline int32_t mf_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** x * multiplier * 2^(shift - 31), as tflite::MultiplyByQuantizedMultiplier. */
static inline int32_t mf_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return mf_rounding_divide_by_pot(
        mf_sat_rounding_doubling_high_mul((int32_t)((uint32_t)x << left), multiplier), right);
}

/** Clamp to [lo, hi]. */
static inline int32_t mf_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

#endif /* MF_REQUANT_H */
