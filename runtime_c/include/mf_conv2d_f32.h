/**
 * @file mf_conv2d_f32.h
 * @brief float32 2-D convolution (TFLite CONV_2D float, OHWI filter, grouped when C_in > filter.c),
 *        same semantics and summation order as TFLite's reference_ops::Conv.
 */
#ifndef MF_CONV2D_F32_H
#define MF_CONV2D_F32_H

#include <stdint.h>

#include "mf_types.h"

typedef struct {
    mf_dims input;      /**< [N, H, W, C_in], all >= 1 */
    mf_dims filter;     /**< [C_out, KH, KW, C_in / groups] (OHWI), all >= 1; C_in % filter.c == 0 */
    mf_dims output;     /**< [N, OH, OW, C_out]; output.n == input.n, output.c == filter.n */
    int32_t stride_h;   /**< >= 1 */
    int32_t stride_w;   /**< >= 1 */
    int32_t dilation_h; /**< >= 1 */
    int32_t dilation_w; /**< >= 1 */
    int32_t pad_h;      /**< leading (top) padding, >= 0 */
    int32_t pad_w;      /**< leading (left) padding, >= 0 */
    float act_min;      /**< fused activation clamp: -FLT_MAX (NONE), 0 (RELU, RELU6) or -1 (RELU_N1_TO_1) */
    float act_max;      /**< fused activation clamp: FLT_MAX (NONE, RELU), 6 (RELU6) or 1 (RELU_N1_TO_1) */
} mf_conv2d_f32_params;

/**
 * output[n][y][x][o] = clamp(sum_{ky,kx,i} input[n][iy][ix][g*filter.c + i] * filter[o][ky][kx][i] + bias[o])
 * with iy = y*stride_h - pad_h + ky*dilation_h, ix = x*stride_w - pad_w + kx*dilation_w,
 * g = o / (C_out / groups); taps outside the input are skipped (zero padding). Accumulates in float,
 * in (ky, kx, i) order. Writes the output in NHWC order, like mf_conv2d_s8 (in-place planning relies on it).
 *
 * @param filter  OHWI
 * @param bias    [C_out], or NULL
 */
void mf_conv2d_f32(const mf_conv2d_f32_params *params, const float *input, const float *filter, const float *bias,
                   float *output);

#endif /* MF_CONV2D_F32_H */
