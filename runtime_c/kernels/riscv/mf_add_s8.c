/**
 * @file riscv/mf_add_s8.c
 * @brief mf_add_s8 for RV32IMC (ESP32-C3): per-input lookup tables + the RV32-friendly exact requantization.
 *
 * Each input's rescaling mf_requantize((v + offset) << left_shift, multiplier, shift) depends only on the int8
 * value v, so for tensors of at least MF_RV_ADD_TABLE_MIN elements both are tabulated once per call (2 x 256
 * int32 on the stack: 2 KB, counted by the RAM figure's deepest stack chain; ~12 instructions per entry, one
 * MULH each, see rv_in_table) and each element costs 2 lb, 2 table lw, the output requantization and the clamp.
 * Fast form (left_shift <= 20, input shifts <= 0, output shift in [-21, -1]): the tables hold 4 s, and
 * requant(s1 + s2) + zp is one MULH and 4 adds/shifts (rv_add_fast), ~19 instructions per element with the loads
 * and loop, ~11 for an output that the activation clamps (two sum thresholds found once per call by bisection);
 * ~10K instructions per call (tables, thresholds); resnet8 32x32x16: 18.7 per element overall; other
 * parameters use rv_requant (an exact rewrite of mf_requantize), ~25 per element; the reference kernel: ~147.
 * Dense (non-broadcast) inputs run one flat loop; broadcasts use the reference's loop nest with the tables.
 * Small tensors use a static copy of the reference loop (the tables would cost more than they save).
 *
 * In-place safety: element i of the output is written after element i of both inputs is read, in increasing
 * order, as in the reference kernel. Bit-exact with the reference kernel for every input.
 */
#include "mf_add_s8.h"

#include "mf_requant.h"
#include "mf_types.h"

#define MF_RV_ADD_TABLE_MIN 512 /* elements from which the 512-entry tables pay for themselves */

/* ------------------------------------------------------------------------------------ requantization */

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
    const int64_t ab = (int64_t)x * q->mult;
    const int32_t h = (int32_t)(((uint32_t)(ab >> 32) << 1) + ((((uint32_t)ab >> 30) + 1) >> 1));
    int32_t v = (h >> q->right) + (((uint32_t)h & q->mask) > q->half + ((uint32_t)h >> 31) ? 1 : 0);
    return rv_clamp(v + out_off, lo, hi);
}

/* --------------------------------------------------------------------------------- reference copy */

static int8_t rv_add_one(const mf_add_params *p, int8_t a, int8_t b)
{
    const int32_t x1 = ((int32_t)a + p->input1_offset) * ((int32_t)1 << p->left_shift);
    const int32_t x2 = ((int32_t)b + p->input2_offset) * ((int32_t)1 << p->left_shift);
    const int32_t s1 = mf_requantize(x1, p->input1_multiplier, p->input1_shift);
    const int32_t s2 = mf_requantize(x2, p->input2_multiplier, p->input2_shift);
    const int32_t raw = mf_requantize(s1 + s2, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int8_t)mf_clamp(raw, p->act_min, p->act_max);
}

