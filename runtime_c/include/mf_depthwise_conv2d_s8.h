/**
 * @file mf_depthwise_conv2d_s8.h
 * @brief int8 depthwise 2-D convolution (TFLite DEPTHWISE_CONV_2D, per-channel or per-tensor
 *        symmetric weights, any depth multiplier), bit-exact with TFLM's
 *        reference_integer_ops::DepthwiseConvPerChannel.
 */
#ifndef MF_DEPTHWISE_CONV2D_S8_H
#define MF_DEPTHWISE_CONV2D_S8_H

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
    int32_t input_offset;     /**< -input zero point, [-127, 128] */
    int32_t output_offset;    /**< output zero point, [-128, 127] */
    int32_t act_min;          /**< fused activation clamp, [-128, 127] */
    int32_t act_max;          /**< fused activation clamp, [act_min, 127] */
    int32_t scratch_bytes;    /**< bytes at `scratch` (0: none; see _get_buffer_size) */
} mf_depthwise_conv2d_params;

/**
 * Arena scratch: bytes of working memory this kernel's fast path wants for `params` (0: none; the portable
 * reference kernel wants none, an ISA variant may want e.g. an im2col patch). The compiler plans them in the
 * arena and passes them as `scratch` with their size in params->scratch_bytes (4-byte aligned), or passes NULL
 * and 0 when it refused them for RAM: the kernel then runs its path without scratch, with the same output.
 * The compiler's twin of this function is compiler/microforge/ops/_scratch.py.
 */
int32_t mf_depthwise_conv2d_s8_get_buffer_size(const mf_depthwise_conv2d_params *params);

/**
 * For output channel o = c * depth_multiplier + m:
 * output[n][y][x][o] = clamp(requant(sum_{ky,kx} (input[n][iy][ix][c] + input_offset)
 *                                    * filter[ky][kx][o] + bias[o]) + output_offset)
 * with iy = y*stride_h - pad_h + ky*dilation_h, ix = x*stride_w - pad_w + kx*dilation_w;
 * taps outside the input are skipped (zero padding in the real domain).
 *
 * @param quant   one multiplier/shift per output channel
 * @param filter  [1, KH, KW, C * depth_multiplier], symmetric (zero point 0)
 * @param bias    [C * depth_multiplier] int32, or NULL
 * @param scratch params->scratch_bytes of arena scratch, or NULL
 */
void mf_depthwise_conv2d_s8(const mf_depthwise_conv2d_params *params, const mf_per_channel_quant *quant,
                            const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch);

#endif /* MF_DEPTHWISE_CONV2D_S8_H */
