/**
 * @file riscv/mf_fully_connected_s8.c
 * @brief mf_fully_connected_s8 for RV32IMC (ESP32-C3): unrolled, register-blocked portable C (no SIMD).
 *
 * Specialised: 4 output features per pass over the input row. Each loaded input (+ input_offset) feeds the 4
 * weight rows: per input index 1 lb + 1 add + 4 lb + 4 mul + 4 add = 14 instructions for 4 MACs, the loop
 * unrolled by 8 (5 pointer increments + branch per 32 MACs): expected ~3.7 instructions/MAC plus ~20 per
 * output for requantization. Leftover features (out_depth % 4) run one at a time.
 * Outputs are written in increasing order (row by row, feature by feature), as the reference kernel does.
 * Requantization: an exact rewrite of mf_requantize (bit-exact; see riscv/mf_conv2d_s8.c).
 */
#include "mf_fully_connected_s8.h"

#include "mf_requant.h"

#if defined(__GNUC__)
#define RV_BARRIER() __asm__ __volatile__("" ::: "memory")
#else
#define RV_BARRIER() ((void)0)
#endif

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

/* Exact mf_requantize(acc + bias) + output_offset, clamped (see riscv/mf_conv2d_s8.c for the derivation). */
static inline int8_t rv_requant(const rv_rq *q, int32_t acc, int32_t out_off, int32_t lo, int32_t hi)
{
    /* right shift in [1, 30]: one rounding (derivation in riscv/mf_conv2d_s8.c) */
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

#define RV_STEP_4(k)                                                                                         \
    do {                                                                                                     \
        const int32_t x = (int32_t)a[k] + off;                                                               \
        s0 += x * w0[k];                                                                                     \
        s1 += x * w1[k];                                                                                     \
        s2 += x * w2[k];                                                                                     \
        s3 += x * w3[k];                                                                                     \
        RV_BARRIER();                                                                                        \
    } while (0)

void mf_fully_connected_s8(const mf_fully_connected_params *params, const mf_per_channel_quant *quant,
                           const int8_t *input, const int8_t *weights, const int32_t *bias, int8_t *output)
{
    const int32_t n = params->in_depth;
    const int32_t off = params->input_offset;
    for (int32_t b = 0; b < params->batches; ++b) {
        const int8_t *in_row = input + b * n;
        int8_t *out_row = output + b * params->out_depth;
        int32_t o = 0;
        for (; o + 4 <= params->out_depth; o += 4) {
            const int8_t *a = in_row;
            const int8_t *w0 = weights + o * n;
            const int8_t *w1 = w0 + n;
            const int8_t *w2 = w1 + n;
            const int8_t *w3 = w2 + n;
            int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            const int8_t *end = a + (n & ~7);
            while (a != end) {
                RV_STEP_4(0);
                RV_STEP_4(1);
                RV_STEP_4(2);
                RV_STEP_4(3);
                RV_STEP_4(4);
                RV_STEP_4(5);
                RV_STEP_4(6);
                RV_STEP_4(7);
                a += 8;
                w0 += 8;
                w1 += 8;
                w2 += 8;
                w3 += 8;
            }
            end = a + (n & 7);
            while (a != end) {
                RV_STEP_4(0);
                ++a;
                ++w0;
                ++w1;
                ++w2;
                ++w3;
            }
            rv_rq q = rv_rq_load(quant, bias, o);
            out_row[o] = rv_requant(&q, s0, params->output_offset, params->act_min, params->act_max);
            q = rv_rq_load(quant, bias, o + 1);
            out_row[o + 1] = rv_requant(&q, s1, params->output_offset, params->act_min, params->act_max);
            q = rv_rq_load(quant, bias, o + 2);
            out_row[o + 2] = rv_requant(&q, s2, params->output_offset, params->act_min, params->act_max);
            q = rv_rq_load(quant, bias, o + 3);
            out_row[o + 3] = rv_requant(&q, s3, params->output_offset, params->act_min, params->act_max);
        }
        for (; o < params->out_depth; ++o) {
            const int8_t *w0 = weights + o * n;
            int32_t s = 0;
            for (int32_t i = 0; i < n; ++i) {
                s += ((int32_t)in_row[i] + off) * (int32_t)w0[i];
            }
            const rv_rq q = rv_rq_load(quant, bias, o);
            out_row[o] = rv_requant(&q, s, params->output_offset, params->act_min, params->act_max);
        }
    }
}
