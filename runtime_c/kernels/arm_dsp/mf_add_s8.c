/**
 * @file mf_add_s8.c (arm_dsp variant)
 * @brief int8 ADD for Cortex-M4/M7/M33 with the DSP extension, bit-exact with the reference kernel.
 *
 * What is specialised: inputs of the output's shape (no broadcasting), left_shift <= 20, input shifts in
 * [-31, 0] and the output shift in [-31, -1] (TFLM's int8 ADD: the larger input scale gives multiplier 2^30 with
 * shift 0, the output shift is far below -1). Two paths:
 * - add_table (count >= MF_ADD_TABLE_MIN and output shift >= -23): each input's rescaled value is a function of
 *   its byte alone, so both are tabulated once per call (2 x 256 int32 on the stack, 2 KB, built with the SMMLAR
 *   steps below, ~8 instructions per entry); per element: 2 byte loads, 2 table loads, add, one SMMLAR with the
 *   rounding constant and the output zero point folded in, shift, SSAT (+ a packed SSUB8/SEL clamp for 4
 *   elements when the fused activation is narrower than int8): ~11 instructions per element + ~4K per call.
 * - add_loop: each of the three requantizations is one SMMLAR, plus its rounding constant and a shift when the
 *   shift is not 0 (see rq, rq0), ~20 instructions per element.
 * Broadcasting and other parameters run the reference loop. Stack: the 2 KB table in add_table (frame ~2.1 KB).
 * Elements are read and written in increasing order (an input may share the output's storage).
 */
#include "mf_add_s8.h"

#include "mf_requant.h"

#include <string.h>

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

#define MF_ADD_TABLE_MIN 256 /* elements: below this the table's set-up (~4K instructions) does not pay */

static inline int32_t ssat8(int32_t x)
{
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
    return r;
}

/* per signed byte lane: max(a, b) and min(a, b) (SSUB8 sets the GE flag of each lane where a - b >= 0, SEL picks) */
static inline uint32_t max_s8x4(uint32_t a, uint32_t b)
{
    uint32_t d, r;
    __asm__("ssub8 %0, %2, %3\n\tsel %1, %2, %3" : "=&r"(d), "=r"(r) : "r"(a), "r"(b) : "cc");
    (void)d;
    return r;
}

static inline uint32_t min_s8x4(uint32_t a, uint32_t b)
{
    uint32_t d, r;
    __asm__("ssub8 %0, %2, %3\n\tsel %1, %3, %2" : "=&r"(d), "=r"(r) : "r"(a), "r"(b) : "cc");
    (void)d;
    return r;
}

/*
 * tab[v] = 2 * requant((v + offset) << left_shift, m, shift) for each byte value v (indexed by its unsigned bits),
 * as rq/rq0 compute it for add_loop (|x| < 2^30).
 */
static void add_table_fill(int32_t *tab, int32_t off, int32_t ls1, int32_t m, int32_t shift)
{
    const int32_t e = -shift, h = e == 0 ? 0 : 1 << (e - 1);
    for (int32_t v = -128; v < 128; ++v) {
        const int32_t x2 = (int32_t)((uint32_t)(v + off) << ls1);
        const int32_t s = e == 0 ? rq0(x2, m) : rq(x2, m, e, h);
        tab[(uint8_t)v] = 2 * s;
    }
}

/*
 * With t = 2 (s1 + s2) (|s1 + s2| < 2^30): rq(t, mo, eo, ho) + zp = smmlar(t, mo, ho + (zp << eo) + (t >> 31)) >> eo,
 * as (y + zp * 2^eo) >> eo = (y >> eo) + zp; no overflow for eo <= 23: |smmlar(t, mo, 0)| <= 2^29 + 1,
 * |ho + (zp << eo) + sign| <= 2^22 + 2^30 + 1.
 */
