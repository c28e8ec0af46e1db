"""SVDF (int8 input/weights_feature/output, int32 bias, int8 or int16 weights_time + activation state).

A rank-`rank` singular value decomposition filter (keyword spotting): each invoke shifts the activation
state left by one memory slot, writes input x weights_feature (requantized by effective scale 1, plus
the state zero point, saturated to the state type) into the newest slot of every filter, dots every
filter's memory with its time weights, sums `rank` filters per unit, adds the bias and requantizes by
effective scale 2 into int8. This follows TFLM's EvalIntegerSvdfReference (svdf_common.cc), including:

- the effective scales are float32 products/quotients (`si * swf / ss`, `ss * swt / so`) widened to
  double before QuantizeMultiplier;
- the new state value is saturated to the state type FIRST, then the state zero point is added and the
  sum narrowed (wrapping) into the state type: the behaviour of the tflite-micro wheel we test against
  (2023-era svdf_common.cc; later TFLM adds the zero point before the clamp, which fixes the wrap);
- the fused activation is NOT applied on the integer path: the output is only clamped to int8
  (converters emit RELU with an output zero point of -128, where the two coincide);
- the bias is required (TFLM's int8 Prepare reads its scale) and its scale must equal
  state_scale * weights_time_scale within 1e-5.

State. Input 4 is a TFLite *variable* tensor that persists across invokes (streaming): TFLM resets it
to its zero point (int8) or 0 (int16) once at init (MicroGraph::ResetVariableTensors). The integer
reference updates `inputs[4]` in place when it is given, so a runner that keeps one array per state
tensor across calls streams exactly as TFLM does; `None` means "fresh from reset" (one invoke).
The generated C needs the state in arena bytes that no other tensor ever uses, and a reset function:
that is planner/backend work (see STATE_PERSISTENCE_READY). Until it lands the op is not registered,
so models with SVDF keep failing import with a clear "unsupported op" message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ..quant import QRANGE, multiply_by_quantized_multiplier, quantize_multiplier
from ._common import activation_code, activation_name, as_int64
from .base import OpDef, TfliteOpOut, register

#: Flip to True together with the planner/backend support for variable tensors: a state slot that lives
#: across invokes and a generated `<name>_reset(arena)` (and run_reference/write_tflite handling, see the
#: SVDF report). While False the op is not registered and check() refuses it.
STATE_PERSISTENCE_READY = True

STATE_DTYPES = ("int8", "int16")


@dataclass
class SvdfAttrs:
    rank: int = 1
    activation: str = "NONE"  # kept for export; TFLM's integer kernel does not apply it


@dataclass
class SvdfPrepared:
    batches: int
    input_size: int
    num_filters: int
    num_units: int
    rank: int
    memory_size: int
    input_offset: int  # -input zero point
    state_zero_point: int
    output_offset: int  # output zero point
    state_min: int
    state_max: int
    multiplier_1: int
    shift_1: int
    multiplier_2: int
    shift_2: int


def effective_scales(x_scale: float, wf_scale: float, state_scale: float, wt_scale: float, out_scale: float):
    """TFLM PrepareSvdf: both scales are evaluated in float32, then widened to double."""
    f = np.float32
    s1 = float(f(f(x_scale) * f(wf_scale)) / f(state_scale))
    s2 = float(f(f(state_scale) * f(wt_scale)) / f(out_scale))
    return s1, s2


def prepare(node, graph) -> SvdfPrepared:
    x, wf, wt, state = (graph.inp(node, i) for i in (0, 1, 2, 4))
    out = graph.out(node)
    s1, s2 = effective_scales(x.quant.s, wf.quant.s, state.quant.s, wt.quant.s, out.quant.s)
    m1, sh1 = quantize_multiplier(s1)
    m2, sh2 = quantize_multiplier(s2)
    num_filters = int(wf.shape[0])
    lo, hi = QRANGE[state.dtype]
    return SvdfPrepared(
        batches=int(x.shape[0]),
        input_size=int(x.shape[1]),
        num_filters=num_filters,
        num_units=num_filters // node.attrs.rank,
        rank=node.attrs.rank,
        memory_size=int(wt.shape[1]),
        input_offset=-x.quant.zp,
        state_zero_point=state.quant.zp,
        output_offset=out.quant.zp,
        state_min=lo,
        state_max=hi,
        multiplier_1=m1,
        shift_1=sh1,
        multiplier_2=m2,
        shift_2=sh2,
    )


def reset_value(state_dtype: str, zero_point: int) -> int:
    """The value TFLM fills a variable tensor with on reset: the zero point for int8, else 0."""
    return zero_point if state_dtype == "int8" else 0


def _wrap32(v: np.ndarray) -> np.ndarray:
    """int32 two's complement wrap (TFLM accumulates in int32)."""
    return (np.asarray(v, np.int64) + 2**31) % 2**32 - 2**31


