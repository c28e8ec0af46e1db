/*
 * int8 PAD (reference kernel): the output is written front to back as alternating runs of pad_value (memset) and
 * input runs (memcpy). The dims inside the innermost padded dim k are unpadded, so each in-range position of
 * dims 0..k-1 copies one contiguous run of in[k] * (product of the inner dims) bytes, and the input is read
 * sequentially; adjacent padding (the end of one row and the start of the next, whole padded rows) is merged into
 * one fill. Cost (M4): per copy run (in-range position of dims 0..k-1, plus its pad fill) ~90 instructions, plus per
 * byte ~0.35 (16-byte LDM/STM blocks when input and output share their alignment mod 4; ~0.7 otherwise on cores
 * with unaligned access, 1 byte at a time without it). picolibc's memcpy/memset are byte loops (~4 per byte).
 * No buffers.
 */
#include "mf_pad_s8.h"

#include <stdint.h>
#include <string.h>

/* Word accesses through memcpy (no aliasing issue; GCC makes it LDR/STR, or LDM/STM for 16 aligned bytes).
 * Both pointers 4-byte aligned (after a byte prologue when they share their alignment): 16-byte blocks. Otherwise
 * unaligned words where the hardware allows them, else bytes. */
#if defined(__ARM_FEATURE_UNALIGNED) || defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
#define MF_PAD_UNALIGNED 1
#else
#define MF_PAD_UNALIGNED 0
#endif
#if defined(__GNUC__)
#define MF_PAD_ALIGNED4(p) __builtin_assume_aligned((p), 4)
#else
#define MF_PAD_ALIGNED4(p) (p)
#endif

/* Up to 3 bytes, without a loop (GCC would turn a byte loop into a call of the byte-wise libc routine). */
static void copy_tail(int8_t *dst, const int8_t *src, int32_t n)
{
    if (n & 2) {
        dst[0] = src[0];
        dst[1] = src[1];
        dst += 2;
        src += 2;
    }
    if (n & 1) {
        dst[0] = src[0];
    }
}

static void copy_run(int8_t *dst, const int8_t *src, int32_t n)
{
    if ((((uintptr_t)dst ^ (uintptr_t)src) & 3u) == 0) {
        while (n > 0 && ((uintptr_t)dst & 3u) != 0) {
            *dst++ = *src++;
            --n;
        }
        const int8_t *end = src + (n & ~15);
        while (src != end) {
            memcpy(MF_PAD_ALIGNED4(dst), MF_PAD_ALIGNED4(src), 16);
            src += 16;
            dst += 16;
        }
        end = src + (n & 12);
        while (src != end) {
            memcpy(MF_PAD_ALIGNED4(dst), MF_PAD_ALIGNED4(src), 4);
            src += 4;
            dst += 4;
        }
        copy_tail(dst, src, n & 3);
    } else if (MF_PAD_UNALIGNED) {
        const int8_t *end = src + (n & ~15);
        while (src != end) {
            uint32_t w0, w1, w2, w3;
            memcpy(&w0, src, 4);
            memcpy(&w1, src + 4, 4);
            memcpy(&w2, src + 8, 4);
            memcpy(&w3, src + 12, 4);
            memcpy(dst, &w0, 4);
            memcpy(dst + 4, &w1, 4);
            memcpy(dst + 8, &w2, 4);
            memcpy(dst + 12, &w3, 4);
            src += 16;
            dst += 16;
        }
        end = src + (n & 12);
        while (src != end) {
            uint32_t w;
            memcpy(&w, src, 4);
            memcpy(dst, &w, 4);
            src += 4;
            dst += 4;
        }
        copy_tail(dst, src, n & 3);
    } else {
        for (; n > 0; --n) {
            *dst++ = *src++;
        }
    }
}

static void fill_run(int8_t *dst, int value, int32_t n)
{
    const uint32_t w = (uint32_t)(uint8_t)value * 0x01010101u;
    const uint32_t pat[4] = {w, w, w, w};
    if (MF_PAD_UNALIGNED && n < 32) { /* short fills (the usual row ends): unaligned words, no prologue */
        int8_t *end = dst + (n & ~3);
        while (dst != end) {
            memcpy(dst, &w, 4);
            dst += 4;
        }
    } else {
        while (n > 0 && ((uintptr_t)dst & 3u) != 0) {
            *dst++ = (int8_t)value;
            --n;
        }
        int8_t *end = dst + (n & ~15);
        while (dst != end) {
            memcpy(MF_PAD_ALIGNED4(dst), pat, 16);
            dst += 16;
        }
        end = dst + (n & 12);
        while (dst != end) {
            memcpy(MF_PAD_ALIGNED4(dst), &w, 4);
            dst += 4;
        }
    }
    if (n & 2) {
        dst[0] = (int8_t)value;
        dst[1] = (int8_t)value;
        dst += 2;
    }
    if (n & 1) {
        dst[0] = (int8_t)value;
    }
}

void mf_pad_s8(const mf_pad_params *params, const int8_t *input, int8_t *output)
{
    const int32_t in[4] = {params->input_dims.n, params->input_dims.h, params->input_dims.w, params->input_dims.c};
    const int32_t out[4] = {params->output_dims.n, params->output_dims.h, params->output_dims.w,
                            params->output_dims.c};
    const int32_t *before = params->pad_before;
    const int value = (int8_t)params->pad_value;

    int32_t k = -1; /* the innermost padded dim */
    for (int32_t j = 0; j < 4; ++j) {
        if (out[j] != in[j]) {
            k = j;
        }
    }
    int32_t blk[4]; /* output elements per step of dim j */
    blk[3] = 1;
    for (int32_t j = 3; j > 0; --j) {
        blk[j - 1] = blk[j] * out[j];
    }
    if (k < 0) {
        copy_run(output, input, blk[0] * out[0]);
        return;
    }
    const int32_t run = in[k] * blk[k];                         /* bytes copied per in-range position */
    const int32_t head = before[k] * blk[k];                    /* padding before each run */
    const int32_t tail = (out[k] - in[k] - before[k]) * blk[k]; /* and after it */

    /* dims 0..k-1 as three loop levels (levels >= k: one in-range position), each as padding before the input's
     * range, the in-range positions, padding after it; whole padded sub-blocks only add to the pending fill */
    int32_t n_in[3], pad_b[3], pad_a[3];
    for (int32_t j = 0; j < 3; ++j) {
        n_in[j] = j < k ? in[j] : 1;
        pad_b[j] = j < k ? before[j] * blk[j] : 0;
        pad_a[j] = j < k ? (out[j] - in[j] - before[j]) * blk[j] : 0;
    }
    int32_t pending = 0; /* pad bytes not yet written */
    pending += pad_b[0];
    for (int32_t i0 = 0; i0 < n_in[0]; ++i0) {
        pending += pad_b[1];
        for (int32_t i1 = 0; i1 < n_in[1]; ++i1) {
            pending += pad_b[2];
            for (int32_t i2 = 0; i2 < n_in[2]; ++i2) {
                pending += head;
                fill_run(output, value, pending);
                output += pending;
                copy_run(output, input, run);
                output += run;
                input += run;
                pending = tail;
            }
            pending += pad_a[2];
        }
        pending += pad_a[1];
    }
    pending += pad_a[0];
    fill_run(output, value, pending);
}
