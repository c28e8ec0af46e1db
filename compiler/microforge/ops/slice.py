"""SLICE (int8 or float32): output = input[begin : begin + size] per dim, begin/size constant vectors.

As TFLM's slice.cc: begin and size are int32 or int64 (the same type), one entry per input dim;
0 <= begin <= dim, size -1 means "to the end", otherwise 0 <= size <= dim - begin, and the sliced
element count must equal the output's. TFLM checks only the element count; we require the exact shape.
"""

from __future__ import annotations

import numpy as np

from ..importers.schema import schema
from ._gather_util import KERNEL, CopyPlan, axis_plan, check_moved_tensors, const_ints, emit_copy, numpy_dtype
from .base import OpDef, TfliteOpOut, register


def resolved(node, graph) -> tuple[list[int], list[int]]:
    """(begin, size) per input dim, size -1 resolved to the remaining extent."""
    x = graph.inp(node, 0)
    begin = [int(v) for v in np.asarray(graph.inp(node, 1).data).reshape(-1)]
    size = [int(v) for v in np.asarray(graph.inp(node, 2).data).reshape(-1)]
    return begin, [int(d) - b if s == -1 else s for d, b, s in zip(x.shape, begin, size)]


def plan(node, graph) -> CopyPlan:
    begin, size = resolved(node, graph)
    return axis_plan(tuple(graph.inp(node, 0).shape), begin, size, [1] * len(begin))


@register
class Slice(OpDef):
    op = "SLICE"
    tflite_ops = ("SLICE",)
    kernels = (KERNEL,)

    def to_tflite(self, node, graph):
        return TfliteOpOut(
            "SLICE", "SliceOptions", schema.SliceOptionsT(), version=2 if graph.inp(node, 0).dtype == "int8" else 1
        )

    def check(self, node, graph):
        x = graph.inp(node, 0)
        if x is None or len(node.inputs) != 3 or len(node.outputs) != 1:
            return ["expects input, begin, size and one output"]
        out = graph.out(node)
        problems = check_moved_tensors(x, [out])
        types = ("int32", "int64")
        begin, r1 = const_ints(graph, node, 1, "begin", types)
        size, r2 = const_ints(graph, node, 2, "size", types)
        if r1 or r2:
            return problems + r1 + r2
        if graph.inp(node, 1).dtype != graph.inp(node, 2).dtype:
            problems.append("begin and size must have the same type (TFLM requires it)")
        rank = len(x.shape)
        if len(begin) != rank or len(size) != rank:
            return problems + [f"begin {begin} and size {size} need one entry per input dim ({rank})"]
        for k, (d, b, s) in enumerate(zip(x.shape, begin, size)):
            if not 0 <= b <= d:
                problems.append(f"begin {b} out of range [0, {d}] on dim {k}")
            elif s != -1 and not 0 <= s <= d - b:
                problems.append(f"size {s} out of range on dim {k} (begin {b}, dim {d}; -1 or [0, {d - b}])")
        if problems:
            return problems
        expected = resolved(node, graph)[1]
        if list(out.shape) != expected:
            problems.append(f"output shape {list(out.shape)} != slice shape {expected}")
        return problems

    def reference(self, node, graph, inputs):
        x = graph.inp(node, 0)
        begin, size = resolved(node, graph)
        data = np.asarray(inputs[0], numpy_dtype(x)).reshape(x.shape)
        return [data[tuple(slice(b, b + s) for b, s in zip(begin, size))]]

    def emit_c(self, node, graph, c):
        x = graph.inp(node, 0)
        return emit_copy(c, plan(node, graph), node.inputs[0], node.outputs[0], x.itemsize)
