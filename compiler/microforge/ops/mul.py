"""MUL (int8 per-tensor quantized, or float32), numpy-style broadcasting up to rank 4.

float32 follows TFLite's reference_ops::Mul: one float product per element, then the fused activation clamp.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ..quant import quantize_multiplier, requantize
from ._broadcast_util import check_broadcast, input_strides
from ._common import (
    activation_code,
    activation_name,
    as_int64,
    check_activation,
    check_dtypes,
    float_activation,
    float_clamp,
    is_float,
    output_clamp,
)
from ._inplace import elementwise_reads
from .base import OpDef, TfliteOpOut, dims4, register


@dataclass
class MulAttrs:
    activation: str = "NONE"


@dataclass
class MulPrepared:
    dims: tuple[int, int, int, int]  # output NHWC
    in1_strides: tuple[int, int, int, int]
    in2_strides: tuple[int, int, int, int]
    input1_offset: int
    input2_offset: int
    output_offset: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


def prepare(node, graph) -> MulPrepared:
    a, b, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
    # TFLM's CalculateOpDataMul: (double)s1 * (double)s2 / (double)so, may exceed 1 (left shift).
    real = float(np.float32(a.quant.s)) * float(np.float32(b.quant.s)) / float(np.float32(out.quant.s))
    mult, shift = quantize_multiplier(real)
    act_min, act_max = output_clamp(node.attrs.activation, out)
    dims = dims4(out.shape)
    return MulPrepared(
        dims=dims,
        in1_strides=input_strides(a.shape, dims),
        in2_strides=input_strides(b.shape, dims),
        input1_offset=-a.quant.zp,
        input2_offset=-b.quant.zp,
        output_offset=out.quant.zp,
        output_multiplier=mult,
        output_shift=shift,
        act_min=act_min,
        act_max=act_max,
    )


@register
class Mul(OpDef):
    op = "MUL"
    tflite_ops = ("MUL",)
    kernels = ("mf_mul_s8",)

    def c_kernels(self, node, graph):
        return ("mf_mul_f32",) if is_float(node, graph) else self.kernels

    def from_tflite(self, options, node, graph):
        return MulAttrs() if options is None else MulAttrs(activation_name(options.fusedActivationFunction))

    def to_tflite(self, node, graph):
        opts = schema.MulOptionsT()
        opts.fusedActivationFunction = activation_code(node.attrs.activation)
        return TfliteOpOut("MUL", "MulOptions", opts, version=2)

    def check(self, node, graph):
        problems = check_dtypes(node, graph, (0, 1)) + check_activation(node.attrs.activation)
        if problems:
            return problems
        if is_float(node, graph):
            return check_broadcast(node, graph)
        for i in (0, 1):
            if graph.inp(node, i).quant.per_channel:
                problems.append(f"input {i} is per-channel quantized; MUL needs per-tensor scales")
        return problems + check_broadcast(node, graph)

    def reference(self, node, graph, inputs):
        if is_float(node, graph):
            # one float32 operation per element, exactly what the C kernel computes
            a, b = graph.inp(node, 0), graph.inp(node, 1)
            x1 = np.asarray(inputs[0], np.float32).reshape(dims4(a.shape))
            x2 = np.asarray(inputs[1], np.float32).reshape(dims4(b.shape))
            out = float_activation(np.multiply(x1, x2), node.attrs.activation)
            return [np.broadcast_to(out, dims4(graph.out(node).shape)).reshape(graph.out(node).shape)]
        p = prepare(node, graph)
        a, b = graph.inp(node, 0), graph.inp(node, 1)
        x1 = as_int64(inputs[0]).reshape(dims4(a.shape)) + p.input1_offset
        x2 = as_int64(inputs[1]).reshape(dims4(b.shape)) + p.input2_offset
        out = requantize(x1 * x2, p.output_multiplier, p.output_shift, p.output_offset, p.act_min, p.act_max)
        return [np.broadcast_to(out, p.dims).reshape(graph.out(node).shape)]

    def macs(self, node, graph):
        return graph.out(node).size

    def inplace_reads(self, node, graph, input_index):
        x, out = graph.inp(node, input_index), graph.out(node)
        if tuple(x.shape) != tuple(out.shape):  # broadcasting reads some elements repeatedly
            return None
        return elementwise_reads(out.size)

    def emit_c(self, node, graph, c):
        if is_float(node, graph):
            a, b, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
            dims = dims4(out.shape)
            act_min, act_max = float_clamp(node.attrs.activation)
            fields = dict(
                dims=dims,
                in1_strides=input_strides(a.shape, dims),
                in2_strides=input_strides(b.shape, dims),
                act_min=act_min,
                act_max=act_max,
            )
            params = c.struct("mf_mul_f32_params", "params", fields)
            args = [params, c.tensor(node.inputs[0]), c.tensor(node.inputs[1]), c.tensor(node.outputs[0])]
            return f"mf_mul_f32({', '.join(args)});"
        p = prepare(node, graph)
        fields = dict(vars(p))
        params = c.struct("mf_mul_params", "params", fields)
        args = [params, c.tensor(node.inputs[0]), c.tensor(node.inputs[1]), c.tensor(node.outputs[0])]
        return f"mf_mul_s8({', '.join(args)});"
