/**
 * @file arm_mve/mf_mean_s8.c
 * @brief Cortex-M55 Helium (MVE) variant of mf_mean_s8, bit-exact with runtime_c/kernels/mf_mean_s8.c.
 *
 * Paths:
 * - contiguous (the non-1 reduced dims adjacent: input [outer][red][inner], output [outer][inner], e.g. global
 *   average pooling over H, W of NHWC): per 16 kept channels, two int16x8 sums in registers over up to 256
 *   reduced rows (VLDRB.S16 + VADD per 8 channels, 6 instructions per row of 16: ~0.4 per input element), widened
 *   into int32 sums of the even and odd channels (VMOVLB/VMOVLT); the last < 16 channels 4 at a time in int32
 *   (the last group predicated). The sums are requantized 4 at a time (vector form of mf_requantize:
 *   left shift, VQRDMULH == SaturatingRoundingDoublingHighMul, a sign-fixed VRSHL == RoundingDivideByPOT with ties
 *   away from zero) + zero point, clamped, stored as bytes (scatter stores for the even / odd channels).
 *   inner == 1 (the last axis): VADDVA over 16 bytes per step. Cost ~ per input element 0.4 plus per output ~3.
 * - general (other axis sets): the reference loop, one block sum per output element.
 * No buffers. Sums are exact in any order (count < 2^24, |x| <= 128).
 */
#include "mf_mean_s8.h"

#include <arm_mve.h>

#include "mf_requant.h"

/* mf_requantize(x - offset_sum, m, shift) + zp per lane, clamped to int8 */
static inline int32x4_t mean_rq4(int32x4_t sum, const mf_mean_params *p)
{
    const int32_t shift = p->output_shift;
    const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : shift;
    int32x4_t x = vshlq_r_s32(vsubq_n_s32(sum, p->input_offset_sum), left);
    x = vqrdmulhq_n_s32(x, p->output_multiplier);
    if (right < 0) { /* negative values move down by one before the round-half-up shift: ties away from zero */
        x = vqaddq_s32(x, vshrq_n_s32(x, 31));
    }
    x = vrshlq_n_s32(x, right);
    x = vaddq_n_s32(x, p->output_offset);
    return vminq_s32(vmaxq_s32(x, vdupq_n_s32(INT8_MIN)), vdupq_n_s32(INT8_MAX));
}

/*
 * a0 += the 8 sign-extended bytes x[0..8), a1 += x[8..16), for n >= 1 rows of stride `stride`: a low-overhead loop
 * of 6 instructions per row (16 bytes). int16 sums: exact for n <= 256 rows (|sum| <= 256 * 128).
 */
static inline void mean_rows16(int16x8_t *a0, int16x8_t *a1, const int8_t *x, int32_t stride, int32_t n)
{
    int16x8_t s0 = *a0, s1 = *a1;
    __asm__ volatile("dls lr, %[n]\n"
                     "1:\n\t"
                     "vldrb.s16 q0, [%[x]]\n\t"
                     "vldrb.s16 q1, [%[x], #8]\n\t"
                     "vadd.i16 %q[s0], %q[s0], q0\n\t"
                     "vadd.i16 %q[s1], %q[s1], q1\n\t"
                     "add %[x], %[x], %[stride]\n\t"
                     "le lr, 1b\n"
                     : [s0] "+w"(s0), [s1] "+w"(s1), [x] "+l"(x)
                     : [n] "r"(n), [stride] "r"(stride)
                     : "q0", "q1", "lr", "memory");
    *a0 = s0;
    *a1 = s1;
}

static int8_t mean_out(const mf_mean_params *p, int32_t sum)
{
    const int32_t out =
        mf_requantize(sum - p->input_offset_sum, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int8_t)mf_clamp(out, INT8_MIN, INT8_MAX);
}

/* input [outer][red][inner] -> output [outer][inner] */
static void mean_contiguous(const mf_mean_params *p, const int8_t *input, int8_t *output, int32_t outer,
                            int32_t red, int32_t inner)
{
    if (inner == 1) {
        for (int32_t o = 0; o < outer; ++o) {
            const int8_t *x = input + o * red;
            int32_t sum = 0;
            for (int32_t n = red; n > 0; n -= 16) {
                sum = vaddvaq_p_s8(sum, vldrbq_z_s8(x, vctp8q((uint32_t)n)), vctp8q((uint32_t)n));
                x += 16;
            }
            output[o] = mean_out(p, sum);
        }
        return;
    }
    for (int32_t o = 0; o < outer; ++o) {
        const int8_t *block = input + o * red * inner;
        int8_t *out = output + o * inner;
        int32_t c = 0;
        for (; c + 16 <= inner; c += 16) {
            /* int32 sums of the even and odd channels of each 8-channel half, from int16 sums of <= 256 rows */
            int32x4_t e0 = vdupq_n_s32(0), o0 = e0, e1 = e0, o1 = e0;
            for (int32_t r = 0; r < red; r += 256) {
                int16x8_t a0 = vdupq_n_s16(0), a1 = a0;
                mean_rows16(&a0, &a1, block + c + r * inner, inner, red - r < 256 ? red - r : 256);
                e0 = vaddq_s32(e0, vmovlbq_s16(a0));
                o0 = vaddq_s32(o0, vmovltq_s16(a0));
                e1 = vaddq_s32(e1, vmovlbq_s16(a1));
                o1 = vaddq_s32(o1, vmovltq_s16(a1));
            }
            const uint32x4_t even = vidupq_n_u32(0, 2);
            vstrbq_scatter_offset_s32(out + c, even, mean_rq4(e0, p));
            vstrbq_scatter_offset_s32(out + c + 1, even, mean_rq4(o0, p));
            vstrbq_scatter_offset_s32(out + c + 8, even, mean_rq4(e1, p));
            vstrbq_scatter_offset_s32(out + c + 9, even, mean_rq4(o1, p));
        }
        for (; c < inner; c += 4) {
            const mve_pred16_t pr = vctp32q((uint32_t)(inner - c));
            const int8_t *x = block + c;
            int32x4_t s = vdupq_n_s32(0);
            for (int32_t r = 0; r < red; ++r) {
                s = vaddq_s32(s, vldrbq_z_s32(x, pr));
                x += inner;
            }
            vstrbq_p_s32(out + c, mean_rq4(s, p), pr);
        }
    }
}

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
