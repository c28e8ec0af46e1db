/**
 * @file mf_conv2d_s8.c (arm_dsp variant)
 * @brief int8 CONV_2D for Cortex-M4/M7/M33 with the DSP extension, bit-exact with the reference kernel.
 *
 * Arena scratch (mf_conv2d_s8_get_buffer_size: 2 KB for ungrouped layers, planned by the compiler, passed down as
 * pointer + capacity): the whole-layer 1x1 table, or the im2col blocks' int16 patch lanes, staging bytes,
 * per-channel table, padded filter copy and partial sums. Given none (the planner refused it for RAM), the layer
 * runs the copy of the reference loop. No stack buffers.
 *
 * What is specialised (groups == 1; instructions/MAC measured in QEMU mps2-an386, M4):
 *  - 1x1 stride-1 convolutions with C_in 8 or 16 and C_out <= 64 / 42 (conv_pointwise_small): the whole layer
 *    without a window copy. The filters are sign-extended and doubled once per call into the scratch table with
 *    each channel's 2 * bias and requantization constants (cost per call ~C_out * C_in / 2). Per pixel the C_in
 *    input bytes are sign-extended into registers; per channel LDRD + 2 SMLAD per 4 bytes and SMMLAR/ASR/SSAT.
 *    C_in 8: two pixels and two channels per table pass (~28 instructions per channel and pixel pair, +14 with
 *    clamps, both in assembly; an odd last pixel alone, in C when clamped): person_detect layer 2 2.46 -> 1.92.
 *    C_in 16: one pixel and two channels per pass in assembly without clamps (layer 4: 1.58 -> 1.49), a C loop
 *    with clamps (~2.3).
 *  - im2col blocks of 6 (then 4) consecutive output pixels (NHWC order, across rows and batches): the windows are
 *    sign-extended once, input offset added, into int16 lanes laid out for SMLAD (conv_im2col): window row by
 *    window row (contiguous runs when dilation_w == 1, zeros for taps outside the image), LDR + 2 SXTAB16 + STRD
 *    per 4 bytes; for C_in % 4 != 0 through byte staging where taps outside the image and the pad lanes of the
 *    last group are the byte -input_offset (zero after the offset). Then per output channel an assembly loop
 *    (block6_* / block4_*): each filter word (LDR + 2 SXTB16) feeds the 6 (4) pixels, 6 (4) LDRD + 12 (8) SMLAD
 *    = 0.875 (0.94) instructions/MAC + 3 per 4 (2 per 2) groups of 4 elements (the 6-pixel loop does 4 groups per
 *    pass, entered by a computed branch past the groups % 4 it skips); per channel ~25-30 (bias, loop, table or
 *    array loads) and per output ADD + LSL + SMMLAR + ASR + SSAT + STRB (+3 per active activation bound).
 *    Per-channel constants: a {bias, m, k, e} table built once per call when it fits beside the lanes, else
 *    loaded from the arrays (8 more instructions per channel). Patches ending mid-group use a zero-padded filter
 *    copy when it fits (else the last channel runs the C loop). Patches too large for one buffer run in chunks
 *    of whole taps with np int32 partial sums per channel (6-pixel blocks only when the estimated chunk overhead
 *    does not outweigh their cheaper loop). Fill: 1x1 stride-1 unpadded layers straight from the input, blocks on
 *    one output row with every window inside through assembly row routines (5 instructions per 4 bytes + ~6 per
 *    window row; C_in % 4 != 0: whole-word row gathers, then the conversion), other pixels (borders, chunks,
 *    dilation) one by one with per-row clipping (~100-700 per pixel). The last N*OH*OW % 6 (% 4) pixels take the
 *    paths below. M4 end to end: ResNet-8 3x3 C_in 3 1.86, 16 1.12, 32 1.05-1.09, 64 (4-pixel chunks) 1.12-1.15;
 *    person_detect 1x1 C_in 32 1.28-1.32, 64 1.10, 128 1.02; DS-CNN 10x4x1 stride 2 1.34, 1x1 64 -> 64 1.12.
 *  - C_out too large for the partial sums with patches too large for one buffer, and shifts below -22
 *    (dilation_w == 1: each window row is one contiguous dot product of KW * C_in bytes): 2 output pixels x 2
 *    output channels per inner loop (inline assembly, all in registers): per 4 input bytes 4 LDR, 8
 *    SXTB16/SXTAB16 (the input offset rides on SXTAB16) and 8 SMLAD: 1.34 instructions/MAC in the loop, ~1.5-1.8
 *    per layer;
 *  - single pixels (image borders, odd widths, in-place overlap, block leftovers): 1 pixel x 2 channels (~1.6/MAC);
 *  - requantization in 4 instructions per output (SMMLAR, see rq_apply) and two outputs clamped at once
 *    (QADD16/SSUB16/SEL) on the 2x2 paths.
 * Grouped convolution, multipliers that need a left shift and accumulators that could reach 2^30 run the
 * reference loop (conv_reference); multipliers with shift < -22 skip the im2col blocks (zero-point folding).
 *
 * In-place arena planning assumes the reference's order: an output element is never written over input that the
 * reference still reads afterwards. Reading ahead is harmless. The im2col blocks copy all their windows (chunk by
 * chunk) before writing any of the block's outputs, and the block's last output is the one the reference writes
 * just before reading the next pixel's window, so writing the block channel-major is safe. The C_in 8 pixel
 * pairs read both pixels before writing either. Blocks of two pixels on the 2x2 path write pixel p+1 before the
 * last reads of pixel p, so they run only where the output cannot reach input still to be read (checked per block
 * from the pointers: disjoint buffers, or the block's last output byte below the lowest input byte still to be
 * read); elsewhere pixels are done one by one, in the reference order.
 */
#include "mf_arm_dsp_build.h" /* first: how this file is built */

#include "mf_conv2d_s8.h"

#include <string.h>

#include "mf_requant.h"

#if defined(__ARM_FEATURE_DSP) && defined(MF_DSP_OPTIMIZED_BUILD)
#include "mf_arm_dsp_common.h"

/* 2 pixels x 2 channels, pixel 1 at x0 + s and channel 1 at w0 + s (the same stride: 1x1 stride-1 convolution);
 * n % 8 == 0, n > 0. acc = {x0.w0, x0.w1, x1.w0, x1.w1} */
