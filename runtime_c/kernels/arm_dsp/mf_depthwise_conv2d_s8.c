/**
 * @file mf_depthwise_conv2d_s8.c (arm_dsp variant)
 * @brief int8 DEPTHWISE_CONV_2D for Cortex-M4/M7/M33 with the DSP extension, bit-exact with the reference kernel.
 *
 * First choice for 3x3 filters, dilation 1, all shifts in [-22, -1] (rq_fold) and |acc| < 2^30 (rq_fast_ok), any
 * channel count and depth multiplier: bands of output rows through int16 planes (mf_arm_dsp_dw_band.h): the input
 * rows of a band and a chunk of channels copied once as raw int16 (padding = the input zero point, so borders cost
 * nothing and the input offset folds into the bias), then per output channel SMLAD over column pairs, two pixels
 * per step, weights in registers, 33 instructions per pixel pair at stride 1 (~1.83 / MAC) including the
 * requantization. Rows or columns orientation (tall narrow maps), band height and chunk from a cost model per layer
 * (dwb_plan); taken when its estimate beats the 4-channel runs below (stride 2 usually does not: the copy of ~4 input
 * values per output costs more than it saves). Working memory: the 2 KB arena scratch (planes, and in place without
 * whole-pixel gaps a band buffer); dwb_plan / dwb_run take a pointer and a capacity.
 * person_detect (QEMU, M4): 3x3 stride 1 2.36-2.58 instructions/MAC on 48..12-wide maps, 3.1 on 6x6x128, 5.2 on
 * 3x3x256, layer 0 (1 channel, M = 8, stride 2) 2.44; DS-CNN 25x5x64 2.41.
 *
 * The paths below (before the bands) remain for other shapes, stride 2 and unoptimized builds:
 *  - depth multiplier 1: 4 channels per step, one word load of input and of filter per tap, SXTAB16 (input
 *    offset included) / SXTB16 into 16-bit lanes, SMLABB/SMLATT per channel (channels cannot share an SMLAD);
 *    the 3 taps of a window row are unrolled (3x3 and any KxK with 3 columns inside the image);
 *  - depth multiplier a multiple of 4 (e.g. a CONV_2D with one input channel, converted to depthwise):
 *    one input value against 4 filter lanes per step;
 *  - requantization in 4 instructions per output (SMMLAR, see rq_apply) and clamping 4 outputs at once
 *    with QADD16/SSUB16/SEL, stored as one word; when every shift is in [-22, -1] the output zero point is folded
 *    into SMMLAR's rounding constant and SSAT clamps to int8 (rq_fold), the SSUB16/SEL clamps only run for
 *    activation bounds other than int8's.
 *  - depth multiplier > 1 with 3x3 filters, dilation 1, stride_w 1 or 2 (person_detect's first layer: 8 filters
 *    on one channel): planar rows, see dw_row_planar (SMLAD over pairs of window columns from an int16 copy of
 *    the 3 input rows, 2 output pixels per step; person_detect layer 0: 9.8 -> 6.7 instructions/MAC; the row
 *    copy without per-element bounds checks (padding columns zeroed around the image's columns, a plain strided
 *    copy for one channel per chunk): 6.7 -> 3.7). For
 *    depth multiplier 1 this path measured slower than the 4-channel taps (copy + per-channel setup per row),
 *    so it is not used there.
 * Arena scratch: 2 KB (dw_scratch, mf_depthwise_conv2d_s8_get_buffer_size) for 3x3 windows with depth multiplier 1
 * or a multiple of 4; given none (the planner refused it for RAM) those layers run the copy of the reference loop.
 * Other depth multipliers, tail channels (C % 4) and layers whose multipliers need a left shift take plain loops.
 *  - 3x3 windows inside the image with depth multiplier 1, C % 4 == 0 (C <= 128), foldable shifts: dw_run3x3,
 *    a whole run of interior pixels per call, per-channel constants from a stack table, accumulators in
 *    registers, SSUB8/SEL clamp of 4 packed bytes; C > 128 with bias: dw_px3x3, one pixel per call.
 *    Border pixels of those layers (window cut by the image edge; 20 of 36 pixels on 6x6 layers): dw_edge3x3,
 *    the taps inside the image as 3-, 2- or 1-tap row assembly with the same table and clamp (no copy, no extra
 *    stack); person_detect 6x6x128: 5.6 -> 4.7 instructions/MAC.
 *    C <= 60 (MF_DW_WX_MAX_C): the runs read pre-extended weights (SXTB16 pairs, 18 words per 4 channels) from
 *    the same 2 KB union, 8 instructions per tap of 4 channels instead of 10. The table's constants are read
 *    with LDRD and the 4 bytes packed with BFI (~35 instructions per 4 outputs for requantization and clamp).
 *    Border pixels use the pre-extended weights too, one body per column count (1-3).
 *    person_detect 3x3 depth multiplier 1: 4.7-6.0 -> 3.6-4.5 instructions/MAC (C = 256: still 6.3, per pixel).
 * Stack: one 2 KB union in mf_depthwise_conv2d_s8 (planar rows for M > 1, or the dw_run3x3 table for M == 1).
 * Measured (QEMU mps2-an386, person_detect): 2.5 instructions/MAC in the tap loop, 5.6-6.6 per layer for 3x3
 * depth multiplier 1 (~30 instructions of requantization, clamp, bias and loop overhead per 4 outputs).
 * The tap loop is inline assembly one window row per statement (12 register operands: compiles at -O1..-O3, -Os).
 *
 * Write order is the reference's (pixel by pixel, channels increasing), as in-place arena planning requires,
 * except in planar rows: those copy the row's input before writing it channel-major (checked per row, see
 * dw_row_planar).
 */
#include "mf_arm_dsp_build.h" /* first: how this file is built */

#include "mf_depthwise_conv2d_s8.h"

#include <stddef.h>
#include <string.h>

#include "mf_requant.h"

#if defined(__ARM_FEATURE_DSP) && defined(MF_DSP_OPTIMIZED_BUILD)
#include <arm_acle.h>

static inline uint32_t ld32(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v); /* LDR: unaligned word loads are fine on ARMv7E-M / ARMv8-M Mainline */
    return v;
}

/* SXTB16 / SXTAB16 of the operand rotated by 8: GCC 12 does not fold a C rotate into the instruction. */
static inline int32_t sxtb16_ror8(uint32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

static inline int32_t sxtab16_ror8(int32_t a, uint32_t x)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

static inline int32_t smmlar(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

/*
 * Requantization bit-exact with mf_requantize when shift < 0 and |acc| < 2^30 (rq_fast_ok checks both for the
 * whole layer). With e = -shift >= 1: mf_requantize = RDBP(x, e), x = SRDHM(acc, m) = floor((acc*m + 2^30) / 2^31)
 * and RDBP(x, e) (ties away from zero) = floor((x + 2^(e-1) - [x<0]) / 2^e); [acc<0] may replace [x<0] (they
 * differ only when x == 0, which rounds to 0 either way). With K = 2^(e-1) - [acc<0]:
 *   x + K = floor((2acc*m + 2^31 + K*2^32) / 2^32) = SMMLAR(2acc, m, K), result (x + K) >> e.
 */
static inline int32_t rq_apply(int32_t acc, int32_t m, int32_t shift)
{
    const int32_t e = -shift;
    return smmlar(acc * 2, m, (1 << (e - 1)) + (acc >> 31)) >> e;
}

static int rq_fast_ok(const mf_per_channel_quant *quant, const int32_t *bias, int32_t channels, int32_t taps)
{
    int32_t max_bias = 0;
    for (int32_t o = 0; o < channels; ++o) {
        if (quant->shift[o] >= 0) {
            return 0;
        }
        if (bias != NULL) {
            const int32_t b = bias[o] < 0 ? -(bias[o] + 1) : bias[o];
            max_bias = b > max_bias ? b : max_bias;
        }
    }
    return (int64_t)taps * 255 * 128 + max_bias + 1 < ((int64_t)1 << 30); /* |input + offset| <= 255 */
}

static inline int32_t dup16(int32_t v)
{
    return (int32_t)(((uint32_t)v & 0xFFFFu) * 0x10001u);
}

static inline int32_t pack16(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)__ssat(lo, 16) & 0xFFFFu) | ((uint32_t)__ssat(hi, 16) << 16));
}

