/**
 * @file arm_mve/mf_conv2d_s8.c
 * @brief Cortex-M55 Helium (MVE) variant of mf_conv2d_s8, bit-exact with runtime_c/kernels/mf_conv2d_s8.c.
 *
 * Specialised: groups == 1 and dilation_w == 1 (any filter size, stride, padding, dilation_h, batch). For each
 * output pixel and each valid filter row, the taps kx0..kx1 of that row are ONE contiguous span of
 * (kx1 - kx0) * C_in bytes in both the input (NHWC) and the filter (OHWI), so the whole row is a dot product:
 * 16 int8 MACs per VMLADAVA.S8, four output channels per pass sharing each input vector, the span's tail
 * by a VCTP.8-predicated load. A 1x1 convolution is the same loop with a single span of C_in bytes.
 * The input offset is folded out: sum((x + off) * w) = sum(x * w) + off * sum(w); bias + off * sum(w) over the
 * whole filter is computed once per call (scratch, up to MVE_CORR_MAX channels); border pixels (and channels
 * beyond MVE_CORR_MAX) sum their valid weights on the fly with VADDVA.
 * Requantization: four channels at a time with VQRDMULH (== SaturatingRoundingDoublingHighMul) and a
 * sign-fixed VRSHL (== RoundingDivideByPOT, ties away from zero), bit-exact with mf_requantize.
 * Outputs are written pixel by pixel, channel by channel (the reference's order), so in-place plans hold.
 * Stack: ONE 2 KB scratch (MVE_SCRATCH_WORDS int32) declared in mf_conv2d_s8 and passed down as a pointer;
 * corr[] takes its first C_out words (<= 256), each path carves its tables from it (checked against its
 * capacity; a path whose tables do not fit is not chosen): no other stack buffer.
 * Paths, in dispatch order (none needs a left shift unless said; "group" = four output channels):
 *  - conv_window: KH * KW > 1, KH * KW * C_in <= 32 bytes spanning <= 256 input bytes, C_out 4..64 (..56 for
 *    windows of 17..32 bytes): two byte gathers per pixel (padding taps = the input zero point), 1 or 2
 *    VMLADAVA.S8 per channel against a filter copy in the scratch (16 or 32 bytes per channel). Any shift.
 *    ResNet-8's first layer (3x3, RGB -> 16): 0.59 instructions/MAC.
 *  - conv_patch (im2col): KH * KW > 1, dilation_w 1, L = KH * KW * C_in > 16 and (L <= 64, or L % 16 == 0 with
 *    12 C_out + L + 48 <= 2048): per pixel the window is copied into an L-byte patch (one vector copy per filter
 *    row; border pixels: zero point first, then the taps inside). C_out % 4 == 0 without left shift: L <= 64:
 *    patch_run, the patch in q registers, per group 8 ceil(L/16) + 22 instructions (L % 16 == 0: 8 L/16 + 18);
 *    L > 64: patch_mem_run, a DLS/LE loop per group, 10 L/16 + 26. Otherwise mve_dot4 over the patch per group.
 *    DS-CNN's 10x4x1 first layer 2.55 -> 0.37, ResNet-8's 3x3 over 16/32/64 channels 0.48-0.30 -> 0.26-0.20.
 *  - pointwise (1x1, no padding): C_in 8 stride 1 (C_out <= 64): pw8_layer, the whole layer in one asm block
 *    (80-byte block per group in the scratch); C_in 8/16/32: pw_small (24-32 per group); 16 < C_in <= 64:
 *    patch_run on the pixel in place (DS-CNN 64 -> 64: 0.36 -> 0.22); C_in % 16 == 0 > 64 (C_out <= 168):
 *    patch_mem_run on the pixel in place (person_detect 128 -> 128: 0.27 -> 0.24); else the mve_dot4 loop.
 *  - the rest (groups == 1, dilation_w 1): per pixel and valid filter row one mve_dot4 span per group.
 *  - grouped or dilation_w > 1 outside the window path: a copy of the reference loop.
 */
#include "mf_arm_mve_build.h" /* first: how this file is built */

#include "mf_conv2d_s8.h"

#include <arm_mve.h>

#include "mf_requant.h"

#define MVE_CORR_MAX 256
#define MVE_SCRATCH_WORDS 512 /* the arena scratch (mf_conv2d_s8_get_buffer_size): 2 KB, + 12 B to align it */

#include "mf_arm_mve_common.h"

/* Requantize four full lanes (no predicate); `left`: some shift > 0 in this call. */
static inline void mve_requant_store_full(int32x4_t acc, const int32_t *mult, const int32_t *shift, int left,
                                          int32_t out_off, int32x4_t lo, int32x4_t hi, int8_t *out)
{
    int32x4_t right = vldrwq_s32(shift);
    if (left) {
        const int32x4_t zero = vdupq_n_s32(0);
        acc = vshlq_s32(acc, vmaxq_s32(right, zero));
        right = vminq_s32(right, zero);
    }
    int32x4_t x = vqrdmulhq_s32(acc, vldrwq_s32(mult));
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right), 31));
    x = vrshlq_s32(x, right);
    x = vaddq_n_s32(x, out_off);
    x = vminq_s32(vmaxq_s32(x, lo), hi);
    vstrbq_s32(out, x);
}

/* Small-C_in pointwise (C_in = 8, 16 or 32, C_out % 4 == 0, every shift <= 0): one asm loop per pixel over
 * the groups of four output channels, the pixel's input held in q0 (and q6), the filters read sequentially
 * (OHWI rows of C_in bytes are contiguous), non-accumulating VMLADAV for the first vector, then the group's
 * requantization (corr, multiplier, shift loaded with post-increment) and a 4-byte store. Per group:
 * 24 instructions at C_in 8 or 16, 32 at C_in 32. */
#define PW_REQUANT_STORE                                                                                             \
    "vmov q1[2], q1[0], r0, r10\n\t"                                                                                  \
    "vmov q1[3], q1[1], r8, r12\n\t"                                                                                  \
    "vldrw.u32 q2, [%[corr]], #16\n\t"                                                                               \
    "vadd.i32 q1, q1, q2\n\t"                                                                                        \
    "vldrw.u32 q2, [%[mult]], #16\n\t"                                                                               \
    "vqrdmulh.s32 q1, q1, q2\n\t"                                                                                    \
    "vldrw.u32 q3, [%[shift]], #16\n\t"                                                                              \
    "vand q2, q1, q3\n\t"                                                                                            \
    "vshr.s32 q2, q2, #31\n\t"                                                                                       \
    "vqadd.s32 q1, q1, q2\n\t"                                                                                       \
    "vrshl.s32 q1, q1, q3\n\t"                                                                                       \
    "vadd.i32 q1, q1, %[off]\n\t"                                                                                    \
    "vmax.s32 q1, q1, %q[lo]\n\t"                                                                                    \
    "vmin.s32 q1, q1, %q[hi]\n\t"                                                                                    \
    "vstrb.32 q1, [%[out]], #4\n\t"                                                                                  \
    "le lr, 1b\n"

#define PW_OPERANDS                                                                                                  \
    : [w] "+l"(w), [corr] "+r"(corr), [mult] "+r"(mult), [shift] "+r"(shift), [out] "+l"(out), "=&r"(a0),        \
      "=&r"(a1), "=&r"(a2), "=&r"(a3)                                                                             \
    : [groups] "r"(groups), [off] "r"(out_off), [lo] "w"(lo), [hi] "w"(hi), [x] "l"(x)                             \
    : "q0", "q1", "q2", "q3", "q6", "lr", "memory"

