/**
 * @file mf_sub_f32.h
 * @brief float32 elementwise subtraction with broadcasting (TFLite SUB float).
 */
#ifndef MF_SUB_F32_H
#define MF_SUB_F32_H

#include <stdint.h>

typedef struct {
    int32_t dims[4];        /**< output dims N, H, W, C (rank padded to 4 on the left), each >= 1 */
    int32_t in1_strides[4]; /**< element stride of input1 per output dim, 0 where input1 is broadcast */
    int32_t in2_strides[4]; /**< element stride of input2 per output dim, 0 where input2 is broadcast */
    float act_min;          /**< fused activation clamp (-FLT_MAX for NONE) */
    float act_max;          /**< fused activation clamp (FLT_MAX for NONE), >= act_min */
} mf_sub_f32_params;

/**
 * output[i] = clamp(in1 - in2), broadcasting like TFLite's reference_ops::SubWithActivation / BroadcastSubSlow.
 * Output written in NHWC order; an input of the output's shape may share the output's storage.
 */
void mf_sub_f32(const mf_sub_f32_params *params, const float *input1, const float *input2, float *output);

#endif /* MF_SUB_F32_H */
