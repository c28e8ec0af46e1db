/**
 * @file mf_arm_dsp_dw_band.h (arm_dsp variant, private to mf_depthwise_conv2d_s8.c)
 * @brief Depthwise 3x3 (dilation 1, stride_w 1 or 2, any stride_h, any depth multiplier) in bands of output rows
 *        through int16 planes: SMLAD over pairs of window columns of one channel.
 *
 * For a band of R output rows and a chunk of cc input channels, the (R - 1) * stride_h + 3 input rows the band
 * needs are copied into int16 planes (one per channel, [row][column], raw input values, no offset), columns and
 * rows outside the image filled with the input zero point (-input_offset): every window then has its 9 taps, and
 *   sum (x + off) w  over the taps inside the image == sum x w over all 9 taps + off * sum(w)
 * because padded taps hold x = -off. The bias absorbs off * sum(w) per channel, so borders cost nothing extra.
 * Weights and bias are doubled (|2w| <= 256 fits int16; |2 acc| < 2^31 as rq_fast_ok checks) so the
 * accumulator is directly SMMLAR's doubled operand.
 *
 * Per output channel, the 3 window rows' weights sit in registers as pairs (w0, w1), (w1, w2); two adjacent output
 * pixels (stride 1) take per window row the pairs P0 = (x0, x1), P2 = (x2, x3):
 *   out0 += P0 . (w0, w1) + x2 w2     (SMLAD, SMLABT)
 *   out1 += x1 w0 + P2 . (w1, w2)     (SMLATB, SMLAD)
 * 2 loads + 4 multiply-accumulates per 6 MACs; stride 2 reads P0 = (x0, x1), P2 = (x2, x3) per pixel (SMLAD +
 * SMLABT). Requantization per output: ADD (rounding constant with the sign), SMMLAR, ASR, SSAT, STRB (rq_fold's
 * zero-point folding), plus the activation clamps when they are not int8's.
 *
 * The band's outputs go straight to the output when that cannot clobber input still to be read (disjoint
 * buffers, one chunk holding every channel, or an output band ending before the band's lowest input read), else
 * into a band buffer in the scratch, copied out after the band (the reference order: a band is written after all
 * its reads, and later bands read only input the reference reads after writing it).
 */
#ifndef MF_ARM_DSP_DW_BAND_H
#define MF_ARM_DSP_DW_BAND_H

#define MF_DWB_MAX_ROWS 128 /* plane rows per band */

typedef struct {
    const int8_t *input;
    const int8_t *filter;
    const int32_t *bias, *mult, *shift;
    /* the geometry as the planes see it: rows (band direction) and columns (plane direction); transposed when the
     * image is processed column by column (tall narrow maps): then in_h / out_h / sh / ph are the image's widths,
     * strides and paddings and the byte steps below swap */
    int32_t n, in_h, in_w, C, M, OC, out_h, out_w;
    int32_t sh, sw, ph, pw;
    int32_t in_row, in_col;   /* input bytes between rows / columns */
    int32_t out_row, out_col; /* output bytes between rows / columns */
    int32_t f_row, f_col;     /* filter bytes between kernel rows / columns */
    int32_t in_batch, out_batch;
    int32_t off, zp21, lo, hi;
    int32_t wpp;    /* plane width (even) */
    int32_t rs;     /* plane row stride in bytes: 16, 32, 64, 128 or 256, >= 2 wpp */
    int32_t R;      /* output rows per band */
    int32_t cc;     /* channels per chunk */
    int32_t bufout; /* 1: bands through the band buffer */
} dwb_ctx;

static inline uint32_t dwb_ld(const int16_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void dwb_st(int16_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof v);
}

static inline int32_t dwb_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlad((int16x2_t)a, (int16x2_t)b, acc);
}

/* the doubled pair (2a, 2b) as int16 lanes from a2 = 2a and b: PKHBT a2, b, LSL #17 (GCC packs with 3) */
static inline uint32_t dwb_pair2(int32_t a2, int32_t b)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #17" : "=r"(r) : "r"(a2), "r"(b));
    return r;
}

/* Copy input rows [iy0, iy0 + rows) (any may lie outside the image), channels [c0, c0 + cc) of batch b, into planes
 * buf + ci * ps + r * rh (rh = rs / 2 values per plane row), column xp = input column xp - pw: columns [xa, xb)
 * (inside the image) only; rows outside the image get the zero point there. The columns outside [xa, xb) hold the
 * zero point from dwb_run's fill (only this function writes the planes, always the same columns); dirty: bit r set
 * when plane row r holds image values (rows outside the image are refilled only then). */
