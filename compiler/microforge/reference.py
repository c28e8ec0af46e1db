"""Run a graph with the ops' integer references: the executable spec of the whole model."""

from __future__ import annotations

import numpy as np

from . import ops
from .ir import DTYPES, Graph, reset_value


def run_reference(
    graph: Graph, inputs: list[np.ndarray], keep: bool = False, state: dict[str, np.ndarray] | None = None
) -> list[np.ndarray] | dict[str, np.ndarray]:
    """Outputs for one sample. With keep=True, every tensor's value by name (for per-layer diffs).

    Variable tensors (SVDF state) come from `state`, filled with reset values where missing and updated
    in place by the ops: pass the same dict to consecutive calls to stream as TFLM does."""
    state = {} if state is None else state
    for name in graph.variables():
        t = graph.tensor(name)
        state.setdefault(name, np.full(t.shape, reset_value(t), np.int64))
    if len(inputs) != len(graph.inputs):
        raise ValueError(f"expected {len(graph.inputs)} inputs, got {len(inputs)}")
    values: dict[str, np.ndarray] = {}
    for name, arr in zip(graph.inputs, inputs):
        t = graph.tensor(name)
        values[name] = np.asarray(arr).astype(DTYPES[t.dtype]).reshape(t.shape)
    for node in graph.nodes:
        args = []
        for name in node.inputs:
            if name is None:
                args.append(None)
            elif graph.tensor(name).is_const:
                args.append(graph.tensor(name).data)
            elif name in state:
                args.append(state[name])
            else:
                args.append(values[name])
        outs = ops.get(node.op).reference(node, graph, args)
        for name, arr in zip(node.outputs, outs):
            t = graph.tensor(name)
            values[name] = np.asarray(arr).astype(DTYPES[t.dtype]).reshape(t.shape)
    if keep:
        return values
    return [values[name] for name in graph.outputs]
