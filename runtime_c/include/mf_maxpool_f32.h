/**
 * @file mf_maxpool_f32.h
 * @brief float32 max pooling (TFLite MAX_POOL_2D float), NHWC.
 */
#ifndef MF_MAXPOOL_F32_H
#define MF_MAXPOOL_F32_H

#include <stdint.h>

typedef struct {
    int32_t batches;  /**< N, >= 1 */
    int32_t in_h;     /**< input height, >= 1 */
    int32_t in_w;     /**< input width, >= 1 */
    int32_t channels; /**< C, >= 1 */
    int32_t out_h;    /**< output height, >= 1 */
    int32_t out_w;    /**< output width, >= 1 */
    int32_t filter_h; /**< window height, >= 1 */
    int32_t filter_w; /**< window width, >= 1 */
    int32_t stride_h; /**< >= 1 */
    int32_t stride_w; /**< >= 1 */
    int32_t pad_h;    /**< leading (top) padding, [0, filter_h) */
    int32_t pad_w;    /**< leading (left) padding, [0, filter_w) */
    float act_min;    /**< fused activation clamp (-FLT_MAX for NONE) */
    float act_max;    /**< fused activation clamp (FLT_MAX for NONE), >= act_min */
} mf_maxpool_f32_params;

/**
 * output = clamp(max of the in-bounds window taps), as TFLite's reference_ops::MaxPool (padded taps are skipped).
 * Every window must hold at least one in-bounds tap (true for SAME and VALID padding).
 * Output written in NHWC order, like the int8 kernel.
 *
 * @param input   [batches][in_h][in_w][channels]
 * @param output  [batches][out_h][out_w][channels]
 */
void mf_maxpool_f32(const mf_maxpool_f32_params *params, const float *input, float *output);

#endif /* MF_MAXPOOL_F32_H */
