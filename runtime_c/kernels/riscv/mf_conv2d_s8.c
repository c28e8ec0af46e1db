/**
 * @file riscv/mf_conv2d_s8.c
 * @brief mf_conv2d_s8 for RV32IMC (ESP32-C3): unrolled, register-blocked portable C (no SIMD on RV32IMC).
 *
 * Specialised (groups == 1, the common case):
 *  - 2 output pixels x 4 output channels per block, 8 int32 accumulators in registers. Per input index k
 *    the block loads 2 inputs (+ input_offset, reused by the 4 channels) and 4 weights (reused by the 2
 *    pixels): 2 lb + 2 add + 4 lb + 8 mul + 8 add = 24 instructions for 8 MACs, the k loop unrolled by 8
 *    so the 6 pointer increments and the branch cost 7/64. Expected ~3.1 instructions/MAC in the inner
 *    loop, plus ~20 per output for requantization (e.g. ~3.5/MAC on a 1x1 conv with C_in = 64).
 *    (Adding input_offset to the 2 loaded inputs is cheaper here than folding input_offset * sum(w)
 *    afterwards, which would cost one add per loaded weight, i.e. 4 per k.)
 *  - Windows: each kernel row is one contiguous run of KW*C_in bytes when dilation_w == 1 (a 1x1 conv is a
 *    single run of C_in); pixels whose windows are clipped by padding differently from their neighbour run
 *    one at a time (1 pixel x 4 channels) over their valid taps only: no bounds check in any inner loop.
 *  - Leftover output channels (C_out % 4) use 2x1 / 1x1 blocks.
 *  - input_offset folded into a per-channel bias (bias + input_offset * sum of the channel's whole
 *    filter, computed once per call) wherever a window is whole: 1x1 convolutions without padding (every pixel),
 *    and runs of 3 horizontally adjacent pixels with whole windows (dilation_w 1) in other convs. 3 pixels x 4
 *    channels per block: a step is 3 + 4 lb + 12 mul + 12 add for 12 MACs, ~2.75 instructions/MAC in the inner
 *    loop (ResNet-8's 3x3 convs: 2.65-3.1 overall). Clipped windows keep the pair / single-pixel paths above.
 *    Kernel rows shorter than 16 bytes (C_in 1-3; up to 96-byte windows) are first gathered into 3 contiguous
 *    windows (288 B of stack) so a block is one call over the whole window (DS-CNN's 10x4 C_in 1 conv: 6.2 -> 4.7).
 *    Arena scratch (mf_conv2d_s8_get_buffer_size, planned by the compiler): 4 B of folded bias + 2 B of staging
 *    for the later pixels of a pair / triple per output channel; stack: the 288 B gather buffer.
 * Generic fallback: grouped convolutions, and any layer given no scratch (the planner refused it for RAM), use a
 * static copy of the reference loop.
 *
 * In-place safety (ops/_inplace.py): outputs are written pixel by pixel, channel by channel. The second
 * pixel of a pair is computed together with the first; when the output buffer overlaps the input its
 * channels go to the staging part of the scratch and are copied out after the first pixel
 * is complete, so no output byte is written before the reference kernel would write it.
 * Requantization is an exact RV32-friendly rewrite of mf_requantize (see rv_requant): bit-exact.
 */
#include "mf_conv2d_s8.h"

#include "mf_requant.h"

#define RV_GATHER_MAX 96   /* largest KH*KW*C_in gathered into contiguous windows (3 x 96 B on the stack) */

/* ------------------------------------------------------------------------------------ requantization */

/** Per-output-channel requantization constants, decoded once per channel and shared by the pixels. */
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

/*
 * mf_requantize(acc + bias) + output_offset, clamped. Exact: the multiplier is in [0, 2^31) (never INT32_MIN,
 * so the saturating case cannot occur) and TFLM's "add +-2^30 then divide by 2^31 truncating" equals
 * floor((x*M + 2^30) / 2^31) (computed from the 64-bit product's halves without a 64-bit add); the rounding
 * division is TFLM's remainder-versus-threshold form, which cannot overflow for any h and right shift.
 */
