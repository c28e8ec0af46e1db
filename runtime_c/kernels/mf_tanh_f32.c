#include "mf_tanh_f32.h"

#include <math.h>

void mf_tanh_f32(int32_t size, const float *input, float *output)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = tanhf(input[i]);
    }
}
