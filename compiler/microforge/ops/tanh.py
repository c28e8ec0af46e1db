"""TANH (int8 -> int8, output scale 1/128 zero point 0), bit-exact with TFLM.

Same scheme as LOGISTIC (shared Prepare in `logistic.input_scaling`): the input is rescaled to
Q4.27, gemmlowp's fixed-point tanh gives Q0.31, rounded to Q0.7. No output zero point is added.
float32: tanh (reference in float64, rounded once; the C kernel uses tanhf).
"""

from __future__ import annotations

import numpy as np

from .. import fixedpoint as fp
from ._common import as_float64, is_float
from ._inplace import elementwise_reads
from .base import OpDef, TfliteOpOut, register
from .logistic import (
    INPUT_INTEGER_BITS,
    SigmoidPrepared,
    check_float32_elementwise,
    check_sigmoid,
    emit_float_elementwise,
    emit_sigmoid_call,
    input_in_q4,
    prepare_sigmoid,
)


def tanh_reference(x: np.ndarray, p: SigmoidPrepared) -> np.ndarray:
    q4, low, high = input_in_q4(x, p)
    out = fp.rounding_divide_by_pot(fp.tanh(q4, INPUT_INTEGER_BITS), 31 - 7)
    return np.where(low, -128, np.where(high, 127, np.clip(out, -128, 127)))


@register
class Tanh(OpDef):
    op = "TANH"
    tflite_ops = ("TANH",)
    kernels = ("mf_tanh_s8",)

    def c_kernels(self, node, graph):
        return ("mf_tanh_f32",) if is_float(node, graph) else self.kernels

    def to_tflite(self, node, graph):
        return TfliteOpOut("TANH", version=2)

    def check(self, node, graph):
        if is_float(node, graph):
            return check_float32_elementwise(node, graph)
        return check_sigmoid(node, graph, 1.0 / 128, 0)

    def reference(self, node, graph, inputs):
        if is_float(node, graph):
            return [np.tanh(as_float64(inputs[0])).astype(np.float32)]
        return [tanh_reference(inputs[0], prepare_sigmoid(node, graph))]

    def inplace_reads(self, node, graph, input_index):
        return elementwise_reads(graph.out(node).size)

    def emit_c(self, node, graph, c):
        if is_float(node, graph):
            return emit_float_elementwise("mf_tanh_f32", node, graph, c)
        return emit_sigmoid_call("mf_tanh_s8", "mf_tanh_params", node, graph, c)