static void pw_small(const int8_t *x, const int8_t *w, int32_t cin, int32_t groups, const int32_t *corr,
                     const int32_t *mult, const int32_t *shift, int32_t out_off, int32x4_t lo, int32x4_t hi,
                     int8_t *out)
{
    register int32_t a0 __asm__("r0");
    register int32_t a1 __asm__("r8");
    register int32_t a2 __asm__("r10");
    register int32_t a3 __asm__("r12");
    if (cin == 8) {
        __asm__ volatile("vldrb.s16 q0, [%[x]]\n\t"
                         "dls lr, %[groups]\n"
                         "1:\n\t"
                         "vldrb.s16 q1, [%[w]], #8\n\t"
                         "vmladav.s16 r0, q0, q1\n\t"
                         "vldrb.s16 q1, [%[w]], #8\n\t"
                         "vmladav.s16 r8, q0, q1\n\t"
                         "vldrb.s16 q1, [%[w]], #8\n\t"
                         "vmladav.s16 r10, q0, q1\n\t"
                         "vldrb.s16 q1, [%[w]], #8\n\t"
                         "vmladav.s16 r12, q0, q1\n\t" PW_REQUANT_STORE PW_OPERANDS);
    } else if (cin == 16) {
        __asm__ volatile("vldrb.u8 q0, [%[x]]\n\t"
                         "dls lr, %[groups]\n"
                         "1:\n\t"
                         "vldrb.u8 q1, [%[w]], #16\n\t"
                         "vmladav.s8 r0, q0, q1\n\t"
                         "vldrb.u8 q1, [%[w]], #16\n\t"
                         "vmladav.s8 r8, q0, q1\n\t"
                         "vldrb.u8 q1, [%[w]], #16\n\t"
                         "vmladav.s8 r10, q0, q1\n\t"
                         "vldrb.u8 q1, [%[w]], #16\n\t"
                         "vmladav.s8 r12, q0, q1\n\t" PW_REQUANT_STORE PW_OPERANDS);
    } else { /* 32 */
        __asm__ volatile("vldrb.u8 q0, [%[x]]\n\t"
                         "vldrb.u8 q6, [%[x], #16]\n\t"
                         "dls lr, %[groups]\n"
                         "1:\n\t"
                         "vldrb.u8 q1, [%[w]], #16\n\t"
                         "vmladav.s8 r0, q0, q1\n\t"
                         "vldrb.u8 q1, [%[w]], #16\n\t"
                         "vmladava.s8 r0, q6, q1\n\t"
                         "vldrb.u8 q1, [%[w]], #16\n\t"
                         "vmladav.s8 r8, q0, q1\n\t"
                         "vldrb.u8 q1, [%[w]], #16\n\t"
                         "vmladava.s8 r8, q6, q1\n\t"
                         "vldrb.u8 q1, [%[w]], #16\n\t"
                         "vmladav.s8 r10, q0, q1\n\t"
                         "vldrb.u8 q1, [%[w]], #16\n\t"
                         "vmladava.s8 r10, q6, q1\n\t"
                         "vldrb.u8 q1, [%[w]], #16\n\t"
                         "vmladav.s8 r12, q0, q1\n\t"
                         "vldrb.u8 q1, [%[w]], #16\n\t"
                         "vmladava.s8 r12, q6, q1\n\t" PW_REQUANT_STORE PW_OPERANDS);
    }
    (void)a0;
    (void)a1;
    (void)a2;
    (void)a3;
}

/* Every pixel of a small-C_in 1x1 layer through pw_small; not inlined: the asm needs most registers. */
__attribute__((noinline)) static void pw_small_layer(const mf_conv2d_params *params, const mf_per_channel_quant *quant,
                                                     const int8_t *input, const int8_t *filter, const int32_t *corr,
                                                     int8_t *output)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t cin = in.c;
    const int32_t cout = out.c;
    const int32x4_t lo = vdupq_n_s32(params->act_min);
    const int32x4_t hi = vdupq_n_s32(params->act_max);
    const int32_t step = params->stride_w * cin;
    int8_t *out_px = output;
    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t y = 0; y < out.h; ++y) {
            const int8_t *in_px = input + ((b * in.h + y * params->stride_h) * in.w) * cin;
            for (int32_t x = 0; x < out.w; ++x) {
                pw_small(in_px, filter, cin, cout / 4, corr, quant->multiplier, quant->shift, params->output_offset,
                         lo, hi, out_px);
                in_px += step;
                out_px += cout;
            }
        }
    }
}

/* C_in 8, stride 1 (the layer's pixels contiguous), C_out % 4 == 0 and <= PW8_MAX_COUT, no left shift: every
 * pixel of the layer in ONE asm block, no per-pixel call. Per group of four output channels a stack block of
 * 80 bytes: their 4 x 8 filter bytes, corr[4], multiplier[4], shift[4], walked by one post-incremented pointer.
 * 24 instructions per group + 5 per pixel (person_detect's third layer: 0.98 -> ~0.78 instructions/MAC). */
#define PW8_MAX_COUT 64 /* scratch: 16 blocks x 80 bytes = 1280 bytes after corr */

static void __attribute__((noinline)) pw8_layer(const int8_t *x, const int32_t *blk, int8_t *out, int32_t npix,
                                                int32_t groups, int32_t out_off, int32x4_t lo, int32x4_t hi)
{
    const int32_t *p;
    __asm__ volatile("1:\n\t"
                     "vldrb.s16 q0, [%[x]], #8\n\t"
                     "mov %[p], %[blk]\n\t"
                     "dls lr, %[groups]\n"
                     "2:\n\t"
                     "vldrb.s16 q1, [%[p]], #8\n\t"
                     "vmladav.s16 r0, q0, q1\n\t"
                     "vldrb.s16 q1, [%[p]], #8\n\t"
                     "vmladav.s16 r8, q0, q1\n\t"
                     "vldrb.s16 q1, [%[p]], #8\n\t"
                     "vmladav.s16 r10, q0, q1\n\t"
                     "vldrb.s16 q1, [%[p]], #8\n\t"
                     "vmladav.s16 r12, q0, q1\n\t"
                     "vmov q1[2], q1[0], r0, r10\n\t"
                     "vmov q1[3], q1[1], r8, r12\n\t"
                     "vldrw.u32 q2, [%[p]], #16\n\t"
                     "vadd.i32 q1, q1, q2\n\t"
                     "vldrw.u32 q2, [%[p]], #16\n\t"
                     "vqrdmulh.s32 q1, q1, q2\n\t"
                     "vldrw.u32 q3, [%[p]], #16\n\t"
                     "vand q2, q1, q3\n\t"
                     "vshr.s32 q2, q2, #31\n\t"
                     "vqadd.s32 q1, q1, q2\n\t"
                     "vrshl.s32 q1, q1, q3\n\t"
                     "vadd.i32 q1, q1, %[off]\n\t"
                     "vmax.s32 q1, q1, %q[lo]\n\t"
                     "vmin.s32 q1, q1, %q[hi]\n\t"
                     "vstrb.32 q1, [%[out]], #4\n\t"
                     "le lr, 2b\n\t"
                     "subs %[n], #1\n\t"
                     "bne 1b\n"
                     : [x] "+l"(x), [out] "+l"(out), [n] "+r"(npix), [p] "=&l"(p)
                     : [blk] "r"(blk), [groups] "r"(groups), [off] "r"(out_off), [lo] "w"(lo), [hi] "w"(hi)
                     : "r0", "r8", "r10", "r12", "lr", "q0", "q1", "q2", "q3", "cc", "memory");
    (void)p;
}