__attribute__((noinline)) static void dwb_copy(const dwb_ctx *d, int16_t *buf, int32_t ps, int32_t b, int32_t iy0,
                                               int32_t rows, int32_t c0, int32_t cc, uint32_t *dirty)
{
    const int32_t wpp = d->wpp, C = d->in_col, rh = d->rs / 2;
    const int16_t z = (int16_t)(-d->off);
    const int32_t xa = d->pw < wpp ? d->pw : wpp;
    const int32_t xb = d->in_w + d->pw < wpp ? d->in_w + d->pw : wpp;
    if (xb <= xa) {
        return;
    }
    /* plane rows [ra, rb) lie inside the image */
    const int32_t ra = iy0 < 0 ? (-iy0 < rows ? -iy0 : rows) : 0;
    int32_t rb = d->in_h - iy0 < rows ? d->in_h - iy0 : rows;
    rb = rb < ra ? ra : rb;
    for (int32_t r = 0; r < rows; ++r) {
        if (r >= ra && r < rb) {
            dirty[r / 32] |= 1u << (r % 32);
            continue;
        }
        if (((dirty[r / 32] >> (r % 32)) & 1u) == 0) {
            continue; /* still the zero point since dwb_run's fill */
        }
        dirty[r / 32] &= ~(1u << (r % 32));
        for (int32_t ci = 0; ci < d->cc; ++ci) { /* every plane a chunk may use */
            int16_t *pl = buf + ci * ps + r * rh;
            for (int32_t xp = xa; xp < xb; ++xp) {
                pl[xp] = z;
            }
        }
    }
    if (rb <= ra) {
        return;
    }
    const int8_t *row0 = d->input + b * d->in_batch + (iy0 + ra) * d->in_row + (xa - d->pw) * C + c0;
    int16_t *dst0 = buf + ra * rh + xa;
    const int32_t npair = (xb - xa) / 2, groups = cc / 4, nrows = rb - ra;
    int32_t ci = 0;
    if (groups > 0 && npair > 0) {
        /* 4 channels x 2 columns per step: SXTB16 splits even / odd channels, PKHBT / PKHTB pair the two columns of
         * one channel, one (unaligned) word store per plane: 17 instructions per 8 values; an odd last column 8;
         * ~16 per row of a group, ~14 per group */
        const int8_t *src = row0;
        int16_t *p0 = dst0, *p1 = p0 + ps, *p2 = p0 + 2 * ps, *p3 = p0 + 3 * ps;
        int32_t K[9];
        K[0] = npair * 2 * C;                  /* bytes of input per row's pairs */
        K[1] = (xb - xa) & 1;                  /* odd last column */
        K[2] = d->in_row - K[0];               /* input: next row */
        K[3] = 2 * rh - 4 * npair;             /* planes: next row (bytes) */
        K[5] = nrows;
        K[6] = 4 - nrows * d->in_row;          /* input: next group of 4 channels */
        K[7] = 8 * ps - nrows * 2 * rh;        /* planes: next group */
        K[8] = groups;
        const int8_t *end;
        uint32_t v0, v1, e0, o0, t;
        __asm__ volatile("0:\n\t"
                         "ldr %[t], %[k5]\n\t"
                         "str %[t], %[k4]\n\t"
                         "6:\n\t"
                         "ldr %[t], %[k0]\n\t"
                         "add %[end], %[src], %[t]\n\t"
                         "1:\n\t"
                         "ldr %[v1], [%[src], %[C]]\n\t"
                         "ldr %[v0], [%[src]]\n\t"
                         "add %[src], %[src], %[C], lsl #1\n\t"
                         "sxtb16 %[e0], %[v0]\n\t"
                         "sxtb16 %[o0], %[v0], ror #8\n\t"
                         "sxtb16 %[v0], %[v1]\n\t"
                         "sxtb16 %[v1], %[v1], ror #8\n\t"
                         "pkhbt %[t], %[e0], %[v0], lsl #16\n\t"
                         "str %[t], [%[p0]], #4\n\t"
                         "pkhtb %[v0], %[v0], %[e0], asr #16\n\t"
                         "str %[v0], [%[p2]], #4\n\t"
                         "pkhbt %[t], %[o0], %[v1], lsl #16\n\t"
                         "str %[t], [%[p1]], #4\n\t"
                         "pkhtb %[v1], %[v1], %[o0], asr #16\n\t"
                         "str %[v1], [%[p3]], #4\n\t"
                         "cmp %[src], %[end]\n\t"
                         "bne 1b\n\t"
                         "ldr %[t], %[k1]\n\t"
                         "cmp %[t], #0\n\t"
                         "beq 2f\n\t"
                         "ldrsb %[t], [%[src]]\n\t"
                         "strh %[t], [%[p0]]\n\t"
                         "ldrsb %[t], [%[src], #1]\n\t"
                         "strh %[t], [%[p1]]\n\t"
                         "ldrsb %[t], [%[src], #2]\n\t"
                         "strh %[t], [%[p2]]\n\t"
                         "ldrsb %[t], [%[src], #3]\n\t"
                         "strh %[t], [%[p3]]\n\t"
                         "2:\n\t"
                         "ldr %[t], %[k2]\n\t"
                         "add %[src], %[src], %[t]\n\t"
                         "ldr %[t], %[k3]\n\t"
                         "add %[p0], %[p0], %[t]\n\t"
                         "add %[p1], %[p1], %[t]\n\t"
                         "add %[p2], %[p2], %[t]\n\t"
                         "add %[p3], %[p3], %[t]\n\t"
                         "ldr %[t], %[k4]\n\t"
                         "subs %[t], %[t], #1\n\t"
                         "str %[t], %[k4]\n\t"
                         "bne 6b\n\t"
                         "ldr %[t], %[k6]\n\t"
                         "add %[src], %[src], %[t]\n\t"
                         "ldr %[t], %[k7]\n\t"
                         "add %[p0], %[p0], %[t]\n\t"
                         "add %[p1], %[p1], %[t]\n\t"
                         "add %[p2], %[p2], %[t]\n\t"
                         "add %[p3], %[p3], %[t]\n\t"
                         "ldr %[t], %[k8]\n\t"
                         "subs %[t], %[t], #1\n\t"
                         "str %[t], %[k8]\n\t"
                         "bne 0b\n\t"
                         : [src] "+r"(src), [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [p3] "+r"(p3),
                           [end] "=&r"(end), [v0] "=&r"(v0), [v1] "=&r"(v1), [e0] "=&r"(e0), [o0] "=&r"(o0),
                           [t] "=&r"(t), [k4] "+m"(K[4]), [k8] "+m"(K[8])
                         : [C] "r"(C), [k0] "m"(K[0]), [k1] "m"(K[1]), [k2] "m"(K[2]), [k3] "m"(K[3]),
                           [k5] "m"(K[5]), [k6] "m"(K[6]), [k7] "m"(K[7])
                         : "cc", "memory");
        ci = 4 * groups;
    }
    for (; ci < cc; ++ci) {
        for (int32_t r = 0; r < nrows; ++r) {
            const int8_t *src = row0 + r * d->in_row + ci;
            int16_t *dst = dst0 + ci * ps + r * rh;
            for (int32_t xp = 0; xp < xb - xa; ++xp, src += C) {
                dst[xp] = *src;
            }
        }
    }
}

/*
 * The inner loop (GCC inline assembly: in C, GCC 12 spills the weights and constants every pixel pair): one
 * channel over a band of output rows. p: the band's first window row (plane rows RS bytes apart, RS a literal),
 * op: the first output byte, S: the channel's constants (see dwb_channel). Per pixel pair: stride 1: 3 LDRD + 12
 * multiply-accumulates; stride 2: 3 LDRD + 3 LDR + 12; requantization of both outputs 17 (+ 13 with the
 * activation clamps). An odd last pixel per row: 3 LDRD + 6 + 10. Per row: ~14. 13 registers.
 */
#define DWB_S_BIAS "0"
#define DWB_S_MK "8"
#define DWB_S_K "12"
#define DWB_S_E "16"
#define DWB_S_OC "20"
#define DWB_S_END "24"
#define DWB_S_LOHI "32"
#define DWB_S_ROWS "40"
#define DWB_S_ADV "44" /* p advance, op advance at the end of a row */
#define DWB_S_SPAN "52"
#define DWB_S_ODD "56"

#define DWB_MAC_S1(OFF, W, V)                       \
    "ldrd %[t0], %[t1], [%[p], #" OFF "]\n\t"      \
    "smlad %[a0], %[t0], %[" W "], %[a0]\n\t"      \
    "smlatb %[a1], %[t0], %[" W "], %[a1]\n\t"     \
    "smlabt %[a0], %[t1], %[" V "], %[a0]\n\t"     \
    "smlad %[a1], %[t1], %[" V "], %[a1]\n\t"

#define DWB_MAC_S2(OFF, OFF4, W, V)                 \
    "ldrd %[t0], %[t1], [%[p], #" OFF "]\n\t"      \
    "smlad %[a0], %[t0], %[" W "], %[a0]\n\t"      \
    "smlabt %[a0], %[t1], %[" V "], %[a0]\n\t"     \
    "smlad %[a1], %[t1], %[" W "], %[a1]\n\t"      \
    "ldr %[t0], [%[p], #" OFF4 "]\n\t"             \
    "smlabt %[a1], %[t0], %[" V "], %[a1]\n\t"

#define DWB_MAC_1(OFF, W, V)                        \
    "ldrd %[t0], %[t1], [%[p], #" OFF "]\n\t"      \
    "smlad %[a0], %[t0], %[" W "], %[a0]\n\t"      \
    "smlabt %[a0], %[t1], %[" V "], %[a0]\n\t"

#define DWB_RQ2                                      \
    "ldr %[t0], %[s_k]\n\t"                        \
    "add %[t1], %[t0], %[a0], asr #31\n\t"         \
    "smmlar %[a0], %[a0], %[m], %[t1]\n\t"         \
    "add %[t1], %[t0], %[a1], asr #31\n\t"         \
    "smmlar %[a1], %[a1], %[m], %[t1]\n\t"         \
    "ldr %[t0], %[s_e]\n\t"          \
    "asr %[a0], %[a0], %[t0]\n\t"                  \
    "asr %[a1], %[a1], %[t0]\n\t"                  \
    "ssat %[a0], #8, %[a0]\n\t"                    \
    "ssat %[a1], #8, %[a1]\n\t"

#define DWB_CLAMP2                                   \
    "ldrd %[t0], %[t1], %[s_lohi]\n\t"   \
    "cmp %[a0], %[t0]\n\t"                         \
    "it lt\n\t"                                    \
    "movlt %[a0], %[t0]\n\t"                       \
    "cmp %[a1], %[t0]\n\t"                         \
    "it lt\n\t"                                    \
    "movlt %[a1], %[t0]\n\t"                       \
    "cmp %[a0], %[t1]\n\t"                         \
    "it gt\n\t"                                    \
    "movgt %[a0], %[t1]\n\t"                       \
    "cmp %[a1], %[t1]\n\t"                         \
    "it gt\n\t"                                    \
    "movgt %[a1], %[t1]\n\t"

#define DWB_RQ1                                      \
    "ldr %[t0], %[s_k]\n\t"                        \
    "add %[t1], %[t0], %[a0], asr #31\n\t"         \
    "smmlar %[a0], %[a0], %[m], %[t1]\n\t"         \
    "ldr %[t0], %[s_e]\n\t"          \
    "asr %[a0], %[a0], %[t0]\n\t"                  \
    "ssat %[a0], #8, %[a0]\n\t"

#define DWB_CLAMP1                                   \
    "ldrd %[t0], %[t1], %[s_lohi]\n\t"   \
    "cmp %[a0], %[t0]\n\t"                         \
    "it lt\n\t"                                    \
    "movlt %[a0], %[t0]\n\t"                       \
    "cmp %[a0], %[t1]\n\t"                         \
    "it gt\n\t"                                    \
    "movgt %[a0], %[t1]\n\t"

/* PAIR, ONE: the pixel-pair and single-pixel bodies (p post-incremented by their first load) */
#define DWB_BAND(PAIR, ONE)                                                                                        \
    __asm__ volatile("0:\n\t"                                                                                      \
                     "ldr %[t0], %[s_podd]\n\t"                                                                    \
                     "cmp %[t0], #0\n\t"                                                                           \
                     "bne 5f\n\t"                                                                                  \
                     "1:\n\t" PAIR                                                                                 \
                     "ldr %[t1], %[s_oc]\n\t"                                                                      \
                     "strb %[a0], [%[op]]\n\t"                                                                     \
                     "strb %[a1], [%[op], %[t1]]\n\t"                                                              \
                     "add %[op], %[op], %[t1], lsl #1\n\t"                                                         \
                     "5:\n\t" PAIR                                                                                 \
                     "ldr %[t1], %[s_oc]\n\t"                                                                      \
                     "strb %[a0], [%[op]]\n\t"                                                                     \
                     "strb %[a1], [%[op], %[t1]]\n\t"                                                              \
                     "add %[op], %[op], %[t1], lsl #1\n\t"                                                         \
                     "ldr %[t0], %[s_end]\n\t"                                                                     \
                     "cmp %[p], %[t0]\n\t"                                                                         \
                     "bne 1b\n\t"                                                                                  \
                     "ldr %[t0], %[s_odd]\n\t"                                                                     \
                     "cmp %[t0], #0\n\t"                                                                           \
                     "beq 3f\n\t" ONE                                                                              \
                     "ldr %[t1], %[s_oc]\n\t"                                                                      \
                     "strb %[a0], [%[op]]\n\t"                                                                     \
                     "add %[op], %[op], %[t1]\n\t"                                                                 \
                     "3:\n\t"                                                                                      \
                     "ldr %[t0], %[s_rows]\n\t"                                                                    \
                     "subs %[t0], %[t0], #1\n\t"                                                                   \
                     "str %[t0], %[s_rows]\n\t"                                                                    \
                     "beq 4f\n\t"                                                                                  \
                     "ldrd %[t0], %[t1], %[s_adv]\n\t"                                                             \
                     "add %[p], %[p], %[t0]\n\t"                                                                   \
                     "add %[op], %[op], %[t1]\n\t"                                                                 \
                     "ldr %[t1], %[s_span]\n\t"                                                                    \
                     "add %[t0], %[p], %[t1]\n\t"                                                                  \
                     "str %[t0], %[s_end]\n\t"                                                                     \
                     "b 0b\n\t"                                                                                    \
                     "4:\n\t"                                                                                      \
                     : [p] "+r"(p), [op] "+r"(op), [a0] "=&r"(a0), [a1] "=&r"(a1), [t0] "=&r"(t0), [t1] "=&r"(t1)  \
                     : [wa] "r"(w[0]), [va] "r"(w[1]), [wb] "r"(w[2]), [vb] "r"(w[3]), [wc] "r"(w[4]),             \
                       [vc] "r"(w[5]), [m] "r"(S[2]), [s_k] "m"(S[3]), [s_bias] "m"(S[0]), [s_e] "m"(S[4]),           \
                       [s_oc] "m"(S[5]), [s_end] "m"(S[6]), [s_lohi] "m"(S[8]), [s_rows] "m"(S[10]),                \
                       [s_adv] "m"(S[11]), [s_span] "m"(S[13]), [s_odd] "m"(S[14]), [s_podd] "m"(S[7])                               \
                     : "cc", "memory")

/* stride 1: p advances 4 bytes per pixel pair (post-indexed first load), window rows r at r RS - 4 */
#define DWB_PAIR_S1(RS, CLAMP)                                                                                     \
    "ldrd %[a0], %[a1], %[s_bias]\n\t"                                                                                \
    "ldrd %[t0], %[t1], [%[p]], #4\n\t"                                                                            \
    "smlad %[a0], %[t0], %[wa], %[a0]\n\t"                                                                         \
    "smlatb %[a1], %[t0], %[wa], %[a1]\n\t"                                                                        \
    "smlabt %[a0], %[t1], %[va], %[a0]\n\t"                                                                        \
    "smlad %[a1], %[t1], %[va], %[a1]\n\t" DWB_MAC_S1(#RS "-4", "wb", "vb") DWB_MAC_S1("2*" #RS "-4", "wc", "vc")  \
        DWB_RQ2 CLAMP

#define DWB_ONE_S(RS, STEP, CLAMP)                                                                                 \
    "ldr %[a0], %[s_bias]\n\t"                                                                                        \
    "ldrd %[t0], %[t1], [%[p]], #" #STEP "\n\t"                                                                    \
    "smlad %[a0], %[t0], %[wa], %[a0]\n\t"                                                                         \
    "smlabt %[a0], %[t1], %[va], %[a0]\n\t" DWB_MAC_1(#RS "-" #STEP, "wb", "vb")                                  \
        DWB_MAC_1("2*" #RS "-" #STEP, "wc", "vc") DWB_RQ1 CLAMP

/* stride 2: p advances 8 bytes per pixel pair; window row r's pairs P0, P2 at r RS - 8, P4 at r RS */
#define DWB_PAIR_S2(RS, CLAMP)                                                                                     \
    "ldrd %[a0], %[a1], %[s_bias]\n\t"                                                                                \
    "ldrd %[t0], %[t1], [%[p]], #8\n\t"                                                                            \
    "smlad %[a0], %[t0], %[wa], %[a0]\n\t"                                                                         \
    "smlabt %[a0], %[t1], %[va], %[a0]\n\t"                                                                        \
    "smlad %[a1], %[t1], %[wa], %[a1]\n\t"                                                                         \
    "ldr %[t0], [%[p]]\n\t"                                                                                        \
    "smlabt %[a1], %[t0], %[va], %[a1]\n\t" DWB_MAC_S2(#RS "-8", #RS, "wb", "vb")                                 \
        DWB_MAC_S2("2*" #RS "-8", "2*" #RS, "wc", "vc") DWB_RQ2 CLAMP

#define DWB_BAND_S1(RS, C2, C1) DWB_BAND(DWB_PAIR_S1(RS, C2), DWB_ONE_S(RS, 4, C1))
#define DWB_BAND_S2(RS, C2, C1) DWB_BAND(DWB_PAIR_S2(RS, C2), DWB_ONE_S(RS, 8, C1))

/* row stride RS in bytes: 16, 32, 64, 128, 256 (the immediate offsets reach 2 RS + 8 <= 1020) */
#define DWB_RS_CASES(BAND, C2, C1)                 \
    switch (rs) {                                  \
    case 16:                                       \
        BAND(16, C2, C1);                          \
        break;                                     \
    case 32:                                       \
        BAND(32, C2, C1);                          \
        break;                                     \
    case 64:                                       \
        BAND(64, C2, C1);                          \
        break;                                     \
    case 128:                                      \
        BAND(128, C2, C1);                         \
        break;                                     \
    default:                                       \
        BAND(256, C2, C1);                         \
        break;                                     \
    }

/* sw, clamp: constants at every call */
__attribute__((always_inline)) static inline void dwb_band(const int16_t *p, int8_t *op, int32_t *S,
                                                           const uint32_t *w, int32_t rs, int32_t sw, int clamp)
{
    int32_t a0, a1, t0, t1;
    if (sw == 1) {
        if (clamp) {
            DWB_RS_CASES(DWB_BAND_S1, DWB_CLAMP2, DWB_CLAMP1)
        } else {
            DWB_RS_CASES(DWB_BAND_S1, "", "")
        }
    } else {
        if (clamp) {
            DWB_RS_CASES(DWB_BAND_S2, DWB_CLAMP2, DWB_CLAMP1)
        } else {
            DWB_RS_CASES(DWB_BAND_S2, "", "")
        }
    }
    (void)a0;
    (void)a1;
    (void)t0;
    (void)t1;
}

/* One output channel o (input plane pl, rows rs bytes apart) over the band: R rows of outputs at out (row stride
 * ors, pixel stride OC). sw, clamp: constants at every call. */
__attribute__((always_inline)) static inline void dwb_channel(const dwb_ctx *d, const int16_t *pl, int32_t o,
                                                              int8_t *out, int32_t ors, int32_t R, int32_t sw,
                                                              int clamp)
{
    const int32_t OC = d->out_col, out_w = d->out_w, rs = d->rs, fr = d->f_row, fc = d->f_col;
    const int8_t *f = d->filter + o;
    const int32_t f0 = f[0], f1 = f[fc], f2 = f[2 * fc], f3 = f[fr], f4 = f[fr + fc], f5 = f[fr + 2 * fc];
    const int32_t f6 = f[2 * fr], f7 = f[2 * fr + fc], f8 = f[2 * fr + 2 * fc];
    uint32_t w[6];
    w[0] = dwb_pair2(2 * f0, f1);
    w[1] = dwb_pair2(2 * f1, f2);
    w[2] = dwb_pair2(2 * f3, f4);
    w[3] = dwb_pair2(2 * f4, f5);
    w[4] = dwb_pair2(2 * f6, f7);
    w[5] = dwb_pair2(2 * f7, f8);
    const int32_t sumw = f0 + f1 + f2 + f3 + f4 + f5 + f6 + f7 + f8;
    int32_t S[15]; /* see DWB_BAND */
    const int32_t e = -d->shift[o];
    const int32_t n2 = out_w / 2, odd = out_w & 1, pb = 4 * sw; /* bytes of plane row per output pixel pair */
    S[0] = S[1] = 2 * ((d->bias != NULL ? d->bias[o] : 0) + d->off * sumw);
    S[2] = d->mult[o];
    S[3] = (int32_t)((uint32_t)d->zp21 << (e - 1));
    S[4] = e;
    S[5] = OC;
    S[6] = (int32_t)(intptr_t)pl + n2 * pb;
    S[8] = d->lo;
    S[9] = d->hi;
    S[10] = R;
    S[11] = d->sh * rs - (n2 + odd) * pb;
    S[12] = ors - out_w * OC;
    S[13] = n2 * pb;
    S[14] = odd;
    S[7] = n2 & 1; /* an odd number of pairs enters the 2-pair loop at its second pair */
    dwb_band(pl, out, S, w, rs, sw, clamp);
}

/* every output channel of input channels [c0, c0 + cc), planes at buf, band of R rows at out */
__attribute__((always_inline)) static inline void dwb_chunk(const dwb_ctx *d, const int16_t *buf, int32_t ps,
                                                            int32_t c0, int32_t cc, int8_t *out, int32_t ors,
                                                            int32_t R, int32_t sw, int clamp)
{
    const int32_t M = d->M;
    for (int32_t ci = 0; ci < cc; ++ci) {
        for (int32_t mi = 0; mi < M; ++mi) {
            const int32_t o = (c0 + ci) * M + mi;
            dwb_channel(d, buf + ci * ps, o, out + o, ors, R, sw, clamp);
        }
    }
}

__attribute__((noinline)) static void dwb_chunk_any(const dwb_ctx *d, const int16_t *buf, int32_t ps, int32_t c0,
                                                    int32_t cc, int8_t *out, int32_t ors, int32_t R)
{
    const int clamp = d->lo > -128 || d->hi < 127;
    if (d->sw == 1) {
        if (!clamp) {
            dwb_chunk(d, buf, ps, c0, cc, out, ors, R, 1, 0);
        } else {
            dwb_chunk(d, buf, ps, c0, cc, out, ors, R, 1, 1);
        }
    } else {
        if (!clamp) {
            dwb_chunk(d, buf, ps, c0, cc, out, ors, R, 2, 0);
        } else {
            dwb_chunk(d, buf, ps, c0, cc, out, ors, R, 2, 1);
        }
    }
}

/* plane width for the layer: the pixel pairs read (out_w rounded up to even - 1) * sw + 4 columns (an odd last pixel
 * runs as a pair; the pair at the last window's column 2 reads one more), even */
static inline int32_t dwb_wpp(int32_t out_w, int32_t sw)
{
    const int32_t w = (out_w + (out_w & 1) - 1) * sw + 4;
    return w + (w & 1);
}

/*
 * Choose the band height and the chunk for a scratch of cap bytes by the modelled instructions per output (in
 * hundredths, measured on the M4): copy 2.2 per value (4-channel groups, 5 for single channels), 85 per channel and
 * band (weights, constants), 15 per channel and output row, 17 (stride 1) / 19 (stride 2) per output in pixel
 * pairs + 6.5 with the activation clamps, 22 (+ 8) per odd last pixel, 40 per chunk and plane row, 0.6 per byte of
 * band buffer. one_band: only R = out_h. Returns the estimate per output (hundredths), 0 when nothing fits (rows
 * wider than 128 values).
 */
__attribute__((noinline)) static int32_t dwb_plan(dwb_ctx *d, int32_t cap, int direct, int one_band)
{
    const int32_t wpp = d->wpp, rowb = d->out_w * d->OC, CM = d->C * d->M;
    const int clamp = d->lo > -128 || d->hi < 127;
    int32_t rs = 16;
    while (rs < 2 * wpp) {
        rs *= 2;
    }
    if (rs > 256 || d->out_w < 2) {
        return 0; /* rows wider than 128 values; single-pixel rows (the loop runs whole pixel pairs first) */
    }
    d->rs = rs;
    int64_t best_cost = 0, best_outs = 1;
    const int32_t ncopy = d->in_w < wpp ? d->in_w : wpp;
    const int32_t per_out = (d->sw == 1 ? 1700 : 1900) + (clamp ? 650 : 0);
    const int32_t per_row = 1500 + (d->out_w & 1) * (2200 + (clamp ? 800 : 0) - per_out);
    for (int32_t R = one_band ? d->out_h : 1; R <= d->out_h; ++R) {
        const int32_t rows = (R - 1) * d->sh + 3;
        if (rows > MF_DWB_MAX_ROWS) {
            break;
        }
        const int32_t per_ch = rows * rs;
        if (per_ch > cap) {
            break; /* taller bands fit even less */
        }
        for (int32_t buffered = 0; buffered < 2; ++buffered) {
            const int32_t room = cap - (buffered ? ((R * rowb + 3) & ~3) : 0);
            if (room < per_ch) {
                continue;
            }
            int32_t cc = room / per_ch;
            cc = cc > d->C ? d->C : (cc >= 4 ? cc & ~3 : cc); /* whole 4-channel copy groups */
            if (!buffered && !direct && cc < d->C) {
                continue; /* chunks writing the band before later chunks read it: only through the band buffer */
            }
            const int64_t outs = (int64_t)R * d->out_w * CM;
            const int64_t chunks = (d->C + cc - 1) / cc;
            const int64_t copy = (cc & 3) == 0 ? 220 : 500;
            const int64_t cost = copy * rows * ncopy * d->C + 8500 * (int64_t)CM + (int64_t)per_row * CM * R +
                                 per_out * outs + 4000 * chunks * rows + (buffered ? 60 * (int64_t)R * rowb : 0);
            if (best_cost == 0 || cost * best_outs < best_cost * outs) {
                best_cost = cost;
                best_outs = outs;
                d->R = R;
                d->cc = cc;
                d->bufout = buffered;
            }
        }
    }
    return best_cost == 0 ? 0 : (int32_t)(best_cost / best_outs) + 1;
}

/* the whole layer; scratch: the plan's buffer (cap bytes, 4-byte aligned) */
static void dwb_run(const dwb_ctx *d, void *scratch, int32_t cap, int8_t *output)
{
    const int32_t rowb = d->out_w * d->OC, C = d->C, cc = d->cc;
    const int32_t ps = ((d->R - 1) * d->sh + 3) * d->rs / 2; /* values per plane, the same for every band */
    const int32_t band_bytes = d->bufout ? ((d->R * rowb + 3) & ~3) : 0;
    int8_t *const band = (int8_t *)scratch;
    uint32_t *const planes32 = (uint32_t *)((char *)scratch + band_bytes);
    int16_t *const planes = (int16_t *)planes32;
    const uint32_t zz = (uint32_t)(uint16_t)(int16_t)(-d->off) * 0x10001u;
    for (int32_t i = 0; i < (cap - band_bytes) / 4; ++i) {
        planes32[i] = zz;
    }
    uint32_t dirty[MF_DWB_MAX_ROWS / 32] = {0};
    for (int32_t b = 0; b < d->n; ++b) {
        for (int32_t y = 0; y < d->out_h; y += d->R) {
            const int32_t R = d->out_h - y < d->R ? d->out_h - y : d->R;
            const int32_t rows = (R - 1) * d->sh + 3;
            int8_t *const out = output + b * d->out_batch + y * d->out_row;
            for (int32_t c0 = 0; c0 < C; c0 += cc) {
                const int32_t n = C - c0 < cc ? C - c0 : cc;
                dwb_copy(d, planes, ps, b, y * d->sh - d->ph, rows, c0, n, dirty);
                dwb_chunk_any(d, planes, ps, c0, n, d->bufout ? band : out, d->bufout ? rowb : d->out_row, R);
            }
            if (d->bufout) { /* rows orientation only: the band's rows are contiguous in the output */
                memcpy(out, band, (size_t)(R * rowb));
            }
        }
    }
}

/* The geometry for the planes: rows along the image's rows (transpose 0) or along its columns (transpose 1) */
static void dwb_geometry(dwb_ctx *d, const mf_depthwise_conv2d_params *params, int transpose)
{
    const mf_dims in = params->input, out = params->output;
    d->n = in.n;
    d->C = in.c;
    d->M = params->depth_multiplier;
    d->OC = out.c;
    d->in_batch = in.h * in.w * in.c;
    d->out_batch = out.h * out.w * out.c;
    if (!transpose) {
        d->in_h = in.h, d->in_w = in.w, d->out_h = out.h, d->out_w = out.w;
        d->sh = params->stride_h, d->sw = params->stride_w, d->ph = params->pad_h, d->pw = params->pad_w;
        d->in_row = in.w * in.c, d->in_col = in.c;
        d->out_row = out.w * out.c, d->out_col = out.c;
        d->f_row = 3 * out.c, d->f_col = out.c;
    } else {
        d->in_h = in.w, d->in_w = in.h, d->out_h = out.w, d->out_w = out.h;
        d->sh = params->stride_w, d->sw = params->stride_h, d->ph = params->pad_w, d->pw = params->pad_h;
        d->in_row = in.c, d->in_col = in.w * in.c;
        d->out_row = out.c, d->out_col = out.w * out.c;
        d->f_row = out.c, d->f_col = 3 * out.c;
    }
    d->wpp = dwb_wpp(d->out_w, d->sw);
}

#endif /* MF_ARM_DSP_DW_BAND_H */