/* + zero point, clamp to [lo, hi] in both 16-bit lanes (GE flags from SSUB16 drive SEL) */
static inline int32_t clamp16x2(int32_t v, int32_t zp2, int32_t lo2, int32_t hi2)
{
    v = __qadd16(v, zp2);
    (void)__ssub16(v, lo2);
    v = (int32_t)__sel((uint32_t)v, (uint32_t)lo2);
    (void)__ssub16(v, hi2);
    return (int32_t)__sel((uint32_t)hi2, (uint32_t)v);
}

/* four requantized channel values -> four int8 at out[0..3] */
static inline void store4(int8_t *out, int32_t r0, int32_t r1, int32_t r2, int32_t r3, int32_t zp2, int32_t lo2,
                          int32_t hi2)
{
    const uint32_t v02 = (uint32_t)clamp16x2(pack16(r0, r2), zp2, lo2, hi2) & 0x00FF00FFu;
    const uint32_t v13 = (uint32_t)clamp16x2(pack16(r1, r3), zp2, lo2, hi2) & 0x00FF00FFu;
    const uint32_t word = v02 | (v13 << 8);
    memcpy(out, &word, sizeof word);
}

static inline int8_t store1(int32_t r, int32_t zp, int32_t lo, int32_t hi)
{
    r = __ssat(r, 16) + zp;
    r = r < lo ? lo : r;
    return (int8_t)(r > hi ? hi : r);
}

/*
 * Requantization with the output zero point folded into the rounding constant (when every shift is in [-22, -1],
 * see fold_ok): with e = -shift, (x + 2^(e-1) - [acc<0] + zp * 2^e) >> e == rq_apply(acc) + zp exactly, the
 * constant is (2 zp + 1) * 2^(e-1), and the sum fits in int32 (|x| < 2^29, |zp * 2^e| <= 2^29). SSAT to int8
 * is then the clamp to [-128, 127].
 */
static inline int32_t rq_fold(int32_t acc, int32_t m, int32_t shift, int32_t zp21)
{
    const int32_t e = -shift;
    const int32_t k = (int32_t)((uint32_t)zp21 << (e - 1));
    return __ssat(smmlar(acc * 2, m, k + (acc >> 31)) >> e, 8);
}

static int fold_ok(const mf_per_channel_quant *quant, int32_t channels)
{
    for (int32_t o = 0; o < channels; ++o) {
        if (quant->shift[o] < -22) {
            return 0;
        }
    }
    return 1;
}

/* four int8-range values (zero point included) -> activation clamp in 16-bit lanes -> one word at out */
static inline void store4_fold(int8_t *out, int32_t r0, int32_t r1, int32_t r2, int32_t r3, int32_t lo2,
                               int32_t hi2, int lo_on, int hi_on)
{
    uint32_t v02 = ((uint32_t)r0 & 0xFFFFu) | ((uint32_t)r2 << 16);
    uint32_t v13 = ((uint32_t)r1 & 0xFFFFu) | ((uint32_t)r3 << 16);
    if (lo_on) {
        (void)__ssub16((int32_t)v02, lo2);
        v02 = __sel(v02, (uint32_t)lo2);
        (void)__ssub16((int32_t)v13, lo2);
        v13 = __sel(v13, (uint32_t)lo2);
    }
    if (hi_on) {
        (void)__ssub16((int32_t)v02, hi2);
        v02 = __sel((uint32_t)hi2, v02);
        (void)__ssub16((int32_t)v13, hi2);
        v13 = __sel((uint32_t)hi2, v13);
    }
    const uint32_t word = (v02 & 0x00FF00FFu) | ((v13 & 0x00FF00FFu) << 8);
    memcpy(out, &word, sizeof word);
}

typedef struct {
    const int8_t *input;
    const int8_t *filter;
    const int32_t *bias;
    const int32_t *mult;
    const int32_t *shift;
    int32_t c_in, c_out, mult_d; /* channels in / out, depth multiplier */
    int32_t fw;                  /* filter width */
    int32_t row_step, col_step;  /* input bytes between window rows / columns */
    int32_t off, off2, zp, lo, hi, zp2, lo2, hi2;
    int32_t fold;          /* 1: rq_fold / store4_fold (all shifts in [-22, -1]) */
    int32_t zp21;          /* 2 * zp + 1 */
    int32_t lo_on, hi_on;  /* activation bounds other than int8's */
} dw_ctx;

/* acc[0..3] += one tap (4 channels): x at the input, w at the filter */
#define MF_DW_TAP(xp, wp)                                                                 \
    do {                                                                                  \
        const uint32_t xv_ = ld32(xp), wv_ = ld32(wp);                                    \
        const int32_t xe_ = __sxtab16(off2, xv_), we_ = __sxtb16(wv_);                    \
        const int32_t xo_ = sxtab16_ror8(off2, xv_), wo_ = sxtb16_ror8(wv_);              \
        a0 = __smlabb(xe_, we_, a0);                                                      \
        a2 = __smlatt(xe_, we_, a2);                                                      \
        a1 = __smlabb(xo_, wo_, a1);                                                      \
        a3 = __smlatt(xo_, wo_, a3);                                                      \
    } while (0)

#define MF_DW_TAP_ASM(XADDR, WADDR)                  \
"ldr %[t0], " XADDR "\n\t"                    \
"ldr %[t1], " WADDR "\n\t"                    \
"sxtab16 %[t2], %[off2], %[t0]\n\t"           \
"sxtab16 %[t0], %[off2], %[t0], ror #8\n\t"   \
"sxtb16 %[t3], %[t1]\n\t"                     \
"sxtb16 %[t1], %[t1], ror #8\n\t"             \
"smlabb %[a0], %[t2], %[t3], %[a0]\n\t"       \
"smlatt %[a2], %[t2], %[t3], %[a2]\n\t"       \
"smlabb %[a1], %[t0], %[t1], %[a1]\n\t"       \
"smlatt %[a3], %[t0], %[t1], %[a3]\n\t"

/* acc[0..3] += one window row of 3 taps, 4 channels, columns C bytes apart in the input and the filter
 * (dilation_w == 1). Inline assembly (in C, GCC spills here); one row per statement keeps it at 12 register
 * operands, so it compiles at -Os / -O3 too. No "memory" clobber (it made GCC keep the accumulators in memory):
 * nothing in this kernel writes the input or the filter, and the only stores (outputs, which may overlap the
 * input in place) depend on the results, so GCC can only move a read earlier or a store later than the
 * reference order, which the in-place planning allows. */