static void __attribute__((noinline)) pw8(const mf_conv2d_params *params, const mf_per_channel_quant *quant,
                                         const int8_t *input, const int8_t *filter, int32_t *corr,
                                         int8_t *output)
{
    const int32_t cout = params->output.c;
    int32_t *blk = corr + PW8_MAX_COUT; /* the scratch after corr: PW8_MAX_COUT / 4 * 20 words */
    for (int32_t g = 0; g < cout / 4; ++g) {
        int32_t *b = blk + 20 * g;
        int8_t *wb = (int8_t *)b;
        for (int32_t i = 0; i < 32; ++i) {
            wb[i] = filter[32 * g + i];
        }
        for (int32_t k = 0; k < 4; ++k) {
            b[8 + k] = corr[4 * g + k];
            b[12 + k] = quant->multiplier[4 * g + k];
            b[16 + k] = quant->shift[4 * g + k];
        }
    }
    const mf_dims out = params->output;
    pw8_layer(input, blk, output, out.n * out.h * out.w, cout / 4, params->output_offset,
              vdupq_n_s32(params->act_min), vdupq_n_s32(params->act_max));
}

static void patch_run(const int8_t *f, const int8_t *rest, const int8_t *w, const int32_t *blk, int8_t *out, int32_t nv,
                      int32_t r, const int32_t *ctx);
static const int32_t *build_blk(int32_t *scratch, const mf_per_channel_quant *quant, int32_t cout);
static void patch_mem_run(const int8_t *w, const int32_t *blk, int8_t *out, const int32_t *ctx);

/* Pointwise, C_in % 16 == 0 and > 64, C_out % 4 == 0 (<= 168: the blocks fit the scratch), no left shift: each
 * pixel read in place through patch_mem_run (10 C_in / 16 + 26 instructions per group of four channels). */
static void __attribute__((noinline)) pw_mem_layer(const mf_conv2d_params *params, const mf_per_channel_quant *quant,
                                                   const int8_t *input, const int8_t *filter, int32_t *scratch,
                                                   int8_t *output)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t cin = in.c;
    const int32_t cout = out.c;
    const int32_t *blk = build_blk(scratch, quant, cout);
    int32_t ctx[7] = {0, cin, cin / 16, params->output_offset, params->act_min, params->act_max, 0};
    const int32_t step = params->stride_w * cin;
    int8_t *out_px = output;
    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t y = 0; y < out.h; ++y) {
            const int8_t *px = input + ((b * in.h + y * params->stride_h) * in.w) * cin;
            for (int32_t x = 0; x < out.w; ++x) {
                ctx[0] = (int32_t)(uintptr_t)px;
                ctx[6] = (int32_t)(uintptr_t)(out_px + cout);
                patch_mem_run(filter, blk, out_px, ctx);
                px += step;
                out_px += cout;
            }
        }
    }
}

/* Pointwise, 16 < C_in <= 64 (not 32), C_out % 4 == 0, no left shift: each pixel's C_in bytes are a patch
 * (see conv_patch) read in place, through patch_run (per group of four channels 8 nv + 18 instructions when
 * C_in % 16 == 0, else 8 nv + 22). scratch: corr[cout] in, expanded into the per-group blocks; 16 bytes at its
 * end for the first vector when C_in % 16 != 0. */
static void __attribute__((noinline)) pw_patch_layer(const mf_conv2d_params *params, const mf_per_channel_quant *quant,
                                                     const int8_t *input, const int8_t *filter, int32_t *scratch,
                                                     int8_t *output)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t cin = in.c;
    const int32_t cout = out.c;
    const int32_t nv = (cin + 15) / 16;
    const int32_t r = cin - 16 * (nv - 1);
    const int32_t ctx[4] = {params->act_min, params->act_max, params->output_offset, cout / 4};
    const int32_t *blk = build_blk(scratch, quant, cout);
    int8_t *first = (int8_t *)(scratch + MVE_SCRATCH_WORDS - 4);
    const mve_pred16_t pfirst = vctp8q((uint32_t)r);
    const int32_t step = params->stride_w * cin;
    int8_t *out_px = output;
    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t y = 0; y < out.h; ++y) {
            const int8_t *px = input + ((b * in.h + y * params->stride_h) * in.w) * cin;
            for (int32_t x = 0; x < out.w; ++x) {
                const int8_t *f = px;
                if (r < 16) {
                    vst1q_s8(first, vldrbq_z_s8(px, pfirst));
                    f = first;
                }
                patch_run(f, px + r, filter, blk, out_px, nv, r, ctx);
                px += step;
                out_px += cout;
            }
        }
    }
}

/* 1x1 filter, every pixel's single tap inside the input (no padding): a matrix product of pixels x C_in by
 * C_in x C_out, with corr[] = bias + off * sum(w) covering every channel (corr: the start of the scratch). */
static void __attribute__((noinline)) pw_dot_layer(const mf_conv2d_params *params, const mf_per_channel_quant *quant,
                                               const int8_t *input, const int8_t *filter, int32_t *corr, int left,
                                               int8_t *output)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t cin = in.c;
    const int32_t cout = out.c;
    const int32x4_t lo = vdupq_n_s32(params->act_min);
    const int32x4_t hi = vdupq_n_s32(params->act_max);
    const int32_t out_off = params->output_offset;
    const int32_t *mult = quant->multiplier;
    const int32_t *shift = quant->shift;
    int8_t *out_px = output;
    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t y = 0; y < out.h; ++y) {
            const int8_t *in_row = input + ((b * in.h + y * params->stride_h) * in.w) * cin;
            for (int32_t x = 0; x < out.w; ++x) {
                const int8_t *in_px = in_row + x * params->stride_w * cin;
                int32_t o = 0;
                for (; o + 4 <= cout; o += 4) {
                    const int32x4_t v = vaddq_s32(mve_dot4(in_px, filter + o * cin, cin, cin), vldrwq_s32(corr + o));
                    mve_requant_store_full(v, mult + o, shift + o, left, out_off, lo, hi, out_px + o);
                }
                if (o < cout) { /* the last four channels, storing only the new ones */
                    const int32_t base = cout - 4;
                    const int32x4_t v = vaddq_s32(mve_dot4(in_px, filter + base * cin, cin, cin),
                                                  vldrwq_s32(corr + base));
                    const mve_pred16_t p = (mve_pred16_t)(0xFFFFu << (4 * (o - base)));
                    mve_requant_store(v, mult + base, shift + base, out_off, params->act_min, params->act_max,
                                      out_px + base, p);
                }
                out_px += cout;
            }
        }
    }
}

static void __attribute__((noinline)) conv_1x1(const mf_conv2d_params *params, const mf_per_channel_quant *quant,
                                               const int8_t *input, const int8_t *filter, int32_t *corr, int left,
                                               int8_t *output)
{
    const mf_dims in = params->input;
    const mf_dims out = params->output;
    const int32_t cin = in.c;
    const int32_t cout = out.c;
    if (!left && cout % 4 == 0 && cin == 8 && cout <= PW8_MAX_COUT && params->stride_h == 1 &&
        params->stride_w == 1 && out.h == in.h && out.w == in.w) {
        pw8(params, quant, input, filter, corr, output);
        return;
    }
    if (!left && cout % 4 == 0 && (cin == 8 || cin == 16 || cin == 32)) {
        pw_small_layer(params, quant, input, filter, corr, output);
        return;
    }
    if (!left && cout % 4 == 0 && cin > 16 && cin <= 64 && 3 * cout + 4 <= MVE_SCRATCH_WORDS) {
        pw_patch_layer(params, quant, input, filter, corr, output);
        return;
    }
    if (!left && cout % 4 == 0 && cin > 64 && cin % 16 == 0 && 3 * cout <= MVE_SCRATCH_WORDS) {
        pw_mem_layer(params, quant, input, filter, corr, output);
        return;
    }
    pw_dot_layer(params, quant, input, filter, corr, left, output);
}

