/**
 * @file mf_mean_f32.h
 * @brief float32 mean over some dimensions of a rank <= 4 tensor (TFLite MEAN float), e.g. global average pooling.
 */
#ifndef MF_MEAN_F32_H
#define MF_MEAN_F32_H

#include <stdint.h>

typedef struct {
    int32_t out_ext[4]; /**< extents of the kept dims of the (left-padded) rank-4 input, 1 where reduced */
    int32_t red_ext[4]; /**< extents of the reduced dims, 1 where kept */
    int32_t strides[4]; /**< row-major element strides of the rank-4 input */
    int32_t count;      /**< elements averaged per output: product of red_ext, >= 1 */
} mf_mean_f32_params;

/**
 * For each output element (kept dims in row-major order): the float sum of its reduced inputs divided
 * by count, as TFLite's reference_ops::Mean.
 */
void mf_mean_f32(const mf_mean_f32_params *params, const float *input, float *output);

#endif /* MF_MEAN_F32_H */
