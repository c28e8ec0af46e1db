"""Broadcasting geometry shared by the int8 ADD and MUL ops (not an op itself).

TFLM broadcasts like numpy after left-padding both shapes to the output rank (its
BroadcastAdd4DSlow / BroadcastMul4DSlow). Our kernels walk the output as NHWC (rank padded
to 4) and read each input through per-dimension element strides that are 0 where that input
has extent 1: the same indexing for the broadcast and the same-shape case.
"""

from __future__ import annotations

from ..ir import Graph, Node
from .base import dims4


def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """Numpy broadcast of two shapes, or None when they are incompatible."""
    rank = max(len(a), len(b))
    a = (1,) * (rank - len(a)) + tuple(a)
    b = (1,) * (rank - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y) if min(x, y) != 0 else 0)
    return tuple(out)


def input_strides(in_shape: tuple[int, ...], out_dims: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Element strides of a row-major input per output NHWC dim, 0 where the input is broadcast."""
    d = dims4(in_shape)
    strides = [0, 0, 0, 0]
    step = 1
    for k in range(3, -1, -1):
        strides[k] = step if d[k] == out_dims[k] and d[k] != 1 else 0
        step *= d[k]
    return strides[0], strides[1], strides[2], strides[3]


def check_broadcast(node: Node, graph: Graph) -> list[str]:
    """Rank <= 4 and an output shape equal to the broadcast of the two input shapes."""
    a, b, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
    if a is None or b is None:
        return ["needs two inputs"]
    problems = []
    for t in (a, b, out):
        if len(t.shape) > 4:
            problems.append(f"tensor {t.name!r} has rank {len(t.shape)}; at most 4 is supported")
    if problems:
        return problems
    shape = broadcast_shape(a.shape, b.shape)
    if shape is None:
        problems.append(f"input shapes {list(a.shape)} and {list(b.shape)} do not broadcast")
    elif dims4(shape) != dims4(out.shape):
        problems.append(f"output shape {list(out.shape)} is not the broadcast shape {list(shape)}")
    return problems