/* Small windows: groups == 1, KH * KW > 1, the whole window (KH * KW * C_in <= 32 bytes, e.g. a 3x3 RGB first
 * layer: 27 bytes) gathered per output pixel by two VLDRB.S8 byte gathers (8-bit offsets: the window must span
 * <= 256 input bytes) into q registers, then two VMLADAVA.S8 per output channel against a stack copy of the filter
 * laid out as 32 bytes per channel (16 for windows of <= 16 bytes: one VMLADAVA), zero-padded, in the scratch
 * after corr (up to 56 channels at 32 bytes, WIN_MAX_COUT at 16). Lanes beyond the window read
 * offset 0 against zero weights. Taps outside the input (padding) are predicated off the gather and replaced by
 * the input zero point (-input_offset), whose (x + off) * w is 0: every pixel, border or not, then uses the same
 * corr[] = bias + off * sum(w). Requantization per four channels as elsewhere; outputs pixel by pixel, channel
 * by channel. */
#define WIN_MAX_COUT 64
#define WIN_BYTES 32

/* {dot(v, w[0..32)), dot(v, w[32..64)), dot(v, w[64..96)), dot(v, w[96..128))} with v = v0:v1 */
static inline int32x4_t win_dot4(int8x16_t v0, int8x16_t v1, const int8_t *w)
{
    int32_t a0 = vmladavq_s8(v0, vld1q_s8(w));
    int32_t a1 = vmladavq_s8(v0, vld1q_s8(w + 32));
    int32_t a2 = vmladavq_s8(v0, vld1q_s8(w + 64));
    int32_t a3 = vmladavq_s8(v0, vld1q_s8(w + 96));
    a0 = vmladavaq_s8(a0, v1, vld1q_s8(w + 16));
    a1 = vmladavaq_s8(a1, v1, vld1q_s8(w + 48));
    a2 = vmladavaq_s8(a2, v1, vld1q_s8(w + 80));
    a3 = vmladavaq_s8(a3, v1, vld1q_s8(w + 112));
    int32x4_t acc = vdupq_n_s32(a0);
    acc = vsetq_lane_s32(a1, acc, 1);
    acc = vsetq_lane_s32(a2, acc, 2);
    return vsetq_lane_s32(a3, acc, 3);
}

/* {dot(v, w[0..16)), dot(v, w[16..32)), dot(v, w[32..48)), dot(v, w[48..64))}: windows of <= 16 bytes */
static inline int32x4_t win_dot4_16(int8x16_t v, const int8_t *w)
{
    int32x4_t acc = vdupq_n_s32(vmladavq_s8(v, vld1q_s8(w)));
    acc = vsetq_lane_s32(vmladavq_s8(v, vld1q_s8(w + 16)), acc, 1);
    acc = vsetq_lane_s32(vmladavq_s8(v, vld1q_s8(w + 32)), acc, 2);
    return vsetq_lane_s32(vmladavq_s8(v, vld1q_s8(w + 48)), acc, 3);
}

/* filter bytes per output channel in conv_window's copy */
static inline int32_t win_row(const mf_dims fd)
{
    return fd.h * fd.w * fd.c <= 16 ? 16 : WIN_BYTES;
}

/* lanes whose filter row is in [ky0, ky1) and column in [kx0, kx1) */
static inline mve_pred16_t win_valid(uint8x16_t kyv, uint8x16_t kxv, int32_t ky0, int32_t ky1, int32_t kx0,
                                     int32_t kx1)
{
    mve_pred16_t p = vcmpcsq_n_u8(kyv, (uint8_t)ky0);
    p = vcmphiq_m_u8(vdupq_n_u8((uint8_t)ky1), kyv, p);
    p = vcmpcsq_m_n_u8(kxv, (uint8_t)kx0, p);
    return vcmphiq_m_u8(vdupq_n_u8((uint8_t)kx1), kxv, p);
}

static int win_fits(const mf_conv2d_params *params)
{
    const mf_dims in = params->input;
    const mf_dims fd = params->filter;
    const int32_t span = (fd.h - 1) * params->dilation_h * in.w * in.c + (fd.w - 1) * params->dilation_w * in.c +
                         in.c - 1;
    /* scratch: corr[cout], then the filter copy */
    const int32_t cout = params->output.c;
    return fd.c == in.c && fd.h * fd.w > 1 && fd.h * fd.w * fd.c <= WIN_BYTES && cout <= WIN_MAX_COUT &&
           span <= 255 && cout + cout * win_row(fd) / 4 <= MVE_SCRATCH_WORDS;
}

static inline __attribute__((always_inline)) void conv_window_wb(const mf_conv2d_params *params,
                                                                  const mf_per_channel_quant *quant,
                                                                  const int8_t *input, const int8_t *filter,
                                                                  int32_t *corr, int left, int8_t *output,
                                                                  const int32_t wb)
{
    const mf_dims in = params->input;
    const mf_dims fd = params->filter;
    const mf_dims out = params->output;
    const int32_t cin = in.c;
    const int32_t cout = out.c;
    const int32_t wstride = fd.h * fd.w * cin;
    const int32_t in_row = in.w * cin;
    const int32_t dh = params->dilation_h;
    const int32_t dw = params->dilation_w;
    const int32_t out_off = params->output_offset;
    const int32x4_t lo = vdupq_n_s32(params->act_min);
    const int32x4_t hi = vdupq_n_s32(params->act_max);
    const int8x16_t zp = vdupq_n_s8((int8_t)(-params->input_offset));

    int8_t *wst = (int8_t *)(corr + cout); /* the scratch after corr: wb bytes per channel */
    for (int32_t o = 0; o < cout; ++o) {
        for (int32_t i = 0; i < wb; ++i) {
            wst[o * wb + i] = i < wstride ? filter[o * wstride + i] : 0;
        }
    }
    /* per lane: byte offset in the window, filter row ky and column kx (255: beyond the window, never valid) */
    uint8_t offs[WIN_BYTES], kys[WIN_BYTES], kxs[WIN_BYTES];
    for (int32_t i = 0; i < WIN_BYTES; ++i) {
        const int32_t ky = i / (fd.w * cin);
        const int32_t kx = i / cin % fd.w;
        const int inside = i < wstride;
        offs[i] = (uint8_t)(inside ? ky * dh * in_row + kx * dw * cin + i % cin : 0);
        kys[i] = (uint8_t)(inside ? ky : 255);
        kxs[i] = (uint8_t)(inside ? kx : 255);
    }
    const uint8x16_t off0 = vld1q_u8(offs), off1 = vld1q_u8(offs + 16);
    const uint8x16_t ky_0 = vld1q_u8(kys), ky_1 = vld1q_u8(kys + 16);
    const uint8x16_t kx_0 = vld1q_u8(kxs), kx_1 = vld1q_u8(kxs + 16);
    const int32_t *mult = quant->multiplier;
    const int32_t *shift = quant->shift;

    int8_t *out_px = output;
    for (int32_t b = 0; b < out.n; ++b) {
        /* addresses as integers: a border window starts before the input (its lanes there are predicated off) */
        const uintptr_t in_b = (uintptr_t)input + (uintptr_t)(b * in.h * in_row);
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            int32_t ky0 = 0;
            while (ky0 < fd.h && y0 + ky0 * dh < 0) {
                ++ky0;
            }
            int32_t ky1 = fd.h;
            while (ky1 > ky0 && y0 + (ky1 - 1) * dh >= in.h) {
                --ky1;
            }
            for (int32_t x = 0; x < out.w; ++x) {
                const int32_t x0 = x * params->stride_w - params->pad_w;
                int32_t kx0 = 0;
                while (kx0 < fd.w && x0 + kx0 * dw < 0) {
                    ++kx0;
                }
                int32_t kx1 = fd.w;
                while (kx1 > kx0 && x0 + (kx1 - 1) * dw >= in.w) {
                    --kx1;
                }
                const int8_t *base = (const int8_t *)(in_b + (uintptr_t)(intptr_t)(y0 * in_row + x0 * cin));
                int8x16_t v0, v1;
                if (ky0 == 0 && ky1 == fd.h && kx0 == 0 && kx1 == fd.w) {
                    v0 = vldrbq_gather_offset_s8(base, off0);
                    v1 = wb == 16 ? v0 : vldrbq_gather_offset_s8(base, off1);
                } else { /* padding taps: the input zero point, (x + off) * w == 0 */
                    mve_pred16_t p = win_valid(ky_0, kx_0, ky0, ky1, kx0, kx1);
                    v0 = vpselq_s8(vldrbq_gather_offset_z_s8(base, off0, p), zp, p);
                    v1 = v0;
                    if (wb != 16) {
                        p = win_valid(ky_1, kx_1, ky0, ky1, kx0, kx1);
                        v1 = vpselq_s8(vldrbq_gather_offset_z_s8(base, off1, p), zp, p);
                    }
                }
                int32_t o = 0;
                if (wb == 16) {
                    for (; o + 4 <= cout; o += 4) {
                        const int32x4_t acc = vaddq_s32(win_dot4_16(v0, wst + o * 16), vldrwq_s32(corr + o));
                        mve_requant_store_full(acc, mult + o, shift + o, left, out_off, lo, hi, out_px + o);
                    }
                } else {
                    for (; o + 4 <= cout; o += 4) {
                        const int32x4_t acc = vaddq_s32(win_dot4(v0, v1, wst + o * WIN_BYTES), vldrwq_s32(corr + o));
                        mve_requant_store_full(acc, mult + o, shift + o, left, out_off, lo, hi, out_px + o);
                    }
                }
                if (o < cout) { /* the last four channels, storing only the new ones */
                    const int32_t b4 = cout - 4;
                    const int32x4_t acc = vaddq_s32(wb == 16 ? win_dot4_16(v0, wst + b4 * 16)
                                                             : win_dot4(v0, v1, wst + b4 * WIN_BYTES),
                                                    vldrwq_s32(corr + b4));
                    const mve_pred16_t p = (mve_pred16_t)(0xFFFFu << (4 * (o - b4)));
                    mve_requant_store(acc, mult + b4, shift + b4, out_off, params->act_min, params->act_max,
                                      out_px + b4, p);
                }
                out_px += cout;
            }
        }
    }
}

