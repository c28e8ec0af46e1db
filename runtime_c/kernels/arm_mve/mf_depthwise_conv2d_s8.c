/**
 * @file arm_mve/mf_depthwise_conv2d_s8.c
 * @brief Cortex-M55 Helium (MVE) variant of mf_depthwise_conv2d_s8, bit-exact with
 *        runtime_c/kernels/mf_depthwise_conv2d_s8.c.
 *
 * Stack: ONE 2 KB scratch (MVE_DW_SCRATCH_WORDS int32) declared in mf_depthwise_conv2d_s8 and passed down as a
 * pointer; every path's tables live in it (no other stack buffer).
 * Vectorised across channels, int32 accumulators (an int8 x int8 product sum over the window needs 32 bits):
 *  - 3x3, depth multiplier 1, C % 16 == 0, C <= 144, no left shift (dw3_c16, checked first after C == 1):
 *    per pixel one asm block over its 16-channel chunks, int8 lanes, two taps' VMULLB/VMULLT.S8 products summed
 *    in int16 then widened into four int32 accumulators, offset folded into their start: 147 instructions per
 *    chunk (144 MACs) with the tap vectors in the scratch block (C <= 64: 336 bytes per chunk), 156 with the
 *    filter read in place (C 80..144: 192 bytes per chunk); border pixels: a nine-entry tap-address table, the
 *    padding taps pointing at C bytes of the input zero point (+18 per chunk, ~100 per pixel for the table and
 *    call); interior runs: one call, ~12 per pixel. Per call: ~80 per chunk of
 *    block setup. DS-CNN's 25x5x64 layers 1.83 -> 1.29, person_detect's C 16..128 layers 1.64-2.15 ->
 *    1.20-1.52 instructions/MAC.
 *  - one input channel with more than 16 taps (dw_c1big; e.g. micro_speech's 10x8 first layer 2.27 -> 0.71):
 *    a patch per pixel and one mve_dot4 per group of four channels against the filter transposed into the
 *    scratch (10 Lp / 16 + ~25 instructions per group, Lp = 16 ceil(taps / 16)).
 *  - other depth multiplier 1: 16 channels per pass in four accumulators; per valid tap, four VLDRB.S32 of the
 *    input, four of the filter and four VMLA (~0.9 instructions/MAC); the input offset is folded into
 *    acc = bias + off * sum(filter) for windows fully inside the input (stack, up to MVE_CORR_MAX channels),
 *    added to the input lanes otherwise. A tail of C % 16 channels runs predicated.
 *    Runs of output pixels with full windows (C % 8 == 0) skip the per-pixel window bounds; with C <= 128,
 *    dilation_w 1 and no left shift, each pixel is one asm block over its 8-channel chunks (offset folded into
 *    the bias, requantization in the block; 16-channel chunks when C % 16 == 0, 15 instructions per 16 MACs
 *    a tap; scratch: 12 bytes per channel, <= 1536 bytes): person_detect's depthwise layers 1.64-2.08
 *    instructions/MAC (were 2.05-3.29). C == 8 with a 3x3 filter: the whole interior run in one asm block with
 *    the nine taps unrolled (6 instructions per 8-MAC tap, ~81 per pixel): person_detect layer 1 2.08 -> 1.32.
 *  - depth multiplier > 1: four output channels per pass, their input channels (o / M) fetched by a byte
 *    gather load (VLDRB.S32 with an offset vector), offset added in the lanes (~1.3 instructions/MAC).
 *  - one input channel (C == 1, M = OC % 4 == 0, <= 64; kh * kw <= 16 taps spanning <= 255 bytes): the window
 *    is one byte gather (VLDRB.S8 with offsets), each output channel one VMLADAVA.S8 against its transposed
 *    taps; offset folded into the bias. Up to 16 channels without left shift, interior pixels run in one asm
 *    block (person_detect's first layer 4.75 -> 1.02 instructions/MAC).
 *    Scratch: 64 x 16 filter bytes + 64 int32 + 448 bytes of asm blocks = 1728 bytes.
 * Any filter size, stride, dilation, padding, batch. Requantization four channels at a time with VQRDMULH and
 * a sign-fixed VRSHL, bit-exact with mf_requantize. Outputs are written pixel by pixel, channels in
 * increasing order (the reference's order), so in-place arena plans hold.
 */
#include "mf_arm_mve_build.h" /* first: how this file is built */

#include "mf_depthwise_conv2d_s8.h"

#include <arm_mve.h>

#include "mf_requant.h"

#define MVE_DW_SCRATCH_WORDS 512 /* the arena scratch (get_buffer_size): 2 KB, + 12 B to align it */

#include "mf_arm_mve_common.h"

static inline mve_pred16_t lanes(int32_t n)
{
    return vctp32q((uint32_t)(n > 0 ? n : 0));
}

/* Output stage shared by the passes of one call. */
typedef struct {
    int32_t out_off;
    int32_t lo;
    int32_t hi;
    int left; /* some shift > 0: apply the left shift (else every shift is a right shift or none) */
} mve_out_stage;

/* requant of 4 lanes with per-lane multiplier m and shift sh, bit-exact with mf_requantize (no offset) */
static inline int32x4_t mve_requant(int32x4_t x, int32x4_t m, int32x4_t sh, int left)
{
    int32x4_t right = sh;
    if (left) {
        const int32x4_t zero = vdupq_n_s32(0);
        right = vminq_s32(sh, zero);
        x = vshlq_s32(x, vmaxq_s32(sh, zero));
    }
    x = vqrdmulhq_s32(x, m);
    /* negative values move down by one before the round-half-up shift: ties go away from zero */
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right), 31));
    return vrshlq_s32(x, right);
}

/* Requantize 8 channels held as even (c0, c2, ..) and odd (c1, c3, ..) int32 lanes, store the first n.
 * Saturating narrowing to int16 before the offset and clamp keeps every value's order, so the clamp to
 * [lo, hi] within int8 gives the reference's result. */
static inline void mve_requant_store8(int32x4_t even, int32x4_t odd, const mve_out_stage *st,
                                      const int32_t *mult, const int32_t *shift, int8_t *out, int32_t n)
{
    const uint32x4_t idx = vidupq_n_u32(0, 2);
    const int32x4_t e = mve_requant(even, vldrwq_gather_shifted_offset_s32(mult, idx),
                                    vldrwq_gather_shifted_offset_s32(shift, idx), st->left);
    const int32x4_t o = mve_requant(odd, vldrwq_gather_shifted_offset_s32(mult + 1, idx),
                                    vldrwq_gather_shifted_offset_s32(shift + 1, idx), st->left);
    int16x8_t v = vqmovnbq_s32(vdupq_n_s16(0), e);
    v = vqmovntq_s32(v, o);
    v = vqaddq_n_s16(v, (int16_t)st->out_off);
    v = vmaxq_s16(v, vdupq_n_s16((int16_t)st->lo));
    v = vminq_s16(v, vdupq_n_s16((int16_t)st->hi));
    vstrbq_p_s16(out, v, vctp16q((uint32_t)n));
}

/* 16 channels over a window of nky x nkx taps: int16 lanes, (x + off) * w as int32 by VMULLB/VMULLT into
 * even/odd-channel accumulators. xp/wp: first tap; the next tap is xstep/C further, the next row
 * xrow/wrow further than the row's first tap. 17 instructions per tap (16 MACs). */
static inline void mve_dw16(const int8_t *xp, const int8_t *wp, int32_t nky, int32_t nkx, int32_t xstep,
                            int32_t C, int32_t xrow, int32_t wrow, int32_t off, int32x4_t *acc)
{
    int32x4_t e0 = acc[0], o0 = acc[1], e1 = acc[2], o1 = acc[3];
    const int32_t xadj = xrow - nkx * xstep;
    const int32_t wadj = wrow - nkx * C;
    __asm__ volatile("1:\n\t"
                     "dls lr, %[nkx]\n"
                     "2:\n\t"
                     "vldrb.s16 q0, [%[xp]]\n\t"
                     "vldrb.s16 q1, [%[wp]]\n\t"
                     "vadd.i16 q0, q0, %[off]\n\t"
                     "vmullb.s16 q2, q0, q1\n\t"
                     "vadd.i32 %q[e0], %q[e0], q2\n\t"
                     "vmullt.s16 q2, q0, q1\n\t"
                     "vadd.i32 %q[o0], %q[o0], q2\n\t"
                     "vldrb.s16 q0, [%[xp], #8]\n\t"
                     "vldrb.s16 q1, [%[wp], #8]\n\t"
                     "vadd.i16 q0, q0, %[off]\n\t"
                     "vmullb.s16 q2, q0, q1\n\t"
                     "vadd.i32 %q[e1], %q[e1], q2\n\t"
                     "vmullt.s16 q2, q0, q1\n\t"
                     "vadd.i32 %q[o1], %q[o1], q2\n\t"
                     "add %[xp], %[xstep]\n\t"
                     "add %[wp], %[C]\n\t"
                     "le lr, 2b\n\t"
                     "add %[xp], %[xadj]\n\t"
                     "add %[wp], %[wadj]\n\t"
                     "subs %[nky], #1\n\t"
                     "bne 1b\n"
                     : [e0] "+w"(e0), [o0] "+w"(o0), [e1] "+w"(e1), [o1] "+w"(o1), [xp] "+l"(xp), [wp] "+l"(wp),
                       [nky] "+r"(nky)
                     : [nkx] "r"(nkx), [xstep] "r"(xstep), [C] "r"(C), [xadj] "r"(xadj), [wadj] "r"(wadj),
                       [off] "r"(off)
                     : "q0", "q1", "q2", "lr", "cc", "memory");
    acc[0] = e0;
    acc[1] = o0;
    acc[2] = e1;
    acc[3] = o1;
}

