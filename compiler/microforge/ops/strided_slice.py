"""STRIDED_SLICE (int8 or float32) with constant int32 begin/end/strides, as TFLM's strided_slice.cc.

TFLM semantics (strided_slice_logic.h), per axis of size d, stride s != 0:
- start: begin (+d when negative), clamped to [0, d] (s > 0) or [-1, d - 1] (s < 0); begin_mask -> 0 or d - 1;
- stop: end likewise, end_mask -> d or -1; a shrink axis stops at start + 1 and is dropped from the output;
- the output walks range(start, stop, s) on each axis.
What TFLM does not implement we reject: TFLM zeroes ellipsis_mask and new_axis_mask and ignores `offset`
(silently computing something else than the model means), reads exactly rank entries of begin/end/strides,
and on a shrink axis with a negative stride (or begin == d) writes nothing. Prepare checks the output shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ._gather_util import KERNEL, CopyPlan, axis_plan, check_moved_tensors, const_ints, emit_copy, numpy_dtype
from .base import OpDef, TfliteOpOut, register


@dataclass
class StridedSliceAttrs:
    begin_mask: int = 0
    end_mask: int = 0
    ellipsis_mask: int = 0
    new_axis_mask: int = 0
    shrink_axis_mask: int = 0
    offset: bool = False


@dataclass
class AxisWalk:
    start: int
    stop: int
    stride: int
    shrink: bool

    @property
    def count(self) -> int:
        return len(range(self.start, self.stop, self.stride))


def _clamp(v: int, lo: int, hi: int) -> int:
    return hi if v > hi else lo if v < lo else v


def axis_walks(node, graph) -> list[AxisWalk]:
    """Per input axis, the start/stop/stride TFLM's Eval iterates (StridedSliceStartForAxis/EndForAxis)."""
    x, a = graph.inp(node, 0), node.attrs
    begin, end, strides = (np.asarray(graph.inp(node, i).data).reshape(-1).tolist() for i in (1, 2, 3))
    walks = []
    for k, d in enumerate(int(v) for v in x.shape):
        s = int(strides[k])
        lo, hi = (0, d) if s > 0 else (-1, d - 1)
        start = int(begin[k]) + (d if begin[k] < 0 else 0)
        start = _clamp(start, lo, hi)
        if a.begin_mask & (1 << k):
            start = 0 if s > 0 else d - 1
        shrink = bool(a.shrink_axis_mask & (1 << k))
        if shrink:
            stop = start if start >= d else start + 1
        else:
            stop = _clamp(int(end[k]) + (d if end[k] < 0 else 0), lo, hi)
            if a.end_mask & (1 << k):
                stop = d if s > 0 else -1
        walks.append(AxisWalk(start, stop, s, shrink))
    return walks


def plan(node, graph) -> CopyPlan:
    walks = axis_walks(node, graph)
    return axis_plan(
        tuple(graph.inp(node, 0).shape), [w.start for w in walks], [w.count for w in walks], [w.stride for w in walks]
    )


@register
class StridedSlice(OpDef):
    op = "STRIDED_SLICE"
    tflite_ops = ("STRIDED_SLICE",)
    kernels = (KERNEL,)

    def from_tflite(self, options, node, graph):
        if options is None:
            return StridedSliceAttrs()
        return StridedSliceAttrs(
            int(options.beginMask),
            int(options.endMask),
            int(options.ellipsisMask),
            int(options.newAxisMask),
            int(options.shrinkAxisMask),
            bool(getattr(options, "offset", False)),
        )

    def to_tflite(self, node, graph):
        a = node.attrs
        opts = schema.StridedSliceOptionsT()
        opts.beginMask, opts.endMask = a.begin_mask, a.end_mask
        opts.ellipsisMask, opts.newAxisMask = a.ellipsis_mask, a.new_axis_mask
        opts.shrinkAxisMask, opts.offset = a.shrink_axis_mask, a.offset
        return TfliteOpOut(
            "STRIDED_SLICE", "StridedSliceOptions", opts, version=2 if graph.inp(node, 0).dtype == "int8" else 1
        )

    def check(self, node, graph):
        x = graph.inp(node, 0)
        if x is None or len(node.inputs) != 4 or len(node.outputs) != 1:
            return ["expects input, begin, end, strides and one output"]
        out, a = graph.out(node), node.attrs
        problems = check_moved_tensors(x, [out])
        if a.ellipsis_mask or a.new_axis_mask:
            problems.append("ellipsis_mask/new_axis_mask not supported (TFLM ignores them)")
        if a.offset:
            problems.append("offset=true not supported (TFLM ignores it)")
        rank = len(x.shape)
        vectors = {}
        for i, what in ((1, "begin"), (2, "end"), (3, "strides")):
            values, reasons = const_ints(graph, node, i, what)
            problems += reasons
            if values is not None and len(values) != rank:
                problems.append(f"{what} {values} needs one entry per input dim ({rank})")
            vectors[what] = values
        if problems:
            return problems
        if 0 in vectors["strides"]:
            return [f"strides {vectors['strides']} contain 0"]
        walks = axis_walks(node, graph)
        for k, w in enumerate(walks):
            if w.shrink and w.count != 1:
                problems.append(
                    f"shrink axis {k} selects no element (TFLM writes nothing: negative stride or begin == dim)"
                )
        expected = [w.count for w in walks if not w.shrink]
        if list(out.shape) != expected:
            problems.append(f"output shape {list(out.shape)} != strided slice shape {expected}")
        return problems

    def reference(self, node, graph, inputs):
        x, out = graph.inp(node, 0), graph.out(node)
        data = np.asarray(inputs[0], numpy_dtype(x)).reshape(x.shape)
        index = np.ix_(*[np.arange(w.start, w.stop, w.stride) for w in axis_walks(node, graph)])
        return [data[index].reshape(out.shape)]

    def emit_c(self, node, graph, c):
        x = graph.inp(node, 0)
        return emit_copy(c, plan(node, graph), node.inputs[0], node.outputs[0], x.itemsize)