static void __attribute__((noinline)) conv_window(const mf_conv2d_params *params, const mf_per_channel_quant *quant,
                                                  const int8_t *input, const int8_t *filter, int32_t *corr,
                                                  int left, int8_t *output)
{
    if (win_row(params->filter) == 16) {
        conv_window_wb(params, quant, input, filter, corr, left, output, 16);
    } else {
        conv_window_wb(params, quant, input, filter, corr, left, output, WIN_BYTES);
    }
}

/* Patches (im2col): groups == 1, dilation_w == 1, KH * KW > 1 and L = KH * KW * C_in <= PATCH_MAX bytes (e.g. DS-CNN's
 * 10x4 first layer on one channel: 40 bytes; a 3x3 RGB first layer: 27). Per output pixel the window is copied
 * into a contiguous L-byte patch in the filter's OHWI order (one predicated vector copy per filter row; taps
 * outside the input hold the input zero point, whose (x + off) * w is 0, so every pixel adds the same
 * corr[] = bias + off * sum(w)), held in nv = ceil(L / 16) q registers: q0 = the first r = L - 16 (nv - 1) bytes
 * (lanes >= r zero), q1.. = the following full vectors. Each output channel is nv VMLADAVA.S8 against its filter
 * read in place (first vector at w: bytes [r, 16) meet the zero lanes; then w + r, w + r + 16, ..), so one
 * 16-byte load per 16 MACs and no filter copy. patch_run: one asm block per pixel over the groups of four
 * channels (C_out % 4 == 0, no left shift): accumulators start at corr, requantization and store in the block;
 * per group 8 nv + 22 instructions (r == 16: 8 nv + 18). Otherwise the mve_dot4 loop over the patch in memory.
 * Scratch: 4 corr + 12 block bytes per output channel, 96 patch bytes. */
#define PATCH_MAX 64

static int patch_fits(const mf_conv2d_params *params)
{
    const mf_dims fd = params->filter;
    const int32_t L = fd.h * fd.w * fd.c;
    return fd.c == params->input.c && params->dilation_w == 1 && fd.h * fd.w > 1 && L > 16 &&
           (L <= PATCH_MAX || (L % 16 == 0 && 12 * params->output.c + L + 48 <= 4 * MVE_SCRATCH_WORDS)) &&
           params->output.c >= 4;
}

/* one channel: its first vector (bytes [r, 16) meet zero lanes of q0; r == 16: post-increment), the others */
#define PT_CH1(acc) "vldrb.8 q4, [%[w]]\n\tadd %[w], %[r]\n\tvmladava.s8 " acc ", q0, q4\n\t"
#define PT_CH1F(acc) "vldrb.8 q4, [%[w]], #16\n\tvmladava.s8 " acc ", q0, q4\n\t"
#define PT_CHK(acc, q) "vldrb.8 q4, [%[w]], #16\n\tvmladava.s8 " acc ", " q ", q4\n\t"
#define PT_CHAN2(first, acc) first(acc) PT_CHK(acc, "q1")
#define PT_CHAN3(first, acc) PT_CHAN2(first, acc) PT_CHK(acc, "q2")
#define PT_CHAN4(first, acc) PT_CHAN3(first, acc) PT_CHK(acc, "q3")
#define PT_LOAD2 "vldrb.8 q0, [%[f]]\n\tvldrb.8 q1, [%[rest]]\n\t"
#define PT_LOAD3 PT_LOAD2 "vldrb.8 q2, [%[rest], #16]\n\t"
#define PT_LOAD4 PT_LOAD3 "vldrb.8 q3, [%[rest], #32]\n\t"
#define PT_SETUP                                                                                                      \
    "ldrd %[f], %[rest], [%[ctx]]\n\t"                                                                                \
    "vdup.32 q6, %[f]\n\t"                                                                                            \
    "vdup.32 q7, %[rest]\n\t"                                                                                         \
    "ldrd %[f], %[rest], [%[ctx], #8]\n\t"                                                                            \
    "dls lr, %[rest]\n"                                                                                               \
    "1:\n\t"                                                                                                          \
    "ldrd r0, r2, [%[p]]\n\t"                                                                                         \
    "ldrd r4, r6, [%[p], #8]\n\t"
#define PT_GROUP_TAIL                                                                                                 \
    "vmov q5[2], q5[0], r0, r4\n\t"                                                                                   \
    "vmov q5[3], q5[1], r2, r6\n\t"                                                                                   \
    "vldrw.u32 q4, [%[p], #16]\n\t"                                                                                   \
    "vqrdmulh.s32 q5, q5, q4\n\t"                                                                                     \
    "vldrw.u32 q4, [%[p], #32]\n\t"                                                                                   \
    "vand q4, q5, q4\n\t"                                                                                             \
    "vshr.s32 q4, q4, #31\n\t"                                                                                        \
    "vqadd.s32 q5, q5, q4\n\t"                                                                                        \
    "vldrw.u32 q4, [%[p], #32]\n\t"                                                                                   \
    "vrshl.s32 q5, q5, q4\n\t"                                                                                        \
    "vadd.i32 q5, q5, %[f]\n\t"                                                                                       \
    "vmax.s32 q5, q5, q6\n\t"                                                                                         \
    "vmin.s32 q5, q5, q7\n\t"                                                                                         \
    "vstrb.32 q5, [%[out]], #4\n\t"                                                                                   \
    "adds %[p], #48\n\t"                                                                                              \
    "le lr, 1b\n"