/* As mve_dw16 for 8 channels: 10 instructions per tap (8 MACs). */
static inline void mve_dw8(const int8_t *xp, const int8_t *wp, int32_t nky, int32_t nkx, int32_t xstep,
                           int32_t C, int32_t xrow, int32_t wrow, int32_t off, int32x4_t *acc)
{
    int32x4_t e0 = acc[0], o0 = acc[1];
    const int32_t xadj = xrow - nkx * xstep;
    const int32_t wadj = wrow - nkx * C;
    __asm__ volatile("1:\n\t"
                     "dls lr, %[nkx]\n"
                     "2:\n\t"
                     "vldrb.s16 q0, [%[xp]]\n\t"
                     "vldrb.s16 q1, [%[wp]]\n\t"
                     "vadd.i16 q0, q0, %[off]\n\t"
                     "vmullb.s16 q2, q0, q1\n\t"
                     "vadd.i32 %q[e0], %q[e0], q2\n\t"
                     "vmullt.s16 q2, q0, q1\n\t"
                     "vadd.i32 %q[o0], %q[o0], q2\n\t"
                     "add %[xp], %[xstep]\n\t"
                     "add %[wp], %[C]\n\t"
                     "le lr, 2b\n\t"
                     "add %[xp], %[xadj]\n\t"
                     "add %[wp], %[wadj]\n\t"
                     "subs %[nky], #1\n\t"
                     "bne 1b\n"
                     : [e0] "+w"(e0), [o0] "+w"(o0), [xp] "+l"(xp), [wp] "+l"(wp), [nky] "+r"(nky)
                     : [nkx] "r"(nkx), [xstep] "r"(xstep), [C] "r"(C), [xadj] "r"(xadj), [wadj] "r"(wadj),
                       [off] "r"(off)
                     : "q0", "q1", "q2", "lr", "cc", "memory");
    acc[0] = e0;
    acc[1] = o0;
}

/* first filter index k in [0, K) with 0 <= start + k * d, and one past the last with start + k * d < size */
static inline int32_t first_tap(int32_t start, int32_t d, int32_t K)
{
    if (start >= 0) {
        return 0;
    }
    const int32_t k = d == 1 ? -start : (-start + d - 1) / d;
    return k < K ? k : K;
}

static inline int32_t end_tap(int32_t start, int32_t d, int32_t K, int32_t size)
{
    if (start >= size) {
        return 0;
    }
    if (start + (K - 1) * d < size) { /* the usual case: the whole window fits */
        return K;
    }
    const int32_t k = d == 1 ? size - start : (size - 1 - start) / d + 1;
    return k < K ? k : K;
}

