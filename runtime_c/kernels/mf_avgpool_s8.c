/*
 * int8 AVERAGE_POOL_2D (reference kernel).
 *
 * Paths:
 * - channels >= MF_AVGPOOL_MIN_C: per output pixel and chunk of up to MF_AVGPOOL_CHUNK channels, int32 sums in a
 *   stack array, added over contiguous channel runs, 4 window taps per pass (a contiguous, vectorisable loop),
 *   then divided. Cost ~ per tap x channel (MAC) plus per output element (the rounding division)
 *   plus per output pixel and tap row.
 * - fewer channels: one window sum per output element.
 * Stack buffer: int32_t acc[MF_AVGPOOL_CHUNK] (1 KB).
 * In-place order (ops/average_pool2d.py inplace_reads): the outputs of a pixel's chunk are written after all of the
 * chunk's reads; after writing channel c of a pixel, only channels of later chunks and later pixels are read, which
 * the per-element order also reads after writing c.
 */
#include "mf_avgpool_s8.h"

#include "mf_requant.h"

#define MF_AVGPOOL_CHUNK 256 /* int32 sums: 1 KB of stack */
#define MF_AVGPOOL_MIN_C 4

/* Round half away from zero; C division truncates toward zero. */
static int8_t avg_out(const mf_avgpool_params *p, int32_t acc, int32_t count)
{
    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    return (int8_t)mf_clamp(acc, p->act_min, p->act_max);
}

/* acc[c] (=, or += when !init) the sum of the k <= 4 taps x[0..k)[c], c in [0, nc) */
static void add_taps(int32_t *acc, const int8_t *const *x, int32_t k, int32_t nc, int init)
{
    const int8_t *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
    if (k == 4) {
        if (init) {
            for (int32_t c = 0; c < nc; ++c) {
                acc[c] = ((int32_t)x0[c] + (int32_t)x1[c]) + ((int32_t)x2[c] + (int32_t)x3[c]);
            }
        } else {
            for (int32_t c = 0; c < nc; ++c) {
                acc[c] += ((int32_t)x0[c] + (int32_t)x1[c]) + ((int32_t)x2[c] + (int32_t)x3[c]);
            }
        }
    } else if (k == 3) {
        if (init) {
            for (int32_t c = 0; c < nc; ++c) {
                acc[c] = (int32_t)x0[c] + (int32_t)x1[c] + (int32_t)x2[c];
            }
        } else {
            for (int32_t c = 0; c < nc; ++c) {
                acc[c] += (int32_t)x0[c] + (int32_t)x1[c] + (int32_t)x2[c];
            }
        }
    } else if (k == 2) {
        if (init) {
            for (int32_t c = 0; c < nc; ++c) {
                acc[c] = (int32_t)x0[c] + (int32_t)x1[c];
            }
        } else {
            for (int32_t c = 0; c < nc; ++c) {
                acc[c] += (int32_t)x0[c] + (int32_t)x1[c];
            }
        }
    } else {
        if (init) {
            for (int32_t c = 0; c < nc; ++c) {
                acc[c] = x0[c];
            }
        } else {
            for (int32_t c = 0; c < nc; ++c) {
                acc[c] += x0[c];
            }
        }
    }
}

/* acc[c] = the sum over a window of rows x cols in-bounds taps starting at base (tap steps row_stride and
 * col_stride), for the channels c in [0, nc); rows, cols >= 1. The taps are taken 4 at a time in row-major order. */
static void window_sums(int32_t *acc, const int8_t *base, int32_t nc, int32_t row_stride, int32_t col_stride,
                        int32_t rows, int32_t cols)
{
    const int8_t *x[4];
    const int8_t *row = base;
    int32_t t = 0, r = 0;
    int init = 1;
    while (r < rows) {
        int32_t k = 0;
        while (k < 4 && r < rows) {
            x[k++] = row + t * col_stride;
            if (++t == cols) {
                t = 0;
                ++r;
                row += row_stride;
            }
        }
        for (int32_t j = k; j < 4; ++j) {
            x[j] = x[0];
        }
        add_taps(acc, x, k, nc, init);
        init = 0;
    }
}

void mf_avgpool_s8(const mf_avgpool_params *params, const int8_t *input, int8_t *output)
{
    const mf_avgpool_params *p = params;
    const int32_t C = p->channels;
    int32_t acc[MF_AVGPOOL_CHUNK];
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * C;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t fy_start = y0 < 0 ? -y0 : 0;
            const int32_t fy_end = p->filter_h < p->in_h - y0 ? p->filter_h : p->in_h - y0;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t fx_start = x0 < 0 ? -x0 : 0;
                const int32_t fx_end = p->filter_w < p->in_w - x0 ? p->filter_w : p->in_w - x0;
                const int32_t count = (fy_end - fy_start) * (fx_end - fx_start);
                if (C >= MF_AVGPOOL_MIN_C) {
                    /* the first in-bounds tap of the window, channel 0 */
                    const int8_t *first = in_b + ((y0 + fy_start) * p->in_w + x0 + fx_start) * C;
                    for (int32_t c0 = 0; c0 < C; c0 += MF_AVGPOOL_CHUNK) {
                        const int32_t nc = C - c0 < MF_AVGPOOL_CHUNK ? C - c0 : MF_AVGPOOL_CHUNK;
                        window_sums(acc, first + c0, nc, p->in_w * C, C, fy_end - fy_start, fx_end - fx_start);
                        for (int32_t c = 0; c < nc; ++c) {
                            *output++ = avg_out(p, acc[c], count);
                        }
                    }
                    continue;
                }
                for (int32_t c = 0; c < C; ++c) {
                    int32_t sum = 0;
                    for (int32_t fy = fy_start; fy < fy_end; ++fy) {
                        /* an index, not a pointer: it is negative when the window starts left of the input */
                        const int32_t row = ((y0 + fy) * p->in_w + x0) * C + c;
                        for (int32_t fx = fx_start; fx < fx_end; ++fx) {
                            sum += in_b[row + fx * C];
                        }
                    }
                    *output++ = avg_out(p, sum, count);
                }
            }
        }
    }
}
