/**
 * @file arm_mve/mf_fully_connected_s8.c
 * @brief Cortex-M55 Helium (MVE) variant of mf_fully_connected_s8, bit-exact with
 *        runtime_c/kernels/mf_fully_connected_s8.c.
 *
 * Four output features per pass: a tail-predicated DLSTP/LETP loop of VMLADAVA.S8 dot products sharing each
 * 16-byte input vector (10 instructions per 64 MACs), plus VADDVA sums of the weight rows for the input
 * offset (sum((x + off) * w) = sum(x * w) + off * sum(w)). Requantization four features at a time (VQRDMULH
 * and a sign-fixed VRSHL, bit-exact with mf_requantize). Fewer than four features: the reference loop.
 * Expected: ~0.25 instructions/MAC for in_depth >= 64.
 */
#include "mf_arm_mve_build.h" /* first: how this file is built */

#include "mf_fully_connected_s8.h"

#include <arm_mve.h>

#include "mf_requant.h"

#include "mf_arm_mve_common.h"

void mf_fully_connected_s8(const mf_fully_connected_params *params, const mf_per_channel_quant *quant,
                           const int8_t *input, const int8_t *weights, const int32_t *bias, int8_t *output)
{
    const int32_t n = params->in_depth;
    const int32_t cout = params->out_depth;
    for (int32_t b = 0; b < params->batches; ++b) {
        const int8_t *in_row = input + b * n;
        int8_t *out_row = output + b * cout;
        if (cout < 4) { /* the reference loop */
            for (int32_t o = 0; o < cout; ++o) {
                const int8_t *w_row = weights + o * n;
                int32_t acc = 0;
                for (int32_t i = 0; i < n; ++i) {
                    acc += ((int32_t)in_row[i] + params->input_offset) * (int32_t)w_row[i];
                }
                if (bias != NULL) {
                    acc += bias[o];
                }
                acc = mf_requantize(acc, quant->multiplier[o], quant->shift[o]) + params->output_offset;
                out_row[o] = (int8_t)mf_clamp(acc, params->act_min, params->act_max);
            }
            continue;
        }
        for (int32_t o = 0; o < cout; o += 4) {
            /* a partial last group is the last four features, storing only the new ones */
            const int32_t base = cout - o >= 4 ? o : cout - 4;
            const int8_t *w = weights + base * n;
            int32x4_t v = mve_dot4(in_row, w, n, n);
            v = vmlaq_n_s32(v, mve_sum4(w, n, n), params->input_offset);
            if (bias != NULL) {
                v = vaddq_s32(v, vldrwq_s32(bias + base));
            }
            const mve_pred16_t p = (mve_pred16_t)(0xFFFFu << (4 * (o - base)));
            mve_requant_store(v, quant->multiplier + base, quant->shift + base, params->output_offset,
                              params->act_min, params->act_max, out_row + base, p);
        }
    }
}
