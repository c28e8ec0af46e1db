"""SPLIT and SPLIT_V (int8 or float32): one input cut into several outputs along a constant axis.

TFLM (split.cc, split_v.cc): SPLIT's inputs are (axis, input), SPLIT_V's (input, size_splits, axis);
the axis must be a constant int32 (negative counts from the back). Both copy bytes using the *output*
shapes (size_splits is never read), so we check the output shapes: equal extents for SPLIT, summing to
the input's along the axis; size_splits, when constant, must agree (one -1 allowed). Each output is one
`mf_strided_copy` call. Multi-output nodes never overlap their input in the arena.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ._gather_util import KERNEL, CopyPlan, axis_plan, check_moved_tensors, const_ints, emit_copy, numpy_dtype
from .base import OpDef, TfliteOpOut, register


@dataclass
class SplitAttrs:
    num_splits: int = 0


class _SplitBase(OpDef):
    kernels = (KERNEL,)
    data_index: int  # the input tensor's position
    axis_index: int  # the axis tensor's position
    n_inputs: int

    def from_tflite(self, options, node, graph):
        return SplitAttrs(len(node.outputs) if options is None else int(options.numSplits))

    def axis(self, node, graph) -> int:
        rank = len(graph.inp(node, self.data_index).shape)
        a = int(np.asarray(graph.inp(node, self.axis_index).data).reshape(-1)[0])
        return a + rank if a < 0 else a

    def plans(self, node, graph) -> list[CopyPlan]:
        x = graph.inp(node, self.data_index)
        axis, offset, plans = self.axis(node, graph), 0, []
        for name in node.outputs:
            shape = graph.tensor(name).shape
            starts = [offset if k == axis else 0 for k in range(len(shape))]
            plans.append(axis_plan(tuple(x.shape), starts, list(shape), [1] * len(shape)))
            offset += int(shape[axis])
        return plans

    def check(self, node, graph):
        x = graph.inp(node, self.data_index)
        if x is None or len(node.inputs) != self.n_inputs or not node.outputs:
            return [f"expects {self.n_inputs} inputs and at least one output"]
        outs = [graph.tensor(n) for n in node.outputs]
        problems = check_moved_tensors(x, outs)
        if node.attrs is not None and node.attrs.num_splits != len(outs):
            problems.append(f"num_splits {node.attrs.num_splits} != {len(outs)} outputs")
        axis_values, reasons = const_ints(graph, node, self.axis_index, "axis")
        if reasons:
            return problems + reasons
        rank = len(x.shape)
        if len(axis_values) != 1 or not -rank <= axis_values[0] < rank:
            return problems + [f"axis {axis_values} must be one value in [-{rank}, {rank})"]
        axis = self.axis(node, graph)
        for t in outs:
            if len(t.shape) != rank or any(a != b for k, (a, b) in enumerate(zip(t.shape, x.shape)) if k != axis):
                problems.append(
                    f"output {t.name!r} shape {list(t.shape)} does not fit input {list(x.shape)} on axis {axis}"
                )
        if problems:
            return problems
        sizes = [int(t.shape[axis]) for t in outs]
        if sum(sizes) != x.shape[axis]:
            problems.append(f"outputs sum to {sum(sizes)} along axis {axis}, input has {x.shape[axis]}")
        return problems + self.check_sizes(node, graph, sizes, int(x.shape[axis]))

    def check_sizes(self, node, graph, sizes: list[int], total: int) -> list[str]:
        return []

    def reference(self, node, graph, inputs):
        x = graph.inp(node, self.data_index)
        data = np.asarray(inputs[self.data_index], numpy_dtype(x)).reshape(x.shape)
        axis = self.axis(node, graph)
        cuts = np.cumsum([graph.tensor(n).shape[axis] for n in node.outputs])[:-1]
        return np.split(data, cuts, axis=axis)

    def emit_c(self, node, graph, c):
        x = graph.inp(node, self.data_index)
        src = node.inputs[self.data_index]
        calls = [
            emit_copy(c, p, src, name, x.itemsize, f"params{i}")
            for i, (p, name) in enumerate(zip(self.plans(node, graph), node.outputs))
        ]
        return " ".join(calls)  # one line: the template indents each layer's call once


@register
class Split(_SplitBase):
    op = "SPLIT"
    tflite_ops = ("SPLIT",)
    data_index, axis_index, n_inputs = 1, 0, 2

    def to_tflite(self, node, graph):
        opts = schema.SplitOptionsT()
        opts.numSplits = len(node.outputs)
        return TfliteOpOut("SPLIT", "SplitOptions", opts, version=2 if graph.inp(node, 1).dtype == "int8" else 1)

    def check_sizes(self, node, graph, sizes, total):
        if len(set(sizes)) != 1:
            return [f"SPLIT outputs must be equal along the axis, got {sizes}"]
        return []


@register
class SplitV(_SplitBase):
    op = "SPLIT_V"
    tflite_ops = ("SPLIT_V",)
    data_index, axis_index, n_inputs = 0, 2, 3

    def to_tflite(self, node, graph):
        opts = schema.SplitVOptionsT()
        opts.numSplits = len(node.outputs)
        return TfliteOpOut("SPLIT_V", "SplitVOptions", opts, version=2 if graph.inp(node, 0).dtype == "int8" else 1)

    def check_sizes(self, node, graph, sizes, total):
        given, reasons = const_ints(graph, node, 1, "size_splits", ("int32", "int64"))
        if reasons:
            return reasons
        if len(given) != len(sizes) or given.count(-1) > 1:
            return [f"size_splits {given} does not fit {len(sizes)} outputs"]
        if -1 in given:
            given[given.index(-1)] = total - (sum(given) + 1)
        if given != sizes:
            return [f"size_splits {given} != output extents {sizes} along the axis"]
        return []