__attribute__((always_inline)) static inline void add_table_loop(const int32_t *t1, const int32_t *t2,
                                                                 const uint8_t *a, const uint8_t *b, int8_t *out,
                                                                 int32_t count, int32_t mo, int32_t eo, int32_t hz,
                                                                 uint32_t lo4, uint32_t hi4, int clamp)
{
    int32_t i = 0;
    for (; i + 4 <= count; i += 4) {
        const int32_t u0 = t1[a[i]] + t2[b[i]];
        const int32_t u1 = t1[a[i + 1]] + t2[b[i + 1]];
        const int32_t u2 = t1[a[i + 2]] + t2[b[i + 2]];
        const int32_t u3 = t1[a[i + 3]] + t2[b[i + 3]];
        const int32_t r0 = ssat8(smmlar(u0, mo, hz + (u0 >> 31)) >> eo);
        const int32_t r1 = ssat8(smmlar(u1, mo, hz + (u1 >> 31)) >> eo);
        const int32_t r2 = ssat8(smmlar(u2, mo, hz + (u2 >> 31)) >> eo);
        const int32_t r3 = ssat8(smmlar(u3, mo, hz + (u3 >> 31)) >> eo);
        if (clamp) {
            uint32_t w = (uint32_t)r0;
            __asm__("bfi %0, %1, #8, #8\n\tbfi %0, %2, #16, #8\n\tbfi %0, %3, #24, #8"
                    : "+r"(w)
                    : "r"(r1), "r"(r2), "r"(r3));
            w = min_s8x4(max_s8x4(w, lo4), hi4);
            memcpy(out + i, &w, 4);
        } else {
            out[i] = (int8_t)r0;
            out[i + 1] = (int8_t)r1;
            out[i + 2] = (int8_t)r2;
            out[i + 3] = (int8_t)r3;
        }
    }
    for (; i < count; ++i) {
        const int32_t u = t1[a[i]] + t2[b[i]];
        int32_t r = ssat8(smmlar(u, mo, hz + (u >> 31)) >> eo);
        if (clamp) {
            const int32_t lo = (int8_t)(lo4 & 0xffu), hi = (int8_t)(hi4 & 0xffu);
            r = r < lo ? lo : (r > hi ? hi : r);
        }
        out[i] = (int8_t)r;
    }
}

static void add_table(const mf_add_params *p, const int8_t *in1, const int8_t *in2, int8_t *out, int32_t count)
{
    int32_t tab[512]; /* 2 KB: input 1's then input 2's rescaled values */
    const int32_t ls1 = p->left_shift + 1;
    add_table_fill(tab, p->input1_offset, ls1, p->input1_multiplier, p->input1_shift);
    const int32_t *t2 = tab;
    if (p->input2_offset != p->input1_offset || p->input2_multiplier != p->input1_multiplier ||
        p->input2_shift != p->input1_shift) {
        add_table_fill(tab + 256, p->input2_offset, ls1, p->input2_multiplier, p->input2_shift);
        t2 = tab + 256;
    }
    const int32_t eo = -p->output_shift;
    const int32_t hz = (int32_t)(1u << (eo - 1)) + p->output_offset * (1 << eo);
    const uint32_t lo4 = (uint32_t)(uint8_t)p->act_min * 0x01010101u, hi4 = (uint32_t)(uint8_t)p->act_max * 0x01010101u;
    const uint8_t *a = (const uint8_t *)in1, *b = (const uint8_t *)in2;
    if (p->act_min > INT8_MIN || p->act_max < INT8_MAX) {
        add_table_loop(tab, t2, a, b, out, count, p->output_multiplier, eo, hz, lo4, hi4, 1);
    } else {
        add_table_loop(tab, t2, a, b, out, count, p->output_multiplier, eo, hz, lo4, hi4, 0);
    }
}

static void add_fast(const mf_add_params *p, const int8_t *in1, const int8_t *in2, int8_t *out, int32_t count)
{
    if (count >= MF_ADD_TABLE_MIN && p->output_shift >= -23) {
        add_table(p, in1, in2, out, count);
        return;
    }
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
