#include "mf_fully_connected_s8.h"

#include "mf_requant.h"

void mf_fully_connected_s8(const mf_fully_connected_params *params, const mf_per_channel_quant *quant,
                           const int8_t *input, const int8_t *weights, const int32_t *bias, int8_t *output)
{
    for (int32_t b = 0; b < params->batches; ++b) {
        const int8_t *in_row = input + b * params->in_depth;
        for (int32_t o = 0; o < params->out_depth; ++o) {
            const int8_t *w_row = weights + o * params->in_depth;
            int32_t acc = 0;
            for (int32_t i = 0; i < params->in_depth; ++i) {
                acc += ((int32_t)in_row[i] + params->input_offset) * (int32_t)w_row[i];
            }
            if (bias != NULL) {
                acc += bias[o];
            }
            acc = mf_requantize(acc, quant->multiplier[o], quant->shift[o]) + params->output_offset;
            output[b * params->out_depth + o] = (int8_t)mf_clamp(acc, params->act_min, params->act_max);
        }
    }
}
