#include "mf_pad_f32.h"

#include <string.h>

static void fill(float *dst, int32_t count, float value)
{
    for (int32_t i = 0; i < count; ++i) {
        dst[i] = value;
    }
}

void mf_pad_f32(const mf_pad_f32_params *params, const float *input, float *output)
{
    const mf_dims *in = &params->input_dims;
    const mf_dims *out = &params->output_dims;
    const int32_t *before = params->pad_before;
    const int32_t after_c = out->c - in->c - before[3];
    const float value = params->pad_value;

    for (int32_t n = 0; n < out->n; ++n) {
        const int32_t in_n = n - before[0];
        for (int32_t h = 0; h < out->h; ++h) {
            const int32_t in_h = h - before[1];
            for (int32_t w = 0; w < out->w; ++w) {
                const int32_t in_w = w - before[2];
                if (in_n < 0 || in_n >= in->n || in_h < 0 || in_h >= in->h || in_w < 0 || in_w >= in->w) {
                    fill(output, out->c, value);
                } else {
                    const float *src = input + (((in_n * in->h) + in_h) * in->w + in_w) * in->c;
                    fill(output, before[3], value);
                    memcpy(output + before[3], src, (size_t)in->c * sizeof(float));
                    fill(output + before[3] + in->c, after_c, value);
                }
                output += out->c;
            }
        }
    }
}
