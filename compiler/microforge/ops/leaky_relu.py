"""LEAKY_RELU: int8 (bit-exact with TFLM) or float32; attribute alpha (any sign, also > 1).

TFLM's CalculateOpDataLeakyRelu: two multipliers by QuantizeMultiplier,
    identity: s_in / s_out            (x >= 0)
    alpha:    s_in * alpha / s_out    (x < 0)
computed in double from the float32 values. (Older TFLM sources computed them in float32 before widening;
the wheel we test against does not: exact-tie inputs such as s_in = 0.05, s_out = 0.04, alpha = 0.5 tell
the two apart, and test_leaky_relu_int8_edge_alphas pins them.) reference_ops::QuantizeLeakyRelu:
    x = in - zp_in; out = clamp(zp_out + (x >= 0 ? MBQM(x, identity) : sign * MBQM(x, |alpha multiplier|)))
(a negative alpha multiplies by the magnitude and negates the result, as MBQM wants a non-negative multiplier).

float32 (reference_ops::LeakyRelu): x > 0 ? x : x * alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ..quant import multiply_by_quantized_multiplier
from ._activation_util import check_elementwise, check_shift, emit_unary, f32, multiplier
from ._common import as_int64, is_float
from ._inplace import elementwise_reads
from .base import OpDef, TfliteOpOut, register


@dataclass
class LeakyReluAttrs:
    alpha: float = 0.2  # TFLite's default (LeakyReluOptions)


@dataclass
class LeakyReluPrepared:
    size: int
    input_offset: int  # input zero point (subtracted)
    output_offset: int
    multiplier_identity: int
    shift_identity: int
    multiplier_alpha: int
    shift_alpha: int


def prepare(node, graph) -> LeakyReluPrepared:
    x, out = graph.inp(node, 0), graph.out(node)
    s_in, s_out, alpha = f32(x.quant.s), f32(out.quant.s), f32(node.attrs.alpha)
    m_id, sh_id = multiplier(s_in / s_out)
    m_al, sh_al = multiplier(s_in * alpha / s_out)
    return LeakyReluPrepared(x.size, x.quant.zp, out.quant.zp, m_id, sh_id, m_al, sh_al)


def leaky_relu_reference(x: np.ndarray, p: LeakyReluPrepared) -> np.ndarray:
    v = as_int64(x) - p.input_offset
    pos = multiply_by_quantized_multiplier(v, p.multiplier_identity, p.shift_identity)
    neg = np.sign(p.multiplier_alpha) * multiply_by_quantized_multiplier(v, abs(p.multiplier_alpha), p.shift_alpha)
    return np.clip(p.output_offset + np.where(v >= 0, pos, neg), -128, 127)


@register
class LeakyRelu(OpDef):
    op = "LEAKY_RELU"
    tflite_ops = ("LEAKY_RELU",)
    kernels = ("mf_leaky_relu_s8",)

    def c_kernels(self, node, graph):
        return ("mf_leaky_relu_f32",) if is_float(node, graph) else self.kernels

    def from_tflite(self, options, node, graph):
        return LeakyReluAttrs() if options is None else LeakyReluAttrs(float(np.float32(options.alpha)))

    def to_tflite(self, node, graph):
        opts = schema.LeakyReluOptionsT()
        opts.alpha = float(node.attrs.alpha)
        return TfliteOpOut("LEAKY_RELU", "LeakyReluOptions", opts, version=2 if graph.inp(node, 0).dtype == "int8" else 1)

    def check(self, node, graph):
        floating, problems = check_elementwise(node, graph)
        if not np.isfinite(node.attrs.alpha):
            problems.append(f"alpha {node.attrs.alpha} is not finite")
        if problems or floating:
            return problems
        p = prepare(node, graph)
        return check_shift(p.shift_identity, "input_scale / output_scale") + check_shift(
            p.shift_alpha, "alpha * input_scale / output_scale"
        )

    def reference(self, node, graph, inputs):
        if is_float(node, graph):
            x = np.asarray(inputs[0], np.float32)
            return [np.where(x > 0, x, x * np.float32(node.attrs.alpha)).astype(np.float32)]
        return [leaky_relu_reference(inputs[0], prepare(node, graph))]

    def inplace_reads(self, node, graph, input_index):
        return elementwise_reads(graph.out(node).size)

    def emit_c(self, node, graph, c):
        if is_float(node, graph):
            return emit_unary("mf_leaky_relu_f32", node, graph, c, float(np.float32(node.attrs.alpha)))
        params = c.struct("mf_leaky_relu_params", "params", dict(vars(prepare(node, graph))))
        return f"mf_leaky_relu_s8({params}, {c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])});"
