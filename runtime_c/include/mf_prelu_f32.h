/**
 * @file mf_prelu_f32.h
 * @brief float32 PRELU with a broadcast alpha tensor (TFLM's BroadcastPrelu4DSlowFloat).
 */
#ifndef MF_PRELU_F32_H
#define MF_PRELU_F32_H

#include <stdint.h>

typedef struct {
    int32_t dims[4];          /**< output (= input) dims N, H, W, C, rank padded to 4 on the left, each >= 1 */
    int32_t alpha_strides[4]; /**< element stride of alpha per output dim, 0 where alpha is broadcast */
} mf_prelu_f32_params;

/** output = x >= 0 ? x : x * alpha. The output may share the input's storage (not alpha's). */
void mf_prelu_f32(const mf_prelu_f32_params *params, const float *input, const float *alpha, float *output);

#endif /* MF_PRELU_F32_H */