/* An interior run of n output pixels (full windows, C % 8 == 0) for dw_mult1: no per-pixel window bounds. */
static void __attribute__((noinline)) dw_mult1_run(const mf_depthwise_conv2d_params *params,
                                                   const mf_per_channel_quant *quant, const int8_t *xp,
                                                   const int8_t *filter, const int32_t *bias, int8_t *op, int32_t n,
                                                   const mve_out_stage *st)
{
    const int32_t C = params->input.c;
    const int32_t kh = params->filter_h;
    const int32_t kw = params->filter_w;
    const int32_t off = params->input_offset;
    const int32_t xstep = params->dilation_w * C;
    const int32_t xrow = params->dilation_h * params->input.w * C;
    const int32_t wrow = kw * C;
    const uint32x4_t idx = vidupq_n_u32(0, 2);
        const int32_t pstep = params->stride_w * C;
        for (int32_t xi = 0; xi < n; ++xi) {
            int32_t c = 0;
            for (; c + 16 <= C; c += 16) {
                int32x4_t acc[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
                if (bias != NULL) {
                    acc[0] = vldrwq_gather_shifted_offset_s32(bias + c, idx);
                    acc[1] = vldrwq_gather_shifted_offset_s32(bias + c + 1, idx);
                    acc[2] = vldrwq_gather_shifted_offset_s32(bias + c + 8, idx);
                    acc[3] = vldrwq_gather_shifted_offset_s32(bias + c + 9, idx);
                }
                mve_dw16(xp + c, filter + c, kh, kw, xstep, C, xrow, wrow, off, acc);
                mve_requant_store8(acc[0], acc[1], st, quant->multiplier + c, quant->shift + c, op + c, 8);
                mve_requant_store8(acc[2], acc[3], st, quant->multiplier + c + 8, quant->shift + c + 8,
                                   op + c + 8, 8);
            }
            if (c < C) {
                int32x4_t acc[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
                if (bias != NULL) {
                    acc[0] = vldrwq_gather_shifted_offset_s32(bias + c, idx);
                    acc[1] = vldrwq_gather_shifted_offset_s32(bias + c + 1, idx);
                }
                mve_dw8(xp + c, filter + c, kh, kw, xstep, C, xrow, wrow, off, acc);
                mve_requant_store8(acc[0], acc[1], st, quant->multiplier + c, quant->shift + c, op + c, 8);
            }
            xp += pstep;
            op += C;
        }
}

/* Interior runs, depth multiplier 1, C % 8 == 0, C <= MVE_RUN_MAX_C, dilation_w 1, no left shift: one asm
 * block per pixel walks its 8-channel chunks: accumulators start at bias + off * sum(filter) (the offset is
 * folded: every window here is full), 9 instructions per tap (8 MACs), requantization, narrowing and the
 * store inside the block. Per chunk, a 96-byte stack block: even/odd-lane init, multiplier, shift. */
#define MVE_RUN_MAX_C 128 /* stack: 12 bytes per channel = 1536 bytes */

typedef struct {
    int32_t kh;
    int32_t xrew;    /* bytes the input pointer moved over one chunk's window, less 8 */
    int32_t wrew;    /* same for the filter pointer */
    int32_t out_off;
    int32_t lo;
    int32_t hi;
} mve_run_ctx;

static int dw_run_fits(const mf_depthwise_conv2d_params *params, const mve_out_stage *st)
{
    const int32_t C = params->input.c;
    return !st->left && C % 8 == 0 && C <= MVE_RUN_MAX_C && params->dilation_w == 1;
}

/* the per-chunk blocks: for chunk j, lanes l = 0..3 hold channels 8j + 2l (even) and 8j + 2l + 1 (odd) */
static void dw_run_blocks(const mf_depthwise_conv2d_params *params, const mf_per_channel_quant *quant,
                          const int8_t *filter, const int32_t *bias, int32_t *blk)
{
    const int32_t C = params->input.c;
    const int32_t K = params->filter_h * params->filter_w;
    for (int32_t c = 0; c < C; ++c) {
        int32_t sum = 0;
        for (int32_t t = 0; t < K; ++t) {
            sum += filter[t * C + c];
        }
        const int32_t init = (bias != NULL ? bias[c] : 0) + params->input_offset * sum;
        if (C % 16 == 0) { /* 16-channel chunks: (half h, parity) vectors of init, then multiplier, then shift */
            int32_t *q = blk + (c / 16) * 48 + ((c % 16) / 8 * 2 + c % 2) * 4 + (c % 8) / 2;
            q[0] = init;
            q[16] = quant->multiplier[c];
            q[32] = quant->shift[c];
            continue;
        }
        int32_t *q = blk + (c / 8) * 24 + (c % 2) * 4 + (c % 8) / 2;
        q[0] = init;
        q[8] = quant->multiplier[c];
        q[16] = quant->shift[c];
    }
}

static inline void mve_run_pixel(const int8_t *xp, const int8_t *wp, const int32_t *pp, int8_t *op, int32_t nch,
                                 int32_t C, int32_t xadj, int32_t kw, const mve_run_ctx *ctx)
{
    int32_t ky;
    __asm__ volatile("3:\n\t"
                     "vldrw.32 q3, [%[pp]]\n\t"
                     "vldrw.32 q4, [%[pp], #16]\n\t"
                     "ldr %[ky], [%[ctx]]\n"
                     "1:\n\t"
                     "dls lr, %[kw]\n"
                     "2:\n\t"
                     "vldrb.s16 q0, [%[xp]]\n\t"
                     "vldrb.s16 q1, [%[wp]]\n\t"
                     "vmullb.s16 q2, q0, q1\n\t"
                     "vadd.i32 q3, q3, q2\n\t"
                     "vmullt.s16 q2, q0, q1\n\t"
                     "vadd.i32 q4, q4, q2\n\t"
                     "add %[xp], %[C]\n\t"
                     "add %[wp], %[C]\n\t"
                     "le lr, 2b\n\t"
                     "add %[xp], %[xadj]\n\t"
                     "subs %[ky], #1\n\t"
                     "bne 1b\n\t"
                     /* requantize: ties of negative values away from zero (see mve_requant) */
                     "vldrw.32 q5, [%[pp], #32]\n\t"
                     "vldrw.32 q6, [%[pp], #64]\n\t"
                     "vqrdmulh.s32 q3, q3, q5\n\t"
                     "vand q7, q3, q6\n\t"
                     "vshr.s32 q7, q7, #31\n\t"
                     "vqadd.s32 q3, q3, q7\n\t"
                     "vrshl.s32 q3, q3, q6\n\t"
                     "vldrw.32 q5, [%[pp], #48]\n\t"
                     "vldrw.32 q6, [%[pp], #80]\n\t"
                     "vqrdmulh.s32 q4, q4, q5\n\t"
                     "vand q7, q4, q6\n\t"
                     "vshr.s32 q7, q7, #31\n\t"
                     "vqadd.s32 q4, q4, q7\n\t"
                     "vrshl.s32 q4, q4, q6\n\t"
                     "vqmovnb.s32 q0, q3\n\t"
                     "vqmovnt.s32 q0, q4\n\t"
                     "ldr %[ky], [%[ctx], #12]\n\t"
                     "vqadd.s16 q0, q0, %[ky]\n\t"
                     "ldr %[ky], [%[ctx], #16]\n\t"
                     "vdup.16 q5, %[ky]\n\t"
                     "vmax.s16 q0, q0, q5\n\t"
                     "ldr %[ky], [%[ctx], #20]\n\t"
                     "vdup.16 q5, %[ky]\n\t"
                     "vmin.s16 q0, q0, q5\n\t"
                     "vstrb.16 q0, [%[op]], #8\n\t"
                     "ldr %[ky], [%[ctx], #4]\n\t"
                     "sub %[xp], %[xp], %[ky]\n\t"
                     "ldr %[ky], [%[ctx], #8]\n\t"
                     "sub %[wp], %[wp], %[ky]\n\t"
                     "add %[pp], %[pp], #96\n\t"
                     "subs %[nch], #1\n\t"
                     "bne 3b\n"
                     : [xp] "+l"(xp), [wp] "+l"(wp), [op] "+l"(op), [pp] "+r"(pp), [nch] "+r"(nch), [ky] "=&r"(ky)
                     : [C] "r"(C), [xadj] "r"(xadj), [kw] "r"(kw), [ctx] "r"(ctx)
                     : "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "lr", "cc", "memory");
}

/* As mve_run_pixel over 16-channel chunks (C % 16 == 0): 15 instructions per tap (16 MACs); per chunk a
 * 192-byte block: init, multiplier and shift as (channels 0-7 even, odd, 8-15 even, odd) vectors. */
static inline void mve_run_pixel16(const int8_t *xp, const int8_t *wp, const int32_t *pp, int8_t *op, int32_t nch,
                                   int32_t C, int32_t xadj, int32_t kw, const mve_run_ctx *ctx)
{
    int32_t ky;
#define MVE_RQ(acc, moff, soff)                                                                                       \
    "vldrw.32 q0, [%[pp], #" moff "]\n\t"                                                                              \
    "vldrw.32 q1, [%[pp], #" soff "]\n\t"                                                                              \
    "vqrdmulh.s32 " acc ", " acc ", q0\n\t"                                                                            \
    "vand q2, " acc ", q1\n\t"                                                                                         \
    "vshr.s32 q2, q2, #31\n\t"                                                                                         \
    "vqadd.s32 " acc ", " acc ", q2\n\t"                                                                               \
    "vrshl.s32 " acc ", " acc ", q1\n\t"
#define MVE_NARROW_STORE(e, o)                                                                                        \
    "vqmovnb.s32 q7, " e "\n\t"                                                                                        \
    "vqmovnt.s32 q7, " o "\n\t"                                                                                        \
    "ldr %[ky], [%[ctx], #12]\n\t"                                                                                     \
    "vqadd.s16 q7, q7, %[ky]\n\t"                                                                                      \
    "ldr %[ky], [%[ctx], #16]\n\t"                                                                                     \
    "vdup.16 q0, %[ky]\n\t"                                                                                            \
    "vmax.s16 q7, q7, q0\n\t"                                                                                          \
    "ldr %[ky], [%[ctx], #20]\n\t"                                                                                     \
    "vdup.16 q0, %[ky]\n\t"                                                                                            \
    "vmin.s16 q7, q7, q0\n\t"                                                                                          \
    "vstrb.16 q7, [%[op]], #8\n\t"
    __asm__ volatile("3:\n\t"
                     "vldrw.32 q3, [%[pp]]\n\t"
                     "vldrw.32 q4, [%[pp], #16]\n\t"
                     "vldrw.32 q5, [%[pp], #32]\n\t"
                     "vldrw.32 q6, [%[pp], #48]\n\t"
                     "ldr %[ky], [%[ctx]]\n"
                     "1:\n\t"
                     "dls lr, %[kw]\n"
                     "2:\n\t"
                     "vldrb.s16 q0, [%[xp]]\n\t"
                     "vldrb.s16 q1, [%[wp]]\n\t"
                     "vmullb.s16 q2, q0, q1\n\t"
                     "vadd.i32 q3, q3, q2\n\t"
                     "vmullt.s16 q2, q0, q1\n\t"
                     "vadd.i32 q4, q4, q2\n\t"
                     "vldrb.s16 q0, [%[xp], #8]\n\t"
                     "vldrb.s16 q1, [%[wp], #8]\n\t"
                     "vmullb.s16 q2, q0, q1\n\t"
                     "vadd.i32 q5, q5, q2\n\t"
                     "vmullt.s16 q2, q0, q1\n\t"
                     "vadd.i32 q6, q6, q2\n\t"
                     "add %[xp], %[C]\n\t"
                     "add %[wp], %[C]\n\t"
                     "le lr, 2b\n\t"
                     "add %[xp], %[xadj]\n\t"
                     "subs %[ky], #1\n\t"
                     "bne 1b\n\t"
                     MVE_RQ("q3", "64", "128") MVE_RQ("q4", "80", "144") MVE_NARROW_STORE("q3", "q4")
                     MVE_RQ("q5", "96", "160") MVE_RQ("q6", "112", "176") MVE_NARROW_STORE("q5", "q6")
                     "ldr %[ky], [%[ctx], #4]\n\t"
                     "sub %[xp], %[xp], %[ky]\n\t"
                     "ldr %[ky], [%[ctx], #8]\n\t"
                     "sub %[wp], %[wp], %[ky]\n\t"
                     "add %[pp], %[pp], #192\n\t"
                     "subs %[nch], #1\n\t"
                     "bne 3b\n"
                     : [xp] "+l"(xp), [wp] "+l"(wp), [op] "+l"(op), [pp] "+r"(pp), [nch] "+r"(nch), [ky] "=&r"(ky)
                     : [C] "r"(C), [xadj] "r"(xadj), [kw] "r"(kw), [ctx] "r"(ctx)
                     : "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "lr", "cc", "memory");
#undef MVE_RQ
#undef MVE_NARROW_STORE
}

/* C == 8 with a 3x3 filter (person_detect's second layer): the whole interior run in one asm block, the nine
 * taps unrolled with immediate offsets (filter at [w, #24 ky + 8 kx], input row by row), so 6 instructions per
 * tap of 8 MACs, lo/hi kept in registers: ~81 instructions per pixel (the chunk loop above: ~140). */
#define MVE_TAP8(xo, wo)                                                                                              \
    "vldrb.s16 q0, [%[x], #" xo "]\n\t"                                                                                \
    "vldrb.s16 q1, [%[w], #" wo "]\n\t"                                                                                \
    "vmullb.s16 q2, q0, q1\n\t"                                                                                        \
    "vadd.i32 q3, q3, q2\n\t"                                                                                          \
    "vmullt.s16 q2, q0, q1\n\t"                                                                                        \
    "vadd.i32 q4, q4, q2\n\t"

static void __attribute__((noinline)) dw_run8_3x3(const int32_t *pp, const int8_t *xp, const int8_t *filter,
                                                  int8_t *op, int32_t n, int32_t xrow, int32_t back, int32_t off,
                                                  int16x8_t lo, int16x8_t hi)
{
    __asm__ volatile("1:\n\t"
                     "vldrw.32 q3, [%[pp]]\n\t"
                     "vldrw.32 q4, [%[pp], #16]\n\t"
                     MVE_TAP8("0", "0") MVE_TAP8("8", "8") MVE_TAP8("16", "16")
                     "add %[x], %[xrow]\n\t"
                     MVE_TAP8("0", "24") MVE_TAP8("8", "32") MVE_TAP8("16", "40")
                     "add %[x], %[xrow]\n\t"
                     MVE_TAP8("0", "48") MVE_TAP8("8", "56") MVE_TAP8("16", "64")
                     "sub %[x], %[back]\n\t"
                     /* requantize (see mve_run_pixel), narrow, offset, clamp, store */
                     "vldrw.32 q0, [%[pp], #32]\n\t"
                     "vldrw.32 q1, [%[pp], #64]\n\t"
                     "vqrdmulh.s32 q3, q3, q0\n\t"
                     "vand q2, q3, q1\n\t"
                     "vshr.s32 q2, q2, #31\n\t"
                     "vqadd.s32 q3, q3, q2\n\t"
                     "vrshl.s32 q3, q3, q1\n\t"
                     "vldrw.32 q0, [%[pp], #48]\n\t"
                     "vldrw.32 q1, [%[pp], #80]\n\t"
                     "vqrdmulh.s32 q4, q4, q0\n\t"
                     "vand q2, q4, q1\n\t"
                     "vshr.s32 q2, q2, #31\n\t"
                     "vqadd.s32 q4, q4, q2\n\t"
                     "vrshl.s32 q4, q4, q1\n\t"
                     "vqmovnb.s32 q7, q3\n\t"
                     "vqmovnt.s32 q7, q4\n\t"
                     "vqadd.s16 q7, q7, %[off]\n\t"
                     "vmax.s16 q7, q7, %q[lo]\n\t"
                     "vmin.s16 q7, q7, %q[hi]\n\t"
                     "vstrb.16 q7, [%[op]], #8\n\t"
                     "subs %[n], #1\n\t"
                     "bne 1b\n"
                     : [x] "+l"(xp), [op] "+l"(op), [n] "+r"(n)
                     : [pp] "r"(pp), [w] "l"(filter), [xrow] "r"(xrow), [back] "r"(back), [off] "r"(off),
                       [lo] "w"(lo), [hi] "w"(hi)
                     : "q0", "q1", "q2", "q3", "q4", "q7", "cc", "memory");
}
#undef MVE_TAP8

static void __attribute__((noinline)) dw_run_asm(const mf_depthwise_conv2d_params *params, const int32_t *blk,
                                                 const int8_t *xp, const int8_t *filter, int8_t *op, int32_t n)
{
    const int32_t C = params->input.c;
    const int32_t kh = params->filter_h;
    const int32_t kw = params->filter_w;
    const int32_t xrow = params->dilation_h * params->input.w * C;
    const int32_t chunk = C % 16 == 0 ? 16 : 8;
    const mve_run_ctx ctx = {kh, kh * xrow - chunk, kh * kw * C - chunk, params->output_offset, params->act_min,
                             params->act_max};
    const int32_t pstep = params->stride_w * C;
    if (chunk == 16) {
        for (int32_t i = 0; i < n; ++i) {
            mve_run_pixel16(xp, filter, blk, op, C / 16, C, xrow - kw * C, kw, &ctx);
            xp += pstep;
            op += C;
        }
        return;
    }
    for (int32_t i = 0; i < n; ++i) {
        mve_run_pixel(xp, filter, blk, op, C / 8, C, xrow - kw * C, kw, &ctx);
        xp += pstep;
        op += C;
    }
}

/* Depth multiplier 1: for each output pixel, channels in chunks of 16, then a predicated tail of 8. */
static void __attribute__((noinline)) dw_mult1(const mf_depthwise_conv2d_params *params,
                                               const mf_per_channel_quant *quant, const int8_t *input,
                                               const int8_t *filter, const int32_t *bias, int32_t *scratch,
                                               int8_t *output)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t C = in.c;
    const int32_t kh = params->filter_h;
    const int32_t kw = params->filter_w;
    const int32_t off = params->input_offset;
    const int32_t dh = params->dilation_h;
    const int32_t dw = params->dilation_w;
    const uint32x4_t idx = vidupq_n_u32(0, 2);
    mve_out_stage st = {params->output_offset, params->act_min, params->act_max, 0};
    for (int32_t c = 0; c < C; ++c) {
        st.left |= quant->shift[c] > 0;
    }
    int32_t *blk = scratch; /* MVE_RUN_MAX_C / 8 * 24 words */
    /* the blocks cost ~5 instructions per filter weight: worth it only with enough pixels */
    const int use_asm = dw_run_fits(params, &st) && out.n * out.h * out.w >= 4 * kh * kw;
    if (use_asm) {
        dw_run_blocks(params, quant, filter, bias, blk);
    }
    const int32_t xstep = dw * C;
    const int32_t xrow = dh * in.w * C;
    const int32_t wrow = kw * C;

    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *in_b = input + b * in.h * in.w * C;
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            const int32_t ky0 = first_tap(y0, dh, kh);
            const int32_t ky1 = end_tap(y0, dh, kh, in.h);
            /* output columns whose window lies fully inside the input, in rows whose window does too */
            int32_t xa = out.w, xb = out.w;
            if (ky0 == 0 && ky1 == kh && C % 8 == 0) {
                xa = (params->pad_w + params->stride_w - 1) / params->stride_w;
                const int32_t last = in.w - 1 - (kw - 1) * dw + params->pad_w; /* x * stride_w <= last */
                xb = last < 0 ? 0 : last / params->stride_w + 1;
                xb = xb > out.w ? out.w : xb;
                xa = xa > xb ? xb : xa;
            }
            for (int32_t x = 0; x < out.w; ++x) {
                if (x == xa && xa < xb) { /* the interior run, in its place in the output order */
                    const int8_t *xp = in_b + (y0 * in.w + xa * params->stride_w - params->pad_w) * C;
                    int8_t *op = output + ((b * out.h + y) * out.w + xa) * C;
                    if (use_asm && C == 8 && kh == 3 && kw == 3) {
                        dw_run8_3x3(blk, xp, filter, op, xb - xa, xrow, 2 * xrow - params->stride_w * C,
                                    params->output_offset, vdupq_n_s16((int16_t)params->act_min),
                                    vdupq_n_s16((int16_t)params->act_max));
                    } else if (use_asm) {
                        dw_run_asm(params, blk, xp, filter, op, xb - xa);
                    } else {
                        dw_mult1_run(params, quant, xp, filter, bias, op, xb - xa, &st);
                    }
                    x = xb - 1;
                    continue;
                }
                const int32_t x0 = x * params->stride_w - params->pad_w;
                const int32_t kx0 = first_tap(x0, dw, kw);
                const int32_t kx1 = end_tap(x0, dw, kw, in.w);
                const int32_t nky = ky1 - ky0, nkx = kx1 - kx0;
                const int taps = nky > 0 && nkx > 0;
                int8_t *out_px = output + ((b * out.h + y) * out.w + x) * C;
                const int8_t *x_first = in_b + ((y0 + ky0 * dh) * in.w + x0 + kx0 * dw) * C;
                const int8_t *w_first = filter + (ky0 * kw + kx0) * C;
                int32_t c = 0;
                for (; c + 16 <= C; c += 16) {
                    int32x4_t acc[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
                    if (bias != NULL) {
                        acc[0] = vldrwq_gather_shifted_offset_s32(bias + c, idx);
                        acc[1] = vldrwq_gather_shifted_offset_s32(bias + c + 1, idx);
                        acc[2] = vldrwq_gather_shifted_offset_s32(bias + c + 8, idx);
                        acc[3] = vldrwq_gather_shifted_offset_s32(bias + c + 9, idx);
                    }
                    if (taps) {
                        mve_dw16(x_first + c, w_first + c, nky, nkx, xstep, C, xrow, wrow, off, acc);
                    }
                    mve_requant_store8(acc[0], acc[1], &st, quant->multiplier + c, quant->shift + c, out_px + c, 8);
                    mve_requant_store8(acc[2], acc[3], &st, quant->multiplier + c + 8, quant->shift + c + 8,
                                       out_px + c + 8, 8);
                }
                if (c + 8 <= C) { /* eight full channels */
                    int32x4_t acc[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
                    if (bias != NULL) {
                        acc[0] = vldrwq_gather_shifted_offset_s32(bias + c, idx);
                        acc[1] = vldrwq_gather_shifted_offset_s32(bias + c + 1, idx);
                    }
                    if (taps) {
                        mve_dw8(x_first + c, w_first + c, nky, nkx, xstep, C, xrow, wrow, off, acc);
                    }
                    mve_requant_store8(acc[0], acc[1], &st, quant->multiplier + c, quant->shift + c, out_px + c, 8);
                    c += 8;
                }
                for (; c < C; c += 8) {
                    const int32_t n = C - c < 8 ? C - c : 8;
                    const mve_pred16_t p = vctp16q((uint32_t)n);
                    const mve_pred16_t pe = lanes((n + 1) / 2), po = lanes(n / 2);
                    int32x4_t even = vdupq_n_s32(0), odd = vdupq_n_s32(0);
                    if (bias != NULL) {
                        even = vldrwq_gather_shifted_offset_z_s32(bias + c, idx, pe);
                        odd = vldrwq_gather_shifted_offset_z_s32(bias + c + 1, idx, po);
                    }
                    for (int32_t ky = 0; taps && ky < nky; ++ky) {
                        const int8_t *xp = x_first + ky * xrow + c;
                        const int8_t *wp = w_first + ky * wrow + c;
                        for (int32_t k = 0; k < nkx; ++k) {
                            const int16x8_t xv = vaddq_n_s16(vldrbq_z_s16(xp, p), (int16_t)off);
                            const int16x8_t wv = vldrbq_z_s16(wp, p);
                            even = vaddq_s32(even, vmullbq_int_s16(xv, wv));
                            odd = vaddq_s32(odd, vmulltq_int_s16(xv, wv));
                            xp += xstep;
                            wp += C;
                        }
                    }
                    /* the gathers of the tail's multipliers and shifts stay inside the arrays */
                    const int32x4_t e = mve_requant(even,
                                                    vldrwq_gather_shifted_offset_z_s32(quant->multiplier + c, idx, pe),
                                                    vldrwq_gather_shifted_offset_z_s32(quant->shift + c, idx, pe),
                                                    st.left);
                    const int32x4_t o = mve_requant(odd,
                                                    vldrwq_gather_shifted_offset_z_s32(quant->multiplier + c + 1, idx, po),
                                                    vldrwq_gather_shifted_offset_z_s32(quant->shift + c + 1, idx, po),
                                                    st.left);
                    int16x8_t v = vqmovnbq_s32(vdupq_n_s16(0), e);
                    v = vqmovntq_s32(v, o);
                    v = vqaddq_n_s16(v, (int16_t)st.out_off);
                    v = vmaxq_s16(v, vdupq_n_s16((int16_t)st.lo));
                    v = vminq_s16(v, vdupq_n_s16((int16_t)st.hi));
                    vstrbq_p_s16(out_px + c, v, p);
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

/* Depth multiplier a multiple of 4: the four lanes of a pass share one input channel, so each tap is a
 * vector-by-scalar VMLA of four filter lanes by (x + off); two passes (8 output channels) per input load
 * when M % 8 == 0. */
static void dw_mult4(const mf_depthwise_conv2d_params *params, const mf_per_channel_quant *quant,
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
    const int32_t dh = params->dilation_h;
    const int32_t dw = params->dilation_w;
    const int32_t step = M % 8 == 0 ? 8 : 4;

    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *in_b = input + b * in.h * in.w * C;
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            const int32_t ky0 = first_tap(y0, dh, kh);
            const int32_t ky1 = end_tap(y0, dh, kh, in.h);
            for (int32_t x = 0; x < out.w; ++x) {
                const int32_t x0 = x * params->stride_w - params->pad_w;
                const int32_t kx0 = first_tap(x0, dw, kw);
                const int32_t kx1 = end_tap(x0, dw, kw, in.w);
                int8_t *out_px = output + ((b * out.h + y) * out.w + x) * OC;
                for (int32_t o = 0; o < OC; o += step) {
                    const int32_t c = o / M;
                    int32x4_t a0 = bias != NULL ? vldrwq_s32(bias + o) : vdupq_n_s32(0);
                    int32x4_t a1 = step == 8 ? (bias != NULL ? vldrwq_s32(bias + o + 4) : vdupq_n_s32(0)) : a0;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *xp = in_b + ((y0 + ky * dh) * in.w + x0 + kx0 * dw) * C + c;
                        const int8_t *wp = filter + (ky * kw + kx0) * OC + o;
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            const int32_t xv = (int32_t)*xp + off;
                            a0 = vmlaq_n_s32(a0, vldrbq_s32(wp), xv);
                            if (step == 8) {
                                a1 = vmlaq_n_s32(a1, vldrbq_s32(wp + 4), xv);
                            }
                            xp += dw * C;
                            wp += OC;
                        }
                    }
                    mve_requant_store(a0, quant->multiplier + o, quant->shift + o, params->output_offset,
                                      params->act_min, params->act_max, out_px + o, vctp32q(4));
                    if (step == 8) {
                        mve_requant_store(a1, quant->multiplier + o + 4, quant->shift + o + 4, params->output_offset,
                                          params->act_min, params->act_max, out_px + o + 4, vctp32q(4));
                    }
                }
            }
        }
    }
}

/* Single input channel (e.g. a first layer, C == 1, any multiplier M = OC): one byte gather loads the whole
 * window (kh * kw <= 16 taps) into int8 lanes, and each output channel is one VMLADAVA.S8 against that
 * channel's filter taps (transposed once per call into a stack table). The input offset is folded into
 * acc = bias + off * sum(valid taps of the filter). Pixel by pixel, channels in increasing order. */
#define MVE_C1_MAX_OC 64 /* stack: 64 x 16 filter bytes + 64 x int32 = 1280 bytes */

static int dw_c1_fits(const mf_depthwise_conv2d_params *params)
{
    const int32_t span = (params->filter_h - 1) * params->dilation_h * params->input.w +
                         (params->filter_w - 1) * params->dilation_w;
    return params->input.c == 1 && params->filter_h * params->filter_w <= 16 && span <= 255 &&
           params->output.c % 4 == 0 && params->output.c <= MVE_C1_MAX_OC;
}

/* dw_c1's interior run in one asm block (OC <= MVE_C1_ASM_OC, no left shift): per pixel one window gather,
 * then per 4 channels four VMLADAVA.S8 from their init (bias + off * sum of taps), lanes joined by two VMOVs,
 * requantized, offset, clamped and stored. Per group of 4 channels a 112-byte stack block: four 16-byte tap
 * vectors, init, multiplier and shift (int32 x 4 each). */
#define MVE_C1_ASM_OC 16 /* stack: 4 blocks x 112 bytes = 448 bytes */

static void __attribute__((noinline)) dw_c1_run_asm(const int8_t *xp, const int32_t *blk, int8_t *op, int32_t n,
                                                    int32_t ngroups, int32_t pstep, uint8x16_t offs, int32x4_t voff,
                                                    int32x4_t vlo, int32x4_t vhi)
{
    const int32_t *pp;
    int32_t g;
    __asm__ volatile("1:\n\t"
                     "vldrb.u8 q0, [%[xp], %q[offs]]\n\t"
                     "mov %[pp], %[blk]\n\t"
                     "mov %[g], %[ng]\n"
                     "2:\n\t"
                     "ldrd r8, r10, [%[pp], #64]\n\t"
                     "ldrd r12, lr, [%[pp], #72]\n\t"
                     "vldrw.32 q1, [%[pp]]\n\t"
                     "vmladava.s8 r8, q0, q1\n\t"
                     "vldrw.32 q1, [%[pp], #16]\n\t"
                     "vmladava.s8 r10, q0, q1\n\t"
                     "vldrw.32 q1, [%[pp], #32]\n\t"
                     "vmladava.s8 r12, q0, q1\n\t"
                     "vldrw.32 q1, [%[pp], #48]\n\t"
                     "vmladava.s8 lr, q0, q1\n\t"
                     "vmov q2[2], q2[0], r8, r12\n\t" /* as assembles this as lane 0 = r8, lane 2 = r12 */
                     "vmov q2[3], q2[1], r10, lr\n\t"
                     "vldrw.32 q1, [%[pp], #80]\n\t"
                     "vldrw.32 q3, [%[pp], #96]\n\t"
                     "vqrdmulh.s32 q2, q2, q1\n\t"
                     /* ties of negative values away from zero (see mve_requant) */
                     "vand q1, q2, q3\n\t"
                     "vshr.s32 q1, q1, #31\n\t"
                     "vqadd.s32 q2, q2, q1\n\t"
                     "vrshl.s32 q2, q2, q3\n\t"
                     "vadd.i32 q2, q2, %q[voff]\n\t"
                     "vmax.s32 q2, q2, %q[vlo]\n\t"
                     "vmin.s32 q2, q2, %q[vhi]\n\t"
                     "vstrb.32 q2, [%[op]], #4\n\t"
                     "add %[pp], %[pp], #112\n\t"
                     "subs %[g], #1\n\t"
                     "bne 2b\n\t"
                     "add %[xp], %[pstep]\n\t"
                     "subs %[n], #1\n\t"
                     "bne 1b\n"
                     : [xp] "+l"(xp), [op] "+l"(op), [n] "+r"(n), [pp] "=&r"(pp), [g] "=&r"(g)
                     : [blk] "r"(blk), [ng] "r"(ngroups), [pstep] "r"(pstep), [offs] "w"(offs), [voff] "w"(voff),
                       [vlo] "w"(vlo), [vhi] "w"(vhi)
                     : "q0", "q1", "q2", "q3", "r8", "r10", "r12", "lr", "cc", "memory");
}

static void __attribute__((noinline)) dw_c1(const mf_depthwise_conv2d_params *params,
                                            const mf_per_channel_quant *quant, const int8_t *input,
                                            const int8_t *filter, const int32_t *bias, int32_t *scratch,
                                            int8_t *output)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t OC = out.c;
    const int32_t kh = params->filter_h;
    const int32_t kw = params->filter_w;
    const int32_t K = kh * kw;
    const int32_t off = params->input_offset;
    const int32_t dh = params->dilation_h;
    const int32_t dw = params->dilation_w;
    /* scratch: the transposed taps (16 bytes per channel), init, the asm blocks: 1728 bytes */
    int8_t(*wt)[16] = (int8_t(*)[16])scratch;
    int32_t *init = scratch + 4 * MVE_C1_MAX_OC; /* bias + off * sum of all taps: windows fully inside the input */
    uint8_t offs_a[16];
    for (int32_t t = 0; t < 16; ++t) {
        offs_a[t] = t < K ? (uint8_t)((t / kw) * dh * in.w + (t % kw) * dw) : 0;
    }
    const uint8x16_t offs = vld1q_u8(offs_a);
    for (int32_t o = 0; o < OC; ++o) {
        int32_t sum = 0;
        for (int32_t t = 0; t < 16; ++t) {
            wt[o][t] = t < K ? filter[t * OC + o] : 0;
            sum += wt[o][t];
        }
        init[o] = (bias != NULL ? bias[o] : 0) + off * sum;
    }
    const mve_pred16_t all = vctp8q((uint32_t)K);
    mve_out_stage st = {params->output_offset, params->act_min, params->act_max, 0};
    for (int32_t o = 0; o < OC; ++o) {
        st.left |= quant->shift[o] > 0;
    }
    const int32x4_t vlo = vdupq_n_s32(params->act_min);
    const int32x4_t vhi = vdupq_n_s32(params->act_max);
    int32_t *blk = scratch + 5 * MVE_C1_MAX_OC; /* MVE_C1_ASM_OC / 4 * 28 words */
    const int use_asm = !st.left && OC <= MVE_C1_ASM_OC;
    for (int32_t o = 0; use_asm && o < OC; ++o) {
        int32_t *q = blk + (o / 4) * 28;
        for (int32_t t = 0; t < 16; ++t) {
            ((int8_t *)q)[(o % 4) * 16 + t] = wt[o][t];
        }
        q[16 + o % 4] = init[o];
        q[20 + o % 4] = quant->multiplier[o];
        q[24 + o % 4] = quant->shift[o];
    }

    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *in_b = input + b * in.h * in.w;
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            const int32_t ky0 = first_tap(y0, dh, kh);
            const int32_t ky1 = end_tap(y0, dh, kh, in.h);
            /* output columns whose window lies fully inside the input, in rows whose window does too */
            int32_t xa = out.w, xb = out.w;
            if (ky0 == 0 && ky1 == kh) {
                xa = (params->pad_w + params->stride_w - 1) / params->stride_w;
                const int32_t last = in.w - 1 - (kw - 1) * dw + params->pad_w; /* x * stride_w <= last */
                xb = last < 0 ? 0 : last / params->stride_w + 1;
                xb = xb > out.w ? out.w : xb;
                xa = xa > xb ? xb : xa;
            }
            for (int32_t x = 0; x < out.w; ++x) {
                if (x == xa && xa < xb) { /* the interior run, in its place in the output order */
                    const int8_t *xp = in_b + y0 * in.w + xa * params->stride_w - params->pad_w;
                    int8_t *op = output + ((b * out.h + y) * out.w + xa) * OC;
                    if (use_asm) {
                        dw_c1_run_asm(xp, blk, op, xb - xa, OC / 4, params->stride_w, offs,
                                      vdupq_n_s32(params->output_offset), vlo, vhi);
                        x = xb - 1;
                        continue;
                    }
                    for (int32_t xi = xa; xi < xb; ++xi) {
                        const int8x16_t xv = vldrbq_gather_offset_z_s8(xp, offs, all);
                        for (int32_t o = 0; o < OC; o += 4) {
                            int32x4_t acc = vdupq_n_s32(0);
                            acc = vsetq_lane_s32(vmladavaq_s8(init[o], xv, vld1q_s8(wt[o])), acc, 0);
                            acc = vsetq_lane_s32(vmladavaq_s8(init[o + 1], xv, vld1q_s8(wt[o + 1])), acc, 1);
                            acc = vsetq_lane_s32(vmladavaq_s8(init[o + 2], xv, vld1q_s8(wt[o + 2])), acc, 2);
                            acc = vsetq_lane_s32(vmladavaq_s8(init[o + 3], xv, vld1q_s8(wt[o + 3])), acc, 3);
                            const int32x4_t q = mve_requant(acc, vldrwq_s32(quant->multiplier + o),
                                                            vldrwq_s32(quant->shift + o), st.left);
                            int32x4_t v = vaddq_n_s32(q, st.out_off);
                            v = vmaxq_s32(v, vlo);
                            v = vminq_s32(v, vhi);
                            vstrbq_s32(op + o, v);
                        }
                        xp += params->stride_w;
                        op += OC;
                    }
                    x = xb - 1;
                    continue;
                }
                const int32_t x0 = x * params->stride_w - params->pad_w;
                const int32_t kx0 = first_tap(x0, dw, kw);
                const int32_t kx1 = end_tap(x0, dw, kw, in.w);
                int8_t *out_px = output + ((b * out.h + y) * out.w + x) * OC;
                /* the window's top-left input element (possibly outside the input: only valid lanes load) */
                const int8_t *base = (const int8_t *)((uintptr_t)in_b + (uintptr_t)(intptr_t)(y0 * in.w + x0));
                /* border: lanes of the taps inside the input */
                uint32_t bits = 0;
                for (int32_t ky = ky0; ky < ky1; ++ky) {
                    for (int32_t kx = kx0; kx < kx1; ++kx) {
                        bits |= 1u << (ky * kw + kx);
                    }
                }
                const mve_pred16_t p = (mve_pred16_t)bits;
                const int8x16_t xv = vldrbq_gather_offset_z_s8(base, offs, p);
                for (int32_t o = 0; o < OC; o += 4) {
                    int32_t acc_a[4];
                    for (int32_t j = 0; j < 4; ++j) {
                        const int8x16_t wv = vld1q_s8(wt[o + j]);
                        const int32_t a0 = (bias != NULL ? bias[o + j] : 0) + off * vaddvq_p_s8(wv, p);
                        acc_a[j] = vmladavaq_p_s8(a0, xv, wv, p);
                    }
                    mve_requant_store(vld1q_s32(acc_a), quant->multiplier + o, quant->shift + o, params->output_offset,
                                      params->act_min, params->act_max, out_px + o, vctp32q(4));
                }
            }
        }
    }
}

/* 3x3, depth multiplier 1, C % 16 == 0, C <= DW3_MAX_C, no left shift: per output pixel one asm block over its
 * 16-channel chunks. Int8 lanes: the products of two taps, VMULLB.S8 / VMULLT.S8 (even / odd channels, int16),
 * are summed in int16 (two int8 x int8 products fit), then widened (VMOVLB/VMOVLT.S16) into four int32
 * accumulators holding channels {0,4,8,12}, {2,6,..}, {1,5,..}, {3,7,..} of the chunk: 21 instructions per
 * two taps of 16 channels. The input offset is folded into the accumulators' start (bias + off * sum of the
 * nine taps); border pixels run on a copy of their window with the input zero point in the padding taps, whose
 * (x + off) * w is 0. Requantization per accumulator (see mve_requant), saturating narrowing to int16 (keeps
 * the order, so the clamp is exact), offset and clamp in int16, narrowing to bytes in channel order, one
 * 16-byte store: ~148 instructions per chunk and pixel (144 MACs).
 * Per chunk a 336-byte block: the nine 16-byte tap vectors, then the accumulators' start, multiplier and
 * shift (4 x 16 bytes each, in the accumulators' channel order); plus a 9 x C window copy for border pixels.
 * Scratch: 30 bytes per channel (<= 1920 bytes). */
#define DW3_MAX_C 64
#define DW3_BLK_WORDS 84 /* 336 bytes per 16-channel chunk */
#define DW3F_MAX_C 144   /* above DW3_MAX_C: the filter read in place, 192-byte blocks */
#define DW3F_BLK_WORDS 48

/* the input vector of a tap: walking (x += adv after it) or from the pixel's tap table (x = tbl[t] + chunk) */
#define DW3_XW(t, adv) "vldrb.8 q0, [%[x]]\n\tadd %[x], " adv "\n\t"
#define DW3_XT(t, adv) "ldr %[x], [%[tb], #" t "]\n\tadd %[x], %[xb]\n\tvldrb.8 q0, [%[x]]\n\t"
/* the weights of a tap pair: from the block (immediate offsets) or walking the filter in place (w += C) */
#define DW3_WA_B(wa) "vldrw.32 q1, [%[p], #" wa "]\n\t"
#define DW3_WB_B(wb) "vldrw.32 q1, [%[p], #" wb "]\n\t"
#define DW3_WR_B(wb) "vldrw.32 q1, [%[p], #" wb "]\n\t"
#define DW3_WA_F(wa) "vldrb.8 q1, [%[w]]\n\tadd %[w], %[C]\n\t"
#define DW3_WB_F(wb) "vldrb.8 q1, [%[w]]\n\t"
#define DW3_WR_F(wb) "vldrb.8 q1, [%[w]]\n\tadd %[w], %[C]\n\t"
#define DW3_PAIR(X, WA, WB, WR, ta, tb, wa, wb, adva, advb)                                                           \
    X(ta, adva)                                                                                                       \
    WA(wa)                                                                                                            \
    "vmullb.s8 q2, q0, q1\n\t"                                                                                        \
    "vmullt.s8 q3, q0, q1\n\t"                                                                                        \
    X(tb, advb)                                                                                                       \
    WB(wb)                                                                                                            \
    "vmullb.s8 q1, q0, q1\n\t"                                                                                        \
    "vadd.i16 q2, q2, q1\n\t"                                                                                         \
    WR(wb)                                                                                                            \
    "vmullt.s8 q0, q0, q1\n\t"                                                                                        \
    "vadd.i16 q3, q3, q0\n\t" DW3_WIDEN
#define DW3_WIDEN                                                                                                     \
    "vmovlb.s16 q0, q2\n\t"                                                                                           \
    "vadd.i32 q4, q4, q0\n\t"                                                                                         \
    "vmovlt.s16 q0, q2\n\t"                                                                                           \
    "vadd.i32 q5, q5, q0\n\t"                                                                                         \
    "vmovlb.s16 q0, q3\n\t"                                                                                           \
    "vadd.i32 q6, q6, q0\n\t"                                                                                         \
    "vmovlt.s16 q0, q3\n\t"                                                                                           \
    "vadd.i32 q7, q7, q0\n\t"
#define DW3_RQ(acc, m, s)                                                                                             \
    "vldrw.32 q0, [%[p], #" m "]\n\t"                                                                                 \
    "vqrdmulh.s32 " acc ", " acc ", q0\n\t"                                                                           \
    "vldrw.32 q1, [%[p], #" s "]\n\t"                                                                                 \
    "vand q0, " acc ", q1\n\t"                                                                                        \
    "vshr.s32 q0, q0, #31\n\t"                                                                                        \
    "vqadd.s32 " acc ", " acc ", q0\n\t"                                                                              \
    "vrshl.s32 " acc ", " acc ", q1\n\t"
/* one chunk: start the accumulators, nine taps, requantize, narrow, store. Block offsets: init i0.., multiplier
 * m0.., shift s0.. (16 bytes per accumulator) */
#define DW3_CHUNK(X, WA, WB, WR, WS, i0, i1, i2, i3, m0, m1, m2, m3, s0, s1, s2, s3)                                  \
    "vldrw.32 q4, [%[p], #" i0 "]\n\t"                                                                                \
    "vldrw.32 q5, [%[p], #" i1 "]\n\t"                                                                                \
    "vldrw.32 q6, [%[p], #" i2 "]\n\t"                                                                                \
    "vldrw.32 q7, [%[p], #" i3 "]\n\t"                                                                                \
    DW3_PAIR(X, WA, WB, WR, "0", "4", "0", "16", "%[xs]", "%[xs]")                                                   \
    DW3_PAIR(X, WA, WB, WR, "8", "12", "32", "48", "%[ra]", "%[xs]")                                                 \
    DW3_PAIR(X, WA, WB, WR, "16", "20", "64", "80", "%[xs]", "%[ra]")                                                \
    DW3_PAIR(X, WA, WB, WR, "24", "28", "96", "112", "%[xs]", "%[xs]")                                               \
    X("32", "%[xs]")                                                                                                  \
    WS                                                                                                                \
    "vmullb.s8 q2, q0, q1\n\t"                                                                                        \
    "vmullt.s8 q3, q0, q1\n\t"                                                                                        \
    DW3_WIDEN                                                                                                         \
    DW3_RQ("q4", m0, s0) DW3_RQ("q5", m1, s1) DW3_RQ("q6", m2, s2) DW3_RQ("q7", m3, s3)                              \
    "vqmovnb.s32 q0, q4\n\t"                                                                                          \
    "vqmovnt.s32 q0, q5\n\t"                                                                                          \
    "vqmovnb.s32 q1, q6\n\t"                                                                                          \
    "vqmovnt.s32 q1, q7\n\t"                                                                                          \
    "vqadd.s16 q0, q0, %[off]\n\t"                                                                                    \
    "vqadd.s16 q1, q1, %[off]\n\t"                                                                                    \
    "vdup.16 q2, %[lo]\n\t"                                                                                           \
    "vmax.s16 q0, q0, q2\n\t"                                                                                         \
    "vmax.s16 q1, q1, q2\n\t"                                                                                         \
    "vdup.16 q2, %[hi]\n\t"                                                                                           \
    "vmin.s16 q0, q0, q2\n\t"                                                                                         \
    "vmin.s16 q1, q1, q2\n\t"                                                                                         \
    "vmovnb.i16 q0, q0\n\t"                                                                                           \
    "vmovnt.i16 q0, q1\n\t"                                                                                           \
    "vstrb.8 q0, [%[out]], #16\n\t"                                                                                   \
    "add %[xb], %[xb], #16\n\t"
/* weights in the block (336 bytes per chunk) */
#define DW3_CHUNK_B(X)                                                                                                \
    DW3_CHUNK(X, DW3_WA_B, DW3_WB_B, DW3_WR_B, DW3_WA_B("128"), "144", "160", "176", "192", "208", "224", "240",       \
              "256", "272", "288", "304", "320")                                                                      \
    "add %[p], %[p], #336\n\t"                                                                                        \
    "subs %[n], #1\n\t"
/* weights read in place (the block: 192 bytes per chunk) */
#define DW3_CHUNK_F(X)                                                                                                \
    DW3_CHUNK(X, DW3_WA_F, DW3_WB_F, DW3_WR_F, DW3_WB_F("0"), "0", "16", "32", "48", "64", "80", "96", "112", "128",   \
              "144", "160", "176")                                                                                    \
    "sub %[w], %[wadj]\n\t"                                                                                           \
    "add %[p], %[p], #192\n\t"                                                                                        \
    "subs %[n], #1\n\t"

/* A run of pixels (ctx[8] of them, their windows inside the input, outputs contiguous). ctx: tap step, row
 * step (from the third tap of a row to the first of the next), output offset, act_min, act_max, C, 8 C - 16,
 * chunks, pixels left (counted down), pixel step - 16 chunks, block bytes, 16 chunks. */
static void __attribute__((noinline)) dw3_pixel(const int8_t *x, const int32_t *blk, int8_t *out, int32_t *ctx)
{
    const int8_t *xb;
    int32_t xs, ra, off, lo, hi, nch;
    __asm__ volatile("ldrd %[xs], %[ra], [%[ctx]]\n\t"
                     "ldr %[off], [%[ctx], #8]\n\t"
                     "ldrd %[lo], %[hi], [%[ctx], #12]\n\t"
                     "mov %[xb], %[x]\n"
                     "0:\n\t"
                     "ldr %[n], [%[ctx], #28]\n"
                     "1:\n\t"
                     DW3_CHUNK_B(DW3_XW)
                     "mov %[x], %[xb]\n\t"
                     "bne 1b\n\t"
                     "ldr %[x], [%[ctx], #40]\n\t"
                     "sub %[p], %[p], %[x]\n\t"
                     "ldr %[x], [%[ctx], #36]\n\t"
                     "add %[xb], %[xb], %[x]\n\t"
                     "ldr %[x], [%[ctx], #32]\n\t"
                     "subs %[x], #1\n\t"
                     "str %[x], [%[ctx], #32]\n\t"
                     "mov %[x], %[xb]\n\t"
                     "bne 0b\n"
                     : [x] "+l"(x), [p] "+r"(blk), [out] "+r"(out), [n] "=&r"(nch), [xb] "=&r"(xb), [xs] "=&r"(xs),
                       [ra] "=&r"(ra), [off] "=&r"(off), [lo] "=&r"(lo), [hi] "=&r"(hi)
                     : [ctx] "r"(ctx)
                     : "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "cc", "memory");
}

/* As dw3_pixel with the nine taps' addresses in tb[] (border pixels: padding taps point to C bytes of the
 * input zero point): 18 instructions more per chunk. */
static void __attribute__((noinline)) dw3_pixel_tbl(const int8_t *const *tb, const int32_t *blk, int8_t *out,
                                                    int32_t nch, const int32_t *ctx)
{
    const int8_t *x;
    int32_t xb = 0;
    int32_t off, lo, hi;
    __asm__ volatile("ldr %[off], [%[ctx], #8]\n\t"
                     "ldrd %[lo], %[hi], [%[ctx], #12]\n"
                     "1:\n\t"
                     DW3_CHUNK_B(DW3_XT)
                     "bne 1b\n"
                     : [x] "=&l"(x), [p] "+r"(blk), [out] "+r"(out), [n] "+r"(nch), [xb] "+r"(xb), [off] "=&r"(off),
                       [lo] "=&r"(lo), [hi] "=&r"(hi)
                     : [ctx] "r"(ctx), [tb] "r"(tb)
                     : "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "cc", "memory");
}
/* As dw3_pixel / dw3_pixel_tbl with the filter read in place (C > DW3_MAX_C): w = the chunk's first tap,
 * wadj = 8 C - 16; 8 instructions more per chunk. */
static void __attribute__((noinline)) dw3f_pixel(const int8_t *x, const int8_t *w, const int32_t *blk, int8_t *out,
                                                 int32_t *ctx)
{
    const int8_t *xb;
    int32_t xs, ra, off, lo, hi, C, wadj, nch;
    __asm__ volatile("ldrd %[xs], %[ra], [%[ctx]]\n\t"
                     "ldr %[off], [%[ctx], #8]\n\t"
                     "ldrd %[lo], %[hi], [%[ctx], #12]\n\t"
                     "ldrd %[C], %[wadj], [%[ctx], #20]\n\t"
                     "mov %[xb], %[x]\n"
                     "0:\n\t"
                     "ldr %[n], [%[ctx], #28]\n"
                     "1:\n\t"
                     DW3_CHUNK_F(DW3_XW)
                     "mov %[x], %[xb]\n\t"
                     "bne 1b\n\t"
                     "ldr %[x], [%[ctx], #40]\n\t"
                     "sub %[p], %[p], %[x]\n\t"
                     "ldr %[x], [%[ctx], #44]\n\t"
                     "sub %[w], %[w], %[x]\n\t"
                     "ldr %[x], [%[ctx], #36]\n\t"
                     "add %[xb], %[xb], %[x]\n\t"
                     "ldr %[x], [%[ctx], #32]\n\t"
                     "subs %[x], #1\n\t"
                     "str %[x], [%[ctx], #32]\n\t"
                     "mov %[x], %[xb]\n\t"
                     "bne 0b\n"
                     : [x] "+l"(x), [w] "+l"(w), [p] "+r"(blk), [out] "+r"(out), [n] "=&r"(nch), [xb] "=&r"(xb),
                       [xs] "=&r"(xs), [ra] "=&r"(ra), [off] "=&r"(off), [lo] "=&r"(lo), [hi] "=&r"(hi), [C] "=&r"(C),
                       [wadj] "=&r"(wadj)
                     : [ctx] "r"(ctx)
                     : "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "cc", "memory");
}

static void __attribute__((noinline)) dw3f_pixel_tbl(const int8_t *const *tb, const int8_t *w, const int32_t *blk,
                                                     int8_t *out, int32_t nch, const int32_t *ctx)
{
    const int8_t *x;
    int32_t xb = 0;
    int32_t off, lo, hi, C, wadj;
    __asm__ volatile("ldr %[off], [%[ctx], #8]\n\t"
                     "ldrd %[lo], %[hi], [%[ctx], #12]\n\t"
                     "ldrd %[C], %[wadj], [%[ctx], #20]\n"
                     "1:\n\t"
                     DW3_CHUNK_F(DW3_XT)
                     "bne 1b\n"
                     : [x] "=&l"(x), [w] "+l"(w), [p] "+r"(blk), [out] "+r"(out), [n] "+r"(nch), [xb] "+r"(xb),
                       [off] "=&r"(off), [lo] "=&r"(lo), [hi] "=&r"(hi), [C] "=&r"(C), [wadj] "=&r"(wadj)
                     : [ctx] "r"(ctx), [tb] "r"(tb)
                     : "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "cc", "memory");
}
#undef DW3_XW
#undef DW3_XT
#undef DW3_CHUNK
#undef DW3_CHUNK_B
#undef DW3_CHUNK_F
#undef DW3_WA_B
#undef DW3_WB_B
#undef DW3_WR_B
#undef DW3_WA_F
#undef DW3_WB_F
#undef DW3_WR_F
#undef DW3_PAIR
#undef DW3_WIDEN
#undef DW3_RQ

static int dw3_fits(const mf_depthwise_conv2d_params *params, const mf_per_channel_quant *quant)
{
    const int32_t C = params->input.c;
    if (params->depth_multiplier != 1 || params->filter_h != 3 || params->filter_w != 3 || C % 16 != 0 ||
        C > DW3F_MAX_C) {
        return 0;
    }
    for (int32_t c = 0; c < C; ++c) {
        if (quant->shift[c] > 0) {
            return 0;
        }
    }
    return 1;
}

static void __attribute__((noinline)) dw3_c16(const mf_depthwise_conv2d_params *params,
                                              const mf_per_channel_quant *quant, const int8_t *input,
                                              const int8_t *filter, const int32_t *bias, int32_t *scratch,
                                              int8_t *output)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t C = in.c;
    const int32_t nch = C / 16;
    const int32_t dh = params->dilation_h;
    const int32_t dw = params->dilation_w;
    const int32_t sw = params->stride_w;
    const int inplace = C > DW3_MAX_C;
    const int32_t bw = inplace ? DW3F_BLK_WORDS : DW3_BLK_WORDS;
    const int32_t ib = inplace ? 0 : 36; /* words before the accumulators' start in a block */
    int32_t *blk = scratch;
    int8_t *win = (int8_t *)(scratch + bw * nch); /* C bytes of the input zero point */
    const uint32_t off = (uint32_t)params->input_offset;
    /* per chunk: the tap vectors (in-block variant), then init, multiplier, shift in the accumulators' channel
     * order {0,4,8,12}, {2,6,10,14}, {1,5,9,13}, {3,7,11,15} (gathers: setup only) */
    static const uint32_t order[16] = {0, 4, 8, 12, 2, 6, 10, 14, 1, 5, 9, 13, 3, 7, 11, 15};
    for (int32_t k = 0; k < nch; ++k) {
        int32_t *q = blk + bw * k;
        int16x8_t se = vdupq_n_s16(0), so = vdupq_n_s16(0);
        for (int32_t t = 0; t < 9; ++t) {
            const int8x16_t v = vld1q_s8(filter + t * C + 16 * k);
            if (!inplace) {
                vst1q_s8((int8_t *)q + 16 * t, v);
            }
            se = vaddq_s16(se, vmovlbq_s8(v));
            so = vaddq_s16(so, vmovltq_s8(v));
        }
        const int32x4_t sums[4] = {vmovlbq_s16(se), vmovltq_s16(se), vmovlbq_s16(so), vmovltq_s16(so)};
        for (int32_t a = 0; a < 4; ++a) {
            const uint32x4_t idx = vld1q_u32(order + 4 * a);
            const int32x4_t b = bias != NULL ? vldrwq_gather_shifted_offset_s32(bias + 16 * k, idx) : vdupq_n_s32(0);
            /* bias + off * sum, wrapping like the reference's int32 arithmetic */
            const int32x4_t init = vreinterpretq_s32_u32(vmlaq_n_u32(vreinterpretq_u32_s32(b),
                                                                     vreinterpretq_u32_s32(sums[a]), off));
            vst1q_s32(q + ib + 4 * a, init);
            vst1q_s32(q + ib + 16 + 4 * a, vldrwq_gather_shifted_offset_s32(quant->multiplier + 16 * k, idx));
            vst1q_s32(q + ib + 32 + 4 * a, vldrwq_gather_shifted_offset_s32(quant->shift + 16 * k, idx));
        }
    }
    int32_t ctx_in[12] = {dw * C, dh * in.w * C - 2 * dw * C, params->output_offset, params->act_min,
                          params->act_max, C, 8 * C - 16, nch, 0, sw * C - 16 * nch, 4 * bw * nch, 16 * nch};
    const int8x16_t zp = vdupq_n_s8((int8_t)(-params->input_offset));
    for (int32_t i = 0; i < C; i += 16) {
        vst1q_s8(win + i, zp);
    }
    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *in_b = input + b * in.h * in.w * C;
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            const int32_t ky0 = first_tap(y0, dh, 3);
            const int32_t ky1 = end_tap(y0, dh, 3, in.h);
            /* output columns whose window lies fully inside the input, in rows whose window does too */
            int32_t xa = out.w, xb = out.w;
            if (ky0 == 0 && ky1 == 3) {
                xa = (params->pad_w + sw - 1) / sw;
                const int32_t last = in.w - 1 - 2 * dw + params->pad_w; /* x * stride_w <= last */
                xb = last < 0 ? 0 : last / sw + 1;
                xb = xb > out.w ? out.w : xb;
                xa = xa > xb ? xb : xa;
            }
            int8_t *op = output + (b * out.h + y) * out.w * C;
            for (int32_t x = 0; x < out.w; ++x, op += C) {
                const int32_t x0 = x * sw - params->pad_w;
                if (x == xa && xa < xb) { /* the interior run, in its place in the output order */
                    ctx_in[8] = xb - xa;
                    if (inplace) {
                        dw3f_pixel(in_b + (y0 * in.w + x0) * C, filter, blk, op, ctx_in);
                    } else {
                        dw3_pixel(in_b + (y0 * in.w + x0) * C, blk, op, ctx_in);
                    }
                    op += (xb - xa - 1) * C;
                    x = xb - 1;
                    continue;
                }
                /* the taps' addresses: padding taps read the input zero point */
                const int8_t *tb[9];
                for (int32_t ky = 0; ky < 3; ++ky) {
                    const int32_t iy = y0 + ky * dh;
                    for (int32_t kx = 0; kx < 3; ++kx) {
                        const int32_t ix = x0 + kx * dw;
                        const int inside = iy >= 0 && iy < in.h && ix >= 0 && ix < in.w;
                        tb[ky * 3 + kx] = inside ? in_b + (iy * in.w + ix) * C : win;
                    }
                }
                if (inplace) {
                    dw3f_pixel_tbl(tb, filter, blk, op, nch, ctx_in);
                } else {
                    dw3_pixel_tbl(tb, blk, op, nch, ctx_in);
                }
            }
        }
    }
}

/* One input channel with a window of more than 16 taps (C == 1, M = OC >= 4, dilation_w 1; e.g. micro_speech's
 * 10x8 first layer): a depthwise convolution of one channel is a convolution of C_in 1 to M channels. Per pixel
 * the window is copied into a patch (taps outside the input: the input zero point, so (x + off) * w == 0 and
 * every pixel adds the same corr = bias + off * sum(w)); per group of four channels one mve_dot4 over the patch
 * against the filter transposed into the scratch, each channel's taps padded with zeros to Lp = 16 ceil(K / 16)
 * bytes: 10 Lp / 16 + ~25 instructions per group. Scratch: OC (Lp + 4) + Lp + 16 bytes. */
static int dw_c1big_fits(const mf_depthwise_conv2d_params *params)
{
    const int32_t K = params->filter_h * params->filter_w;
    const int32_t Lp = (K + 15) / 16 * 16;
    const int32_t OC = params->output.c;
    return params->input.c == 1 && OC >= 4 && params->dilation_w == 1 && K > 16 &&
           OC * (Lp + 4) + Lp + 16 <= 4 * MVE_DW_SCRATCH_WORDS;
}

static inline void dw_copy_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n > 0; n -= 16) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        vstrbq_p_s8(dst, vldrbq_z_s8(src, p), p);
        dst += 16;
        src += 16;
    }
}