def svdf_step(p: SvdfPrepared, x, w_feature, w_time, bias, state) -> tuple[np.ndarray, np.ndarray]:
    """One invoke: (int8 output [batches, num_units], new state [batches, num_filters * memory_size])."""
    x = as_int64(x).reshape(p.batches, p.input_size)
    wf = as_int64(w_feature).reshape(p.num_filters, p.input_size)
    wt = as_int64(w_time).reshape(p.num_filters, p.memory_size)
    flat = as_int64(state).reshape(-1)
    # shift the whole buffer left by one element (TFLM shifts across filter boundaries; every filter's
    # newest slot is overwritten below, so only the per-filter shift is observable)
    flat = np.concatenate([flat[1:], flat[-1:]])
    mem = flat.reshape(p.batches, p.num_filters, p.memory_size)
    dot = _wrap32((x + p.input_offset) @ wf.T)  # [batches, num_filters]
    newest = np.clip(multiply_by_quantized_multiplier(dot, p.multiplier_1, p.shift_1), p.state_min, p.state_max)
    # the zero point is added AFTER the clamp and the sum is narrowed (wraps) into the state type, as in
    # the tflite-micro wheel we check against (newer TFLM adds it before the clamp: a fix not in the wheel)
    span = p.state_max - p.state_min + 1
    mem[:, :, -1] = (newest + p.state_zero_point - p.state_min) % span + p.state_min
    per_filter = _wrap32(np.einsum("bfm,fm->bf", mem - p.state_zero_point, wt))
    acc = per_filter.reshape(p.batches, p.num_units, p.rank).sum(axis=2)
    if bias is not None:
        acc = acc + as_int64(bias).reshape(1, p.num_units)
    acc = _wrap32(acc)
    out = multiply_by_quantized_multiplier(acc, p.multiplier_2, p.shift_2) + p.output_offset
    return np.clip(out, -128, 127), mem.reshape(p.batches, -1)


def _bias_scale_ok(bias_scale: float, state_scale: float, wt_scale: float) -> bool:
    f = np.float32
    return abs(float(f(bias_scale)) - float(f(f(state_scale) * f(wt_scale)))) < 1e-5


