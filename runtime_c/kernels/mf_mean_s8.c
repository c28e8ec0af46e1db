#include "mf_mean_s8.h"

#include "mf_requant.h"

/* The int32 sum of the reduced block that starts at input[base]. */
static int32_t block_sum(const mf_mean_params *p, const int8_t *input, int32_t base)
{
    const int32_t *r = p->red_ext;
    const int32_t *s = p->strides;
    int32_t sum = 0;
    for (int32_t i0 = 0; i0 < r[0]; ++i0) {
        for (int32_t i1 = 0; i1 < r[1]; ++i1) {
            for (int32_t i2 = 0; i2 < r[2]; ++i2) {
                const int8_t *row = input + base + i0 * s[0] + i1 * s[1] + i2 * s[2];
                for (int32_t i3 = 0; i3 < r[3]; ++i3) {
                    sum += row[i3 * s[3]];
                }
            }
        }
    }
    return sum;
}

void mf_mean_s8(const mf_mean_params *params, const int8_t *input, int8_t *output)
{
    const int32_t *e = params->out_ext;
    const int32_t *s = params->strides;
    for (int32_t o0 = 0; o0 < e[0]; ++o0) {
        for (int32_t o1 = 0; o1 < e[1]; ++o1) {
            for (int32_t o2 = 0; o2 < e[2]; ++o2) {
                for (int32_t o3 = 0; o3 < e[3]; ++o3) {
                    const int32_t sum = block_sum(params, input, o0 * s[0] + o1 * s[1] + o2 * s[2] + o3 * s[3]);
                    const int32_t out =
                        mf_requantize(sum - params->input_offset_sum, params->output_multiplier, params->output_shift) +
                        params->output_offset;
                    *output++ = (int8_t)mf_clamp(out, INT8_MIN, INT8_MAX);
                }
            }
        }
    }
}