static inline void dot22_shared(const int8_t *x0, const int8_t *w0, int32_t s, int32_t n, int32_t off2, int32_t *acc)
{
    int32_t a = acc[0], b = acc[1], c = acc[2], d = acc[3];
    const int8_t *end = x0 + n;
    uint32_t t0, t1, t2, t3, t4, t5;
#define MF_DOT22_SHARED_STEP                          \
    "ldr %[t0], [%[w], %[s]]\n\t"                  \
    "ldr %[t1], [%[w]], #4\n\t"                    \
    "sxtb16 %[t2], %[t1]\n\t"                      \
    "sxtb16 %[t1], %[t1], ror #8\n\t"              \
    "sxtb16 %[t3], %[t0]\n\t"                      \
    "sxtb16 %[t0], %[t0], ror #8\n\t"              \
    "ldr %[t4], [%[x], %[s]]\n\t"                  \
    "sxtab16 %[t5], %[off2], %[t4]\n\t"            \
    "sxtab16 %[t4], %[off2], %[t4], ror #8\n\t"    \
    "smlad %[c], %[t5], %[t2], %[c]\n\t"           \
    "smlad %[c], %[t4], %[t1], %[c]\n\t"           \
    "smlad %[d], %[t5], %[t3], %[d]\n\t"           \
    "smlad %[d], %[t4], %[t0], %[d]\n\t"           \
    "ldr %[t4], [%[x]], #4\n\t"                    \
    "sxtab16 %[t5], %[off2], %[t4]\n\t"            \
    "sxtab16 %[t4], %[off2], %[t4], ror #8\n\t"    \
    "smlad %[a], %[t5], %[t2], %[a]\n\t"           \
    "smlad %[a], %[t4], %[t1], %[a]\n\t"           \
    "smlad %[b], %[t5], %[t3], %[b]\n\t"           \
    "smlad %[b], %[t4], %[t0], %[b]\n\t"
    __asm__ volatile(
        "1:\n\t"
        MF_DOT22_SHARED_STEP
        MF_DOT22_SHARED_STEP
        "ldr %[t5], %[end]\n\t"
        "cmp %[x], %[t5]\n\t"
        "bne 1b\n\t"
        : [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [d] "+r"(d), [x] "+r"(x0), [w] "+r"(w0), [t0] "=&r"(t0),
          [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4), [t5] "=&r"(t5)
        : [s] "r"(s), [off2] "r"(off2), [end] "m"(end)
        : "cc", "memory");
#undef MF_DOT22_SHARED_STEP
    acc[0] = a;
    acc[1] = b;
    acc[2] = c;
    acc[3] = d;
}

/* 2 pixels x 2 channels, pixel 1 at x0 + xs, channel 1 at w0 + ws; n % 4 == 0, n > 0. Each input word is loaded
 * twice (even and odd bytes) to fit the registers. acc = {x0.w0, x0.w1, x1.w0, x1.w1} */
static inline void dot22(const int8_t *x0, const int8_t *w0, int32_t xs, int32_t ws, int32_t n, int32_t off2,
                         int32_t *acc)
{
    int32_t a = acc[0], b = acc[1], c = acc[2], d = acc[3];
    const int8_t *end = x0 + n;
    uint32_t t0, t1, t2, t3, t4;
    __asm__ volatile(
        "1:\n\t"
        "ldr %[t0], [%[w], %[ws]]\n\t"
        "ldr %[t1], [%[w]], #4\n\t"
        "sxtb16 %[t2], %[t1]\n\t"
        "sxtb16 %[t1], %[t1], ror #8\n\t"
        "sxtb16 %[t3], %[t0]\n\t"
        "sxtb16 %[t0], %[t0], ror #8\n\t"
        "ldr %[t4], [%[x], %[xs]]\n\t"
        "sxtab16 %[t4], %[off2], %[t4]\n\t"
        "smlad %[c], %[t4], %[t2], %[c]\n\t"
        "smlad %[d], %[t4], %[t3], %[d]\n\t"
        "ldr %[t4], [%[x], %[xs]]\n\t"
        "sxtab16 %[t4], %[off2], %[t4], ror #8\n\t"
        "smlad %[c], %[t4], %[t1], %[c]\n\t"
        "smlad %[d], %[t4], %[t0], %[d]\n\t"
        "ldr %[t4], [%[x]]\n\t"
        "sxtab16 %[t4], %[off2], %[t4]\n\t"
        "smlad %[a], %[t4], %[t2], %[a]\n\t"
        "smlad %[b], %[t4], %[t3], %[b]\n\t"
        "ldr %[t4], [%[x]], #4\n\t"
        "sxtab16 %[t4], %[off2], %[t4], ror #8\n\t"
        "smlad %[a], %[t4], %[t1], %[a]\n\t"
        "smlad %[b], %[t4], %[t0], %[b]\n\t"
        "ldr %[t4], %[end]\n\t"
        "cmp %[x], %[t4]\n\t"
        "bne 1b\n\t"
        : [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [d] "+r"(d), [x] "+r"(x0), [w] "+r"(w0), [t0] "=&r"(t0),
          [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4)
        : [xs] "r"(xs), [ws] "r"(ws), [off2] "r"(off2), [end] "m"(end)
        : "cc", "memory");
    acc[0] = a;
    acc[1] = b;
    acc[2] = c;
    acc[3] = d;
}

/* plain dot product for tails (n < 4) and odd channels */
static inline int32_t dot_scalar(const int8_t *x, const int8_t *w, int32_t n, int32_t off)
{
    int32_t s = 0;
    for (int32_t i = 0; i < n; ++i) {
        s += ((int32_t)x[i] + off) * (int32_t)w[i];
    }
    return s;
}

/* acc[0..1] += one pixel's window row (n bytes) with two channels' filter rows (w0, w0 + ws), any n */
static inline void row12(const int8_t *x, const int8_t *w0, int32_t ws, int32_t n, int32_t off, int32_t off2,
                         int32_t *acc)
{
    const int32_t n4 = n & ~3;
    if (n4 > 0) {
        dot12(x, w0, ws, n4, off2, acc);
    }
    if (n4 != n) {
        acc[0] += dot_scalar(x + n4, w0 + n4, n - n4, off);
        acc[1] += dot_scalar(x + n4, w0 + ws + n4, n - n4, off);
    }
}

/* acc[0..3] += two pixels' window rows (x0, x0 + xs) with two channels' filter rows (w0, w0 + ws), any n */
static inline void row22(const int8_t *x0, const int8_t *w0, int32_t xs, int32_t ws, int32_t n, int32_t off, int32_t off2,
                  int32_t *acc)
{
    int32_t k = 0;
    if (xs == ws) {
        k = n & ~7;
        if (k > 0) {
            dot22_shared(x0, w0, ws, k, off2, acc);
        }
    }
    const int32_t n4 = n & ~3;
    if (n4 > k) {
        dot22(x0 + k, w0 + k, xs, ws, n4 - k, off2, acc);
    }
    if (n4 != n) {
        acc[0] += dot_scalar(x0 + n4, w0 + n4, n - n4, off);
        acc[1] += dot_scalar(x0 + n4, w0 + ws + n4, n - n4, off);
        acc[2] += dot_scalar(x0 + xs + n4, w0 + n4, n - n4, off);
        acc[3] += dot_scalar(x0 + xs + n4, w0 + ws + n4, n - n4, off);
    }
}

/* first tap index in [0, k) whose position start + t*d lies in [0, size), and one past the last */
static inline void tap_range(int32_t start, int32_t d, int32_t k, int32_t size, int32_t *t0, int32_t *t1)
{
    const int32_t lo = start >= 0 ? 0 : (-start + d - 1) / d;
    const int32_t hi = start >= size ? 0 : (start + (k - 1) * d < size ? k : (size - 1 - start) / d + 1);
    *t0 = lo;
    *t1 = hi > lo ? hi : lo;
}

/* Everything the pixel loops need, read once from the params. */
typedef struct {
    const int8_t *input;
    const int8_t *filter;
    const int32_t *bias;
    const int32_t *mult;
    const int32_t *shift;
    int32_t cin, cout;
    int32_t fw;       /* filter width */
    int32_t wstride;  /* bytes of one output channel's filter */
    int32_t row_step; /* input bytes between window rows */
    int32_t col_step; /* input bytes between window columns */
    int32_t off, off2, zp, lo, hi;
    int32_t zp2, lo2, hi2; /* in both 16-bit lanes */
    int32_t np;            /* pixels per im2col block: 4 or 6 */
} conv_ctx;

/* One output pixel, all channels, window rows [ky0, ky1) and columns [kx0, kx1) (the taps inside the image);
 * row0 = offset of the window's top-left tap (inside the image or not). Reference order: channel by channel. */
__attribute__((noinline)) static void pixel1(const conv_ctx *c, int32_t row0, int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1, int8_t *out)
{
    const int32_t cin = c->cin, ws = c->wstride;
    const int32_t n = (kx1 - kx0) * cin; /* contiguous bytes per window row when dilation_w == 1 */
    const int8_t *x_first = c->input + (row0 + ky0 * c->row_step + kx0 * c->col_step);
    const int8_t *w_first = c->filter + (ky0 * c->fw + kx0) * cin;
    int32_t o = 0;
    for (; o + 1 < c->cout; o += 2) {
        int32_t acc[2];
        acc[0] = c->bias != NULL ? c->bias[o] : 0;
        acc[1] = c->bias != NULL ? c->bias[o + 1] : 0;
        const int8_t *x = x_first, *w = w_first + o * ws;
        for (int32_t ky = ky0; ky < ky1; ++ky, x += c->row_step, w += c->fw * cin) {
            if (c->col_step == cin) {
                row12(x, w, ws, n, c->off, c->off2, acc);
            } else {
                for (int32_t kx = kx0; kx < kx1; ++kx) {
                    row12(x + (kx - kx0) * c->col_step, w + (kx - kx0) * cin, ws, cin, c->off, c->off2, acc);
                }
            }
        }
        store2(out + o, rq_apply(acc[0], rq_load(c->mult, c->shift, o)),
               rq_apply(acc[1], rq_load(c->mult, c->shift, o + 1)), c->zp2, c->lo2, c->hi2);
    }
    if (o < c->cout) {
        int32_t acc = c->bias != NULL ? c->bias[o] : 0;
        const int8_t *x = x_first, *w = w_first + o * ws;
        for (int32_t ky = ky0; ky < ky1; ++ky, x += c->row_step, w += c->fw * cin) {
            for (int32_t kx = kx0; kx < kx1; ++kx) {
                acc += dot_scalar(x + (kx - kx0) * c->col_step, w + (kx - kx0) * cin, cin, c->off);
            }
        }
        out[o] = store1(rq_apply(acc, rq_load(c->mult, c->shift, o)), c->zp, c->lo, c->hi);
    }
}

/* Two adjacent output pixels of a 1x1 stride-1 convolution with C_in % 8 == 0: x0 = pixel 0's input,
 * pixel 1's is at x0 + C_in, like channel o + 1's filter at channel o's + C_in. Same write order as pixel2. */
__attribute__((noinline)) static void pointwise2(const conv_ctx *c, const int8_t *x0, int8_t *out)
{
    const int32_t cin = c->cin, cout = c->cout;
    const int8_t *w = c->filter;
    int8_t *out1 = out + cout;
    int32_t o = 0;
    for (; o + 1 < cout; o += 2, w += 2 * cin) {
        int32_t acc[4];
        acc[0] = acc[2] = c->bias != NULL ? c->bias[o] : 0;
        acc[1] = acc[3] = c->bias != NULL ? c->bias[o + 1] : 0;
        dot22_shared(x0, w, cin, cin, c->off2, acc);
        const rq_ch q0 = rq_load(c->mult, c->shift, o), q1 = rq_load(c->mult, c->shift, o + 1);
        store2(out + o, rq_apply(acc[0], q0), rq_apply(acc[1], q1), c->zp2, c->lo2, c->hi2);
        store2(out1 + o, rq_apply(acc[2], q0), rq_apply(acc[3], q1), c->zp2, c->lo2, c->hi2);
    }
    if (o < cout) {
        const int32_t b = c->bias != NULL ? c->bias[o] : 0;
        const rq_ch q0 = rq_load(c->mult, c->shift, o);
        out[o] = store1(rq_apply(b + dot_scalar(x0, w, cin, c->off), q0), c->zp, c->lo, c->hi);
        out1[o] = store1(rq_apply(b + dot_scalar(x0 + cin, w, cin, c->off), q0), c->zp, c->lo, c->hi);
    }
}

/* Two output pixels whose windows lie horizontally inside the image (pixel 1's window xstep bytes after
 * pixel 0's), rows [ky0, ky1). Writes pixel 1's channels before pixel 0's last ones: the caller checks that
 * this cannot clobber input still to be read. */
__attribute__((noinline)) static void pixel2(const conv_ctx *c, int32_t row0, int32_t ky0, int32_t ky1, int32_t xstep, int8_t *out)
{
    const int32_t cin = c->cin, ws = c->wstride, n = c->fw * cin;
    const int8_t *x_first = c->input + (row0 + ky0 * c->row_step);
    const int8_t *w_first = c->filter + ky0 * n;
    int8_t *out1 = out + c->cout;
    int32_t o = 0;
    for (; o + 1 < c->cout; o += 2) {
        int32_t acc[4];
        acc[0] = acc[2] = c->bias != NULL ? c->bias[o] : 0;
        acc[1] = acc[3] = c->bias != NULL ? c->bias[o + 1] : 0;
        const int8_t *x = x_first, *w = w_first + o * ws;
        for (int32_t ky = ky0; ky < ky1; ++ky, x += c->row_step, w += n) {
            if (c->col_step == cin) {
                row22(x, w, xstep, ws, n, c->off, c->off2, acc);
            } else {
                for (int32_t kx = 0; kx < c->fw; ++kx) {
                    row22(x + kx * c->col_step, w + kx * cin, xstep, ws, cin, c->off, c->off2, acc);
                }
            }
        }
        const rq_ch q0 = rq_load(c->mult, c->shift, o), q1 = rq_load(c->mult, c->shift, o + 1);
        store2(out + o, rq_apply(acc[0], q0), rq_apply(acc[1], q1), c->zp2, c->lo2, c->hi2);
        store2(out1 + o, rq_apply(acc[2], q0), rq_apply(acc[3], q1), c->zp2, c->lo2, c->hi2);
    }
    if (o < c->cout) {
        int32_t a0 = c->bias != NULL ? c->bias[o] : 0, a1 = a0;
        const int8_t *x = x_first, *w = w_first + o * ws;
        for (int32_t ky = ky0; ky < ky1; ++ky, x += c->row_step, w += n) {
            for (int32_t kx = 0; kx < c->fw; ++kx) {
                a0 += dot_scalar(x + kx * c->col_step, w + kx * cin, cin, c->off);
                a1 += dot_scalar(x + xstep + kx * c->col_step, w + kx * cin, cin, c->off);
            }
        }
        const rq_ch q0 = rq_load(c->mult, c->shift, o);
        out[o] = store1(rq_apply(a0, q0), c->zp, c->lo, c->hi);
        out1[o] = store1(rq_apply(a1, q0), c->zp, c->lo, c->hi);
    }
}
/*
 * im2col blocks of np (4 or 6) pixels through the scratch buffer: the windows are sign-extended once, input offset
 * added, into int16 pairs laid out for SMLAD against SXTB16 of the filter words: for each group g of 4 patch
 * elements, pixel p's word pair (e0, e2), (e1, e3) at int16 index g * 4 * np + p * 4 (zeros for taps outside the
 * image, and for the pad lanes of the last group). Then per output channel the pixels share each filter word.
 * In-place safety: every input byte of the block is copied before any output of the block is written, and the
 * block's outputs end where the reference's do before it reads the next pixels' windows.
 */
#define MF_SCRATCH_WORDS 512 /* the arena scratch the kernel asks for: 2 KB (mf_conv2d_s8_get_buffer_size) */

/* int16 index of patch element i of pixel p in a 4-pixel block (the C loop) */
static inline int32_t im2col4_index(int32_t i, int32_t p)
{
    static const int8_t lane[4] = {0, 2, 1, 3};
    return (i >> 2) * 16 + p * 4 + lane[i & 3];
}

static inline int32_t ld16(const int16_t *buf, int32_t i)
{
    int16_t v;
    memcpy(&v, buf + i, sizeof v);
    return v;
}

/* acc[0..3] += the 4 pixels' patches (buf) . filter row w over 2 * pairs + odd groups of 4 bytes (>= 1) */
__attribute__((always_inline)) static inline void dot4px(const int16_t *buf, const int8_t *w, int32_t pairs,
                                                         int32_t odd, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    uint32_t t0, t1, xa, xb;
#define MF_DOT4PX_STEP                          \
    "ldr %[t0], [%[w]], #4\n\t"                 \
    "sxtb16 %[t1], %[t0]\n\t"                   \
    "sxtb16 %[t0], %[t0], ror #8\n\t"           \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a0], %[xa], %[t1], %[a0]\n\t"      \
    "smlad %[a0], %[xb], %[t0], %[a0]\n\t"      \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a1], %[xa], %[t1], %[a1]\n\t"      \
    "smlad %[a1], %[xb], %[t0], %[a1]\n\t"      \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a2], %[xa], %[t1], %[a2]\n\t"      \
    "smlad %[a2], %[xb], %[t0], %[a2]\n\t"      \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a3], %[xa], %[t1], %[a3]\n\t"      \
    "smlad %[a3], %[xb], %[t0], %[a3]\n\t"
    const int16_t *x = buf;
    __asm__ volatile(
        "cmp %[odd], #0\n\t"
        "beq 2f\n\t"
        MF_DOT4PX_STEP
        "2:\n\t"
        "cmp %[n], #0\n\t"
        "beq 3f\n\t"
        "1:\n\t"
        MF_DOT4PX_STEP
        MF_DOT4PX_STEP
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        "3:\n\t"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w] "+r"(w),
          [n] "+r"(pairs), [t0] "=&r"(t0), [t1] "=&r"(t1), [xa] "=&r"(xa), [xb] "=&r"(xb)
        : [odd] "r"(odd)
        : "cc", "memory");
#undef MF_DOT4PX_STEP
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* requantization with the output zero point folded into the rounding constant:
 * (x + K + zp * 2^e) >> e == ((x + K) >> e) + zp exactly, and x + K + zp * 2^e fits in int32 when e <= 22
 * (|x| < 2^30 * m / 2^31 < 2^29, |zp * 2^e| <= 2^29); zp_fold_ok checks e <= 22 for the layer. */
typedef struct {
    int32_t m; /* Q31 multiplier */
    int32_t e; /* right shift, [1, 22] */
    int32_t k; /* 2^(e-1) + zp * 2^e */
} rq_zp;

static inline rq_zp rq_zp_load(const int32_t *mult, const int32_t *shift, int32_t o, int32_t zp)
{
    const rq_ch q = rq_load(mult, shift, o);
    rq_zp r;
    r.m = q.m;
    r.e = q.e;
    r.k = q.h + zp * (int32_t)(1 << q.e);
    return r;
}

static int zp_fold_ok(const mf_per_channel_quant *quant, int32_t channels)
{
    for (int32_t o = 0; o < channels; ++o) {
        if (quant->shift[o] < -22) {
            return 0;
        }
    }
    return 1;
}

/* requantized + zero point, clamped to [lo, hi]; lo_on / hi_on are compile-time flags (lo > -128, hi < 127) */
__attribute__((always_inline)) static inline int32_t rq_clamp8(int32_t acc, rq_zp q, int32_t lo, int32_t hi,
                                                               int lo_on, int hi_on)
{
    int32_t r = __ssat(smmlar(acc * 2, q.m, q.k + (acc >> 31)) >> q.e, 8);
    if (lo_on) {
        r = r < lo ? lo : r;
    }
    if (hi_on) {
        r = r > hi ? hi : r;
    }
    return r;
}

/* The current chunk of a 4-pixel block: buf holds patch elements [t0 * C_in, t0 * C_in + groups4 * 4 + tail)
 * of each pixel; part: NULL for a single chunk, else 4 partial sums per channel (pixel-major per channel). */
typedef struct {
    const int16_t *buf;
    int32_t groups4, tail;
    int32_t woff;   /* first weight of the chunk within a channel's filter */
    int32_t *part;  /* 4 * C_out partial accumulators, or NULL */
    int first, last; /* the block's first / last chunk */
    const int32_t *tab; /* {bias, m, k, e} per channel (single chunk only), or NULL */
    int idx_ok;         /* every shift in [-22, -1]: index mode possible */
    const int8_t *filter; /* the filters, or their copy padded to whole groups (wpad) */
    int32_t wstride;
    int wpad;
} chunk4;

/*
 * The channel loop of a 4-pixel block in assembly (index mode: leftover blocks and chunks too large for 6-pixel
 * partial sums). Per output channel the 4 accumulators start at bias[o] or at the chunk's partial sums; the 4
 * pixels share each filter word (dot4px's step, groups >= 2, an odd group first); then either the partial sums
 * are stored back (a chunk that is not the patch's last) or per output ADD (sign) + LSL + SMMLAR + ASR + SSAT
 * (+ CMP/IT/MOV per active bound) and STRB at out + p * C_out. The multiplier, rounding constant and shift come
 * from the arrays (8 instructions: all shifts in [-22, -1]); the 6-pixel loop below can also take them from the
 * per-call table {bias, m, k, e} (3 loads). The accumulators, the patch pointer, the loop count, 6 temporaries
 * and the filter / record-or-index / output pointers live in registers; the rest is reloaded from a frame struct
 * on the stack.
 */
typedef struct {
    const int16_t *buf;
    int32_t groups;  /* groups of 4 patch elements, >= 2 */
    int32_t cout;    /* output bytes between pixels */
    int32_t lo, hi;  /* activation bounds */
    int32_t wadj;    /* filter stride minus the bytes the dot product advanced */
    intptr_t end;    /* tab mode: the table end; index mode: 4 * the channel end */
    const int32_t *bias, *mult, *shift;
    int32_t *part;   /* 4 partial sums per channel */
    int32_t zp21;    /* 2 * output zero point + 1 */
    int32_t skip;    /* 6-pixel loop: bytes of the steps the first pass skips */
    const int16_t *xend; /* 6-pixel loop: the patch end */
} blk4_frame;

#define MF_B4_STEP                              \
    "ldr %[t0], [%[w]], #4\n\t"                 \
    "sxtb16 %[t1], %[t0]\n\t"                   \
    "sxtb16 %[t0], %[t0], ror #8\n\t"           \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a0], %[xa], %[t1], %[a0]\n\t"      \
    "smlad %[a0], %[xb], %[t0], %[a0]\n\t"      \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a1], %[xa], %[t1], %[a1]\n\t"      \
    "smlad %[a1], %[xb], %[t0], %[a1]\n\t"      \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a2], %[xa], %[t1], %[a2]\n\t"      \
    "smlad %[a2], %[xb], %[t0], %[a2]\n\t"      \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a3], %[xa], %[t1], %[a3]\n\t"      \
    "smlad %[a3], %[xb], %[t0], %[a3]\n\t"
