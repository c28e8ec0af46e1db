#include "mf_hard_swish_s8.h"

/* gemmlowp::SaturatingRoundingDoublingHighMul on int16: (a * b * 2) >> 16, rounded to nearest. */
static int32_t srdhm16(int32_t a, int32_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    const int32_t ab = a * b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (ab + nudge) / (1 << 15);
}

/* TFLite's SaturatingDoublingHighMul on int16: as above, rounding toward zero. */
static int32_t sdhm16(int32_t a, int32_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    return (a * b) / (1 << 15);
}

/*
 * gemmlowp::RoundingDivideByPOT instantiated on int16: the mask (2^exponent - 1) is truncated to
 * int16, so for exponents >= 16 it is -1 and non-negative inputs round up to 1 (TFLM does the same).
 */
static int32_t rdbpot16(int32_t x, int32_t exponent)
{
    const int32_t mask = exponent >= 16 ? -1 : (1 << exponent) - 1;
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static int32_t saturating_left_shift16(int32_t x, int32_t amount)
{
    const int64_t v = (int64_t)x * ((int64_t)1 << amount);
    return v > INT16_MAX ? INT16_MAX : (v < INT16_MIN ? INT16_MIN : (int32_t)v);
}

void mf_hard_swish_s8(const mf_hard_swish_params *params, const int8_t *input, int8_t *output)
{
    const int32_t out_mult = params->output_multiplier_fixedpoint;
    const int32_t relu_mult = params->reluish_multiplier_fixedpoint;
    const int32_t relu_exp = params->reluish_multiplier_exponent;
    for (int32_t i = 0; i < params->size; ++i) {
        const int32_t hires = ((int32_t)input[i] - params->input_zero_point) * (1 << 7); /* |.| <= 32640 */
        const int32_t preshift_output = srdhm16(hires, out_mult);
        int32_t reluish = hires;
        if (relu_exp > 0) {
            /* all but the last bit of the left shift first: saturation here cannot reach the result */
            reluish = saturating_left_shift16(reluish, relu_exp - 1);
        }
        reluish = srdhm16(reluish, relu_mult);
        if (relu_exp > 0) {
            reluish = saturating_left_shift16(reluish, 1);
        } else if (relu_exp < 0) {
            reluish = rdbpot16(reluish, -relu_exp);
        }
        reluish = (reluish + (1 << 15)) >> 1; /* [-1, 1] -> [0, 1] in Q15 */
        const int32_t preshift = sdhm16(reluish, preshift_output);
        int32_t out = rdbpot16(preshift, -params->output_multiplier_exponent) + params->output_zero_point;
        out = out > 127 ? 127 : (out < -128 ? -128 : out);
        output[i] = (int8_t)out;
    }
}
