/**
 * @file mf_svdf_s8.h
 * @brief int8 SVDF (TFLite SVDF, integer path), bit-exact with TFLM's EvalIntegerSvdfReference.
 *
 * Shapes: input [batches][input_size], weights_feature [num_filters][input_size],
 * weights_time [num_filters][memory_size], bias [num_units] with num_units = num_filters / rank,
 * state [batches][num_filters][memory_size], output [batches][num_units].
 *
 * One call = one time step: the state is shifted left by one slot, every filter's newest slot gets
 * wrap(clamp(requant(sum_i (input + input_offset) * weights_feature, multiplier_1, shift_1)) + state_zero_point),
 * then output[b][u] = clamp_int8(requant(bias[u] + sum_{r < rank} sum_m weights_time[f][m] * (state[b][f][m] -
 * state_zero_point), multiplier_2, shift_2) + output_offset) with f = u * rank + r. Sums wrap modulo 2^32 (as
 * TFLM's int32 arithmetic does on every target) and the fused activation is not applied (TFLM does not).
 *
 * The state is the caller's persistent memory: keep it between calls (streaming) and fill it with the
 * reset value (state zero point for int8, 0 for int16) before the first call. No scratch buffer.
 */
#ifndef MF_SVDF_S8_H
#define MF_SVDF_S8_H

#include <stdint.h>

typedef struct {
    int32_t batches;          /**< rows of the input, >= 1 */
    int32_t input_size;       /**< input features, >= 1 */
    int32_t num_filters;      /**< feature filters, a multiple of rank, >= 1 */
    int32_t rank;             /**< filters summed per output unit, >= 1 */
    int32_t memory_size;      /**< time steps kept per filter, >= 1 */
    int32_t input_offset;     /**< -input zero point, [-127, 128] */
    int32_t state_zero_point; /**< state zero point, within the state type's range */
    int32_t output_offset;    /**< output zero point, [-128, 127] */
    int32_t multiplier_1;     /**< input * weights_feature -> state, Q31 significand */
    int32_t shift_1;          /**< its exponent, [-31, 30]; > 0 shifts left */
    int32_t multiplier_2;     /**< state * weights_time -> output, Q31 significand */
    int32_t shift_2;          /**< its exponent, [-31, 30]; > 0 shifts left */
} mf_svdf_params;

/** int8 time weights and int8 state. */
void mf_svdf_s8(const mf_svdf_params *params, const int8_t *input, const int8_t *weights_feature,
                const int8_t *weights_time, const int32_t *bias, int8_t *state, int8_t *output);

/** int16 time weights and int16 state. */
void mf_svdf_s8_state_s16(const mf_svdf_params *params, const int8_t *input, const int8_t *weights_feature,
                          const int16_t *weights_time, const int32_t *bias, int16_t *state, int8_t *output);

#endif /* MF_SVDF_S8_H */