#define MF_B4_DOT                                       \
    "ldr %[x], %[buf]\n\t"                              \
    "ldr %[n], %[groups]\n\t"                           \
    "lsrs %[n], %[n], #1\n\t"                           \
    "bcc 2f\n\t"                                        \
    MF_B4_STEP                                          \
    "2:\n\t"                                            \
    MF_B4_STEP                                          \
    MF_B4_STEP                                          \
    "subs %[n], %[n], #1\n\t"                           \
    "bne 2b\n\t"
#define MF_B4_INIT_BIAS                                 \
    "1:\n\t"                                            \
    "ldr %[t0], %[biasp]\n\t"                           \
    "ldr %[a0], [%[t0], %[r]]\n\t"                      \
    "mov %[a1], %[a0]\n\t"                              \
    "mov %[a2], %[a0]\n\t"                              \
    "mov %[a3], %[a0]\n\t"
#define MF_B4_INIT_PART                                 \
    "1:\n\t"                                            \
    "ldr %[t0], %[partp]\n\t"                           \
    "add %[t0], %[t0], %[r], lsl #2\n\t"                \
    "ldrd %[a0], %[a1], [%[t0]]\n\t"                    \
    "ldrd %[a2], %[a3], [%[t0], #8]\n\t"
#define MF_B4_CONST_IDX                                 \
    "ldr %[t1], %[multp]\n\t"                           \
    "ldr %[t0], [%[t1], %[r]]\n\t"                      \
    "ldr %[t1], %[shiftp]\n\t"                          \
    "ldr %[xb], [%[t1], %[r]]\n\t"                      \
    "rsb %[xb], %[xb], #0\n\t"                          \
    "ldr %[t1], %[zp21]\n\t"                            \
    "lsl %[t1], %[t1], %[xb]\n\t"                       \
    "asr %[t1], %[t1], #1\n\t"
/* t0 = m, t1 = k, xb = e */
#define MF_B4_RQ(a)                                     \
    "add %[n], %[t1], %[" a "], asr #31\n\t"            \
    "lsl %[" a "], %[" a "], #1\n\t"                    \
    "smmlar %[" a "], %[" a "], %[t0], %[n]\n\t"        \
    "asr %[" a "], %[" a "], %[xb]\n\t"                 \
    "ssat %[" a "], #8, %[" a "]\n\t"
#define MF_B4_RQ4 MF_B4_RQ("a0") MF_B4_RQ("a1") MF_B4_RQ("a2") MF_B4_RQ("a3")
#define MF_B4_LO(a)                                     \
    "cmp %[" a "], %[x]\n\t"                            \
    "it lt\n\t"                                         \
    "movlt %[" a "], %[x]\n\t"
#define MF_B4_HI(a)                                     \
    "cmp %[" a "], %[n]\n\t"                            \
    "it gt\n\t"                                         \
    "movgt %[" a "], %[n]\n\t"
#define MF_B4_CLAMP_LO "ldr %[x], %[lo]\n\t" MF_B4_LO("a0") MF_B4_LO("a1") MF_B4_LO("a2") MF_B4_LO("a3")
#define MF_B4_CLAMP_HI "ldr %[n], %[hi]\n\t" MF_B4_HI("a0") MF_B4_HI("a1") MF_B4_HI("a2") MF_B4_HI("a3")
#define MF_B4_STORE_OUT                                 \
    "ldr %[xa], %[cout]\n\t"                            \
    "strb %[a0], [%[out]]\n\t"                          \
    "strb %[a1], [%[out], %[xa]]\n\t"                   \
    "add %[n], %[out], %[xa], lsl #1\n\t"               \
    "strb %[a2], [%[n]]\n\t"                            \
    "strb %[a3], [%[n], %[xa]]\n\t"                     \
    "adds %[out], %[out], #1\n\t"
#define MF_B4_STORE_PART                                \
    "ldr %[t0], %[partp]\n\t"                           \
    "add %[t0], %[t0], %[r], lsl #2\n\t"                \
    "strd %[a0], %[a1], [%[t0]]\n\t"                    \
    "strd %[a2], %[a3], [%[t0], #8]\n\t"
#define MF_B4_NEXT_IDX                                  \
    "ldr %[t0], %[wadj]\n\t"                            \
    "add %[w], %[w], %[t0]\n\t"                         \
    "adds %[r], %[r], #4\n\t"                           \
    "ldr %[t0], %[end]\n\t"                             \
    "cmp %[r], %[t0]\n\t"                               \
    "bne 1b\n\t"
#define MF_B4_OPERANDS                                                                                           \
    : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [x] "=&r"(x), [n] "=&r"(n),             \
      [t0] "=&r"(t0), [t1] "=&r"(t1), [xa] "=&r"(xa), [xb] "=&r"(xb), [w] "+r"(w), [r] "+r"(r),              \
      [out] "+r"(out)                                                                                           \
    : [buf] "m"(f->buf), [groups] "m"(f->groups), [cout] "m"(f->cout), [lo] "m"(f->lo), [hi] "m"(f->hi),      \
      [wadj] "m"(f->wadj), [end] "m"(f->end), [biasp] "m"(f->bias), [multp] "m"(f->mult),                     \
      [shiftp] "m"(f->shift), [partp] "m"(f->part), [zp21] "m"(f->zp21)                                       \
    : "cc", "memory"

/* index mode: channels [o0, f->end / 4); init: 0 bias[o], 1 partial sums; fin: 0 requantize, 1 requantize and
 * clamp both bounds, 2 store the partial sums */
__attribute__((noinline)) static void block4_idx(const blk4_frame *frame, int32_t o0, const int8_t *w, int8_t *out,
                                                 int init, int fin)
{
    const blk4_frame fr = *frame, *f = &fr;
    int32_t a0, a1, a2, a3, n, t0, t1, xa, xb;
    const int16_t *x;
    intptr_t r = 4 * o0;
    if (init == 0 && fin == 0) {
        __asm__ volatile(MF_B4_INIT_BIAS MF_B4_DOT MF_B4_CONST_IDX MF_B4_RQ4 MF_B4_STORE_OUT MF_B4_NEXT_IDX
                         MF_B4_OPERANDS);
    } else if (init == 0) {
        __asm__ volatile(MF_B4_INIT_BIAS MF_B4_DOT MF_B4_CONST_IDX MF_B4_RQ4 MF_B4_CLAMP_LO MF_B4_CLAMP_HI
                         MF_B4_STORE_OUT MF_B4_NEXT_IDX MF_B4_OPERANDS);
    } else if (fin == 0) {
        __asm__ volatile(MF_B4_INIT_PART MF_B4_DOT MF_B4_CONST_IDX MF_B4_RQ4 MF_B4_STORE_OUT MF_B4_NEXT_IDX
                         MF_B4_OPERANDS);
    } else if (fin == 1) {
        __asm__ volatile(MF_B4_INIT_PART MF_B4_DOT MF_B4_CONST_IDX MF_B4_RQ4 MF_B4_CLAMP_LO MF_B4_CLAMP_HI
                         MF_B4_STORE_OUT MF_B4_NEXT_IDX MF_B4_OPERANDS);
    } else {
        __asm__ volatile(MF_B4_INIT_PART MF_B4_DOT MF_B4_STORE_PART MF_B4_NEXT_IDX MF_B4_OPERANDS);
    }
}
#undef MF_B4_STEP
#undef MF_B4_DOT
#undef MF_B4_INIT_BIAS
#undef MF_B4_INIT_PART
#undef MF_B4_CONST_IDX
#undef MF_B4_RQ
#undef MF_B4_RQ4
#undef MF_B4_LO
#undef MF_B4_HI
#undef MF_B4_CLAMP_LO
#undef MF_B4_CLAMP_HI
#undef MF_B4_STORE_OUT
#undef MF_B4_STORE_PART
#undef MF_B4_NEXT_IDX
#undef MF_B4_OPERANDS

/*
 * The same channel loop for 6-pixel blocks (buffer groups of 48 bytes): 6 accumulators, the loop ends on the
 * patch pointer (no count register). Per 4 patch elements and channel: LDR + 2 SXTB16 + 6 LDRD + 12 SMLAD for
 * 24 MACs (0.875 instructions/MAC), and the channel's setup, constants and loop overhead serve 6 outputs.
 */
#define MF_B6_STEP                              \
    "ldr.w %[t0], [%[w]], #4\n\t"               \
    "sxtb16 %[t1], %[t0]\n\t"                   \
    "sxtb16 %[t0], %[t0], ror #8\n\t"           \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a0], %[xa], %[t1], %[a0]\n\t"      \
    "smlad %[a0], %[xb], %[t0], %[a0]\n\t"      \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a1], %[xa], %[t1], %[a1]\n\t"      \
    "smlad %[a1], %[xb], %[t0], %[a1]\n\t"      \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a2], %[xa], %[t1], %[a2]\n\t"      \
    "smlad %[a2], %[xb], %[t0], %[a2]\n\t"      \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a3], %[xa], %[t1], %[a3]\n\t"      \
    "smlad %[a3], %[xb], %[t0], %[a3]\n\t"      \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a4], %[xa], %[t1], %[a4]\n\t"      \
    "smlad %[a4], %[xb], %[t0], %[a4]\n\t"      \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t"         \
    "smlad %[a5], %[xa], %[t1], %[a5]\n\t"      \
    "smlad %[a5], %[xb], %[t0], %[a5]\n\t"
/* 4 steps per pass; the first pass enters past the (4 - groups % 4) % 4 steps it skips: every instruction of a
 * step has a 32-bit encoding, 21 * 4 = 84 bytes per step (f->skip = that byte count) */
#define MF_B6_DOT                                       \
    "ldr %[x], %[buf]\n\t"                              \
    "ldr %[t0], %[skip]\n\t"                            \
    "adr.w %[t1], 2f\n\t"                               \
    "add %[t1], %[t1], %[t0]\n\t"                       \
    "orr %[t1], %[t1], #1\n\t"                          \
    "bx %[t1]\n\t"                                      \
    "2:\n\t"                                            \
    MF_B6_STEP                                          \
    MF_B6_STEP                                          \
    MF_B6_STEP                                          \
    MF_B6_STEP                                          \
    "ldr %[t0], %[xend]\n\t"                            \
    "cmp %[x], %[t0]\n\t"                               \
    "bne 2b\n\t"
#define MF_B6_INIT_TAB                                  \
    "1:\n\t"                                            \
    "ldr %[a0], [%[r]], #4\n\t"                         \
    "mov %[a1], %[a0]\n\t"                              \
    "mov %[a2], %[a0]\n\t"                              \
    "mov %[a3], %[a0]\n\t"                              \
    "mov %[a4], %[a0]\n\t"                              \
    "mov %[a5], %[a0]\n\t"
#define MF_B6_INIT_BIAS                                 \
    "1:\n\t"                                            \
    "ldr %[t0], %[biasp]\n\t"                           \
    "ldr %[a0], [%[t0], %[r]]\n\t"                      \
    "mov %[a1], %[a0]\n\t"                              \
    "mov %[a2], %[a0]\n\t"                              \
    "mov %[a3], %[a0]\n\t"                              \
    "mov %[a4], %[a0]\n\t"                              \
    "mov %[a5], %[a0]\n\t"
#define MF_B6_PART_ADDR                                 \
    "add %[t0], %[r], %[r], lsl #1\n\t"                 \
    "ldr %[t1], %[partp]\n\t"                           \
    "add %[t0], %[t1], %[t0], lsl #1\n\t"
#define MF_B6_INIT_PART                                 \
    "1:\n\t"                                            \
    MF_B6_PART_ADDR                                     \
    "ldrd %[a0], %[a1], [%[t0]]\n\t"                    \
    "ldrd %[a2], %[a3], [%[t0], #8]\n\t"                \
    "ldrd %[a4], %[a5], [%[t0], #16]\n\t"
#define MF_B6_CONST_TAB                                 \
    "ldrd %[t0], %[t1], [%[r]], #8\n\t"                 \
    "ldr %[xb], [%[r]], #4\n\t"
#define MF_B6_CONST_IDX                                 \
    "ldr %[t1], %[multp]\n\t"                           \
    "ldr %[t0], [%[t1], %[r]]\n\t"                      \
    "ldr %[t1], %[shiftp]\n\t"                          \
    "ldr %[xb], [%[t1], %[r]]\n\t"                      \
    "rsb %[xb], %[xb], #0\n\t"                          \
    "ldr %[t1], %[zp21]\n\t"                            \
    "lsl %[t1], %[t1], %[xb]\n\t"                       \
    "asr %[t1], %[t1], #1\n\t"
/* t0 = m, t1 = k, xb = e, xa scratch */
#define MF_B6_RQ(a)                                     \
    "add %[xa], %[t1], %[" a "], asr #31\n\t"           \
    "lsl %[" a "], %[" a "], #1\n\t"                    \
    "smmlar %[" a "], %[" a "], %[t0], %[xa]\n\t"       \
    "asr %[" a "], %[" a "], %[xb]\n\t"                 \
    "ssat %[" a "], #8, %[" a "]\n\t"
#define MF_B6_RQ6 MF_B6_RQ("a0") MF_B6_RQ("a1") MF_B6_RQ("a2") MF_B6_RQ("a3") MF_B6_RQ("a4") MF_B6_RQ("a5")
#define MF_B6_LO(a)                                     \
    "cmp %[" a "], %[x]\n\t"                            \
    "it lt\n\t"                                         \
    "movlt %[" a "], %[x]\n\t"
#define MF_B6_HI(a)                                     \
    "cmp %[" a "], %[xa]\n\t"                           \
    "it gt\n\t"                                         \
    "movgt %[" a "], %[xa]\n\t"
#define MF_B6_CLAMP_LO                                                                                           \
    "ldr %[x], %[lo]\n\t" MF_B6_LO("a0") MF_B6_LO("a1") MF_B6_LO("a2") MF_B6_LO("a3") MF_B6_LO("a4") MF_B6_LO("a5")
#define MF_B6_CLAMP_HI                                                                                           \
    "ldr %[xa], %[hi]\n\t" MF_B6_HI("a0") MF_B6_HI("a1") MF_B6_HI("a2") MF_B6_HI("a3") MF_B6_HI("a4") MF_B6_HI("a5")
