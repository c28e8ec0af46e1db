#include "mf_mean_f32.h"

/* The float sum of the reduced block that starts at input[base]. */
static float block_sum(const mf_mean_f32_params *p, const float *input, int32_t base)
{
    const int32_t *r = p->red_ext;
    const int32_t *s = p->strides;
    float sum = 0.0f;
    for (int32_t i0 = 0; i0 < r[0]; ++i0) {
        for (int32_t i1 = 0; i1 < r[1]; ++i1) {
            for (int32_t i2 = 0; i2 < r[2]; ++i2) {
                const float *row = input + base + i0 * s[0] + i1 * s[1] + i2 * s[2];
                for (int32_t i3 = 0; i3 < r[3]; ++i3) {
                    sum += row[i3 * s[3]];
                }
            }
        }
    }
    return sum;
}

void mf_mean_f32(const mf_mean_f32_params *params, const float *input, float *output)
{
    const int32_t *e = params->out_ext;
    const int32_t *s = params->strides;
    const float count = (float)params->count;
    for (int32_t o0 = 0; o0 < e[0]; ++o0) {
        for (int32_t o1 = 0; o1 < e[1]; ++o1) {
            for (int32_t o2 = 0; o2 < e[2]; ++o2) {
                for (int32_t o3 = 0; o3 < e[3]; ++o3) {
                    *output++ = block_sum(params, input, o0 * s[0] + o1 * s[1] + o2 * s[2] + o3 * s[3]) / count;
                }
            }
        }
    }
}
