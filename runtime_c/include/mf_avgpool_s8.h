/**
 * @file mf_avgpool_s8.h
 * @brief int8 average pooling (TFLite AVERAGE_POOL_2D), NHWC.
 *
 * No requantization: input and output share scale and zero point.
 */
#ifndef MF_AVGPOOL_S8_H
#define MF_AVGPOOL_S8_H

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
    int32_t act_min;  /**< fused activation clamp, [-128, 127] */
    int32_t act_max;  /**< fused activation clamp, [act_min, 127] */
} mf_avgpool_params;

/**
 * output = clamp(round(sum of the in-bounds window taps / their count)), rounding half away from zero,
 * as TFLM's reference_integer_ops::AveragePool. Padded taps are not counted.
 * Every window must hold at least one in-bounds tap (true for SAME and VALID padding).
 *
 * @param input   [batches][in_h][in_w][channels]
 * @param output  [batches][out_h][out_w][channels]
 */
void mf_avgpool_s8(const mf_avgpool_params *params, const int8_t *input, int8_t *output);

#endif /* MF_AVGPOOL_S8_H */
