/**
 * @file riscv/mf_depthwise_conv2d_s8.c
 * @brief mf_depthwise_conv2d_s8 for RV32IMC (ESP32-C3): unrolled, register-blocked portable C (no SIMD).
 *
 * Specialised: 3x3 filters, depth multiplier 1, dilation 1, stride_w 1 or 2 (MobileNet / DS-CNN blocks).
 * Interior pixels (whole window inside the input, no bounds checks) run 4 horizontally adjacent output pixels
 * per channel: the 9 weights are loaded once for the 4 pixels and each loaded input column feeds every pixel
 * whose window holds it (stride 1: 18 input loads for 36 MACs; stride 2: 27). input_offset is folded as
 * input_offset * sum(w) into the bias once per channel (9 adds instead of one per input). For C in
 * {8, 16, 32, 64, 128} the channel stride is a compile-time constant, so every tap is a load with an immediate
 * offset. Expected ~3.3 instructions/MAC (stride 1) in the MAC part plus ~20 per output for requantization:
 * ~5.5-6 instructions/MAC overall, vs ~28-31 for the reference kernel.
 * Groups whose first window starts one column left of the input, or whose last ends one column past it (SAME
 * padding, multiplier 1) run the same group with the missing column read as the padding value -input_offset
 * (its product with the folded offset cancels): every pixel of a 48-wide row is grouped, and narrow maps (DS-CNN's
 * 25x5: 4 of 5 pixels; was 13.5 instructions/MAC, now 9.4) stop falling back to one pixel at a time.
 * Stride-1 edge groups have compile-time instances for C in {8, 16, 32, 64, 128} (DS-CNN dw 8.3 -> 7.3
 * instructions/MAC; +12 KB of code). Leftover single pixels whose window clips at most one column run
 * straight-line taps per channel (rv_dw3x3_single).
 * 3x3 with a 1-channel input and depth multiplier 8 (first layers of 1-channel MobileNets such as person_detect)
 * uses the same 4-pixel groups, output channel o reading input channel o / 8: ~8.4 instructions/MAC (was 12.8).
 * Generic path (edges, leftover pixels, other filter sizes, dilation, depth multipliers): one pixel at a time
 * over its valid taps only; depth multipliers divisible by 4 share each input load between 4 output channels.
 *
 * In-place safety (ops/_inplace.py): outputs are written pixel by pixel, channel by channel; when the output
 * buffer overlaps the input, the 3 later pixels of a group go to a stack buffer (C <= MF_RV_GROUP_MAX) and are
 * copied out once the first pixel is complete. Requantization: an exact rewrite of mf_requantize (bit-exact).
 */
#include "mf_depthwise_conv2d_s8.h"

#include "mf_requant.h"

#define MF_RV_GROUP_MAX 256 /* largest C whose later-pixel outputs are staged on the stack */

#if defined(__GNUC__)
#define RV_BARRIER() __asm__ __volatile__("" ::: "memory")
#define RV_INLINE static inline __attribute__((always_inline))
#define RV_NOINLINE static __attribute__((noinline))
#else
#define RV_NOINLINE static
#define RV_BARRIER() ((void)0)
#define RV_INLINE static inline
#endif

/* ------------------------------------------------------------------------------------ requantization */

typedef struct {
    int32_t bias;
    int32_t mult;
    int32_t left;  /* left shift, >= 0 */
    int32_t right; /* right shift, >= 0 */
    uint32_t mask; /* 2^right - 1 */
    uint32_t half; /* mask >> 1: the remainder threshold of a non-negative value */
    int32_t k4;    /* single-rounding form (right shift r in [1, 30]): 1 + 2^r */
    int32_t rm1;   /* r - 1 */
    int32_t one;   /* r in [1, 30]: the single-rounding form applies */
} rv_rq;

static inline rv_rq rv_rq_load(const mf_per_channel_quant *quant, const int32_t *bias, int32_t o)
{
    rv_rq q;
    const int32_t shift = quant->shift[o];
    q.bias = bias != NULL ? bias[o] : 0;
    q.mult = quant->multiplier[o];
    q.left = shift > 0 ? shift : 0;
    q.right = shift > 0 ? 0 : -shift;
    q.mask = ((uint32_t)1 << q.right) - 1u;
    q.half = q.mask >> 1;
    q.one = (uint32_t)(q.right - 1) < 30u;
    q.k4 = q.one ? 1 + ((int32_t)1 << q.right) : 0;
    q.rm1 = q.right - 1;
    return q;
}

