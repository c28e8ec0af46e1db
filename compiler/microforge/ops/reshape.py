"""RESHAPE: a view of its input with the output tensor's shape (no kernel, shares the input's arena slot).

Also the base of the other pure views (SQUEEZE, EXPAND_DIMS). ONNX Flatten/Reshape import as RESHAPE:
the output shape is always the output tensor's (static) shape; the optional shape input (index 1)
and ReshapeOptions.new_shape are kept only so the node can be written back to .tflite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ..ir import Graph, Node
from .base import OpDef, TfliteOpOut, register


@dataclass
class ReshapeAttrs:
    new_shape: tuple[int, ...] | None = None  # ReshapeOptions.new_shape (may hold one -1); None when absent


def same_quant(a, b) -> bool:
    """Both unquantized, or identical scale, zero point and axis."""
    if a is None or b is None:
        return a is None and b is None
    return (
        a.scale.shape == b.scale.shape
        and bool(np.all(a.scale == b.scale))
        and bool(np.all(a.zero_point == b.zero_point))
        and a.axis == b.axis
    )


def const_int32_values(graph: Graph, node: Node, index: int, what: str) -> tuple[list[int] | None, list[str]]:
    """Values of an optional constant int32 input, or a reason it is not one."""
    t = graph.inp(node, index)
    if t is None:
        return None, []
    if not t.is_const or t.dtype != "int32":
        return None, [f"{what} input must be a constant int32 tensor"]
    return [int(v) for v in np.asarray(t.data).reshape(-1)], []


class AliasOp(OpDef):
    """An op whose output holds the input's bytes unchanged: the planner gives both one arena slot."""

    alias = True

    def check(self, node, graph):
        problems = []
        x, out = graph.inp(node, 0), graph.out(node)
        if x is None:
            return ["missing input"]
        if x.is_const:
            # A view of a constant has no arena slot to share; constant folding should remove the node.
            problems.append("constant input (fold it first): a view needs an arena tensor")
        if len(node.outputs) != 1:
            problems.append("expects exactly one output")
        if x.dtype != out.dtype:
            problems.append(f"input dtype {x.dtype} != output dtype {out.dtype}")
        if x.size != out.size:
            problems.append(f"input has {x.size} elements, output {out.size}")
        if not same_quant(x.quant, out.quant):
            problems.append("input and output quantization differ (a view cannot requantize)")
        return problems

    def reference(self, node, graph, inputs):
        return [np.asarray(inputs[0]).reshape(graph.out(node).shape)]

    def emit_c(self, node, graph, c):
        return ""  # never called for alias ops: the output is the input's memory


@register
class Reshape(AliasOp):
    op = "RESHAPE"
    tflite_ops = ("RESHAPE",)

    def from_tflite(self, options, node, graph):
        if options is None or options.newShape is None:
            return ReshapeAttrs()
        return ReshapeAttrs(tuple(int(d) for d in options.newShape))

    def to_tflite(self, node, graph):
        attrs = node.attrs or ReshapeAttrs()
        if attrs.new_shape is None:
            return TfliteOpOut("RESHAPE")
        opts = schema.ReshapeOptionsT()
        opts.newShape = np.asarray(attrs.new_shape, dtype=np.int32)
        return TfliteOpOut("RESHAPE", "ReshapeOptions", opts)

    def check(self, node, graph):
        problems = super().check(node, graph)
        if len(node.inputs) > 2:
            problems.append("expects at most two inputs (data, shape)")
        # TFLM takes the output tensor's dims; the shape values (one -1 allowed) are not read at run time.
        problems += const_int32_values(graph, node, 1, "shape")[1]
        return problems

