/**
 * @file mf_concat_f32.h
 * @brief float32 concatenation along one axis (TFLite CONCATENATION float).
 */
#ifndef MF_CONCAT_F32_H
#define MF_CONCAT_F32_H

#include <stdint.h>

typedef struct {
    int32_t outer_size; /**< product of the output dimensions before the axis, >= 1 */
    int32_t num_inputs; /**< number of inputs, [1, 10] */
} mf_concat_f32_params;

/**
 * For each of the outer_size blocks, copies copy_sizes[i] values from each input i in turn:
 * output = [in0 block 0, in1 block 0, ..., in0 block 1, in1 block 1, ...].
 *
 * @param inputs      num_inputs pointers; input i holds outer_size * copy_sizes[i] values
 * @param copy_sizes  per input: its size along the axis times the product of the dimensions after it, >= 0
 * @param output      outer_size * sum(copy_sizes) values; must not overlap any input
 */
void mf_concat_f32(const mf_concat_f32_params *params, const float *const *inputs, const int32_t *copy_sizes,
                   float *output);

#endif /* MF_CONCAT_F32_H */
