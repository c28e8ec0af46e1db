/**
 * @file mf_relu_f32.h
 * @brief float32 RELU / RELU6 / RELU_N1_TO_1 (TFLite float ReluFloat / Relu6Float / Relu1).
 */
#ifndef MF_RELU_F32_H
#define MF_RELU_F32_H

#include <stdint.h>

/**
 * output[i] = input[i] clamped to [lower, upper] over `size` elements (>= 0); RELU passes upper = FLT_MAX.
 * A NaN input stays NaN. The output may share the input's storage.
 */
void mf_relu_f32(int32_t size, float lower, float upper, const float *input, float *output);

#endif /* MF_RELU_F32_H */
