/**
 * @file arm_mve/mf_depthwise_conv2d_s8.c
 * @brief Cortex-M55 Helium (MVE) variant of mf_depthwise_conv2d_s8, bit-exact with
 *        runtime_c/kernels/mf_depthwise_conv2d_s8.c.
 *
 * Vectorised across channels, int32 lanes (an int8 x int8 product sum over the window needs 32 bits):
 *  - depth multiplier 1: 16 channels per pass in four accumulators; per valid tap, four VLDRB.S32 of the
 *    input, four of the filter and four VMLA (~0.9 instructions/MAC); the input offset is folded into
 *    acc = bias + off * sum(filter) for windows fully inside the input (stack, up to MVE_CORR_MAX channels),
 *    added to the input lanes otherwise. A tail of C % 16 channels runs predicated.
 *  - depth multiplier > 1: four output channels per pass, their input channels (o / M) fetched by a byte
 *    gather load (VLDRB.S32 with an offset vector), offset added in the lanes (~1.3 instructions/MAC).
 * Any filter size, stride, dilation, padding, batch. Requantization four channels at a time with VQRDMULH and
 * a sign-fixed VRSHL, bit-exact with mf_requantize. Outputs are written pixel by pixel, channels in
 * increasing order (the reference's order), so in-place arena plans hold.
 */
#include "mf_depthwise_conv2d_s8.h"

#include <arm_mve.h>

#include "mf_requant.h"

/* x * multiplier * 2^shift per lane, bit-exact with mf_requantize, then + offset, clamp, and store the
 * lanes enabled by p as int8. */
static inline void mve_requant_store(int32x4_t acc, const int32_t *mult, const int32_t *shift, int32_t out_off,
                                     int32_t lo, int32_t hi, int8_t *out, mve_pred16_t p)
{
    const int32x4_t m = vldrwq_z_s32(mult, p);
    const int32x4_t s = vldrwq_z_s32(shift, p);
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t right = vminq_s32(s, zero);
    int32x4_t x = vshlq_s32(acc, vmaxq_s32(s, zero));
    x = vqrdmulhq_s32(x, m);
    /* negative values move down by one before the round-half-up shift: ties go away from zero */
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right), 31));
    x = vrshlq_s32(x, right);
    x = vaddq_n_s32(x, out_off);
    x = vmaxq_s32(x, vdupq_n_s32(lo));
    x = vminq_s32(x, vdupq_n_s32(hi));
    vstrbq_p_s32(out, x, p);
}

static inline mve_pred16_t lanes(int32_t n)
{
    return vctp32q((uint32_t)(n > 0 ? n : 0));
}

/* Requantize 8 channels held as even (c0, c2, ..) and odd (c1, c3, ..) int32 lanes, store the first n. */
static inline void mve_requant_store8(int32x4_t even, int32x4_t odd, const mf_depthwise_conv2d_params *params,
                                      const mf_per_channel_quant *quant, int32_t c, int8_t *out, int32_t n)
{
    const int32_t *mult = quant->multiplier + c;
    const int32_t *shift = quant->shift + c;
    /* per-channel parameters of the even and odd channels: stride-2 gathers (word offsets 0, 2, 4, 6) */
    const uint32x4_t idx = vidupq_n_u32(0, 2);
    const mve_pred16_t pe = lanes((n + 1) / 2), po = lanes(n / 2);
    const int32x4_t r[2] = {even, odd};
    const mve_pred16_t pp[2] = {pe, po};
    int32x4_t q[2];
    for (int k = 0; k < 2; ++k) {
        const int32x4_t m = vldrwq_gather_shifted_offset_z_s32(mult + k, idx, pp[k]);
        const int32x4_t sh = vldrwq_gather_shifted_offset_z_s32(shift + k, idx, pp[k]);
        const int32x4_t zero = vdupq_n_s32(0);
        const int32x4_t right = vminq_s32(sh, zero);
        int32x4_t x = vshlq_s32(r[k], vmaxq_s32(sh, zero));
        x = vqrdmulhq_s32(x, m);
        x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right), 31));
        x = vrshlq_s32(x, right);
        x = vaddq_n_s32(x, params->output_offset);
        x = vmaxq_s32(x, vdupq_n_s32(params->act_min));
        q[k] = vminq_s32(x, vdupq_n_s32(params->act_max));
    }
    int16x8_t v = vdupq_n_s16(0);
    v = vmovnbq_s32(v, q[0]);
    v = vmovntq_s32(v, q[1]);
    vstrbq_p_s16(out, v, vctp16q((uint32_t)n));
}