static inline int8_t rv_requant(const rv_rq *q, int32_t acc, int32_t out_off, int32_t lo, int32_t hi)
{
    /*
     * Right shift r in [1, 30] (left shift 0): TFLM's two roundings collapse into one. With ab = x*M,
     * h = floor((ab + 2^30) / 2^31) and the rounding division floor((h + 2^(r-1) - [h < 0]) / 2^r) (nested floors
     * with integer divisors) equal floor((ab + 2^30 + 2^(30+r) - [x < 0] * 2^31) / 2^(31+r)) ([h < 0] may be
     * replaced by [x < 0]: both give 0 when -2^30 <= ab < 0). Its high word is hi + floor((t + 1 + 2^r - 2[x<0]) / 4)
     * with t = the low word's top 2 bits, then an arithmetic shift by r - 1: 8 instructions after mul/mulh
     * instead of 12 (incl. the left shift). Checked against mf_requantize by tests/kernels/test_riscv.py.
     */
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

/* ----------------------------------------------------------------------------------- dot-product blocks */

/*
 * GCC's pre-allocation scheduler hoists the loads of all 8 unrolled steps to the top of the loop and then spills
 * them: a compiler barrier after each step keeps every step's loads next to their multiplies (no code emitted).
 */
#if defined(__GNUC__)
#define RV_BARRIER() __asm__ __volatile__("" ::: "memory")
#define RV_INLINE static inline __attribute__((always_inline))
#define RV_NOINLINE static __attribute__((noinline))
#else
#define RV_NOINLINE static
#define RV_BARRIER() ((void)0)
#define RV_INLINE static inline
#endif

/* s_<channel><pixel> += (a_pixel[k] + off) * w_channel[k] */
#define RV_STEP_4X2(k)                                                                                       \
    do {                                                                                                     \
        const int32_t x0 = (int32_t)a0[k] + off;                                                             \
        const int32_t x1 = (int32_t)a1[k] + off;                                                             \
        int32_t v = w0[k];                                                                                   \
        s00 += x0 * v;                                                                                       \
        s01 += x1 * v;                                                                                       \
        v = w1[k];                                                                                           \
        s10 += x0 * v;                                                                                       \
        s11 += x1 * v;                                                                                       \
        v = w2[k];                                                                                           \
        s20 += x0 * v;                                                                                       \
        s21 += x1 * v;                                                                                       \
        v = w3[k];                                                                                           \
        s30 += x0 * v;                                                                                       \
        s31 += x1 * v;                                                                                       \
        RV_BARRIER();                                                                                        \
    } while (0)

/** 4 channels (weights w, w+ws, w+2ws, w+3ws) x 2 pixels (a0, a1) over n input values. */
RV_INLINE void rv_dot_4x2(const int8_t *a0, const int8_t *a1, const int8_t *w, int32_t ws, int32_t n, int32_t off,
                              int32_t *acc)
{
    const int8_t *w0 = w;
    const int8_t *w1 = w0 + ws;
    const int8_t *w2 = w1 + ws;
    const int8_t *w3 = w2 + ws;
    int32_t s00 = acc[0], s01 = acc[1], s10 = acc[2], s11 = acc[3];
    int32_t s20 = acc[4], s21 = acc[5], s30 = acc[6], s31 = acc[7];
    const int8_t *end = a0 + (n & ~7);
    while (a0 != end) {
        RV_STEP_4X2(0);
        RV_STEP_4X2(1);
        RV_STEP_4X2(2);
        RV_STEP_4X2(3);
        RV_STEP_4X2(4);
        RV_STEP_4X2(5);
        RV_STEP_4X2(6);
        RV_STEP_4X2(7);
        a0 += 8;
        a1 += 8;
        w0 += 8;
        w1 += 8;
        w2 += 8;
        w3 += 8;
    }
    end = a0 + (n & 7);
    while (a0 != end) {
        RV_STEP_4X2(0);
        ++a0;
        ++a1;
        ++w0;
        ++w1;
        ++w2;
        ++w3;
    }
    acc[0] = s00;
    acc[1] = s01;
    acc[2] = s10;
    acc[3] = s11;
    acc[4] = s20;
    acc[5] = s21;
    acc[6] = s30;
    acc[7] = s31;
}

#define RV_STEP_4X1(k)                                                                                       \
    do {                                                                                                     \
        const int32_t x0 = (int32_t)a0[k] + off;                                                             \
        s0 += x0 * w0[k];                                                                                    \
        s1 += x0 * w1[k];                                                                                    \
        s2 += x0 * w2[k];                                                                                    \
        s3 += x0 * w3[k];                                                                                    \
        RV_BARRIER();                                                                                        \
    } while (0)

/** 4 channels x 1 pixel over n input values. */
RV_INLINE void rv_dot_4x1(const int8_t *a0, const int8_t *w, int32_t ws, int32_t n, int32_t off, int32_t *acc)
{
    const int8_t *w0 = w;
    const int8_t *w1 = w0 + ws;
    const int8_t *w2 = w1 + ws;
    const int8_t *w3 = w2 + ws;
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    const int8_t *end = a0 + (n & ~7);
    while (a0 != end) {
        RV_STEP_4X1(0);
        RV_STEP_4X1(1);
        RV_STEP_4X1(2);
        RV_STEP_4X1(3);
        RV_STEP_4X1(4);
        RV_STEP_4X1(5);
        RV_STEP_4X1(6);
        RV_STEP_4X1(7);
        a0 += 8;
        w0 += 8;
        w1 += 8;
        w2 += 8;
        w3 += 8;
    }
    end = a0 + (n & 7);
    while (a0 != end) {
        RV_STEP_4X1(0);
        ++a0;
        ++w0;
        ++w1;
        ++w2;
        ++w3;
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

/** 1 channel x 2 pixels over n input values (leftover channels). */
static inline void rv_dot_1x2(const int8_t *a0, const int8_t *a1, const int8_t *w0, int32_t n, int32_t off,
                              int32_t *acc)
{
    int32_t s0 = acc[0], s1 = acc[1];
    for (int32_t k = 0; k < n; ++k) {
        const int32_t v = w0[k];
        s0 += ((int32_t)a0[k] + off) * v;
        s1 += ((int32_t)a1[k] + off) * v;
    }
    acc[0] = s0;
    acc[1] = s1;
}

/** 1 channel x 1 pixel over n input values. */
static inline int32_t rv_dot_1x1(const int8_t *a0, const int8_t *w0, int32_t n, int32_t off, int32_t acc)
{
    for (int32_t k = 0; k < n; ++k) {
        acc += ((int32_t)a0[k] + off) * (int32_t)w0[k];
    }
    return acc;
}

/* -------------------------------------------------------------------------------------------- windows */

/** The taps of one output pixel inside the input: [ky0, ky1) x [kx0, kx1), and the input of tap (0, 0). */
typedef struct {
    int32_t ky0, ky1, kx0, kx1;
    const int8_t *origin; /* input address of tap (0, 0) (may lie outside the input; only valid taps are read) */
} rv_window;

/** First tap index k >= 0 with start + k*dil >= 0, and one past the last with start + k*dil < size. */
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
    if (hi < lo) {
        hi = lo;
    }
    *k0 = lo;
    *k1 = hi;
}

/* --------------------------------------------------------------------------------- generic (grouped) */

static void rv_conv_generic(const mf_conv2d_params *params, const mf_per_channel_quant *quant, const int8_t *input,
                            const int8_t *filter, const int32_t *bias, int8_t *output)
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
                            acc = rv_dot_1x1(in_px, w_px, fd.c, params->input_offset, acc);
                        }
                    }
                    const rv_rq q = rv_rq_load(quant, bias, o);
                    out_px[o] = rv_requant(&q, acc, params->output_offset, params->act_min, params->act_max);
                }
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------- main */

