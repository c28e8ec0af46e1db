/**
 * @file mf_arm_dsp_common.h (arm_dsp variant, private)
 * @brief Inline helpers shared by the arm_dsp kernels: SMMLAR requantization (with its exactness guard),
 *        byte stores with clamping, and the 1-pixel x 2-channel SMLAD dot product.
 *
 * Include it inside `#if defined(__ARM_FEATURE_DSP)`, after <stdint.h>, "mf_types.h" and "mf_requant.h".
 */
#ifndef MF_ARM_DSP_COMMON_H
#define MF_ARM_DSP_COMMON_H

#include <arm_acle.h>


/*
 * Requantization in 4 instructions per output, bit-exact with mf_requantize when, for every channel,
 * shift < 0 or multiplier == 0, and |acc| < 2^30 (rq_fast_ok checks both once per call; else the reference loop).
 * With e = -shift >= 1: mf_requantize = RDBP(x, e), x = SRDHM(acc, m) = floor((acc*m + 2^30) / 2^31), and
 * RDBP(x, e) (ties away from zero) = floor((x + 2^(e-1) - [x<0]) / 2^e). [acc<0] may replace [x<0]: they differ
 * only when x == 0, which rounds to 0 either way. With K = 2^(e-1) - [acc<0]:
 *   x + K = floor((2acc*m + 2^31 + K*2^32) / 2^32) = SMMLAR(2acc, m, K)   (2acc fits: |acc| < 2^30)
 * and the result is (x + K) >> e. A zero multiplier takes e = 1: (0 + K) >> 1 == 0.
 */
typedef struct {
    int32_t m; /* Q31 multiplier */
    int32_t e; /* right shift, >= 1 */
    int32_t h; /* 2^(e-1) */
} rq_ch;

static inline rq_ch rq_load(const int32_t *mult, const int32_t *shift, int32_t o)
{
    rq_ch q;
    const int32_t sh = shift[o];
    q.m = mult[o];
    q.e = sh < 0 ? -sh : 1;
    q.h = 1 << (q.e - 1);
    return q;
}

static inline int32_t smmlar(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

static inline int32_t rq_apply(int32_t acc, rq_ch q)
{
    return smmlar(acc * 2, q.m, q.h + (acc >> 31)) >> q.e;
}

/* Two requantized values -> output zero point, activation clamp, int8 -> two bytes stored at out[0], out[1].
 * zp2/lo2/hi2 hold the zero point and the clamp bounds in both 16-bit lanes. */
static inline void store2(int8_t *out, int32_t r0, int32_t r1, int32_t zp2, int32_t lo2, int32_t hi2)
{
    int32_t v = (int32_t)(((uint32_t)__ssat(r0, 16) & 0xFFFFu) | ((uint32_t)__ssat(r1, 16) << 16));
    v = __qadd16(v, zp2);
    (void)__ssub16(v, lo2); /* GE flags: lane >= lo */
    v = (int32_t)__sel((uint32_t)v, (uint32_t)lo2);
    (void)__ssub16(v, hi2); /* GE flags: lane >= hi */
    v = (int32_t)__sel((uint32_t)hi2, (uint32_t)v);
    const uint32_t u = (uint32_t)v & 0x00FF00FFu;
    const uint16_t pair = (uint16_t)(u | (u >> 8));
    memcpy(out, &pair, sizeof pair);
}

static inline int8_t store1(int32_t r, int32_t zp, int32_t lo, int32_t hi)
{
    r = __ssat(r, 16) + zp;
    r = r < lo ? lo : r;
    return (int8_t)(r > hi ? hi : r);
}

static inline int32_t dup16(int32_t v)
{
    return (int32_t)(((uint32_t)v & 0xFFFFu) * 0x10001u);
}

/* 1 when rq_apply is exact for every channel and every accumulator this convolution can produce */
static inline int rq_fast_ok(const mf_per_channel_quant *quant, const int32_t *bias, int32_t channels, int32_t taps)
{
    int64_t bound = (int64_t)taps * 255 * 128; /* |input + offset| <= 255, |weight| <= 128 */
    int32_t max_bias = 0;
    for (int32_t o = 0; o < channels; ++o) {
        if (quant->shift[o] >= 0 && quant->multiplier[o] != 0) {
            return 0;
        }
        if (bias != NULL) {
            const int32_t b = bias[o] < 0 ? -(bias[o] + 1) : bias[o];
            max_bias = b > max_bias ? b : max_bias;
        }
    }
    return bound + max_bias + 1 < ((int64_t)1 << 30);
}

/*
 * The inner loops are GCC inline assembly: in C, GCC 12 spills two accumulators and the loop bound per iteration
 * (the 2x2 block needs 15 live registers with SXTAB16 carrying the input offset; Thumb has 14). Here the loop
 * bound stays in memory and is reloaded once per 8 bytes, everything else lives in registers.
 */

/* acc[0] += x.w0, acc[1] += x.w1 over n bytes (n % 4 == 0, n > 0); w1 = w0 + ws */
static inline void dot12(const int8_t *x, const int8_t *w0, int32_t ws, int32_t n, int32_t off2, int32_t *acc)
{
    int32_t s0 = acc[0], s1 = acc[1];
    const int8_t *end = x + n;
    uint32_t t0, t1, t2, t3, t4, t5;
    __asm__ volatile(
        "1:\n\t"
        "ldr %[t0], [%[w], %[ws]]\n\t"
        "ldr %[t1], [%[w]], #4\n\t"
        "ldr %[t4], [%[x]], #4\n\t"
        "sxtb16 %[t2], %[t1]\n\t"
        "sxtb16 %[t1], %[t1], ror #8\n\t"
        "sxtb16 %[t3], %[t0]\n\t"
        "sxtb16 %[t0], %[t0], ror #8\n\t"
        "sxtab16 %[t5], %[off2], %[t4]\n\t"
        "sxtab16 %[t4], %[off2], %[t4], ror #8\n\t"
        "smlad %[s0], %[t5], %[t2], %[s0]\n\t"
        "smlad %[s0], %[t4], %[t1], %[s0]\n\t"
        "smlad %[s1], %[t5], %[t3], %[s1]\n\t"
        "smlad %[s1], %[t4], %[t0], %[s1]\n\t"
        "cmp %[x], %[end]\n\t"
        "bne 1b\n\t"
        : [s0] "+r"(s0), [s1] "+r"(s1), [x] "+r"(x), [w] "+r"(w0), [t0] "=&r"(t0), [t1] "=&r"(t1),
          [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4), [t5] "=&r"(t5)
        : [ws] "r"(ws), [off2] "r"(off2), [end] "r"(end)
        : "cc", "memory");
    acc[0] = s0;
    acc[1] = s1;
}

#endif /* MF_ARM_DSP_COMMON_H */
