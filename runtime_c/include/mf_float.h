/**
 * @file mf_float.h
 * @brief Helpers shared by the microforge float32 kernels (never used by the int8 kernels).
 */
#ifndef MF_FLOAT_H
#define MF_FLOAT_H

/**
 * Fused activation clamp, as TFLite's ActivationFunctionWithMinMax: min(max(x, lo), hi).
 * A NaN input stays NaN. For activation NONE the range is [-FLT_MAX, FLT_MAX].
 */
static inline float mf_clampf(float x, float lo, float hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

#endif /* MF_FLOAT_H */