#define PT_GROUPS(load, chan, first)                                                                                  \
    load PT_SETUP chan(first, "r0") chan(first, "r2") chan(first, "r4") chan(first, "r6") PT_GROUP_TAIL
#define PT_OPERANDS                                                                                                   \
    : [w] "+r"(w), [p] "+r"(blk), [out] "+l"(out), [f] "+r"(f), [rest] "+r"(rest)                                       \
    : [r] "r"(r), [ctx] "r"(ctx)                                                                                       \
    : "r0", "r2", "r4", "r6", "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "lr", "memory"

/* f: the first r bytes then zeros (r == 16: the first 16 bytes); rest: the patch from byte r on (only the
 * nv - 1 vectors of the patch are read); ctx: act_min, act_max, output offset, groups of four channels */
static void __attribute__((noinline)) patch_run(const int8_t *f, const int8_t *rest, const int8_t *w,
                                                const int32_t *blk, int8_t *out, int32_t nv, int32_t r,
                                                const int32_t *ctx)
{
    if (r == 16) {
        if (nv == 2) {
            __asm__ volatile(PT_GROUPS(PT_LOAD2, PT_CHAN2, PT_CH1F) PT_OPERANDS);
        } else if (nv == 3) {
            __asm__ volatile(PT_GROUPS(PT_LOAD3, PT_CHAN3, PT_CH1F) PT_OPERANDS);
        } else {
            __asm__ volatile(PT_GROUPS(PT_LOAD4, PT_CHAN4, PT_CH1F) PT_OPERANDS);
        }
    } else if (nv == 2) {
        __asm__ volatile(PT_GROUPS(PT_LOAD2, PT_CHAN2, PT_CH1) PT_OPERANDS);
    } else if (nv == 3) {
        __asm__ volatile(PT_GROUPS(PT_LOAD3, PT_CHAN3, PT_CH1) PT_OPERANDS);
    } else {
        __asm__ volatile(PT_GROUPS(PT_LOAD4, PT_CHAN4, PT_CH1) PT_OPERANDS);
    }
}
#undef PT_CH1
#undef PT_CH1F
#undef PT_CHK
#undef PT_CHAN2
#undef PT_CHAN3
#undef PT_CHAN4
#undef PT_LOAD2
#undef PT_LOAD3
#undef PT_LOAD4
#undef PT_SETUP
#undef PT_GROUP_TAIL
#undef PT_GROUPS
#undef PT_OPERANDS

/* n bytes from src to dst (predicated 16-byte vectors) */
static inline void copy_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n > 0; n -= 16) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        vstrbq_p_s8(dst, vldrbq_z_s8(src, p), p);
        dst += 16;
        src += 16;
    }
}

/* Expand corr[0, cout) at the start of scratch, in place, into the per-group blocks of patch_run: for each
 * group of four channels corr[4], multiplier[4], shift[4] (3 words per channel). Groups are written from the
 * last one down: group g's block only covers corr entries of groups >= g, already read. */
static const int32_t *build_blk(int32_t *scratch, const mf_per_channel_quant *quant, int32_t cout)
{
    for (int32_t g = cout / 4 - 1; g >= 0; --g) {
        const int32x4_t c = vldrwq_s32(scratch + 4 * g);
        vstrwq_s32(scratch + 12 * g, c);
        vstrwq_s32(scratch + 12 * g + 4, vldrwq_s32(quant->multiplier + 4 * g));
        vstrwq_s32(scratch + 12 * g + 8, vldrwq_s32(quant->shift + 4 * g));
    }
    return scratch;
}

/* Long patches in memory (L % 16 == 0, L > 64: e.g. 3x3 over 16+ channels, or a 1x1 pixel of 80+ channels):
 * per group of four channels a DLS/LE loop of L / 16 steps (one patch vector, four filter vectors at stride L,
 * four VMLADAVA.S8), accumulators starting at corr, requantization and store as in patch_run: 10 L / 16 + 26
 * instructions per group. The four filter pointers end each group at the next group's rows (L % 16 == 0).
 * ctx: patch, L, L / 16, output offset, act_min, act_max, end of the pixel's output. */
