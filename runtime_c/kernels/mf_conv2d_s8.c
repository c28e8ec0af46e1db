#include "mf_conv2d_s8.h"

#include "mf_requant.h"

int32_t mf_conv2d_s8_get_buffer_size(const mf_conv2d_params *params)
{
    (void)params;
    return 0;
}

void mf_conv2d_s8(const mf_conv2d_params *params, const mf_per_channel_quant *quant, const int8_t *input,
                  const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch)
{
    (void)scratch; /* this file's kernel asks for none */
    const mf_dims in = params->input;
    const mf_dims fd = params->filter;
    const mf_dims out = params->output;
    const int32_t groups = in.c / fd.c;
    const int32_t filters_per_group = out.c / groups;

    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            for (int32_t x = 0; x < out.w; ++x) {
                const int32_t x0 = x * params->stride_w - params->pad_w;
                int8_t *out_px = output + ((b * out.h + y) * out.w + x) * out.c;
                for (int32_t o = 0; o < out.c; ++o) {
                    const int32_t in_c0 = (o / filters_per_group) * fd.c;
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < fd.h; ++ky) {
                        const int32_t iy = y0 + ky * params->dilation_h;
                        if (iy < 0 || iy >= in.h) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < fd.w; ++kx) {
                            const int32_t ix = x0 + kx * params->dilation_w;
                            if (ix < 0 || ix >= in.w) {
                                continue;
                            }
                            const int8_t *in_px = input + ((b * in.h + iy) * in.w + ix) * in.c + in_c0;
                            const int8_t *w_px = filter + ((o * fd.h + ky) * fd.w + kx) * fd.c;
                            for (int32_t i = 0; i < fd.c; ++i) {
                                acc += ((int32_t)in_px[i] + params->input_offset) * (int32_t)w_px[i];
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[o];
                    }
                    acc = mf_requantize(acc, quant->multiplier[o], quant->shift[o]) + params->output_offset;
                    out_px[o] = (int8_t)mf_clamp(acc, params->act_min, params->act_max);
                }
            }
        }
    }
}
