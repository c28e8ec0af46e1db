#include "mf_softmax_s8.h"

#include "mf_fixedpoint.h"

#define MF_SOFTMAX_SCALED_DIFF_INTEGER_BITS 5
#define MF_SOFTMAX_ACCUMULATION_INTEGER_BITS 12

/* exp((x - row_max) * beta * input_scale) as Q0.31, for a difference >= diff_min. */
static int32_t mf_softmax_exp(const mf_softmax_params *params, int32_t diff)
{
    /* MultiplyByQuantizedMultiplierGreaterThanOne: diff_min keeps diff * 2^shift inside int32. */
    const int32_t shifted = (int32_t)((uint32_t)diff << params->input_left_shift);
    const int32_t rescaled = mf_sat_rounding_doubling_high_mul(shifted, params->input_multiplier);
    return mf_fp_exp_on_negative_values(rescaled, MF_SOFTMAX_SCALED_DIFF_INTEGER_BITS);
}

/*
 * One row: returns its maximum; sets the reciprocal of the Q12.19 sum of exp() and the rounding
 * shift that scales exp() * reciprocal to an output of `output_bits` bits.
 */
static int8_t mf_softmax_row_scale(const mf_softmax_params *params, const int8_t *row, int32_t output_bits,
                                   int32_t *reciprocal, int32_t *exponent)
{
    int8_t max_in_row = INT8_MIN;
    for (int32_t c = 0; c < params->depth; ++c) {
        max_in_row = row[c] > max_in_row ? row[c] : max_in_row;
    }
    int32_t sum_of_exps = 0;
    for (int32_t c = 0; c < params->depth; ++c) {
        const int32_t diff = (int32_t)row[c] - (int32_t)max_in_row;
        if (diff >= params->diff_min) {
            sum_of_exps = mf_fp_add(sum_of_exps, mf_fp_rescale(mf_softmax_exp(params, diff), 0,
                                                               MF_SOFTMAX_ACCUMULATION_INTEGER_BITS));
        }
    }
    int32_t num_bits_over_unit;
    *reciprocal = mf_fp_get_reciprocal(sum_of_exps, MF_SOFTMAX_ACCUMULATION_INTEGER_BITS, &num_bits_over_unit);
    *exponent = num_bits_over_unit + 31 - output_bits;
    return max_in_row;
}

/* Unsaturated output (before adding the type's minimum) of one entry of a row. */
static int32_t mf_softmax_value(const mf_softmax_params *params, int32_t diff, int32_t reciprocal, int32_t exponent)
{
    if (exponent > 31) {
        return 0;
    }
    return mf_rounding_divide_by_pot(mf_fp_mul(reciprocal, mf_softmax_exp(params, diff)), exponent);
}

void mf_softmax_s8(const mf_softmax_params *params, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < params->outer; ++i) {
        const int8_t *row = input + i * params->depth;
        int8_t *out = output + i * params->depth;
        int32_t reciprocal;
        int32_t exponent;
        const int8_t max_in_row = mf_softmax_row_scale(params, row, 8, &reciprocal, &exponent);
        for (int32_t c = 0; c < params->depth; ++c) {
            const int32_t diff = (int32_t)row[c] - (int32_t)max_in_row;
            if (diff >= params->diff_min) {
                const int32_t v = mf_softmax_value(params, diff, reciprocal, exponent) + INT8_MIN;
                out[c] = (int8_t)mf_clamp(v, INT8_MIN, INT8_MAX);
            } else {
                out[c] = INT8_MIN;
            }
        }
    }
}

void mf_softmax_s8_s16(const mf_softmax_params *params, const int8_t *input, int16_t *output)
{
    for (int32_t i = 0; i < params->outer; ++i) {
        const int8_t *row = input + i * params->depth;
        int16_t *out = output + i * params->depth;
        int32_t reciprocal;
        int32_t exponent;
        const int8_t max_in_row = mf_softmax_row_scale(params, row, 16, &reciprocal, &exponent);
        for (int32_t c = 0; c < params->depth; ++c) {
            const int32_t diff = (int32_t)row[c] - (int32_t)max_in_row;
            if (diff >= params->diff_min) {
                const int32_t v = mf_softmax_value(params, diff, reciprocal, exponent) + INT16_MIN;
                out[c] = (int16_t)mf_clamp(v, INT16_MIN, INT16_MAX);
            } else {
                out[c] = INT16_MIN;
            }
        }
    }
}
