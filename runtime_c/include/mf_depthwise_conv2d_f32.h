/**
 * @file mf_depthwise_conv2d_f32.h
 * @brief float32 depthwise 2-D convolution (TFLite DEPTHWISE_CONV_2D float, any depth multiplier),
 *        same semantics and summation order as TFLite's reference_ops::DepthwiseConv.
 */
#ifndef MF_DEPTHWISE_CONV2D_F32_H
#define MF_DEPTHWISE_CONV2D_F32_H

#include <stdint.h>

#include "mf_types.h"

typedef struct {
    mf_dims input;            /**< [N, H, W, C], all >= 1 */
    mf_dims output;           /**< [N, OH, OW, C * depth_multiplier]; output.n == input.n */
    int32_t filter_h;         /**< KH, >= 1 */
    int32_t filter_w;         /**< KW, >= 1 */
    int32_t depth_multiplier; /**< M, >= 1 */
    int32_t stride_h;         /**< >= 1 */
    int32_t stride_w;         /**< >= 1 */
    int32_t dilation_h;       /**< >= 1 */
    int32_t dilation_w;       /**< >= 1 */
    int32_t pad_h;            /**< leading (top) padding, >= 0 */
    int32_t pad_w;            /**< leading (left) padding, >= 0 */
    float act_min;            /**< fused activation clamp (-FLT_MAX for NONE) */
    float act_max;            /**< fused activation clamp (FLT_MAX for NONE), >= act_min */
} mf_depthwise_conv2d_f32_params;

/**
 * For output channel o = c * depth_multiplier + m:
 * output[n][y][x][o] = clamp(sum_{ky,kx} input[n][iy][ix][c] * filter[ky][kx][o] + bias[o])
 * with iy = y*stride_h - pad_h + ky*dilation_h, ix = x*stride_w - pad_w + kx*dilation_w;
 * taps outside the input are skipped (zero padding). Output written in NHWC order, like the int8 kernel.
 *
 * @param filter  [1, KH, KW, C * depth_multiplier]
 * @param bias    [C * depth_multiplier], or NULL
 */
void mf_depthwise_conv2d_f32(const mf_depthwise_conv2d_f32_params *params, const float *input, const float *filter,
                             const float *bias, float *output);

#endif /* MF_DEPTHWISE_CONV2D_F32_H */
