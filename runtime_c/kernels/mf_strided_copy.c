#include "mf_strided_copy.h"

#include <stddef.h>
#include <string.h>

void mf_strided_copy(const mf_strided_copy_params *params, const void *input, void *output)
{
    const int32_t *count = params->count;
    const int32_t *step = params->step;
    const size_t size = (size_t)params->elem_size;
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    /* A unit inner step makes each innermost run one contiguous block. */
    const int contiguous = step[3] == 1;
    const size_t run = (size_t)count[3] * size;

    for (int32_t i0 = 0; i0 < count[0]; ++i0) {
        for (int32_t i1 = 0; i1 < count[1]; ++i1) {
            for (int32_t i2 = 0; i2 < count[2]; ++i2) {
                const ptrdiff_t base = (ptrdiff_t)params->start + (ptrdiff_t)i0 * step[0] +
                                       (ptrdiff_t)i1 * step[1] + (ptrdiff_t)i2 * step[2];
                if (contiguous) {
                    memcpy(out, in + base * (ptrdiff_t)size, run);
                    out += run;
                } else if (size == 1) {
                    for (int32_t i3 = 0; i3 < count[3]; ++i3) {
                        *out++ = in[base + (ptrdiff_t)i3 * step[3]];
                    }
                } else {
                    for (int32_t i3 = 0; i3 < count[3]; ++i3) {
                        memcpy(out, in + (base + (ptrdiff_t)i3 * step[3]) * (ptrdiff_t)size, size);
                        out += size;
                    }
                }
            }
        }
    }
}
