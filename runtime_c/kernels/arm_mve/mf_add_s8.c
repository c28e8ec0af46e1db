/**
 * @file arm_mve/mf_add_s8.c
 * @brief Cortex-M55 Helium (MVE) variant of mf_add_s8, bit-exact with runtime_c/kernels/mf_add_s8.c.
 *
 * Specialised: both inputs contiguous along the channel dimension (stride 1; the whole tensor is one run when
 * neither input is broadcast), every shift a right shift (the header's ranges). Two paths:
 * - add_table_run (>= MF_ADD_TABLE_MIN elements, output shift >= -23): each input's rescaled value
 *   requant((x + off) << left_shift, m, shift) depends on its byte alone, so both are tabulated once per call
 *   (2 x 256 int32 on the stack, 2 KB, 4 entries per ~8 instructions). 8 elements per step: VLDRB.U16 and
 *   VMOVLB/VMOVLT (the even and odd elements), table gathers (VLDRW with shifted offsets), VADD, then the output
 *   requantization with the zero point folded in (VSHR for the sum's sign, VADD of the rounding constant, VQRDMLAH
 *   adding SaturatingRoundingDoublingHighMul, a truncating VSHL), VQMOVNB/VQMOVNT narrowing the two groups into
 *   16-bit lanes in element order (saturating), VMAX/VMIN, one VSTRB.16: 26 instructions per 8 elements; the
 *   last 1..7 elements of a run in one predicated step. Per run (row) ~30 instructions.
 * - add_run: four elements per step in int32 lanes: (x + off) << left_shift, VQRDMULH by the input's multiplier
 *   (== SaturatingRoundingDoublingHighMul), a sign-fixed VRSHL (== RoundingDivideByPOT: negative values move down
 *   by one before the round-half-up shift, so ties go away from zero), the same for the sum with the output
 *   multiplier, + offset, clamp, byte store; the run's tail predicated (VCTP.32).
 * A positive shift, or a broadcast channel dimension, runs the reference loop.
 * Each output element is written after its own inputs are read and no earlier element is read afterwards, so an
 * input sharing the output's storage stays correct (the table path reads 8 elements ahead, then writes them).
 * Stack: the 2 KB table in add_tables (frame ~2.1 KB).
 */
#include "mf_add_s8.h"

#include <arm_mve.h>

#include "mf_requant.h"

static int8_t add_one(const mf_add_params *p, int8_t a, int8_t b)
{
    const int32_t x1 = ((int32_t)a + p->input1_offset) * ((int32_t)1 << p->left_shift);
    const int32_t x2 = ((int32_t)b + p->input2_offset) * ((int32_t)1 << p->left_shift);
    const int32_t s1 = mf_requantize(x1, p->input1_multiplier, p->input1_shift);
    const int32_t s2 = mf_requantize(x2, p->input2_multiplier, p->input2_shift);
    const int32_t raw = mf_requantize(s1 + s2, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int8_t)mf_clamp(raw, p->act_min, p->act_max);
}

/* mf_requantize(x, m, shift) for shift <= 0: `neg` = -1 when shift < 0 (else 0) selects the tie fix */
static inline int32x4_t mve_requant_right(int32x4_t x, int32_t m, int32_t shift, int32x4_t neg)
{
    x = vqrdmulhq_n_s32(x, m);
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, neg), 31));
    return vrshlq_n_s32(x, shift);
}

/* n >= 1 elements of contiguous a, b into out (the parameters in locals: the stores may alias *p) */
static void add_run(const mf_add_params *p, const int8_t *a, const int8_t *b, int8_t *out, int32_t n)
{
    const int32_t off1 = p->input1_offset, off2 = p->input2_offset, out_off = p->output_offset;
    const int32_t m1 = p->input1_multiplier, m2 = p->input2_multiplier, mo = p->output_multiplier;
    const int32_t sh1 = p->input1_shift, sh2 = p->input2_shift, sho = p->output_shift;
    const int32_t ls = p->left_shift;
    const int32x4_t neg1 = vdupq_n_s32(sh1 < 0 ? -1 : 0);
    const int32x4_t neg2 = vdupq_n_s32(sh2 < 0 ? -1 : 0);
    const int32x4_t nego = vdupq_n_s32(sho < 0 ? -1 : 0);
    const int32x4_t lo = vdupq_n_s32(p->act_min);
    const int32x4_t hi = vdupq_n_s32(p->act_max);
    for (; n > 0; n -= 4) {
        const mve_pred16_t pr = vctp32q((uint32_t)n);
        int32x4_t x1 = vshlq_r_s32(vaddq_n_s32(vldrbq_z_s32(a, pr), off1), ls);
        int32x4_t x2 = vshlq_r_s32(vaddq_n_s32(vldrbq_z_s32(b, pr), off2), ls);
        x1 = mve_requant_right(x1, m1, sh1, neg1);
        x2 = mve_requant_right(x2, m2, sh2, neg2);
        int32x4_t y = mve_requant_right(vaddq_s32(x1, x2), mo, sho, nego);
        y = vminq_s32(vmaxq_s32(vaddq_n_s32(y, out_off), lo), hi);
        vstrbq_p_s32(out, y, pr);
        a += 4;
        b += 4;
        out += 4;
    }
}

