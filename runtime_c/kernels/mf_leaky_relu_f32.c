#include "mf_leaky_relu_f32.h"

void mf_leaky_relu_f32(int32_t size, float alpha, const float *input, float *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const float x = input[i];
        output[i] = x > 0.0f ? x : x * alpha;
    }
}