typedef struct {
    int32_t in_row;    /* bytes per input row (W * C_in) */
    int32_t w_row;     /* bytes per kernel row of one output channel (KW * C_in) */
    int32_t k_total;   /* bytes per output channel's filter (KH * KW * C_in) */
    int32_t tap_in_y;  /* input bytes between kernel rows (dilation_h * W * C_in) */
    int32_t tap_in_x;  /* input bytes between kernel columns (dilation_w * C_in) */
    int32_t run_whole; /* dilation_w == 1: a kernel row's valid columns are one contiguous run */
    int32_t cin;
} rv_geom;

/** Accumulate 4 channels (filter rows f, f+K, ...) x 2 pixels over the (shared) valid taps of window w. */
RV_INLINE void rv_block_4x2(const rv_geom *g, const rv_window *w, const int8_t *a1_origin, const int8_t *f, int32_t off,
                         int32_t *acc)
{
    for (int32_t ky = w->ky0; ky < w->ky1; ++ky) {
        const int32_t dy = ky * g->tap_in_y;
        const int8_t *fr = f + ky * g->w_row;
        if (g->run_whole) {
            const int32_t dx = w->kx0 * g->cin;
            rv_dot_4x2(w->origin + dy + dx, a1_origin + dy + dx, fr + dx, g->k_total, (w->kx1 - w->kx0) * g->cin, off,
                       acc);
        } else {
            for (int32_t kx = w->kx0; kx < w->kx1; ++kx) {
                const int32_t dx = kx * g->tap_in_x;
                rv_dot_4x2(w->origin + dy + dx, a1_origin + dy + dx, fr + kx * g->cin, g->k_total, g->cin, off, acc);
            }
        }
    }
}