#define MF_B6_STORE_OUT                                 \
    "ldr %[t0], %[cout]\n\t"                            \
    "strb %[a0], [%[out]]\n\t"                          \
    "strb %[a1], [%[out], %[t0]]\n\t"                   \
    "add %[t1], %[out], %[t0], lsl #1\n\t"              \
    "strb %[a2], [%[t1]]\n\t"                           \
    "strb %[a3], [%[t1], %[t0]]\n\t"                    \
    "add %[t1], %[t1], %[t0], lsl #1\n\t"               \
    "strb %[a4], [%[t1]]\n\t"                           \
    "strb %[a5], [%[t1], %[t0]]\n\t"                    \
    "adds %[out], %[out], #1\n\t"
#define MF_B6_STORE_PART                                \
    MF_B6_PART_ADDR                                     \
    "strd %[a0], %[a1], [%[t0]]\n\t"                    \
    "strd %[a2], %[a3], [%[t0], #8]\n\t"                \
    "strd %[a4], %[a5], [%[t0], #16]\n\t"
#define MF_B6_NEXT_TAB                                  \
    "ldr %[t0], %[wadj]\n\t"                            \
    "add %[w], %[w], %[t0]\n\t"                         \
    "ldr %[t0], %[end]\n\t"                             \
    "cmp %[r], %[t0]\n\t"                               \
    "bne 1b\n\t"
#define MF_B6_NEXT_IDX                                  \
    "ldr %[t0], %[wadj]\n\t"                            \
    "add %[w], %[w], %[t0]\n\t"                         \
    "adds %[r], %[r], #4\n\t"                           \
    "ldr %[t0], %[end]\n\t"                             \
    "cmp %[r], %[t0]\n\t"                               \
    "bne 1b\n\t"
#define MF_B6_OPERANDS                                                                                           \
    : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [a4] "=&r"(a4), [a5] "=&r"(a5),         \
      [x] "=&r"(x), [t0] "=&r"(t0), [t1] "=&r"(t1), [xa] "=&r"(xa), [xb] "=&r"(xb), [w] "+r"(w), [r] "+r"(r), \
      [out] "+r"(out)                                                                                           \
    : [buf] "m"(f->buf), [skip] "m"(f->skip), [xend] "m"(f->xend), [cout] "m"(f->cout), [lo] "m"(f->lo),        \
      [hi] "m"(f->hi), [wadj] "m"(f->wadj), [end] "m"(f->end), [biasp] "m"(f->bias), [multp] "m"(f->mult),    \
      [shiftp] "m"(f->shift), [partp] "m"(f->part), [zp21] "m"(f->zp21)                                       \
    : "cc", "memory"

__attribute__((noinline)) static void block6_tab(const blk4_frame *frame, const int32_t *tab, const int8_t *w,
                                                 int8_t *out, int clamp)
{
    const blk4_frame fr = *frame, *f = &fr;
    int32_t a0, a1, a2, a3, a4, a5, t0, t1, xa, xb;
    const int16_t *x;
    intptr_t r = (intptr_t)tab;
    if (clamp == 0) {
        __asm__ volatile(MF_B6_INIT_TAB MF_B6_DOT MF_B6_CONST_TAB MF_B6_RQ6 MF_B6_STORE_OUT MF_B6_NEXT_TAB
                         MF_B6_OPERANDS);
    } else if (clamp == 1) {
        __asm__ volatile(MF_B6_INIT_TAB MF_B6_DOT MF_B6_CONST_TAB MF_B6_RQ6 MF_B6_CLAMP_LO MF_B6_STORE_OUT
                         MF_B6_NEXT_TAB MF_B6_OPERANDS);
    } else {
        __asm__ volatile(MF_B6_INIT_TAB MF_B6_DOT MF_B6_CONST_TAB MF_B6_RQ6 MF_B6_CLAMP_LO MF_B6_CLAMP_HI
                         MF_B6_STORE_OUT MF_B6_NEXT_TAB MF_B6_OPERANDS);
    }
}

__attribute__((noinline)) static void block6_idx(const blk4_frame *frame, int32_t o0, const int8_t *w, int8_t *out,
                                                 int init, int fin)
{
    const blk4_frame fr = *frame, *f = &fr;
    int32_t a0, a1, a2, a3, a4, a5, t0, t1, xa, xb;
    const int16_t *x;
    intptr_t r = 4 * o0;
    if (init == 0 && fin == 0) {
        __asm__ volatile(MF_B6_INIT_BIAS MF_B6_DOT MF_B6_CONST_IDX MF_B6_RQ6 MF_B6_STORE_OUT MF_B6_NEXT_IDX
                         MF_B6_OPERANDS);
    } else if (init == 0) {
        __asm__ volatile(MF_B6_INIT_BIAS MF_B6_DOT MF_B6_CONST_IDX MF_B6_RQ6 MF_B6_CLAMP_LO MF_B6_CLAMP_HI
                         MF_B6_STORE_OUT MF_B6_NEXT_IDX MF_B6_OPERANDS);
    } else if (fin == 0) {
        __asm__ volatile(MF_B6_INIT_PART MF_B6_DOT MF_B6_CONST_IDX MF_B6_RQ6 MF_B6_STORE_OUT MF_B6_NEXT_IDX
                         MF_B6_OPERANDS);
    } else if (fin == 1) {
        __asm__ volatile(MF_B6_INIT_PART MF_B6_DOT MF_B6_CONST_IDX MF_B6_RQ6 MF_B6_CLAMP_LO MF_B6_CLAMP_HI
                         MF_B6_STORE_OUT MF_B6_NEXT_IDX MF_B6_OPERANDS);
    } else {
        __asm__ volatile(MF_B6_INIT_PART MF_B6_DOT MF_B6_STORE_PART MF_B6_NEXT_IDX MF_B6_OPERANDS);
    }
}
#undef MF_B6_STEP
#undef MF_B6_DOT
#undef MF_B6_INIT_TAB
#undef MF_B6_INIT_BIAS
#undef MF_B6_PART_ADDR
#undef MF_B6_INIT_PART
#undef MF_B6_CONST_TAB
#undef MF_B6_CONST_IDX
#undef MF_B6_RQ
#undef MF_B6_RQ6
#undef MF_B6_LO
#undef MF_B6_HI
#undef MF_B6_CLAMP_LO
#undef MF_B6_CLAMP_HI
#undef MF_B6_STORE_OUT
#undef MF_B6_STORE_PART
#undef MF_B6_NEXT_TAB
#undef MF_B6_NEXT_IDX
#undef MF_B6_OPERANDS



/* All channels of a 4-pixel block for one chunk: out[p * C_out + o] on the last chunk. Compile-time flags:
 * lo_on / hi_on (activation bounds other than int8's), generic (patch % 4 != 0, no bias or several chunks). */
__attribute__((always_inline)) static inline void block4_loop(const conv_ctx *c, const chunk4 *k, int8_t *out,
                                                              int32_t o0, int32_t o1, int lo_on, int hi_on,
                                                              int generic)
{
    const int32_t cout = c->cout, groups4 = k->groups4, pairs = groups4 >> 1, odd = groups4 & 1;
    const int32_t n = groups4 * 4 + k->tail, wstride = c->wstride;
    const int32_t lo = c->lo, hi = c->hi, zp = c->zp;
    const int32_t *bias = c->bias, *mult = c->mult, *shift = c->shift;
    const int16_t *buf = k->buf;
    int32_t *part = k->part;
    const int8_t *w = c->filter + k->woff + o0 * wstride;
    out += o0;
    for (int32_t o = o0; o < o1; ++o, w += wstride, ++out) {
        int32_t acc[4];
        if (!generic || k->first) {
            const int32_t b = !generic || bias != NULL ? bias[o] : 0;
            acc[0] = acc[1] = acc[2] = acc[3] = b;
        } else {
            memcpy(acc, part + 4 * o, sizeof acc);
        }
        if (!generic || groups4 > 0) {
            dot4px(buf, w, pairs, odd, acc);
        }
        int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
        if (generic) {
            for (int32_t t = groups4 * 4; t < n; ++t) {
                const int32_t wv = w[t];
                a0 += ld16(buf, im2col4_index(t, 0)) * wv;
                a1 += ld16(buf, im2col4_index(t, 1)) * wv;
                a2 += ld16(buf, im2col4_index(t, 2)) * wv;
                a3 += ld16(buf, im2col4_index(t, 3)) * wv;
            }
            if (!k->last) {
                acc[0] = a0;
                acc[1] = a1;
                acc[2] = a2;
                acc[3] = a3;
                memcpy(part + 4 * o, acc, sizeof acc);
                continue;
            }
        }
        const rq_zp q = rq_zp_load(mult, shift, o, zp);
        a0 = rq_clamp8(a0, q, lo, hi, lo_on, hi_on);
        a1 = rq_clamp8(a1, q, lo, hi, lo_on, hi_on);
        a2 = rq_clamp8(a2, q, lo, hi, lo_on, hi_on);
        a3 = rq_clamp8(a3, q, lo, hi, lo_on, hi_on);
        out[0] = (int8_t)a0;
        out[cout] = (int8_t)a1;
        int8_t *out2 = out + 2 * cout;
        out2[0] = (int8_t)a2;
        out2[cout] = (int8_t)a3;
    }
}

/* All channels of a 4-pixel block for one chunk. A single chunk whose element count is not a multiple of 4 runs
 * over the padded last group (zero lanes in the buffer): with the filters' padded copy (wpad) for every channel,
 * else reading each filter's last word into the next channel's first bytes (times zero), except for the last
 * channel, whose filter ends the array (the C loop). The assembly loops need 2 groups or more, and a table,
 * or all shifts in [-22, -1] with a bias or partial sums; else the C loop. */
__attribute__((noinline)) static void block4_channels(const conv_ctx *c, const chunk4 *k, int8_t *out)
{
    const int lo_on = c->lo > -128, hi_on = c->hi < 127;
    const int32_t cout = c->cout;
    int32_t groups = k->groups4, fast = cout;
    if (k->tail != 0) {
        groups += 1;
        fast = k->wpad ? cout : cout - 1;
    }
    /* 6-pixel blocks: the table or index mode; 4-pixel blocks (leftovers, chunks): index mode only */
    const int mode_ok = (c->np == 6 && k->tab != NULL) || (k->idx_ok && (k->part != NULL || c->bias != NULL));
    if (groups < 2 || !mode_ok || (k->tail != 0 && (!k->first || !k->last))) {
        block4_loop(c, k, out, 0, cout, 1, 1, 1);
        return;
    }
    if (fast > 0) {
        blk4_frame f;
        f.buf = k->buf;
        f.groups = groups;
        f.cout = cout;
        f.lo = c->lo;
        f.hi = c->hi;
        f.wadj = k->wstride - groups * 4;
        f.bias = c->bias;
        f.mult = c->mult;
        f.shift = c->shift;
        f.part = k->part;
        f.zp21 = 2 * c->zp + 1;
        f.skip = ((4 - (groups & 3)) & 3) * 84;
        f.xend = k->buf + groups * 24;
        const int8_t *w = k->filter + k->woff;
        if (c->np == 6) {
            f.end = k->tab != NULL ? (intptr_t)(k->tab + 4 * fast) : 4 * fast;
            if (k->tab != NULL) {
                block6_tab(&f, k->tab, w, out, hi_on ? 2 : lo_on);
            } else {
                block6_idx(&f, 0, w, out, k->part != NULL, !k->last ? 2 : (lo_on || hi_on));
            }
        } else {
            f.end = 4 * fast;
            block4_idx(&f, 0, w, out, k->part != NULL, !k->last ? 2 : (lo_on || hi_on));
        }
    }
    if (fast < cout) {
        block4_loop(c, k, out, fast, cout, 1, 1, 1);
    }
}

/* Scratch bytes a chunk of `elems` patch elements takes: the 4 pixels' int16 lanes (32 bytes per group of 4
 * elements) and, when C_in % 4 != 0, one pixel's staging copy in bytes (whole groups and 4 spare bytes). */
static int32_t im2col4_bytes(int32_t elems, int32_t cin, int32_t np)
{
    const int32_t groups = (elems + 3) >> 2;
    return groups * 8 * np + ((cin & 3) != 0 ? groups * 4 + 4 : 0);
}

/* taps per chunk for the 4-pixel blocks in cap scratch bytes (0: not possible). One chunk when the patch fits;
 * else the scratch also holds 4 int32 partial sums per output channel and each chunk whole taps. */
static int32_t im2col4_taps_per_chunk(int32_t taps, int32_t cin, int32_t cout, int32_t cap, int32_t np)
{
    if (im2col4_bytes(taps * cin, cin, np) <= cap) {
        return taps;
    }
    const int32_t room = cap - 4 * np * cout;
    if (room < 64) {
        return 0;
    }
    int32_t t = room / (2 * np * cin);
    while (t > 0 && im2col4_bytes(t * cin, cin, np) > room) {
        --t;
    }
    return t;
}

/* groups of zeros / of sign-extended input words (input offset added) into one pixel's lanes: 32 bytes per group */
static inline int16_t *im2col4_zero(int16_t *d, int32_t groups, int32_t np)
{
    const uint32_t z[2] = {0, 0};
    for (; groups > 0; --groups, d += 4 * np) {
        memcpy(d, z, sizeof z);
    }
    return d;
}

#define MF_IM2COL_WORDS(step)                                                                                 \
    __asm__ volatile("1:\n\t"                                                                                    \
                     "ldr %[v], [%[s]], #4\n\t"                                                                  \
                     "sxtab16 %[e], %[off2], %[v]\n\t"                                                           \
                     "sxtab16 %[o], %[off2], %[v], ror #8\n\t"                                                   \
                     "strd %[e], %[o], [%[d]], #" step "\n\t"                                                    \
                     "subs %[n], %[n], #1\n\t"                                                                   \
                     "bne 1b\n\t"                                                                                \
                     : [d] "+r"(d), [s] "+r"(src), [n] "+r"(groups), [v] "=&r"(v), [e] "=&r"(e), [o] "=&r"(o)  \
                     : [off2] "r"(off2)                                                                         \
                     : "cc", "memory")

static inline int16_t *im2col4_words(int16_t *d, const int8_t *src, int32_t groups, int32_t off2, int32_t np)
{
    if (groups > 0) {
        uint32_t v, e, o;
        if (np == 4) {
            MF_IM2COL_WORDS("32");
        } else {
            MF_IM2COL_WORDS("48");
        }
    }
    return d;
}
#undef MF_IM2COL_WORDS

