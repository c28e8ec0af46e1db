/**
 * @file mf_lstm_s8.h
 * @brief int8 UNIDIRECTIONAL_SEQUENCE_LSTM with an int16 cell state (TFLite's 8x8->16 integer LSTM),
 *        bit-exact with TensorFlow Lite Micro's reference kernel. No peephole, projection or layer norm.
 *
 * Per batch row b and time step t (gate pre-activations int16 Q3.12, gate outputs int16 Q0.15):
 *   gate_k = act_k(sat16(requant16(W_k x_t + bias_k) + requant16(R_k h_{t-1})))  k = forget, input, cell, output
 *   c_t    = clip(sat16(mul16(f, c_{t-1}) + mul16(i, g)))
 *   h_t    = clamp8(mul(tanh(c_t), o) + hidden_zp),  output[t] = h_t
 * act is the table sigmoid of reference_integer_ops::Logistic (int16) for f, i, o and the table tanh
 * of reference_integer_ops::Tanh (int16) for the cell gate g. The state persists across calls (TFLite
 * variable tensors, streaming as in TFLM): the caller resets it once to h = hidden_zp, c = 0.
 */
#ifndef MF_LSTM_S8_H
#define MF_LSTM_S8_H

#include <stdint.h>

#include "mf_types.h"

/** One gate: the input and recurrent fully connected layers that feed it. */
typedef struct {
    const int8_t *input_weights;     /**< [state_size][input_size], symmetric */
    const int8_t *recurrent_weights; /**< [state_size][state_size], symmetric */
    const int32_t *bias;             /**< [state_size], added to the input FC; NULL = none */
    mf_quant input_quant;            /**< input FC accumulator -> Q3.12 */
    mf_quant recurrent_quant;        /**< recurrent FC accumulator -> Q3.12 */
} mf_lstm_gate;

typedef struct {
    int32_t batches;            /**< >= 1 */
    int32_t time_steps;         /**< >= 1 */
    int32_t input_size;         /**< features per step, >= 1 */
    int32_t state_size;         /**< units, >= 1 */
    int32_t time_major;         /**< 0: input [batches][time][input], 1: [time][batches][input] (output alike) */
    int32_t input_offset;       /**< -input zero point, [-127, 128] */
    int32_t hidden_offset;      /**< -hidden state zero point, [-127, 128] */
    int32_t hidden_zp;          /**< hidden state (= output) zero point, [-128, 127] */
    int32_t cell_clip;          /**< quantized cell clip, [1, 32767]; 0 = no clipping */
    int32_t tanh_multiplier;    /**< cell state tanh input multiplier: 0 (power of two) or 3 */
    int32_t tanh_left_shift;    /**< cell state tanh input shift, [0, 19] */
    mf_quant forget_cell_quant; /**< forget gate x cell state -> cell state */
    mf_quant input_cell_quant;  /**< input gate x cell gate -> cell state */
    mf_quant hidden_quant;      /**< tanh(cell) x output gate -> hidden state */
    const mf_lstm_gate *forget_gate;
    const mf_lstm_gate *input_gate;
    const mf_lstm_gate *cell_gate;
    const mf_lstm_gate *output_gate;
} mf_lstm_s8_params;

/**
 * @param input         [batches][time_steps][input_size] (or time major)
 * @param output        [batches][time_steps][state_size] (or time major); overlaps neither input nor state
 * @param hidden_state  [batches][state_size], read and updated (h of the last step)
 * @param cell_state    [batches][state_size], read and updated
 */
void mf_lstm_s8(const mf_lstm_s8_params *params, const int8_t *input, int8_t *output, int8_t *hidden_state,
                int16_t *cell_state);

#endif /* MF_LSTM_S8_H */
