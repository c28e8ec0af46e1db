/**
 * @file mf_pad_s8.h
 * @brief int8 constant padding of a rank <= 4 tensor (TFLite PAD / PADV2).
 */
#ifndef MF_PAD_S8_H
#define MF_PAD_S8_H

#include <stdint.h>

#include "mf_types.h"

typedef struct {
    mf_dims input_dims;     /**< NHWC input dimensions (leading 1s for lower ranks), each >= 1 */
    mf_dims output_dims;    /**< input_dims + pad_before + pad after, per dimension */
    int32_t pad_before[4];  /**< values inserted before the input along n, h, w, c; each >= 0 */
    int32_t pad_value;      /**< value written in the padding, [-128, 127] */
} mf_pad_params;

/**
 * output[n][h][w][c] = input[n - pad_before[0]][h - pad_before[1]][w - pad_before[2]][c - pad_before[3]]
 * where that index lies inside the input, pad_value elsewhere.
 *
 * @param output  must not overlap the input
 */
void mf_pad_s8(const mf_pad_params *params, const int8_t *input, int8_t *output);

#endif /* MF_PAD_S8_H */
