/**
 * @file mf_tanh_f32.h
 * @brief float32 hyperbolic tangent (TFLite TANH float / ONNX Tanh).
 */
#ifndef MF_TANH_F32_H
#define MF_TANH_F32_H

#include <stdint.h>

/** output[i] = tanhf(input[i]) over `size` values (>= 0). The output may share the input's storage. */
void mf_tanh_f32(int32_t size, const float *input, float *output);

#endif /* MF_TANH_F32_H */
