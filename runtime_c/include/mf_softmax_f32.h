/**
 * @file mf_softmax_f32.h
 * @brief float32 softmax over the last dimension (TFLite SOFTMAX float, with beta).
 */
#ifndef MF_SOFTMAX_F32_H
#define MF_SOFTMAX_F32_H

#include <stdint.h>

typedef struct {
    int32_t outer; /**< rows (product of all but the last dimension), >= 1 */
    int32_t depth; /**< row length (last dimension), >= 1 */
    float beta;    /**< input scaling, > 0 */
} mf_softmax_f32_params;

/**
 * Per row: output[c] = exp((input[c] - max) * beta) / sum_k exp((input[k] - max) * beta),
 * as TFLite's reference_ops::Softmax. Each row is read whole (max, sum) before its first write,
 * then output[c] is written from input[c]: the output may overlap the input element for element.
 */
void mf_softmax_f32(const mf_softmax_f32_params *params, const float *input, float *output);

#endif /* MF_SOFTMAX_F32_H */
