/**
 * @file mf_mean_s8.h
 * @brief int8 mean over some dimensions of a rank <= 4 tensor (TFLite MEAN), e.g. global average pooling.
 */
#ifndef MF_MEAN_S8_H
#define MF_MEAN_S8_H

#include <stdint.h>

typedef struct {
    int32_t out_ext[4];        /**< extents of the kept dims of the (left-padded) rank-4 input, 1 where reduced */
    int32_t red_ext[4];        /**< extents of the reduced dims, 1 where kept */
    int32_t strides[4];        /**< row-major element strides of the rank-4 input */
    int32_t input_offset_sum;  /**< input zero point * count, count = product of red_ext in [1, 2^24) */
    int32_t output_multiplier; /**< Q31 significand of s_in / (s_out * count), [0, 2^31) */
    int32_t output_shift;      /**< its exponent, [-31, 30]; > 0 shifts left */
    int32_t output_offset;     /**< output zero point, [-128, 127] */
} mf_mean_params;

/**
 * For each output element (kept dims in row-major order), with sum the int32 sum of its reduced inputs:
 * output = clamp(requant(sum - input_offset_sum) + output_offset, -128, 127), as TFLM's QuantizedMeanOrSum
 * (the 1/count already folded into the multiplier).
 */
void mf_mean_s8(const mf_mean_params *params, const int8_t *input, int8_t *output);

#endif /* MF_MEAN_S8_H */