RV_INLINE void rv_block_4x1(const rv_geom *g, const rv_window *w, const int8_t *f, int32_t off, int32_t *acc)
{
    for (int32_t ky = w->ky0; ky < w->ky1; ++ky) {
        const int32_t dy = ky * g->tap_in_y;
        const int8_t *fr = f + ky * g->w_row;
        if (g->run_whole) {
            const int32_t dx = w->kx0 * g->cin;
            rv_dot_4x1(w->origin + dy + dx, fr + dx, g->k_total, (w->kx1 - w->kx0) * g->cin, off, acc);
        } else {
            for (int32_t kx = w->kx0; kx < w->kx1; ++kx) {
                rv_dot_4x1(w->origin + dy + kx * g->tap_in_x, fr + kx * g->cin, g->k_total, g->cin, off, acc);
            }
        }
    }
}

static void rv_block_1x2(const rv_geom *g, const rv_window *w, const int8_t *a1_origin, const int8_t *f, int32_t off,
                         int32_t *acc)
{
    for (int32_t ky = w->ky0; ky < w->ky1; ++ky) {
        const int32_t dy = ky * g->tap_in_y;
        const int8_t *fr = f + ky * g->w_row;
        for (int32_t kx = w->kx0; kx < w->kx1; ++kx) {
            const int32_t dx = kx * g->tap_in_x;
            rv_dot_1x2(w->origin + dy + dx, a1_origin + dy + dx, fr + kx * g->cin, g->cin, off, acc);
        }
    }
}

static int32_t rv_block_1x1(const rv_geom *g, const rv_window *w, const int8_t *f, int32_t off)
{
    int32_t acc = 0;
    for (int32_t ky = w->ky0; ky < w->ky1; ++ky) {
        const int32_t dy = ky * g->tap_in_y;
        const int8_t *fr = f + ky * g->w_row;
        for (int32_t kx = w->kx0; kx < w->kx1; ++kx) {
            acc = rv_dot_1x1(w->origin + dy + kx * g->tap_in_x, fr + kx * g->cin, g->cin, off, acc);
        }
    }
    return acc;
}

/** Loop invariants of the output stage, as locals: int8 stores may alias anything read through a pointer. */
typedef struct {
    const int32_t *mult;
    const int32_t *shift;
    const int32_t *bias;
    int32_t out_off, lo, hi, off, cout;
} rv_out;

static inline rv_rq rv_rq_at(const rv_out *u, int32_t o)
{
    const mf_per_channel_quant quant = {u->mult, u->shift};
    return rv_rq_load(&quant, u->bias, o);
}

/** All output channels of one pixel. */
static void rv_pixel(const rv_out *pu, const rv_geom *g, const rv_window *w, const int8_t *filter, int8_t *dst)
{
    const rv_out u = *pu;
    int32_t o = 0;
    for (; o + 4 <= u.cout; o += 4) {
        int32_t acc[4] = {0, 0, 0, 0};
        rv_block_4x1(g, w, filter + o * g->k_total, u.off, acc);
        rv_rq q = rv_rq_at(&u, o);
        dst[o] = rv_requant(&q, acc[0], u.out_off, u.lo, u.hi);
        q = rv_rq_at(&u, o + 1);
        dst[o + 1] = rv_requant(&q, acc[1], u.out_off, u.lo, u.hi);
        q = rv_rq_at(&u, o + 2);
        dst[o + 2] = rv_requant(&q, acc[2], u.out_off, u.lo, u.hi);
        q = rv_rq_at(&u, o + 3);
        dst[o + 3] = rv_requant(&q, acc[3], u.out_off, u.lo, u.hi);
    }
    for (; o < u.cout; ++o) {
        const rv_rq q = rv_rq_at(&u, o);
        const int32_t acc = rv_block_1x1(g, w, filter + o * g->k_total, u.off);
        dst[o] = rv_requant(&q, acc, u.out_off, u.lo, u.hi);
    }
}

