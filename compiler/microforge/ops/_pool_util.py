"""Geometry, options and checks shared by AVERAGE_POOL_2D and MAX_POOL_2D (not an op itself).

Output size and padding follow TFLM's ComputePaddingHeightWidth (dilation 1): the output size
comes from the padding mode, the leading padding from that size (the odd pixel goes after).
TFLM's int8 pooling does no requantization: it requires input and output to share their
quantization (scale within 1e-6, same zero point), so we reject anything else.
float32 pools (input and output float32) use float clamps for the fused activation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ..ir import Graph, Node
from ._common import (
    activation_code,
    activation_name,
    check_activation,
    check_dtypes,
    float_clamp,
    is_float,
    output_clamp,
)
from .base import TfliteOpOut

PADDING_NAMES = {int(v): k for k, v in vars(schema.Padding).items() if not k.startswith("_")}


@dataclass
class PoolAttrs:
    padding: str = "VALID"  # "SAME" or "VALID"
    stride_h: int = 1
    stride_w: int = 1
    filter_h: int = 1
    filter_w: int = 1
    activation: str = "NONE"


@dataclass
class PoolPrepared:
    batches: int
    in_h: int
    in_w: int
    channels: int
    out_h: int
    out_w: int
    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    pad_h: int  # leading padding (top)
    pad_w: int  # leading padding (left)
    act_min: int | float  # float for float32 pools
    act_max: int | float


def out_size(padding: str, in_size: int, filter_size: int, stride: int) -> int:
    """TFLM ComputeOutSize with dilation 1."""
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    return max((in_size + stride - filter_size) // stride, 0)


def pad_before(in_size: int, filter_size: int, stride: int, out: int) -> int:
    """TFLM ComputePaddingWithOffset: half of the total padding, rounded down."""
    return max((out - 1) * stride + filter_size - in_size, 0) // 2


def attrs_from_tflite(options) -> PoolAttrs:
    if options is None:
        return PoolAttrs()
    return PoolAttrs(
        padding=PADDING_NAMES.get(int(options.padding), f"PADDING_{options.padding}"),
        stride_h=int(options.strideH),
        stride_w=int(options.strideW),
        filter_h=int(options.filterHeight),
        filter_w=int(options.filterWidth),
        activation=activation_name(options.fusedActivationFunction),
    )


def attrs_to_tflite(builtin: str, attrs: PoolAttrs) -> TfliteOpOut:
    opts = schema.Pool2DOptionsT()
    opts.padding = int(getattr(schema.Padding, attrs.padding))
    opts.strideH, opts.strideW = attrs.stride_h, attrs.stride_w
    opts.filterHeight, opts.filterWidth = attrs.filter_h, attrs.filter_w
    opts.fusedActivationFunction = activation_code(attrs.activation)
    return TfliteOpOut(builtin, "Pool2DOptions", opts, version=2)


def prepare(node: Node, graph: Graph) -> PoolPrepared:
    a = node.attrs
    x, out = graph.inp(node, 0), graph.out(node)
    n, h, w, c = x.shape
    oh = out_size(a.padding, h, a.filter_h, a.stride_h)
    ow = out_size(a.padding, w, a.filter_w, a.stride_w)
    act_min, act_max = float_clamp(a.activation) if is_float(node, graph) else output_clamp(a.activation, out)
    return PoolPrepared(
        batches=n,
        in_h=h,
        in_w=w,
        channels=c,
        out_h=oh,
        out_w=ow,
        filter_h=a.filter_h,
        filter_w=a.filter_w,
        stride_h=a.stride_h,
        stride_w=a.stride_w,
        pad_h=pad_before(h, a.filter_h, a.stride_h, oh),
        pad_w=pad_before(w, a.filter_w, a.stride_w, ow),
        act_min=act_min,
        act_max=act_max,
    )


def check(node: Node, graph: Graph) -> list[str]:
    problems = check_dtypes(node, graph, (0,)) + check_activation(node.attrs.activation)
    if problems:
        return problems
    a = node.attrs
    x, out = graph.inp(node, 0), graph.out(node)
    if a.padding not in ("SAME", "VALID"):
        problems.append(f"padding {a.padding} not supported")
    if min(a.stride_h, a.stride_w, a.filter_h, a.filter_w) < 1:
        problems.append("strides and filter sizes must be >= 1")
    if len(x.shape) != 4 or len(out.shape) != 4:
        problems.append("input and output must be rank 4 (NHWC)")
    if is_float(node, graph):
        pass  # no quantization to compare
    elif x.quant.per_channel or out.quant.per_channel:
        problems.append("per-channel quantization not supported")
    elif abs(float(np.float32(x.quant.s)) - float(np.float32(out.quant.s))) > 1e-6 or x.quant.zp != out.quant.zp:
        problems.append("input and output quantization differ (TFLM's int8 pooling does not requantize)")
    if problems:
        return problems
    p = prepare(node, graph)
    expected = (p.batches, p.out_h, p.out_w, p.channels)
    if tuple(out.shape) != expected:
        problems.append(f"output shape {list(out.shape)} differs from the computed {list(expected)}")
    elif 0 in expected:
        problems.append("empty output")
    return problems


def taps(p: PoolPrepared) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """For each filter tap: input row/col indices per output row/col (clipped) and their in-bounds masks."""
    oy = np.arange(p.out_h) * p.stride_h - p.pad_h
    ox = np.arange(p.out_w) * p.stride_w - p.pad_w
    for fy in range(p.filter_h):
        iy = oy + fy
        vy = (iy >= 0) & (iy < p.in_h)
        for fx in range(p.filter_w):
            ix = ox + fx
            vx = (ix >= 0) & (ix < p.in_w)
            yield np.clip(iy, 0, p.in_h - 1), np.clip(ix, 0, p.in_w - 1), vy, vx


def gather(x: np.ndarray, iy: np.ndarray, ix: np.ndarray) -> np.ndarray:
    """x[n, iy[oy], ix[ox], c] for all output positions: [N, OH, OW, C]."""
    return x[:, iy[:, None], ix[None, :], :]


def struct_fields(p: PoolPrepared) -> dict[str, int | float]:
    return dict(vars(p))
