/**
 * @file mf_relu6_s8.h
 * @brief int8 RELU6 as TFLM's Relu6Quantized: a clamp in the INPUT's quantization, no rescaling
 *        (TFLM assumes the output is quantized like the input).
 */
#ifndef MF_RELU6_S8_H
#define MF_RELU6_S8_H

#include <stdint.h>

/**
 * output[i] = min(max(input[i], zero), six) over `size` elements (>= 0), where zero is the input zero
 * point and six the quantized 6.0, both in [-128, 127]. The output may share the input's storage.
 */
void mf_relu6_s8(int32_t size, int32_t zero, int32_t six, const int8_t *input, int8_t *output);

#endif /* MF_RELU6_S8_H */
