#include "mf_quantize.h"

#include "mf_requant.h"

/* roundf(q) (half away from zero) without libm, saturated to +-1e9 so the int conversion is defined. */
static int32_t mf_round_to_int(float q)
{
    if (q != q) {
        return 0; /* NaN */
    }
    if (q > 1e9f) {
        return 1000000000;
    }
    if (q < -1e9f) {
        return -1000000000;
    }
    int32_t t = (int32_t)q; /* truncates toward zero */
    /* Exact: q and t share the integer part, so the difference is q's fraction bits. */
    const float frac = q - (float)t;
    if (frac >= 0.5f) {
        ++t;
    } else if (frac <= -0.5f) {
        --t;
    }
    return t;
}

void mf_quantize_f32_s8(const mf_quantize_params *params, const float *input, int8_t *output, int32_t size)
{
    for (int32_t i = 0; i < size; ++i) {
        const int32_t q = mf_round_to_int(input[i] / params->scale) + params->zero_point;
        output[i] = (int8_t)mf_clamp(q, INT8_MIN, INT8_MAX);
    }
}

void mf_quantize_f32_s16(const mf_quantize_params *params, const float *input, int16_t *output, int32_t size)
{
    for (int32_t i = 0; i < size; ++i) {
        const int32_t q = mf_round_to_int(input[i] / params->scale) + params->zero_point;
        output[i] = (int16_t)mf_clamp(q, INT16_MIN, INT16_MAX);
    }
}

/* One requantization loop per type pair. The input minus its zero point and the output plus its zero
 * point wrap in int32 as TFLM's int32 arithmetic does (only int32 inputs/outputs can get there). */
#define MF_DEFINE_REQUANTIZE(NAME, IN_T, OUT_T, OUT_MIN, OUT_MAX)                                          \
    void NAME(const mf_requantize_params *params, const IN_T *input, OUT_T *output, int32_t size)          \
    {                                                                                                      \
        for (int32_t i = 0; i < size; ++i) {                                                               \
            const int32_t x = (int32_t)((uint32_t)(int32_t)input[i] - (uint32_t)params->input_zero_point); \
            const int32_t y = mf_requantize(x, params->multiplier, params->shift);                         \
            const int32_t out = (int32_t)((uint32_t)y + (uint32_t)params->output_zero_point);              \
            output[i] = (OUT_T)mf_clamp(out, (OUT_MIN), (OUT_MAX));                                        \
        }                                                                                                  \
    }

MF_DEFINE_REQUANTIZE(mf_requantize_s8_s8, int8_t, int8_t, INT8_MIN, INT8_MAX)
MF_DEFINE_REQUANTIZE(mf_requantize_s8_u8, int8_t, uint8_t, 0, UINT8_MAX)
MF_DEFINE_REQUANTIZE(mf_requantize_s8_s16, int8_t, int16_t, INT16_MIN, INT16_MAX)
MF_DEFINE_REQUANTIZE(mf_requantize_s8_s32, int8_t, int32_t, INT32_MIN, INT32_MAX)
MF_DEFINE_REQUANTIZE(mf_requantize_u8_s8, uint8_t, int8_t, INT8_MIN, INT8_MAX)
MF_DEFINE_REQUANTIZE(mf_requantize_s16_s8, int16_t, int8_t, INT8_MIN, INT8_MAX)
MF_DEFINE_REQUANTIZE(mf_requantize_s16_s16, int16_t, int16_t, INT16_MIN, INT16_MAX)
MF_DEFINE_REQUANTIZE(mf_requantize_s16_s32, int16_t, int32_t, INT32_MIN, INT32_MAX)
MF_DEFINE_REQUANTIZE(mf_requantize_s32_s8, int32_t, int8_t, INT8_MIN, INT8_MAX)
MF_DEFINE_REQUANTIZE(mf_requantize_s32_s16, int32_t, int16_t, INT16_MIN, INT16_MAX)
