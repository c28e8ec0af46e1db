"""FULLY_CONNECTED (int8 activations, int8 symmetric weights, int32 bias; or float32).

float32 follows TFLite's reference_ops::FullyConnected (reference in float64, rounded once; the C kernel
sums in float).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ..quant import per_channel_multipliers, quantize_multiplier, requantize
from ._common import (
    activation_code,
    activation_name,
    as_float64,
    as_int64,
    check_activation,
    check_dtypes,
    check_finite,
    float_activation,
    float_clamp,
    is_float,
    output_clamp,
)
from ._inplace import row_reads
from .base import OpDef, TfliteOpOut, register


@dataclass
class FullyConnectedAttrs:
    activation: str = "NONE"
    keep_num_dims: bool = False


@dataclass
class FullyConnectedPrepared:
    batches: int
    in_depth: int
    out_depth: int
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int
    multipliers: np.ndarray  # int32 [out_depth]
    shifts: np.ndarray  # int32 [out_depth]


def prepare(node, graph) -> FullyConnectedPrepared:
    x, w, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
    out_depth, in_depth = w.shape[0], w.shape[-1]
    if w.quant.per_channel:
        mults, shifts = per_channel_multipliers(x.quant.s, w.quant.scale, out.quant.s, out_depth)
    else:
        # TFLM's GetQuantizedConvolutionMultipler: the input*filter product is taken in float32.
        real = float(np.float32(x.quant.s) * np.float32(w.quant.s)) / float(np.float32(out.quant.s))
        m, s = quantize_multiplier(real)
        mults, shifts = np.full(out_depth, m, np.int32), np.full(out_depth, s, np.int32)
    act_min, act_max = output_clamp(node.attrs.activation, out)
    return FullyConnectedPrepared(
        batches=x.size // in_depth,
        in_depth=in_depth,
        out_depth=out_depth,
        input_offset=-x.quant.zp,
        output_offset=out.quant.zp,
        act_min=act_min,
        act_max=act_max,
        multipliers=mults,
        shifts=shifts,
    )


@register
class FullyConnected(OpDef):
    op = "FULLY_CONNECTED"
    tflite_ops = ("FULLY_CONNECTED",)
    kernels = ("mf_fully_connected_s8",)

    def c_kernels(self, node, graph):
        return ("mf_fully_connected_f32",) if is_float(node, graph) else self.kernels

    def from_tflite(self, options, node, graph):
        if options is None:
            return FullyConnectedAttrs()
        return FullyConnectedAttrs(activation_name(options.fusedActivationFunction), bool(options.keepNumDims))

    def to_tflite(self, node, graph):
        opts = schema.FullyConnectedOptionsT()
        opts.fusedActivationFunction = activation_code(node.attrs.activation)
        opts.keepNumDims = node.attrs.keep_num_dims
        return TfliteOpOut("FULLY_CONNECTED", "FullyConnectedOptions", opts, version=4)

    def check(self, node, graph):
        problems = check_dtypes(node, graph, (0, 1)) + check_activation(node.attrs.activation)
        w = graph.inp(node, 1)
        if w is not None and not w.is_const:
            problems.append("weights are not constant")
        b = graph.inp(node, 2)
        bias_dtype = "float32" if is_float(node, graph) else "int32"
        if b is not None and (not b.is_const or b.dtype != bias_dtype):
            problems.append(f"bias must be a constant {bias_dtype} tensor")
        problems += check_finite(w, b)
        if w is not None and w.quant is not None and np.any(w.quant.zero_point != 0):
            problems.append("weights must be symmetric (zero point 0)")
        return problems

    def reference(self, node, graph, inputs):
        if is_float(node, graph):
            w = as_float64(inputs[1])
            x = as_float64(inputs[0]).reshape(-1, w.shape[-1])
            acc = x @ w.reshape(w.shape[0], -1).T
            if inputs[2] is not None:
                acc = acc + as_float64(inputs[2]).reshape(1, -1)
            return [float_activation(acc, node.attrs.activation)]
        p = prepare(node, graph)
        x = as_int64(inputs[0]).reshape(p.batches, p.in_depth)
        w = as_int64(inputs[1]).reshape(p.out_depth, p.in_depth)
        acc = (x + p.input_offset) @ w.T
        if inputs[2] is not None:
            acc = acc + as_int64(inputs[2])[None, :]
        return [requantize(acc, p.multipliers[None, :], p.shifts[None, :], p.output_offset, p.act_min, p.act_max)]

    def macs(self, node, graph):
        w = graph.inp(node, 1)
        return graph.inp(node, 0).size // w.shape[-1] * w.shape[0] * w.shape[-1]

    def inplace_reads(self, node, graph, input_index):
        if input_index != 0:
            return None
        x, w = graph.inp(node, 0), graph.inp(node, 1)
        return row_reads(x.size // w.shape[-1], w.shape[-1], w.shape[0])  # both dtypes

    def emit_c(self, node, graph, c):
        if is_float(node, graph):
            x, w = graph.inp(node, 0), graph.inp(node, 1)
            act_min, act_max = float_clamp(node.attrs.activation)
            fields = dict(batches=x.size // w.shape[-1], in_depth=w.shape[-1], out_depth=w.shape[0])
            fields.update(act_min=act_min, act_max=act_max)
            params = c.struct("mf_fully_connected_f32_params", "params", fields)
            bias = c.tensor(node.inputs[2] if len(node.inputs) > 2 else None)
            args = [params, c.tensor(node.inputs[0]), c.tensor(node.inputs[1]), bias, c.tensor(node.outputs[0])]
            return f"mf_fully_connected_f32({', '.join(args)});"
        p = prepare(node, graph)
        params = c.struct(
            "mf_fully_connected_params",
            "params",
            dict(
                batches=p.batches,
                in_depth=p.in_depth,
                out_depth=p.out_depth,
                input_offset=p.input_offset,
                output_offset=p.output_offset,
                act_min=p.act_min,
                act_max=p.act_max,
            ),
        )
        mult = c.const_array("mult", p.multipliers, "int32_t")
        shift = c.const_array("shift", p.shifts, "int32_t")
        quant = c.struct("mf_per_channel_quant", "quant", dict(multiplier=mult, shift=shift))
        args = [params, quant] + [c.tensor(n) for n in node.inputs[:3]] + [c.tensor(node.outputs[0])]
        if len(node.inputs) < 3:
            args.insert(4, "NULL")
        return f"mf_fully_connected_s8({', '.join(args)});"
