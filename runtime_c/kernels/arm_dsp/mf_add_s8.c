/**
 * @file mf_add_s8.c (arm_dsp variant)
 * @brief int8 ADD for Cortex-M4/M7/M33 with the DSP extension, bit-exact with the reference kernel.
 *
 * What is specialised: inputs of the output's shape (no broadcasting), left_shift <= 20, input shifts in
 * [-31, 0] and the output shift in [-31, -1] (TFLM's int8 ADD: the larger input scale gives multiplier 2^30 with
 * shift 0, the output shift is far below -1): each of the three requantizations is one SMMLAR, plus its rounding
 * constant and a shift when the shift is not 0 (see rq, rq0), ~20 instructions per element instead of ~128.
 * Broadcasting and other parameters run the reference loop. No buffers.
 * Elements are read and written in increasing order (an input may share the output's storage).
 */
#include "mf_add_s8.h"

#include "mf_requant.h"

#if defined(__ARM_FEATURE_DSP)
static inline int32_t smmlar(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

/*
 * mf_requantize(x, m, -e) for e in [1, 31] and |x| < 2^30, from 2x: SRDHM(x, m) = floor((x*m + 2^30) / 2^31)
 * (the truncating division of the negative branch is the same floor), and the ties-away rounding shift is
 * floor((SRDHM + 2^(e-1) - [x<0]) / 2^e) ([x<0] may replace [SRDHM<0]: they differ only when SRDHM == 0, which
 * rounds to 0 either way); SMMLAR(2x, m, K) = floor((2x*m + 2^31) / 2^32) + K adds the constant exactly.
 */
static inline int32_t rq(int32_t x2, int32_t m, int32_t e, int32_t h)
{
    return smmlar(x2, m, h + (x2 >> 31)) >> e;
}

/* shift 0: mf_requantize(x, m, 0) = SRDHM(x, m) = SMMLAR(2x, m, 0) (|x| < 2^30: no saturation case) */
static inline int32_t rq0(int32_t x2, int32_t m)
{
    return smmlar(x2, m, 0);
}

static int add_fast_ok(const mf_add_params *p)
{
    const int32_t *d = p->dims;
    const int32_t dense[4] = {d[1] * d[2] * d[3], d[2] * d[3], d[3], 1};
    for (int k = 0; k < 4; ++k) {
        if (d[k] > 1 && (p->in1_strides[k] != dense[k] || p->in2_strides[k] != dense[k])) {
            return 0;
        }
    }
    const int ok_shift = p->input1_shift <= 0 && p->input2_shift <= 0 && p->output_shift <= -1 &&
                         p->input1_shift >= -31 && p->input2_shift >= -31 && p->output_shift >= -31;
    return ok_shift && p->left_shift >= 0 && p->left_shift <= 20;
}

/* z1 / z2: compile-time flags, input 1 / 2 has shift 0 */
__attribute__((always_inline)) static inline void add_loop(const mf_add_params *p, const int8_t *in1,
                                                           const int8_t *in2, int8_t *out, int32_t count, int z1,
                                                           int z2)
{
    /* 2x = (v + offset) << (left_shift + 1): |x| <= 255 * 2^20 < 2^30 */
    const int32_t ls1 = p->left_shift + 1, off1 = p->input1_offset, off2 = p->input2_offset;
    const int32_t m1 = p->input1_multiplier, e1 = -p->input1_shift, h1 = z1 ? 0 : 1 << (e1 - 1);
    const int32_t m2 = p->input2_multiplier, e2 = -p->input2_shift, h2 = z2 ? 0 : 1 << (e2 - 1);
    const int32_t mo = p->output_multiplier, eo = -p->output_shift, ho = (int32_t)(1u << (eo - 1));
    const int32_t zp = p->output_offset, lo = p->act_min, hi = p->act_max;
    for (int32_t i = 0; i < count; ++i) {
        const int32_t x1 = (int32_t)((uint32_t)((int32_t)in1[i] + off1) << ls1);
        const int32_t x2 = (int32_t)((uint32_t)((int32_t)in2[i] + off2) << ls1);
        /* |s1|, |s2| <= 2^29 (|x| < 2^29, multipliers < 2^31): 2 (s1 + s2) fits */
        const int32_t s1 = z1 ? rq0(x1, m1) : rq(x1, m1, e1, h1);
        const int32_t s2 = z2 ? rq0(x2, m2) : rq(x2, m2, e2, h2);
        const int32_t r = rq((s1 + s2) * 2, mo, eo, ho) + zp;
        out[i] = (int8_t)(r < lo ? lo : (r > hi ? hi : r));
    }
}

static void add_fast(const mf_add_params *p, const int8_t *in1, const int8_t *in2, int8_t *out, int32_t count)
{
    const int z1 = p->input1_shift == 0, z2 = p->input2_shift == 0;
    if (z1 && !z2) {
        add_loop(p, in1, in2, out, count, 1, 0);
    } else if (!z1 && z2) {
        add_loop(p, in1, in2, out, count, 0, 1);
    } else if (z1 && z2) {
        add_loop(p, in1, in2, out, count, 1, 1);
    } else {
        add_loop(p, in1, in2, out, count, 0, 0);
    }
}
#endif /* __ARM_FEATURE_DSP */

static int8_t add_one(const mf_add_params *p, int8_t a, int8_t b)
{
    /* Shifting by multiplication, as TFLM does (the offset value may be negative). */
    const int32_t x1 = ((int32_t)a + p->input1_offset) * ((int32_t)1 << p->left_shift);
    const int32_t x2 = ((int32_t)b + p->input2_offset) * ((int32_t)1 << p->left_shift);
    const int32_t s1 = mf_requantize(x1, p->input1_multiplier, p->input1_shift);
    const int32_t s2 = mf_requantize(x2, p->input2_multiplier, p->input2_shift);
    const int32_t raw = mf_requantize(s1 + s2, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int8_t)mf_clamp(raw, p->act_min, p->act_max);
}

void mf_add_s8(const mf_add_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t *d = params->dims;
#if defined(__ARM_FEATURE_DSP)
    if (add_fast_ok(params)) {
        add_fast(params, input1, input2, output, d[0] * d[1] * d[2] * d[3]);
        return;
    }
#endif
    const int32_t *s1 = params->in1_strides;
    const int32_t *s2 = params->in2_strides;
    int32_t o = 0;
    for (int32_t n = 0; n < d[0]; ++n) {
        for (int32_t h = 0; h < d[1]; ++h) {
            for (int32_t w = 0; w < d[2]; ++w) {
                const int8_t *a = input1 + n * s1[0] + h * s1[1] + w * s1[2];
                const int8_t *b = input2 + n * s2[0] + h * s2[1] + w * s2[2];
                for (int32_t c = 0; c < d[3]; ++c) {
                    output[o++] = add_one(params, a[c * s1[3]], b[c * s2[3]]);
                }
            }
        }
    }
}