#if defined(__GNUC__)
#define RV_UNLIKELY(c) __builtin_expect(!!(c), 0)
#else
#define RV_UNLIKELY(c) (c)
#endif

/** v clamped to [lo, hi]: one unsigned compare when inside (the common case), 2 instructions instead of ~6. */
static inline int8_t rv_clamp(int32_t v, int32_t lo, int32_t hi)
{
    if (RV_UNLIKELY((uint32_t)v - (uint32_t)lo > (uint32_t)(hi - lo))) {
        v = v < lo ? lo : hi;
    }
    return (int8_t)v;
}

/* Exact mf_requantize(acc + bias) + output_offset, clamped (see riscv/mf_conv2d_s8.c for the derivation). */
static inline int8_t rv_requant(const rv_rq *q, int32_t acc, int32_t out_off, int32_t lo, int32_t hi)
{
    /* right shift in [1, 30]: one rounding (derivation in riscv/mf_conv2d_s8.c) */
    if (q->one) {
        const int32_t x = acc + q->bias;
        const int64_t ab = (int64_t)x * q->mult;
        const int32_t t = (int32_t)((uint32_t)ab >> 30);
        int32_t v = ((int32_t)(ab >> 32) + ((t + 2 * (x >> 31) + q->k4) >> 2)) >> q->rm1;
        return rv_clamp(v + out_off, lo, hi);
    }
    const int32_t x = (int32_t)((uint32_t)(acc + q->bias) << q->left);
    /* floor((x*M + 2^30) / 2^31) = 2*hi + bit31(lo) + bit30(lo) = 2*hi + ((lo >> 30) + 1) / 2: 7 instructions */
    const int64_t ab = (int64_t)x * q->mult;
    const int32_t h = (int32_t)(((uint32_t)(ab >> 32) << 1) + ((((uint32_t)ab >> 30) + 1) >> 1));
    /* rounding division as TFLM's RoundingDivideByPOT: + 1 when the remainder exceeds half (+1 if negative) */
    int32_t v = (h >> q->right) + (((uint32_t)h & q->mask) > q->half + ((uint32_t)h >> 31) ? 1 : 0);
    return rv_clamp(v + out_off, lo, hi);
}

/* --------------------------------------------------------------------------------- generic, one pixel */