static void __attribute__((noinline)) dw_c1big(const mf_depthwise_conv2d_params *params,
                                               const mf_per_channel_quant *quant, const int8_t *input,
                                               const int8_t *filter, const int32_t *bias, int32_t *scratch,
                                               int8_t *output)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t OC = out.c;
    const int32_t kh = params->filter_h;
    const int32_t kw = params->filter_w;
    const int32_t K = kh * kw;
    const int32_t Lp = (K + 15) / 16 * 16;
    const int32_t dh = params->dilation_h;
    int8_t *wt = (int8_t *)scratch;
    int32_t *corr = scratch + OC * Lp / 4;
    int8_t *patch = (int8_t *)(corr + OC);
    const uint32_t off = (uint32_t)params->input_offset;
    for (int32_t o = 0; o < OC; ++o) {
        int32_t sum = 0;
        for (int32_t t = 0; t < Lp; ++t) {
            const int8_t v = t < K ? filter[t * OC + o] : 0;
            wt[o * Lp + t] = v;
            sum += v;
        }
        corr[o] = (int32_t)((uint32_t)(bias != NULL ? bias[o] : 0) + off * (uint32_t)sum);
    }
    for (int32_t i = 0; i < Lp + 16; i += 16) {
        vst1q_s8(patch + i, vdupq_n_s8(0));
    }
    const int8x16_t zp = vdupq_n_s8((int8_t)(-params->input_offset));
    const mve_pred16_t prow = vctp8q((uint32_t)(kw < 16 ? kw : 16));
    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *in_b = input + b * in.h * in.w;
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            const int32_t ky0 = first_tap(y0, dh, kh);
            const int32_t ky1 = end_tap(y0, dh, kh, in.h);
            for (int32_t x = 0; x < out.w; ++x) {
                const int32_t x0 = x * params->stride_w - params->pad_w;
                const int32_t kx0 = first_tap(x0, 1, kw);
                const int32_t kx1 = end_tap(x0, 1, kw, in.w);
                if (ky0 == 0 && ky1 == kh && kx0 == 0 && kx1 == kw && kw <= 16) {
                    /* full-vector stores: the next row overwrites the zeros past each row */
                    const int8_t *src = in_b + y0 * in.w + x0;
                    int8_t *d = patch;
                    for (int32_t ky = 0; ky < kh; ++ky) {
                        vst1q_s8(d, vldrbq_z_s8(src, prow));
                        src += dh * in.w;
                        d += kw;
                    }
                } else {
                    if (ky0 != 0 || ky1 != kh || kx0 != 0 || kx1 != kw) {
                        for (int32_t i = 0; i < K; i += 16) {
                            vstrbq_p_s8(patch + i, zp, vctp8q((uint32_t)(K - i)));
                        }
                    }
                    if (kx1 > kx0) {
                        const int8_t *src = in_b + (y0 + ky0 * dh) * in.w + x0 + kx0;
                        for (int32_t ky = ky0; ky < ky1; ++ky) {
                            dw_copy_bytes(patch + ky * kw + kx0, src, kx1 - kx0);
                            src += dh * in.w;
                        }
                    }
                }
                int8_t *op = output + ((b * out.h + y) * out.w + x) * OC;
                for (int32_t o = 0; o < OC; o += 4) {
                    /* a partial last group is the last four channels, storing only the new ones */
                    const int32_t base = OC - o >= 4 ? o : OC - 4;
                    const int32x4_t v = vaddq_s32(mve_dot4(patch, wt + base * Lp, Lp, Lp), vldrwq_s32(corr + base));
                    mve_requant_store(v, quant->multiplier + base, quant->shift + base, params->output_offset,
                                      params->act_min, params->act_max, op + base,
                                      (mve_pred16_t)(0xFFFFu << (4 * (o - base))));
                }
            }
        }
    }
}

