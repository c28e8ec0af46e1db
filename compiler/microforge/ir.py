"""The typed graph IR every importer produces and every pass/backend consumes.

Layout is NHWC throughout. Constant tensors carry their data; activations do not.
Weight layouts follow TFLite: CONV_2D filters OHWI, DEPTHWISE_CONV_2D 1HW(C*M),
FULLY_CONNECTED [out, in].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# dtype names used in the IR, with their numpy equivalents.
DTYPES: dict[str, type] = {
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "float32": np.float32,
    "bool": np.bool_,
}

C_TYPES: dict[str, str] = {
    "int8": "int8_t",
    "uint8": "uint8_t",
    "int16": "int16_t",
    "int32": "int32_t",
    "int64": "int64_t",
    "float32": "float",
    "bool": "uint8_t",
}


@dataclass
class QuantParams:
    """Affine quantization: real = scale * (q - zero_point).

    `scale` and `zero_point` have one entry per tensor, or one per channel along `axis`.
    """

    scale: np.ndarray  # float32, shape [1] or [channels]
    zero_point: np.ndarray  # int64, same shape as scale
    axis: int | None = None  # channel axis when per-channel

    def __post_init__(self) -> None:
        self.scale = np.atleast_1d(np.asarray(self.scale, dtype=np.float32))
        self.zero_point = np.atleast_1d(np.asarray(self.zero_point, dtype=np.int64))
        if self.zero_point.size == 1 and self.scale.size > 1:
            self.zero_point = np.full(self.scale.shape, int(self.zero_point[0]), dtype=np.int64)

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1

    @property
    def s(self) -> float:
        """The single scale of a per-tensor quantized tensor."""
        return float(self.scale[0])

    @property
    def zp(self) -> int:
        """The single zero point of a per-tensor quantized tensor."""
        return int(self.zero_point[0])


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: QuantParams | None = None
    data: np.ndarray | None = None  # set for constants (weights, bias, shape tensors)

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def itemsize(self) -> int:
        return np.dtype(DTYPES[self.dtype]).itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize


@dataclass
class Node:
    """One operation. `op` is the registry key (e.g. "CONV_2D"); `attrs` is the op's own dataclass."""

    op: str
    name: str
    inputs: list[str | None]  # None marks an omitted optional input
    outputs: list[str]
    attrs: Any = None


@dataclass
class Graph:
    name: str
    tensors: dict[str, Tensor] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def add_tensor(self, tensor: Tensor) -> Tensor:
        self.tensors[tensor.name] = tensor
        return tensor

    def tensor(self, name: str) -> Tensor:
        return self.tensors[name]

    def inp(self, node: Node, i: int) -> Tensor | None:
        """Input tensor `i` of `node`, or None when omitted/absent."""
        if i >= len(node.inputs) or node.inputs[i] is None:
            return None
        return self.tensors[node.inputs[i]]

    def out(self, node: Node, i: int = 0) -> Tensor:
        return self.tensors[node.outputs[i]]

    def producers(self) -> dict[str, Node]:
        return {t: n for n in self.nodes for t in n.outputs}

    def consumers(self, tensor_name: str) -> list[Node]:
        return [n for n in self.nodes if tensor_name in n.inputs]

    def variables(self) -> list[str]:
        """Variable tensors (TFLite isVariable, e.g. SVDF state): read by a node, produced by none, not an
        input, not constant. They persist across invokes and are reset to `reset_value`."""
        produced = {t for n in self.nodes for t in n.outputs}
        names = dict.fromkeys(t for n in self.nodes for t in n.inputs if t is not None)
        return [t for t in names if t not in produced and t not in self.inputs and not self.tensors[t].is_const]


def reset_value(t: Tensor) -> int:
    """What TFLM fills a variable tensor with at init/reset: the zero point for int8, else 0."""
    return t.quant.zp if t.dtype == "int8" and t.quant is not None else 0
