#include "mf_leaky_relu_s8.h"

#include "mf_requant.h"

void mf_leaky_relu_s8(const mf_leaky_relu_params *params, const int8_t *input, int8_t *output)
{
    /* TFLM multiplies by the magnitude of a negative alpha multiplier and negates the product */
    const int32_t negate = params->multiplier_alpha < 0;
    const int32_t alpha_mult = negate ? -params->multiplier_alpha : params->multiplier_alpha;
    for (int32_t i = 0; i < params->size; ++i) {
        const int32_t x = (int32_t)input[i] - params->input_offset;
        int32_t scaled;
        if (x >= 0) {
            scaled = mf_requantize(x, params->multiplier_identity, params->shift_identity);
        } else {
            scaled = mf_requantize(x, alpha_mult, params->shift_alpha);
            scaled = negate ? -scaled : scaled;
        }
        output[i] = (int8_t)mf_clamp(params->output_offset + scaled, -128, 127);
    }
}
