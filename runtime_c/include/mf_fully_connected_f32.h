/**
 * @file mf_fully_connected_f32.h
 * @brief float32 fully connected layer (TFLite FULLY_CONNECTED float), as TFLite's reference_ops::FullyConnected.
 */
#ifndef MF_FULLY_CONNECTED_F32_H
#define MF_FULLY_CONNECTED_F32_H

#include <stdint.h>

typedef struct {
    int32_t batches;   /**< rows of the input, >= 1 */
    int32_t in_depth;  /**< input features, >= 1 */
    int32_t out_depth; /**< output features, >= 1 */
    float act_min;     /**< fused activation clamp (-FLT_MAX for NONE) */
    float act_max;     /**< fused activation clamp (FLT_MAX for NONE), >= act_min */
} mf_fully_connected_f32_params;

/**
 * output[b][o] = clamp(sum_i input[b][i] * weights[o][i] + bias[o]), accumulated in float in i order.
 * Output written row by row, like the int8 kernel.
 *
 * @param weights  [out_depth][in_depth]
 * @param bias     [out_depth], or NULL
 */
void mf_fully_connected_f32(const mf_fully_connected_f32_params *params, const float *input, const float *weights,
                            const float *bias, float *output);

#endif /* MF_FULLY_CONNECTED_F32_H */
