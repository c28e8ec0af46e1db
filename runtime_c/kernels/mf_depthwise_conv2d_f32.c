#include "mf_depthwise_conv2d_f32.h"

#include "mf_float.h"

void mf_depthwise_conv2d_f32(const mf_depthwise_conv2d_f32_params *params, const float *input, const float *filter,
                             const float *bias, float *output)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t mult = params->depth_multiplier;

    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            for (int32_t x = 0; x < out.w; ++x) {
                const int32_t x0 = x * params->stride_w - params->pad_w;
                float *out_px = output + ((b * out.h + y) * out.w + x) * out.c;
                for (int32_t c = 0; c < in.c; ++c) {
                    for (int32_t m = 0; m < mult; ++m) {
                        const int32_t o = c * mult + m;
                        float acc = 0.0f;
                        for (int32_t ky = 0; ky < params->filter_h; ++ky) {
                            const int32_t iy = y0 + ky * params->dilation_h;
                            if (iy < 0 || iy >= in.h) {
                                continue;
                            }
                            for (int32_t kx = 0; kx < params->filter_w; ++kx) {
                                const int32_t ix = x0 + kx * params->dilation_w;
                                if (ix < 0 || ix >= in.w) {
                                    continue;
                                }
                                acc += input[((b * in.h + iy) * in.w + ix) * in.c + c] *
                                       filter[(ky * params->filter_w + kx) * out.c + o];
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
}
