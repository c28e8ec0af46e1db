/**
 * @file mf_types.h
 * @brief Types shared by the microforge int8 kernels.
 */
#ifndef MF_TYPES_H
#define MF_TYPES_H

#include <stddef.h>
#include <stdint.h>

/** NHWC tensor dimensions; unused leading dimensions are 1. */
typedef struct {
    int32_t n; /**< batch, >= 1 */
    int32_t h; /**< height, >= 1 */
    int32_t w; /**< width, >= 1 */
    int32_t c; /**< channels, >= 1 */
} mf_dims;

/** Per-output-channel requantization: real = multiplier * 2^(shift - 31). */
typedef struct {
    const int32_t *multiplier; /**< Q31 significands, one per output channel, [2^30, 2^31) or 0 */
    const int32_t *shift;      /**< exponents, one per output channel, [-31, 30]; > 0 shifts left */
} mf_per_channel_quant;

/** One requantization step for per-tensor ops. */
typedef struct {
    int32_t multiplier; /**< Q31 significand, [2^30, 2^31) or 0 */
    int32_t shift;      /**< exponent, [-31, 30]; > 0 shifts left */
} mf_quant;

#endif /* MF_TYPES_H */
