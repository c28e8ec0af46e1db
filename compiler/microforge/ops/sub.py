"""SUB (int8 per-tensor quantized, or float32), numpy-style broadcasting up to rank 4, fused activation.

int8 follows TFLM's sub_common.cc (CalculateOpDataSub) and reference_ops::Sub / BroadcastQuantSubSlow:
ADD's algorithm with the two rescaled inputs subtracted. The real multipliers are divided in double, as
the tflite-micro wheel does (like ADD). Some TFLM sources divide in float (a float twice_max_input_scale
and float divisions cast to double afterwards); that changes the Q31 multipliers in their last bits and,
rarely, an output (tests/ops/test_sub.py pins a case where the wheel agrees with double only).
float32 follows reference_ops::SubWithActivation: one float subtraction per element, then the clamp.
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

LEFT_SHIFT = 20  # TFLM's int8 SUB shifts the offset inputs left by 20 bits (15 for int16)


@dataclass
class SubAttrs:
    activation: str = "NONE"


@dataclass
class SubPrepared:
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


def real_multipliers(s1: float, s2: float, so: float) -> tuple[float, float, float]:
    """The three real multipliers as TFLM's CalculateOpDataSub computes them: float32 scales, double divisions."""
    f1, f2, fo = (float(np.float32(v)) for v in (s1, s2, so))
    twice_max = 2.0 * max(f1, f2)
    return f1 / twice_max, f2 / twice_max, twice_max / ((1 << LEFT_SHIFT) * fo)


def prepare(node, graph) -> SubPrepared:
    a, b, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
    r1, r2, ro = real_multipliers(a.quant.s, b.quant.s, out.quant.s)
    m1, sh1 = quantize_multiplier_smaller_than_one_exp(r1)
    m2, sh2 = quantize_multiplier_smaller_than_one_exp(r2)
    mo, sho = quantize_multiplier_smaller_than_one_exp(ro)
    act_min, act_max = output_clamp(node.attrs.activation, out)
    dims = dims4(out.shape)
    return SubPrepared(
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
class Sub(OpDef):
    op = "SUB"
    tflite_ops = ("SUB",)
    kernels = ("mf_sub_s8",)

    def c_kernels(self, node, graph):
        return ("mf_sub_f32",) if is_float(node, graph) else self.kernels

    def from_tflite(self, options, node, graph):
        return SubAttrs() if options is None else SubAttrs(activation_name(options.fusedActivationFunction))

    def to_tflite(self, node, graph):
        opts = schema.SubOptionsT()
        opts.fusedActivationFunction = activation_code(node.attrs.activation)
        return TfliteOpOut("SUB", "SubOptions", opts, version=2)

    def check(self, node, graph):
        if len(node.inputs) != 2 or len(node.outputs) != 1:
            return ["expects two inputs and one output"]
        problems = check_dtypes(node, graph, (0, 1)) + check_activation(node.attrs.activation)
        if problems:
            return problems
        if is_float(node, graph):
            return check_broadcast(node, graph)
        for i in (0, 1):
            if graph.inp(node, i).quant.per_channel:
                problems.append(f"input {i} is per-channel quantized; SUB needs per-tensor scales")
        out = graph.out(node)
        if out.quant.per_channel:
            problems.append("output is per-channel quantized; SUB needs a per-tensor scale")
        if problems:
            return problems
        scales = [graph.inp(node, 0).quant.s, graph.inp(node, 1).quant.s, out.quant.s]
        reals = real_multipliers(*scales)
        # TFLM CHECK-fails (QuantizeMultiplierSmallerThanOneExp) unless every multiplier is in (0, 1).
        if min(scales) <= 0 or not all(0.0 < r < 1.0 for r in reals):
            problems.append(
                f"scales {scales[0]:g}, {scales[1]:g} -> {scales[2]:g} out of TFLM's range "
                f"(multipliers {', '.join(f'{r:g}' for r in reals)} must be in (0, 1))"
            )
        return problems + check_broadcast(node, graph)

    def reference(self, node, graph, inputs):
        a, b, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
        if is_float(node, graph):
            x1 = np.asarray(inputs[0], np.float32).reshape(dims4(a.shape))
            x2 = np.asarray(inputs[1], np.float32).reshape(dims4(b.shape))
            y = float_activation(np.subtract(x1, x2), node.attrs.activation)
            return [np.broadcast_to(y, dims4(out.shape)).reshape(out.shape)]
        p = prepare(node, graph)
        x1 = (as_int64(inputs[0]).reshape(dims4(a.shape)) + p.input1_offset) << p.left_shift
        x2 = (as_int64(inputs[1]).reshape(dims4(b.shape)) + p.input2_offset) << p.left_shift
        s1 = multiply_by_quantized_multiplier(x1, p.input1_multiplier, p.input1_shift)
        s2 = multiply_by_quantized_multiplier(x2, p.input2_multiplier, p.input2_shift)
        raw = multiply_by_quantized_multiplier(s1 - s2, p.output_multiplier, p.output_shift) + p.output_offset
        y = np.broadcast_to(np.clip(raw, p.act_min, p.act_max), p.dims)
        return [y.reshape(out.shape)]

    def inplace_reads(self, node, graph, input_index):
        x, out = graph.inp(node, input_index), graph.out(node)
        if tuple(x.shape) != tuple(out.shape):  # broadcasting reads some elements repeatedly
            return None
        return elementwise_reads(out.size)

    def emit_c(self, node, graph, c):
        args = [c.tensor(node.inputs[0]), c.tensor(node.inputs[1]), c.tensor(node.outputs[0])]
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
            params = c.struct("mf_sub_f32_params", "params", fields)
            return f"mf_sub_f32({', '.join([params] + args)});"
        params = c.struct("mf_sub_params", "params", dict(vars(prepare(node, graph))))
        return f"mf_sub_s8({', '.join([params] + args)});"
