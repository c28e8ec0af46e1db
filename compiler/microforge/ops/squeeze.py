"""SQUEEZE: drop size-1 dimensions; a view of the input (no kernel, shares its arena slot)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from .base import TfliteOpOut, register
from .reshape import AliasOp


@dataclass
class SqueezeAttrs:
    squeeze_dims: tuple[int, ...] = ()  # empty: every size-1 dimension


def squeezed_shape(shape: tuple[int, ...], dims: tuple[int, ...]) -> tuple[int, ...] | None:
    """Shape after SQUEEZE as TFLM's SqueezePrepare defines it, or None when a dim is not squeezable."""
    rank = len(shape)
    if not dims:
        drop = {i for i, d in enumerate(shape) if d == 1}
    else:
        drop = set()
        for d in dims:
            k = d + rank if d < 0 else d
            if not 0 <= k < rank or shape[k] != 1:
                return None
            drop.add(k)
    return tuple(d for i, d in enumerate(shape) if i not in drop)


@register
class Squeeze(AliasOp):
    op = "SQUEEZE"
    tflite_ops = ("SQUEEZE",)

    def from_tflite(self, options, node, graph):
        if options is None or options.squeezeDims is None:
            return SqueezeAttrs()
        return SqueezeAttrs(tuple(int(d) for d in options.squeezeDims))

    def to_tflite(self, node, graph):
        opts = schema.SqueezeOptionsT()
        opts.squeezeDims = np.asarray((node.attrs or SqueezeAttrs()).squeeze_dims, dtype=np.int32)
        return TfliteOpOut("SQUEEZE", "SqueezeOptions", opts)

    def check(self, node, graph):
        problems = super().check(node, graph)
        if len(node.inputs) != 1:
            problems.append("expects exactly one input")
        x, out = graph.inp(node, 0), graph.out(node)
        if x is not None:
            if len(x.shape) > 8:
                problems.append(f"input rank {len(x.shape)} > 8")
            dims = (node.attrs or SqueezeAttrs()).squeeze_dims
            shape = squeezed_shape(x.shape, dims)
            if shape is None:
                problems.append(f"squeeze_dims {list(dims)} name a dimension that is out of range or not 1")
            elif shape != tuple(out.shape):
                problems.append(f"output shape {list(out.shape)} is not the squeezed input shape {list(shape)}")
        return problems
