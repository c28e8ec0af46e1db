"""RELU6 (standalone): int8 clamp in the input's quantization (bit-exact with TFLM), or float32.

TFLM's int8 RELU6 does NOT requantize (Relu6Prepare / Relu6Quantized): it clamps the int8 values to
[zero, six] with zero = the input zero point and six = FloatToQuantizedType(6.0f, input scale, zp) =
clamp(round(6.0f / s) + zp) (float division, double round), and silently assumes the output is quantized like
the input. So `check()` requires equal input and output quantization (the importers requantize after it
otherwise, the quantizer gives the output the input's parameters). LiteRT's RELU6, unlike TFLM's, rescales.

float32 (Relu6Float): x > 6 ? 6 : (x < 0 ? 0 : x).
"""

from __future__ import annotations

import numpy as np

from ..quant import tflite_round
from ._activation_util import check_elementwise, emit_unary
from ._common import as_int64, is_float
from ._inplace import elementwise_reads
from .base import OpDef, TfliteOpOut, register
from .relu import float_clamp_reference

INT32_LIMIT = 2.0**31


def six_quantized(scale: float, zero_point: int) -> int:
    q = float(np.float32(6.0) / np.float32(scale))  # float division, as TFLM
    return int(np.clip(tflite_round(q) + zero_point, -128, 127))


@register
class Relu6(OpDef):
    op = "RELU6"
    tflite_ops = ("RELU6",)
    kernels = ("mf_relu6_s8",)

    def c_kernels(self, node, graph):
        return ("mf_relu_f32",) if is_float(node, graph) else self.kernels

    def to_tflite(self, node, graph):
        return TfliteOpOut("RELU6", version=2 if graph.inp(node, 0).dtype == "int8" else 1)

    def check(self, node, graph):
        floating, problems = check_elementwise(node, graph)
        if problems or floating:
            return problems
        x, out = graph.inp(node, 0), graph.out(node)
        if x.quant.zp != out.quant.zp or np.float32(x.quant.s) != np.float32(out.quant.s):
            problems.append(
                f"output quantization ({out.quant.s:g}, {out.quant.zp}) must equal the input's "
                f"({x.quant.s:g}, {x.quant.zp}): TFLM's int8 RELU6 clamps without rescaling"
            )
        if 6.0 / float(np.float32(x.quant.s)) >= INT32_LIMIT:
            problems.append(f"input scale {x.quant.s:g} too small: 6.0 / scale does not fit int32 in TFLM's Prepare")
        return problems

    def reference(self, node, graph, inputs):
        if is_float(node, graph):
            return [float_clamp_reference(inputs[0], 0.0, 6.0)]
        x = graph.inp(node, 0)
        six = six_quantized(x.quant.s, x.quant.zp)
        v = as_int64(inputs[0])
        return [np.where(v > six, six, np.where(v < x.quant.zp, x.quant.zp, v))]

    def inplace_reads(self, node, graph, input_index):
        return elementwise_reads(graph.out(node).size)

    def emit_c(self, node, graph, c):
        if is_float(node, graph):
            return emit_unary("mf_relu_f32", node, graph, c, 0.0, 6.0)
        x = graph.inp(node, 0)
        return emit_unary("mf_relu6_s8", node, graph, c, x.quant.zp, six_quantized(x.quant.s, x.quant.zp))
