"""CONCATENATION (int8) along any axis.

TFLM's int8 CONCATENATION stores the input scales/zero points in Prepare but Eval copies bytes
(EvalUnquantized): inputs whose quantization differs from the output's are *not* requantized.
We only accept inputs that share the output's quantization, where that copy is also correct;
anything else needs a requantizing QUANTIZE in front (reported by check()).
float32 (all inputs and the output float32) is the same copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ._common import activation_code, activation_name, check_dtypes, is_float
from .base import OpDef, TfliteOpOut, register
from .reshape import same_quant

MAX_INPUTS = 10  # TFLM's kMaxInputNum
MAX_RANK = 4  # TFLM rejects rank > 4


@dataclass
class ConcatenationAttrs:
    axis: int = 0  # may be negative (counts from the output rank)
    activation: str = "NONE"


@dataclass
class ConcatenationPrepared:
    axis: int  # non-negative
    outer_size: int  # product of output dims before the axis
    copy_sizes: list[int]  # per input: dims[axis] * product of dims after the axis


def prepare(node, graph) -> ConcatenationPrepared:
    out = graph.out(node)
    axis = node.attrs.axis + len(out.shape) if node.attrs.axis < 0 else node.attrs.axis
    outer = int(np.prod(out.shape[:axis], dtype=np.int64))
    inner = int(np.prod(out.shape[axis + 1 :], dtype=np.int64))
    sizes = [graph.tensor(n).shape[axis] * inner for n in node.inputs]
    return ConcatenationPrepared(axis, outer, sizes)


@register
class Concatenation(OpDef):
    op = "CONCATENATION"
    tflite_ops = ("CONCATENATION",)
    kernels = ("mf_concat_s8",)

    def c_kernels(self, node, graph):
        return ("mf_concat_f32",) if is_float(node, graph) else self.kernels

    def from_tflite(self, options, node, graph):
        if options is None:
            return ConcatenationAttrs()
        return ConcatenationAttrs(int(options.axis), activation_name(options.fusedActivationFunction))

    def to_tflite(self, node, graph):
        opts = schema.ConcatenationOptionsT()
        opts.axis = node.attrs.axis
        opts.fusedActivationFunction = activation_code(node.attrs.activation)
        return TfliteOpOut("CONCATENATION", "ConcatenationOptions", opts, version=3)

    def check(self, node, graph):
        n = len(node.inputs)
        if n == 0 or any(name is None for name in node.inputs) or len(node.outputs) != 1:
            return ["expects one or more inputs and one output"]
        problems = check_dtypes(node, graph, tuple(range(n)))
        if n > MAX_INPUTS:
            problems.append(f"{n} inputs; TFLM supports at most {MAX_INPUTS}")
        if node.attrs.activation != "NONE":
            problems.append(f"fused activation {node.attrs.activation} not supported (TFLM: NONE only)")
        out = graph.out(node)
        rank = len(out.shape)
        if rank > MAX_RANK:
            problems.append(f"rank {rank} > {MAX_RANK}")
        if not -rank <= node.attrs.axis < rank:
            return problems + [f"axis {node.attrs.axis} out of range for rank {rank}"]
        axis = node.attrs.axis % rank
        total = 0
        for name in node.inputs:
            t = graph.tensor(name)
            if len(t.shape) != rank or any(a != b for k, (a, b) in enumerate(zip(t.shape, out.shape)) if k != axis):
                problems.append(
                    f"input {name!r} shape {list(t.shape)} does not fit output {list(out.shape)} on axis {axis}"
                )
            else:
                total += t.shape[axis]
            if t.quant is not None and out.quant is not None and not same_quant(t.quant, out.quant):
                problems.append(
                    f"input {name!r} quantization differs from the output's; TFLM copies bytes without "
                    "requantizing, so insert a QUANTIZE (requantize) before the concatenation"
                )
        if not problems and total != out.shape[axis]:
            problems.append(f"inputs sum to {total} along axis {axis}, output has {out.shape[axis]}")
        return problems

    def reference(self, node, graph, inputs):
        p = prepare(node, graph)
        dtype = np.float32 if is_float(node, graph) else np.int64
        return [np.concatenate([np.asarray(x, dtype=dtype) for x in inputs], axis=p.axis)]

    def emit_c(self, node, graph, c):
        p = prepare(node, graph)
        flt = is_float(node, graph)
        ctype, fn = ("float", "mf_concat_f32") if flt else ("int8_t", "mf_concat_s8")
        struct = "mf_concat_f32_params" if flt else "mf_concat_params"
        params = c.struct(struct, "params", dict(outer_size=p.outer_size, num_inputs=len(node.inputs)))
        sizes = c.const_array("copy_sizes", np.asarray(p.copy_sizes, dtype=np.int32), "int32_t")
        ptrs = ", ".join(c.tensor(name) for name in node.inputs)
        # The input pointers are arena addresses known only at run time: a local array per call.
        return (
            f"{{ const {ctype} *const inputs[{len(node.inputs)}] = {{{ptrs}}};"
            f" {fn}({params}, inputs, {sizes}, {c.tensor(node.outputs[0])}); }}"
        )
