/**
 * @file mf_logistic_s8.h
 * @brief int8 logistic (TFLite LOGISTIC), bit-exact with TFLM's reference_integer_ops::Logistic
 *        (gemmlowp fixed point on a Q4.27 input, no lookup table).
 */
#ifndef MF_LOGISTIC_S8_H
#define MF_LOGISTIC_S8_H

#include <stdint.h>

typedef struct {
    int32_t size;               /**< elements, >= 1 */
    int32_t input_zero_point;   /**< [-128, 127] */
    int32_t input_range_radius; /**< |input - zero point| >= radius saturates, [0, 15 * 2^27] */
    int32_t input_multiplier;   /**< Q31 significand of input_scale * 2^27, [2^30, 2^31) */
    int32_t input_left_shift;   /**< its exponent, [0, 62]; only used when the radius is > 0 (shift <= 30) */
} mf_logistic_params;

/** output = logistic(input) elementwise; output scale 1/256, zero point -128. */
void mf_logistic_s8(const mf_logistic_params *params, const int8_t *input, int8_t *output);

#endif /* MF_LOGISTIC_S8_H */
