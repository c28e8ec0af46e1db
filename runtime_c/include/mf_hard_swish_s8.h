/**
 * @file mf_hard_swish_s8.h
 * @brief int8 HARD_SWISH, bit-exact with TFLM's reference_ops::HardSwish<int8_t>: int16 fixed point,
 *        the input on a "hires" scale (x 2^7), a relu-ish factor in [0, 1] from a rescaled input and an
 *        output multiplier, both int16 Q15 multipliers with exponents (HardSwishPrepare).
 */
#ifndef MF_HARD_SWISH_S8_H
#define MF_HARD_SWISH_S8_H

#include <stdint.h>

typedef struct {
    int32_t size;                        /**< elements, >= 1 */
    int32_t input_zero_point;            /**< [-128, 127] */
    int32_t output_zero_point;           /**< [-128, 127] */
    int32_t output_multiplier_fixedpoint; /**< Q15 of (input_scale / 128) / output_scale, [0, 32767] */
    int32_t output_multiplier_exponent;  /**< its exponent, [-31, 0] */
    int32_t reluish_multiplier_fixedpoint; /**< Q15 of (input_scale / 128) / (3 / 32768), [0, 32767] */
    int32_t reluish_multiplier_exponent; /**< its exponent, [-31, 31] */
} mf_hard_swish_params;

/** output = x * relu6(x + 3) / 6 elementwise on real values. The output may share the input's storage. */
void mf_hard_swish_s8(const mf_hard_swish_params *params, const int8_t *input, int8_t *output);

#endif /* MF_HARD_SWISH_S8_H */