/** All output channels of two pixels with the same valid taps; the second pixel's go to dst1. */
static void rv_pair(const rv_out *pu, const rv_geom *g, const rv_window *w, const int8_t *a1_origin,
                    const int8_t *filter, int8_t *dst0, int8_t *dst1)
{
    const rv_out u = *pu;
    int32_t o = 0;
    for (; o + 4 <= u.cout; o += 4) {
        int32_t acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        rv_block_4x2(g, w, a1_origin, filter + o * g->k_total, u.off, acc);
        rv_rq q = rv_rq_at(&u, o);
        dst0[o] = rv_requant(&q, acc[0], u.out_off, u.lo, u.hi);
        dst1[o] = rv_requant(&q, acc[1], u.out_off, u.lo, u.hi);
        q = rv_rq_at(&u, o + 1);
        dst0[o + 1] = rv_requant(&q, acc[2], u.out_off, u.lo, u.hi);
        dst1[o + 1] = rv_requant(&q, acc[3], u.out_off, u.lo, u.hi);
        q = rv_rq_at(&u, o + 2);
        dst0[o + 2] = rv_requant(&q, acc[4], u.out_off, u.lo, u.hi);
        dst1[o + 2] = rv_requant(&q, acc[5], u.out_off, u.lo, u.hi);
        q = rv_rq_at(&u, o + 3);
        dst0[o + 3] = rv_requant(&q, acc[6], u.out_off, u.lo, u.hi);
        dst1[o + 3] = rv_requant(&q, acc[7], u.out_off, u.lo, u.hi);
    }
    for (; o < u.cout; ++o) {
        int32_t acc[2] = {0, 0};
        rv_block_1x2(g, w, a1_origin, filter + o * g->k_total, u.off, acc);
        const rv_rq q = rv_rq_at(&u, o);
        dst0[o] = rv_requant(&q, acc[0], u.out_off, u.lo, u.hi);
        dst1[o] = rv_requant(&q, acc[1], u.out_off, u.lo, u.hi);
    }
}

/* ------------------------------------------------------------------------------ 1x1 (pointwise) path */

/* s_<channel><pixel> += a_pixel[k] * w_channel[k]; input_offset is folded into the per-channel bias */
#define RV_STEP_4X3(k)                                                                                       \
    do {                                                                                                     \
        const int32_t x0 = a0[k];                                                                            \
        const int32_t x1 = a1[k];                                                                            \
        const int32_t x2 = a2[k];                                                                            \
        int32_t v = w0[k];                                                                                   \
        s00 += x0 * v;                                                                                       \
        s01 += x1 * v;                                                                                       \
        s02 += x2 * v;                                                                                       \
        RV_BARRIER();                                                                                        \
        v = w1[k];                                                                                           \
        s10 += x0 * v;                                                                                       \
        s11 += x1 * v;                                                                                       \
        s12 += x2 * v;                                                                                       \
        RV_BARRIER();                                                                                        \
        v = w2[k];                                                                                           \
        s20 += x0 * v;                                                                                       \
        s21 += x1 * v;                                                                                       \
        s22 += x2 * v;                                                                                       \
        RV_BARRIER();                                                                                        \
        v = w3[k];                                                                                           \
        s30 += x0 * v;                                                                                       \
        s31 += x1 * v;                                                                                       \
        s32 += x2 * v;                                                                                       \
        RV_BARRIER();                                                                                        \
    } while (0)

/** 4 channels (weights w + j*ws) x 3 pixels over n input values, no input offset; acc[3 * channel + pixel] +=. */
RV_NOINLINE void rv_dot_4x3(const int8_t *a0, const int8_t *a1, const int8_t *a2, const int8_t *w, int32_t ws,
                            int32_t n, int32_t *acc)
{
    const int8_t *w0 = w;
    const int8_t *w1 = w0 + ws;
    const int8_t *w2 = w1 + ws;
    const int8_t *w3 = w2 + ws;
    int32_t s00 = acc[0], s01 = acc[1], s02 = acc[2], s10 = acc[3], s11 = acc[4], s12 = acc[5];
    int32_t s20 = acc[6], s21 = acc[7], s22 = acc[8], s30 = acc[9], s31 = acc[10], s32 = acc[11];
    const int8_t *end = a0 + (n & ~7);
    while (a0 != end) {
        RV_STEP_4X3(0);
        RV_STEP_4X3(1);
        RV_STEP_4X3(2);
        RV_STEP_4X3(3);
        RV_STEP_4X3(4);
        RV_STEP_4X3(5);
        RV_STEP_4X3(6);
        RV_STEP_4X3(7);
        a0 += 8;
        a1 += 8;
        a2 += 8;
        w0 += 8;
        w1 += 8;
        w2 += 8;
        w3 += 8;
    }
    end = a0 + (n & 7);
    while (a0 != end) {
        RV_STEP_4X3(0);
        ++a0;
        ++a1;
        ++a2;
        ++w0;
        ++w1;
        ++w2;
        ++w3;
    }
    acc[0] = s00;
    acc[1] = s01;
    acc[2] = s02;
    acc[3] = s10;
    acc[4] = s11;
    acc[5] = s12;
    acc[6] = s20;
    acc[7] = s21;
    acc[8] = s22;
    acc[9] = s30;
    acc[10] = s31;
    acc[11] = s32;
}

/** Requantization constants of channel o with the folded bias. */
static inline rv_rq rv_rq_folded(const int32_t *mult, const int32_t *shift, const int32_t *bsum, int32_t o)
{
    const mf_per_channel_quant quant = {mult, shift};
    return rv_rq_load(&quant, bsum, o);
}

