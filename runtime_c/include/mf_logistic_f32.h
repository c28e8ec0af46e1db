/**
 * @file mf_logistic_f32.h
 * @brief float32 logistic (TFLite LOGISTIC float / ONNX Sigmoid).
 */
#ifndef MF_LOGISTIC_F32_H
#define MF_LOGISTIC_F32_H

#include <stdint.h>

/**
 * output[i] = 1 / (1 + exp(-input[i])) elementwise over `size` values (>= 0), with TFLite
 * reference_ops::Logistic's cut-offs: 1 above 16.619047 (where the float result is 1 anyway),
 * exp(x) below -9 (where 1 + exp(-x) loses exp(x)'s precision). The output may share the input's storage.
 */
void mf_logistic_f32(int32_t size, const float *input, float *output);

#endif /* MF_LOGISTIC_F32_H */
