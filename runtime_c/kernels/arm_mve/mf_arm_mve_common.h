/**
 * @file mf_arm_mve_common.h (arm_mve variant, private)
 * @brief Inline helpers shared by the arm_mve conv and FC kernels: the bit-exact vector requantize-and-store
 *        of 4 lanes, and the VMLADAVA dot products of 4 output channels (mve_dot4) and 4 weight sums (mve_sum4).
 *
 * Include it after <arm_mve.h>, "mf_types.h" and "mf_requant.h".
 */
#ifndef MF_ARM_MVE_COMMON_H
#define MF_ARM_MVE_COMMON_H

/* x * multiplier * 2^shift per lane, bit-exact with mf_requantize (see the file comment), then + offset,
 * clamp, and store the lanes enabled by p as int8. */
static inline void mve_requant_store(int32x4_t acc, const int32_t *mult, const int32_t *shift, int32_t out_off,
                                     int32_t lo, int32_t hi, int8_t *out, mve_pred16_t p)
{
    const int32x4_t m = vldrwq_z_s32(mult, p);
    const int32x4_t s = vldrwq_z_s32(shift, p);
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t right = vminq_s32(s, zero);
    int32x4_t x = vshlq_s32(acc, vmaxq_s32(s, zero));
    x = vqrdmulhq_s32(x, m);
    /* negative values move down by one before the round-half-up shift: ties go away from zero */
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right), 31));
    x = vrshlq_s32(x, right);
    x = vaddq_n_s32(x, out_off);
    x = vmaxq_s32(x, vdupq_n_s32(lo));
    x = vminq_s32(x, vdupq_n_s32(hi));
    vstrbq_p_s32(out, x, p);
}

/* {dot(x, w), dot(x, w + ws), dot(x, w + 2ws), dot(x, w + 3ws)} over n >= 1 bytes: a tail-predicated
 * low-overhead loop (DLSTP/LETP), 10 instructions per 16 x 4 MACs. VMLADAVA needs even accumulators. */
/* not inlined in -Os builds: there the callers keep too many values live for its fixed registers */
#if defined(__OPTIMIZE_SIZE__)
__attribute__((noinline, unused)) static
#else
static inline
#endif
int32x4_t mve_dot4(const int8_t *x, const int8_t *w, int32_t ws, int32_t n)
{
    register int32_t a0 __asm__("r0");
    register int32_t a1 __asm__("r2");
    register int32_t a2 __asm__("r4");
    register int32_t a3 __asm__("r6");
    const int8_t *w1 = w + ws;
    const int8_t *w2 = w1 + ws;
    const int8_t *w3 = w2 + ws;
    int32x4_t res;
    __asm__ volatile("movs %[a0], #0\n\tmovs %[a1], #0\n\tmovs %[a2], #0\n\tmovs %[a3], #0\n\t"
                     "dlstp.8 lr, %[n]\n"
                     "1:\n\t"
                     "vldrb.8 q0, [%[x]], #16\n\t"
                     "vldrb.8 q1, [%[w0]], #16\n\t"
                     "vmlava.s8 %[a0], q0, q1\n\t"
                     "vldrb.8 q1, [%[w1]], #16\n\t"
                     "vmlava.s8 %[a1], q0, q1\n\t"
                     "vldrb.8 q1, [%[w2]], #16\n\t"
                     "vmlava.s8 %[a2], q0, q1\n\t"
                     "vldrb.8 q1, [%[w3]], #16\n\t"
                     "vmlava.s8 %[a3], q0, q1\n\t"
                     "letp lr, 1b\n\t"
                     "vmov %q[res][2], %q[res][0], %[a0], %[a2]\n\t"
                     "vmov %q[res][3], %q[res][1], %[a1], %[a3]\n"
                     : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [res] "=w"(res),
                       [x] "+r"(x), [w0] "+r"(w), [w1] "+r"(w1), [w2] "+r"(w2), [w3] "+r"(w3)
                     : [n] "r"(n)
                     : "q0", "q1", "lr", "memory");
    return res;
}

/* {sum(w[0..n)), sum((w + ws)[0..n)), ...} for four channels */
static inline int32x4_t mve_sum4(const int8_t *w, int32_t ws, int32_t n)
{
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int32_t i = 0; i < n; i += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)(n - i));
        s0 = vaddvaq_s8(s0, vldrbq_z_s8(w + i, p));
        s1 = vaddvaq_s8(s1, vldrbq_z_s8(w + ws + i, p));
        s2 = vaddvaq_s8(s2, vldrbq_z_s8(w + 2 * ws + i, p));
        s3 = vaddvaq_s8(s3, vldrbq_z_s8(w + 3 * ws + i, p));
    }
    int32x4_t v = vdupq_n_s32(s0);
    v = vsetq_lane_s32(s1, v, 1);
    v = vsetq_lane_s32(s2, v, 2);
    return vsetq_lane_s32(s3, v, 3);
}

#endif /* MF_ARM_MVE_COMMON_H */
