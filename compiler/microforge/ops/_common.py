"""Helpers shared by several op modules (not an op itself)."""

from __future__ import annotations

import numpy as np

from ..importers.schema import schema
from ..ir import Graph, Node, Tensor
from ..quant import activation_range

ACTIVATION_NAMES = {v: k for k, v in vars(schema.ActivationFunctionType).items() if not k.startswith("_")}
SUPPORTED_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def activation_name(code: int) -> str:
    return ACTIVATION_NAMES.get(int(code), f"ACT_{code}")


def activation_code(name: str) -> int:
    return int(getattr(schema.ActivationFunctionType, name))


def output_clamp(activation: str, out: Tensor) -> tuple[int, int]:
    """Quantized clamp range of a fused activation on the output tensor."""
    return activation_range(activation, out.quant.s, out.quant.zp, out.dtype)


def check_activation(activation: str) -> list[str]:
    return [] if activation in SUPPORTED_ACTIVATIONS else [f"fused activation {activation} not supported"]


def check_int8_quantized(node: Node, graph: Graph, indices: tuple[int, ...] = (0,), outputs: bool = True) -> list[str]:
    """Problems when the listed inputs (and outputs) are not int8 tensors with quantization."""
    problems = []
    tensors = [graph.inp(node, i) for i in indices] + ([graph.out(node, k) for k in range(len(node.outputs))] if outputs else [])
    for t in tensors:
        if t is None:
            continue
        if t.dtype != "int8":
            problems.append(f"tensor {t.name!r} is {t.dtype}; only int8 is supported")
        elif t.quant is None:
            problems.append(f"tensor {t.name!r} has no quantization parameters")
    return problems


def as_int64(x: np.ndarray | None) -> np.ndarray | None:
    return None if x is None else np.asarray(x, dtype=np.int64)
