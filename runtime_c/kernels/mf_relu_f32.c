#include "mf_relu_f32.h"

void mf_relu_f32(int32_t size, float lower, float upper, const float *input, float *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const float x = input[i];
        output[i] = x > upper ? upper : (x < lower ? lower : x);
    }
}