#define MF_ADD_TABLE_MIN 128 /* elements: below this the tables' set-up (~1.1K instructions) does not pay */

/* tab[v] = requant((v + off) << ls, m, shift) for each byte value v, indexed by its unsigned bits */
static void add_table_fill(int32_t *tab, int32_t off, int32_t ls, int32_t m, int32_t shift)
{
    const int32x4_t neg = vdupq_n_s32(shift < 0 ? -1 : 0);
    int32x4_t v = vreinterpretq_s32_u32(vidupq_n_u32(0, 1));
    for (int32_t i = 0; i < 256; i += 4) {
        /* the signed value of byte i: (i ^ 128) - 128 */
        const int32x4_t sv = vsubq_n_s32(veorq_s32(v, vdupq_n_s32(128)), 128);
        const int32x4_t x = vshlq_r_s32(vaddq_n_s32(sv, off), ls);
        vst1q_s32(tab + i, mve_requant_right(x, m, shift, neg));
        v = vaddq_n_s32(v, 4);
    }
}

/*
 * With S = s1 + s2 (|S| < 2^29) and e = -output_shift in [1, 23]:
 * requant(S, mo, -e) + zp = (SRDHM(S, mo) + K - [S < 0]) >> e with K = 2^(e-1) + zp * 2^e (the proof of the
 * arm_dsp variant: the ties-away rounding shift is floor((y + 2^(e-1) - [y < 0]) / 2^e), [S < 0] may replace
 * [y < 0], and (y + zp 2^e) >> e = (y >> e) + zp). VQRDMLAH adds SRDHM(S, mo) to the accumulator K - [S < 0]
 * exactly (|y| < 2^29, |K| < 2^30 + 2^22: no saturation); the shift truncates (VSHL by -e).
 */
static inline int32x4_t add_table_rq(int32x4_t sum, int32_t mo, int32_t k, int32_t neg_e)
{
    const int32x4_t acc = vaddq_n_s32(vshrq_n_s32(sum, 31), k);
    return vshlq_r_s32(vqrdmlahq_n_s32(acc, sum, mo), neg_e);
}

static void add_table_run(const int32_t *t1, const int32_t *t2,
                                                                const int8_t *a, const int8_t *b, int8_t *out,
                                                                int32_t n, int32_t mo, int32_t k, int32_t neg_e,
                                                                int32_t lo, int32_t hi)
{
    const int16x8_t lo8 = vdupq_n_s16((int16_t)lo), hi8 = vdupq_n_s16((int16_t)hi);
    const uint8_t *pa = (const uint8_t *)a, *pb = (const uint8_t *)b;
    int16x8_t r = vdupq_n_s16(0); /* carried so that the narrowing writes need no fresh register */
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        /* 8 bytes in 16-bit lanes, widened: the even elements (bottom halves) and the odd ones (top halves) */
        const uint16x8_t va = vldrbq_u16(pa), vb = vldrbq_u16(pb);
        const int32x4_t s0 = vaddq_s32(vldrwq_gather_shifted_offset_s32(t1, vmovlbq_u16(va)),
                                       vldrwq_gather_shifted_offset_s32(t2, vmovlbq_u16(vb)));
        const int32x4_t s1 = vaddq_s32(vldrwq_gather_shifted_offset_s32(t1, vmovltq_u16(va)),
                                       vldrwq_gather_shifted_offset_s32(t2, vmovltq_u16(vb)));
        /* the even elements into the bottom 16-bit lanes, the odd ones into the top: element order */
        r = vqmovnbq_s32(r, add_table_rq(s0, mo, k, neg_e));
        r = vqmovntq_s32(r, add_table_rq(s1, mo, k, neg_e));
        r = vminq_s16(vmaxq_s16(r, lo8), hi8);
        vstrbq_s16(out, r);
        pa += 8;
        pb += 8;
        out += 8;
    }
    if (i < n) { /* the last 1..7 elements: the same step with predicated byte loads (zeros: table entry 0) and store */
        const mve_pred16_t p = vctp16q((uint32_t)(n - i));
        const uint16x8_t va = vldrbq_z_u16(pa, p), vb = vldrbq_z_u16(pb, p);
        const int32x4_t s0 = vaddq_s32(vldrwq_gather_shifted_offset_s32(t1, vmovlbq_u16(va)),
                                       vldrwq_gather_shifted_offset_s32(t2, vmovlbq_u16(vb)));
        const int32x4_t s1 = vaddq_s32(vldrwq_gather_shifted_offset_s32(t1, vmovltq_u16(va)),
                                       vldrwq_gather_shifted_offset_s32(t2, vmovltq_u16(vb)));
        r = vqmovnbq_s32(r, add_table_rq(s0, mo, k, neg_e));
        r = vqmovntq_s32(r, add_table_rq(s1, mo, k, neg_e));
        r = vminq_s16(vmaxq_s16(r, lo8), hi8);
        vstrbq_p_s16(out, r, p);
    }
}

