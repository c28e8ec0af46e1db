/**
 * @file mf_relu_s8.h
 * @brief int8 RELU / RELU_N1_TO_1 with requantization from the input to the output quantization,
 *        bit-exact with TFLM's ReluQuantized (and LiteRT's QuantizedReluX for RELU_N1_TO_1).
 */
#ifndef MF_RELU_S8_H
#define MF_RELU_S8_H

#include <stdint.h>

typedef struct {
    int32_t size;              /**< elements, >= 1 */
    int32_t input_offset;      /**< input zero point, [-128, 127] */
    int32_t output_offset;     /**< output zero point, [-128, 127] */
    int32_t output_multiplier; /**< Q31 significand of input_scale / output_scale, [2^30, 2^31) or 0 */
    int32_t output_shift;      /**< its exponent, [-31, 23]; > 0 shifts left */
    int32_t act_min;           /**< clamp in the output quantization, [-128, 127] */
    int32_t act_max;           /**< clamp in the output quantization, [act_min, 127] */
} mf_relu_params;

/**
 * output[i] = clamp(output_offset + requant(input[i] - input_offset), act_min, act_max).
 * The output may share the input's storage.
 */
void mf_relu_s8(const mf_relu_params *params, const int8_t *input, int8_t *output);

#endif /* MF_RELU_S8_H */
