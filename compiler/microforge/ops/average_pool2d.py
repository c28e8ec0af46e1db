"""AVERAGE_POOL_2D (int8; input and output share their quantization, as TFLM requires)."""

from __future__ import annotations

import numpy as np

from . import _pool_util as pu
from ._common import as_int64
from ._inplace import window_reads
from .base import OpDef, register


@register
class AveragePool2D(OpDef):
    op = "AVERAGE_POOL_2D"
    tflite_ops = ("AVERAGE_POOL_2D",)
    kernels = ("mf_avgpool_s8",)

    def from_tflite(self, options, node, graph):
        return pu.attrs_from_tflite(options)

    def to_tflite(self, node, graph):
        return pu.attrs_to_tflite("AVERAGE_POOL_2D", node.attrs)

    def check(self, node, graph):
        return pu.check(node, graph)

    def reference(self, node, graph, inputs):
        p = pu.prepare(node, graph)
        x = as_int64(inputs[0])
        acc = np.zeros((p.batches, p.out_h, p.out_w, p.channels), np.int64)
        count = np.zeros((1, p.out_h, p.out_w, 1), np.int64)  # in-bounds taps only
        for iy, ix, vy, vx in pu.taps(p):
            valid = (vy[:, None] & vx[None, :])[None, :, :, None]
            acc += np.where(valid, pu.gather(x, iy, ix), 0)
            count += valid
        # TFLM rounds half away from zero with C's truncating division.
        half = count // 2
        avg = np.where(acc > 0, (acc + half) // count, -((half - acc) // count))
        return [np.clip(avg, p.act_min, p.act_max)]

    def macs(self, node, graph):
        p = pu.prepare(node, graph)
        return p.batches * p.out_h * p.out_w * p.channels * p.filter_h * p.filter_w

    def inplace_reads(self, node, graph, input_index):
        p = pu.prepare(node, graph)
        return window_reads(graph.inp(node, 0).shape, graph.out(node).shape, (p.stride_h, p.stride_w),
                            (p.pad_h, p.pad_w), (1, 1), (p.filter_h, p.filter_w), 1)

    def emit_c(self, node, graph, c):
        params = c.struct("mf_avgpool_params", "params", pu.struct_fields(pu.prepare(node, graph)))
        return f"mf_avgpool_s8({params}, {c.tensor(node.inputs[0])}, {c.tensor(node.outputs[0])});"