/**
 * 1x1 convolution without padding (every window is the C_in bytes of one input pixel): 3 pixels x 4 channels
 * per block with input_offset folded into a per-channel bias (bias + input_offset * sum(w), on the stack), so
 * the inner step is 3 + 4 lb + 12 mul + 12 add = 31 instructions for 12 MACs (~2.65/MAC with the unrolled
 * loop's pointer updates). Pixels 2 and 3 of a block are staged when the output overlaps the input.
 */
RV_NOINLINE void rv_conv_1x1(const mf_conv2d_params *params, const mf_per_channel_quant *quant,
                             const int8_t *input, const int8_t *filter, const int32_t *bsum, int8_t *output,
                             int overlap, int8_t *stage)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t cin = in.c;
    const int32_t cout = out.c;
    const int32_t *mult = quant->multiplier;
    const int32_t *shift = quant->shift;
    const int32_t out_off = params->output_offset;
    const int32_t lo = params->act_min;
    const int32_t hi = params->act_max;
    const int32_t sh = params->stride_h;
    const int32_t sw = params->stride_w;

    const int32_t npix = out.n * out.h * out.w;
    int32_t b = 0, y = 0, x = 0; /* coordinates of pixel q */
    const int8_t *src[3];
    int32_t q = 0;
    while (q < npix) {
        const int32_t m = npix - q >= 3 ? 3 : 1;
        for (int32_t i = 0; i < m; ++i) {
            src[i] = input + ((b * in.h + y * sh) * in.w + x * sw) * cin;
            if (++x == out.w) {
                x = 0;
                if (++y == out.h) {
                    y = 0;
                    ++b;
                }
            }
        }
        int8_t *dst0 = output + q * cout;
        if (m == 3) {
            int8_t *dst1 = overlap ? stage : dst0 + cout;
            int8_t *dst2 = overlap ? stage + cout : dst0 + 2 * cout;
            int32_t o = 0;
            for (; o + 4 <= cout; o += 4) {
                int32_t acc[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
                rv_dot_4x3(src[0], src[1], src[2], filter + o * cin, cin, cin, acc);
                for (int32_t j = 0; j < 4; ++j) {
                    const rv_rq rq = rv_rq_folded(mult, shift, bsum, o + j);
                    dst0[o + j] = rv_requant(&rq, acc[3 * j], out_off, lo, hi);
                    dst1[o + j] = rv_requant(&rq, acc[3 * j + 1], out_off, lo, hi);
                    dst2[o + j] = rv_requant(&rq, acc[3 * j + 2], out_off, lo, hi);
                }
            }
            for (; o < cout; ++o) {
                const int8_t *w = filter + o * cin;
                const rv_rq rq = rv_rq_folded(mult, shift, bsum, o);
                dst0[o] = rv_requant(&rq, rv_dot_1x1(src[0], w, cin, 0, 0), out_off, lo, hi);
                dst1[o] = rv_requant(&rq, rv_dot_1x1(src[1], w, cin, 0, 0), out_off, lo, hi);
                dst2[o] = rv_requant(&rq, rv_dot_1x1(src[2], w, cin, 0, 0), out_off, lo, hi);
            }
            if (overlap) {
                for (int32_t i = 0; i < 2 * cout; ++i) {
                    dst0[cout + i] = stage[i];
                }
            }
        } else {
            int32_t o = 0;
            for (; o + 4 <= cout; o += 4) {
                int32_t acc[4] = {0, 0, 0, 0};
                rv_dot_4x1(src[0], filter + o * cin, cin, cin, 0, acc);
                for (int32_t j = 0; j < 4; ++j) {
                    const rv_rq rq = rv_rq_folded(mult, shift, bsum, o + j);
                    dst0[o + j] = rv_requant(&rq, acc[j], out_off, lo, hi);
                }
            }
            for (; o < cout; ++o) {
                const rv_rq rq = rv_rq_folded(mult, shift, bsum, o);
                dst0[o] = rv_requant(&rq, rv_dot_1x1(src[0], filter + o * cin, cin, 0, 0), out_off, lo, hi);
            }
        }
        q += m;
    }
}

/**
 * All output channels of 3 horizontally adjacent pixels whose windows are wholly inside the input (dilation_w 1):
 * input_offset folded into bsum, 4 channels x 3 pixels per block, one rv_dot_4x3 per kernel row. The 2nd and 3rd
 * pixels' outputs go to dst1 / dst2 (the stage when the output overlaps the input).
 */
