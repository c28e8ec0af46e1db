/**
 * @file mf_fully_connected_s8.c (arm_dsp variant)
 * @brief int8 FULLY_CONNECTED for Cortex-M4/M7/M33 with the DSP extension, bit-exact with the reference kernel.
 *
 * What is specialised: two output features per inner loop (one input word, two filter words: 3 loads, 6
 * SXTB16/SXTAB16 with the input offset riding on SXTAB16, 4 SMLAD per 4 inputs: ~1.6 instructions/MAC), the
 * requantization in 4 instructions per output (SMMLAR), two outputs clamped at once. Rows are done one by one
 * and each row's outputs in increasing order (the reference's write order, for in-place arena planning).
 * Layers whose multipliers need a left shift, or whose accumulators could reach 2^30, take the reference loop.
 */
#include "mf_fully_connected_s8.h"

#include <string.h>

#include "mf_requant.h"

#if defined(__ARM_FEATURE_DSP)
#include "mf_arm_dsp_common.h"

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

#endif /* __ARM_FEATURE_DSP */

static void fc_reference(const mf_fully_connected_params *params, const mf_per_channel_quant *quant,
                         const int8_t *input, const int8_t *weights, const int32_t *bias, int8_t *output)
{
    for (int32_t b = 0; b < params->batches; ++b) {
        const int8_t *in_row = input + b * params->in_depth;
        for (int32_t o = 0; o < params->out_depth; ++o) {
            const int8_t *w_row = weights + o * params->in_depth;
            int32_t acc = 0;
            for (int32_t i = 0; i < params->in_depth; ++i) {
                acc += ((int32_t)in_row[i] + params->input_offset) * (int32_t)w_row[i];
            }
            if (bias != NULL) {
                acc += bias[o];
            }
            acc = mf_requantize(acc, quant->multiplier[o], quant->shift[o]) + params->output_offset;
            output[b * params->out_depth + o] = (int8_t)mf_clamp(acc, params->act_min, params->act_max);
        }
    }
}

void mf_fully_connected_s8(const mf_fully_connected_params *params, const mf_per_channel_quant *quant,
                           const int8_t *input, const int8_t *weights, const int32_t *bias, int8_t *output)
{
#if defined(__ARM_FEATURE_DSP)
    const int32_t n = params->in_depth, outs = params->out_depth;
    if (!rq_fast_ok(quant, bias, outs, n)) {
        fc_reference(params, quant, input, weights, bias, output);
        return;
    }
    const int32_t off = params->input_offset, off2 = dup16(off);
    const int32_t zp = params->output_offset, lo = params->act_min, hi = params->act_max;
    const int32_t zp2 = dup16(zp), lo2 = dup16(lo), hi2 = dup16(hi);
    for (int32_t b = 0; b < params->batches; ++b) {
        const int8_t *x = input + b * n;
        int8_t *out = output + b * outs;
        int32_t o = 0;
        for (; o + 1 < outs; o += 2) {
            int32_t acc[2] = {0, 0};
            if (bias != NULL) {
                acc[0] = bias[o];
                acc[1] = bias[o + 1];
            }
            row12(x, weights + o * n, n, n, off, off2, acc);
            store2(out + o, rq_apply(acc[0], rq_load(quant->multiplier, quant->shift, o)),
                   rq_apply(acc[1], rq_load(quant->multiplier, quant->shift, o + 1)), zp2, lo2, hi2);
        }
        if (o < outs) {
            const int32_t acc = (bias != NULL ? bias[o] : 0) + dot_scalar(x, weights + o * n, n, off);
            out[o] = store1(rq_apply(acc, rq_load(quant->multiplier, quant->shift, o)), zp, lo, hi);
        }
    }
#else
    fc_reference(params, quant, input, weights, bias, output);
#endif
}