/** All output channels of one pixel over its valid taps [ky0, ky1) x [kx0, kx1); origin = input of tap (0, 0). */
RV_NOINLINE void rv_dw_pixel(const mf_depthwise_conv2d_params *p, const mf_per_channel_quant *quant,
                             const int8_t *origin, int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1,
                             const int8_t *filter, const int32_t *bias, int8_t *dst)
{
    const int32_t cin = p->input.c;
    const int32_t cout = p->output.c;
    const int32_t mult = p->depth_multiplier;
    const int32_t off = p->input_offset;
    const int32_t ty = p->dilation_h * p->input.w * cin; /* input bytes between kernel rows */
    const int32_t tx = p->dilation_w * cin;               /* input bytes between kernel columns */
    const int32_t wy = p->filter_w * cout;                /* filter bytes between kernel rows */
    const int32_t oo = p->output_offset;
    const int32_t lo = p->act_min;
    const int32_t hi = p->act_max;
    const mf_per_channel_quant qp = *quant; /* locals: the int8 stores below may alias anything */
    for (int32_t c = 0; c < cin; ++c) {
        int32_t m = 0;
        for (; m + 8 <= mult; m += 8) {
            const int32_t o = c * mult + m;
            int32_t s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
            for (int32_t ky = ky0; ky < ky1; ++ky) {
                const int8_t *ip = origin + ky * ty + kx0 * tx + c;
                const int8_t *wp = filter + ky * wy + kx0 * cout + o;
                for (int32_t kx = kx0; kx < kx1; ++kx) {
                    const int32_t x = (int32_t)*ip + off;
                    s0 += x * wp[0];
                    s1 += x * wp[1];
                    s2 += x * wp[2];
                    s3 += x * wp[3];
                    s4 += x * wp[4];
                    s5 += x * wp[5];
                    s6 += x * wp[6];
                    s7 += x * wp[7];
                    ip += tx;
                    wp += cout;
                }
            }
            s[0] = s0;
            s[1] = s1;
            s[2] = s2;
            s[3] = s3;
            s[4] = s4;
            s[5] = s5;
            s[6] = s6;
            s[7] = s7;
            for (int32_t j = 0; j < 8; ++j) {
                const rv_rq q = rv_rq_load(&qp, bias, o + j);
                dst[o + j] = rv_requant(&q, s[j], oo, lo, hi);
            }
        }
        for (; m + 4 <= mult; m += 4) {
            const int32_t o = c * mult + m;
            int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int32_t ky = ky0; ky < ky1; ++ky) {
                const int8_t *ip = origin + ky * ty + kx0 * tx + c;
                const int8_t *wp = filter + ky * wy + kx0 * cout + o;
                for (int32_t kx = kx0; kx < kx1; ++kx) {
                    const int32_t x = (int32_t)*ip + off;
                    s0 += x * wp[0];
                    s1 += x * wp[1];
                    s2 += x * wp[2];
                    s3 += x * wp[3];
                    ip += tx;
                    wp += cout;
                }
            }
            rv_rq q = rv_rq_load(&qp, bias, o);
            dst[o] = rv_requant(&q, s0, oo, lo, hi);
            q = rv_rq_load(&qp, bias, o + 1);
            dst[o + 1] = rv_requant(&q, s1, oo, lo, hi);
            q = rv_rq_load(&qp, bias, o + 2);
            dst[o + 2] = rv_requant(&q, s2, oo, lo, hi);
            q = rv_rq_load(&qp, bias, o + 3);
            dst[o + 3] = rv_requant(&q, s3, oo, lo, hi);
        }
        for (; m < mult; ++m) {
            const int32_t o = c * mult + m;
            int32_t s = 0;
            for (int32_t ky = ky0; ky < ky1; ++ky) {
                const int8_t *ip = origin + ky * ty + kx0 * tx + c;
                const int8_t *wp = filter + ky * wy + kx0 * cout + o;
                for (int32_t kx = kx0; kx < kx1; ++kx) {
                    s += ((int32_t)*ip + off) * (int32_t)*wp;
                    ip += tx;
                    wp += cout;
                }
            }
            const rv_rq q = rv_rq_load(&qp, bias, o);
            dst[o] = rv_requant(&q, s, oo, lo, hi);
        }
    }
}

/* --------------------------------------------------------------- 3x3, multiplier 1: 4 pixels per channel */

/* One kernel row for 4 pixels: r = input row at the group's first column (channel c), wr = the row's weights. */
#define RV_ROW_S1(r, wr, C, CI, E)                                                                           \
    do {                                                                                                     \
        const int32_t wa = (wr)[0], wb = (wr)[(C)], wc = (wr)[2 * (C)];                                      \
        int32_t v = (E) == 1 ? npad : (r)[0];                                                                \
        a0 += v * wa;                                                                                        \
        v = (r)[(CI)];                                                                                       \
        a0 += v * wb;                                                                                        \
        a1 += v * wa;                                                                                        \
        v = (r)[2 * (CI)];                                                                                   \
        a0 += v * wc;                                                                                        \
        a1 += v * wb;                                                                                        \
        a2 += v * wa;                                                                                        \
        v = (r)[3 * (CI)];                                                                                   \
        a1 += v * wc;                                                                                        \
        a2 += v * wb;                                                                                        \
        a3 += v * wa;                                                                                        \
        v = (r)[4 * (CI)];                                                                                   \
        a2 += v * wc;                                                                                        \
        a3 += v * wb;                                                                                        \
        v = (E) == 2 ? npad : (r)[5 * (CI)];                                                                 \
        a3 += v * wc;                                                                                        \
        wsum += wa + wb + wc;                                                                                \
        RV_BARRIER();                                                                                        \
    } while (0)

