"""MAXIMUM and MINIMUM (int8 or float32), elementwise with numpy-style broadcasting up to rank 4.

TFLM (maximum_minimum.cc) has no Prepare: its Eval compares the raw stored values (`el1 > el2 ? el1 : el2`,
`el1 < el2 ? ...`) and never looks at the quantization. That is only the real max/min when both inputs
and the output share one scale and zero point (the TFLite converter guarantees it), so we require it.
float32 keeps that exact expression, NaN behaviour included (a NaN first input yields the second).
"""

from __future__ import annotations

import numpy as np

from ..importers.schema import schema
from ._broadcast_util import check_broadcast, input_strides
from ._common import check_dtypes, is_float
from ._inplace import elementwise_reads
from .base import OpDef, TfliteOpOut, dims4, register
from .reshape import same_quant


class _MaximumMinimum(OpDef):
    minimum: bool = False

    def c_kernels(self, node, graph):
        return ("mf_maximum_minimum_f32",) if is_float(node, graph) else ("mf_maximum_minimum_s8",)

    def to_tflite(self, node, graph):
        version = 2 if graph.inp(node, 0).dtype == "int8" else 1
        return TfliteOpOut(self.op, "MaximumMinimumOptions", schema.MaximumMinimumOptionsT(), version=version)

    def check(self, node, graph):
        if len(node.inputs) != 2 or len(node.outputs) != 1 or None in node.inputs:
            return ["expects two inputs and one output"]
        problems = check_dtypes(node, graph, (0, 1))
        if problems:
            return problems
        out = graph.out(node)
        if not is_float(node, graph):
            for i in (0, 1):
                t = graph.inp(node, i)
                if t.quant.per_channel or not same_quant(t.quant, out.quant):
                    problems.append(
                        f"input {i} quantization differs from the output's (TFLM compares raw int8 values "
                        "without requantizing; the inputs and the output need one scale and zero point)"
                    )
        return problems + check_broadcast(node, graph)

    def reference(self, node, graph, inputs):
        a, b, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
        dtype = np.float32 if is_float(node, graph) else np.int64
        x1 = np.asarray(inputs[0], dtype).reshape(dims4(a.shape))
        x2 = np.asarray(inputs[1], dtype).reshape(dims4(b.shape))
        pick_first = x1 < x2 if self.minimum else x1 > x2
        y = np.where(pick_first, x1, x2)
        return [np.broadcast_to(y, dims4(out.shape)).reshape(out.shape)]

    def inplace_reads(self, node, graph, input_index):
        x, out = graph.inp(node, input_index), graph.out(node)
        if tuple(x.shape) != tuple(out.shape):  # broadcasting reads some elements repeatedly
            return None
        return elementwise_reads(out.size)

    def emit_c(self, node, graph, c):
        a, b, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
        dims = dims4(out.shape)
        fields = dict(
            dims=dims,
            in1_strides=input_strides(a.shape, dims),
            in2_strides=input_strides(b.shape, dims),
            minimum=int(self.minimum),
        )
        flt = is_float(node, graph)
        params = c.struct("mf_maximum_minimum_f32_params" if flt else "mf_maximum_minimum_params", "params", fields)
        fn = "mf_maximum_minimum_f32" if flt else "mf_maximum_minimum_s8"
        args = [params, c.tensor(node.inputs[0]), c.tensor(node.inputs[1]), c.tensor(node.outputs[0])]
        return f"{fn}({', '.join(args)});"


@register
class Maximum(_MaximumMinimum):
    op = "MAXIMUM"
    tflite_ops = ("MAXIMUM",)
    kernels = ("mf_maximum_minimum_s8",)
    minimum = False


@register
class Minimum(_MaximumMinimum):
    op = "MINIMUM"
    tflite_ops = ("MINIMUM",)
    kernels = ("mf_maximum_minimum_s8",)
    minimum = True
