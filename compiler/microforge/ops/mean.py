"""MEAN (int8) over one or two axes of a rank <= 4 tensor, e.g. global average pooling (axes 1, 2).

TFLM (reduce_common.cc, EvalIntegerMean) runs reference_ops::QuantizedMeanOrSum for every int8
MEAN: (sum - zp_in * count) requantized with the multiplier of s_in / s_out, into which 1/count is
folded at run time (multiplier << floor(log2 count), divided by count, the shift reduced to match).
We fold it at compile time with the same integer steps. Older TFLM releases took a separate path
(reference_ops::Mean: truncating sum / count) when input and output quantization were equal; the
tflite-micro wheel we test against no longer does, and tests/ops/test_mean.py covers that case.
TFLM resolves at most two distinct axes (kMaxNumberOfReducedAxis), so more are rejected.
float32 MEAN (reference_ops::Mean): sum / count; the reference sums in float64 and rounds once, the C
kernel sums in float.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ..quant import QRANGE, quantize_multiplier, requantize
from ._common import as_float64, as_int64, check_dtypes, is_float
from .base import OpDef, TfliteOpOut, dims4, register


@dataclass
class MeanAttrs:
    keep_dims: bool = False


@dataclass
class MeanPrepared:
    out_ext: tuple[int, int, int, int]  # extents of the kept dims of the rank-4 padded input, 1 where reduced
    red_ext: tuple[int, int, int, int]  # extents of the reduced dims, 1 where kept
    strides: tuple[int, int, int, int]  # row-major element strides of the padded input
    count: int  # elements averaged per output
    input_offset_sum: int  # input zero point * count
    output_multiplier: int
    output_shift: int
    output_offset: int


def resolved_axes(node, graph) -> list[int]:
    """Axes as TFLM's ResolveAxis: negatives wrapped, duplicates dropped, in order of appearance."""
    x, axis = graph.inp(node, 0), graph.inp(node, 1)
    rank = len(x.shape)
    out: list[int] = []
    for a in np.asarray(axis.data).reshape(-1).tolist():
        a = a + rank if a < 0 else a
        if a not in out:
            out.append(int(a))
    return out


def mean_multiplier(in_scale: float, out_scale: float, count: int) -> tuple[int, int]:
    """QuantizeMultiplier(s_in / s_out) (double), then 1/count folded in as QuantizedMeanOrSum does."""
    mult, shift = quantize_multiplier(float(np.float32(in_scale)) / float(np.float32(out_scale)))
    extra = min(count.bit_length() - 1, 32, 31 + shift)
    return int((mult << extra) // count), shift - extra


def geometry(node, graph) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], int]:
    """(out_ext, red_ext, strides, count) of the rank-4 padded input; shared by the int8 and float paths."""
    x = graph.inp(node, 0)
    pad = 4 - len(x.shape)
    dims = dims4(x.shape)
    reduced = {a + pad for a in resolved_axes(node, graph)}
    out_ext = tuple(1 if k in reduced else dims[k] for k in range(4))
    red_ext = tuple(dims[k] if k in reduced else 1 for k in range(4))
    strides = (dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1)
    return out_ext, red_ext, strides, int(np.prod(red_ext))


def prepare(node, graph) -> MeanPrepared:
    x, out = graph.inp(node, 0), graph.out(node)
    out_ext, red_ext, strides, count = geometry(node, graph)
    mult, shift = mean_multiplier(x.quant.s, out.quant.s, count)
    return MeanPrepared(
        out_ext=out_ext,
        red_ext=red_ext,
        strides=strides,
        count=count,
        input_offset_sum=x.quant.zp * count,
        output_multiplier=mult,
        output_shift=shift,
        output_offset=out.quant.zp,
    )


@register
class Mean(OpDef):
    op = "MEAN"
    tflite_ops = ("MEAN",)
    kernels = ("mf_mean_s8",)

    def c_kernels(self, node, graph):
        return ("mf_mean_f32",) if is_float(node, graph) else self.kernels

    def from_tflite(self, options, node, graph):
        return MeanAttrs(bool(options.keepDims) if options is not None else False)

    def to_tflite(self, node, graph):
        opts = schema.ReducerOptionsT()
        opts.keepDims = bool(node.attrs.keep_dims)
        return TfliteOpOut("MEAN", "ReducerOptions", opts, version=2)

    def check(self, node, graph):
        problems = check_dtypes(node, graph, (0,))
        x, axis, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
        if axis is None or not axis.is_const or axis.dtype != "int32":
            return problems + ["the axis input must be a constant int32 tensor"]
        if problems:
            return problems
        if not is_float(node, graph) and (x.quant.per_channel or out.quant.per_channel):
            return ["per-channel quantization not supported"]
        rank = len(x.shape)
        if not 1 <= rank <= 4:
            return [f"input rank {rank} not supported (1..4)"]
        raw = np.asarray(axis.data).reshape(-1).tolist()
        if any(not -rank <= a < rank for a in raw):
            return [f"axis {raw} out of range for rank {rank}"]
        axes = resolved_axes(node, graph)
        if not 1 <= len(axes) <= 2:
            return [f"reduction over {len(axes)} distinct axes {raw}; TFLM supports 1 or 2"]
        kept = [d for k, d in enumerate(x.shape) if k not in axes]
        expected = tuple(1 if k in axes else d for k, d in enumerate(x.shape)) if node.attrs.keep_dims else tuple(kept)
        if int(np.prod(out.shape)) != int(np.prod(expected)) or (node.attrs.keep_dims and tuple(out.shape) != expected):
            problems.append(f"output shape {list(out.shape)} does not match the reduction (expected {list(expected)})")
        if x.size == 0 or x.size >= 2**24:
            problems.append("input size must be in [1, 2^24) (int32 sums)")
        return problems

    def reference(self, node, graph, inputs):
        if is_float(node, graph):
            _, red_ext, _, count = geometry(node, graph)
            x = as_float64(inputs[0]).reshape(dims4(graph.inp(node, 0).shape))
            total = x.sum(axis=tuple(k for k in range(4) if red_ext[k] != 1))
            return [(total / count).astype(np.float32).reshape(graph.out(node).shape)]
        p = prepare(node, graph)
        x = as_int64(inputs[0]).reshape(dims4(graph.inp(node, 0).shape))
        total = x.sum(axis=tuple(k for k in range(4) if p.red_ext[k] != 1))
        lo, hi = QRANGE["int8"]
        out = requantize(total - p.input_offset_sum, p.output_multiplier, p.output_shift, p.output_offset, lo, hi)
        return [out.reshape(graph.out(node).shape)]

    def macs(self, node, graph):
        return graph.inp(node, 0).size

    def emit_c(self, node, graph, c):
        if is_float(node, graph):
            out_ext, red_ext, strides, count = geometry(node, graph)
            fields = dict(out_ext=out_ext, red_ext=red_ext, strides=strides, count=count)
            params = c.struct("mf_mean_f32_params", "params", fields)
            return f"mf_mean_f32({params}, {c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])});"
        p = prepare(node, graph)
        fields = {k: v for k, v in vars(p).items() if k != "count"}
        params = c.struct("mf_mean_params", "params", fields)
        return f"mf_mean_s8({params}, {c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])});"
