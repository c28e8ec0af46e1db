"""Helpers shared by the standalone activation ops (RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH, PRELU)."""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Node
from ..quant import quantize_multiplier
from ._common import check_float32

# MultiplyByQuantizedMultiplier shifts its int32 input left by the exponent before multiplying: an input of
# magnitude up to 255 (int8 minus a zero point) overflows int32 past 2^23 (TFLM does not check this).
MAX_LEFT_SHIFT_INT8 = 23


def f32(x: float) -> float:
    """A Python float holding the float32 value TFLM stores (tensor scales, option floats)."""
    return float(np.float32(x))


def multiplier(real: float) -> tuple[int, int]:
    """tflite::QuantizeMultiplier of a real multiplier already computed as TFLM does (float or double)."""
    return quantize_multiplier(real)


def check_per_tensor_int8(node: Node, graph: Graph, indices: tuple[int, ...] = (0,)) -> list[str]:
    """The listed inputs and the output are int8 with one (per-tensor) scale and zero point."""
    problems = []
    for t in [graph.inp(node, i) for i in indices] + [graph.out(node)]:
        if t is None:
            problems.append("missing tensor")
        elif t.dtype != "int8" or t.quant is None:
            problems.append(f"tensor {t.name!r} must be quantized int8 (is {t.dtype})")
        elif t.quant.per_channel:
            problems.append(f"tensor {t.name!r}: per-channel quantization not supported")
        elif not t.quant.s > 0 or not np.isfinite(t.quant.s):
            problems.append(f"tensor {t.name!r}: scale {t.quant.s} must be finite and > 0")
    return problems


def check_same_size(node: Node, graph: Graph) -> list[str]:
    x, out = graph.inp(node, 0), graph.out(node)
    return [] if x.size == out.size else [f"input has {x.size} elements, output {out.size}"]


def check_shift(shift: int, what: str, limit: int = MAX_LEFT_SHIFT_INT8) -> list[str]:
    if shift > limit:
        return [f"{what} needs a left shift of {shift} (> {limit}): the int32 intermediate would overflow"]
    return []


def check_elementwise(node: Node, graph: Graph) -> tuple[bool, list[str]]:
    """(is float, problems) for a one-input elementwise activation of either dtype."""
    x = graph.inp(node, 0)
    if x is None:
        return False, ["needs an input"]
    if x.dtype == "float32":
        return True, check_float32(node, graph) + check_same_size(node, graph)
    problems = check_per_tensor_int8(node, graph)
    return False, problems or check_same_size(node, graph)


def emit_unary(fn: str, node: Node, graph: Graph, c, *scalars: object) -> str:
    """`fn(size, scalars..., input, output);` for the simple float kernels."""
    from ..backends.c.context import c_float, c_int  # exact literals (imported late: the backend imports ops)

    lits = [c_float(s) if isinstance(s, float) else c_int(int(s)) for s in scalars]
    args = [str(graph.inp(node, 0).size), *lits, c.tensor(node.inputs[0])]
    return f"{fn}({', '.join(args)}, {c.tensor(node.outputs[0])});"
