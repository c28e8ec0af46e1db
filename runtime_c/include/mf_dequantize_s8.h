/**
 * @file mf_dequantize_s8.h
 * @brief TFLite DEQUANTIZE: int8/int16 -> float32, as TFLM's reference Dequantize.
 *
 * One of the two kernels (with QUANTIZE) that use float: out = scale * (float)(in - zero_point),
 * a single float32 multiply, so the result is the same bits on every IEEE-754 target.
 */
#ifndef MF_DEQUANTIZE_S8_H
#define MF_DEQUANTIZE_S8_H

#include <stdint.h>

typedef struct {
    float scale;        /**< input scale, > 0, finite */
    int32_t zero_point; /**< input zero point, within the input type's range */
} mf_dequantize_params;

/** output[i] = scale * (float)(input[i] - zero_point) */
void mf_dequantize_s8(const mf_dequantize_params *params, const int8_t *input, float *output, int32_t size);
/** As mf_dequantize_s8 for int16 input. */
void mf_dequantize_s16(const mf_dequantize_params *params, const int16_t *input, float *output, int32_t size);

#endif /* MF_DEQUANTIZE_S8_H */
