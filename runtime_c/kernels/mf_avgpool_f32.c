#include "mf_avgpool_f32.h"

#include "mf_float.h"

void mf_avgpool_f32(const mf_avgpool_f32_params *params, const float *input, float *output)
{
    const mf_avgpool_f32_params *p = params;
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *in_b = input + b * p->in_h * p->in_w * p->channels;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t fy_start = y0 < 0 ? -y0 : 0;
            const int32_t fy_end = p->filter_h < p->in_h - y0 ? p->filter_h : p->in_h - y0;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t fx_start = x0 < 0 ? -x0 : 0;
                const int32_t fx_end = p->filter_w < p->in_w - x0 ? p->filter_w : p->in_w - x0;
                const float count = (float)((fy_end - fy_start) * (fx_end - fx_start));
                for (int32_t c = 0; c < p->channels; ++c) {
                    float acc = 0.0f;
                    for (int32_t fy = fy_start; fy < fy_end; ++fy) {
                        /* an index, not a pointer: it is negative when the window starts left of the input */
                        const int32_t row = ((y0 + fy) * p->in_w + x0) * p->channels + c;
                        for (int32_t fx = fx_start; fx < fx_end; ++fx) {
                            acc += in_b[row + fx * p->channels];
                        }
                    }
                    *output++ = mf_clampf(acc / count, p->act_min, p->act_max);
                }
            }
        }
    }
}
