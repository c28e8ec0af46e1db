#include "mf_concat_f32.h"

#include <string.h>

void mf_concat_f32(const mf_concat_f32_params *params, const float *const *inputs, const int32_t *copy_sizes,
                   float *output)
{
    float *out = output;
    for (int32_t k = 0; k < params->outer_size; ++k) {
        for (int32_t i = 0; i < params->num_inputs; ++i) {
            const int32_t n = copy_sizes[i];
            memcpy(out, inputs[i] + k * n, (size_t)n * sizeof(float));
            out += n;
        }
    }
}
