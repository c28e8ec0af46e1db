"""Geometry and checks shared by CONV_2D and DEPTHWISE_CONV_2D (not an op itself).

Padding and output size follow TFLite's ComputePaddingHeightWidth: the output size is derived
from the padding mode (ComputeOutSize), and the padding from that derived size; the kernel then
loops over the output tensor's own dims, so a model whose output shape disagrees is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ..ir import Tensor

PADDING_NAMES = {int(v): k for k, v in vars(schema.Padding).items() if not k.startswith("_")}
INT32_MAX = 2**31 - 1


def padding_name(code: int) -> str:
    return PADDING_NAMES.get(int(code), f"PADDING_{code}")


def padding_code(name: str) -> int:
    return int(getattr(schema.Padding, name))


def out_size(padding: str, in_size: int, filter_size: int, stride: int, dilation: int) -> int:
    """TFLite ComputeOutSize (C integer division; all operands are non-negative in valid models)."""
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    return max((in_size + stride - effective) // stride, 0)


def pad_before(in_size: int, filter_size: int, stride: int, dilation: int, out: int) -> int:
    """TFLite ComputePaddingWithOffset: the leading padding (the odd pixel, if any, goes after)."""
    effective = (filter_size - 1) * dilation + 1
    return max((out - 1) * stride + effective - in_size, 0) // 2


@dataclass
class Window:
    """A 2-D sliding window: filter size, stride, dilation, leading padding, output size."""

    kh: int
    kw: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_h: int
    pad_w: int
    out_h: int
    out_w: int


def window_fields(win: Window) -> dict[str, int]:
    """The stride / dilation / leading-padding fields every conv parameter struct in runtime_c shares."""
    return dict(stride_h=win.stride_h, stride_w=win.stride_w, dilation_h=win.dilation_h, dilation_w=win.dilation_w,
                pad_h=win.pad_h, pad_w=win.pad_w)  # fmt: skip


def window(attrs, in_h: int, in_w: int, kh: int, kw: int) -> Window:
    """The window TFLM computes from the op options (attrs has padding/stride_*/dilation_*)."""
    oh = out_size(attrs.padding, in_h, kh, attrs.stride_h, attrs.dilation_h)
    ow = out_size(attrs.padding, in_w, kw, attrs.stride_w, attrs.dilation_w)
    return Window(
        kh,
        kw,
        attrs.stride_h,
        attrs.stride_w,
        attrs.dilation_h,
        attrs.dilation_w,
        pad_before(in_h, kh, attrs.stride_h, attrs.dilation_h, oh),
        pad_before(in_w, kw, attrs.stride_w, attrs.dilation_w, ow),
        oh,
        ow,
    )


def patches(x: np.ndarray, win: Window) -> np.ndarray:
    """[N, H, W, C] int64 (already offset by -input zero point) or float -> [N, OH, KH, OW, KW, C] windows.

    Positions outside the image read 0, which is exactly TFLM's "skip the tap" zero padding.
    """
    n, h, w, c = x.shape
    rows = np.arange(win.out_h)[:, None] * win.stride_h + np.arange(win.kh)[None, :] * win.dilation_h
    cols = np.arange(win.out_w)[:, None] * win.stride_w + np.arange(win.kw)[None, :] * win.dilation_w
    pad_bottom = max(int(rows.max(initial=0)) + 1 - win.pad_h - h, 0)
    pad_right = max(int(cols.max(initial=0)) + 1 - win.pad_w - w, 0)
    xp = np.pad(x, ((0, 0), (win.pad_h, pad_bottom), (win.pad_w, pad_right), (0, 0)))
    return xp[:, rows[:, :, None, None], cols[None, None, :, :], :]


def check_window_attrs(attrs) -> list[str]:
    problems = []
    if attrs.padding not in ("SAME", "VALID"):
        problems.append(f"padding {attrs.padding} not supported")
    if min(attrs.stride_h, attrs.stride_w) < 1:
        problems.append(f"strides must be >= 1 (got {attrs.stride_h}x{attrs.stride_w})")
    if min(attrs.dilation_h, attrs.dilation_w) < 1:
        problems.append(f"dilation factors must be >= 1 (got {attrs.dilation_h}x{attrs.dilation_w})")
    return problems


def check_accumulator(w: np.ndarray, bias: np.ndarray | None, input_offset: int) -> list[str]:
    """The kernels accumulate in int32, as TFLM does: reject weights that could overflow it.

    `w` is [out_channels, taps]; the bound is exact for the worst-case input.
    """
    max_in = max(abs(-128 + input_offset), abs(127 + input_offset))
    bound = np.abs(w.astype(np.int64)).sum(axis=1) * max_in
    if bias is not None:
        bound = bound + np.abs(bias.astype(np.int64).reshape(-1))
    worst = int(bound.max(initial=0))
    if worst > INT32_MAX:
        return [f"the int32 accumulator can overflow (worst case {worst}); filter too large"]
    return []


def check_bias(bias: Tensor | None, channels: int, dtype: str = "int32") -> list[str]:
    """A constant bias of `dtype` (int32 for int8 nodes, float32 for float nodes), one value per channel."""
    if bias is None:
        return []
    if not bias.is_const or bias.dtype != dtype:
        return [f"bias must be a constant {dtype} tensor"]
    if bias.size != channels:
        return [f"bias has {bias.size} values, expected {channels} (one per output channel)"]
    return []


def check_weight_quant(w: Tensor, channels: int, axis: int) -> list[str]:
    """Symmetric weights, one scale per tensor or one per output channel along `axis`."""
    if w.quant is None:
        return []
    problems = []
    if np.any(w.quant.zero_point != 0):
        problems.append("weights must be symmetric (zero point 0)")
    if w.quant.per_channel:
        if w.quant.scale.size != channels:
            problems.append(f"weights have {w.quant.scale.size} scales, expected 1 or {channels}")
        elif w.quant.axis != axis:
            problems.append(f"per-channel weights must be quantized along dimension {axis}, not {w.quant.axis}")
    return problems


def check_per_tensor(*tensors: Tensor | None) -> list[str]:
    return [
        f"tensor {t.name!r} must be quantized per tensor"
        for t in tensors
        if t is not None and t.quant is not None and t.quant.per_channel
    ]