/* Depth multiplier 1: for each output pixel, channels in chunks of 8 as int16 lanes; VMULLB/VMULLT give the
 * int32 products of the even and odd channels, (x + off) * w is exact since |x + off| <= 255. */
static void dw_mult1(const mf_depthwise_conv2d_params *params, const mf_per_channel_quant *quant,
                     const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t C = in.c;
    const int32_t kh = params->filter_h;
    const int32_t kw = params->filter_w;
    const int16_t off = (int16_t)params->input_offset;
    const uint32x4_t idx = vidupq_n_u32(0, 2);

    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *in_b = input + b * in.h * in.w * C;
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            int32_t ky0 = 0;
            while (ky0 < kh && y0 + ky0 * params->dilation_h < 0) {
                ++ky0;
            }
            int32_t ky1 = kh;
            while (ky1 > ky0 && y0 + (ky1 - 1) * params->dilation_h >= in.h) {
                --ky1;
            }
            for (int32_t x = 0; x < out.w; ++x) {
                const int32_t x0 = x * params->stride_w - params->pad_w;
                int32_t kx0 = 0;
                while (kx0 < kw && x0 + kx0 * params->dilation_w < 0) {
                    ++kx0;
                }
                int32_t kx1 = kw;
                while (kx1 > kx0 && x0 + (kx1 - 1) * params->dilation_w >= in.w) {
                    --kx1;
                }
                int8_t *out_px = output + ((b * out.h + y) * out.w + x) * C;
                const int32_t nkx = kx1 - kx0;
                const int32_t xstep = params->dilation_w * C;
                const int32_t ystep = params->dilation_h * in.w * C;
                const int8_t *x_first = in_b + ((y0 + ky0 * params->dilation_h) * in.w + x0 + kx0 * params->dilation_w) * C;
                const int8_t *w_first = filter + (ky0 * kw + kx0) * C;
                int32_t c = 0;
                for (; c + 16 <= C; c += 16) {
                    int32x4_t e0 = vdupq_n_s32(0), o0 = e0, e1 = e0, o1 = e0;
                    if (bias != NULL) {
                        e0 = vldrwq_gather_shifted_offset_s32(bias + c, idx);
                        o0 = vldrwq_gather_shifted_offset_s32(bias + c + 1, idx);
                        e1 = vldrwq_gather_shifted_offset_s32(bias + c + 8, idx);
                        o1 = vldrwq_gather_shifted_offset_s32(bias + c + 9, idx);
                    }
                    const int8_t *xr = x_first + c;
                    const int8_t *wr = w_first + c;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *xp = xr;
                        const int8_t *wp = wr;
                        for (int32_t k = 0; k < nkx; ++k) {
                            const int16x8_t x_0 = vaddq_n_s16(vldrbq_s16(xp), off);
                            const int16x8_t w_0 = vldrbq_s16(wp);
                            e0 = vaddq_s32(e0, vmullbq_int_s16(x_0, w_0));
                            o0 = vaddq_s32(o0, vmulltq_int_s16(x_0, w_0));
                            const int16x8_t x_1 = vaddq_n_s16(vldrbq_s16(xp + 8), off);
                            const int16x8_t w_1 = vldrbq_s16(wp + 8);
                            e1 = vaddq_s32(e1, vmullbq_int_s16(x_1, w_1));
                            o1 = vaddq_s32(o1, vmulltq_int_s16(x_1, w_1));
                            xp += xstep;
                            wp += C;
                        }
                        xr += ystep;
                        wr += kw * C;
                    }
                    mve_requant_store8(e0, o0, params, quant, c, out_px + c, 8);
                    mve_requant_store8(e1, o1, params, quant, c + 8, out_px + c + 8, 8);
                }
                for (; c < C; c += 8) {
                    const int32_t n = C - c < 8 ? C - c : 8;
                    const mve_pred16_t p = vctp16q((uint32_t)n);
                    int32x4_t even = vdupq_n_s32(0), odd = vdupq_n_s32(0);
                    if (bias != NULL) {
                        even = vldrwq_gather_shifted_offset_z_s32(bias + c, idx, lanes((n + 1) / 2));
                        odd = vldrwq_gather_shifted_offset_z_s32(bias + c + 1, idx, lanes(n / 2));
                    }
                    const int8_t *xr = x_first + c;
                    const int8_t *wr = w_first + c;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *xp = xr;
                        const int8_t *wp = wr;
                        for (int32_t k = 0; k < nkx; ++k) {
                            const int16x8_t xv = vaddq_n_s16(vldrbq_z_s16(xp, p), off);
                            const int16x8_t wv = vldrbq_z_s16(wp, p);
                            even = vaddq_s32(even, vmullbq_int_s16(xv, wv));
                            odd = vaddq_s32(odd, vmulltq_int_s16(xv, wv));
                            xp += xstep;
                            wp += C;
                        }
                        xr += ystep;
                        wr += kw * C;
                    }
                    mve_requant_store8(even, odd, params, quant, c, out_px + c, n);
                }
            }
        }
    }
}