int32_t mf_depthwise_conv2d_s8_get_buffer_size(const mf_depthwise_conv2d_params *params)
{
    /* the paths that use it (depth multiplier 1, or one input channel): MVE_DW_SCRATCH_WORDS, + 12 bytes to align
     * them to 16 */
    return params->depth_multiplier == 1 || params->input.c == 1 ? MVE_DW_SCRATCH_WORDS * 4 + 12 : 0;
}

void mf_depthwise_conv2d_s8(const mf_depthwise_conv2d_params *params, const mf_per_channel_quant *quant,
                            const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch)
{
    const int32_t need = mf_depthwise_conv2d_s8_get_buffer_size(params);
    if (need > 0 && (scratch == NULL || params->scratch_bytes < need)) {
        dw_multn(params, quant, input, filter, bias, output); /* no scratch (refused for RAM): any multiplier */
        return;
    }
    int32_t *const buf = (int32_t *)(((uintptr_t)scratch + 15) & ~(uintptr_t)15); /* 16-aligned arena scratch */
    if (dw_c1_fits(params)) {
        dw_c1(params, quant, input, filter, bias, buf, output);
    } else if (dw_c1big_fits(params)) {
        dw_c1big(params, quant, input, filter, bias, buf, output);
    } else if (dw3_fits(params, quant)) {
        dw3_c16(params, quant, input, filter, bias, buf, output);
    } else if (params->depth_multiplier == 1) {
        dw_mult1(params, quant, input, filter, bias, buf, output);
    } else if (params->depth_multiplier % 4 == 0) {
        dw_mult4(params, quant, input, filter, bias, output);
    } else {
        dw_multn(params, quant, input, filter, bias, output);
    }
}
