"""Arena scratch the kernel variants ask for: the Python twins of the C `<kernel>_get_buffer_size` functions.

A variant kernel whose fast path needs working memory (an im2col patch, int16 planar rows) declares its size
in C (`mf_conv2d_s8_get_buffer_size(params)` in runtime_c/kernels/<variant>/mf_conv2d_s8.c) and here, under
the same kernel and variant names, as a function of the same parameter-struct fields. The planner puts that
many bytes in the arena for the layer (overlapping tensors that are dead at that layer) and the generated call
passes them with `params.scratch_bytes`; a kernel given less (NULL, 0: the planner refused it for RAM) runs its
path without scratch, bit for bit the same. tests/kernels/test_scratch.py compares every twin with its C in
QEMU. Kernels and variants not listed ask for none.
"""

from __future__ import annotations

from collections.abc import Callable

Fields = dict[str, object]  # the C parameter struct's fields, by name (shapes as NHWC tuples)

TWINS: dict[tuple[str, str], Callable[[Fields], int]] = {}


def twin(kernel: str, *variants: str):
    def register(fn: Callable[[Fields], int]) -> Callable[[Fields], int]:
        for variant in variants:
            TWINS[(kernel, variant)] = fn
        return fn

    return register


def scratch_bytes(kernel: str, variant: str, fields: Fields) -> int:
    """Bytes of arena scratch `kernel` of `variant` asks for with these parameters (0: none)."""
    fn = TWINS.get((kernel, variant))
    return int(fn(fields)) if fn is not None else 0


def _align4(n: int) -> int:
    return (n + 3) // 4 * 4


@twin("mf_conv2d_s8", "riscv")
def _riscv_conv(f: Fields) -> int:
    # ungrouped: folded biases (4 B per output channel) + staging of a pair's / triple's later pixels (2 B)
    return _align4(6 * f["output"][3]) if f["filter"][3] == f["input"][3] else 0


ARM_DSP_CONV_SCRATCH = 2048  # bytes: the arm_dsp conv's working buffer at most (MF_SCRATCH_WORDS)


def arm_dsp_lanes(elems: int, cin: int, np_: int) -> int:
    """im2col4_bytes: a chunk's np_ int16 patch lanes (+ one pixel's staging bytes when C_in % 4 != 0)."""
    groups = (elems + 3) >> 2
    return groups * 8 * np_ + (groups * 4 + 4 if cin & 3 else 0)


def arm_dsp_pw_table(cin: int, cout: int) -> int:
    """Bytes of the whole-layer 1x1 path's table: C_out records of C_in / 2 + 4 words."""
    return cout * (cin // 2 + 4) * 4


def _arm_dsp_im2col_need(cin: int, cout: int, patch: int, np_: int, cap: int) -> int:
    # im2col_need: the np_-pixel lanes, then the per-channel table and the padded filter copy when they fit; all of
    # cap when the patch must be chunked
    used = arm_dsp_lanes(patch, cin, np_)
    if used > cap:
        return cap
    if used + 16 * cout <= cap:
        used += 16 * cout
    patch4 = (patch + 3) & ~3
    if patch4 != patch and used + cout * patch4 <= cap:
        used += cout * patch4
    return used


@twin("mf_conv2d_s8", "arm_dsp")
def _arm_dsp_conv(f: Fields) -> int:
    # ungrouped: the whole-layer 1x1 table (pw_fits), else what the im2col blocks take of 2 KB (MF_SCRATCH_WORDS)
    (n, h, w, cin), (_, kh, kw, fc), (on, oh, ow, cout) = f["input"], f["filter"], f["output"]
    if fc != cin:
        return 0
    whole_1x1 = (kh, kw, f["stride_h"], f["stride_w"], f["pad_h"], f["pad_w"]) == (1, 1, 1, 1, 0, 0)
    table = arm_dsp_pw_table(cin, cout)
    if whole_1x1 and (h, w, n) == (oh, ow, on) and cin in (8, 16) and table <= ARM_DSP_CONV_SCRATCH:
        return table
    return max(_arm_dsp_im2col_need(cin, cout, kh * kw * cin, np_, ARM_DSP_CONV_SCRATCH) for np_ in (6, 4))


@twin("mf_depthwise_conv2d_s8", "arm_dsp")
def _arm_dsp_depthwise(f: Fields) -> int:
    # 3x3 windows with depth multiplier 1 or a multiple of 4: planes / band buffer / per-channel table (dw_scratch)
    m = f["depth_multiplier"]
    return 2048 if (f["filter_h"], f["filter_w"]) == (3, 3) and (m == 1 or m % 4 == 0) else 0


@twin("mf_conv2d_s8", "arm_mve")
def _arm_mve_conv(f: Fields) -> int:
    # ungrouped: corrections, patch and filter blocks (MVE_SCRATCH_WORDS) + 12 bytes to align them to 16
    return 2048 + 12 if f["filter"][3] == f["input"][3] else 0


@twin("mf_depthwise_conv2d_s8", "arm_mve")
def _arm_mve_depthwise(f: Fields) -> int:
    # depth multiplier 1, or one input channel: MVE_DW_SCRATCH_WORDS + 12 bytes to align them to 16
    return 2048 + 12 if f["depth_multiplier"] == 1 or f["input"][3] == 1 else 0
