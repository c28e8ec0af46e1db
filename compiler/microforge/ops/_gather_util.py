"""Data movement shared by TRANSPOSE, SLICE, STRIDED_SLICE, SPLIT and SPLIT_V (not an op itself).

These ops copy elements without reading their values, so one C kernel (`mf_strided_copy`) serves
int8 and float32: each output is a dense 4-D walk over the input with per-dimension element steps.
An op turns its attributes into a `CopyPlan`; its numpy reference is written independently (numpy
transpose / index arrays), so the tests check the plan against numpy and TFLM.
TFLM copies the bytes without requantizing, so an int8 output must share its input's quantization.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Graph, Node, Tensor
from .reshape import same_quant

KERNEL = "mf_strided_copy"
MAX_RANK = 4


@dataclass
class CopyPlan:
    count: tuple[int, int, int, int]  # output extents, rank padded to 4 on the left
    step: tuple[int, int, int, int]  # input element step per output dim
    start: int  # input element index of the first output element


def row_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Element strides of a dense row-major tensor."""
    strides = [1] * len(shape)
    for k in range(len(shape) - 2, -1, -1):
        strides[k] = strides[k + 1] * int(shape[k + 1])
    return tuple(strides)


def axis_plan(in_shape: tuple[int, ...], starts: list[int], counts: list[int], strides: list[int]) -> CopyPlan:
    """A plan that walks each input axis k from starts[k], counts[k] times, by strides[k] (in indices)."""
    elem = row_strides(tuple(in_shape))
    lead = MAX_RANK - len(in_shape)
    count = (1,) * lead + tuple(int(n) for n in counts)
    step = (0,) * lead + tuple(int(s) * int(e) for s, e in zip(strides, elem))
    start = sum(int(b) * int(e) for b, e in zip(starts, elem))
    return CopyPlan(count, step, start)  # type: ignore[arg-type]


def emit_copy(c, plan: CopyPlan, src: str, dst: str, elem_size: int, hint: str = "params") -> str:
    fields = dict(count=plan.count, step=plan.step, start=plan.start, elem_size=elem_size)
    params = c.struct("mf_strided_copy_params", hint, fields)
    return f"{KERNEL}({params}, {c.tensor(src)}, {c.tensor(dst)});"


def numpy_dtype(t: Tensor) -> type:
    return np.float32 if t.dtype == "float32" else np.int64


def check_moved_tensors(data: Tensor, outputs: list[Tensor]) -> list[str]:
    """int8 (per-tensor, the input's quantization on every output) or float32 (unquantized) data movement."""
    problems = []
    if data.is_const:
        problems.append("constant input (fold it first)")
    if data.dtype not in ("int8", "float32"):
        return problems + [f"tensor {data.name!r} is {data.dtype}; only int8 and float32 are supported"]
    for t in [data] + outputs:
        if t.dtype != data.dtype:
            problems.append(f"tensor {t.name!r} is {t.dtype}, input is {data.dtype}")
        elif t.dtype == "float32" and t.quant is not None:
            problems.append(f"float32 tensor {t.name!r} has quantization parameters")
        elif t.dtype == "int8" and t.quant is None:
            problems.append(f"tensor {t.name!r} has no quantization parameters")
        elif t.dtype == "int8" and t.quant.per_channel:
            problems.append(f"tensor {t.name!r} is per-channel quantized; only per-tensor is supported")
    if problems:
        return problems
    for t in outputs:
        if not same_quant(data.quant, t.quant):
            problems.append(
                f"output {t.name!r} quantization differs from the input's (TFLM copies bytes without requantizing)"
            )
    for t in [data] + outputs:
        if len(t.shape) > MAX_RANK:
            problems.append(f"tensor {t.name!r} has rank {len(t.shape)}; at most {MAX_RANK} is supported")
        elif t.size == 0:
            problems.append(f"tensor {t.name!r} is empty")
    return problems


def const_ints(
    graph: Graph, node: Node, index: int, what: str, dtypes=("int32",)
) -> tuple[list[int] | None, list[str]]:
    """Values of a constant integer input (flattened), or the reason it is unusable."""
    t = graph.inp(node, index)
    if t is None:
        return None, [f"missing {what} input"]
    if not t.is_const or t.dtype not in dtypes:
        return None, [f"{what} must be a constant {' or '.join(dtypes)} tensor (TFLM reads it as such)"]
    return [int(v) for v in np.asarray(t.data).reshape(-1)], []
