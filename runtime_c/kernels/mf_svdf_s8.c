#include "mf_svdf_s8.h"

#include <string.h>

#include "mf_requant.h"

/* uint32 -> int32 two's complement, without implementation-defined conversion. */
static int32_t mf_svdf_to_int32(uint32_t x)
{
    return x <= (uint32_t)INT32_MAX ? (int32_t)x : -(int32_t)(~x) - 1;
}

/* (input + offset) . weights row, wrapping modulo 2^32. */
static int32_t mf_svdf_feature_dot(const int8_t *input, const int8_t *row, int32_t n, int32_t input_offset)
{
    uint32_t acc = 0;
    for (int32_t i = 0; i < n; ++i) {
        acc += (uint32_t)(((int32_t)input[i] + input_offset) * (int32_t)row[i]);
    }
    return mf_svdf_to_int32(acc);
}

/* The new state value: saturated to [lo, hi], plus the zero point, wrapped into [lo, hi] (TFLM narrows it). */
static int32_t mf_svdf_new_state(int32_t acc, const mf_svdf_params *p, int32_t lo, int32_t hi)
{
    const int32_t span = hi - lo + 1;
    int32_t v = mf_clamp(mf_requantize(acc, p->multiplier_1, p->shift_1), lo, hi) + p->state_zero_point - lo;
    v = ((v % span) + span) % span;
    return v + lo;
}

static int8_t mf_svdf_output(uint32_t acc, const mf_svdf_params *p)
{
    const int32_t v = mf_requantize(mf_svdf_to_int32(acc), p->multiplier_2, p->shift_2) + p->output_offset;
    return (int8_t)mf_clamp(v, -128, 127);
}

/* The two variants differ only in the state / time-weight type. */
#define MF_SVDF_BODY(T, LO, HI)                                                                                  \
    const int32_t filters = params->num_filters;                                                                 \
    const int32_t memory = params->memory_size;                                                                  \
    const int32_t units = filters / params->rank;                                                                \
    const int32_t total = params->batches * filters * memory;                                                    \
    /* shift the whole buffer left by one slot; every filter's newest slot is rewritten below */                \
    memmove(state, state + 1, (size_t)(total - 1) * sizeof(T));                                                  \
    for (int32_t b = 0; b < params->batches; ++b) {                                                              \
        const int8_t *in_row = input + b * params->input_size;                                                   \
        T *state_b = state + b * filters * memory;                                                               \
        for (int32_t f = 0; f < filters; ++f) {                                                                  \
            const int32_t dot = mf_svdf_feature_dot(in_row, weights_feature + f * params->input_size,            \
                                                    params->input_size, params->input_offset);                   \
            state_b[f * memory + memory - 1] = (T)mf_svdf_new_state(dot, params, LO, HI);                        \
        }                                                                                                        \
        for (int32_t u = 0; u < units; ++u) {                                                                    \
            uint32_t acc = bias != NULL ? (uint32_t)bias[u] : 0u;                                                \
            for (int32_t f = u * params->rank; f < (u + 1) * params->rank; ++f) {                                \
                const T *s = state_b + f * memory;                                                               \
                const T *w = weights_time + f * memory;                                                          \
                for (int32_t m = 0; m < memory; ++m) {                                                           \
                    acc += (uint32_t)((int32_t)w[m] * ((int32_t)s[m] - params->state_zero_point));               \
                }                                                                                                \
            }                                                                                                    \
            output[b * units + u] = mf_svdf_output(acc, params);                                                 \
        }                                                                                                        \
    }

void mf_svdf_s8(const mf_svdf_params *params, const int8_t *input, const int8_t *weights_feature,
                const int8_t *weights_time, const int32_t *bias, int8_t *state, int8_t *output)
{
    MF_SVDF_BODY(int8_t, -128, 127)
}

void mf_svdf_s8_state_s16(const mf_svdf_params *params, const int8_t *input, const int8_t *weights_feature,
                          const int16_t *weights_time, const int32_t *bias, int16_t *state, int8_t *output)
{
    MF_SVDF_BODY(int16_t, -32768, 32767)
}
