#include "mf_prelu_s8.h"

#include "mf_requant.h"

void mf_prelu_s8(const mf_prelu_params *params, const int8_t *input, const int8_t *alpha, int8_t *output)
{
    const int32_t *d = params->dims;
    const int32_t *s = params->alpha_strides;
    int32_t o = 0;
    for (int32_t n = 0; n < d[0]; ++n) {
        for (int32_t h = 0; h < d[1]; ++h) {
            for (int32_t w = 0; w < d[2]; ++w) {
                const int8_t *a = alpha + n * s[0] + h * s[1] + w * s[2];
                for (int32_t c = 0; c < d[3]; ++c, ++o) {
                    const int32_t x = (int32_t)input[o] + params->input_offset;
                    int32_t y;
                    if (x >= 0) {
                        y = mf_requantize(x, params->output_multiplier_1, params->output_shift_1);
                    } else {
                        const int32_t al = (int32_t)a[c * s[3]] + params->alpha_offset;
                        y = mf_requantize(x * al, params->output_multiplier_2, params->output_shift_2);
                    }
                    output[o] = (int8_t)mf_clamp(y + params->output_offset, -128, 127);
                }
            }
        }
    }
}
