"""EXPAND_DIMS: insert a size-1 dimension; a view of the input (no kernel, shares its arena slot)."""

from __future__ import annotations

from ..importers.schema import schema
from .base import TfliteOpOut, register
from .reshape import AliasOp, const_int32_values


@register
class ExpandDims(AliasOp):
    op = "EXPAND_DIMS"
    tflite_ops = ("EXPAND_DIMS",)

    def to_tflite(self, node, graph):
        return TfliteOpOut("EXPAND_DIMS", "ExpandDimsOptions", schema.ExpandDimsOptionsT())

    def check(self, node, graph):
        problems = super().check(node, graph)
        x, out = graph.inp(node, 0), graph.out(node)
        axis, reasons = const_int32_values(graph, node, 1, "axis")
        if len(node.inputs) != 2 or graph.inp(node, 1) is None:
            return problems + ["expects two inputs (data, constant int32 axis)"]
        if reasons or axis is None or len(axis) != 1 or len(graph.inp(node, 1).shape) > 1:
            return problems + (reasons or ["axis must hold exactly one value"])
        # As TFLM's VerifyTensorDim: a negative axis counts from the end of the *output* rank.
        a = axis[0] + len(x.shape) + 1 if axis[0] < 0 else axis[0]
        if not 0 <= a <= len(x.shape):
            problems.append(f"axis {axis[0]} out of range for rank {len(x.shape)}")
        elif tuple(out.shape) != tuple(x.shape[:a]) + (1,) + tuple(x.shape[a:]):
            problems.append(f"output shape {list(out.shape)} is not input {list(x.shape)} with a 1 at axis {a}")
        return problems