static void __attribute__((noinline)) patch_mem_run(const int8_t *w, const int32_t *blk, int8_t *out,
                                                    const int32_t *ctx)
{
    const int8_t *x, *w1, *w2, *w3;
    int32_t L;
    __asm__ volatile("ldr %[x], [%[ctx], #12]\n\t"
                     "vdup.32 q5, %[x]\n\t"
                     "ldr %[x], [%[ctx], #16]\n\t"
                     "vdup.32 q6, %[x]\n\t"
                     "ldr %[x], [%[ctx], #20]\n\t"
                     "vdup.32 q7, %[x]\n\t"
                     "ldr %[L], [%[ctx], #4]\n\t"
                     "add %[w1], %[w], %[L]\n\t"
                     "add %[w2], %[w1], %[L]\n\t"
                     "add %[w3], %[w2], %[L]\n"
                     "2:\n\t"
                     "ldrd r0, r2, [%[p]]\n\t"
                     "ldrd r4, r6, [%[p], #8]\n\t"
                     "ldr %[x], [%[ctx]]\n\t"
                     "ldr lr, [%[ctx], #8]\n\t"
                     "dls lr, lr\n"
                     "1:\n\t"
                     "vldrb.8 q0, [%[x]], #16\n\t"
                     "vldrb.8 q1, [%[w]], #16\n\t"
                     "vmladava.s8 r0, q0, q1\n\t"
                     "vldrb.8 q1, [%[w1]], #16\n\t"
                     "vmladava.s8 r2, q0, q1\n\t"
                     "vldrb.8 q1, [%[w2]], #16\n\t"
                     "vmladava.s8 r4, q0, q1\n\t"
                     "vldrb.8 q1, [%[w3]], #16\n\t"
                     "vmladava.s8 r6, q0, q1\n\t"
                     "le lr, 1b\n\t"
                     "vmov q2[2], q2[0], r0, r4\n\t"
                     "vmov q2[3], q2[1], r2, r6\n\t"
                     "vldrw.u32 q3, [%[p], #16]\n\t"
                     "vqrdmulh.s32 q2, q2, q3\n\t"
                     "vldrw.u32 q3, [%[p], #32]\n\t"
                     "vand q4, q2, q3\n\t"
                     "vshr.s32 q4, q4, #31\n\t"
                     "vqadd.s32 q2, q2, q4\n\t"
                     "vrshl.s32 q2, q2, q3\n\t"
                     "vadd.i32 q2, q2, q5\n\t"
                     "vmax.s32 q2, q2, q6\n\t"
                     "vmin.s32 q2, q2, q7\n\t"
                     "vstrb.32 q2, [%[out]], #4\n\t"
                     "adds %[p], #48\n\t"
                     "mov %[w], %[w3]\n\t"
                     "add %[w1], %[w], %[L]\n\t"
                     "add %[w2], %[w1], %[L]\n\t"
                     "add %[w3], %[w2], %[L]\n\t"
                     "ldr %[x], [%[ctx], #24]\n\t"
                     "cmp %[out], %[x]\n\t"
                     "bne 2b\n"
                     : [w] "+l"(w), [p] "+l"(blk), [out] "+l"(out), [x] "=&l"(x), [w1] "=&r"(w1), [w2] "=&r"(w2),
                       [w3] "=&r"(w3), [L] "=&r"(L)
                     : [ctx] "r"(ctx)
                     : "r0", "r2", "r4", "r6", "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "lr", "cc", "memory");
}

typedef struct {
    const int8_t *filter;
    const int32_t *corr;
    const int32_t *mult;
    const int32_t *shift;
    const int32_t *blk; /* per group of four channels: corr[4], multiplier[4], shift[4] (asm path) */
    int8_t *first;      /* 16 bytes: the patch's first r bytes, then zeros */
    int8_t *patch;      /* L contiguous bytes (+ 16 bytes of slack) */
    int32_t L, S, nv, r, kh, row_step, pstep, cout, left, use_asm, use_mem;
    int32_t ctx[4];  /* act_min, act_max, output offset, groups */
    int32_t mctx[7]; /* patch_mem_run's: patch, L, L / 16, output offset, act_min, act_max, end of output */
} patch_ctx;

/* the output channels of the pixel whose patch is in c->patch */
static void patch_emit(patch_ctx *c, int8_t *out)
{
    if (c->use_mem) {
        c->mctx[6] = (int32_t)(uintptr_t)(out + c->cout);
        patch_mem_run(c->filter, c->blk, out, c->mctx);
        return;
    }
    if (c->use_asm) {
        vst1q_s8(c->first, vldrbq_z_s8(c->patch, vctp8q((uint32_t)c->r)));
        patch_run(c->first, c->patch + c->r, c->filter, c->blk, out, c->nv, c->r, c->ctx);
        return;
    }
    const int32x4_t lo = vdupq_n_s32(c->ctx[0]);
    const int32x4_t hi = vdupq_n_s32(c->ctx[1]);
    const int32_t cout = c->cout;
    for (int32_t o = 0; o < cout; o += 4) {
        /* a partial last group is the last four channels, storing only the new ones */
        const int32_t base = cout - o >= 4 ? o : cout - 4;
        const int32x4_t v = vaddq_s32(mve_dot4(c->patch, c->filter + base * c->L, c->L, c->L),
                                      vldrwq_s32(c->corr + base));
        if (base == o) {
            mve_requant_store_full(v, c->mult + base, c->shift + base, c->left, c->ctx[2], lo, hi, out + base);
        } else {
            mve_requant_store(v, c->mult + base, c->shift + base, c->ctx[2], c->ctx[0], c->ctx[1], out + base,
                              (mve_pred16_t)(0xFFFFu << (4 * (o - base))));
        }
    }
}

/* n output pixels whose windows lie inside the input: rows of S <= 16 bytes by one predicated copy each */
static void __attribute__((noinline)) patch_run_pixels(patch_ctx *c, const int8_t *src, int8_t *out, int32_t n)
{
    const int32_t S = c->S;
    const int32_t kh = c->kh;
    const int32_t step = c->row_step;
    const mve_pred16_t p = vctp8q((uint32_t)S);
    for (; n > 0; --n) {
        const int8_t *s = src;
        int8_t *d = c->patch;
        if (S <= 16) {
            for (int32_t ky = kh; ky > 0; --ky) { /* a full-vector store: the next row overwrites the rest */
                vst1q_s8(d, vldrbq_z_s8(s, p));
                s += step;
                d += S;
            }
        } else if (S % 16 == 0) {
            const int32_t nv = S / 16;
            for (int32_t ky = kh; ky > 0; --ky) {
                const int8_t *s1 = s;
                for (int32_t i = nv; i > 0; --i) {
                    vst1q_s8(d, vld1q_s8(s1));
                    d += 16;
                    s1 += 16;
                }
                s += step;
            }
        } else {
            for (int32_t ky = kh; ky > 0; --ky) {
                copy_bytes(d, s, S);
                s += step;
                d += S;
            }
        }
        if (c->use_mem) {
            c->mctx[6] = (int32_t)(uintptr_t)(out + c->cout);
            patch_mem_run(c->filter, c->blk, out, c->mctx);
        } else {
            patch_emit(c, out);
        }
        src += c->pstep;
        out += c->cout;
    }
}

static void __attribute__((noinline)) conv_patch(const mf_conv2d_params *params, const mf_per_channel_quant *quant,
                                                 const int8_t *input, const int8_t *filter, int left,
                                                 int32_t *scratch, int32_t scratch_words, int8_t *output)
{
    const mf_dims in = params->input;
    const mf_dims fd = params->filter;
    const mf_dims out = params->output;
    const int32_t cin = in.c;
    const int32_t cout = out.c;
    const int32_t in_row = in.w * cin;
    const int32_t dh = params->dilation_h;
    const int8_t zp = (int8_t)(-params->input_offset);
    patch_ctx c;
    c.filter = filter;
    c.corr = scratch;
    c.mult = quant->multiplier;
    c.shift = quant->shift;
    c.L = fd.h * fd.w * cin;
    c.S = fd.w * cin;
    c.nv = (c.L + 15) / 16;
    c.r = c.L - 16 * (c.nv - 1);
    c.kh = fd.h;
    c.row_step = dh * in_row;
    c.pstep = params->stride_w * cin;
    c.cout = cout;
    c.left = left;
    c.ctx[0] = params->act_min;
    c.ctx[1] = params->act_max;
    c.ctx[2] = params->output_offset;
    c.ctx[3] = cout / 4;
    /* scratch: corr[cout] (expanded in place into the per-group blocks for the asm), then at its end
     * first[16] and patch[L + 16 slack] (<= 80 bytes) */
    c.first = (int8_t *)(scratch + scratch_words - (c.L + 47) / 16 * 4); /* first[16], patch[L + 16], rounded */
    c.patch = c.first + 16;
    const int32_t buf_words = (c.L + 47) / 16 * 4;
    c.use_mem = !left && cout % 4 == 0 && c.L > PATCH_MAX && c.L % 16 == 0 && 3 * cout + buf_words <= scratch_words;
    c.use_asm = !left && cout % 4 == 0 && c.L <= PATCH_MAX && 3 * cout + buf_words <= scratch_words;
    c.blk = c.use_asm || c.use_mem ? build_blk(scratch, quant, cout) : NULL;
    c.mctx[0] = (int32_t)(uintptr_t)c.patch;
    c.mctx[1] = c.L;
    c.mctx[2] = c.L / 16;
    c.mctx[3] = params->output_offset;
    c.mctx[4] = params->act_min;
    c.mctx[5] = params->act_max;
    for (int32_t i = 0; i < 4 * buf_words; i += 16) {
        vst1q_s8(c.first + i, vdupq_n_s8(0));
    }
    const int32_t L = c.L;
    const int32_t S = c.S;
    int8_t *patch = c.patch;
    /* output columns [xa, xb) have windows inside the input horizontally */
    int32_t xa = (params->pad_w + params->stride_w - 1) / params->stride_w;
    const int32_t last = in.w - fd.w + params->pad_w; /* x * stride_w <= last */
    int32_t xb = last < 0 ? 0 : last / params->stride_w + 1;
    xb = xb > out.w ? out.w : xb;
    xa = xa > xb ? xb : xa;
    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *in_b = input + b * in.h * in_row;
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            int32_t ky0 = 0;
            while (ky0 < fd.h && y0 + ky0 * dh < 0) {
                ++ky0;
            }
            int32_t ky1 = fd.h;
            while (ky1 > ky0 && y0 + (ky1 - 1) * dh >= in.h) {
                --ky1;
            }
            int8_t *out_row = output + ((b * out.h + y) * out.w) * cout;
            for (int32_t x = 0; x < out.w; ++x) {
                if (x == xa && xa < xb && ky0 == 0 && ky1 == fd.h) {
                    patch_run_pixels(&c, in_b + y0 * in_row + (xa * params->stride_w - params->pad_w) * cin,
                                     out_row + xa * cout, xb - xa);
                    x = xb - 1;
                    continue;
                }
                const int32_t x0 = x * params->stride_w - params->pad_w;
                const int32_t kx0 = x0 < 0 ? (-x0 < fd.w ? -x0 : fd.w) : 0;
                const int32_t kx1 = x0 + fd.w > in.w ? (in.w - x0 > kx0 ? in.w - x0 : kx0) : fd.w;
                /* the zero point everywhere, then the taps inside the input */
                for (int32_t i = 0; i < L; i += 16) {
                    vstrbq_p_s8(patch + i, vdupq_n_s8(zp), vctp8q((uint32_t)(L - i)));
                }
                if (kx1 > kx0) {
                    const int8_t *src = in_b + (y0 + ky0 * dh) * in_row + (x0 + kx0) * cin;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        copy_bytes(patch + ky * S + kx0 * cin, src, (kx1 - kx0) * cin);
                        src += dh * in_row;
                    }
                }
                patch_emit(&c, out_row + x * cout);
            }
        }
    }
}