RV_NOINLINE void rv_triple(const rv_out *pu, const rv_geom *g, const int8_t *o0, int32_t px,
                           const int8_t *filter, const int32_t *bsum, int32_t kh, int8_t *dst0, int8_t *dst1,
                           int8_t *dst2)
{
    const rv_out u = *pu;
    int32_t w_row = g->w_row;
    const int32_t k_total = g->k_total;
    int32_t tap_in_y = g->tap_in_y;
    int8_t win[3 * RV_GATHER_MAX];
    if (kh > 1 && w_row < 16 && k_total <= RV_GATHER_MAX) {
        /* short kernel rows (few input channels, e.g. C_in 1-3): gather the 3 windows into contiguous runs so
         * each 4-channel block is one rv_dot_4x3 call over the whole window instead of one per kernel row */
        for (int32_t i = 0; i < 3; ++i) {
            for (int32_t ky = 0; ky < kh; ++ky) {
                const int8_t *a = o0 + i * px + ky * tap_in_y;
                int8_t *d = win + i * k_total + ky * w_row;
                for (int32_t k = 0; k < w_row; ++k) {
                    d[k] = a[k];
                }
            }
        }
        o0 = win;
        px = k_total;
        w_row = k_total;
        tap_in_y = 0;
        kh = 1;
    }
    int32_t o = 0;
    for (; o + 4 <= u.cout; o += 4) {
        int32_t acc[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        const int8_t *f = filter + o * k_total;
        for (int32_t ky = 0; ky < kh; ++ky) {
            const int8_t *a = o0 + ky * tap_in_y;
            rv_dot_4x3(a, a + px, a + 2 * px, f + ky * w_row, k_total, w_row, acc);
        }
        for (int32_t j = 0; j < 4; ++j) {
            const rv_rq rq = rv_rq_folded(u.mult, u.shift, bsum, o + j);
            dst0[o + j] = rv_requant(&rq, acc[3 * j], u.out_off, u.lo, u.hi);
            dst1[o + j] = rv_requant(&rq, acc[3 * j + 1], u.out_off, u.lo, u.hi);
            dst2[o + j] = rv_requant(&rq, acc[3 * j + 2], u.out_off, u.lo, u.hi);
        }
    }
    for (; o < u.cout; ++o) {
        int32_t acc[3] = {0, 0, 0};
        const int8_t *f = filter + o * k_total;
        for (int32_t ky = 0; ky < kh; ++ky) {
            const int8_t *a = o0 + ky * tap_in_y;
            for (int32_t i = 0; i < 3; ++i) {
                acc[i] = rv_dot_1x1(a + i * px, f + ky * w_row, w_row, 0, acc[i]);
            }
        }
        const rv_rq rq = rv_rq_folded(u.mult, u.shift, bsum, o);
        dst0[o] = rv_requant(&rq, acc[0], u.out_off, u.lo, u.hi);
        dst1[o] = rv_requant(&rq, acc[1], u.out_off, u.lo, u.hi);
        dst2[o] = rv_requant(&rq, acc[2], u.out_off, u.lo, u.hi);
    }
}

int32_t mf_conv2d_s8_get_buffer_size(const mf_conv2d_params *params)
{
    /* ungrouped: the folded biases (4 B per output channel) + the staging of a pair's / triple's later pixels
     * (2 B per output channel), rounded up to a word */
    return params->filter.c == params->input.c ? (6 * params->output.c + 3) / 4 * 4 : 0;
}

void mf_conv2d_s8(const mf_conv2d_params *params, const mf_per_channel_quant *quant, const int8_t *input,
                  const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch)
{
    const mf_dims in = params->input;
    const mf_dims fd = params->filter;
    const mf_dims out = params->output;
    if (fd.c != in.c || scratch == NULL || params->scratch_bytes < mf_conv2d_s8_get_buffer_size(params)) {
        rv_conv_generic(params, quant, input, filter, bias, output);
        return;
    }
    rv_geom g;
    g.cin = in.c;
    g.in_row = in.w * in.c;
    g.w_row = fd.w * fd.c;
    g.k_total = fd.h * g.w_row;
    g.tap_in_y = params->dilation_h * g.in_row;
    g.tap_in_x = params->dilation_w * in.c;
    g.run_whole = params->dilation_w == 1;
    rv_out u;
    u.mult = quant->multiplier;
    u.shift = quant->shift;
    u.bias = bias;
    u.out_off = params->output_offset;
    u.lo = params->act_min;
    u.hi = params->act_max;
    u.off = params->input_offset;
    u.cout = out.c;

    /* the second pixel of a pair is staged when the output may overlap the input (in-place arena plans) */
    const int8_t *out_lo = output;
    const int8_t *out_hi = output + out.n * out.h * out.w * out.c;
    const int8_t *in_lo = input;
    const int8_t *in_hi = input + in.n * in.h * in.w * in.c;
    const int overlap = !((uintptr_t)out_hi <= (uintptr_t)in_lo || (uintptr_t)in_hi <= (uintptr_t)out_lo);
    int32_t *bsum = (int32_t *)scratch;        /* bias + input_offset * sum of the channel's whole filter */
    int8_t *stage = (int8_t *)(bsum + out.c); /* later pixels of a pair / triple when the output overlaps the input */
    for (int32_t o = 0; o < out.c; ++o) {
        const int8_t *w = filter + o * g.k_total;
        int32_t s = 0;
        for (int32_t k = 0; k < g.k_total; ++k) {
            s += w[k];
        }
        bsum[o] = (bias != NULL ? bias[o] : 0) + params->input_offset * s;
    }
    if (fd.h == 1 && fd.w == 1 && params->pad_h == 0 && params->pad_w == 0) {
        rv_conv_1x1(params, quant, input, filter, bsum, output, overlap, stage);
        return;
    }

    const int32_t npix = out.h * out.w;
    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *in_b = input + b * in.h * g.in_row;
        int8_t *out_b = output + b * npix * out.c;
        int32_t y = 0;
        int32_t x = 0;
        int32_t q = 0;
        rv_window w = {0, 0, 0, 0, input};
        rv_window w1 = {0, 0, 0, 0, input};
        int32_t y_rows[2] = {-1, 0}; /* cached vertical tap range for the current row */
        while (q < npix) {
            /* window of pixel q */
            const int32_t y0 = y * params->stride_h - params->pad_h;
            const int32_t x0 = x * params->stride_w - params->pad_w;
            if (y_rows[0] != y) {
                rv_tap_range(y0, params->dilation_h, fd.h, in.h, &w.ky0, &w.ky1);
                y_rows[0] = y;
                y_rows[1] = w.ky1;
            }
            w.ky1 = y_rows[1];
            rv_tap_range(x0, params->dilation_w, fd.w, in.w, &w.kx0, &w.kx1);
            w.origin = in_b + y0 * g.in_row + x0 * in.c;

            /* 3 pixels of this row with whole windows: offset folded, 4x3 blocks */
            if (g.run_whole && x + 2 < out.w && w.ky0 == 0 && w.ky1 == fd.h && w.kx0 == 0 && w.kx1 == fd.w &&
                x0 + 2 * params->stride_w + fd.w <= in.w) {
                int8_t *dst0 = out_b + q * out.c;
                int8_t *dst1 = overlap ? stage : dst0 + out.c;
                int8_t *dst2 = overlap ? stage + out.c : dst0 + 2 * out.c;
                rv_triple(&u, &g, w.origin, params->stride_w * in.c, filter, bsum, fd.h, dst0, dst1, dst2);
                if (overlap) {
                    for (int32_t o = 0; o < 2 * out.c; ++o) {
                        dst0[out.c + o] = stage[o];
                    }
                }
                q += 3;
                x += 3;
                if (x == out.w) {
                    x = 0;
                    ++y;
                }
                continue;
            }
            int paired = 0;
            if (q + 1 < npix) {
                /* pixel q+1: same row or the start of the next one */
                const int32_t ny = x + 1 < out.w ? y : y + 1;
                const int32_t nx = x + 1 < out.w ? x + 1 : 0;
                const int32_t ny0 = ny * params->stride_h - params->pad_h;
                const int32_t nx0 = nx * params->stride_w - params->pad_w;
                rv_tap_range(ny0, params->dilation_h, fd.h, in.h, &w1.ky0, &w1.ky1);
                rv_tap_range(nx0, params->dilation_w, fd.w, in.w, &w1.kx0, &w1.kx1);
                if (w1.ky0 == w.ky0 && w1.ky1 == w.ky1 && w1.kx0 == w.kx0 && w1.kx1 == w.kx1) {
                    int8_t *dst0 = out_b + q * out.c;
                    int8_t *dst1 = overlap ? stage : dst0 + out.c;
                    rv_pair(&u, &g, &w, in_b + ny0 * g.in_row + nx0 * in.c, filter, dst0, dst1);
                    if (overlap) {
                        for (int32_t o = 0; o < out.c; ++o) {
                            dst0[out.c + o] = stage[o];
                        }
                    }
                    paired = 1;
                    y = ny;
                    x = nx;
                }
            }
            if (!paired) {
                rv_pixel(&u, &g, &w, filter, out_b + q * out.c);
            }
            q += 1 + paired;
            if (++x == out.w) {
                x = 0;
                ++y;
            }
        }
    }
}