class Svdf(OpDef):
    op = "SVDF"
    tflite_ops = ("SVDF",)
    kernels = ("mf_svdf_s8",)

    def from_tflite(self, options, node, graph):
        if options is None:
            return SvdfAttrs()
        return SvdfAttrs(int(options.rank), activation_name(options.fusedActivationFunction))

    def to_tflite(self, node, graph):
        opts = schema.SVDFOptionsT()
        opts.rank = node.attrs.rank
        opts.fusedActivationFunction = activation_code(node.attrs.activation)
        # versions: 1 float, 2 hybrid, 3 int8 (converter); TFLM registers one kernel for all
        return TfliteOpOut("SVDF", "SVDFOptions", opts, version=3)

    def check(self, node, graph):
        problems = self._check_types(node, graph)
        if not problems and not STATE_PERSISTENCE_READY:
            problems.append(
                "the activation state (variable tensor, input 4) must persist across invokes; the memory "
                "planner/C backend do not keep variable tensors yet"
            )
        return problems

    def _check_types(self, node, graph) -> list[str]:
        if len(node.inputs) != 5 or any(n is None for n in node.inputs):
            return ["needs 5 inputs: input, weights_feature, weights_time, bias, activation_state"]
        x, wf, wt, b, state = (graph.inp(node, i) for i in range(5))
        out = graph.out(node)
        problems = []
        for t, dtypes in (
            (x, ("int8",)),
            (wf, ("int8",)),
            (wt, STATE_DTYPES),
            (b, ("int32",)),
            (state, STATE_DTYPES),
            (out, ("int8",)),
        ):
            if t.dtype not in dtypes:
                problems.append(f"tensor {t.name!r} is {t.dtype}; expected {' or '.join(dtypes)}")
            elif t.quant is None:
                problems.append(f"tensor {t.name!r} has no quantization parameters")
            elif t.quant.per_channel:
                problems.append(f"tensor {t.name!r} is quantized per channel; SVDF takes per-tensor scales")
        if problems:
            return problems
        if wt.dtype != state.dtype:
            problems.append(f"weights_time ({wt.dtype}) and activation state ({state.dtype}) must have one type")
        if not (wf.is_const and wt.is_const and b.is_const):
            problems.append("weights_feature, weights_time and bias must be constant")
        if state.is_const or node.inputs[4] in graph.inputs:
            problems.append("the activation state must be a variable tensor (not constant, not a graph input)")
        rank = node.attrs.rank
        if (
            len(x.shape) != 2
            or len(wf.shape) != 2
            or len(wt.shape) != 2
            or len(state.shape) != 2
            or len(out.shape) != 2
        ):
            return problems + ["input, weights, state and output must be rank 2"]
        batches, input_size = x.shape
        num_filters, memory_size = wt.shape
        if rank < 1 or num_filters % rank:
            problems.append(f"rank {rank} does not divide the {num_filters} filters")
            return problems
        num_units = num_filters // rank
        if tuple(wf.shape) != (num_filters, input_size):
            problems.append(f"weights_feature shape {list(wf.shape)} != [{num_filters}, {input_size}]")
        if tuple(b.shape) != (num_units,):
            problems.append(f"bias shape {list(b.shape)} != [{num_units}]")
        if tuple(state.shape) != (batches, memory_size * num_filters):
            problems.append(f"state shape {list(state.shape)} != [{batches}, {memory_size * num_filters}]")
        if tuple(out.shape) != (batches, num_units):
            problems.append(f"output shape {list(out.shape)} != [{batches}, {num_units}]")
        if np.any(wf.quant.zero_point != 0) or np.any(wt.quant.zero_point != 0):
            problems.append("weights must be symmetric (zero point 0)")
        if not _bias_scale_ok(b.quant.s, state.quant.s, wt.quant.s):
            problems.append("bias scale must be state_scale * weights_time_scale (TFLM checks within 1e-5)")
        return problems

    def reference(self, node, graph, inputs):
        p = prepare(node, graph)
        state_t = graph.inp(node, 4)
        state = inputs[4]
        if state is None:
            state = np.full(state_t.shape, reset_value(state_t.dtype, state_t.quant.zp), np.int64)
        out, new_state = svdf_step(p, inputs[0], inputs[1], inputs[2], inputs[3], state)
        if isinstance(inputs[4], np.ndarray) and inputs[4].flags.writeable:
            inputs[4][...] = new_state.reshape(inputs[4].shape)  # streaming: the caller keeps the state
        return [out]

    def macs(self, node, graph):
        x, wf, wt = graph.inp(node, 0), graph.inp(node, 1), graph.inp(node, 2)
        return int(x.shape[0]) * int(wf.shape[0]) * (int(wf.shape[1]) + int(wt.shape[1]))

    def emit_c(self, node, graph, c):
        p = prepare(node, graph)
        fields = dict(
            batches=p.batches,
            input_size=p.input_size,
            num_filters=p.num_filters,
            rank=p.rank,
            memory_size=p.memory_size,
            input_offset=p.input_offset,
            state_zero_point=p.state_zero_point,
            output_offset=p.output_offset,
            multiplier_1=p.multiplier_1,
            shift_1=p.shift_1,
            multiplier_2=p.multiplier_2,
            shift_2=p.shift_2,
        )
        params = c.struct("mf_svdf_params", "params", fields)
        fn = "mf_svdf_s8" if graph.inp(node, 4).dtype == "int8" else "mf_svdf_s8_state_s16"
        args = [params] + [c.tensor(n) for n in node.inputs] + [c.tensor(node.outputs[0])]
        return f"{fn}({', '.join(args)});"


if STATE_PERSISTENCE_READY:
    register(Svdf)
