"""HARD_SWISH: x * relu6(x + 3) / 6, int8 (bit-exact with TFLM) or float32.

TFLM's HardSwishPrepare (hard_swish_common.cc), all in FLOAT32 before widening to double:
    hires_input_scale = (1/128) * input_scale
    output multiplier  = hires_input_scale / output_scale        -> QuantizeMultiplier -> Q15 (exponent <= 0)
    reluish multiplier = hires_input_scale / (3 / 32768)         -> QuantizeMultiplier -> Q15
The Q31 significands are cut to Q15 by DownScaleInt32ToInt16Multiplier ((m + 2^15) >> 16, 32767 at the top).
reference_ops::HardSwish<int8_t> then works in int16: the input x 2^7, a rounding doubling high multiply by the
output multiplier, a relu-ish factor in [0, 1] (saturating left shift in two steps or a rounding right shift),
a *truncating* doubling high multiply of the two, and a final rounding right shift. gemmlowp's
RoundingDivideByPOT instantiated on int16 truncates its mask 2^e - 1 to int16, so for e >= 16 non-negative
values round to 1 (not 0); replicated here and in the C kernel.

float32 (reference_ops::HardSwish<float>): x * min(6, max(0, x + 3)) / 6, in that order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..quant import quantize_multiplier
from ._activation_util import check_elementwise, emit_unary
from ._common import as_int64, is_float
from ._inplace import elementwise_reads
from .base import OpDef, TfliteOpOut, register

INT16_MIN, INT16_MAX = -(2**15), 2**15 - 1


@dataclass
class HardSwishPrepared:
    size: int
    input_zero_point: int
    output_zero_point: int
    output_multiplier_fixedpoint: int  # Q15
    output_multiplier_exponent: int
    reluish_multiplier_fixedpoint: int  # Q15
    reluish_multiplier_exponent: int


def downscale_to_int16(m: int) -> int:
    """DownScaleInt32ToInt16Multiplier."""
    if m >= INT32_MAX_MINUS_OFFSET:
        return INT16_MAX
    return (m + (1 << 15)) >> 16


INT32_MAX_MINUS_OFFSET = 2**31 - 1 - (1 << 15)


def prepare(node, graph) -> HardSwishPrepared:
    x, out = graph.inp(node, 0), graph.out(node)
    hires = np.float32(1.0 / 128.0) * np.float32(x.quant.s)
    out_m, out_e = quantize_multiplier(float(hires / np.float32(out.quant.s)))
    relu_m, relu_e = quantize_multiplier(float(hires / np.float32(3.0 / 32768.0)))
    return HardSwishPrepared(
        x.size, x.quant.zp, out.quant.zp, downscale_to_int16(out_m), out_e, downscale_to_int16(relu_m), relu_e
    )


def _srdhm16(a: np.ndarray, b) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul on int16 (C division truncates toward zero)."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    ab = a * b
    v = ab + np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    q = np.where(v >= 0, v >> 15, -((-v) >> 15))
    return np.where((a == INT16_MIN) & (b == INT16_MIN), INT16_MAX, q)


def _sdhm16(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """TFLite's SaturatingDoublingHighMul on int16: rounds toward zero."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    ab = a * b
    q = np.where(ab >= 0, ab >> 15, -((-ab) >> 15))
    return np.where((a == INT16_MIN) & (b == INT16_MIN), INT16_MAX, q)


def _rdbpot16(x: np.ndarray, exponent: int) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT<int16_t> (mask truncated to int16: -1 for exponents >= 16)."""
    x = np.asarray(x, np.int64)
    mask = -1 if exponent >= 16 else (1 << exponent) - 1
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + ((x & mask) > threshold)


def _sat_left_shift16(x: np.ndarray, amount: int) -> np.ndarray:
    return np.clip(np.asarray(x, np.int64) * (1 << amount), INT16_MIN, INT16_MAX)


def hard_swish_reference(x: np.ndarray, p: HardSwishPrepared) -> np.ndarray:
    hires = (as_int64(x) - p.input_zero_point) * (1 << 7)
    preshift_output = _srdhm16(hires, p.output_multiplier_fixedpoint)
    e = p.reluish_multiplier_exponent
    reluish = _sat_left_shift16(hires, e - 1) if e > 0 else hires
    reluish = _srdhm16(reluish, p.reluish_multiplier_fixedpoint)
    if e > 0:
        reluish = _sat_left_shift16(reluish, 1)
    elif e < 0:
        reluish = _rdbpot16(reluish, -e)
    reluish = (reluish + (1 << 15)) >> 1
    out = _rdbpot16(_sdhm16(reluish, preshift_output), -p.output_multiplier_exponent) + p.output_zero_point
    return np.clip(out, -128, 127)


def hard_swish_float(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    r = x + np.float32(3.0)
    relu6 = np.where(r < 0, np.float32(0), np.where(r > 6, np.float32(6), r)).astype(np.float32)
    return ((x * relu6) / np.float32(6.0)).astype(np.float32)


@register
class HardSwish(OpDef):
    op = "HARD_SWISH"
    tflite_ops = ("HARD_SWISH",)
    kernels = ("mf_hard_swish_s8",)

    def c_kernels(self, node, graph):
        return ("mf_hard_swish_f32",) if is_float(node, graph) else self.kernels

    def to_tflite(self, node, graph):
        return TfliteOpOut("HARD_SWISH")

    def check(self, node, graph):
        floating, problems = check_elementwise(node, graph)
        if problems or floating:
            return problems
        p = prepare(node, graph)
        if p.output_multiplier_exponent > 0:  # TF_LITE_ENSURE in TFLM's Prepare
            problems.append("output scale must be > input scale / 128 (output multiplier exponent > 0)")
        if p.reluish_multiplier_exponent > 31:
            problems.append(f"input scale {graph.inp(node, 0).quant.s:g} too large (relu-ish shift > 31)")
        return problems

    def reference(self, node, graph, inputs):
        if is_float(node, graph):
            return [hard_swish_float(inputs[0])]
        return [hard_swish_reference(inputs[0], prepare(node, graph))]

    def inplace_reads(self, node, graph, input_index):
        return elementwise_reads(graph.out(node).size)

    def emit_c(self, node, graph, c):
        if is_float(node, graph):
            return emit_unary("mf_hard_swish_f32", node, graph, c)
        params = c.struct("mf_hard_swish_params", "params", dict(vars(prepare(node, graph))))
        return f"mf_hard_swish_s8({params}, {c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])});"