/* rows window rows of gpr groups each (src advancing by row_step per row) into one pixel's lanes */
#define MF_IM2COL_ROWS(step)                                                                                  \
    __asm__ volatile("1:\n\t"                                                                                 \
                     "lsrs %[n], %[gpr], #1\n\t"                                                              \
                     "mov %[s], %[src]\n\t"                                                                   \
                     "bcc 3f\n\t"                                                                             \
                     "ldr %[v], [%[s]], #4\n\t"                                                               \
                     "sxtab16 %[e], %[off2], %[v]\n\t"                                                        \
                     "sxtab16 %[o], %[off2], %[v], ror #8\n\t"                                                \
                     "strd %[e], %[o], [%[d]], #" step "\n\t"                                                 \
                     "3:\n\t"                                                                                 \
                     "beq 4f\n\t"                                                                             \
                     "2:\n\t"                                                                                 \
                     "ldr %[v], [%[s]], #4\n\t"                                                               \
                     "sxtab16 %[e], %[off2], %[v]\n\t"                                                        \
                     "sxtab16 %[o], %[off2], %[v], ror #8\n\t"                                                \
                     "strd %[e], %[o], [%[d]], #" step "\n\t"                                                 \
                     "ldr %[v], [%[s]], #4\n\t"                                                               \
                     "sxtab16 %[e], %[off2], %[v]\n\t"                                                        \
                     "sxtab16 %[o], %[off2], %[v], ror #8\n\t"                                                \
                     "strd %[e], %[o], [%[d]], #" step "\n\t"                                                 \
                     "subs %[n], %[n], #1\n\t"                                                                \
                     "bne 2b\n\t"                                                                             \
                     "4:\n\t"                                                                                 \
                     "add %[src], %[src], %[rs]\n\t"                                                          \
                     "subs %[rows], %[rows], #1\n\t"                                                          \
                     "bne 1b\n\t"                                                                             \
                     : [d] "+r"(d), [src] "+r"(src), [rows] "+r"(rows), [n] "=&r"(n), [s] "=&r"(sp),          \
                       [v] "=&r"(v), [e] "=&r"(e), [o] "=&r"(o)                                               \
                     : [gpr] "r"(gpr), [rs] "r"(row_step), [off2] "r"(off2)                                   \
                     : "cc", "memory")

static inline void im2col_rows(int16_t *d, const int8_t *src, int32_t rows, int32_t row_step, int32_t gpr,
                               int32_t off2, int32_t np)
{
    if (rows > 0 && gpr > 0) {
        uint32_t v, e, o;
        int32_t n;
        const int8_t *sp;
        if (np == 4) {
            MF_IM2COL_ROWS("32");
        } else {
            MF_IM2COL_ROWS("48");
        }
    }
}
#undef MF_IM2COL_ROWS

/* rows window rows of row_bytes each (src advancing by row_step) gathered into the staging bytes at d, by whole
 * words: each row's last word reads up to 3 bytes past the row (the caller checks they lie inside the input) and
 * the next row overwrites them; returns the end of the gathered bytes */
static inline int8_t *stage_rows(int8_t *d, const int8_t *src, int32_t rows, int32_t row_step, int32_t row_bytes)
{
    const int32_t words = (row_bytes + 3) >> 2, back = words * 4 - row_bytes;
    uint32_t v;
    int32_t n;
    const int8_t *sp;
    __asm__ volatile("1:\n\t"
                     "mov %[n], %[words]\n\t"
                     "mov %[s], %[src]\n\t"
                     "2:\n\t"
                     "ldr %[v], [%[s]], #4\n\t"
                     "str %[v], [%[d]], #4\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 2b\n\t"
                     "sub %[d], %[d], %[back]\n\t"
                     "add %[src], %[src], %[rs]\n\t"
                     "subs %[rows], %[rows], #1\n\t"
                     "bne 1b\n\t"
                     : [d] "+r"(d), [src] "+r"(src), [rows] "+r"(rows), [n] "=&r"(n), [s] "=&r"(sp), [v] "=&r"(v)
                     : [words] "r"(words), [rs] "r"(row_step), [back] "r"(back)
                     : "cc", "memory");
    return d;
}

static inline int8_t *stage_copy(int8_t *s, const int8_t *src, int32_t n)
{
    for (; n >= 4; n -= 4, s += 4, src += 4) {
        uint32_t v;
        memcpy(&v, src, sizeof v);
        memcpy(s, &v, sizeof v);
    }
    for (; n > 0; --n) {
        *s++ = *src++;
    }
    return s;
}

/* n bytes v; whole words, so up to 3 bytes after them are written too (the staging area has 4 spare bytes) */
static inline int8_t *stage_fill(int8_t *s, int8_t v, int32_t n)
{
    const uint32_t v4 = (uint32_t)(uint8_t)v * 0x01010101u;
    for (int32_t i = 0; i < n; i += 4) {
        memcpy(s + i, &v4, sizeof v4);
    }
    return s + n;
}

/* Pixel (b, y, x)'s patch elements of taps [t0, t1) into its lanes (dst = buf + p * 4), window row by window row:
 * taps outside the image are zeros, the taps inside one row are one contiguous run when dilation_w == 1.
 * C_in % 4 == 0: straight from the input, 4 bytes per group. Else (stage != NULL) the bytes are gathered first,
 * taps outside the image and the last group's pad lanes as the byte -input_offset (zero once the offset is
 * added; the caller checks that it is an int8), then converted 4 at a time. */
__attribute__((noinline)) static void im2col4_fill(const mf_conv2d_params *params, const conv_ctx *c, int32_t b, int32_t y, int32_t x,
                         int32_t t0, int32_t t1, int16_t *dst, int8_t *stage)
{
    const mf_dims in = params->input;
    const int32_t cin = in.c, fw = params->filter.w, dw = params->dilation_w, off2 = c->off2, np = c->np;
    const int32_t y0 = y * params->stride_h - params->pad_h, x0 = x * params->stride_w - params->pad_w;
    const int8_t padb = (int8_t)(-c->off);
    int32_t kx_lo, kx_hi;
    tap_range(x0, dw, fw, in.w, &kx_lo, &kx_hi);
    int8_t *s = stage;
    for (int32_t t = t0; t < t1;) {
        const int32_t ky = t / fw, ka = t - ky * fw;
        const int32_t kb = t1 - t < fw - ka ? ka + (t1 - t) : fw; /* this row's taps in the chunk: [ka, kb) */
        const int32_t iy = y0 + ky * params->dilation_h;
        int32_t lo = kx_lo > ka ? kx_lo : ka, hi = kx_hi < kb ? kx_hi : kb;
        if (iy < 0 || iy >= in.h || hi <= lo) {
            lo = hi = ka;
        }
        const int8_t *src = hi > lo ? c->input + (((b * in.h + iy) * in.w + x0 + lo * dw) * cin) : c->input;
        if (stage == NULL) {
            dst = im2col4_zero(dst, ((lo - ka) * cin) >> 2, np);
            if (dw == 1) {
                dst = im2col4_words(dst, src, ((hi - lo) * cin) >> 2, off2, np);
            } else {
                for (int32_t kx = lo; kx < hi; ++kx, src += dw * cin) {
                    dst = im2col4_words(dst, src, cin >> 2, off2, np);
                }
            }
            dst = im2col4_zero(dst, ((kb - hi) * cin) >> 2, np);
        } else {
            s = stage_fill(s, padb, (lo - ka) * cin);
            if (dw == 1) {
                s = stage_copy(s, src, (hi - lo) * cin);
            } else {
                for (int32_t kx = lo; kx < hi; ++kx, src += dw * cin) {
                    s = stage_copy(s, src, cin);
                }
            }
            s = stage_fill(s, padb, (kb - hi) * cin);
        }
        t += kb - ka;
    }
    if (stage != NULL) {
        s = stage_fill(s, padb, (int32_t)(-(s - stage) & 3));
        im2col4_words(dst, stage, (int32_t)(s - stage) >> 2, off2, np);
    }
}

/* Output pixels [start, start + count) (count % np == 0) in blocks of np = c->np (4 or 6) pixels (groups == 1,
 * rq_fast_ok, zp_fold_ok, and -input_offset an int8 when C_in % 4 != 0) in the cap bytes at scratch (word
 * aligned); returns how many pixels it did: count, or 0 when the blocks do not fit the scratch (or, for 6-pixel
 * blocks, when a chunk would need the C loop). */
__attribute__((noinline)) static int32_t conv_im2col(const mf_conv2d_params *params, const conv_ctx *c, int8_t *output,
                                                     int32_t *scratch, int32_t cap, int32_t start, int32_t count)
{
    const mf_dims in = params->input, fd = params->filter, out = params->output;
    const int32_t cin = in.c, cout = out.c, taps = fd.h * fd.w, np = c->np, patch = taps * cin;
    const int32_t tpc = count > 0 ? im2col4_taps_per_chunk(taps, cin, cout, cap, np) : 0;
    if (tpc == 0) {
        return 0;
    }
    const int chunked = tpc < taps;
    int16_t *buf = (int16_t *)(void *)(scratch + (chunked ? np * cout : 0)); /* after np * C_out partial sums */
    int8_t *stage = (cin & 3) != 0 ? (int8_t *)(void *)(buf + 4 * np * ((tpc * cin + 3) >> 2)) : NULL;
    /* per-channel requantization records after the patch lanes and the staging bytes, when they fit */
    const int32_t used = (chunked ? 4 * np * cout : 0) + im2col4_bytes(tpc * cin, cin, np);
    int32_t *tab = !chunked && used + 16 * cout <= cap ? scratch + used / 4 : NULL;
    int idx_ok = 1;
    for (int32_t o = 0; o < cout; ++o) {
        idx_ok &= c->shift[o] < 0;
    }
    /* a patch that ends inside a group: the filters copied with zero bytes up to whole groups, when they fit */
    const int32_t patch4 = (patch + 3) & ~3;
    const int32_t used2 = used + (tab != NULL ? 16 * cout : 0);
    const int wpad = !chunked && patch4 != patch && used2 + cout * patch4 <= cap;
    if (np == 6) { /* every chunk in the assembly loop: >= 2 groups, whole groups or padded filters, a mode */
        const int32_t last = (taps - (taps - 1) / tpc * tpc) * cin;
        /* estimated instructions per pixel and channel: 0.875 vs 0.94 per patch element, ~40 per chunk and block */
        const int32_t tpc4 = im2col4_taps_per_chunk(taps, cin, cout, cap, 4);
        const int32_t ch6 = (taps + tpc - 1) / tpc, ch4 = tpc4 > 0 ? (taps + tpc4 - 1) / tpc4 : 0;
        if (ch4 > 0 && (int64_t)875 * patch + (int64_t)6667 * ch6 > (int64_t)940 * patch + (int64_t)10000 * ch4) {
            return 0;
        }
        const int mode_ok = tab != NULL || (idx_ok && (chunked || c->bias != NULL));
        if (!mode_ok || last < 5 || tpc * cin < 5 || (((tpc * cin) & 3) != 0 && !wpad) || ((last & 3) != 0 && !wpad)) {
            return 0;
        }
    }
    for (int32_t o = 0; tab != NULL && o < cout; ++o) {
        const rq_zp r = rq_zp_load(c->mult, c->shift, o, c->zp);
        tab[4 * o] = c->bias != NULL ? c->bias[o] : 0;
        tab[4 * o + 1] = r.m;
        tab[4 * o + 2] = r.k;
        tab[4 * o + 3] = r.e;
    }
    const int8_t *filter = c->filter;
    if (wpad) {
        int8_t *copy = (int8_t *)(void *)(scratch + used2 / 4);
        for (int32_t o = 0; o < cout; ++o) {
            memcpy(copy + o * patch4, c->filter + o * patch, (size_t)patch);
            memset(copy + o * patch4 + patch, 0, (size_t)(patch4 - patch));
        }
        filter = copy;
    }
    const int dw1 = params->dilation_w == 1;
    const int rows_ok = !chunked && dw1;
    const int8_t *in_end = c->input + in.n * in.h * in.w * cin;
    const int32_t last_row = (fd.h - 1) * c->row_step + ((fd.w * cin + 3) & ~3); /* bytes stage_rows may read */
    const int8_t padb = (int8_t)(-c->off);
    const int same_px = taps == 1 && stage == NULL && !chunked && params->stride_h == 1 && params->stride_w == 1 &&
                        in.h == out.h && in.w == out.w && params->pad_h == 0 && params->pad_w == 0;
    const int32_t span_h = (fd.h - 1) * params->dilation_h, span_w = fd.w - 1, row_bytes = fd.w * cin;
    /* the block's first pixel */
    int32_t b = start / (out.h * out.w), y = start / out.w % out.h, x = start % out.w;
    for (int32_t pix = start; pix < start + count; pix += np) {
        int32_t pb = b, py = y, px = x;
        for (int32_t o = 0; chunked && o < cout; ++o) { /* the partial sums start at the bias */
            const int32_t bv = c->bias != NULL ? c->bias[o] : 0;
            for (int32_t p = 0; p < np; ++p) {
                scratch[np * o + p] = bv;
            }
        }
        for (int32_t t0 = 0; t0 < taps; t0 += tpc) {
            const int32_t t1 = t0 + tpc < taps ? t0 + tpc : taps;
            pb = b;
            py = y;
            px = x;
            int filled = 0;
            if (same_px) { /* 1x1 stride 1 without padding: output pixel i reads input pixel i */
                const int8_t *src = c->input + pix * cin;
                for (int32_t p = 0; p < np; ++p, src += cin) {
                    im2col_rows(buf + p * 4, src, 1, 0, cin >> 2, c->off2, np);
                }
                pb = (pix + np) / (out.h * out.w);
                py = (pix + np) / out.w % out.h;
                px = (pix + np) % out.w;
                filled = 1;
            } else if (rows_ok && px + np <= out.w) { /* one output row, every window inside the image */
                const int32_t y0 = py * params->stride_h - params->pad_h, x0 = px * params->stride_w - params->pad_w;
                const int32_t xl = x0 + (np - 1) * params->stride_w;
                const int8_t *src = c->input + ((pb * in.h + y0) * in.w + x0) * cin;
                const int8_t *src_last = src + (np - 1) * params->stride_w * cin;
                if (y0 >= 0 && y0 + span_h < in.h && x0 >= 0 && xl + span_w < in.w &&
                    (stage == NULL || last_row <= in_end - src_last)) {
                    for (int32_t p = 0; p < np; ++p, src += params->stride_w * cin) {
                        if (stage == NULL) {
                            im2col_rows(buf + p * 4, src, fd.h, c->row_step, row_bytes >> 2, c->off2, np);
                        } else {
                            int8_t *e = stage_rows(stage, src, fd.h, c->row_step, row_bytes);
                            (void)stage_fill(e, padb, (int32_t)(-(e - stage) & 3));
                            im2col_rows(buf + p * 4, stage, 1, 0, (int32_t)(e - stage + 3) >> 2, c->off2, np);
                        }
                    }
                    px += np;
                    if (px == out.w) {
                        px = 0;
                        if (++py == out.h) {
                            py = 0;
                            ++pb;
                        }
                    }
                    filled = 1;
                }
            }
            for (int32_t p = 0; p < np && !filled; ++p) {
                const int32_t y0 = py * params->stride_h - params->pad_h, x0 = px * params->stride_w - params->pad_w;
                const int inside = dw1 && y0 >= 0 && y0 + span_h < in.h && x0 >= 0 && x0 + span_w < in.w;
                if (inside && chunked && stage == NULL) {
                    /* taps [t0, t1) of a window inside the image: runs of whole window rows or parts of them */
                    const int8_t *base = c->input + ((pb * in.h + y0) * in.w + x0) * cin;
                    int16_t *d = buf + p * 4;
                    int32_t ky = t0 / fd.w, ka = t0 - ky * fd.w;
                    for (int32_t t = t0; t < t1; ka = 0, ++ky) {
                        const int32_t kb = t1 - t < fd.w - ka ? ka + (t1 - t) : fd.w;
                        d = im2col4_words(d, base + ky * c->row_step + ka * cin, ((kb - ka) * cin) >> 2, c->off2,
                                          np);
                        t += kb - ka;
                    }
                } else if (inside && !chunked) {
                    /* the window inside the image: fd.h contiguous rows of fd.w * C_in bytes */
                    const int8_t *src = c->input + ((pb * in.h + y0) * in.w + x0) * cin;
                    if (stage == NULL) {
                        im2col_rows(buf + p * 4, src, fd.h, c->row_step, row_bytes >> 2, c->off2, np);
                    } else if (last_row <= in_end - src) {
                        int8_t *e = stage_rows(stage, src, fd.h, c->row_step, row_bytes);
                        (void)stage_fill(e, padb, (int32_t)(-(e - stage) & 3));
                        im2col_rows(buf + p * 4, stage, 1, 0, (int32_t)(e - stage + 3) >> 2, c->off2, np);
                    } else {
                        int8_t *s = stage;
                        for (int32_t ky = 0; ky < fd.h; ++ky, src += c->row_step) {
                            s = stage_copy(s, src, row_bytes);
                        }
                        s = stage_fill(s, padb, (int32_t)(-(s - stage) & 3));
                        im2col4_words(buf + p * 4, stage, (int32_t)(s - stage) >> 2, c->off2, np);
                    }
                } else {
                    im2col4_fill(params, c, pb, py, px, t0, t1, buf + p * 4, stage);
                }
                if (++px == out.w) {
                    px = 0;
                    if (++py == out.h) {
                        py = 0;
                        ++pb;
                    }
                }
            }
            /* channels: the np pixels share each filter word and the channel's requantization */
            chunk4 k;
            k.buf = buf;
            k.groups4 = ((t1 - t0) * cin) >> 2;
            k.tail = ((t1 - t0) * cin) & 3;
            k.woff = t0 * cin;
            k.part = chunked ? scratch : NULL;
            k.first = t0 == 0;
            k.last = t1 == taps;
            k.tab = tab;
            k.idx_ok = idx_ok;
            k.filter = filter;
            k.wstride = wpad ? patch4 : c->wstride;
            k.wpad = wpad;
            block4_channels(c, &k, output + pix * cout);
        }
        b = pb;
        y = py;
        x = px;
    }
    return count;
}

