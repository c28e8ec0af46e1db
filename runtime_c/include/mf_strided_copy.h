/**
 * @file mf_strided_copy.h
 * @brief Type-agnostic 4-D strided gather: the data movement of TRANSPOSE, SLICE, STRIDED_SLICE, SPLIT, SPLIT_V.
 *
 * These ops copy elements without looking at their values, so one kernel serves int8 and float32
 * (as TFLM's TRANSPOSE does per scalar size).
 */
#ifndef MF_STRIDED_COPY_H
#define MF_STRIDED_COPY_H

#include <stdint.h>

typedef struct {
    int32_t count[4];  /**< output extents, outermost first, each >= 1; the output is dense row-major */
    int32_t step[4];   /**< input element step per output index along each dim, any sign */
    int32_t start;     /**< input element index of output element 0, >= 0 */
    int32_t elem_size; /**< bytes per element: 1 (int8) or 4 (float32); any size >= 1 works */
} mf_strided_copy_params;

/**
 * output[i0][i1][i2][i3] = input[start + i0 * step[0] + i1 * step[1] + i2 * step[2] + i3 * step[3]],
 * elements of elem_size bytes. Every input index addressed must lie inside the input.
 *
 * @param output  must not overlap the input
 */
void mf_strided_copy(const mf_strided_copy_params *params, const void *input, void *output);

#endif /* MF_STRIDED_COPY_H */