#define RV_ROW_S2(r, wr, C, CI, E)                                                                           \
    do {                                                                                                     \
        const int32_t wa = (wr)[0], wb = (wr)[(C)], wc = (wr)[2 * (C)];                                      \
        int32_t v = (E) == 1 ? npad : (r)[0];                                                                \
        a0 += v * wa;                                                                                        \
        v = (r)[(CI)];                                                                                       \
        a0 += v * wb;                                                                                        \
        v = (r)[2 * (CI)];                                                                                   \
        a0 += v * wc;                                                                                        \
        a1 += v * wa;                                                                                        \
        v = (r)[3 * (CI)];                                                                                   \
        a1 += v * wb;                                                                                        \
        v = (r)[4 * (CI)];                                                                                   \
        a1 += v * wc;                                                                                        \
        a2 += v * wa;                                                                                        \
        v = (r)[5 * (CI)];                                                                                   \
        a2 += v * wb;                                                                                        \
        v = (r)[6 * (CI)];                                                                                   \
        a2 += v * wc;                                                                                        \
        a3 += v * wa;                                                                                        \
        v = (r)[7 * (CI)];                                                                                   \
        a3 += v * wb;                                                                                        \
        v = (E) == 2 ? npad : (r)[8 * (CI)];                                                                 \
        a3 += v * wc;                                                                                        \
        wsum += wa + wb + wc;                                                                                \
        RV_BARRIER();                                                                                        \
    } while (0)

/**
 * 4 adjacent interior output pixels, all C channels. in0 = input of the first pixel's tap (0, 0), channel 0;
 * row = input bytes per row; dst0 = first pixel's output; dst1 = where the 3 others go (3*C bytes, pixel-major).
 */
RV_INLINE void rv_dw3x3_group(const mf_depthwise_conv2d_params *p, const mf_per_channel_quant *quant,
                              const int8_t *in0, int32_t row, const int8_t *filter, const int32_t *bias, int8_t *dst0,
                              int8_t *dst1, int32_t ky0, int32_t ky1, const int32_t C, const int32_t stride,
                              const int32_t CI, const int32_t M, const int32_t E)
{
    const mf_per_channel_quant qp = *quant; /* locals: the int8 stores below may alias anything */
    const int row0 = ky0 == 0;
    const int row1 = ky0 <= 1 && ky1 >= 2;
    const int row2 = ky1 == 3;
    const int32_t off = p->input_offset;
    const int32_t npad = -off; /* a padding tap: (npad + off) * w = 0 with input_offset folded into the bias */
    const int32_t oo = p->output_offset;
    const int32_t lo = p->act_min;
    const int32_t hi = p->act_max;
    const int8_t *r0 = in0;
    const int8_t *r1 = in0 + row;
    const int8_t *r2 = r1 + row;
    const int8_t *w = filter;
    for (int32_t c = 0; c < C; ++c) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, wsum = 0;
        if (M != 1) { /* output channel c reads input channel c / M */
            r0 = in0 + c / M;
            r1 = r0 + row;
            r2 = r1 + row;
        }
        if (stride == 1) {
            if (row0) {
                RV_ROW_S1(r0, w, C, CI, E);
            }
            if (row1) {
                RV_ROW_S1(r1, w + 3 * C, C, CI, E);
            }
            if (row2) {
                RV_ROW_S1(r2, w + 6 * C, C, CI, E);
            }
        } else {
            if (row0) {
                RV_ROW_S2(r0, w, C, CI, E);
            }
            if (row1) {
                RV_ROW_S2(r1, w + 3 * C, C, CI, E);
            }
            if (row2) {
                RV_ROW_S2(r2, w + 6 * C, C, CI, E);
            }
        }
        rv_rq q = rv_rq_load(&qp, bias, c);
        q.bias += off * wsum; /* sum((x + off) * w) = sum(x * w) + off * sum(w), exact in int32 */
        dst0[c] = rv_requant(&q, a0, oo, lo, hi);
        dst1[c] = rv_requant(&q, a1, oo, lo, hi);
        dst1[C + c] = rv_requant(&q, a2, oo, lo, hi);
        dst1[2 * C + c] = rv_requant(&q, a3, oo, lo, hi);
        ++r0;
        ++r1;
        ++r2;
        ++w;
    }
}

/* One kernel row for 1 pixel; E = 1 / 2: the first / last column is padding (-input_offset). */
#define RV_ROW_P1(r, wr, C, E)                                                                               \
    do {                                                                                                     \
        const int32_t wa = (wr)[0], wb = (wr)[(C)], wc = (wr)[2 * (C)];                                      \
        int32_t v = (E) == 1 ? npad : (r)[0];                                                                \
        a0 += v * wa;                                                                                        \
        v = (r)[(C)];                                                                                        \
        a0 += v * wb;                                                                                        \
        v = (E) == 2 ? npad : (r)[2 * (C)];                                                                  \
        a0 += v * wc;                                                                                        \
        wsum += wa + wb + wc;                                                                                \
    } while (0)