/* The table path over the whole tensor (contiguous) or row by row (channel runs of broadcast inputs). */
static void add_tables(const mf_add_params *p, const int8_t *in1, const int8_t *in2, int8_t *out, int contiguous)
{
    int32_t tab[512]; /* 2 KB: input 1's then input 2's rescaled values */
    add_table_fill(tab, p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift);
    const int32_t *t2 = tab;
    if (p->input2_offset != p->input1_offset || p->input2_multiplier != p->input1_multiplier ||
        p->input2_shift != p->input1_shift) {
        add_table_fill(tab + 256, p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift);
        t2 = tab + 256;
    }
    const int32_t *d = p->dims, *s1 = p->in1_strides, *s2 = p->in2_strides;
    const int32_t e = -p->output_shift, zp = p->output_offset, mo = p->output_multiplier;
    const int32_t k = (int32_t)(1u << (e - 1)) + zp * (1 << e);
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t rows = contiguous ? 1 : d[0] * d[1] * d[2];
    const int32_t n = contiguous ? d[0] * d[1] * d[2] * d[3] : d[3];
    int32_t r = 0;
    for (int32_t i0 = 0; i0 < d[0]; ++i0) {
        for (int32_t i1 = 0; i1 < d[1]; ++i1) {
            for (int32_t i2 = 0; i2 < d[2] && r < rows; ++i2, ++r) {
                const int8_t *a = in1 + i0 * s1[0] + i1 * s1[1] + i2 * s1[2];
                const int8_t *b = in2 + i0 * s2[0] + i1 * s2[1] + i2 * s2[2];
                add_table_run(tab, t2, a, b, out, n, mo, k, -e, lo, hi);
                out += n;
            }
        }
    }
}

void mf_add_s8(const mf_add_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t *d = params->dims;
    const int32_t *s1 = params->in1_strides;
    const int32_t *s2 = params->in2_strides;
    const int vector = params->input1_shift <= 0 && params->input2_shift <= 0 && params->output_shift <= 0 &&
                       params->left_shift >= 0 && params->left_shift < 32 && s1[3] == 1 && s2[3] == 1;
    if (vector) {
        const int32_t plane = d[2] * d[3];
        const int table = d[0] * d[1] * plane >= MF_ADD_TABLE_MIN && params->output_shift <= -1 &&
                          params->output_shift >= -23 && params->input1_shift >= -31 && params->input2_shift >= -31 &&
                          params->left_shift <= 20;
        /* dims of extent 1 may carry any stride (0 where an input is broadcast) */
        const int contiguous = (d[2] == 1 || (s1[2] == d[3] && s2[2] == d[3])) &&
                               (d[1] == 1 || (s1[1] == plane && s2[1] == plane)) &&
                               (d[0] == 1 || (s1[0] == d[1] * plane && s2[0] == d[1] * plane));
        if (table) {
            add_tables(params, input1, input2, output, contiguous);
            return;
        }
        if (contiguous) {
            add_run(params, input1, input2, output, d[0] * d[1] * plane);
            return;
        }
    }
    int32_t o = 0;
    for (int32_t n = 0; n < d[0]; ++n) {
        for (int32_t h = 0; h < d[1]; ++h) {
            for (int32_t w = 0; w < d[2]; ++w) {
                const int8_t *a = input1 + n * s1[0] + h * s1[1] + w * s1[2];
                const int8_t *b = input2 + n * s2[0] + h * s2[1] + w * s2[2];
                if (vector) {
                    add_run(params, a, b, output + o, d[3]);
                    o += d[3];
                    continue;
                }
                for (int32_t c = 0; c < d[3]; ++c) {
                    output[o++] = add_one(params, a[c * s1[3]], b[c * s2[3]]);
                }
            }
        }
    }
}
