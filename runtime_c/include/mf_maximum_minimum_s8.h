/**
 * @file mf_maximum_minimum_s8.h
 * @brief int8 elementwise maximum / minimum with broadcasting (TFLite MAXIMUM, MINIMUM).
 */
#ifndef MF_MAXIMUM_MINIMUM_S8_H
#define MF_MAXIMUM_MINIMUM_S8_H

#include <stdint.h>

typedef struct {
    int32_t dims[4];        /**< output dims N, H, W, C (rank padded to 4 on the left), each >= 1 */
    int32_t in1_strides[4]; /**< element stride of input1 per output dim, 0 where input1 is broadcast */
    int32_t in2_strides[4]; /**< element stride of input2 per output dim, 0 where input2 is broadcast */
    int32_t minimum;        /**< 0: MAXIMUM, 1: MINIMUM */
} mf_maximum_minimum_params;

/**
 * output[i] = in1 > in2 ? in1 : in2 (MAXIMUM) or in1 < in2 ? in1 : in2 (MINIMUM), as TFLM's MaximumOp /
 * MinimumOp on the raw int8 values (inputs and output share one quantization).
 * Output written in NHWC order; an input of the output's shape may share the output's storage.
 */
void mf_maximum_minimum_s8(const mf_maximum_minimum_params *params, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif /* MF_MAXIMUM_MINIMUM_S8_H */