/* A copy of the reference loop for the shapes the vector path does not cover. */
static void conv_generic(const mf_conv2d_params *params, const mf_per_channel_quant *quant, const int8_t *input,
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

int32_t mf_conv2d_s8_get_buffer_size(const mf_conv2d_params *params)
{
    /* ungrouped layers: per-channel corrections, the patch / filter blocks (MVE_SCRATCH_WORDS), + 12 bytes to align
     * them to 16 */
    return params->filter.c == params->input.c ? MVE_SCRATCH_WORDS * 4 + 12 : 0;
}

void mf_conv2d_s8(const mf_conv2d_params *params, const mf_per_channel_quant *quant, const int8_t *input,
                  const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch)
{
    const mf_dims in = params->input;
    const mf_dims fd = params->filter;
    const mf_dims out = params->output;
    if (scratch == NULL || params->scratch_bytes < mf_conv2d_s8_get_buffer_size(params) || fd.c != in.c) {
        conv_generic(params, quant, input, filter, bias, output); /* no scratch (refused for RAM), or grouped */
        return;
    }
    const int window = out.c >= 4 && win_fits(params);
    const int use_patch = !window && patch_fits(params) && out.c <= MVE_CORR_MAX;
    if (!use_patch && !window && (fd.c != in.c || params->dilation_w != 1 || out.c < 4)) {
        conv_generic(params, quant, input, filter, bias, output);
        return;
    }
    const int32_t off = params->input_offset;
    const int32_t wstride = fd.h * fd.w * fd.c; /* one output channel's filter */
    const int32_t row = fd.w * fd.c;             /* one filter row */
    const int32_t n_corr = out.c < MVE_CORR_MAX ? out.c : MVE_CORR_MAX;

    /* corr[o] = bias[o] + off * sum(filter[o]) for pixels whose whole window lies inside the input */
    int32_t *const buf = (int32_t *)(((uintptr_t)scratch + 15) & ~(uintptr_t)15); /* 16-aligned arena scratch */
    int32_t *corr = buf;
    for (int32_t o = 0; o < n_corr; ++o) {
        const int8_t *w = filter + o * wstride;
        int32_t s = 0;
        for (int32_t n = wstride; n > 0; n -= 16) {
            s = vaddvaq_p_s8(s, vldrbq_z_s8(w, vctp8q((uint32_t)n)), vctp8q((uint32_t)n));
            w += 16;
        }
        corr[o] = (int32_t)((uint32_t)(bias != NULL ? bias[o] : 0) + (uint32_t)off * (uint32_t)s);
    }

    if (use_patch) {
        int left = 0;
        for (int32_t o = 0; o < out.c; ++o) {
            left |= quant->shift[o] > 0;
        }
        conv_patch(params, quant, input, filter, left, buf, MVE_SCRATCH_WORDS, output);
        return;
    }
    if (window) {
        int left = 0;
        for (int32_t o = 0; o < out.c; ++o) {
            left |= quant->shift[o] > 0;
        }
        conv_window(params, quant, input, filter, corr, left, output);
        return;
    }
    const int pointwise = fd.h == 1 && fd.w == 1 && params->pad_h == 0 && params->pad_w == 0 &&
                          (out.h - 1) * params->stride_h < in.h && (out.w - 1) * params->stride_w < in.w;
    if (pointwise && out.c <= MVE_CORR_MAX) {
        int left = 0;
        for (int32_t o = 0; o < out.c; ++o) {
            left |= quant->shift[o] > 0;
        }
        conv_1x1(params, quant, input, filter, corr, left, output);
        return;
    }
    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *in_b = input + b * in.h * in.w * in.c;
        for (int32_t y = 0; y < out.h; ++y) {
            const int32_t y0 = y * params->stride_h - params->pad_h;
            /* valid filter rows: ky in [ky0, ky1) */
            int32_t ky0 = 0;
            while (ky0 < fd.h && y0 + ky0 * params->dilation_h < 0) {
                ++ky0;
            }
            int32_t ky1 = fd.h;
            while (ky1 > ky0 && y0 + (ky1 - 1) * params->dilation_h >= in.h) {
                --ky1;
            }
            for (int32_t x = 0; x < out.w; ++x) {
                const int32_t x0 = x * params->stride_w - params->pad_w;
                const int32_t kx0 = x0 < 0 ? -x0 : 0;
                const int32_t kx1 = x0 + fd.w > in.w ? in.w - x0 : fd.w;
                int8_t *out_px = output + ((b * out.h + y) * out.w + x) * out.c;
                if (ky1 <= ky0 || kx1 <= kx0) { /* no tap inside the input: bias only */
                    for (int32_t o = 0; o < out.c; o += 4) {
                        int32x4_t acc = vdupq_n_s32(0);
                        const mve_pred16_t p = vctp32q((uint32_t)(out.c - o));
                        if (bias != NULL) {
                            acc = vldrwq_z_s32(bias + o, p);
                        }
                        mve_requant_store(acc, quant->multiplier + o, quant->shift + o, params->output_offset,
                                          params->act_min, params->act_max, out_px + o, p);
                    }
                    continue;
                }
                const int full = ky0 == 0 && ky1 == fd.h && kx0 == 0 && kx1 == fd.w;
                const int32_t span = (kx1 - kx0) * fd.c;
                /* input row of filter row ky: in_col + (y0 + ky * dilation_h) * in_row (never before input) */
                const int8_t *in_col = in_b + (x0 + kx0) * in.c;
                const int32_t in_row = in.w * in.c;
                const int32_t dh = params->dilation_h;
                for (int32_t o = 0; o < out.c; o += 4) {
                    /* a partial last group is the last four channels, storing only the new ones */
                    const int32_t base = out.c - o >= 4 ? o : out.c - 4;
                    const int8_t *w = filter + base * wstride + kx0 * fd.c;
                    int32x4_t v = mve_dot4(in_col + (y0 + ky0 * dh) * in_row, w + ky0 * row, wstride, span);
                    for (int32_t ky = ky0 + 1; ky < ky1; ++ky) {
                        v = vaddq_s32(v, mve_dot4(in_col + (y0 + ky * dh) * in_row, w + ky * row, wstride, span));
                    }
                    if (full && base + 4 <= n_corr) {
                        v = vaddq_s32(v, vldrwq_s32(corr + base));
                    } else {
                        int32x4_t s = mve_sum4(w + ky0 * row, wstride, span);
                        for (int32_t ky = ky0 + 1; ky < ky1; ++ky) {
                            s = vaddq_s32(s, mve_sum4(w + ky * row, wstride, span));
                        }
                        v = vmlaq_n_s32(v, s, off);
                        if (bias != NULL) {
                            v = vaddq_s32(v, vldrwq_s32(bias + base));
                        }
                    }
                    /* lanes of this group: [o - base, 4) */
                    const int32_t skip = o - base;
                    const mve_pred16_t p = (mve_pred16_t)(0xFFFFu << (4 * skip));
                    mve_requant_store(v, quant->multiplier + base, quant->shift + base, params->output_offset,
                                      params->act_min, params->act_max, out_px + base, p);
                }
            }
        }
    }
}
