"""QUANTIZE: float32 -> int8/int16 (AffineQuantize), or integer -> integer requantization (Requantize).

As TFLM's PrepareQuantizeReference: the requantization multiplier comes from input_scale / output_scale
divided in double; the float path divides by the float32 output scale in float32 and rounds half away
from zero (TfLiteRound), then adds the zero point and clamps to the output type.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ..quant import INT32_MIN, QRANGE, multiply_by_quantized_multiplier, quantize_multiplier
from ._inplace import elementwise_reads
from .base import OpDef, TfliteOpOut, register

_SUFFIX = {"int8": "s8", "uint8": "u8", "int16": "s16", "int32": "s32"}
# (input dtype, output dtype) pairs TFLM's QUANTIZE evaluates, besides float32 -> int8/int16.
REQUANT_PAIRS = {
    ("int8", "int8"),
    ("int8", "uint8"),
    ("int8", "int16"),
    ("int8", "int32"),
    ("uint8", "int8"),
    ("int16", "int8"),
    ("int16", "int16"),
    ("int16", "int32"),
    ("int32", "int8"),
    ("int32", "int16"),
}
FLOAT_OUTPUTS = ("int8", "int16")
# Float quotients are saturated here before the int conversion (TFLM's cast is undefined beyond int32).
ROUND_LIMIT = 1_000_000_000


@dataclass
class RequantizePrepared:
    multiplier: int
    shift: int
    input_zero_point: int
    output_zero_point: int


def prepare_requantize(node, graph) -> RequantizePrepared:
    x, out = graph.inp(node, 0), graph.out(node)
    # TFLM: static_cast<double>(input scale) / static_cast<double>(output scale), then QuantizeMultiplier.
    m, s = quantize_multiplier(float(np.float32(x.quant.s)) / float(np.float32(out.quant.s)))
    return RequantizePrepared(m, s, x.quant.zp, out.quant.zp)


def _wrap32(v: np.ndarray) -> np.ndarray:
    return (v - INT32_MIN) % 2**32 + INT32_MIN


def affine_quantize(x: np.ndarray, scale: float, zero_point: int, dtype: str) -> np.ndarray:
    """float32 -> integer exactly as TFLM's AffineQuantize (float32 division, round half away from zero)."""
    q = (np.asarray(x, dtype=np.float32) / np.float32(scale)).astype(np.float64)  # the float32 quotient, exact
    q = np.where(np.isnan(q), 0.0, np.clip(q, -ROUND_LIMIT, ROUND_LIMIT))
    r = (np.sign(q) * np.floor(np.abs(q) + 0.5)).astype(np.int64)  # exact in float64: q has 24 bits
    lo, hi = QRANGE[dtype]
    return np.clip(r + zero_point, lo, hi)


def requantize_values(x: np.ndarray, p: RequantizePrepared, out_dtype: str) -> np.ndarray:
    """TFLM's reference Requantize: MBQM(x - zp_in) + zp_out, clamped to the output type (int32 wrap)."""
    diff = _wrap32(np.asarray(x, dtype=np.int64) - p.input_zero_point)
    y = _wrap32(multiply_by_quantized_multiplier(diff, p.multiplier, p.shift) + p.output_zero_point)
    lo, hi = QRANGE[out_dtype]
    return np.clip(y, lo, hi)


@register
class Quantize(OpDef):
    op = "QUANTIZE"
    tflite_ops = ("QUANTIZE",)
    kernels = ("mf_quantize",)

    def to_tflite(self, node, graph):
        return TfliteOpOut("QUANTIZE", "QuantizeOptions", schema.QuantizeOptionsT())

    def check(self, node, graph):
        x, out = graph.inp(node, 0), graph.out(node)
        if x is None or len(node.inputs) != 1 or len(node.outputs) != 1:
            return ["expects one input and one output"]
        problems = []
        if out.quant is None or out.quant.per_channel:
            problems.append("output must have per-tensor quantization (TFLM has no per-channel QUANTIZE)")
        if x.is_const:
            problems.append("constant input (fold it first)")
        if x.dtype == "float32":
            if out.dtype not in FLOAT_OUTPUTS:
                problems.append(f"float32 -> {out.dtype} not supported (only int8, int16)")
        elif (x.dtype, out.dtype) in REQUANT_PAIRS:
            if x.quant is None or x.quant.per_channel:
                problems.append("integer input must have per-tensor quantization")
        else:
            problems.append(f"{x.dtype} -> {out.dtype} is not a QUANTIZE that TFLM supports")
        if x.size != out.size:
            problems.append(f"input has {x.size} elements, output {out.size}")
        if out.quant is not None and not problems and not (np.isfinite(out.quant.s) and out.quant.s > 0):
            problems.append(f"output scale {out.quant.s} must be finite and > 0")
        if not problems and x.dtype != "float32" and prepare_requantize(node, graph).shift > 30:
            problems.append("input/output scale ratio >= 2^31 cannot be requantized")
        return problems

    def reference(self, node, graph, inputs):
        x, out = graph.inp(node, 0), graph.out(node)
        if x.dtype == "float32":
            return [affine_quantize(inputs[0], out.quant.s, out.quant.zp, out.dtype)]
        return [requantize_values(inputs[0], prepare_requantize(node, graph), out.dtype)]

    def inplace_reads(self, node, graph, input_index):
        return elementwise_reads(graph.out(node).size)

    def emit_c(self, node, graph, c):
        x, out = graph.inp(node, 0), graph.out(node)
        io = f"{c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])}, {out.size}"
        if x.dtype == "float32":
            fields = dict(scale=np.float32(out.quant.s), zero_point=out.quant.zp)
            params = c.struct("mf_quantize_params", "params", fields)
            return f"mf_quantize_f32_{_SUFFIX[out.dtype]}({params}, {io});"
        p = prepare_requantize(node, graph)
        params = c.struct(
            "mf_requantize_params",
            "params",
            dict(
                multiplier=p.multiplier,
                shift=p.shift,
                input_zero_point=p.input_zero_point,
                output_zero_point=p.output_zero_point,
            ),
        )
        return f"mf_requantize_{_SUFFIX[x.dtype]}_{_SUFFIX[out.dtype]}({params}, {io});"

