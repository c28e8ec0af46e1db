#include "mf_mul_s8.h"

#include "mf_requant.h"

void mf_mul_s8(const mf_mul_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t *d = params->dims;
    const int32_t *s1 = params->in1_strides;
    const int32_t *s2 = params->in2_strides;
    int32_t o = 0;
    for (int32_t n = 0; n < d[0]; ++n) {
        for (int32_t h = 0; h < d[1]; ++h) {
            for (int32_t w = 0; w < d[2]; ++w) {
                const int8_t *a = input1 + n * s1[0] + h * s1[1] + w * s1[2];
                const int8_t *b = input2 + n * s2[0] + h * s2[1] + w * s2[2];
                for (int32_t c = 0; c < d[3]; ++c) {
                    const int32_t x1 = (int32_t)a[c * s1[3]] + params->input1_offset;
                    const int32_t x2 = (int32_t)b[c * s2[3]] + params->input2_offset;
                    const int32_t raw =
                        mf_requantize(x1 * x2, params->output_multiplier, params->output_shift) + params->output_offset;
                    output[o++] = (int8_t)mf_clamp(raw, params->act_min, params->act_max);
                }
            }
        }
    }
}