/**
 * One output pixel (all channels) of a 3x3, multiplier-1 depthwise conv whose window is whole horizontally or
 * clips one column (E = 1 left, 2 right; read as the padding value): straight-line taps per channel instead of
 * rv_dw3x3_one's loops (the leftover pixels of rows whose width is not a multiple of 4, e.g. DS-CNN's 25x5).
 */
RV_INLINE void rv_dw3x3_single_e(const mf_depthwise_conv2d_params *p, const mf_per_channel_quant *quant,
                                 const int8_t *in0, int32_t row, const int8_t *filter, const int32_t *bias,
                                 int8_t *dst, int32_t ky0, int32_t ky1, const int32_t E)
{
    const mf_per_channel_quant qp = *quant; /* locals: the int8 stores below may alias anything */
    const int32_t C = p->input.c;
    const int row0 = ky0 == 0;
    const int row1 = ky0 <= 1 && ky1 >= 2;
    const int row2 = ky1 == 3;
    const int32_t off = p->input_offset;
    const int32_t npad = -off;
    const int32_t oo = p->output_offset;
    const int32_t lo = p->act_min;
    const int32_t hi = p->act_max;
    const int8_t *r0 = in0;
    const int8_t *r1 = in0 + row;
    const int8_t *r2 = r1 + row;
    const int8_t *w = filter;
    for (int32_t c = 0; c < C; ++c) {
        int32_t a0 = 0, wsum = 0;
        if (row0) {
            RV_ROW_P1(r0, w, C, E);
        }
        if (row1) {
            RV_ROW_P1(r1, w + 3 * C, C, E);
        }
        if (row2) {
            RV_ROW_P1(r2, w + 6 * C, C, E);
        }
        rv_rq q = rv_rq_load(&qp, bias, c);
        q.bias += off * wsum;
        dst[c] = rv_requant(&q, a0, oo, lo, hi);
        ++r0;
        ++r1;
        ++r2;
        ++w;
    }
}

static void rv_dw3x3_single(const mf_depthwise_conv2d_params *p, const mf_per_channel_quant *quant,
                            const int8_t *in0, int32_t row, const int8_t *filter, const int32_t *bias, int8_t *dst,
                            int32_t ky0, int32_t ky1, int32_t edge)
{
    if (edge == 1) {
        rv_dw3x3_single_e(p, quant, in0, row, filter, bias, dst, ky0, ky1, 1);
    } else if (edge == 2) {
        rv_dw3x3_single_e(p, quant, in0, row, filter, bias, dst, ky0, ky1, 2);
    } else {
        rv_dw3x3_single_e(p, quant, in0, row, filter, bias, dst, ky0, ky1, 0);
    }
}

/**
 * One output pixel of a 3x3, multiplier-1 depthwise conv over valid rows [ky0, ky1) and `ncols` (1..3) valid
 * columns starting at input column pointer `in0` (channel 0 of the first valid column of kernel row 0) and
 * filter column pointer `f0` (first valid column of kernel row 0). input_offset is folded via sum(w).
 */
static void rv_dw3x3_one(const mf_depthwise_conv2d_params *p, const mf_per_channel_quant *quant, const int8_t *in0,
                         int32_t row, const int8_t *f0, const int32_t *bias, int32_t ky0, int32_t ky1, int32_t ncols,
                         int8_t *dst)
{
    const mf_per_channel_quant qp = *quant;
    const int32_t C = p->input.c;
    const int32_t off = p->input_offset;
    const int32_t oo = p->output_offset;
    const int32_t lo = p->act_min;
    const int32_t hi = p->act_max;
    const int32_t nrows = ky1 - ky0;
    const int8_t *r0 = in0 + ky0 * row;
    const int8_t *w0 = f0 + ky0 * 3 * C;
    for (int32_t c = 0; c < C; ++c) {
        int32_t a = 0;
        int32_t wsum = 0;
        const int8_t *r = r0 + c;
        const int8_t *w = w0 + c;
        for (int32_t k = 0; k < nrows; ++k) {
            int32_t v = w[0];
            a += r[0] * v;
            wsum += v;
            if (ncols > 1) {
                v = w[C];
                a += r[C] * v;
                wsum += v;
                if (ncols > 2) {
                    v = w[2 * C];
                    a += r[2 * C] * v;
                    wsum += v;
                }
            }
            r += row;
            w += 3 * C;
        }
        rv_rq q = rv_rq_load(&qp, bias, c);
        q.bias += off * wsum;
        dst[c] = rv_requant(&q, a, oo, lo, hi);
    }
}