/*
 * 1x1 stride-1 convolutions with C_in 8 or 16 (no padding: output pixel i reads input pixel i): the whole layer
 * without a window copy. The filters are sign-extended and doubled once per call into a stack table of int16
 * pairs in SXTB16 order ((w0, w2), (w1, w3) per 4 bytes), followed per output channel by {2 * bias, multiplier,
 * rounding constant with the zero point folded in, right shift}; the table is MF_SCRATCH_WORDS int32 words (2 KB),
 * C_out * (C_in / 2 + 4) words. Per pixel the C_in input bytes are loaded once and sign-extended (input offset
 * added by SXTAB16) into C_in / 2 registers; per output channel LDRD + 2 SMLAD per 4 input bytes and the
 * requantization: doubled weights and bias give 2 * acc directly, so SMMLAR(2acc, m, k + [acc < 0]) >> e, SSAT 8,
 * STRB (~1.7 instructions/MAC at C_in 8, ~1.3 at 16). Pixel by pixel, channels increasing: the reference's order,
 * and each pixel's input is read before any of its outputs is written.
 */

static int pw_fits(const mf_conv2d_params *params, int32_t cout, int32_t cap)
{
    const mf_dims in = params->input, fd = params->filter, out = params->output;
    return fd.h == 1 && fd.w == 1 && params->stride_h == 1 && params->stride_w == 1 && params->pad_h == 0 &&
           params->pad_w == 0 && in.h == out.h && in.w == out.w && in.n == out.n && (in.c == 8 || in.c == 16) &&
           cout * (in.c / 2 + 4) * 4 <= cap;
}

/* x = one pixel's input in registers (C_in / 2 pairs), r = one channel's record: C_in / 2 filter pairs, then
 * 2 * bias, multiplier, rounding constant, shift */
#define PW_DOT8(a, r, x0, x1, x2, x3)                                                                             \
    a = __smlad(x0, r[0], a);                                                                                   \
    a = __smlad(x1, r[1], a);                                                                                   \
    a = __smlad(x2, r[2], a);                                                                                   \
    a = __smlad(x3, r[3], a)

#define PW_LOAD4(x0, x1, src, off2)                                                                              \
    do {                                                                                                        \
        uint32_t v_;                                                                                            \
        memcpy(&v_, src, sizeof v_);                                                                            \
        x0 = __sxtab16(off2, v_);                                                                               \
        x1 = __sxtab16(off2, (v_ >> 8) | (v_ << 24));                                                           \
    } while (0)

/* all pixels; cin (8 or 16) and the clamp flag are compile-time constants */
__attribute__((always_inline)) static inline void pw_run(const int32_t *table, int32_t cout, const int8_t *in,
                                                         int8_t *out, int32_t pixels, int32_t off2, int32_t lo,
                                                         int32_t hi, const int cin, int clamp)
{
    const int32_t rec = cin / 2 + 4;
    const int32_t *end = table + cout * rec;
    for (int32_t p = 0; p < pixels; ++p, in += cin) {
        int32_t x0, x1, x2, x3, x4 = 0, x5 = 0, x6 = 0, x7 = 0;
        PW_LOAD4(x0, x1, in, off2);
        PW_LOAD4(x2, x3, in + 4, off2);
        if (cin == 16) {
            PW_LOAD4(x4, x5, in + 8, off2);
            PW_LOAD4(x6, x7, in + 12, off2);
        }
        for (const int32_t *r = table; r != end; r += rec) {
            const int32_t *q = r + cin / 2;
            int32_t a = q[0];
            PW_DOT8(a, r, x0, x1, x2, x3);
            if (cin == 16) {
                PW_DOT8(a, (r + 4), x4, x5, x6, x7);
            }
            int32_t v = __ssat(smmlar(a, q[1], q[2] + (a >> 31)) >> q[3], 8);
            if (clamp) {
                v = v < lo ? lo : v;
                v = v > hi ? hi : v;
            }
            *out++ = (int8_t)v;
        }
    }
}

/* One pixel's channels without activation clamp (int8 bounds): the loop in assembly keeps the C_in / 2 input
 * registers, the accumulator, two temporaries and the pointers in registers (GCC spills at C_in 16 and cannot
 * pair the table loads into LDRD). Per channel: LDRD per 2 filter words, 1 SMLAD per word, then LDR 2 * bias
 * first, and LDRD {m, k} + ADD + SMMLAR + LDR e + ASR + SSAT + STRB + pointer/loop 4. */
#define PW_SMLAD2(off, xa, xb)                                                                                   \
    "ldrd %[t0], %[t1], [%[r], #" off "]\n\t"                                                                   \
    "smlad %[a], %[" xa "], %[t0], %[a]\n\t"                                                                    \
    "smlad %[a], %[" xb "], %[t1], %[a]\n\t"
#define PW_TAIL(b2, mk, e, step)                                                                                 \
    "ldrd %[t0], %[t1], [%[r], #" mk "]\n\t"                                                                    \
    "add %[t1], %[t1], %[a], asr #31\n\t"                                                                       \
    "smmlar %[a], %[a], %[t0], %[t1]\n\t"                                                                       \
    "ldr %[t0], [%[r], #" e "]\n\t"                                                                             \
    "asr %[a], %[a], %[t0]\n\t"                                                                                 \
    "ssat %[a], #8, %[a]\n\t"                                                                                   \
    "strb %[a], [%[o]], #1\n\t"                                                                                 \
    "add %[r], %[r], #" step "\n\t"                                                                             \
    "ldr %[t0], %[end]\n\t"                                                                                     \
    "cmp %[r], %[t0]\n\t"                                                                                       \
    "bne 1b\n\t"

static inline int8_t *pw_pixel8_asm(const int32_t *r, const int32_t *end, int32_t x0, int32_t x1, int32_t x2,
                                    int32_t x3, int8_t *o)
{
    int32_t a, t0, t1;
    __asm__ volatile(
        "1:\n\t"
        "ldr %[a], [%[r], #16]\n\t"
        PW_SMLAD2("0", "x0", "x1")
        PW_SMLAD2("8", "x2", "x3")
        PW_TAIL("16", "20", "28", "32")
        : [a] "=&r"(a), [t0] "=&r"(t0), [t1] "=&r"(t1), [r] "+r"(r), [o] "+r"(o)
        : [x0] "r"(x0), [x1] "r"(x1), [x2] "r"(x2), [x3] "r"(x3), [end] "m"(end)
        : "cc", "memory");
    return o;
}

__attribute__((noinline)) static int8_t *pw_pixel16_asm(const int32_t *r, const int32_t *end, const int32_t *x, int8_t *o)
{
    int32_t a, t0, t1;
    __asm__ volatile(
        "1:\n\t"
        "ldr %[a], [%[r], #32]\n\t"
        PW_SMLAD2("0", "x0", "x1")
        PW_SMLAD2("8", "x2", "x3")
        PW_SMLAD2("16", "x4", "x5")
        PW_SMLAD2("24", "x6", "x7")
        PW_TAIL("32", "36", "44", "48")
        : [a] "=&r"(a), [t0] "=&r"(t0), [t1] "=&r"(t1), [r] "+r"(r), [o] "+r"(o)
        : [x0] "r"(x[0]), [x1] "r"(x[1]), [x2] "r"(x[2]), [x3] "r"(x[3]), [x4] "r"(x[4]), [x5] "r"(x[5]),
          [x6] "r"(x[6]), [x7] "r"(x[7]), [end] "m"(end)
        : "cc", "memory");
    return o;
}
#undef PW_SMLAD2
#undef PW_TAIL

/* C_in 16: two channels per loop pass (the pass overhead shared); end - r is a multiple of 2 records */
__attribute__((noinline)) static int8_t *pw_pixel16x2_asm(const int32_t *r, const int32_t *end, const int32_t *x, int8_t *o)
{
    int32_t a, t0, t1;
    __asm__ volatile(
        "1:\n\t"
        "ldr %[a], [%[r], #32]\n\t"
        "ldrd %[t0], %[t1], [%[r], #0]\n\t"
        "smlad %[a], %[x0], %[t0], %[a]\n\t"
        "smlad %[a], %[x1], %[t1], %[a]\n\t"
        "ldrd %[t0], %[t1], [%[r], #8]\n\t"
        "smlad %[a], %[x2], %[t0], %[a]\n\t"
        "smlad %[a], %[x3], %[t1], %[a]\n\t"
        "ldrd %[t0], %[t1], [%[r], #16]\n\t"
        "smlad %[a], %[x4], %[t0], %[a]\n\t"
        "smlad %[a], %[x5], %[t1], %[a]\n\t"
        "ldrd %[t0], %[t1], [%[r], #24]\n\t"
        "smlad %[a], %[x6], %[t0], %[a]\n\t"
        "smlad %[a], %[x7], %[t1], %[a]\n\t"
        "ldrd %[t0], %[t1], [%[r], #36]\n\t"
        "add %[t1], %[t1], %[a], asr #31\n\t"
        "smmlar %[a], %[a], %[t0], %[t1]\n\t"
        "ldr %[t0], [%[r], #44]\n\t"
        "asr %[a], %[a], %[t0]\n\t"
        "ssat %[a], #8, %[a]\n\t"
        "strb %[a], [%[o]], #1\n\t"
        "ldr %[a], [%[r], #80]\n\t"
        "ldrd %[t0], %[t1], [%[r], #48]\n\t"
        "smlad %[a], %[x0], %[t0], %[a]\n\t"
        "smlad %[a], %[x1], %[t1], %[a]\n\t"
        "ldrd %[t0], %[t1], [%[r], #56]\n\t"
        "smlad %[a], %[x2], %[t0], %[a]\n\t"
        "smlad %[a], %[x3], %[t1], %[a]\n\t"
        "ldrd %[t0], %[t1], [%[r], #64]\n\t"
        "smlad %[a], %[x4], %[t0], %[a]\n\t"
        "smlad %[a], %[x5], %[t1], %[a]\n\t"
        "ldrd %[t0], %[t1], [%[r], #72]\n\t"
        "smlad %[a], %[x6], %[t0], %[a]\n\t"
        "smlad %[a], %[x7], %[t1], %[a]\n\t"
        "ldrd %[t0], %[t1], [%[r], #84]\n\t"
        "add %[t1], %[t1], %[a], asr #31\n\t"
        "smmlar %[a], %[a], %[t0], %[t1]\n\t"
        "ldr %[t0], [%[r], #92]\n\t"
        "asr %[a], %[a], %[t0]\n\t"
        "ssat %[a], #8, %[a]\n\t"
        "strb %[a], [%[o]], #1\n\t"
        "add %[r], %[r], #96\n\t"
        "ldr %[t0], %[end]\n\t"
        "cmp %[r], %[t0]\n\t"
        "bne 1b\n\t"
        : [a] "=&r"(a), [t0] "=&r"(t0), [t1] "=&r"(t1), [r] "+r"(r), [o] "+r"(o)
        : [x0] "r"(x[0]), [x1] "r"(x[1]), [x2] "r"(x[2]), [x3] "r"(x[3]), [x4] "r"(x[4]), [x5] "r"(x[5]),
          [x6] "r"(x[6]), [x7] "r"(x[7]), [end] "m"(end)
        : "cc", "memory");
    return o;
}

