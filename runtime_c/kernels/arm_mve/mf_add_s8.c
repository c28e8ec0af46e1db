/**
 * @file arm_mve/mf_add_s8.c
 * @brief Cortex-M55 Helium (MVE) variant of mf_add_s8, bit-exact with runtime_c/kernels/mf_add_s8.c.
 *
 * Specialised: both inputs contiguous along the channel dimension (stride 1; the whole tensor is one run when
 * neither input is broadcast). Four elements per step in int32 lanes: (x + off) << left_shift, VQRDMULH by the
 * input's multiplier (== SaturatingRoundingDoublingHighMul), a sign-fixed VRSHL (== RoundingDivideByPOT: negative
 * values move down by one before the round-half-up shift, so ties go away from zero), the same for the sum with
 * the output multiplier, + offset, clamp, byte store; the run's tail predicated (VCTP.32). Every shift is a
 * right shift (the header's ranges); a positive shift, or a broadcast channel dimension, runs the reference loop.
 * Each output element is written after its own inputs are read and no earlier element is read afterwards, so an
 * input sharing the output's storage stays correct.
 * Expected: ~7 instructions per element (reference: ~130).
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

void mf_add_s8(const mf_add_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t *d = params->dims;
    const int32_t *s1 = params->in1_strides;
    const int32_t *s2 = params->in2_strides;
    const int vector = params->input1_shift <= 0 && params->input2_shift <= 0 && params->output_shift <= 0 &&
                       params->left_shift >= 0 && params->left_shift < 32 && s1[3] == 1 && s2[3] == 1;
    if (vector) {
        const int32_t plane = d[2] * d[3];
        const int contiguous = s1[2] == d[3] && s2[2] == d[3] && s1[1] == plane && s2[1] == plane &&
                               s1[0] == d[1] * plane && s2[0] == d[1] * plane;
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
