/**
 * @file mf_softmax_s8.h
 * @brief int8 softmax over the last dimension (TFLite SOFTMAX), bit-exact with TFLM's
 *        reference_ops::Softmax (gemmlowp fixed point, no lookup table).
 */
#ifndef MF_SOFTMAX_S8_H
#define MF_SOFTMAX_S8_H

#include <stdint.h>

typedef struct {
    int32_t outer;            /**< rows (product of all but the last dimension), >= 1 */
    int32_t depth;            /**< row length (last dimension), >= 1 */
    int32_t input_multiplier; /**< Q31 significand of beta * input_scale * 2^26, [2^30, 2^31) */
    int32_t input_left_shift; /**< its exponent, [0, 31] */
    int32_t diff_min;         /**< differences to the row max below this are dropped, <= 0 */
} mf_softmax_params;

/**
 * int8 -> int8 softmax; output scale 1/256, zero point -128.
 *
 * TFLM aborts on a row whose fixed-point sum of exp() reaches 512 (e.g. >= 512 entries equal to
 * the row maximum); there every true probability is below 1/512 and this kernel outputs -128.
 */
void mf_softmax_s8(const mf_softmax_params *params, const int8_t *input, int8_t *output);

/** int8 -> int16 softmax; output scale 1/65536, zero point -32768. */
void mf_softmax_s8_s16(const mf_softmax_params *params, const int8_t *input, int16_t *output);

#endif /* MF_SOFTMAX_S8_H */
