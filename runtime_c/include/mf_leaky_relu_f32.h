/**
 * @file mf_leaky_relu_f32.h
 * @brief float32 LEAKY_RELU (TFLite reference_ops::LeakyRelu).
 */
#ifndef MF_LEAKY_RELU_F32_H
#define MF_LEAKY_RELU_F32_H

#include <stdint.h>

/**
 * output[i] = input[i] > 0 ? input[i] : input[i] * alpha over `size` elements (>= 0); any alpha (also > 1
 * or < 0). The output may share the input's storage.
 */
void mf_leaky_relu_f32(int32_t size, float alpha, const float *input, float *output);

#endif /* MF_LEAKY_RELU_F32_H */
