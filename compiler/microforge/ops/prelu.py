"""PRELU: x >= 0 ? x : alpha * x with an alpha tensor broadcast to the input (rank <= 4), int8 or float32.

TFLM's CalculatePreluParams works in double: m1 = s_in / s_out (x >= 0), m2 = s_in * s_alpha / s_out (x < 0),
both by QuantizeMultiplier; BroadcastPrelu4DSlow: x = in - zp_in;
out = clamp(zp_out + (x >= 0 ? MBQM(x, m1) : MBQM(x * (alpha - zp_alpha), m2)), -128, 127).
Alpha is int8 with its own per-tensor (asymmetric) quantization.

float32 (BroadcastPrelu4DSlowFloat): x >= 0 ? x : x * alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..quant import multiply_by_quantized_multiplier
from ._activation_util import check_per_tensor_int8, check_shift, f32, multiplier
from ._broadcast_util import broadcast_shape, input_strides
from ._common import as_int64, check_finite, check_float32, is_float
from ._inplace import elementwise_reads
from .base import OpDef, TfliteOpOut, dims4, register

# x * (alpha - zp) reaches 255 * 255 < 2^16: a left shift past 15 overflows int32 in MBQM
MAX_ALPHA_LEFT_SHIFT = 15


@dataclass
class PreluPrepared:
    dims: tuple[int, int, int, int]
    alpha_strides: tuple[int, int, int, int]
    input_offset: int  # -input zero point
    alpha_offset: int  # -alpha zero point
    output_offset: int
    output_multiplier_1: int
    output_shift_1: int
    output_multiplier_2: int
    output_shift_2: int


def prepare(node, graph) -> PreluPrepared:
    x, a, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
    m1, s1 = multiplier(f32(x.quant.s) / f32(out.quant.s))
    m2, s2 = multiplier(f32(x.quant.s) * f32(a.quant.s) / f32(out.quant.s))
    dims = dims4(out.shape)
    return PreluPrepared(dims, input_strides(a.shape, dims), -x.quant.zp, -a.quant.zp, out.quant.zp, m1, s1, m2, s2)


def _alpha_full(alpha: np.ndarray, alpha_shape, dims) -> np.ndarray:
    return np.broadcast_to(np.asarray(alpha).reshape(dims4(alpha_shape)), dims)


@register
class Prelu(OpDef):
    op = "PRELU"
    tflite_ops = ("PRELU",)
    kernels = ("mf_prelu_s8",)

    def c_kernels(self, node, graph):
        return ("mf_prelu_f32",) if is_float(node, graph) else self.kernels

    def to_tflite(self, node, graph):
        return TfliteOpOut("PRELU")

    def check(self, node, graph):
        x, a, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
        if x is None or a is None:
            return ["needs an input and an alpha tensor"]
        if is_float(node, graph):
            problems = check_float32(node, graph, (0, 1)) + check_finite(a)
        else:
            problems = check_per_tensor_int8(node, graph, (0, 1))
        for t in (x, a, out):
            if len(t.shape) > 4:
                problems.append(f"tensor {t.name!r} has rank {len(t.shape)}; at most 4 is supported")
        if problems:
            return problems
        if broadcast_shape(x.shape, a.shape) is None or dims4(broadcast_shape(x.shape, a.shape)) != dims4(x.shape):
            problems.append(f"alpha shape {list(a.shape)} does not broadcast to the input shape {list(x.shape)}")
        if dims4(out.shape) != dims4(x.shape):
            problems.append(f"output shape {list(out.shape)} differs from the input shape {list(x.shape)}")
        if problems or is_float(node, graph):
            return problems
        p = prepare(node, graph)
        return check_shift(p.output_shift_1, "input_scale / output_scale") + check_shift(
            p.output_shift_2, "input_scale * alpha_scale / output_scale", MAX_ALPHA_LEFT_SHIFT
        )

    def reference(self, node, graph, inputs):
        a_t, out = graph.inp(node, 1), graph.out(node)
        dims = dims4(out.shape)
        alpha = inputs[1] if inputs[1] is not None else a_t.data
        if is_float(node, graph):
            x = np.asarray(inputs[0], np.float32).reshape(dims)
            al = _alpha_full(np.asarray(alpha, np.float32), a_t.shape, dims)
            return [np.where(x >= 0, x, x * al).astype(np.float32).reshape(out.shape)]
        p = prepare(node, graph)
        x = as_int64(inputs[0]).reshape(dims) + p.input_offset
        al = _alpha_full(as_int64(alpha), a_t.shape, dims) + p.alpha_offset
        pos = multiply_by_quantized_multiplier(x, p.output_multiplier_1, p.output_shift_1)
        neg = multiply_by_quantized_multiplier(x * al, p.output_multiplier_2, p.output_shift_2)
        return [np.clip(p.output_offset + np.where(x >= 0, pos, neg), -128, 127).reshape(out.shape)]

    def inplace_reads(self, node, graph, input_index):
        return elementwise_reads(graph.out(node).size) if input_index == 0 else None

    def emit_c(self, node, graph, c):
        args = [c.tensor(node.inputs[0]), c.tensor(node.inputs[1]), c.tensor(node.outputs[0])]
        if is_float(node, graph):
            out = graph.out(node)
            dims = dims4(out.shape)
            fields = dict(dims=dims, alpha_strides=input_strides(graph.inp(node, 1).shape, dims))
            params = c.struct("mf_prelu_f32_params", "params", fields)
            return f"mf_prelu_f32({params}, {', '.join(args)});"
        params = c.struct("mf_prelu_params", "params", dict(vars(prepare(node, graph))))
        return f"mf_prelu_s8({params}, {', '.join(args)});"