/* The group kernel with the channel count and stride as compile-time constants where common. */
static void rv_dw3x3_dispatch(const mf_depthwise_conv2d_params *p, const mf_per_channel_quant *quant,
                              const int8_t *in0, int32_t row, const int8_t *filter, const int32_t *bias, int8_t *dst0,
                              int8_t *dst1, int32_t ky0, int32_t ky1)
{
    const int32_t C = p->input.c;
    if (C == 1 && p->depth_multiplier == 8) { /* first layers of 1-channel-input MobileNets */
        if (p->stride_w == 1) {
            rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, 8, 1, 1, 8, 0);
        } else {
            rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, 8, 2, 1, 8, 0);
        }
        return;
    }
    if (p->stride_w == 1) {
        switch (C) {
        case 8: rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, 8, 1, 8, 1, 0); return;
        case 16: rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, 16, 1, 16, 1, 0); return;
        case 32: rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, 32, 1, 32, 1, 0); return;
        case 64: rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, 64, 1, 64, 1, 0); return;
        case 128: rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, 128, 1, 128, 1, 0); return;
        default: rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, C, 1, C, 1, 0); return;
        }
    }
    switch (C) {
    case 8: rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, 8, 2, 8, 1, 0); return;
    case 16: rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, 16, 2, 16, 1, 0); return;
    case 32: rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, 32, 2, 32, 1, 0); return;
    case 64: rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, 64, 2, 64, 1, 0); return;
    case 128: rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, 128, 2, 128, 1, 0); return;
    default: rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, C, 2, C, 1, 0); return;
    }
}

/*
 * The 4-pixel group whose first window starts one column left of the input (E = 1) or whose last window ends
 * one column past it (E = 2): the missing column reads as the padding value (-input_offset). Channel count at
 * run time (edges are a small share of the pixels; keeps the code small).
 */
static void rv_dw3x3_edge(const mf_depthwise_conv2d_params *p, const mf_per_channel_quant *quant, const int8_t *in0,
                          int32_t row, const int8_t *filter, const int32_t *bias, int8_t *dst0, int8_t *dst1,
                          int32_t ky0, int32_t ky1, int32_t edge)
{
    const int32_t C = p->input.c;
    if (p->stride_w == 1) { /* compile-time channel counts: immediate tap offsets (DS-CNN's rows are all edges) */
#define RV_EDGE_CASE(N)                                                                                      \
    case N:                                                                                                  \
        if (edge == 1) {                                                                                     \
            rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, N, 1, N, 1, 1);           \
        } else {                                                                                             \
            rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, N, 1, N, 1, 2);           \
        }                                                                                                    \
        return;
        switch (C) {
            RV_EDGE_CASE(8)
            RV_EDGE_CASE(16)
            RV_EDGE_CASE(32)
            RV_EDGE_CASE(64)
            RV_EDGE_CASE(128)
        default:
            break;
        }
#undef RV_EDGE_CASE
    }
    if (p->stride_w == 1) {
        if (edge == 1) {
            rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, C, 1, C, 1, 1);
        } else {
            rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, C, 1, C, 1, 2);
        }
    } else if (edge == 1) {
        rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, C, 2, C, 1, 1);
    } else {
        rv_dw3x3_group(p, quant, in0, row, filter, bias, dst0, dst1, ky0, ky1, C, 2, C, 1, 2);
    }
}

/* ------------------------------------------------------------------------------------------- main */

/** Valid taps [k0, k1) of a window starting at `start` (first tap index with start + k*dil >= 0, etc.). */
static inline void rv_tap_range(int32_t start, int32_t dil, int32_t kernel, int32_t size, int32_t *k0, int32_t *k1)
{
    int32_t lo = 0;
    int32_t hi = kernel;
    if (start < 0) {
        lo = (-start + dil - 1) / dil;
    }
    if (start + (kernel - 1) * dil >= size) {
        hi = size - start <= 0 ? 0 : (size - start + dil - 1) / dil;
    }
    *k0 = lo;
    *k1 = hi < lo ? lo : hi;
}

