"""RELU (standalone): int8 with requantization, bit-exact with TFLM, or float32.

TFLM's int8 RELU (ReluPrepare / CalculateReluOpData + ReluQuantized) rescales from the input to the output
quantization: the multiplier is QuantizeMultiplier((double)input_scale / (double)output_scale), then
out = clamp(zp_out + MBQM(x - zp_in), max(-128, zp_out + roundf(0 / s_out)), 127). So the output may have its
own quantization (a RELU output calibrated on [0, max]). RELU_N1_TO_1 shares this kernel (see relu_n1_to_1.py).

float32 (ReluFloat): x < 0 ? 0 : x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..quant import activation_range, requantize
from ._activation_util import check_elementwise, check_shift, emit_unary, f32, multiplier
from ._common import FLOAT_ACTIVATION_RANGES, as_int64, is_float
from ._inplace import elementwise_reads
from .base import OpDef, TfliteOpOut, register


@dataclass
class ReluPrepared:
    """TFLM's ReluParams: compile-time numbers of the int8 kernel."""

    size: int
    input_offset: int  # the input zero point (subtracted)
    output_offset: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


def prepare_relu(node, graph, activation: str) -> ReluPrepared:
    x, out = graph.inp(node, 0), graph.out(node)
    mult, shift = multiplier(f32(x.quant.s) / f32(out.quant.s))  # double division of the float32 scales
    act_min, act_max = activation_range(activation, out.quant.s, out.quant.zp, "int8")
    return ReluPrepared(x.size, x.quant.zp, out.quant.zp, mult, shift, act_min, act_max)


def relu_reference(x: np.ndarray, p: ReluPrepared) -> np.ndarray:
    return requantize(as_int64(x) - p.input_offset, p.output_multiplier, p.output_shift, p.output_offset,
                      p.act_min, p.act_max)


def float_clamp_reference(x: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """x > upper ? upper : (x < lower ? lower : x) in float32, as mf_relu_f32 (NaN and -0.0 pass through)."""
    x = np.asarray(x, np.float32)
    lo, hi = np.float32(lower), np.float32(upper)
    return np.where(x > hi, hi, np.where(x < lo, lo, x)).astype(np.float32)


class ReluFamily(OpDef):
    """RELU and RELU_N1_TO_1: requantizing int8 kernel mf_relu_s8, clamping float kernel mf_relu_f32."""

    activation = "RELU"
    kernels = ("mf_relu_s8",)

    def c_kernels(self, node, graph):
        return ("mf_relu_f32",) if is_float(node, graph) else self.kernels

    #: operator version of an int8 node (LiteRT registers RELU_N1_TO_1 at version 1 only, int8 included)
    int8_version = 2

    def to_tflite(self, node, graph):
        return TfliteOpOut(self.op, version=self.int8_version if graph.inp(node, 0).dtype == "int8" else 1)

    def check(self, node, graph):
        floating, problems = check_elementwise(node, graph)
        if problems or floating:
            return problems
        return check_shift(prepare_relu(node, graph, self.activation).output_shift, "input_scale / output_scale")

    def reference(self, node, graph, inputs):
        if is_float(node, graph):
            return [float_clamp_reference(inputs[0], *FLOAT_ACTIVATION_RANGES[self.activation])]
        return [relu_reference(inputs[0], prepare_relu(node, graph, self.activation))]

    def inplace_reads(self, node, graph, input_index):
        return elementwise_reads(graph.out(node).size)

    def emit_c(self, node, graph, c):
        if is_float(node, graph):
            return emit_unary("mf_relu_f32", node, graph, c, *FLOAT_ACTIVATION_RANGES[self.activation])
        params = c.struct("mf_relu_params", "params", dict(vars(prepare_relu(node, graph, self.activation))))
        return f"mf_relu_s8({params}, {c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])});"


@register
class Relu(ReluFamily):
    op = "RELU"
    tflite_ops = ("RELU",)
    activation = "RELU"
