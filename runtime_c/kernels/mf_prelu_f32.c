#include "mf_prelu_f32.h"

void mf_prelu_f32(const mf_prelu_f32_params *params, const float *input, const float *alpha, float *output)
{
    const int32_t *d = params->dims;
    const int32_t *s = params->alpha_strides;
    int32_t o = 0;
    for (int32_t n = 0; n < d[0]; ++n) {
        for (int32_t h = 0; h < d[1]; ++h) {
            for (int32_t w = 0; w < d[2]; ++w) {
                const float *a = alpha + n * s[0] + h * s[1] + w * s[2];
                for (int32_t c = 0; c < d[3]; ++c, ++o) {
                    const float x = input[o];
                    output[o] = x >= 0.0f ? x : x * a[c * s[3]];
                }
            }
        }
    }
}
