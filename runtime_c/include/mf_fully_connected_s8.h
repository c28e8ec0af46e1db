/**
 * @file mf_fully_connected_s8.h
 * @brief int8 fully connected layer (TFLite FULLY_CONNECTED, per-tensor or per-channel weights).
 */
#ifndef MF_FULLY_CONNECTED_S8_H
#define MF_FULLY_CONNECTED_S8_H

#include <stdint.h>

#include "mf_types.h"

typedef struct {
    int32_t batches;       /**< rows of the input, >= 1 */
    int32_t in_depth;      /**< input features, >= 1 */
    int32_t out_depth;     /**< output features, >= 1 */
    int32_t input_offset;  /**< -input zero point, [-127, 128] */
    int32_t output_offset; /**< output zero point, [-128, 127] */
    int32_t act_min;       /**< fused activation clamp, [-128, 127] */
    int32_t act_max;       /**< fused activation clamp, [act_min, 127] */
} mf_fully_connected_params;

/**
 * output[b][o] = clamp(requant(sum_i (input[b][i] + input_offset) * weights[o][i] + bias[o]) + output_offset)
 *
 * @param weights  [out_depth][in_depth], symmetric (zero point 0)
 * @param bias     [out_depth] int32, or NULL
 * @param quant    one multiplier/shift per output feature
 */
void mf_fully_connected_s8(const mf_fully_connected_params *params, const mf_per_channel_quant *quant,
                           const int8_t *input, const int8_t *weights, const int32_t *bias, int8_t *output);

#endif /* MF_FULLY_CONNECTED_S8_H */
