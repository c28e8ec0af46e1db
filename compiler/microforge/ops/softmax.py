"""SOFTMAX (int8 input; int8 output scale 1/256 zp -128, or int16 output scale 1/65536 zp -32768).

TFLM runs int8 softmax with gemmlowp fixed point (reference_ops::Softmax), not a lookup table:
input differences to the row maximum are scaled by beta * input_scale into Q5.26, exp() is
evaluated in fixed point and accumulated in Q12.19, and the sum's reciprocal scales each exp().
Differences below `diff_min` (CalculateInputRadius) contribute nothing and output the minimum.

float32 (input and output float32) follows reference_ops::Softmax: exp((x - row max) * beta) / row sum;
the reference computes in float64 and rounds once, the C kernel in float with expf.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import fixedpoint as fp
from ..importers.schema import schema
from ..quant import quantize_multiplier
from ._common import as_float64, as_int64, check_float32, is_float
from ._inplace import elementwise_reads
from .base import OpDef, TfliteOpOut, register

SCALED_DIFF_INTEGER_BITS = 5  # Q5.26 input of exp()
ACCUMULATION_INTEGER_BITS = 12  # Q12.19 sum of exp()

# Output quantization TFLM requires, per output dtype: (scale, zero point, relative tolerance).
OUTPUT_QUANT = {"int8": (1.0 / 256, -128, 0.0), "int16": (1.0 / 65536, -32768, 1e-3)}
OUTPUT_BITS = {"int8": 8, "int16": 16}


@dataclass
class SoftmaxAttrs:
    beta: float = 1.0


@dataclass
class SoftmaxPrepared:
    outer: int  # rows
    depth: int  # last dimension
    input_multiplier: int  # Q31, with input_left_shift: beta * input_scale * 2^26
    input_left_shift: int  # >= 0
    diff_min: int  # <= 0
    output_bits: int  # 8 or 16


def softmax_scaling(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, diff_min) as TFLM's CalculateSoftmaxParams for int8 input.

    PreprocessSoftmaxScaling in double (beta and scale are float32 in the model), capped at
    2^31 - 1; then diff_min = -floor(CalculateInputRadius(5, left_shift)).
    """
    real = min(
        float(np.float32(beta)) * float(np.float32(input_scale)) * float(1 << (31 - SCALED_DIFF_INTEGER_BITS)),
        float(2**31 - 1),
    )
    if not real > 1.0:
        raise ValueError(f"beta * input_scale * 2^26 = {real} must be > 1 (QuantizeMultiplierGreaterThanOne)")
    multiplier, shift = quantize_multiplier(real)
    radius = math.floor(
        ((1 << SCALED_DIFF_INTEGER_BITS) - 1) * float(1 << (31 - SCALED_DIFF_INTEGER_BITS)) / float(1 << shift)
    )
    return multiplier, shift, -radius


def prepare(node, graph) -> SoftmaxPrepared:
    x, out = graph.inp(node, 0), graph.out(node)
    depth = int(x.shape[-1]) if x.shape else 1
    multiplier, shift, diff_min = softmax_scaling(node.attrs.beta, x.quant.s)
    return SoftmaxPrepared(x.size // depth, depth, multiplier, shift, diff_min, OUTPUT_BITS[out.dtype])


def softmax_reference(x: np.ndarray, p: SoftmaxPrepared) -> np.ndarray:
    """Vectorized twin of reference_ops::Softmax<int8_t, int8_t|int16_t>; x is [outer, depth]."""
    x = as_int64(x).reshape(p.outer, p.depth)
    diff = x - x.max(axis=1, keepdims=True)
    valid = diff >= p.diff_min
    # MultiplyByQuantizedMultiplierGreaterThanOne; diff_min keeps diff * 2^shift inside int32.
    rescaled = fp.srdhm(np.where(valid, diff, 0) << p.input_left_shift, p.input_multiplier)
    exp = fp.exp_on_negative_values(rescaled, SCALED_DIFF_INTEGER_BITS)
    terms = np.where(valid, fp.rescale(exp, 0, ACCUMULATION_INTEGER_BITS), 0)
    sum_of_exps = fp.wrap32(terms.sum(axis=1, keepdims=True))  # gemmlowp's plain int32 adds
    reciprocal, num_bits_over_unit = fp.get_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS)
    exponent = num_bits_over_unit + 31 - p.output_bits
    # TFLM aborts (TFLITE_CHECK) when exponent > 31, i.e. an int8-output row whose sum of exp() is
    # >= 512; the true quotient then rounds to 0 and that is what we output.
    too_big = exponent > 31
    unsat = fp.rounding_divide_by_pot(fp.srdhm(reciprocal, exp), np.where(too_big, 0, exponent))
    unsat = np.where(too_big, 0, unsat)
    qmin, qmax = -(1 << (p.output_bits - 1)), (1 << (p.output_bits - 1)) - 1
    return np.where(valid, np.clip(unsat + qmin, qmin, qmax), qmin)


