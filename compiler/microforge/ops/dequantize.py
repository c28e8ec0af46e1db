"""DEQUANTIZE: int8/int16 -> float32, as TFLM's reference Dequantize: float32(scale) * float32(q - zp)."""

from __future__ import annotations

import numpy as np

from ..importers.schema import schema
from ._inplace import elementwise_reads
from .base import OpDef, TfliteOpOut, register

_SUFFIX = {"int8": "s8", "int16": "s16"}


def dequantize_values(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    # One float32 multiply of the exactly representable difference, as the C kernel and TFLM do it.
    diff = (np.asarray(q, dtype=np.int64) - zero_point).astype(np.float32)
    with np.errstate(over="ignore"):  # huge scales overflow to inf, as in C
        return (np.float32(scale) * diff).astype(np.float32)


@register
class Dequantize(OpDef):
    op = "DEQUANTIZE"
    tflite_ops = ("DEQUANTIZE",)
    kernels = ("mf_dequantize_s8",)

    def to_tflite(self, node, graph):
        return TfliteOpOut("DEQUANTIZE", "DequantizeOptions", schema.DequantizeOptionsT())

    def check(self, node, graph):
        x, out = graph.inp(node, 0), graph.out(node)
        if x is None or len(node.inputs) != 1 or len(node.outputs) != 1:
            return ["expects one input and one output"]
        problems = []
        if x.dtype not in _SUFFIX:
            problems.append(f"input is {x.dtype}; only int8 and int16 are supported")
        if x.quant is None or x.quant.per_channel:
            problems.append("input must have per-tensor quantization (TFLM's DEQUANTIZE is per-tensor)")
        elif not (np.isfinite(x.quant.s) and x.quant.s > 0):
            problems.append(f"input scale {x.quant.s} must be finite and > 0")
        if x.is_const:
            problems.append("constant input (fold it first)")
        if out.dtype != "float32":
            problems.append(f"output is {out.dtype}; only float32 is supported")
        if x.size != out.size:
            problems.append(f"input has {x.size} elements, output {out.size}")
        return problems

    def reference(self, node, graph, inputs):
        q = graph.inp(node, 0).quant
        return [dequantize_values(inputs[0], q.s, q.zp)]

    def inplace_reads(self, node, graph, input_index):
        return elementwise_reads(graph.out(node).size)

    def emit_c(self, node, graph, c):
        x, out = graph.inp(node, 0), graph.out(node)
        params = c.struct("mf_dequantize_params", "params", dict(scale=np.float32(x.quant.s), zero_point=x.quant.zp))
        io = f"{c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])}, {out.size}"
        return f"mf_dequantize_{_SUFFIX[x.dtype]}({params}, {io});"
