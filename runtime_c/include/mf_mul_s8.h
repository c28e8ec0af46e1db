/**
 * @file mf_mul_s8.h
 * @brief int8 elementwise multiplication with broadcasting (TFLite MUL, per-tensor quantization).
 */
#ifndef MF_MUL_S8_H
#define MF_MUL_S8_H

#include <stdint.h>

typedef struct {
    int32_t dims[4];           /**< output dims N, H, W, C (rank padded to 4 on the left), each >= 1 */
    int32_t in1_strides[4];    /**< element stride of input1 per output dim, 0 where input1 is broadcast */
    int32_t in2_strides[4];    /**< element stride of input2 per output dim, 0 where input2 is broadcast */
    int32_t input1_offset;     /**< -input1 zero point, [-127, 128] */
    int32_t input2_offset;     /**< -input2 zero point, [-127, 128] */
    int32_t output_offset;     /**< output zero point, [-128, 127] */
    int32_t output_multiplier; /**< Q31 significand of s1 * s2 / s_out, [2^30, 2^31) or 0 */
    int32_t output_shift;      /**< its exponent, [-31, 30]; > 0 shifts left */
    int32_t act_min;           /**< fused activation clamp, [-128, 127] */
    int32_t act_max;           /**< fused activation clamp, [act_min, 127] */
} mf_mul_params;

/**
 * output[i] = clamp(requant((in1 + off1) * (in2 + off2)) + out_off), as TFLM's reference_integer_ops::Mul /
 * BroadcastMul4DSlow. An input of the output's shape may share the output's storage.
 */
void mf_mul_s8(const mf_mul_params *params, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif /* MF_MUL_S8_H */