/* Two pixels of C_in 8 per pass over the table (x[0..3] pixel 0, x[4..7] pixel 1, both read before any output
 * is written: the reference writes all of pixel 0's and pixel 1's outputs before reading pixel 2): per channel
 * LDR 2 * bias + MOV, 2 LDRD + 8 SMLAD, and per output ADD + SMMLAR + ASR + SSAT + STRB with the constants
 * loaded once (30 instructions per 16 MACs). Pixel 1's byte is stored at o + C_out - 1 after the post-increment. */
typedef struct {
    const int32_t *end;
    int32_t cm1; /* C_out - 1 */
    int32_t lo, hi;
} pw2_frame;

/* records [r, f->end) (nch = 2: two per loop pass, an even count); returns o past the channels done */
__attribute__((always_inline)) static inline int8_t *pw_pixel8x2_asm(const int32_t *r, const pw2_frame *f,
                                                                     const int32_t *x, int8_t *o, int clamp,
                                                                     int nch)
{
    int32_t a0, a1, t0, t1;
    if (clamp && nch == 2) {
        __asm__ volatile(
            "1:\n\t"
            "ldr %[a0], [%[r], #16]\n\t"
            "mov %[a1], %[a0]\n\t"
            "ldrd %[t0], %[t1], [%[r], #0]\n\t"
            "smlad %[a0], %[x0], %[t0], %[a0]\n\t"
            "smlad %[a0], %[x1], %[t1], %[a0]\n\t"
            "smlad %[a1], %[x4], %[t0], %[a1]\n\t"
            "smlad %[a1], %[x5], %[t1], %[a1]\n\t"
            "ldrd %[t0], %[t1], [%[r], #8]\n\t"
            "smlad %[a0], %[x2], %[t0], %[a0]\n\t"
            "smlad %[a0], %[x3], %[t1], %[a0]\n\t"
            "smlad %[a1], %[x6], %[t0], %[a1]\n\t"
            "smlad %[a1], %[x7], %[t1], %[a1]\n\t"
            "ldrd %[t0], %[t1], [%[r], #20]\n\t"
            "add %[t1], %[t1], %[a0], asr #31\n\t"
            "smmlar %[a0], %[a0], %[t0], %[t1]\n\t"
            "ldr %[t1], [%[r], #24]\n\t"
            "add %[t1], %[t1], %[a1], asr #31\n\t"
            "smmlar %[a1], %[a1], %[t0], %[t1]\n\t"
            "ldr %[t0], [%[r], #28]\n\t"
            "asr %[a0], %[a0], %[t0]\n\t"
            "asr %[a1], %[a1], %[t0]\n\t"
            "ssat %[a0], #8, %[a0]\n\t"
            "ssat %[a1], #8, %[a1]\n\t"
            "ldr %[t1], %[lo]\n\t"
            "cmp %[a0], %[t1]\n\t"
            "it lt\n\t"
            "movlt %[a0], %[t1]\n\t"
            "cmp %[a1], %[t1]\n\t"
            "it lt\n\t"
            "movlt %[a1], %[t1]\n\t"
            "ldr %[t1], %[hi]\n\t"
            "cmp %[a0], %[t1]\n\t"
            "it gt\n\t"
            "movgt %[a0], %[t1]\n\t"
            "cmp %[a1], %[t1]\n\t"
            "it gt\n\t"
            "movgt %[a1], %[t1]\n\t"
            "ldr %[t1], %[cm1]\n\t"
            "strb %[a0], [%[o]], #1\n\t"
            "strb %[a1], [%[o], %[t1]]\n\t"
            "ldr %[a0], [%[r], #48]\n\t"
            "mov %[a1], %[a0]\n\t"
            "ldrd %[t0], %[t1], [%[r], #32]\n\t"
            "smlad %[a0], %[x0], %[t0], %[a0]\n\t"
            "smlad %[a0], %[x1], %[t1], %[a0]\n\t"
            "smlad %[a1], %[x4], %[t0], %[a1]\n\t"
            "smlad %[a1], %[x5], %[t1], %[a1]\n\t"
            "ldrd %[t0], %[t1], [%[r], #40]\n\t"
            "smlad %[a0], %[x2], %[t0], %[a0]\n\t"
            "smlad %[a0], %[x3], %[t1], %[a0]\n\t"
            "smlad %[a1], %[x6], %[t0], %[a1]\n\t"
            "smlad %[a1], %[x7], %[t1], %[a1]\n\t"
            "ldrd %[t0], %[t1], [%[r], #52]\n\t"
            "add %[t1], %[t1], %[a0], asr #31\n\t"
            "smmlar %[a0], %[a0], %[t0], %[t1]\n\t"
            "ldr %[t1], [%[r], #56]\n\t"
            "add %[t1], %[t1], %[a1], asr #31\n\t"
            "smmlar %[a1], %[a1], %[t0], %[t1]\n\t"
            "ldr %[t0], [%[r], #60]\n\t"
            "asr %[a0], %[a0], %[t0]\n\t"
            "asr %[a1], %[a1], %[t0]\n\t"
            "ssat %[a0], #8, %[a0]\n\t"
            "ssat %[a1], #8, %[a1]\n\t"
            "ldr %[t1], %[lo]\n\t"
            "cmp %[a0], %[t1]\n\t"
            "it lt\n\t"
            "movlt %[a0], %[t1]\n\t"
            "cmp %[a1], %[t1]\n\t"
            "it lt\n\t"
            "movlt %[a1], %[t1]\n\t"
            "ldr %[t1], %[hi]\n\t"
            "cmp %[a0], %[t1]\n\t"
            "it gt\n\t"
            "movgt %[a0], %[t1]\n\t"
            "cmp %[a1], %[t1]\n\t"
            "it gt\n\t"
            "movgt %[a1], %[t1]\n\t"
            "ldr %[t1], %[cm1]\n\t"
            "strb %[a0], [%[o]], #1\n\t"
            "strb %[a1], [%[o], %[t1]]\n\t"
            "adds %[r], %[r], #64\n\t"
            "ldr %[t0], %[end]\n\t"
            "cmp %[r], %[t0]\n\t"
            "bne 1b\n\t"
            : [a0] "=&r"(a0), [a1] "=&r"(a1), [t0] "=&r"(t0), [t1] "=&r"(t1), [r] "+r"(r), [o] "+r"(o)
            : [x0] "r"(x[0]), [x1] "r"(x[1]), [x2] "r"(x[2]), [x3] "r"(x[3]), [x4] "r"(x[4]), [x5] "r"(x[5]),
              [x6] "r"(x[6]), [x7] "r"(x[7]), [end] "m"(f->end), [cm1] "m"(f->cm1), [lo] "m"(f->lo),
              [hi] "m"(f->hi)
            : "cc", "memory");
    } else if (clamp) {
        __asm__ volatile(
            "1:\n\t"
            "ldr %[a0], [%[r], #16]\n\t"
            "mov %[a1], %[a0]\n\t"
            "ldrd %[t0], %[t1], [%[r], #0]\n\t"
            "smlad %[a0], %[x0], %[t0], %[a0]\n\t"
            "smlad %[a0], %[x1], %[t1], %[a0]\n\t"
            "smlad %[a1], %[x4], %[t0], %[a1]\n\t"
            "smlad %[a1], %[x5], %[t1], %[a1]\n\t"
            "ldrd %[t0], %[t1], [%[r], #8]\n\t"
            "smlad %[a0], %[x2], %[t0], %[a0]\n\t"
            "smlad %[a0], %[x3], %[t1], %[a0]\n\t"
            "smlad %[a1], %[x6], %[t0], %[a1]\n\t"
            "smlad %[a1], %[x7], %[t1], %[a1]\n\t"
            "ldrd %[t0], %[t1], [%[r], #20]\n\t"
            "add %[t1], %[t1], %[a0], asr #31\n\t"
            "smmlar %[a0], %[a0], %[t0], %[t1]\n\t"
            "ldr %[t1], [%[r], #24]\n\t"
            "add %[t1], %[t1], %[a1], asr #31\n\t"
            "smmlar %[a1], %[a1], %[t0], %[t1]\n\t"
            "ldr %[t0], [%[r], #28]\n\t"
            "asr %[a0], %[a0], %[t0]\n\t"
            "asr %[a1], %[a1], %[t0]\n\t"
            "ssat %[a0], #8, %[a0]\n\t"
            "ssat %[a1], #8, %[a1]\n\t"
            "ldr %[t1], %[lo]\n\t"
            "cmp %[a0], %[t1]\n\t"
            "it lt\n\t"
            "movlt %[a0], %[t1]\n\t"
            "cmp %[a1], %[t1]\n\t"
            "it lt\n\t"
            "movlt %[a1], %[t1]\n\t"
            "ldr %[t1], %[hi]\n\t"
            "cmp %[a0], %[t1]\n\t"
            "it gt\n\t"
            "movgt %[a0], %[t1]\n\t"
            "cmp %[a1], %[t1]\n\t"
            "it gt\n\t"
            "movgt %[a1], %[t1]\n\t"
            "ldr %[t1], %[cm1]\n\t"
            "strb %[a0], [%[o]], #1\n\t"
            "strb %[a1], [%[o], %[t1]]\n\t"
            "adds %[r], %[r], #32\n\t"
            "ldr %[t0], %[end]\n\t"
            "cmp %[r], %[t0]\n\t"
            "bne 1b\n\t"
            : [a0] "=&r"(a0), [a1] "=&r"(a1), [t0] "=&r"(t0), [t1] "=&r"(t1), [r] "+r"(r), [o] "+r"(o)
            : [x0] "r"(x[0]), [x1] "r"(x[1]), [x2] "r"(x[2]), [x3] "r"(x[3]), [x4] "r"(x[4]), [x5] "r"(x[5]),
              [x6] "r"(x[6]), [x7] "r"(x[7]), [end] "m"(f->end), [cm1] "m"(f->cm1), [lo] "m"(f->lo),
              [hi] "m"(f->hi)
            : "cc", "memory");
    } else if (nch == 2) {
        __asm__ volatile(
            "1:\n\t"
            "ldr %[a0], [%[r], #16]\n\t"
            "mov %[a1], %[a0]\n\t"
            "ldrd %[t0], %[t1], [%[r], #0]\n\t"
            "smlad %[a0], %[x0], %[t0], %[a0]\n\t"
            "smlad %[a0], %[x1], %[t1], %[a0]\n\t"
            "smlad %[a1], %[x4], %[t0], %[a1]\n\t"
            "smlad %[a1], %[x5], %[t1], %[a1]\n\t"
            "ldrd %[t0], %[t1], [%[r], #8]\n\t"
            "smlad %[a0], %[x2], %[t0], %[a0]\n\t"
            "smlad %[a0], %[x3], %[t1], %[a0]\n\t"
            "smlad %[a1], %[x6], %[t0], %[a1]\n\t"
            "smlad %[a1], %[x7], %[t1], %[a1]\n\t"
            "ldrd %[t0], %[t1], [%[r], #20]\n\t"
            "add %[t1], %[t1], %[a0], asr #31\n\t"
            "smmlar %[a0], %[a0], %[t0], %[t1]\n\t"
            "ldr %[t1], [%[r], #24]\n\t"
            "add %[t1], %[t1], %[a1], asr #31\n\t"
            "smmlar %[a1], %[a1], %[t0], %[t1]\n\t"
            "ldr %[t0], [%[r], #28]\n\t"
            "asr %[a0], %[a0], %[t0]\n\t"
            "asr %[a1], %[a1], %[t0]\n\t"
            "ssat %[a0], #8, %[a0]\n\t"
            "ssat %[a1], #8, %[a1]\n\t"
            "ldr %[t1], %[cm1]\n\t"
            "strb %[a0], [%[o]], #1\n\t"
            "strb %[a1], [%[o], %[t1]]\n\t"
            "ldr %[a0], [%[r], #48]\n\t"
            "mov %[a1], %[a0]\n\t"
            "ldrd %[t0], %[t1], [%[r], #32]\n\t"
            "smlad %[a0], %[x0], %[t0], %[a0]\n\t"
            "smlad %[a0], %[x1], %[t1], %[a0]\n\t"
            "smlad %[a1], %[x4], %[t0], %[a1]\n\t"
            "smlad %[a1], %[x5], %[t1], %[a1]\n\t"
            "ldrd %[t0], %[t1], [%[r], #40]\n\t"
            "smlad %[a0], %[x2], %[t0], %[a0]\n\t"
            "smlad %[a0], %[x3], %[t1], %[a0]\n\t"
            "smlad %[a1], %[x6], %[t0], %[a1]\n\t"
            "smlad %[a1], %[x7], %[t1], %[a1]\n\t"
            "ldrd %[t0], %[t1], [%[r], #52]\n\t"
            "add %[t1], %[t1], %[a0], asr #31\n\t"
            "smmlar %[a0], %[a0], %[t0], %[t1]\n\t"
            "ldr %[t1], [%[r], #56]\n\t"
            "add %[t1], %[t1], %[a1], asr #31\n\t"
            "smmlar %[a1], %[a1], %[t0], %[t1]\n\t"
            "ldr %[t0], [%[r], #60]\n\t"
            "asr %[a0], %[a0], %[t0]\n\t"
            "asr %[a1], %[a1], %[t0]\n\t"
            "ssat %[a0], #8, %[a0]\n\t"
            "ssat %[a1], #8, %[a1]\n\t"
            "ldr %[t1], %[cm1]\n\t"
            "strb %[a0], [%[o]], #1\n\t"
            "strb %[a1], [%[o], %[t1]]\n\t"
            "adds %[r], %[r], #64\n\t"
            "ldr %[t0], %[end]\n\t"
            "cmp %[r], %[t0]\n\t"
            "bne 1b\n\t"
            : [a0] "=&r"(a0), [a1] "=&r"(a1), [t0] "=&r"(t0), [t1] "=&r"(t1), [r] "+r"(r), [o] "+r"(o)
            : [x0] "r"(x[0]), [x1] "r"(x[1]), [x2] "r"(x[2]), [x3] "r"(x[3]), [x4] "r"(x[4]), [x5] "r"(x[5]),
              [x6] "r"(x[6]), [x7] "r"(x[7]), [end] "m"(f->end), [cm1] "m"(f->cm1), [lo] "m"(f->lo),
              [hi] "m"(f->hi)
            : "cc", "memory");
    } else {
        __asm__ volatile(
            "1:\n\t"
            "ldr %[a0], [%[r], #16]\n\t"
            "mov %[a1], %[a0]\n\t"
            "ldrd %[t0], %[t1], [%[r], #0]\n\t"
            "smlad %[a0], %[x0], %[t0], %[a0]\n\t"
            "smlad %[a0], %[x1], %[t1], %[a0]\n\t"
            "smlad %[a1], %[x4], %[t0], %[a1]\n\t"
            "smlad %[a1], %[x5], %[t1], %[a1]\n\t"
            "ldrd %[t0], %[t1], [%[r], #8]\n\t"
            "smlad %[a0], %[x2], %[t0], %[a0]\n\t"
            "smlad %[a0], %[x3], %[t1], %[a0]\n\t"
            "smlad %[a1], %[x6], %[t0], %[a1]\n\t"
            "smlad %[a1], %[x7], %[t1], %[a1]\n\t"
            "ldrd %[t0], %[t1], [%[r], #20]\n\t"
            "add %[t1], %[t1], %[a0], asr #31\n\t"
            "smmlar %[a0], %[a0], %[t0], %[t1]\n\t"
            "ldr %[t1], [%[r], #24]\n\t"
            "add %[t1], %[t1], %[a1], asr #31\n\t"
            "smmlar %[a1], %[a1], %[t0], %[t1]\n\t"
            "ldr %[t0], [%[r], #28]\n\t"
            "asr %[a0], %[a0], %[t0]\n\t"
            "asr %[a1], %[a1], %[t0]\n\t"
            "ssat %[a0], #8, %[a0]\n\t"
            "ssat %[a1], #8, %[a1]\n\t"
            "ldr %[t1], %[cm1]\n\t"
            "strb %[a0], [%[o]], #1\n\t"
            "strb %[a1], [%[o], %[t1]]\n\t"
            "adds %[r], %[r], #32\n\t"
            "ldr %[t0], %[end]\n\t"
            "cmp %[r], %[t0]\n\t"
            "bne 1b\n\t"
            : [a0] "=&r"(a0), [a1] "=&r"(a1), [t0] "=&r"(t0), [t1] "=&r"(t1), [r] "+r"(r), [o] "+r"(o)
            : [x0] "r"(x[0]), [x1] "r"(x[1]), [x2] "r"(x[2]), [x3] "r"(x[3]), [x4] "r"(x[4]), [x5] "r"(x[5]),
              [x6] "r"(x[6]), [x7] "r"(x[7]), [end] "m"(f->end), [cm1] "m"(f->cm1), [lo] "m"(f->lo),
              [hi] "m"(f->hi)
            : "cc", "memory");
    }
    return o;
}

