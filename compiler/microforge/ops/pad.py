"""PAD / PADV2 (int8): constant padding with constant int32 paddings [rank, 2].

The pad value is the output zero point (real 0.0) or, when present (PADV2), the constant_values scalar;
TFLM runs PAD and PADV2 with the same kernel, so both IR ops accept two or three inputs.
TFLM copies input bytes into the output without requantizing, so input and output must share
their quantization (TFLM does not check it; we do). PADV2's constant must share the output's
scale and zero point, as TFLM's PadPrepare requires.
float32 (input, output and constant_values float32, no quantization): the pad value is 0.0 or the constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ._common import check_dtypes, is_float
from .base import OpDef, TfliteOpOut, dims4, register
from .reshape import same_quant

MAX_RANK = 4


@dataclass
class PadPrepared:
    input_dims: tuple[int, int, int, int]
    output_dims: tuple[int, int, int, int]
    pad_before: tuple[int, int, int, int]
    pad_after: tuple[int, int, int, int]
    pad_value: int | float  # float for float32 pads


def prepare(node, graph) -> PadPrepared:
    x, out = graph.inp(node, 0), graph.out(node)
    paddings = np.asarray(graph.inp(node, 1).data, dtype=np.int64).reshape(-1, 2)
    lead = MAX_RANK - len(x.shape)
    before = (0,) * lead + tuple(int(v) for v in paddings[:, 0])
    after = (0,) * lead + tuple(int(v) for v in paddings[:, 1])
    cv = graph.inp(node, 2)
    if is_float(node, graph):
        value = float(np.asarray(cv.data, np.float32).reshape(-1)[0]) if cv is not None else 0.0
    else:
        value = int(np.asarray(cv.data).reshape(-1)[0]) if cv is not None else out.quant.zp
    return PadPrepared(dims4(x.shape), dims4(out.shape), before, after, value)


class _PadBase(OpDef):
    kernels = ("mf_pad_s8",)

    def c_kernels(self, node, graph):
        return ("mf_pad_f32",) if is_float(node, graph) else self.kernels

    def check(self, node, graph):
        x, pads, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
        if x is None or pads is None or len(node.inputs) > 3 or len(node.outputs) != 1:
            return ["expects input, paddings, optional constant_values and one output"]
        flt = is_float(node, graph)
        problems = check_dtypes(node, graph)
        if x.is_const:
            problems.append("constant input (fold it first)")
        if x.quant is not None and out.quant is not None and not same_quant(x.quant, out.quant):
            problems.append("input and output quantization differ (TFLM's PAD copies without requantizing)")
        if out.quant is not None and out.quant.per_channel:
            problems.append("output must be per-tensor quantized")
        rank = len(x.shape)
        if rank > MAX_RANK:
            problems.append(f"rank {rank} > {MAX_RANK}")
        if not pads.is_const or pads.dtype != "int32":
            return problems + ["paddings must be a constant int32 tensor (TFLM reads them as int32)"]
        p = np.asarray(pads.data, dtype=np.int64)
        if p.size != 2 * len(out.shape) or len(out.shape) != rank:
            return problems + [f"paddings of shape {list(pads.shape)} do not fit rank {rank} ([rank, 2] expected)"]
        p = p.reshape(rank, 2)
        if np.any(p < 0):
            problems.append(f"negative paddings {p.tolist()} not supported")
        expected = tuple(int(d + a + b) for d, (a, b) in zip(x.shape, p))
        if expected != tuple(out.shape):
            problems.append(f"output shape {list(out.shape)} != padded input shape {list(expected)}")
        cv = graph.inp(node, 2)
        if cv is not None:
            if not cv.is_const or cv.dtype != x.dtype or cv.size != 1:
                problems.append(f"constant_values must be a constant {x.dtype} scalar")
            elif flt:
                if cv.quant is not None:
                    problems.append("float32 constant_values has quantization parameters")
                elif not np.all(np.isfinite(cv.data)):
                    problems.append("constant_values must be finite")
            elif not same_quant(cv.quant, out.quant):
                problems.append("constant_values must have the output's scale and zero point (TFLM requires it)")
        return problems

    def reference(self, node, graph, inputs):
        p = prepare(node, graph)
        x = np.asarray(inputs[0], dtype=np.float32 if is_float(node, graph) else np.int64).reshape(p.input_dims)
        return [np.pad(x, list(zip(p.pad_before, p.pad_after)), constant_values=p.pad_value)]

    def emit_c(self, node, graph, c):
        p = prepare(node, graph)
        fn = "mf_pad_f32" if is_float(node, graph) else "mf_pad_s8"
        params = c.struct(
            "mf_pad_f32_params" if fn == "mf_pad_f32" else "mf_pad_params",
            "params",
            dict(
                input_dims=tuple(p.input_dims),
                output_dims=tuple(p.output_dims),
                pad_before=tuple(p.pad_before),
                pad_value=p.pad_value,
            ),
        )
        return f"{fn}({params}, {c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])});"


@register
class Pad(_PadBase):
    op = "PAD"
    tflite_ops = ("PAD",)

    def to_tflite(self, node, graph):
        return TfliteOpOut("PAD", "PadOptions", schema.PadOptionsT(), version=2)


@register
class PadV2(_PadBase):
    op = "PADV2"
    tflite_ops = ("PADV2",)

    def to_tflite(self, node, graph):
        return TfliteOpOut("PADV2", "PadV2Options", schema.PadV2OptionsT(), version=2)
