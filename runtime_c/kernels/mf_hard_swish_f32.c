#include "mf_hard_swish_f32.h"

void mf_hard_swish_f32(int32_t size, const float *input, float *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const float x = input[i];
        const float r = x + 3.0f;
        const float relu6 = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
        output[i] = x * relu6 / 6.0f;
    }
}
