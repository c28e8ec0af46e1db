"""MAX_POOL_2D (int8, input and output sharing their quantization as TFLM requires; or float32).

float32 follows TFLite's reference_ops::MaxPool: the max of the in-bounds taps (padding skipped), then the clamp.
"""

from __future__ import annotations

import numpy as np

from . import _pool_util as pu
from ._common import as_int64, float_activation, is_float
from ._inplace import window_reads
from .base import OpDef, register


@register
class MaxPool2D(OpDef):
    op = "MAX_POOL_2D"
    tflite_ops = ("MAX_POOL_2D",)
    kernels = ("mf_maxpool_s8",)

    def c_kernels(self, node, graph):
        return ("mf_maxpool_f32",) if is_float(node, graph) else self.kernels

    def from_tflite(self, options, node, graph):
        return pu.attrs_from_tflite(options)

    def to_tflite(self, node, graph):
        return pu.attrs_to_tflite("MAX_POOL_2D", node.attrs)

    def check(self, node, graph):
        return pu.check(node, graph)

    def reference(self, node, graph, inputs):
        p = pu.prepare(node, graph)
        if is_float(node, graph):
            x = np.asarray(inputs[0], np.float32)
            out = np.full((p.batches, p.out_h, p.out_w, p.channels), -np.inf, np.float32)
            for iy, ix, vy, vx in pu.taps(p):
                valid = (vy[:, None] & vx[None, :])[None, :, :, None]
                out = np.maximum(out, np.where(valid, pu.gather(x, iy, ix), -np.inf))
            return [float_activation(out, node.attrs.activation)]
        x = as_int64(inputs[0])
        # Out-of-bounds taps are skipped: they count as int8 lowest, TFLM's starting value.
        out = np.full((p.batches, p.out_h, p.out_w, p.channels), -128, np.int64)
        for iy, ix, vy, vx in pu.taps(p):
            valid = (vy[:, None] & vx[None, :])[None, :, :, None]
            out = np.maximum(out, np.where(valid, pu.gather(x, iy, ix), -128))
        return [np.clip(out, p.act_min, p.act_max)]

    def inplace_reads(self, node, graph, input_index):
        p = pu.prepare(node, graph)
        return window_reads(graph.inp(node, 0).shape, graph.out(node).shape, (p.stride_h, p.stride_w),
                            (p.pad_h, p.pad_w), (1, 1), (p.filter_h, p.filter_w), 1)

    def emit_c(self, node, graph, c):
        fn = "mf_maxpool_f32" if is_float(node, graph) else "mf_maxpool_s8"
        ctype = "mf_maxpool_f32_params" if fn.endswith("_f32") else "mf_maxpool_params"
        params = c.struct(ctype, "params", pu.struct_fields(pu.prepare(node, graph)))
        return f"{fn}({params}, {c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])});"
