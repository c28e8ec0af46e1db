/**
 * @file mf_pad_f32.h
 * @brief float32 constant padding of a rank <= 4 tensor (TFLite PAD / PADV2 float).
 */
#ifndef MF_PAD_F32_H
#define MF_PAD_F32_H

#include <stdint.h>

#include "mf_types.h"

typedef struct {
    mf_dims input_dims;    /**< NHWC input dimensions (leading 1s for lower ranks), each >= 1 */
    mf_dims output_dims;   /**< input_dims + pad_before + pad after, per dimension */
    int32_t pad_before[4]; /**< values inserted before the input along n, h, w, c; each >= 0 */
    float pad_value;       /**< value written in the padding: 0 (PAD) or PADV2's constant */
} mf_pad_f32_params;

/**
 * output[n][h][w][c] = input[n - pad_before[0]][h - pad_before[1]][w - pad_before[2]][c - pad_before[3]]
 * where that index lies inside the input, pad_value elsewhere.
 *
 * @param output  must not overlap the input
 */
void mf_pad_f32(const mf_pad_f32_params *params, const float *input, float *output);

#endif /* MF_PAD_F32_H */
