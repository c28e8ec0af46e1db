/**
 * @file mf_tanh_s8.h
 * @brief int8 tanh (TFLite TANH), bit-exact with TFLM's reference_integer_ops::Tanh
 *        (gemmlowp fixed point on a Q4.27 input, no lookup table).
 */
#ifndef MF_TANH_S8_H
#define MF_TANH_S8_H

#include <stdint.h>

typedef struct {
    int32_t size;               /**< elements, >= 1 */
    int32_t input_zero_point;   /**< [-128, 127] */
    int32_t input_range_radius; /**< |input - zero point| >= radius saturates, [0, 15 * 2^27] */
    int32_t input_multiplier;   /**< Q31 significand of input_scale * 2^27, [2^30, 2^31) */
    int32_t input_left_shift;   /**< its exponent, [0, 62]; only used when the radius is > 0 (shift <= 30) */
} mf_tanh_params;

/** output = tanh(input) elementwise; output scale 1/128, zero point 0. */
void mf_tanh_s8(const mf_tanh_params *params, const int8_t *input, int8_t *output);

#endif /* MF_TANH_S8_H */
