#include "mf_relu_s8.h"

#include "mf_requant.h"

void mf_relu_s8(const mf_relu_params *params, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < params->size; ++i) {
        const int32_t x = (int32_t)input[i] - params->input_offset;
        const int32_t y = params->output_offset + mf_requantize(x, params->output_multiplier, params->output_shift);
        output[i] = (int8_t)mf_clamp(y, params->act_min, params->act_max);
    }
}
