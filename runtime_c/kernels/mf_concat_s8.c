#include "mf_concat_s8.h"

#include <string.h>

void mf_concat_s8(const mf_concat_params *params, const int8_t *const *inputs, const int32_t *copy_sizes,
                  int8_t *output)
{
    int8_t *out = output;
    for (int32_t k = 0; k < params->outer_size; ++k) {
        for (int32_t i = 0; i < params->num_inputs; ++i) {
            const int32_t n = copy_sizes[i];
            memcpy(out, inputs[i] + k * n, (size_t)n);
            out += n;
        }
    }
}
