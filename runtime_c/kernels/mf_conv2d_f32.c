#include "mf_conv2d_f32.h"

#include "mf_float.h"

void mf_conv2d_f32(const mf_conv2d_f32_params *params, const float *input, const float *filter, const float *bias,
                   float *output)
{
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
                float *out_px = output + ((b * out.h + y) * out.w + x) * out.c;
                for (int32_t o = 0; o < out.c; ++o) {
                    const int32_t in_c0 = (o / filters_per_group) * fd.c;
                    float acc = 0.0f;
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
                            const float *in_px = input + ((b * in.h + iy) * in.w + ix) * in.c + in_c0;
                            const float *w_px = filter + ((o * fd.h + ky) * fd.w + kx) * fd.c;
                            for (int32_t i = 0; i < fd.c; ++i) {
                                acc += in_px[i] * w_px[i];
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[o];
                    }
                    out_px[o] = mf_clampf(acc, params->act_min, params->act_max);
                }
            }
        }
    }
}