/* the pixel pairs of a C_in 8 layer; not inlined into pw_run_asm so that the 14-register assembly keeps its
 * frame operands SP-relative at every optimisation level */
__attribute__((noinline)) static void pw8_pairs(const int32_t *table, const pw2_frame *frame, const pw2_frame *frame1,
                                                const int8_t *in, int8_t *out, int32_t pairs, int32_t off2,
                                                int32_t cout, int clamp)
{
    const pw2_frame f = *frame, f1 = *frame1;
    const int32_t *end2 = f.end, *end = f1.end;
    for (; pairs > 0; --pairs, in += 16, out += 2 * cout) {
        int32_t x[8];
        PW_LOAD4(x[0], x[1], in, off2);
        PW_LOAD4(x[2], x[3], in + 4, off2);
        PW_LOAD4(x[4], x[5], in + 8, off2);
        PW_LOAD4(x[6], x[7], in + 12, off2);
        int8_t *o = out;
        if (clamp) {
            if (end2 != table) {
                o = pw_pixel8x2_asm(table, &f, x, o, 1, 2);
            }
            if (end2 != end) {
                (void)pw_pixel8x2_asm(end2, &f1, x, o, 1, 1);
            }
        } else {
            if (end2 != table) {
                o = pw_pixel8x2_asm(table, &f, x, o, 0, 2);
            }
            if (end2 != end) {
                (void)pw_pixel8x2_asm(end2, &f1, x, o, 0, 1);
            }
        }
    }
}

/* pixels in the assembly loops; with clamp (C_in 8 only) the pairs and not an odd last pixel: returns the count */
__attribute__((noinline)) static int32_t pw_run_asm(const int32_t *table, int32_t cout, const int8_t *in, int8_t *out,
                                                    int32_t pixels, int32_t off2, int32_t cin, int32_t lo, int32_t hi)
{
    const int clamp = lo > -128 || hi < 127;
    const int32_t *end = table + cout * (cin / 2 + 4), *end2 = table + (cout & ~1) * (cin / 2 + 4);
    int32_t p = 0;
    if (cin == 8) {
        pw2_frame f, f1;
        f.end = end2;
        f.cm1 = cout - 1;
        f.lo = lo;
        f.hi = hi;
        f1 = f;
        f1.end = end;
        p = pixels & ~1;
        pw8_pairs(table, &f, &f1, in, out, p >> 1, off2, cout, clamp);
        in += p * 8;
        out += p * cout;
    }
    for (; p < pixels && !clamp; ++p, in += cin) {
        int32_t x[8];
        PW_LOAD4(x[0], x[1], in, off2);
        PW_LOAD4(x[2], x[3], in + 4, off2);
        if (cin == 8) {
            out = pw_pixel8_asm(table, end, x[0], x[1], x[2], x[3], out);
        } else {
            PW_LOAD4(x[4], x[5], in + 8, off2);
            PW_LOAD4(x[6], x[7], in + 12, off2);
            int8_t *o = out;
            if (end2 != table) {
                o = pw_pixel16x2_asm(table, end2, x, o);
            }
            out = end2 != end ? pw_pixel16_asm(end2, end, x, o) : o;
        }
    }
    return p;
}
#undef PW_DOT8
#undef PW_LOAD4

__attribute__((noinline)) static void conv_pointwise_small(const mf_conv2d_params *params, const conv_ctx *c,
                                                           int8_t *output, int32_t *table)
{
    const int32_t cin = c->cin, cout = c->cout;
    int32_t *f = table;
    for (int32_t o = 0; o < cout; ++o, f += 4) {
        const int8_t *w = c->filter + o * cin;
        for (int32_t g = 0; g < cin; g += 4, f += 2) {
            uint32_t v;
            memcpy(&v, w + g, sizeof v);
            const int32_t ev = __sxtb16(v), od = __sxtb16((v >> 8) | (v << 24));
            f[0] = (int32_t)__sadd16((uint32_t)ev, (uint32_t)ev); /* |2w| <= 256: no lane overflow */
            f[1] = (int32_t)__sadd16((uint32_t)od, (uint32_t)od);
        }
        const rq_zp r = rq_zp_load(c->mult, c->shift, o, c->zp);
        f[0] = 2 * (c->bias != NULL ? c->bias[o] : 0); /* rq_fast_ok: |acc| < 2^30 */
        f[1] = r.m;
        f[2] = r.k;
        f[3] = r.e;
    }
    const int32_t pixels = params->output.n * params->output.h * params->output.w;
    const int clamp = c->lo > -128 || c->hi < 127;
    if (cin == 8) {
        const int32_t done = pw_run_asm(table, cout, c->input, output, pixels, c->off2, 8, c->lo, c->hi);
        if (done < pixels) {
            pw_run(table, cout, c->input + done * 8, output + done * cout, pixels - done, c->off2, c->lo, c->hi, 8, 1);
        }
    } else if (clamp) {
        pw_run(table, cout, c->input, output, pixels, c->off2, c->lo, c->hi, 16, 1);
    } else {
        (void)pw_run_asm(table, cout, c->input, output, pixels, c->off2, 16, c->lo, c->hi);
    }
}

#endif /* __ARM_FEATURE_DSP && MF_DSP_OPTIMIZED_BUILD */

/* The reference loop (grouped convolution, and cores without the DSP extension). */
static void conv_reference(const mf_conv2d_params *params, const mf_per_channel_quant *quant, const int8_t *input,
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
                            for (int32_t i = 0; i < fd.c; ++i) {
                                acc += ((int32_t)in_px[i] + params->input_offset) * (int32_t)w_px[i];
                            }
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


#if defined(__ARM_FEATURE_DSP) && defined(MF_DSP_OPTIMIZED_BUILD)
/* Bytes of cap that conv_im2col's np-pixel blocks use when the patch fits unchunked (lanes, then the per-channel
 * table and the padded filter copy when they fit, in conv_im2col's order), else all of cap: given that many,
 * conv_im2col makes the same choices as with cap. */
static int32_t im2col_need(const mf_conv2d_params *params, int32_t np, int32_t cap)
{
    const int32_t cin = params->input.c, cout = params->output.c;
    const int32_t patch = params->filter.h * params->filter.w * cin, patch4 = (patch + 3) & ~3;
    int32_t used = im2col4_bytes(patch, cin, np);
    if (used > cap) {
        return cap;
    }
    if (used + 16 * cout <= cap) {
        used += 16 * cout;
    }
    if (patch4 != patch && used + cout * patch4 <= cap) {
        used += cout * patch4;
    }
    return used;
}
#endif

int32_t mf_conv2d_s8_get_buffer_size(const mf_conv2d_params *params)
{
#if defined(__ARM_FEATURE_DSP) && defined(MF_DSP_OPTIMIZED_BUILD)
    /* ungrouped layers: the whole-layer 1x1 table (C_out records of C_in / 2 + 4 words), or what the im2col blocks
     * take of 2 KB (lanes, table, padded filter copy; all of it when they chunk the patch) */
    const int32_t cap = MF_SCRATCH_WORDS * (int32_t)sizeof(int32_t);
    if (params->filter.c != params->input.c) {
        return 0;
    }
    if (pw_fits(params, params->output.c, cap)) {
        return params->output.c * (params->input.c / 2 + 4) * 4;
    }
    const int32_t six = im2col_need(params, 6, cap), four = im2col_need(params, 4, cap);
    return six > four ? six : four;
#else
    (void)params;
    return 0; /* only the reference loop is compiled */
#endif
}

void mf_conv2d_s8(const mf_conv2d_params *params, const mf_per_channel_quant *quant, const int8_t *input,
                  const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch)
{
#if defined(__ARM_FEATURE_DSP) && defined(MF_DSP_OPTIMIZED_BUILD)
    const mf_dims in = params->input, fd = params->filter, out = params->output;
    if (fd.c != in.c || !rq_fast_ok(quant, bias, out.c, fd.h * fd.w * fd.c) || scratch == NULL ||
        params->scratch_bytes < mf_conv2d_s8_get_buffer_size(params)) {
        conv_reference(params, quant, input, filter, bias, output);
        return;
    }
    conv_ctx c;
    c.input = input;
    c.filter = filter;
    c.bias = bias;
    c.mult = quant->multiplier;
    c.shift = quant->shift;
    c.cin = in.c;
    c.cout = out.c;
    c.fw = fd.w;
    c.wstride = fd.h * fd.w * in.c;
    c.row_step = params->dilation_h * in.w * in.c;
    c.col_step = params->dilation_w * in.c;
    c.off = params->input_offset;
    c.off2 = (int32_t)(((uint32_t)params->input_offset & 0xFFFFu) * 0x10001u);
    c.zp = params->output_offset;
    c.lo = params->act_min;
    c.hi = params->act_max;
    c.zp2 = dup16(c.zp);
    c.lo2 = dup16(c.lo);
    c.hi2 = dup16(c.hi);
    int32_t *const buf = (int32_t *)scratch; /* arena scratch: word aligned (LDRD) */
    const int32_t cap = params->scratch_bytes;
    if (zp_fold_ok(quant, out.c) && pw_fits(params, out.c, cap)) {
        conv_pointwise_small(params, &c, output, buf);
        return;
    }
    int32_t done = 0; /* output pixels (flat N*OH*OW index) already computed in 6- and 4-pixel blocks */
    const int32_t total = out.n * out.h * out.w;
    const int pad_byte_ok = (in.c & 3) == 0 || (c.off >= -127 && c.off <= 128);
    if (pad_byte_ok && zp_fold_ok(quant, out.c)) {
        c.np = 6;
        done = conv_im2col(params, &c, output, buf, cap, 0, total - total % 6);
        c.np = 4;
        done += conv_im2col(params, &c, output, buf, cap, done, (total - done) & ~3);
    }
    const uintptr_t in_lo = (uintptr_t)input, in_hi = in_lo + (uintptr_t)(in.n * in.h * in.w * in.c);
    const uintptr_t out_lo = (uintptr_t)output, out_hi = out_lo + (uintptr_t)(out.n * out.h * out.w * out.c);
    const int disjoint = out_hi <= in_lo || out_lo >= in_hi;
    const int32_t span_w = (fd.w - 1) * params->dilation_w; /* window width - 1, in pixels */
    const int32_t xstep = params->stride_w * in.c;
    const int pointwise = fd.h == 1 && fd.w == 1 && params->stride_w == 1 && in.c % 8 == 0;
    const int32_t done_b = done / (out.h * out.w), done_y = done / out.w % out.h, done_x = done % out.w;
    for (int32_t b = done_b; b < out.n; ++b) {
        for (int32_t y = b == done_b ? done_y : 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            int32_t ky0, ky1;
            tap_range(y0, params->dilation_h, fd.h, in.h, &ky0, &ky1);
            const int32_t first_row = y0 + ky0 * params->dilation_h;
            int32_t x = b == done_b && y == done_y ? done_x : 0;
            int8_t *out_px = output + ((b * out.h + y) * out.w + x) * out.c;
            while (x < out.w) {
                const int32_t x0 = x * params->stride_w - params->pad_w;
                const int32_t row0 = ((b * in.h + y0) * in.w + x0) * in.c; /* may lie before input: an offset */
                if (x + 1 < out.w && x0 >= 0 && x0 + params->stride_w + span_w < in.w && ky1 > ky0) {
                    /* the lowest input byte read from here on vs the end of what this block writes */
                    const uintptr_t rd = (uintptr_t)(input + ((b * in.h + first_row) * in.w + x0) * in.c);
                    if (disjoint || (uintptr_t)(out_px + 2 * out.c) <= rd) {
                        if (pointwise) {
                            pointwise2(&c, input + row0, out_px);
                        } else {
                            pixel2(&c, row0, ky0, ky1, xstep, out_px);
                        }
                        x += 2;
                        out_px += 2 * out.c;
                        continue;
                    }
                }
                int32_t kx0, kx1;
                tap_range(x0, params->dilation_w, fd.w, in.w, &kx0, &kx1);
                pixel1(&c, row0, ky0, ky1, kx0, kx1, out_px);
                x += 1;
                out_px += out.c;
            }
        }
    }
#else
    (void)scratch;
    conv_reference(params, quant, input, filter, bias, output);
#endif
}
