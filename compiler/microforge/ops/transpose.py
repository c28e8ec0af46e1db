"""TRANSPOSE (int8 or float32): output dim k is input dim perm[k], perm a constant int32 vector.

TFLM (transpose_common.cc) requires a constant 1-D perm with one in-range entry per input dim and
rearranges bytes only; it does not check that perm is a permutation nor that the quantization
matches, so we do: a repeated axis or a different output scale would not mean what the model says.
TFLM accepts rank 5; our kernel walks 4-D.
"""

from __future__ import annotations

import numpy as np

from ..importers.schema import schema
from ._gather_util import KERNEL, CopyPlan, check_moved_tensors, const_ints, emit_copy, numpy_dtype, row_strides
from .base import OpDef, TfliteOpOut, register


def plan(node, graph) -> CopyPlan:
    x, out = graph.inp(node, 0), graph.out(node)
    perm = [int(v) for v in np.asarray(graph.inp(node, 1).data).reshape(-1)]
    elem = row_strides(tuple(x.shape))
    lead = 4 - len(perm)
    count = (1,) * lead + tuple(int(d) for d in out.shape)
    step = (0,) * lead + tuple(elem[p] for p in perm)
    return CopyPlan(count, step, 0)  # type: ignore[arg-type]


@register
class Transpose(OpDef):
    op = "TRANSPOSE"
    tflite_ops = ("TRANSPOSE",)
    kernels = (KERNEL,)

    def to_tflite(self, node, graph):
        return TfliteOpOut("TRANSPOSE", "TransposeOptions", schema.TransposeOptionsT(), version=2)

    def check(self, node, graph):
        x = graph.inp(node, 0)
        if x is None or len(node.inputs) != 2 or len(node.outputs) != 1:
            return ["expects input, perm and one output"]
        out = graph.out(node)
        problems = check_moved_tensors(x, [out])
        perm, reasons = const_ints(graph, node, 1, "perm")
        if reasons:
            return problems + reasons
        rank = len(x.shape)
        if len(graph.inp(node, 1).shape) != 1 or len(perm) != rank:
            return problems + [f"perm {perm} must be a vector with one entry per input dim ({rank})"]
        if sorted(perm) != list(range(rank)):
            return problems + [f"perm {perm} is not a permutation of 0..{rank - 1}"]
        expected = tuple(int(x.shape[p]) for p in perm)
        if tuple(out.shape) != expected:
            problems.append(f"output shape {list(out.shape)} != permuted input shape {list(expected)}")
        return problems

    def reference(self, node, graph, inputs):
        x = graph.inp(node, 0)
        perm = [int(v) for v in np.asarray(graph.inp(node, 1).data).reshape(-1)]
        return [np.transpose(np.asarray(inputs[0], numpy_dtype(x)).reshape(x.shape), perm)]

    def emit_c(self, node, graph, c):
        x = graph.inp(node, 0)
        return emit_copy(c, plan(node, graph), node.inputs[0], node.outputs[0], x.itemsize)