/* Depth multiplier > 1: four output channels per pass; lane o reads input channel o / M by a gather load. */
static void dw_multn(const mf_depthwise_conv2d_params *params, const mf_per_channel_quant *quant,
                     const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t C = in.c;
    const int32_t OC = out.c;
    const int32_t M = params->depth_multiplier;
    const int32_t kh = params->filter_h;
    const int32_t kw = params->filter_w;
    const int32_t off = params->input_offset;
    const int32x4_t voff = vdupq_n_s32(off);

    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *in_b = input + b * in.h * in.w * C;
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            for (int32_t x = 0; x < out.w; ++x) {
                const int32_t x0 = x * params->stride_w - params->pad_w;
                int8_t *out_px = output + ((b * out.h + y) * out.w + x) * OC;
                for (int32_t o = 0; o < OC; o += 4) {
                    const mve_pred16_t p = lanes(OC - o);
                    const int32_t c0 = o / M;
                    /* lane i reads input channel (o + i) / M = c0 + offs[i] (clamped past the last channel) */
                    uint32_t offs_a[4];
                    for (int32_t i = 0; i < 4; ++i) {
                        const int32_t oi = o + i < OC ? o + i : OC - 1;
                        offs_a[i] = (uint32_t)(oi / M - c0);
                    }
                    const uint32x4_t offs = vld1q_u32(offs_a);
                    int32x4_t acc = bias != NULL ? vldrwq_z_s32(bias + o, p) : vdupq_n_s32(0);
                    for (int32_t ky = 0; ky < kh; ++ky) {
                        const int32_t iy = y0 + ky * params->dilation_h;
                        if (iy < 0 || iy >= in.h) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < kw; ++kx) {
                            const int32_t ix = x0 + kx * params->dilation_w;
                            if (ix < 0 || ix >= in.w) {
                                continue;
                            }
                            const int8_t *xp = in_b + (iy * in.w + ix) * C + c0;
                            const int32x4_t xv = vaddq_s32(vldrbq_gather_offset_s32(xp, offs), voff);
                            acc = vaddq_s32(acc, vmulq_s32(xv, vldrbq_z_s32(filter + (ky * kw + kx) * OC + o, p)));
                        }
                    }
                    mve_requant_store(acc, quant->multiplier + o, quant->shift + o, params->output_offset,
                                      params->act_min, params->act_max, out_px + o, p);
                }
            }
        }
    }
}

void mf_depthwise_conv2d_s8(const mf_depthwise_conv2d_params *params, const mf_per_channel_quant *quant,
                            const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output)
{
    if (params->depth_multiplier == 1) {
        dw_mult1(params, quant, input, filter, bias, output);
    } else {
        dw_multn(params, quant, input, filter, bias, output);
    }
}
