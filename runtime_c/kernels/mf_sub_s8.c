#include "mf_sub_s8.h"

#include "mf_requant.h"

static int8_t sub_one(const mf_sub_params *p, int8_t a, int8_t b)
{
    /* Shifting by multiplication, as TFLM does (the offset value may be negative). */
    const int32_t x1 = ((int32_t)a + p->input1_offset) * ((int32_t)1 << p->left_shift);
    const int32_t x2 = ((int32_t)b + p->input2_offset) * ((int32_t)1 << p->left_shift);
    const int32_t s1 = mf_requantize(x1, p->input1_multiplier, p->input1_shift);
    const int32_t s2 = mf_requantize(x2, p->input2_multiplier, p->input2_shift);
    const int32_t raw = mf_requantize(s1 - s2, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int8_t)mf_clamp(raw, p->act_min, p->act_max);
}

void mf_sub_s8(const mf_sub_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
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
                    output[o++] = sub_one(params, a[c * s1[3]], b[c * s2[3]]);
                }
            }
        }
    }
}
