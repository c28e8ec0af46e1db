/**
 * @file mf_hard_swish_f32.h
 * @brief float32 HARD_SWISH (TFLite reference_ops::HardSwish<float>).
 */
#ifndef MF_HARD_SWISH_F32_H
#define MF_HARD_SWISH_F32_H

#include <stdint.h>

/**
 * output[i] = x * min(6, max(0, x + 3)) / 6 in float, in that order, over `size` elements (>= 0).
 * The output may share the input's storage.
 */
void mf_hard_swish_f32(int32_t size, const float *input, float *output);

#endif /* MF_HARD_SWISH_F32_H */
