"""Operator code versions as TensorFlow Lite's converter writes them.

The rules follow TFLite's `GetBuiltinOperatorVersion` (tensorflow/lite/tools/versioning/op_version.cc)
for the builtins microforge writes. A version names the smallest kernel feature set an op needs;
runtimes register version ranges, so a wrong (too high) version can make a runtime refuse the model.
Builtins without a rule here keep the version the op's `to_tflite` gave.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node

# int8 input -> 2, int16 input -> 3 (the converter's rule for these), anything else -> 1.
_INT8_2_INT16_3 = frozenset({"CONCATENATION", "SOFTMAX", "MEAN", "RELU6", "REDUCE_MAX", "REDUCE_MIN", "MIRROR_PAD"})
# int8 input -> 2; int16 input and output -> 3.
_INT8_2_INT16IO_3 = frozenset({"AVERAGE_POOL_2D", "MAX_POOL_2D", "LOGISTIC", "TANH"})
# Version 1 whatever the types (shape ops; QUANTIZE per tensor to int8).
_ALWAYS_1 = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})


def _dtype(graph: Graph, node: Node, i: int, outputs: bool = False) -> str | None:
    names = node.outputs if outputs else node.inputs
    if i >= len(names) or names[i] is None:
        return None
    return graph.tensor(names[i]).dtype


def _has_input(node: Node, i: int) -> bool:
    return i < len(node.inputs) and node.inputs[i] is not None


def converter_version(builtin: str, node: Node, graph: Graph, default: int) -> int:
    """The version TFLite's converter gives `builtin` for this node's types and options."""
    x, w, y = _dtype(graph, node, 0), _dtype(graph, node, 1), _dtype(graph, node, 0, outputs=True)
    if builtin in _ALWAYS_1:
        return 1
    if builtin == "CONV_2D":
        if x == "int16" and w == "int8" and y == "int16":
            return 4  # 16x8 (the converter's rule checks int16 filters; TFLM's 16x8 kernel is this)
        return 3 if (x, w, y) == ("int8", "int8", "int8") else 1
    if builtin == "DEPTHWISE_CONV_2D":
        if (x, w, y) == ("int8", "int8", "int8"):
            return 3
        if x == "int16" and w == "int8" and y == "int16":
            return 5
        a = node.attrs
        return 2 if getattr(a, "dilation_h", 1) != 1 or getattr(a, "dilation_w", 1) != 1 else 1
    if builtin == "FULLY_CONNECTED":
        if not _has_input(node, 2):
            return 6  # no bias
        if getattr(node.attrs, "keep_num_dims", False):
            return 5
        if x == "int16" and w == "int8" and y == "int16":
            return 7
        return 4 if (x, w, y) == ("int8", "int8", "int8") else 1
    if builtin == "ADD":
        return {"int8": 2, "int16": 3}.get(x or "", 1)
    if builtin == "MUL":
        if x == "int16":
            return 4
        q = [graph.tensor(n).quant for n in (node.inputs[0], node.inputs[1], node.outputs[0])]
        if all(p is not None for p in q):
            rescale = float(np.float32(q[0].s) * np.float32(q[1].s)) / float(np.float32(q[2].s))
            if rescale >= 1.0:
                return 3
        return 2 if x == "int8" else 1
    if builtin in ("PAD", "PADV2"):
        if len(graph.tensor(node.inputs[0]).shape) > 4:
            return 4
        return {"int8": 2, "int16": 3}.get(x or "", 1)
    if builtin in _INT8_2_INT16_3:
        return {"int8": 2, "int16": 3}.get(x or "", 1)
    if builtin in _INT8_2_INT16IO_3:
        if x == "int16" and y == "int16":
            return 3
        return 2 if x == "int8" else 1
    if builtin == "QUANTIZE":
        q = graph.tensor(node.outputs[0]).quant
        if q is not None and q.per_channel:
            return 3
        return 2 if y == "int16" else 1
    if builtin == "DEQUANTIZE":
        if x in ("int16",):
            return 3
        if x == "int8":
            q = graph.tensor(node.inputs[0]).quant
            return 5 if q is not None and q.per_channel else 2
        return 1
    if builtin in ("SUB", "TRANSPOSE", "RELU"):
        return 2 if x == "int8" else 1
    return default
