/*
 * int8 MEAN (reference kernel).
 *
 * Paths:
 * - contiguous: the (non-1) reduced dims are adjacent, so the input is [outer][red][inner] with the output
 *   [outer][inner] (global average pooling over H, W of NHWC: outer N, red H*W, inner C; the last axis: inner 1).
 *   Each output chunk of up to MF_MEAN_CHUNK inner elements keeps int32 sums in a stack array, added row by row
 *   (4 input rows per pass: a contiguous, vectorisable loop), then requantized. Cost ~ per input element.
 * - general: any other set of reduced dims, one block sum per output element.
 * Stack buffer: int32_t acc[MF_MEAN_CHUNK] (1 KB). Sums are exact in any order (count < 2^24, |x| <= 128).
 * Requantization as TFLM's QuantizedMeanOrSum (mf_requantize with the folded 1/count multiplier).
 */
#include "mf_mean_s8.h"

#include "mf_requant.h"

#define MF_MEAN_CHUNK 256 /* int32 sums: 1 KB of stack */

/* The int32 sum of the reduced block that starts at input[base]. */
static int32_t block_sum(const mf_mean_params *p, const int8_t *input, int32_t base)
{
    const int32_t *r = p->red_ext;
    const int32_t *s = p->strides;
    int32_t sum = 0;
    for (int32_t i0 = 0; i0 < r[0]; ++i0) {
        for (int32_t i1 = 0; i1 < r[1]; ++i1) {
            for (int32_t i2 = 0; i2 < r[2]; ++i2) {
                const int8_t *row = input + base + i0 * s[0] + i1 * s[1] + i2 * s[2];
                for (int32_t i3 = 0; i3 < r[3]; ++i3) {
                    sum += row[i3 * s[3]];
                }
            }
        }
    }
    return sum;
}

static int8_t mean_out(const mf_mean_params *p, int32_t sum)
{
    const int32_t out =
        mf_requantize(sum - p->input_offset_sum, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int8_t)mf_clamp(out, INT8_MIN, INT8_MAX);
}

/* The sum of n contiguous int8 values. */
static int32_t row_sum(const int8_t *x, int32_t n)
{
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i];
        s1 += x[i + 1];
        s2 += x[i + 2];
        s3 += x[i + 3];
    }
    for (; i < n; ++i) {
        s0 += x[i];
    }
    return s0 + s1 + s2 + s3;
}

/* input [outer][red][inner] -> output [outer][inner] */
static void mean_contiguous(const mf_mean_params *p, const int8_t *input, int8_t *output, int32_t outer,
                            int32_t red, int32_t inner)
{
    if (inner == 1) {
        for (int32_t o = 0; o < outer; ++o) {
            output[o] = mean_out(p, row_sum(input + o * red, red));
        }
        return;
    }
    int32_t acc[MF_MEAN_CHUNK];
    for (int32_t o = 0; o < outer; ++o) {
        const int8_t *block = input + o * red * inner;
        for (int32_t c0 = 0; c0 < inner; c0 += MF_MEAN_CHUNK) {
            const int32_t n = inner - c0 < MF_MEAN_CHUNK ? inner - c0 : MF_MEAN_CHUNK;
            const int8_t *x = block + c0;
            int32_t r = 0;
            if (red >= 2) {
                for (int32_t c = 0; c < n; ++c) {
                    acc[c] = (int32_t)x[c] + (int32_t)x[c + inner];
                }
                r = 2;
                x += 2 * inner;
            } else {
                for (int32_t c = 0; c < n; ++c) {
                    acc[c] = 0;
                }
            }
            for (; r + 4 <= red; r += 4) {
                const int8_t *x1 = x + inner, *x2 = x + 2 * inner, *x3 = x + 3 * inner;
                for (int32_t c = 0; c < n; ++c) {
                    acc[c] += ((int32_t)x[c] + (int32_t)x1[c]) + ((int32_t)x2[c] + (int32_t)x3[c]);
                }
                x += 4 * inner;
            }
            for (; r < red; ++r) {
                for (int32_t c = 0; c < n; ++c) {
                    acc[c] += x[c];
                }
                x += inner;
            }
            int8_t *out = output + o * inner + c0;
            for (int32_t c = 0; c < n; ++c) {
                out[c] = mean_out(p, acc[c]);
            }
        }
    }
}

void mf_mean_s8(const mf_mean_params *params, const int8_t *input, int8_t *output)
{
    const int32_t *e = params->out_ext;
    const int32_t *rx = params->red_ext;
    /* Classify the non-1 dims: kept* reduced* kept* is the contiguous case. */
    int32_t outer = 1, red = 1, inner = 1;
    int stage = 0; /* 0: leading kept dims, 1: reduced dims, 2: trailing kept dims */
    int contiguous = 1;
    for (int k = 0; k < 4; ++k) {
        if (rx[k] > 1) {
            if (stage == 2) {
                contiguous = 0;
            }
            stage = 1;
            red *= rx[k];
        } else if (e[k] > 1) {
            if (stage == 0) {
                outer *= e[k];
            } else {
                stage = 2;
                inner *= e[k];
            }
        }
    }
    if (contiguous) {
        mean_contiguous(params, input, output, outer, red, inner);
        return;
    }
    const int32_t *s = params->strides;
    for (int32_t o0 = 0; o0 < e[0]; ++o0) {
        for (int32_t o1 = 0; o1 < e[1]; ++o1) {
            for (int32_t o2 = 0; o2 < e[2]; ++o2) {
                for (int32_t o3 = 0; o3 < e[3]; ++o3) {
                    const int32_t base = o0 * s[0] + o1 * s[1] + o2 * s[2] + o3 * s[3];
                    *output++ = mean_out(params, block_sum(params, input, base));
                }
            }
        }
    }
}
