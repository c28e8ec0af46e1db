/**
 * @file mf_quantize.h
 * @brief TFLite QUANTIZE: float32 -> int8/int16 (affine quantization) and integer -> integer requantization.
 *
 * The float path is the one place besides DEQUANTIZE where a kernel uses float: it divides in float32
 * and rounds half away from zero exactly as TFLM's AffineQuantize (roundf(x / scale) + zero_point).
 */
#ifndef MF_QUANTIZE_H
#define MF_QUANTIZE_H

#include <stdint.h>

/** Float -> integer quantization parameters. */
typedef struct {
    float scale;        /**< output scale, > 0, finite */
    int32_t zero_point; /**< output zero point, within the output type's range */
} mf_quantize_params;

/** Integer -> integer requantization: out = clamp(requant(in - input_zero_point) + output_zero_point). */
typedef struct {
    int32_t multiplier;        /**< Q31 significand of input_scale / output_scale, [2^30, 2^31) or 0 */
    int32_t shift;             /**< exponent, [-31, 30]; > 0 shifts left */
    int32_t input_zero_point;  /**< within the input type's range */
    int32_t output_zero_point; /**< within the output type's range */
} mf_requantize_params;

/**
 * out[i] = clamp(round_half_away(in[i] / scale) + zero_point, -128, 127), the quotient in float32.
 * NaN maps to zero_point; quotients beyond +-1e9 saturate (TFLM's float->int32 cast is undefined there).
 */
void mf_quantize_f32_s8(const mf_quantize_params *params, const float *input, int8_t *output, int32_t size);
/** As mf_quantize_f32_s8, clamped to [-32768, 32767]. */
void mf_quantize_f32_s16(const mf_quantize_params *params, const float *input, int16_t *output, int32_t size);

/* Integer requantization, one function per (input, output) type pair TFLM's QUANTIZE supports.
 * The input minus its zero point wraps in int32 like TFLM's (only reachable with int32 inputs). */
void mf_requantize_s8_s8(const mf_requantize_params *params, const int8_t *input, int8_t *output, int32_t size);
void mf_requantize_s8_u8(const mf_requantize_params *params, const int8_t *input, uint8_t *output, int32_t size);
void mf_requantize_s8_s16(const mf_requantize_params *params, const int8_t *input, int16_t *output, int32_t size);
void mf_requantize_s8_s32(const mf_requantize_params *params, const int8_t *input, int32_t *output, int32_t size);
void mf_requantize_u8_s8(const mf_requantize_params *params, const uint8_t *input, int8_t *output, int32_t size);
void mf_requantize_s16_s8(const mf_requantize_params *params, const int16_t *input, int8_t *output, int32_t size);
void mf_requantize_s16_s16(const mf_requantize_params *params, const int16_t *input, int16_t *output, int32_t size);
void mf_requantize_s16_s32(const mf_requantize_params *params, const int16_t *input, int32_t *output, int32_t size);
void mf_requantize_s32_s8(const mf_requantize_params *params, const int32_t *input, int8_t *output, int32_t size);
void mf_requantize_s32_s16(const mf_requantize_params *params, const int32_t *input, int16_t *output, int32_t size);

#endif /* MF_QUANTIZE_H */
