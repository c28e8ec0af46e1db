/**
 * @file mf_sub_s8.h
 * @brief int8 elementwise subtraction with broadcasting (TFLite SUB, per-tensor quantization).
 */
#ifndef MF_SUB_S8_H
#define MF_SUB_S8_H

#include <stdint.h>

typedef struct {
    int32_t dims[4];           /**< output dims N, H, W, C (rank padded to 4 on the left), each >= 1 */
    int32_t in1_strides[4];    /**< element stride of input1 per output dim, 0 where input1 is broadcast */
    int32_t in2_strides[4];    /**< element stride of input2 per output dim, 0 where input2 is broadcast */
    int32_t input1_offset;     /**< -input1 zero point, [-127, 128] */
    int32_t input2_offset;     /**< -input2 zero point, [-127, 128] */
    int32_t output_offset;     /**< output zero point, [-128, 127] */
    int32_t left_shift;        /**< pre-scaling left shift of the offset inputs, 20 for int8 */
    int32_t input1_multiplier; /**< Q31 significand of input1 scale / (2 * max input scale), [2^30, 2^31) or 0 */
    int32_t input1_shift;      /**< its exponent, [-31, 0] */
    int32_t input2_multiplier; /**< Q31 significand of input2 scale / (2 * max input scale), [2^30, 2^31) or 0 */
    int32_t input2_shift;      /**< its exponent, [-31, 0] */
    int32_t output_multiplier; /**< Q31 significand of 2 * max input scale / (2^left_shift * output scale) */
    int32_t output_shift;      /**< its exponent, [-31, 0] */
    int32_t act_min;           /**< fused activation clamp, [-128, 127] */
    int32_t act_max;           /**< fused activation clamp, [act_min, 127] */
} mf_sub_params;

/**
 * output[i] = clamp(requant(requant((in1 + off1) << ls, m1) - requant((in2 + off2) << ls, m2), mo) + out_off),
 * as TFLM's reference_ops::Sub / BroadcastQuantSubSlow. Output written in NHWC order; an input of the
 * output's shape may share the output's storage (each element is read before it is written).
 */
void mf_sub_s8(const mf_sub_params *params, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif /* MF_SUB_S8_H */