@register
class Softmax(OpDef):
    op = "SOFTMAX"
    tflite_ops = ("SOFTMAX",)
    kernels = ("mf_softmax_s8",)

    def c_kernels(self, node, graph):
        return ("mf_softmax_f32",) if is_float(node, graph) else self.kernels

    def from_tflite(self, options, node, graph):
        return SoftmaxAttrs(1.0 if options is None else float(options.beta))

    def to_tflite(self, node, graph):
        opts = schema.SoftmaxOptionsT()
        opts.beta = float(node.attrs.beta)
        return TfliteOpOut("SOFTMAX", "SoftmaxOptions", opts, version=3 if graph.out(node).dtype == "int16" else 2)

    def check(self, node, graph):
        x, out = graph.inp(node, 0), graph.out(node)
        if is_float(node, graph):
            problems = check_float32(node, graph)
            if not x.shape:
                problems.append("input must have rank >= 1")
            if tuple(x.shape) != tuple(out.shape):
                problems.append(f"output shape {list(out.shape)} differs from the input's {list(x.shape)}")
            if not (np.isfinite(node.attrs.beta) and node.attrs.beta > 0):
                problems.append(f"beta {node.attrs.beta} must be a positive finite number")
            return problems
        problems = []
        if x.dtype != "int8" or x.quant is None:
            problems.append(f"input {x.name!r} must be quantized int8 (is {x.dtype})")
        if out.dtype not in OUTPUT_QUANT or out.quant is None:
            problems.append(f"output {out.name!r} must be quantized int8 or int16 (is {out.dtype})")
        if problems:
            return problems
        if x.quant.per_channel:
            problems.append("per-channel input quantization not supported")
        scale, zp, tol = OUTPUT_QUANT[out.dtype]
        if out.quant.zp != zp or abs(float(out.quant.s) - scale) > tol * scale:
            problems.append(
                f"{out.dtype} output must have scale {scale:g} and zero point {zp} "
                f"(has {out.quant.s:g}, {out.quant.zp})"
            )
        if not x.shape:
            problems.append("input must have rank >= 1")
        try:
            softmax_scaling(node.attrs.beta, x.quant.s)
        except ValueError as e:
            problems.append(str(e))
        return problems

    def reference(self, node, graph, inputs):
        if is_float(node, graph):
            x = as_float64(inputs[0])
            x = x.reshape(-1, x.shape[-1] if x.ndim else 1)
            e = np.exp((x - x.max(axis=1, keepdims=True)) * float(np.float32(node.attrs.beta)))
            return [(e / e.sum(axis=1, keepdims=True)).astype(np.float32).reshape(graph.out(node).shape)]
        p = prepare(node, graph)
        return [softmax_reference(inputs[0], p).reshape(graph.out(node).shape)]

    def inplace_reads(self, node, graph, input_index):
        # per row: two passes over the whole row (max, sum) before the first write, then out[c] from in[c];
        # so element c of a row reads nothing below itself: the elementwise pattern
        return elementwise_reads(graph.out(node).size)

    def emit_c(self, node, graph, c):
        if is_float(node, graph):
            x = graph.inp(node, 0)
            depth = int(x.shape[-1])
            fields = dict(outer=x.size // depth, depth=depth, beta=float(node.attrs.beta))
            params = c.struct("mf_softmax_f32_params", "params", fields)
            return f"mf_softmax_f32({params}, {c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])});"
        p = prepare(node, graph)
        params = c.struct(
            "mf_softmax_params",
            "params",
            dict(
                outer=p.outer,
                depth=p.depth,
                input_multiplier=p.input_multiplier,
                input_left_shift=p.input_left_shift,
                diff_min=p.diff_min,
            ),
        )
        fn = "mf_softmax_s8" if p.output_bits == 8 else "mf_softmax_s8_s16"
        return f"{fn}({params}, {c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])});"
