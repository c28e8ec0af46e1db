#include "mf_pad_s8.h"

#include <string.h>

void mf_pad_s8(const mf_pad_params *params, const int8_t *input, int8_t *output)
{
    const mf_dims *in = &params->input_dims;
    const mf_dims *out = &params->output_dims;
    const int32_t *before = params->pad_before;
    const int32_t after_c = out->c - in->c - before[3];
    const int8_t value = (int8_t)params->pad_value;
    const size_t row = (size_t)out->c; /* one output row along channels */

    for (int32_t n = 0; n < out->n; ++n) {
        const int32_t in_n = n - before[0];
        for (int32_t h = 0; h < out->h; ++h) {
            const int32_t in_h = h - before[1];
            for (int32_t w = 0; w < out->w; ++w) {
                const int32_t in_w = w - before[2];
                if (in_n < 0 || in_n >= in->n || in_h < 0 || in_h >= in->h || in_w < 0 || in_w >= in->w) {
                    memset(output, value, row);
                } else {
                    const int8_t *src = input + (((in_n * in->h) + in_h) * in->w + in_w) * in->c;
                    memset(output, value, (size_t)before[3]);
                    memcpy(output + before[3], src, (size_t)in->c);
                    memset(output + before[3] + in->c, value, (size_t)after_c);
                }
                output += row;
            }
        }
    }
}
