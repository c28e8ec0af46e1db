#include "mf_relu6_s8.h"

void mf_relu6_s8(int32_t size, int32_t zero, int32_t six, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const int32_t x = input[i];
        /* TFLM's order: the upper bound is tested first */
        output[i] = (int8_t)(x > six ? six : (x < zero ? zero : x));
    }
}
