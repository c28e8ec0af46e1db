#include "mf_tanh_s8.h"

#include "mf_fixedpoint.h"

void mf_tanh_s8(const mf_tanh_params *params, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < params->size; ++i) {
        const int32_t x = (int32_t)input[i] - params->input_zero_point;
        if (x <= -params->input_range_radius) {
            output[i] = INT8_MIN;
        } else if (x >= params->input_range_radius) {
            output[i] = INT8_MAX;
        } else {
            /* Q4.27; the radius keeps x * 2^shift inside int32. */
            const int32_t x_q4 = mf_requantize(x, params->input_multiplier, params->input_left_shift);
            /* Q0.31 -> Q0.7 (scale 1/128, zero point 0). */
            const int32_t y = mf_rounding_divide_by_pot(mf_fp_tanh(x_q4, 4), 31 - 7);
            output[i] = (int8_t)mf_clamp(y, INT8_MIN, INT8_MAX);
        }
    }
}