int32_t mf_depthwise_conv2d_s8_get_buffer_size(const mf_depthwise_conv2d_params *params)
{
    (void)params;
    return 0;
}

void mf_depthwise_conv2d_s8(const mf_depthwise_conv2d_params *params, const mf_per_channel_quant *quant,
                            const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch)
{
    (void)scratch; /* this file's kernel asks for none */
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t row = in.w * in.c;
    const int shape3x3 = params->filter_h == 3 && params->filter_w == 3 && params->dilation_h == 1 &&
                         params->dilation_w == 1 && (params->stride_w == 1 || params->stride_w == 2);
    const int fast = shape3x3 && params->depth_multiplier == 1;
    const int fast_m8 = shape3x3 && in.c == 1 && params->depth_multiplier == 8;
    const int8_t *out_hi = output + out.n * out.h * out.w * out.c;
    const int8_t *in_hi = input + in.n * in.h * row;
    const int overlap = !((uintptr_t)out_hi <= (uintptr_t)input || (uintptr_t)in_hi <= (uintptr_t)output);
    const int groups_ok = (fast || fast_m8) && (!overlap || out.c <= MF_RV_GROUP_MAX);
    int8_t stage[3 * MF_RV_GROUP_MAX];

    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *in_b = input + b * in.h * row;
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            int32_t ky0;
            int32_t ky1;
            rv_tap_range(y0, params->dilation_h, params->filter_h, in.h, &ky0, &ky1);
            int8_t *out_row = output + (b * out.h + y) * out.w * out.c;
            int32_t x = 0;
            while (x < out.w) {
                const int32_t x0 = x * params->stride_w - params->pad_w;
                const int8_t *origin = in_b + y0 * row + x0 * in.c;
                int8_t *dst = out_row + x * out.c;
                /* 4 pixels whose 3x3 windows are wholly inside the input */
                if (groups_ok && x0 >= 0 && x + 4 <= out.w &&
                    x0 + 3 * params->stride_w + 2 < in.w) {
                    int8_t *later = overlap ? stage : dst + out.c;
                    rv_dw3x3_dispatch(params, quant, origin, row, filter, bias, dst, later, ky0, ky1);
                    if (overlap) {
                        for (int32_t i = 0; i < 3 * out.c; ++i) {
                            dst[out.c + i] = stage[i];
                        }
                    }
                    x += 4;
                    continue;
                }
                /* 4 pixels whose windows clip exactly one column at the left or right edge */
                const int32_t last = x0 + 3 * params->stride_w + 2;
                if (groups_ok && fast && x + 4 <= out.w && x0 >= -1 && last <= in.w && (x0 < 0) != (last == in.w)) {
                    int8_t *later = overlap ? stage : dst + out.c;
                    rv_dw3x3_edge(params, quant, origin, row, filter, bias, dst, later, ky0, ky1, x0 < 0 ? 1 : 2);
                    if (overlap) {
                        for (int32_t i = 0; i < 3 * out.c; ++i) {
                            dst[out.c + i] = stage[i];
                        }
                    }
                    x += 4;
                    continue;
                }
                /* one pixel whose window clips at most one column on one side */
                if (fast && x0 >= -1 && x0 + 2 <= in.w && !(x0 < 0 && x0 + 2 == in.w)) {
                    rv_dw3x3_single(params, quant, origin, row, filter, bias, dst, ky0, ky1,
                                    x0 < 0 ? 1 : (x0 + 2 == in.w ? 2 : 0));
                    ++x;
                    continue;
                }
                int32_t kx0;
                int32_t kx1;
                rv_tap_range(x0, params->dilation_w, params->filter_w, in.w, &kx0, &kx1);
                if (fast && kx1 > kx0 && ky1 > ky0) {
                    rv_dw3x3_one(params, quant, origin + kx0 * in.c, row, filter + kx0 * in.c, bias, ky0, ky1,
                                 kx1 - kx0, dst);
                    ++x;
                    continue;
                }
                rv_dw_pixel(params, quant, origin, ky0, ky1, kx0, kx1, filter, bias, dst);
                ++x;
            }
        }
    }
}
