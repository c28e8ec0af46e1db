#include "mf_softmax_f32.h"

#include <math.h>

void mf_softmax_f32(const mf_softmax_f32_params *params, const float *input, float *output)
{
    const float beta = params->beta;
    for (int32_t i = 0; i < params->outer; ++i) {
        const float *row = input + i * params->depth;
        float *out = output + i * params->depth;
        float max = row[0];
        for (int32_t c = 1; c < params->depth; ++c) {
            max = row[c] > max ? row[c] : max;
        }
        float sum = 0.0f;
        for (int32_t c = 0; c < params->depth; ++c) {
            sum += expf((row[c] - max) * beta);
        }
        /* row[c] is read before out[c] is written: safe when they share storage */
        for (int32_t c = 0; c < params->depth; ++c) {
            out[c] = expf((row[c] - max) * beta) / sum;
        }
    }
}
