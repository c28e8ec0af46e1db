#include "mf_logistic_f32.h"

#include <math.h>

void mf_logistic_f32(int32_t size, const float *input, float *output)
{
    /* -log(FLT_EPSILON) rounded up: above it 1 / (1 + exp(-x)) rounds to 1 in float. */
    const float upper = 16.619047164916992188f;
    const float lower = -9.0f;
    for (int32_t i = 0; i < size; ++i) {
        const float x = input[i];
        if (x > upper) {
            output[i] = 1.0f;
        } else if (x < lower) {
            output[i] = expf(x);
        } else {
            output[i] = 1.0f / (1.0f + expf(-x));
        }
    }
}
