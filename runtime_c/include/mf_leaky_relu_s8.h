/**
 * @file mf_leaky_relu_s8.h
 * @brief int8 LEAKY_RELU, bit-exact with TFLM's reference_ops::QuantizeLeakyRelu: one multiplier for
 *        non-negative inputs (input_scale / output_scale), one for negative ones (alpha * that).
 */
#ifndef MF_LEAKY_RELU_S8_H
#define MF_LEAKY_RELU_S8_H

#include <stdint.h>

typedef struct {
    int32_t size;                /**< elements, >= 1 */
    int32_t input_offset;        /**< input zero point, [-128, 127] */
    int32_t output_offset;       /**< output zero point, [-128, 127] */
    int32_t multiplier_identity; /**< Q31 significand of input_scale / output_scale, [2^30, 2^31) or 0 */
    int32_t shift_identity;      /**< its exponent, [-31, 23]; > 0 shifts left */
    int32_t multiplier_alpha;    /**< Q31 significand of alpha * input_scale / output_scale, |m| in [2^30, 2^31) or 0;
                                      negative for a negative alpha */
    int32_t shift_alpha;         /**< its exponent, [-31, 23] */
} mf_leaky_relu_params;

/**
 * x = input[i] - input_offset; output[i] = clamp(output_offset + (x >= 0 ? requant(x, identity)
 * : sign(alpha) * requant(x, |alpha|))).
 * The output may share the input's storage.
 */
void mf_leaky_relu_s8(const mf_leaky_relu_params *params, const int8_t *input, int8_t *output);

#endif /* MF_LEAKY_RELU_S8_H */
