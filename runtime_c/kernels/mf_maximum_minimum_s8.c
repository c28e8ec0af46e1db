#include "mf_maximum_minimum_s8.h"

void mf_maximum_minimum_s8(const mf_maximum_minimum_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t *d = params->dims;
    const int32_t *s1 = params->in1_strides;
    const int32_t *s2 = params->in2_strides;
    const int minimum = params->minimum != 0;
    int32_t o = 0;
    for (int32_t n = 0; n < d[0]; ++n) {
        for (int32_t h = 0; h < d[1]; ++h) {
            for (int32_t w = 0; w < d[2]; ++w) {
                const int8_t *a = input1 + n * s1[0] + h * s1[1] + w * s1[2];
                const int8_t *b = input2 + n * s2[0] + h * s2[1] + w * s2[2];
                for (int32_t c = 0; c < d[3]; ++c) {
                    const int8_t x = a[c * s1[3]];
                    const int8_t y = b[c * s2[3]];
                    output[o++] = (minimum ? x < y : x > y) ? x : y;
                }
            }
        }
    }
}
