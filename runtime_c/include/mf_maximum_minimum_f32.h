/**
 * @file mf_maximum_minimum_f32.h
 * @brief float32 elementwise maximum / minimum with broadcasting (TFLite MAXIMUM, MINIMUM).
 */
#ifndef MF_MAXIMUM_MINIMUM_F32_H
#define MF_MAXIMUM_MINIMUM_F32_H

#include <stdint.h>

typedef struct {
    int32_t dims[4];        /**< output dims N, H, W, C (rank padded to 4 on the left), each >= 1 */
    int32_t in1_strides[4]; /**< element stride of input1 per output dim, 0 where input1 is broadcast */
    int32_t in2_strides[4]; /**< element stride of input2 per output dim, 0 where input2 is broadcast */
    int32_t minimum;        /**< 0: MAXIMUM, 1: MINIMUM */
} mf_maximum_minimum_f32_params;

/**
 * output[i] = in1 > in2 ? in1 : in2 (MAXIMUM) or in1 < in2 ? in1 : in2 (MINIMUM), as TFLM's MaximumOp /
 * MinimumOp (a NaN in1 yields in2; a NaN in2 yields NaN).
 * Output written in NHWC order; an input of the output's shape may share the output's storage.
 */
void mf_maximum_minimum_f32(const mf_maximum_minimum_f32_params *params, const float *input1, const float *input2,
                            float *output);

#endif /* MF_MAXIMUM_MINIMUM_F32_H */
