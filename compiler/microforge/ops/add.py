"""ADD (int8 per-tensor quantized, or float32), numpy-style broadcasting up to rank 4.

float32 follows TFLite's reference_ops::Add: one float addition per element, then the fused activation clamp.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ..quant import multiply_by_quantized_multiplier, quantize_multiplier_smaller_than_one_exp
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

# TFLM's int8 ADD works on inputs shifted left by 20 bits (15 for int16) to keep precision.
LEFT_SHIFT = 20


@dataclass
class AddAttrs:
    activation: str = "NONE"


@dataclass
class AddPrepared:
    dims: tuple[int, int, int, int]  # output NHWC
    in1_strides: tuple[int, int, int, int]
    in2_strides: tuple[int, int, int, int]
    input1_offset: int
    input2_offset: int
    output_offset: int
    left_shift: int
    input1_multiplier: int
    input1_shift: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


def prepare(node, graph) -> AddPrepared:
    """As TFLM's CalculateOpDataAdd: every real multiplier is computed in double."""
    a, b, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
    s1, s2, so = (float(np.float32(t.quant.s)) for t in (a, b, out))
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier_smaller_than_one_exp(s1 / twice_max)
    m2, sh2 = quantize_multiplier_smaller_than_one_exp(s2 / twice_max)
    mo, sho = quantize_multiplier_smaller_than_one_exp(twice_max / ((1 << LEFT_SHIFT) * so))
    act_min, act_max = output_clamp(node.attrs.activation, out)
    dims = dims4(out.shape)
    return AddPrepared(
        dims=dims,
        in1_strides=input_strides(a.shape, dims),
        in2_strides=input_strides(b.shape, dims),
        input1_offset=-a.quant.zp,
        input2_offset=-b.quant.zp,
        output_offset=out.quant.zp,
        left_shift=LEFT_SHIFT,
        input1_multiplier=m1,
        input1_shift=sh1,
        input2_multiplier=m2,
        input2_shift=sh2,
        output_multiplier=mo,
        output_shift=sho,
        act_min=act_min,
        act_max=act_max,
    )


@register
class Add(OpDef):
    op = "ADD"
    tflite_ops = ("ADD",)
    kernels = ("mf_add_s8",)

    def c_kernels(self, node, graph):
        return ("mf_add_f32",) if is_float(node, graph) else self.kernels

    def from_tflite(self, options, node, graph):
        return AddAttrs() if options is None else AddAttrs(activation_name(options.fusedActivationFunction))

    def to_tflite(self, node, graph):
        opts = schema.AddOptionsT()
        opts.fusedActivationFunction = activation_code(node.attrs.activation)
        return TfliteOpOut("ADD", "AddOptions", opts, version=2)

    def check(self, node, graph):
        problems = check_dtypes(node, graph, (0, 1)) + check_activation(node.attrs.activation)
        if problems:
            return problems
        if is_float(node, graph):
            return check_broadcast(node, graph)
        for i in (0, 1):
            if graph.inp(node, i).quant.per_channel:
                problems.append(f"input {i} is per-channel quantized; ADD needs per-tensor scales")
        s1, s2 = (float(np.float32(graph.inp(node, i).quant.s)) for i in (0, 1))
        so = float(np.float32(graph.out(node).quant.s))
        # TFLM CHECK-fails (QuantizeMultiplierSmallerThanOneExp) unless every multiplier is in (0, 1).
        if min(s1, s2, so) <= 0 or 2 * max(s1, s2) >= (1 << LEFT_SHIFT) * so:
            problems.append(f"scales {s1:g}, {s2:g} -> {so:g} out of TFLM's range (output scale too small)")
        return problems + check_broadcast(node, graph)

    def reference(self, node, graph, inputs):
        if is_float(node, graph):
            # one float32 operation per element, exactly what the C kernel computes
            a, b = graph.inp(node, 0), graph.inp(node, 1)
            x1 = np.asarray(inputs[0], np.float32).reshape(dims4(a.shape))
            x2 = np.asarray(inputs[1], np.float32).reshape(dims4(b.shape))
            out = float_activation(np.add(x1, x2), node.attrs.activation)
            return [np.broadcast_to(out, dims4(graph.out(node).shape)).reshape(graph.out(node).shape)]
        p = prepare(node, graph)
        a, b = graph.inp(node, 0), graph.inp(node, 1)
        x1 = (as_int64(inputs[0]).reshape(dims4(a.shape)) + p.input1_offset) << p.left_shift
        x2 = (as_int64(inputs[1]).reshape(dims4(b.shape)) + p.input2_offset) << p.left_shift
        s1 = multiply_by_quantized_multiplier(x1, p.input1_multiplier, p.input1_shift)
        s2 = multiply_by_quantized_multiplier(x2, p.input2_multiplier, p.input2_shift)
        raw = multiply_by_quantized_multiplier(s1 + s2, p.output_multiplier, p.output_shift) + p.output_offset
        out = np.broadcast_to(np.clip(raw, p.act_min, p.act_max), p.dims)
        return [out.reshape(graph.out(node).shape)]

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
            params = c.struct("mf_add_f32_params", "params", fields)
            args = [params, c.tensor(node.inputs[0]), c.tensor(node.inputs[1]), c.tensor(node.outputs[0])]
            return f"mf_add_f32({', '.join(args)});"
        p = prepare(node, graph)
        fields = dict(vars(p))
        params = c.struct("mf_add_params", "params", fields)
        args = [params, c.tensor(node.inputs[0]), c.tensor(node.inputs[1]), c.tensor(node.outputs[0])]
        return f"mf_add_s8({', '.join(args)});"
