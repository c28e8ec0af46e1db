"""LOGISTIC (int8 -> int8, output scale 1/256 zero point -128), bit-exact with TFLM.

TFLM's int8 path (reference_integer_ops::Logistic) is not a lookup table: the input, minus its
zero point, is rescaled to Q4.27 and gemmlowp's fixed-point logistic is evaluated; inputs beyond
`input_range_radius` saturate directly. Its Prepare (logistic_common.cc) derives the Q4.27
multiplier with std::frexp in double, without QuantizeMultiplier's 2^31 fix-up. TANH shares
this prepare (`input_scaling`).

float32 (reference_ops::Logistic): 1 / (1 + exp(-x)); the reference computes in float64 and rounds once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import fixedpoint as fp
from ..quant import multiply_by_quantized_multiplier, tflite_round
from ._common import as_float64, as_int64, check_float32, is_float
from ._inplace import elementwise_reads
from .base import OpDef, TfliteOpOut, register

INPUT_INTEGER_BITS = 4  # Q4.27 input of gemmlowp's logistic / tanh


@dataclass
class SigmoidPrepared:
    """Compile-time parameters shared by LOGISTIC and TANH (TFLM's OpData)."""

    size: int
    input_zero_point: int
    input_range_radius: int  # |input - zp| >= radius saturates
    input_multiplier: int  # Q31
    input_left_shift: int  # > 0 shifts left


def input_scaling(input_scale: float) -> tuple[int, int, int]:
    """(multiplier, shift, range radius) of TFLM's int8 LOGISTIC/TANH Prepare, for a float32 input scale.

    input_scale * 2^27 is split by frexp; the radius is floor(15 * 2^27 / 2^shift) in double
    (CalculateInputRadius(4, shift, 31)).
    """
    real = float(np.float32(input_scale)) * float(1 << (31 - INPUT_INTEGER_BITS))
    q, shift = math.frexp(real)
    if not 0 <= shift <= 62:
        raise ValueError(f"input scale {input_scale:g} out of the supported range [2^-28, 2^35)")
    multiplier = tflite_round(q * 2**31)
    if multiplier >= 2**31:  # cannot happen for a float32 scale (24-bit significand); TFLM would wrap here
        raise ValueError(f"input scale {input_scale!r}: multiplier overflows int32")
    max_rescaled = ((1 << INPUT_INTEGER_BITS) - 1) * float(1 << (31 - INPUT_INTEGER_BITS)) / float(1 << shift)
    return multiplier, shift, math.floor(max_rescaled)


def prepare_sigmoid(node, graph) -> SigmoidPrepared:
    x = graph.inp(node, 0)
    multiplier, shift, radius = input_scaling(x.quant.s)
    return SigmoidPrepared(x.size, x.quant.zp, radius, multiplier, shift)


def input_in_q4(x: np.ndarray, p: SigmoidPrepared) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Q4.27 input, mask of inputs saturating low, mask saturating high)."""
    v = as_int64(x) - p.input_zero_point
    low, high = v <= -p.input_range_radius, v >= p.input_range_radius
    inside = np.where(low | high, 0, v)  # the radius keeps inside * 2^shift within int32
    return multiply_by_quantized_multiplier(inside, p.input_multiplier, p.input_left_shift), low, high


def check_sigmoid(node, graph, out_scale: float, out_zero_point: int) -> list[str]:
    """int8 in/out, per-tensor; the output quantization the fixed-point algorithm produces."""
    x, out = graph.inp(node, 0), graph.out(node)
    problems = []
    for t in (x, out):
        if t.dtype != "int8" or t.quant is None:
            problems.append(f"tensor {t.name!r} must be quantized int8 (is {t.dtype})")
        elif t.quant.per_channel:
            problems.append(f"tensor {t.name!r}: per-channel quantization not supported")
    if problems:
        return problems
    # TFLM only checks the zero point (LOGISTIC) or nothing (TANH) and silently assumes the scale.
    if out.quant.zp != out_zero_point or abs(out.quant.s - out_scale) > 1e-3 * out_scale:
        problems.append(
            f"output must have scale {out_scale:g} and zero point {out_zero_point} "
            f"(has {out.quant.s:g}, {out.quant.zp})"
        )
    try:
        input_scaling(x.quant.s)
    except ValueError as e:
        problems.append(str(e))
    return problems


def emit_sigmoid_call(fn: str, params_type: str, node, graph, c) -> str:
    p = prepare_sigmoid(node, graph)
    params = c.struct(
        params_type,
        "params",
        dict(
            size=p.size,
            input_zero_point=p.input_zero_point,
            input_range_radius=p.input_range_radius,
            input_multiplier=p.input_multiplier,
            input_left_shift=p.input_left_shift,
        ),
    )
    return f"{fn}({params}, {c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])});"


def check_float32_elementwise(node, graph) -> list[str]:
    """float32 in and out, same number of elements (LOGISTIC and TANH)."""
    problems = check_float32(node, graph)
    x, out = graph.inp(node, 0), graph.out(node)
    if x.size != out.size:
        problems.append(f"input has {x.size} elements, output {out.size}")
    return problems


def emit_float_elementwise(fn: str, node, graph, c) -> str:
    return f"{fn}({graph.inp(node, 0).size}, {c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])});"


def logistic_reference(x: np.ndarray, p: SigmoidPrepared) -> np.ndarray:
    q4, low, high = input_in_q4(x, p)
    out = fp.rounding_divide_by_pot(fp.logistic(q4, INPUT_INTEGER_BITS), 31 - 8) - 128
    return np.where(low, -128, np.where(high, 127, np.clip(out, -128, 127)))


@register
class Logistic(OpDef):
    op = "LOGISTIC"
    tflite_ops = ("LOGISTIC",)
    kernels = ("mf_logistic_s8",)

    def c_kernels(self, node, graph):
        return ("mf_logistic_f32",) if is_float(node, graph) else self.kernels

    def to_tflite(self, node, graph):
        return TfliteOpOut("LOGISTIC", version=2)

    def check(self, node, graph):
        if is_float(node, graph):
            return check_float32_elementwise(node, graph)
        return check_sigmoid(node, graph, 1.0 / 256, -128)

    def reference(self, node, graph, inputs):
        if is_float(node, graph):
            # 0.5 * (1 + tanh(x / 2)) == 1 / (1 + exp(-x)), without overflow for very negative x
            return [(0.5 + 0.5 * np.tanh(0.5 * as_float64(inputs[0]))).astype(np.float32)]
        return [logistic_reference(inputs[0], prepare_sigmoid(node, graph))]

    def inplace_reads(self, node, graph, input_index):
        return elementwise_reads(graph.out(node).size)

    def emit_c(self, node, graph, c):
        if is_float(node, graph):
            return emit_float_elementwise("mf_logistic_f32", node, graph, c)
        return emit_sigmoid_call("mf_logistic_s8", "mf_logistic_params", node, graph, c)
