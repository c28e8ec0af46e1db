#include "mf_fully_connected_f32.h"

#include <stddef.h>

#include "mf_float.h"

void mf_fully_connected_f32(const mf_fully_connected_f32_params *params, const float *input, const float *weights,
                            const float *bias, float *output)
{
    for (int32_t b = 0; b < params->batches; ++b) {
        const float *in_row = input + b * params->in_depth;
        for (int32_t o = 0; o < params->out_depth; ++o) {
            const float *w_row = weights + o * params->in_depth;
            float acc = 0.0f;
            for (int32_t i = 0; i < params->in_depth; ++i) {
                acc += in_row[i] * w_row[i];
            }
            if (bias != NULL) {
                acc += bias[o];
            }
            output[b * params->out_depth + o] = mf_clampf(acc, params->act_min, params->act_max);
        }
    }
}
