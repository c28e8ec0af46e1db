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


# --- float32 path: tensors with dtype "float32" and no quantization (TFLite's float reference kernels) ---

FLOAT32_MAX = float(np.finfo(np.float32).max)

# TFLite CalculateActivationRange<float>: NONE spans the whole float range (lowest .. max).
FLOAT_ACTIVATION_RANGES = {
    "NONE": (-FLOAT32_MAX, FLOAT32_MAX),
    "RELU": (0.0, FLOAT32_MAX),
    "RELU6": (0.0, 6.0),
    "RELU_N1_TO_1": (-1.0, 1.0),
}


def is_float(node: Node, graph: Graph) -> bool:
    """True when the node runs the float32 path (decided by its first input, as TFLM's Eval does)."""
    x = graph.inp(node, 0)
    return x is not None and x.dtype == "float32"


def float_clamp(activation: str) -> tuple[float, float]:
    """Float clamp range of a fused activation."""
    return FLOAT_ACTIVATION_RANGES[activation]


def check_float32(node: Node, graph: Graph, indices: tuple[int, ...] = (0,), outputs: bool = True) -> list[str]:
    """Problems when the listed inputs (and outputs) are not unquantized float32 tensors."""
    problems = []
    tensors = [graph.inp(node, i) for i in indices]
    tensors += [graph.out(node, k) for k in range(len(node.outputs))] if outputs else []
    for t in tensors:
        if t is None:
            continue
        if t.dtype != "float32":
            problems.append(f"tensor {t.name!r} is {t.dtype} in a float32 node; mixed types are not supported")
        elif t.quant is not None:
            problems.append(f"float32 tensor {t.name!r} has quantization parameters")
    return problems


def check_dtypes(node: Node, graph: Graph, indices: tuple[int, ...] = (0,), outputs: bool = True) -> list[str]:
    """int8 checks for an int8 node, float32 checks for a float node."""
    if is_float(node, graph):
        return check_float32(node, graph, indices, outputs)
    return check_int8_quantized(node, graph, indices, outputs)


def as_float64(x: np.ndarray | None) -> np.ndarray | None:
    """The float references compute in float64 and round once to float32 at the end."""
    return None if x is None else np.asarray(x, dtype=np.float64)


def float_activation(x: np.ndarray, activation: str) -> np.ndarray:
    """Round to float32, then clamp to the fused activation's range (as the C kernels do)."""
    lo, hi = float_clamp(activation)
    return np.clip(np.asarray(x, dtype=np.float32), np.float32(lo), np.float32(hi))


def check_finite(*tensors: Tensor | None) -> list[str]:
    """Float constants must be finite: the C backend writes them as float literals."""
    return [
        f"constant {t.name!r} has non-finite values"
        for t in tensors
        if t is not None and t.is_const and t.dtype == "float32" and not np.all(np.isfinite(t.data))
    ]