static void rv_add_reference(const mf_add_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t *d = params->dims;
    const int32_t *s1 = params->in1_strides;
    const int32_t *s2 = params->in2_strides;
    int32_t o = 0;
    for (int32_t n = 0; n < d[0]; ++n) {
        for (int32_t h = 0; h < d[1]; ++h) {
            for (int32_t w = 0; w < d[2]; ++w) {
                const int8_t *a = input1 + n * s1[0] + h * s1[1] + w * s1[2];
                const int8_t *b = input2 + n * s2[0] + h * s2[1] + w * s2[2];
                for (int32_t c = 0; c < d[3]; ++c) {
                    output[o++] = rv_add_one(params, a[c * s1[3]], b[c * s2[3]]);
                }
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------- main */

/** Strides of a dense (non-broadcast) NHWC tensor of dims d (dimensions of size 1 may have any stride). */
static int rv_dense(const int32_t *d, const int32_t *s)
{
    int32_t want = 1;
    for (int32_t k = 3; k >= 0; --k) {
        if (d[k] != 1 && s[k] != want) {
            return 0;
        }
        want *= d[k];
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------ fast form */

/*
 * 4 * mf_requantize((v + off) << ls, m, shift) for ls <= 20, shift in [-31, 0]: with x = (v + off) << ls
 * (|x| < 2^28, so 4x fits) and y2 = MULH(4x, m) = floor(x m / 2^30), SRDHM(x, m) = floor((x m + 2^30) / 2^31)
 * = floor((y2 + 1) / 2) (nested floors), and the ties-away shift by e >= 1 is floor((y + 2^(e-1) - [y < 0]) / 2^e)
 * ([x < 0] may stand for [y < 0]: they differ only when y = 0, which rounds to 0 either way), so
 * s = floor((y2 + 1 + 2^e - 2 [x < 0]) / 2^(e+1)); e >= 30 gives 0 (|y| <= 2^28 + 1 < 2^(e-1)).
 */
static inline int32_t rv_in_table(int32_t v, int32_t off, int32_t ls, int32_t m, int32_t shift)
{
    const int32_t x = (int32_t)((uint32_t)(v + off) << ls);
    const int32_t y2 = (int32_t)(((int64_t)(x * 4) * m) >> 32);
    const int32_t e = -shift;
    if (e == 0) {
        return 4 * ((y2 + 1) >> 1);
    }
    if (e >= 30) {
        return 0;
    }
    return 4 * ((y2 + 1 + ((int32_t)1 << e) + 2 * (x >> 31)) >> (e + 1));
}

static int rv_add_fast_ok(const mf_add_params *p)
{
    return p->left_shift >= 0 && p->left_shift <= 20 && p->input1_shift <= 0 && p->input2_shift <= 0 &&
           p->output_shift <= -1 && p->output_shift >= -21;
}

/*
 * u = 4 (s1 + s2) (|s1 + s2| < 2^29: u fits), y2 = MULH(u, mo) = floor(S mo / 2^30), e = -output_shift in [1, 21]:
 * requant(S, mo, -e) + zp = floor((y2 + 1 + 2 K - 2 [S < 0]) / 2^(e+1)) with K = 2^(e-1) + zp 2^e (as in
 * rv_in_table, with the zero point inside the floor); |y2| < 2^30 and |1 + 2K| <= 2^21 + 2^29 + 1: no overflow.
 */
static inline int32_t rv_add_z(int32_t u, int32_t mo, int32_t k2, int32_t e1)
{
    const int32_t y2 = (int32_t)(((int64_t)u * mo) >> 32);
    const int32_t sg = u >> 31;
    return (y2 + k2 + sg + sg) >> e1;
}

/*
 * The clamped output of u: rv_add_z is requant(S) + zp exactly, which does not decrease with S, so
 * clamp(z(u), lo, hi) is z(u) for u in [ulo, uhi] (one unsigned compare: (u - ub) <= urange), lo below ulo and hi
 * above (the thresholds are found once per call by bisection): a clamped element costs a few instructions instead
 * of the requantization.
 */
static inline void rv_add_fast(int8_t *out, int32_t u, int32_t mo, int32_t k2, int32_t e1, int32_t ub,
                               uint32_t urange, int32_t ulo, int32_t lo, int32_t hi)
{
    int32_t z;
    if ((uint32_t)u - (uint32_t)ub <= urange) {
        z = rv_add_z(u, mo, k2, e1);
    } else {
        z = u < ulo ? lo : hi;
    }
    *out = (int8_t)z;
}

/*
 * Over u = u0 + 4 i, i in [0, n] (z not decreasing in i): the first u with z(u) >= lo (INT32_MIN when u0 already
 * qualifies, INT32_MAX when none does) if `low`, else the last u with z(u) <= hi (INT32_MAX when all do, INT32_MIN
 * when none does).
 */
static int32_t rv_add_threshold(int32_t u0, uint32_t n, int32_t mo, int32_t k2, int32_t e1, int32_t bound, int low)
{
#define RV_U(i) ((int32_t)((uint32_t)u0 + 4u * (i)))
    if (low) {
        if (rv_add_z(u0, mo, k2, e1) >= bound) {
            return INT32_MIN;
        }
        if (rv_add_z(RV_U(n), mo, k2, e1) < bound) {
            return INT32_MAX;
        }
    } else {
        if (rv_add_z(RV_U(n), mo, k2, e1) <= bound) {
            return INT32_MAX;
        }
        if (rv_add_z(u0, mo, k2, e1) > bound) {
            return INT32_MIN;
        }
    }
    uint32_t a = 0, b = n; /* low: z(a) < bound <= z(b); else: z(a) <= bound < z(b) */
    while (b - a > 1u) {
        const uint32_t m = a + (b - a) / 2u;
        const int32_t z = rv_add_z(RV_U(m), mo, k2, e1);
        if (low ? z >= bound : z > bound) {
            b = m;
        } else {
            a = m;
        }
    }
    return low ? RV_U(b) : RV_U(a);
#undef RV_U
}

static void rv_add_tables_fast(const mf_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    int32_t table1[256];
    int32_t table2[256];
    for (int32_t v = -128; v < 128; ++v) {
        table1[v + 128] = rv_in_table(v, p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift);
        table2[v + 128] = rv_in_table(v, p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift);
    }
    const int32_t *t1 = table1 + 128;
    const int32_t *t2 = table2 + 128;
#if defined(__GNUC__)
    __asm__("" : "+r"(t1), "+r"(t2)); /* table pointers in registers (see mf_add_s8) */
#endif
    const int32_t e = -p->output_shift, mo = p->output_multiplier;
    const int32_t k2 = 1 + 2 * ((int32_t)1 << (e - 1)) + p->output_offset * ((int32_t)1 << (e + 1));
    const int32_t e1 = e + 1, lo = p->act_min, hi = p->act_max;
    /* the sums' range: each table does not decrease with v (multipliers >= 0) */
    const int32_t umin = t1[-128] + t2[-128];
    const uint32_t n = ((uint32_t)(t1[127] + t2[127]) - (uint32_t)umin) / 4u;
    const int32_t ulo = rv_add_threshold(umin, n, mo, k2, e1, lo, 1);
    const int32_t uhi = rv_add_threshold(umin, n, mo, k2, e1, hi, 0);
    /* [ub, ub + urange] = [ulo, uhi]; empty (no reachable u) when z skips [lo, hi] */
    const int32_t ub = ulo <= uhi ? ulo : INT32_MAX;
    const uint32_t urange = ulo <= uhi ? (uint32_t)uhi - (uint32_t)ulo : 0u;
    const int32_t *d = p->dims;
    if (rv_dense(d, p->in1_strides) && rv_dense(d, p->in2_strides)) {
        const int32_t count = d[0] * d[1] * d[2] * d[3];
        int32_t i = 0;
        for (; i + 4 <= count; i += 4) {
            const int32_t u0 = t1[input1[i]] + t2[input2[i]];
            const int32_t u1 = t1[input1[i + 1]] + t2[input2[i + 1]];
            const int32_t u2 = t1[input1[i + 2]] + t2[input2[i + 2]];
            const int32_t u3 = t1[input1[i + 3]] + t2[input2[i + 3]];
            rv_add_fast(output + i, u0, mo, k2, e1, ub, urange, ulo, lo, hi);
            rv_add_fast(output + i + 1, u1, mo, k2, e1, ub, urange, ulo, lo, hi);
            rv_add_fast(output + i + 2, u2, mo, k2, e1, ub, urange, ulo, lo, hi);
            rv_add_fast(output + i + 3, u3, mo, k2, e1, ub, urange, ulo, lo, hi);
        }
        for (; i < count; ++i) {
            rv_add_fast(output + i, t1[input1[i]] + t2[input2[i]], mo, k2, e1, ub, urange, ulo, lo, hi);
        }
        return;
    }
    const int32_t *s1 = p->in1_strides;
    const int32_t *s2 = p->in2_strides;
    int32_t o = 0;
    for (int32_t n = 0; n < d[0]; ++n) {
        for (int32_t h = 0; h < d[1]; ++h) {
            for (int32_t w = 0; w < d[2]; ++w) {
                const int8_t *a = input1 + n * s1[0] + h * s1[1] + w * s1[2];
                const int8_t *b = input2 + n * s2[0] + h * s2[1] + w * s2[2];
                for (int32_t c = 0; c < d[3]; ++c) {
                    rv_add_fast(output + o++, t1[a[c * s1[3]]] + t2[b[c * s2[3]]], mo, k2, e1, ub, urange, ulo, lo, hi);
                }
            }
        }
    }
}

void mf_add_s8(const mf_add_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t *d = params->dims;
    const int32_t count = d[0] * d[1] * d[2] * d[3];
    if (count < MF_RV_ADD_TABLE_MIN) {
        rv_add_reference(params, input1, input2, output);
        return;
    }
    if (rv_add_fast_ok(params)) {
        rv_add_tables_fast(params, input1, input2, output);
        return;
    }
    int32_t table1[256];
    int32_t table2[256];
    const int32_t one = (int32_t)1 << params->left_shift;
    for (int32_t v = -128; v < 128; ++v) {
        table1[v + 128] = mf_requantize((v + params->input1_offset) * one, params->input1_multiplier,
                                        params->input1_shift);
        table2[v + 128] = mf_requantize((v + params->input2_offset) * one, params->input2_multiplier,
                                        params->input2_shift);
    }
    const int32_t *t1 = table1 + 128;
    const int32_t *t2 = table2 + 128;
#if defined(__GNUC__)
    /* keep the table pointers in registers: the 2 KB frame puts the tables beyond a 12-bit sp offset, and GCC
     * would otherwise rematerialise each address from sp (3 extra instructions per lookup) */
    __asm__("" : "+r"(t1), "+r"(t2));
#endif
    const int32_t mult[1] = {params->output_multiplier};
    const int32_t shift[1] = {params->output_shift};
    const mf_per_channel_quant oq = {mult, shift};
    const rv_rq q = rv_rq_load(&oq, NULL, 0);
    const int32_t oo = params->output_offset;
    const int32_t lo = params->act_min;
    const int32_t hi = params->act_max;

    if (rv_dense(d, params->in1_strides) && rv_dense(d, params->in2_strides)) {
        for (int32_t i = 0; i < count; ++i) {
            output[i] = rv_requant(&q, t1[input1[i]] + t2[input2[i]], oo, lo, hi);
        }
        return;
    }
    const int32_t *s1 = params->in1_strides;
    const int32_t *s2 = params->in2_strides;
    int32_t o = 0;
    for (int32_t n = 0; n < d[0]; ++n) {
        for (int32_t h = 0; h < d[1]; ++h) {
            for (int32_t w = 0; w < d[2]; ++w) {
                const int8_t *a = input1 + n * s1[0] + h * s1[1] + w * s1[2];
                const int8_t *b = input2 + n * s2[0] + h * s2[1] + w * s2[2];
                for (int32_t c = 0; c < d[3]; ++c) {
                    output[o++] = rv_requant(&q, t1[a[c * s1[3]]] + t2[b[c * s2[3]]], oo, lo, hi);
                }
            }
        }
    }
}