static inline void dw_row3(const int8_t *x, const int8_t *w, int32_t C, int32_t off2, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    uint32_t t0, t1, t2, t3;
    __asm__ volatile(MF_DW_TAP_ASM("[%[x]]", "[%[w]]")
                     MF_DW_TAP_ASM("[%[x], %[C]]", "[%[w], %[C]]")
                     MF_DW_TAP_ASM("[%[x], %[C], lsl #1]", "[%[w], %[C], lsl #1]")
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [t0] "=&r"(t0), [t1] "=&r"(t1),
                       [t2] "=&r"(t2), [t3] "=&r"(t3)
                     : [x] "r"(x), [w] "r"(w), [C] "r"(C), [off2] "r"(off2));
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* acc += rows [0, rows) of a 3-column window, 4 channels; x steps rs per row, w steps 3C */
static inline void dw_rows3(const int8_t *x, const int8_t *w, int32_t rows, int32_t C, int32_t rs, int32_t off2,
                            int32_t *acc)
{
    for (int32_t r = 0; r < rows; ++r, x += rs, w += 3 * C) {
        dw_row3(x, w, C, off2, acc);
    }
}

/* One output pixel, depth multiplier 1: window rows [ky0, ky1), columns [kx0, kx1) inside the image,
 * base = input offset of the window's top-left tap (may lie outside the image). */
__attribute__((noinline)) static void dw_pixel_m1(const dw_ctx *d, int32_t base, int32_t ky0, int32_t ky1,
                                                  int32_t kx0, int32_t kx1, int8_t *out)
{
    const int32_t C = d->c_in, rs = d->row_step, cs = d->col_step, wrow = d->fw * C;
    const int32_t off2 = d->off2;
    const int32_t ncol = kx1 - kx0;
    const int8_t *x_first = d->input + (base + ky0 * rs + kx0 * cs);
    const int8_t *w_first = d->filter + (ky0 * d->fw + kx0) * C;
    int32_t c = 0;
    for (; c + 3 < C; c += 4) {
        int32_t acc[4] = {0, 0, 0, 0};
        if (d->bias != NULL) {
            memcpy(acc, d->bias + c, sizeof acc);
        }
        const int8_t *xr = x_first + c, *wr = w_first + c;
        if (ncol == 3 && cs == C && ky1 > ky0) {
            dw_rows3(xr, wr, ky1 - ky0, C, rs, off2, acc);
        } else {
            int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
            for (int32_t ky = ky0; ky < ky1; ++ky, xr += rs, wr += wrow) {
                for (int32_t k = 0; k < ncol; ++k) {
                    MF_DW_TAP(xr + k * cs, wr + k * C);
                }
            }
            acc[0] = a0;
            acc[1] = a1;
            acc[2] = a2;
            acc[3] = a3;
        }
        const int32_t *m = d->mult + c, *sh = d->shift + c;
        if (d->fold) {
            const int32_t z = d->zp21;
            store4_fold(out + c, rq_fold(acc[0], m[0], sh[0], z), rq_fold(acc[1], m[1], sh[1], z),
                        rq_fold(acc[2], m[2], sh[2], z), rq_fold(acc[3], m[3], sh[3], z), d->lo2, d->hi2, d->lo_on,
                        d->hi_on);
        } else {
            store4(out + c, rq_apply(acc[0], m[0], sh[0]), rq_apply(acc[1], m[1], sh[1]),
                   rq_apply(acc[2], m[2], sh[2]), rq_apply(acc[3], m[3], sh[3]), d->zp2, d->lo2, d->hi2);
        }
    }
    for (; c < C; ++c) {
        int32_t acc = d->bias != NULL ? d->bias[c] : 0;
        const int8_t *xr = x_first + c, *wr = w_first + c;
        for (int32_t ky = ky0; ky < ky1; ++ky, xr += rs, wr += wrow) {
            for (int32_t k = 0; k < ncol; ++k) {
                acc += ((int32_t)xr[k * cs] + d->off) * (int32_t)wr[k * C];
            }
        }
        out[c] = store1(rq_apply(acc, d->mult[c], d->shift[c]), d->zp, d->lo, d->hi);
    }
}

/* One output pixel whose 3x3 window lies inside the image, depth multiplier 1, bias present, shifts foldable
 * (d->fold), C % 4 == 0, dilation_w 1: the common case without the per-block shape checks. x: window top-left. */
__attribute__((always_inline)) static inline void dw_px3x3_body(const dw_ctx *d, const int8_t *x, int8_t *out,
                                                                int lo_on, int hi_on)
{
    const int32_t C = d->c_in, rs = d->row_step, off2 = d->off2, zp21 = d->zp21, lo2 = d->lo2, hi2 = d->hi2;
    const int8_t *w = d->filter;
    const int32_t *bias = d->bias, *mult = d->mult, *shift = d->shift;
    for (int32_t c = 0; c < C; c += 4) {
        int32_t acc[4];
        memcpy(acc, bias + c, sizeof acc);
        dw_row3(x + c, w + c, C, off2, acc);
        dw_row3(x + c + rs, w + c + 3 * C, C, off2, acc);
        dw_row3(x + c + 2 * rs, w + c + 6 * C, C, off2, acc);
        store4_fold(out + c, rq_fold(acc[0], mult[c], shift[c], zp21), rq_fold(acc[1], mult[c + 1], shift[c + 1], zp21),
                    rq_fold(acc[2], mult[c + 2], shift[c + 2], zp21), rq_fold(acc[3], mult[c + 3], shift[c + 3], zp21),
                    lo2, hi2, lo_on, hi_on);
    }
}

__attribute__((noinline)) static void dw_px3x3(const dw_ctx *d, const int8_t *x, int8_t *out)
{
    if (!d->lo_on && !d->hi_on) {
        dw_px3x3_body(d, x, out, 0, 0);
    } else if (!d->lo_on) {
        dw_px3x3_body(d, x, out, 0, 1);
    } else {
        dw_px3x3_body(d, x, out, 1, 1);
    }
}

/*
 * Interior runs of 3x3 windows, depth multiplier 1, C % 4 == 0 and C <= MF_DW_RUN_MAX_C, foldable shifts:
 * consecutive output pixels of one row whose windows lie inside the image, in one call. Per channel the bias,
 * multiplier, rounding constant (zero point folded, see rq_fold) and exponent are precomputed once per layer
 * into a stack table (dw_prm, 16 bytes per channel, 2 KB), grouped by 4 channels so one group's constants are
 * adjacent; the 4 accumulators stay in registers across the 3 window rows; the 4 int8 results are packed into
 * one word and the activation clamp runs on the 4 bytes at once (SSUB8/SEL).
 */
#define MF_DW_RUN_MAX_C 128

typedef struct {
    int32_t bias[4];
    int32_t mk[8]; /* multiplier, rounding constant per channel: adjacent for LDRD */
    int32_t e[4];
} dw_prm4;

/* the byte offsets MF_LDRD_PRM uses (C99: no _Static_assert) */
typedef char dw_prm4_layout_check[offsetof(dw_prm4, mk) == 16 && offsetof(dw_prm4, e) == 48 ? 1 : -1];

/* one window row (3 taps, 4 channels) into the scalars a0..a3 */
#define MF_DW_ROW3(XP, WP)                                                                                   \
    __asm__ volatile(MF_DW_TAP_ASM("[%[x]]", "[%[w]]") MF_DW_TAP_ASM("[%[x], %[C]]", "[%[w], %[C]]")         \
                         MF_DW_TAP_ASM("[%[x], %[C], lsl #1]", "[%[w], %[C], lsl #1]")                       \
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [t0] "=&r"(t0),             \
                       [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)                                          \
                     : [x] "r"(XP), [w] "r"(WP), [C] "r"(C), [off2] "r"(off2))

static inline int32_t rq_s8(int32_t acc, int32_t m, int32_t k, int32_t e)
{
    return __ssat(smmlar(acc * 2, m, k + (acc >> 31)) >> e, 8);
}

/* a, b = the two words at byte offset OFF (a literal) of the dw_prm4 p in one LDRD (GCC loads the table's pairs one
 * by one); the "m" operand orders it after the table's stores */
#define MF_LDRD_PRM(a, b, p, OFF)                                                                                  \
    __asm__("ldrd %0, %1, [%2, #" OFF "]" : "=r"(a), "=r"(b) : "r"(p), "m"(*(const dw_prm4 *)(p)))

/* v with bits [LSB, LSB + 8) replaced by the low byte of x (BFI; GCC emits masks and ORRs instead) */
#define MF_BFI8(v, x, LSB) __asm__("bfi %0, %1, #" LSB ", #8" : "+r"(v) : "r"(x))

/* requantize 4 accumulators with one group's constants, activation clamp on the 4 packed bytes, one word store */
__attribute__((always_inline)) static inline void rq_store4(const dw_prm4 *p, int32_t a0, int32_t a1, int32_t a2,
                                                            int32_t a3, uint32_t lo4, uint32_t hi4, int8_t *out,
                                                            int lo_on, int hi_on)
{
    int32_t m0, k0, m1, k1, m2, k2, m3, k3, e0, e1, e2, e3;
    MF_LDRD_PRM(m0, k0, p, "16"); /* offsetof(dw_prm4, mk) == 16, offsetof(dw_prm4, e) == 48 */
    MF_LDRD_PRM(m1, k1, p, "24");
    MF_LDRD_PRM(m2, k2, p, "32");
    MF_LDRD_PRM(m3, k3, p, "40");
    MF_LDRD_PRM(e0, e1, p, "48");
    MF_LDRD_PRM(e2, e3, p, "56");
    uint32_t v = (uint32_t)rq_s8(a0, m0, k0, e0);
    MF_BFI8(v, (uint32_t)rq_s8(a1, m1, k1, e1), "8");
    MF_BFI8(v, (uint32_t)rq_s8(a2, m2, k2, e2), "16");
    MF_BFI8(v, (uint32_t)rq_s8(a3, m3, k3, e3), "24");
    if (lo_on) {
        (void)__ssub8((int8x4_t)v, (int8x4_t)lo4);
        v = __sel(v, lo4);
    }
    if (hi_on) {
        (void)__ssub8((int8x4_t)v, (int8x4_t)hi4);
        v = __sel(hi4, v);
    }
    memcpy(out, &v, sizeof v);
}

/* one window row of 2 / 1 taps (4 channels) into the scalars a0..a3 (border windows cut by the left/right edge) */
#define MF_DW_ROW2(XP, WP)                                                                                   \
    __asm__ volatile(MF_DW_TAP_ASM("[%[x]]", "[%[w]]") MF_DW_TAP_ASM("[%[x], %[C]]", "[%[w], %[C]]")         \
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [t0] "=&r"(t0),             \
                       [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)                                          \
                     : [x] "r"(XP), [w] "r"(WP), [C] "r"(C), [off2] "r"(off2))

#define MF_DW_ROW1(XP, WP)                                                                                   \
    __asm__ volatile(MF_DW_TAP_ASM("[%[x]]", "[%[w]]")                                                      \
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [t0] "=&r"(t0),             \
                       [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)                                          \
                     : [x] "r"(XP), [w] "r"(WP), [off2] "r"(off2))

/* n pixels, window top-left x (stepping xs bytes per pixel), output out (C bytes per pixel) */
__attribute__((always_inline)) static inline void dw_run3x3_body(const dw_ctx *d, const dw_prm4 *prm,
                                                                 const int8_t *x, int32_t xs, int32_t n,
                                                                 int8_t *out, int lo_on, int hi_on)
{
    const int32_t C = d->c_in, rs = d->row_step, off2 = d->off2;
    const uint32_t lo4 = ((uint32_t)d->lo & 0xFFu) * 0x01010101u, hi4 = ((uint32_t)d->hi & 0xFFu) * 0x01010101u;
    const int8_t *filter = d->filter;
    for (int32_t i = 0; i < n; ++i, x += xs, out += C) {
        const dw_prm4 *p = prm;
        for (int32_t c = 0; c < C; c += 4, ++p) {
            int32_t a0 = p->bias[0], a1 = p->bias[1], a2 = p->bias[2], a3 = p->bias[3];
            uint32_t t0, t1, t2, t3;
            const int8_t *xr = x + c, *wr = filter + c;
            MF_DW_ROW3(xr, wr);
            MF_DW_ROW3(xr + rs, wr + 3 * C);
            MF_DW_ROW3(xr + 2 * rs, wr + 6 * C);
            rq_store4(p, a0, a1, a2, a3, lo4, hi4, out + c, lo_on, hi_on);
        }
    }
}

/*
 * Pre-extended weights (C <= MF_DW_WX_MAX_C): the 9 taps of each 4-channel group stored once per layer as SXTB16
 * pairs (even channels, odd channels: 18 words per group after the constant table, 34 bytes per channel in the
 * same 2 KB stack union), so a tap is LDR + LDRD + 2 SXTAB16 + 4 multiply-accumulates (8 instructions, was 10).
 */
#define MF_DW_WX_MAX_C 60

/* one tap from the pre-extended table: WOFF the byte offset of its word pair (immediate) */
#define MF_DW_TAPX_ASM(XADDR, WOFF)                 \
"ldr %[t0], " XADDR "\n\t"                    \
"ldrd %[t1], %[t3], [%[w], #" WOFF "]\n\t"    \
"sxtab16 %[t2], %[off2], %[t0]\n\t"           \
"sxtab16 %[t0], %[off2], %[t0], ror #8\n\t"   \
"smlabb %[a0], %[t2], %[t1], %[a0]\n\t"       \
"smlatt %[a2], %[t2], %[t1], %[a2]\n\t"       \
"smlabb %[a1], %[t0], %[t3], %[a1]\n\t"       \
"smlatt %[a3], %[t0], %[t3], %[a3]\n\t"

#define MF_DW_ROW3X(XP, W0, W1, W2)                                                                          \
    __asm__ volatile(MF_DW_TAPX_ASM("[%[x]]", W0) MF_DW_TAPX_ASM("[%[x], %[C]]", W1)                       \
                         MF_DW_TAPX_ASM("[%[x], %[C], lsl #1]", W2)                                          \
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [t0] "=&r"(t0),             \
                       [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)                                          \
                     : [x] "r"(XP), [w] "r"(WP), [C] "r"(C), [off2] "r"(off2))

__attribute__((always_inline)) static inline void dw_run3x3x_body(const dw_ctx *d, const dw_prm4 *prm,
                                                                  const uint32_t *wx, const int8_t *x, int32_t xs,
                                                                  int32_t n, int8_t *out, int lo_on, int hi_on)
{
    const int32_t C = d->c_in, rs = d->row_step, off2 = d->off2;
    const uint32_t lo4 = ((uint32_t)d->lo & 0xFFu) * 0x01010101u, hi4 = ((uint32_t)d->hi & 0xFFu) * 0x01010101u;
    for (int32_t i = 0; i < n; ++i, x += xs, out += C) {
        const dw_prm4 *p = prm;
        const uint32_t *WP = wx;
        for (int32_t c = 0; c < C; c += 4, ++p, WP += 18) {
            int32_t a0 = p->bias[0], a1 = p->bias[1], a2 = p->bias[2], a3 = p->bias[3];
            uint32_t t0, t1, t2, t3;
            const int8_t *xr = x + c;
            MF_DW_ROW3X(xr, "0", "8", "16");
            MF_DW_ROW3X(xr + rs, "24", "32", "40");
            MF_DW_ROW3X(xr + 2 * rs, "48", "56", "64");
            rq_store4(p, a0, a1, a2, a3, lo4, hi4, out + c, lo_on, hi_on);
        }
    }
}

__attribute__((noinline)) static void dw_run3x3x(const dw_ctx *d, const dw_prm4 *prm, const uint32_t *wx,
                                                 const int8_t *x, int32_t xs, int32_t n, int8_t *out)
{
    if (!d->lo_on && !d->hi_on) {
        dw_run3x3x_body(d, prm, wx, x, xs, n, out, 0, 0);
    } else if (!d->lo_on) {
        dw_run3x3x_body(d, prm, wx, x, xs, n, out, 0, 1);
    } else {
        dw_run3x3x_body(d, prm, wx, x, xs, n, out, 1, 1);
    }
}

/* wx[g * 18 + 2 * tap + {0, 1}]: SXTB16 of channels (4g, 4g + 2) and (4g + 1, 4g + 3) of the tap's filter word */
static void dw_wx_init(const dw_ctx *d, uint32_t *wx)
{
    for (int32_t c = 0; c < d->c_in; c += 4) {
        for (int32_t t = 0; t < 9; ++t, wx += 2) {
            const uint32_t w = ld32(d->filter + t * d->c_in + c);
            wx[0] = (uint32_t)__sxtb16(w);
            wx[1] = (uint32_t)sxtb16_ror8(w);
        }
    }
}

__attribute__((noinline)) static void dw_run3x3(const dw_ctx *d, const dw_prm4 *prm, const int8_t *x, int32_t xs,
                                                int32_t n, int8_t *out)
{
    if (!d->lo_on && !d->hi_on) {
        dw_run3x3_body(d, prm, x, xs, n, out, 0, 0);
    } else if (!d->lo_on) {
        dw_run3x3_body(d, prm, x, xs, n, out, 0, 1);
    } else {
        dw_run3x3_body(d, prm, x, xs, n, out, 1, 1);
    }
}

/*
 * Border pixels of the dw_run3x3 layers (window cut by the image edge): the taps inside the image only (the
 * reference skips the others), rows [0, rows) of ncol (1..3) columns from x (window rows rs apart) and either the
 * filter at w (rows 3C apart) or, when wx != NULL, the pre-extended weights at wx (the window's first tap in
 * group 0; rows 6 words apart, groups 18); the same table constants, register accumulators and byte clamp as the
 * runs (both clamps always: with int8 bounds they select the value); no copy, no extra stack.
 * ncol and wx_on are constants at every call.
 */
#define MF_DW_ROW2X(XP)                                                                                      \
    __asm__ volatile(MF_DW_TAPX_ASM("[%[x]]", "0") MF_DW_TAPX_ASM("[%[x], %[C]]", "8")                     \
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [t0] "=&r"(t0),             \
                       [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)                                          \
                     : [x] "r"(XP), [w] "r"(WP), [C] "r"(C), [off2] "r"(off2))

#define MF_DW_ROW1X(XP)                                                                                      \
    __asm__ volatile(MF_DW_TAPX_ASM("[%[x]]", "0")                                                          \
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [t0] "=&r"(t0),             \
                       [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)                                          \
                     : [x] "r"(XP), [w] "r"(WP), [off2] "r"(off2))

__attribute__((always_inline)) static inline void dw_edge3x3_body(const dw_ctx *d, const dw_prm4 *prm,
                                                                  const uint32_t *wx, const int8_t *x,
                                                                  const int8_t *w, int32_t rows, int8_t *out,
                                                                  int ncol, int wx_on)
{
    const int32_t C = d->c_in, rs = d->row_step, off2 = d->off2;
    const uint32_t lo4 = ((uint32_t)d->lo & 0xFFu) * 0x01010101u, hi4 = ((uint32_t)d->hi & 0xFFu) * 0x01010101u;
    const dw_prm4 *p = prm;
    for (int32_t c = 0; c < C; c += 4, ++p) {
        int32_t a0 = p->bias[0], a1 = p->bias[1], a2 = p->bias[2], a3 = p->bias[3];
        uint32_t t0, t1, t2, t3;
        const int8_t *xr = x + c;
        if (wx_on) {
            const uint32_t *WP = wx + c / 4 * 18;
            for (int32_t r = 0; r < rows; ++r, xr += rs, WP += 6) {
                if (ncol == 3) {
                    MF_DW_ROW3X(xr, "0", "8", "16");
                } else if (ncol == 2) {
                    MF_DW_ROW2X(xr);
                } else {
                    MF_DW_ROW1X(xr);
                }
            }
        } else {
            const int8_t *wr = w + c;
            for (int32_t r = 0; r < rows; ++r, xr += rs, wr += 3 * C) {
                if (ncol == 3) {
                    MF_DW_ROW3(xr, wr);
                } else if (ncol == 2) {
                    MF_DW_ROW2(xr, wr);
                } else {
                    MF_DW_ROW1(xr, wr);
                }
            }
        }
        rq_store4(p, a0, a1, a2, a3, lo4, hi4, out + c, 1, 1);
    }
}

/* ncol 0 (a window without taps: rows = 0) takes the 1-column body */
__attribute__((noinline)) static void dw_edge3x3(const dw_ctx *d, const dw_prm4 *prm, const uint32_t *wx,
                                                 const int8_t *x, const int8_t *w, int32_t rows, int32_t ncol,
                                                 int8_t *out)
{
    rows = ncol > 0 ? rows : 0;
    if (wx != NULL) {
        if (ncol == 3) {
            dw_edge3x3_body(d, prm, wx, x, w, rows, out, 3, 1);
        } else if (ncol == 2) {
            dw_edge3x3_body(d, prm, wx, x, w, rows, out, 2, 1);
        } else {
            dw_edge3x3_body(d, prm, wx, x, w, rows, out, 1, 1);
        }
    } else {
        if (ncol == 3) {
            dw_edge3x3_body(d, prm, wx, x, w, rows, out, 3, 0);
        } else if (ncol == 2) {
            dw_edge3x3_body(d, prm, wx, x, w, rows, out, 2, 0);
        } else {
            dw_edge3x3_body(d, prm, wx, x, w, rows, out, 1, 0);
        }
    }
}

static void dw_prm_init(const dw_ctx *d, dw_prm4 *prm)
{
    for (int32_t c = 0; c < d->c_in; ++c) {
        dw_prm4 *p = prm + c / 4;
        const int32_t e = -d->shift[c];
        p->bias[c % 4] = d->bias != NULL ? d->bias[c] : 0;
        p->mk[2 * (c % 4)] = d->mult[c];
        p->mk[2 * (c % 4) + 1] = (int32_t)((uint32_t)d->zp21 << (e - 1));
        p->e[c % 4] = e;
    }
}

/* One output pixel, depth multiplier M % 4 == 0: each input value against 4 filter lanes at a time. */
__attribute__((noinline)) static void dw_pixel_m4(const dw_ctx *d, int32_t base, int32_t ky0, int32_t ky1,
                                                  int32_t kx0, int32_t kx1, int8_t *out)
{
    const int32_t C = d->c_in, OC = d->c_out, M = d->mult_d, rs = d->row_step, cs = d->col_step;
    const int32_t ncol = kx1 - kx0;
    for (int32_t c = 0; c < C; ++c) {
        const int8_t *x_first = d->input + (base + ky0 * rs + kx0 * cs + c);
        for (int32_t m = 0; m < M; m += 4) {
            const int32_t o = c * M + m;
            int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            if (d->bias != NULL) {
                a0 = d->bias[o];
                a1 = d->bias[o + 1];
                a2 = d->bias[o + 2];
                a3 = d->bias[o + 3];
            }
            const int8_t *xr = x_first;
            const int8_t *wr = d->filter + (ky0 * d->fw + kx0) * OC + o;
            for (int32_t ky = ky0; ky < ky1; ++ky, xr += rs, wr += d->fw * OC) {
                for (int32_t k = 0; k < ncol; ++k) {
                    const int32_t xv = (int32_t)xr[k * cs] + d->off;
                    const uint32_t wv = ld32(wr + k * OC);
                    const int32_t we = __sxtb16(wv), wo = sxtb16_ror8(wv);
                    a0 = __smlabb(xv, we, a0);
                    a1 = __smlabb(xv, wo, a1);
                    a2 = __smlabt(xv, we, a2);
                    a3 = __smlabt(xv, wo, a3);
                }
            }
            const int32_t *mm = d->mult + o, *sh = d->shift + o;
            if (d->fold) {
                const int32_t z = d->zp21;
                store4_fold(out + o, rq_fold(a0, mm[0], sh[0], z), rq_fold(a1, mm[1], sh[1], z),
                            rq_fold(a2, mm[2], sh[2], z), rq_fold(a3, mm[3], sh[3], z), d->lo2, d->hi2, d->lo_on,
                            d->hi_on);
            } else {
                store4(out + o, rq_apply(a0, mm[0], sh[0]), rq_apply(a1, mm[1], sh[1]), rq_apply(a2, mm[2], sh[2]),
                       rq_apply(a3, mm[3], sh[3]), d->zp2, d->lo2, d->hi2);
            }
        }
    }
}
/*
 * Planar rows (3x3 filters, dilation 1, any stride and depth multiplier 1 or 4k, all shifts in [-22, -1]):
 * for one output row and a chunk of input channels, the 3 input rows the row's windows need are copied into a
 * stack buffer as int16 planes, one per channel, input offset added, zeros for padding (MF_DW_PLANAR_BUF
 * values, 2 KB). A window row of one channel is then 2 int16 pairs: (x0, x1) against the pre-paired weights
 * (w0, w1) with SMLAD and x2 with SMLABB, so 2 output pixels take 4 loads and 4 multiply-accumulates per window
 * row (1.33 instructions per MAC) and the channel's weights, bias and requantization constants are loaded once
 * per output row. Outputs of a chunk are written pixel-strided after the chunk's input was copied: safe when the
 * chunk holds every channel, or when the output row cannot reach input still to be read (checked per row from
 * the pointers); other rows take the per-pixel paths.
 */
#define MF_DW_PLANAR_BUF 1024 /* int16 values: 2 KB */

static inline uint32_t ld32h(const int16_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline int32_t smlad_(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlad((int16x2_t)a, (int16x2_t)b, acc);
}

typedef struct {
    int32_t in_h, in_w, sh, sw, ph, pw, out_w;
    int32_t wp;  /* plane width: (out_w - 1) * sw + 4 (the pair load at the last window's column 2 reads one more) */
    int32_t cc;  /* channels per chunk */
} dw_planar;

static inline int32_t clamp_on(int32_t v, int32_t lo, int32_t hi, int lo_on, int hi_on)
{
    if (lo_on) {
        v = v < lo ? lo : v;
    }
    if (hi_on) {
        v = v > hi ? hi : v;
    }
    return v;
}

/* One output channel along the row: planes r (3 rows, wp apart), weights f (stride OC), output op (stride OC).
 * sw, lo_on, hi_on: compile-time constants at every call. */
__attribute__((always_inline)) static inline void planar_channel(const int16_t *r, int32_t wp, const int8_t *f,
                                                                 int32_t OC, int32_t bias, int32_t m, int32_t sh,
                                                                 int32_t zp21, int32_t lo, int32_t hi, int8_t *op,
                                                                 int32_t out_w, int32_t sw, int lo_on, int hi_on)
{
    const uint32_t w01a = ((uint32_t)(int32_t)f[0] & 0xFFFFu) | ((uint32_t)(int32_t)f[OC] << 16);
    const uint32_t w01b = ((uint32_t)(int32_t)f[3 * OC] & 0xFFFFu) | ((uint32_t)(int32_t)f[4 * OC] << 16);
    const uint32_t w01c = ((uint32_t)(int32_t)f[6 * OC] & 0xFFFFu) | ((uint32_t)(int32_t)f[7 * OC] << 16);
    const int32_t w2a = f[2 * OC], w2b = f[5 * OC], w2c = f[8 * OC];
    const int16_t *r0 = r, *r1 = r + wp, *r2 = r + 2 * wp;
    int32_t x = 0;
    for (; x + 1 < out_w; x += 2, r0 += 2 * sw, r1 += 2 * sw, r2 += 2 * sw, op += 2 * OC) {
        int32_t a0 = bias, a1 = bias;
        a0 = smlad_(ld32h(r0), w01a, a0);
        a0 = __smlabb((int32_t)ld32h(r0 + 2), w2a, a0);
        a1 = smlad_(ld32h(r0 + sw), w01a, a1);
        a1 = __smlabb((int32_t)ld32h(r0 + sw + 2), w2a, a1);
        a0 = smlad_(ld32h(r1), w01b, a0);
        a0 = __smlabb((int32_t)ld32h(r1 + 2), w2b, a0);
        a1 = smlad_(ld32h(r1 + sw), w01b, a1);
        a1 = __smlabb((int32_t)ld32h(r1 + sw + 2), w2b, a1);
        a0 = smlad_(ld32h(r2), w01c, a0);
        a0 = __smlabb((int32_t)ld32h(r2 + 2), w2c, a0);
        a1 = smlad_(ld32h(r2 + sw), w01c, a1);
        a1 = __smlabb((int32_t)ld32h(r2 + sw + 2), w2c, a1);
        op[0] = (int8_t)clamp_on(rq_fold(a0, m, sh, zp21), lo, hi, lo_on, hi_on);
        op[OC] = (int8_t)clamp_on(rq_fold(a1, m, sh, zp21), lo, hi, lo_on, hi_on);
    }
    if (x < out_w) {
        int32_t a0 = bias;
        a0 = smlad_(ld32h(r0), w01a, a0);
        a0 = __smlabb((int32_t)ld32h(r0 + 2), w2a, a0);
        a0 = smlad_(ld32h(r1), w01b, a0);
        a0 = __smlabb((int32_t)ld32h(r1 + 2), w2b, a0);
        a0 = smlad_(ld32h(r2), w01c, a0);
        a0 = __smlabb((int32_t)ld32h(r2 + 2), w2c, a0);
        op[0] = (int8_t)clamp_on(rq_fold(a0, m, sh, zp21), lo, hi, lo_on, hi_on);
    }
}

/* every channel of a chunk: planes at buf (3 * wp values per input channel), sw / lo_on / hi_on constants */
__attribute__((always_inline)) static inline void planar_chunk(const dw_ctx *d, const dw_planar *pl,
                                                               const int16_t *buf, int32_t c0, int32_t cc,
                                                               int8_t *out_row, int32_t sw, int lo_on, int hi_on)
{
    const int32_t M = d->mult_d, OC = d->c_out, wp = pl->wp, zp21 = d->zp21, lo = d->lo, hi = d->hi;
    for (int32_t ci = 0; ci < cc; ++ci) {
        for (int32_t mi = 0; mi < M; ++mi) {
            const int32_t o = (c0 + ci) * M + mi;
            planar_channel(buf + ci * 3 * wp, wp, d->filter + o, OC, d->bias != NULL ? d->bias[o] : 0, d->mult[o],
                           d->shift[o], zp21, lo, hi, out_row + o, pl->out_w, sw, lo_on, hi_on);
        }
    }
}

/* Output row y of batch b, all channels (chunk by chunk); stride_w 1 or 2. out_row: the row's first output byte. */
__attribute__((noinline)) static void dw_row_planar(const dw_ctx *d, const dw_planar *pl, int32_t b, int32_t y,
                                                    int8_t *out_row, int16_t *buf)
{
    const int32_t C = d->c_in, wp = pl->wp, off = d->off, off2 = d->off2;
    const int32_t y0 = y * pl->sh - pl->ph;
    const int lo_on = d->lo > -128, hi_on = d->hi < 127;
    for (int32_t c0 = 0; c0 < C; c0 += pl->cc) {
        const int32_t cc = C - c0 < pl->cc ? C - c0 : pl->cc;
        /* copy: plane ci, row ky at buf[(ci * 3 + ky) * wp]; columns [xa, xb) lie inside the image, the rest and
         * rows outside it are zeros */
        const int32_t step = 3 * wp;
        const int32_t xa = pl->pw < wp ? pl->pw : wp;
        const int32_t xb = pl->in_w + pl->pw < wp ? pl->in_w + pl->pw : wp;
        for (int32_t ky = 0; ky < 3; ++ky) {
            const int32_t iy = y0 + ky;
            const int inside = iy >= 0 && iy < pl->in_h;
            for (int32_t ci = 0; ci < cc; ++ci) {
                int16_t *plane = buf + ci * step + ky * wp;
                for (int32_t xp = 0; xp < (inside ? xa : wp); ++xp) {
                    plane[xp] = 0;
                }
                for (int32_t xp = inside ? xb : wp; xp < wp; ++xp) {
                    plane[xp] = 0;
                }
            }
            if (!inside || xb <= xa) {
                continue;
            }
            const int8_t *row = d->input + ((b * pl->in_h + iy) * pl->in_w + (xa - pl->pw)) * C + c0;
            if (cc == 1) { /* one channel per chunk (person_detect's first layer): a plain strided copy */
                int16_t *dst = buf + ky * wp;
                for (int32_t xp = xa; xp < xb; ++xp, row += C) {
                    dst[xp] = (int16_t)(*row + off);
                }
                continue;
            }
            for (int32_t xp = xa; xp < xb; ++xp) {
                int16_t *dst = buf + ky * wp + xp;
                const int8_t *src = row + (xp - xa) * C;
                int32_t ci = 0;
                for (; ci + 3 < cc; ci += 4, dst += 4 * step) {
                    uint32_t v;
                    memcpy(&v, src + ci, sizeof v);
                    const uint32_t ev = (uint32_t)__sxtab16(off2, v), od = (uint32_t)sxtab16_ror8(off2, v);
                    dst[0] = (int16_t)ev;
                    dst[step] = (int16_t)od;
                    dst[2 * step] = (int16_t)(ev >> 16);
                    dst[3 * step] = (int16_t)(od >> 16);
                }
                for (; ci < cc; ++ci, dst += step) {
                    *dst = (int16_t)(src[ci] + off);
                }
            }
        }
        if (pl->sw == 1) {
            if (!lo_on && !hi_on) {
                planar_chunk(d, pl, buf, c0, cc, out_row, 1, 0, 0);
            } else if (!lo_on) {
                planar_chunk(d, pl, buf, c0, cc, out_row, 1, 0, 1);
            } else {
                planar_chunk(d, pl, buf, c0, cc, out_row, 1, 1, 1);
            }
        } else {
            if (!lo_on && !hi_on) {
                planar_chunk(d, pl, buf, c0, cc, out_row, 2, 0, 0);
            } else if (!lo_on) {
                planar_chunk(d, pl, buf, c0, cc, out_row, 2, 0, 1);
            } else {
                planar_chunk(d, pl, buf, c0, cc, out_row, 2, 1, 1);
            }
        }
    }
}

/* the bands' inner loop needs 13 registers for its operands: not available unoptimized (-O0 keeps a frame pointer) */
#if defined(__OPTIMIZE__)
#define MF_DW_BANDS 1
#include "mf_arm_dsp_dw_band.h"
#else
#define MF_DW_BANDS 0
#endif

#endif /* __ARM_FEATURE_DSP && MF_DSP_OPTIMIZED_BUILD */

/* The reference loop (other depth multipliers, left-shifting multipliers, cores without the DSP extension). */
static void dw_reference(const mf_depthwise_conv2d_params *params, const mf_per_channel_quant *quant,
                         const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t mult = params->depth_multiplier;

    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            for (int32_t x = 0; x < out.w; ++x) {
                const int32_t x0 = x * params->stride_w - params->pad_w;
                int8_t *out_px = output + ((b * out.h + y) * out.w + x) * out.c;
                for (int32_t c = 0; c < in.c; ++c) {
                    for (int32_t m = 0; m < mult; ++m) {
                        const int32_t o = c * mult + m;
                        int32_t acc = 0;
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
                                const int32_t in_val = input[((b * in.h + iy) * in.w + ix) * in.c + c];
                                const int32_t w_val = filter[(ky * params->filter_w + kx) * out.c + o];
                                acc += (in_val + params->input_offset) * w_val;
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
}

#if defined(__ARM_FEATURE_DSP) && defined(MF_DSP_OPTIMIZED_BUILD)
/* first tap index in [0, k) whose position start + t*d lies in [0, size), and one past the last */
static inline void tap_range(int32_t start, int32_t d, int32_t k, int32_t size, int32_t *t0, int32_t *t1)
{
    const int32_t lo = start >= 0 ? 0 : (-start + d - 1) / d;
    int32_t hi = start >= size ? 0 : (start + (k - 1) * d < size ? k : (size - 1 - start) / d + 1);
    *t0 = lo;
    *t1 = hi > lo ? hi : lo;
}
#endif

#if defined(__ARM_FEATURE_DSP) && defined(MF_DSP_OPTIMIZED_BUILD)
/* the kernel's working memory (2 KB of arena scratch, mf_depthwise_conv2d_s8_get_buffer_size): int16 planes and a
 * band buffer (bands), planar rows (M > 1) or the per-channel table (M == 1) */
typedef union {
    int16_t planar[MF_DW_PLANAR_BUF];
    uint32_t words[MF_DW_PLANAR_BUF / 2];
    dw_prm4 prm[MF_DW_RUN_MAX_C / 4];
    struct {
        dw_prm4 prm[MF_DW_WX_MAX_C / 4];
        uint32_t wx[MF_DW_WX_MAX_C / 4 * 18];
    } small; /* C <= MF_DW_WX_MAX_C: the table and the pre-extended weights */
} dw_scratch;

#endif

int32_t mf_depthwise_conv2d_s8_get_buffer_size(const mf_depthwise_conv2d_params *params)
{
#if defined(__ARM_FEATURE_DSP) && defined(MF_DSP_OPTIMIZED_BUILD)
    /* the paths that use it: 3x3 windows with depth multiplier 1 or a multiple of 4 */
    const int32_t m = params->depth_multiplier;
    const int uses = params->filter_h == 3 && params->filter_w == 3 && (m == 1 || m % 4 == 0);
    return uses ? (int32_t)sizeof(dw_scratch) : 0;
#else
    (void)params;
    return 0; /* only the reference loop is compiled */
#endif
}

void mf_depthwise_conv2d_s8(const mf_depthwise_conv2d_params *params, const mf_per_channel_quant *quant,
                            const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch)
{
#if defined(__ARM_FEATURE_DSP) && defined(MF_DSP_OPTIMIZED_BUILD)
    const mf_dims in = params->input, out = params->output;
    const int32_t M = params->depth_multiplier;
    const int32_t need = mf_depthwise_conv2d_s8_get_buffer_size(params);
    if ((M != 1 && M % 4 != 0) || !rq_fast_ok(quant, bias, out.c, params->filter_h * params->filter_w) ||
        (need > 0 && (scratch == NULL || params->scratch_bytes < need))) {
        dw_reference(params, quant, input, filter, bias, output);
        return;
    }
    dw_ctx d;
    d.input = input;
    d.filter = filter;
    d.bias = bias;
    d.mult = quant->multiplier;
    d.shift = quant->shift;
    d.c_in = in.c;
    d.c_out = out.c;
    d.mult_d = M;
    d.fw = params->filter_w;
    d.row_step = params->dilation_h * in.w * in.c;
    d.col_step = params->dilation_w * in.c;
    d.off = params->input_offset;
    d.off2 = dup16(params->input_offset);
    d.zp = params->output_offset;
    d.lo = params->act_min;
    d.hi = params->act_max;
    d.zp2 = dup16(d.zp);
    d.lo2 = dup16(d.lo);
    d.hi2 = dup16(d.hi);
    d.fold = fold_ok(quant, out.c);
    d.zp21 = 2 * d.zp + 1;
    d.lo_on = d.lo > -128;
    d.hi_on = d.hi < 127;
    const uintptr_t in_lo = (uintptr_t)input, in_hi = in_lo + (uintptr_t)(in.n * in.h * in.w * in.c);
    const uintptr_t out_lo = (uintptr_t)output, out_hi = out_lo + (uintptr_t)(out.n * out.h * out.w * out.c);
    const int disjoint = out_hi <= in_lo || out_lo >= in_hi;
    dw_scratch *const sb = (dw_scratch *)scratch; /* NULL when the layer's paths use none */
#if MF_DW_BANDS
    if (d.fold && params->filter_h == 3 && params->filter_w == 3 && params->dilation_h == 1 &&
        params->dilation_w == 1 && (params->stride_w == 1 || params->stride_w == 2 || params->stride_h == 1 ||
                                    params->stride_h == 2)) {
        dwb_ctx bc, bt;
        bc.input = input;
        bc.filter = filter;
        bc.bias = bias;
        bc.mult = quant->multiplier;
        bc.shift = quant->shift;
        bc.off = params->input_offset;
        bc.zp21 = d.zp21;
        bc.lo = d.lo;
        bc.hi = d.hi;
        bt = bc;
        dwb_geometry(&bc, params, 0);
        dwb_geometry(&bt, params, 1);
        /* chunks may write a band straight to the output when that cannot clobber input later chunks read:
         * disjoint tensors, or (depth multiplier 1) an output starting a whole number of pixels before the input:
         * then a chunk's outputs only overwrite input bytes of its own channels, already copied */
        const int direct = disjoint || (M == 1 && out_lo <= in_lo && (in_lo - out_lo) % (uintptr_t)in.c == 0);
        int32_t est = bc.sw <= 2 ? dwb_plan(&bc, (int32_t)sizeof *sb, direct, 0) : 0;
        /* column by column (tall narrow maps: longer rows of pixel pairs) when the output may be written in any
         * order: disjoint tensors, or in place as above with one band per chunk (every input value of a chunk is
         * copied before any of its outputs is written; a chunk's outputs only overwrite its own channels) */
        const int32_t est_t = direct && out.h > out.w && (params->stride_h == 1 || params->stride_h == 2)
                                  ? dwb_plan(&bt, (int32_t)sizeof *sb, 1, !disjoint) : 0;
        if (est_t > 0 && !bt.bufout && (est == 0 || est_t < est)) {
            bc = bt;
            est = est_t;
        }
        /* the 4-channel runs (C % 4 == 0, C <= MF_DW_RUN_MAX_C): ~33 instructions per output; per pixel above */
        if (est > 0 && (est < (in.c <= MF_DW_RUN_MAX_C ? 3300 : 5500) || M != 1 || in.c % 4 != 0)) {
            dwb_run(&bc, sb->words, (int32_t)sizeof *sb, output);
            return;
        }
    }
#else
    (void)disjoint;
#endif
    dw_planar pl;
    pl.in_h = in.h;
    pl.in_w = in.w;
    pl.sh = params->stride_h;
    pl.sw = params->stride_w;
    pl.ph = params->pad_h;
    pl.pw = params->pad_w;
    pl.out_w = out.w;
    pl.wp = (out.w - 1) * params->stride_w + 4;
    pl.cc = MF_DW_PLANAR_BUF / (3 * pl.wp);
    pl.cc = pl.cc > in.c ? in.c : pl.cc;
    const int planar = d.fold && params->filter_h == 3 && params->filter_w == 3 && params->dilation_h == 1 &&
                       params->dilation_w == 1 && pl.cc >= 1 && (pl.sw == 1 || pl.sw == 2) && M > 1;
    const int fast3x3 = M == 1 && d.fold && bias != NULL && in.c % 4 == 0 && params->filter_h == 3 &&
                        params->filter_w == 3 && params->dilation_w == 1;
    const int run = M == 1 && d.fold && in.c % 4 == 0 && in.c <= MF_DW_RUN_MAX_C && params->filter_h == 3 &&
                    params->filter_w == 3 && params->dilation_w == 1;
    const int wx_on = run && in.c <= MF_DW_WX_MAX_C;
    dw_prm4 *const prm = wx_on ? sb->small.prm : sb->prm;
    if (run) {
        dw_prm_init(&d, prm);
    }
    if (wx_on) {
        dw_wx_init(&d, sb->small.wx);
    }
    int8_t *out_px = output;
    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            int32_t ky0, ky1;
            tap_range(y0, params->dilation_h, params->filter_h, in.h, &ky0, &ky1);
            if (planar) {
                /* chunks write the whole output row before later chunks' input is read: the row must not reach
                 * the lowest input byte this row reads, unless one chunk holds every channel */
                const int32_t first_row = y0 + ky0 < 0 ? 0 : y0 + ky0;
                const uintptr_t rd = (uintptr_t)(input + (b * in.h + first_row) * in.w * in.c);
                if (pl.cc == in.c || disjoint || (uintptr_t)(out_px + out.w * out.c) <= rd) {
                    dw_row_planar(&d, &pl, b, y, out_px, sb->planar);
                    out_px += out.w * out.c;
                    continue;
                }
            }
            for (int32_t x = 0; x < out.w; ++x, out_px += out.c) {
                const int32_t x0 = x * params->stride_w - params->pad_w;
                int32_t kx0, kx1;
                tap_range(x0, params->dilation_w, params->filter_w, in.w, &kx0, &kx1);
                const int32_t base = ((b * in.h + y0) * in.w + x0) * in.c; /* an offset: may lie before input */
                if (run && ky1 - ky0 == 3 && kx1 - kx0 == 3) {
                    /* every pixel up to x_last has its window inside the image too */
                    const int32_t x_last = (in.w - 3 + params->pad_w) / params->stride_w;
                    const int32_t n = (x_last < out.w - 1 ? x_last : out.w - 1) - x + 1;
                    if (wx_on) {
                        dw_run3x3x(&d, prm, sb->small.wx, input + base, params->stride_w * in.c, n, out_px);
                    } else {
                        dw_run3x3(&d, prm, input + base, params->stride_w * in.c, n, out_px);
                    }
                    x += n - 1;
                    out_px += (n - 1) * out.c;
                } else if (run) {
                    const int32_t tap0 = ky0 * 3 + kx0; /* the window's first tap inside the image */
                    dw_edge3x3(&d, prm, wx_on ? sb->small.wx + 2 * tap0 : NULL,
                               input + (base + ky0 * d.row_step + kx0 * in.c), filter + tap0 * in.c, ky1 - ky0,
                               kx1 - kx0, out_px);
                } else if (fast3x3 && ky1 - ky0 == 3 && kx1 - kx0 == 3) {
                    dw_px3x3(&d, input + base, out_px);
                } else if (M == 1) {
                    dw_pixel_m1(&d, base, ky0, ky1, kx0, kx1, out_px);
                } else {
                    dw_pixel_m4(&d, base, ky0, ky1, kx0, kx1, out_px);
                }
            }
        }
    }
#else
    (void)scratch;
    dw_reference(params, quant, input, filter, bias, output);
#endif
}
