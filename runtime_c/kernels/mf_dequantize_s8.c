#include "mf_dequantize_s8.h"

void mf_dequantize_s8(const mf_dequantize_params *params, const int8_t *input, float *output, int32_t size)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = params->scale * (float)((int32_t)input[i] - params->zero_point);
    }
}

void mf_dequantize_s16(const mf_dequantize_params *params, const int16_t *input, float *output, int32_t size)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = params->scale * (float)((int32_t)input[i] - params->zero_point);
    }
}
