/**
 * @file mf_prelu_s8.h
 * @brief int8 PRELU with a broadcast int8 alpha tensor, bit-exact with TFLM's reference_ops::BroadcastPrelu4DSlow.
 */
#ifndef MF_PRELU_S8_H
#define MF_PRELU_S8_H

#include <stdint.h>

typedef struct {
    int32_t dims[4];           /**< output (= input) dims N, H, W, C, rank padded to 4 on the left, each >= 1 */
    int32_t alpha_strides[4];  /**< element stride of alpha per output dim, 0 where alpha is broadcast */
    int32_t input_offset;      /**< -input zero point, [-127, 128] */
    int32_t alpha_offset;      /**< -alpha zero point, [-127, 128] */
    int32_t output_offset;     /**< output zero point, [-128, 127] */
    int32_t output_multiplier_1; /**< Q31 of input_scale / output_scale (x >= 0), [2^30, 2^31) or 0 */
    int32_t output_shift_1;    /**< its exponent, [-31, 23]; > 0 shifts left */
    int32_t output_multiplier_2; /**< Q31 of input_scale * alpha_scale / output_scale (x < 0) */
    int32_t output_shift_2;    /**< its exponent, [-31, 15] */
} mf_prelu_params;

/**
 * x = input + input_offset; output = clamp(output_offset + (x >= 0 ? requant_1(x) : requant_2(x * (alpha +
 * alpha_offset)))). The output may share the input's storage (not alpha's).
 */
void mf_prelu_s8(const mf_prelu_params *params, const int8_t *input, const int8_t *alpha, int8_t *output);

#endif /* MF_PRELU_S8_H */
