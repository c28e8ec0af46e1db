"""UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations / int8 weights / int16 cell state, bit-exact with TFLM.

TFLM's integer LSTM (lstm_eval.h, "8x8->16"): per time step and batch row,
  gate  = act(sat16(FC_in(x_t) + FC_rec(h_{t-1})))   FCs: int8 -> int16 Q3.12, bias on FC_in only
  c_t   = clip(sat16(mul(f, c_{t-1}) + mul(i, g)))    gate outputs Q0.15, cell int16 at 2^cell_scale_power
  h_t   = mul(tanh(c_t), o) -> int8 at the hidden state's scale and zero point; the output row at t is h_t.
f, i, o use the int16 table sigmoid, g and c the int16 table tanh (see _lstm_util). The node's fused
activation must be TANH: the schema has no SIGMOID code, and for any other code TFLM's gate switch
hits a (release-build no-op) assert and leaves the cell gate unactivated. No peephole, projection,
layer norm or CIFG: TFLM's micro kernel rejects them too.

State. The hidden (input 18) and cell (input 19) states are TFLite VARIABLE tensors that persist across
invokes (streaming), exactly as in TFLM: reset once (<name>_reset: hidden = its zero point, cell = 0),
then every invoke continues from the state the previous one left. They are ordinary node inputs and
graph variables (persistent arena slots); `reference` updates them in place when run_reference passes
its state arrays. To evaluate independent sequences, reset before each one (TFLM: interpreter.reset()).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ..quant import quantize_multiplier
from ._common import as_int64
from ._lstm_util import INT16_MAX, INT16_MIN, fc_int16, mul_q, sigmoid_int16, tanh_int16, tanh_shift
from .base import OpDef, TfliteOpOut, register

# TFLite input indices (lstm_shared.h)
INPUT = 0
INPUT_WEIGHTS = {"input": 1, "forget": 2, "cell": 3, "output": 4}
RECURRENT_WEIGHTS = {"input": 5, "forget": 6, "cell": 7, "output": 8}
PEEPHOLE = (9, 10, 11)
BIASES = {"input": 12, "forget": 13, "cell": 14, "output": 15}
PROJECTION = (16, 17)
HIDDEN_STATE, CELL_STATE = 18, 19
LAYER_NORM = (20, 21, 22, 23)
GATES = ("forget", "input", "cell", "output")  # TFLM's evaluation order

Q3_12 = 2.0**-12  # scale of the gate pre-activations (FC outputs)
Q0_15 = 2.0**-15  # scale of the gate outputs
TANH_CODE = 4  # ActivationFunctionType.TANH: the only cell gate activation TFLM evaluates


@dataclass
class LstmAttrs:
    activation: int = TANH_CODE  # cell gate nonlinearity (TFLite fusedActivationFunction code)
    cell_clip: float = 0.0
    proj_clip: float = 0.0
    time_major: bool = False
    diagonal_recurrent: bool = False


@dataclass
class GatePrepared:
    input_mult: int
    input_shift: int
    recurrent_mult: int
    recurrent_shift: int


@dataclass
class LstmPrepared:
    batches: int
    time_steps: int
    input_size: int
    state_size: int
    time_major: bool
    input_offset: int  # -input zero point
    hidden_offset: int  # -hidden state zero point (recurrent FC input offset)
    hidden_zp: int
    cell_clip: int  # quantized, 0 = no clipping
    cell_scale_power: int
    tanh_multiplier: int  # reference_integer_ops::Tanh arguments for the cell state
    tanh_left_shift: int
    gates: dict[str, GatePrepared]
    forget_cell: tuple[int, int]  # (multiplier, shift) of forget * cell -> cell
    input_cell: tuple[int, int]  # input gate * cell gate -> cell
    hidden: tuple[int, int]  # tanh(cell) * output gate -> hidden


def _f32(x: float) -> float:
    return float(np.float32(x))


def _fc_multiplier(in_scale: float, w_scale: float) -> tuple[int, int]:
    # GetQuantizedConvolutionMultipler: float32 product, then a double division by the output scale
    return quantize_multiplier(float(np.float32(in_scale) * np.float32(w_scale)) / _f32(Q3_12))


def _mul_multiplier(s1: float, s2: float, out: float) -> tuple[int, int]:
    # CreateInterGateMulParams: all in double from the float32 scales
    return quantize_multiplier(_f32(s1) * _f32(s2) / _f32(out))


def cell_scale_power(scale: float) -> tuple[int, bool]:
    """tflite::CheckedLog2: (rounded log2, whether the scale is a power of two within 1e-3)."""
    x = float(np.float32(math.log(_f32(scale))) * np.float32(1.0 / math.log(2.0)))
    r = math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)
    return int(r), abs(x - r) < 1e-3


def _sizes(node, graph) -> tuple[int, int, int, int]:
    b, t, i = graph.inp(node, INPUT).shape
    if node.attrs.time_major:
        b, t = t, b
    return int(b), int(t), int(i), int(graph.inp(node, INPUT_WEIGHTS["forget"]).shape[0])


def prepare(node, graph) -> LstmPrepared:
    a = node.attrs
    x = graph.inp(node, INPUT)
    h, c = graph.inp(node, HIDDEN_STATE), graph.inp(node, CELL_STATE)
    b, t, i, s = _sizes(node, graph)
    gates = {}
    for g in GATES:
        wi, wr = graph.inp(node, INPUT_WEIGHTS[g]), graph.inp(node, RECURRENT_WEIGHTS[g])
        gates[g] = GatePrepared(*_fc_multiplier(x.quant.s, wi.quant.s), *_fc_multiplier(h.quant.s, wr.quant.s))
    power, _ = cell_scale_power(c.quant.s)
    clip = 0
    if a.cell_clip > 0:  # CreateLstmCellStateInfo: double division, clamped, truncated to int16
        clip = int(min(max(_f32(a.cell_clip) / _f32(c.quant.s), -32768.0), 32767.0))
    tm, tl = tanh_shift(power)
    return LstmPrepared(
        batches=b,
        time_steps=t,
        input_size=i,
        state_size=s,
        time_major=a.time_major,
        input_offset=-x.quant.zp,
        hidden_offset=-h.quant.zp,
        hidden_zp=h.quant.zp,
        cell_clip=clip,
        cell_scale_power=power,
        tanh_multiplier=tm,
        tanh_left_shift=tl,
        gates=gates,
        forget_cell=_mul_multiplier(Q0_15, c.quant.s, c.quant.s),
        input_cell=_mul_multiplier(Q0_15, Q0_15, c.quant.s),
        hidden=_mul_multiplier(Q0_15, Q0_15, h.quant.s),
    )


def _quant_problems(t, what: str, dtype: str) -> list[str]:
    if t is None:
        return [f"{what} is missing"]
    if t.dtype != dtype:
        return [f"{what} must be {dtype} (got {t.dtype})"]
    if t.quant is None or t.quant.per_channel:
        return [f"{what} must be quantized per tensor"]
    if not np.isfinite(t.quant.s) or t.quant.s <= 0:
        return [f"{what} has a non-positive scale"]
    return []


@register
class UnidirectionalSequenceLstm(OpDef):
    op = "UNIDIRECTIONAL_SEQUENCE_LSTM"
    tflite_ops = ("UNIDIRECTIONAL_SEQUENCE_LSTM",)
    kernels = ("mf_lstm_s8",)

    def from_tflite(self, options, node, graph):
        attrs = LstmAttrs()
        if options is not None:
            attrs.activation = int(options.fusedActivationFunction)
            attrs.cell_clip = float(options.cellClip)
            attrs.proj_clip = float(options.projClip)
            attrs.time_major = bool(options.timeMajor)
            attrs.diagonal_recurrent = bool(getattr(options, "diagonalRecurrentTensors", False))
        return attrs

    def to_tflite(self, node, graph):
        a = node.attrs
        opts = schema.UnidirectionalSequenceLSTMOptionsT()
        opts.fusedActivationFunction = a.activation
        opts.cellClip, opts.projClip, opts.timeMajor = a.cell_clip, a.proj_clip, a.time_major
        opts.diagonalRecurrentTensors = a.diagonal_recurrent
        return TfliteOpOut("UNIDIRECTIONAL_SEQUENCE_LSTM", "UnidirectionalSequenceLSTMOptions", opts, version=1)

    def check(self, node, graph):
        a = node.attrs
        if len(node.inputs) != 24:
            return [f"expects 24 inputs (got {len(node.inputs)})"]
        if a.activation != TANH_CODE:
            return [f"cell gate activation code {a.activation} (TFLM evaluates TANH only)"]
        p: list[str] = []
        if a.diagonal_recurrent:
            p.append("diagonal recurrent weights are not supported")
        if a.cell_clip < 0 or not np.isfinite(a.cell_clip):
            p.append("cell_clip must be >= 0")
        for k in PEEPHOLE + PROJECTION + LAYER_NORM:
            if graph.inp(node, k) is not None:
                p.append("peephole, projection and layer norm inputs are not supported (TFLM's kernel neither)")
                break
        x, y = graph.inp(node, INPUT), graph.out(node)
        p += _quant_problems(x, "input", "int8") + _quant_problems(y, "output", "int8")
        if p:
            return p
        if len(x.shape) != 3:
            return [f"input must be rank 3 (got shape {list(x.shape)})"]
        h, c = graph.inp(node, HIDDEN_STATE), graph.inp(node, CELL_STATE)
        p += _quant_problems(h, "hidden state", "int8") + _quant_problems(c, "cell state", "int16")
        variables = graph.variables()
        for t, what in ((h, "hidden state"), (c, "cell state")):
            if t is not None and (t.name not in variables or t.name in graph.outputs):
                p.append(f"{what} must be a variable tensor (not constant, produced, a graph input or output)")
            if t is not None and any(t.name in n.inputs for n in graph.nodes if n is not node):
                p.append(f"{what} is shared with another node")
        if h is not None and c is not None and h.name == c.name:
            p.append("hidden and cell state are the same tensor")
        if p:
            return p
        b, t, i, s = _sizes(node, graph)
        for g in GATES:
            for k, cols in ((INPUT_WEIGHTS[g], i), (RECURRENT_WEIGHTS[g], s)):
                w = graph.inp(node, k)
                p += _quant_problems(w, f"{g} weights (input {k})", "int8")
                if w is None or p:
                    continue
                if not w.is_const or w.shape != (s, cols) or w.quant.zp != 0:
                    p.append(f"{g} weights (input {k}) must be constant, symmetric, shape [{s}, {cols}]")
            bias = graph.inp(node, BIASES[g])
            if bias is None or not bias.is_const or bias.dtype != "int32" or bias.shape != (s,):
                p.append(f"{g} gate bias (input {BIASES[g]}) must be a constant int32 [{s}] tensor")
        if p:
            return p
        if h.size != b * s or c.size != b * s:
            p.append(f"state tensors must hold batch x units = {b * s} values")
        if y.shape != tuple(graph.inp(node, INPUT).shape[:2]) + (s,):
            p.append(f"output shape {list(y.shape)} does not match the input's [.., .., {s}]")
        power, exact = cell_scale_power(c.quant.s)
        if not exact or not -31 <= power <= 2 or c.quant.zp != 0:
            p.append(f"cell state scale must be a power of two in [2^-31, 2^2] with zero point 0 (got {c.quant.s})")
        return p

    def reference(self, node, graph, inputs):
        p = prepare(node, graph)
        w = {g: (as_int64(inputs[INPUT_WEIGHTS[g]]), as_int64(inputs[RECURRENT_WEIGHTS[g]])) for g in GATES}
        bias = {g: as_int64(inputs[BIASES[g]]) for g in GATES}
        x = as_int64(inputs[INPUT])
        out = np.zeros(graph.out(node).shape, np.int64)
        # the state the previous invoke left (run_reference's state arrays), or TFLM's reset state
        h_state = (
            inputs[HIDDEN_STATE] if inputs[HIDDEN_STATE] is not None else np.full(p.batches * p.state_size, p.hidden_zp)
        )
        c_state = inputs[CELL_STATE] if inputs[CELL_STATE] is not None else np.zeros(p.batches * p.state_size)
        h_rows = as_int64(h_state).reshape(p.batches, p.state_size).copy()
        c_rows = as_int64(c_state).reshape(p.batches, p.state_size).copy()
        for b in range(p.batches):
            hidden, cell = h_rows[b], c_rows[b]
            for t in range(p.time_steps):
                xt = x[t, b] if p.time_major else x[b, t]
                act = {}
                for g in GATES:
                    q = p.gates[g]
                    pre = fc_int16(xt, p.input_offset, w[g][0], bias[g], q.input_mult, q.input_shift)
                    pre = pre + fc_int16(hidden, p.hidden_offset, w[g][1], None, q.recurrent_mult, q.recurrent_shift)
                    pre = np.clip(pre, INT16_MIN, INT16_MAX)
                    # the cell gate's tanh gets a Q3.12 input: TFLM passes cell_state_scale_power -12 (shift 0)
                    act[g] = tanh_int16(pre, 0, 0) if g == "cell" else sigmoid_int16(pre)
                kept = mul_q(act["forget"], cell, *p.forget_cell, 0, INT16_MIN, INT16_MAX)
                new = mul_q(act["input"], act["cell"], *p.input_cell, 0, INT16_MIN, INT16_MAX)
                cell = np.clip(kept + new, INT16_MIN, INT16_MAX)
                if p.cell_clip > 0:
                    cell = np.clip(cell, -p.cell_clip, p.cell_clip)
                tc = tanh_int16(cell, p.tanh_multiplier, p.tanh_left_shift)
                hidden = mul_q(tc, act["output"], *p.hidden, p.hidden_zp, -128, 127)
                if p.time_major:
                    out[t, b] = hidden
                else:
                    out[b, t] = hidden
            h_rows[b], c_rows[b] = hidden, cell
        for arr, rows in ((h_state, h_rows), (c_state, c_rows)):
            if isinstance(arr, np.ndarray) and arr.flags.writeable:
                arr[...] = rows.reshape(arr.shape)  # streaming: the state persists into the next invoke
        return [out.astype(np.int8)]

    def macs(self, node, graph):
        b, t, i, s = _sizes(node, graph)
        return b * t * 4 * s * (i + s)

    def emit_c(self, node, graph, c):
        p = prepare(node, graph)
        gate_refs = {}
        for g in GATES:
            q = p.gates[g]
            gate_refs[g] = c.struct(
                "mf_lstm_gate",
                f"{g}_gate",
                dict(
                    input_weights=c.tensor(node.inputs[INPUT_WEIGHTS[g]]),
                    recurrent_weights=c.tensor(node.inputs[RECURRENT_WEIGHTS[g]]),
                    bias=c.tensor(node.inputs[BIASES[g]]),
                    input_quant=(q.input_mult, q.input_shift),
                    recurrent_quant=(q.recurrent_mult, q.recurrent_shift),
                ),
            )
        params = c.struct(
            "mf_lstm_s8_params",
            "params",
            dict(
                batches=p.batches,
                time_steps=p.time_steps,
                input_size=p.input_size,
                state_size=p.state_size,
                time_major=int(p.time_major),
                input_offset=p.input_offset,
                hidden_offset=p.hidden_offset,
                hidden_zp=p.hidden_zp,
                cell_clip=p.cell_clip,
                tanh_multiplier=p.tanh_multiplier,
                tanh_left_shift=p.tanh_left_shift,
                forget_cell_quant=p.forget_cell,
                input_cell_quant=p.input_cell,
                hidden_quant=p.hidden,
                forget_gate=gate_refs["forget"],
                input_gate=gate_refs["input"],
                cell_gate=gate_refs["cell"],
                output_gate=gate_refs["output"],
            ),
        )
        args = [params, c.tensor(node.inputs[INPUT]), c.tensor(node.outputs[0])]
        args += [c.tensor(node.inputs[HIDDEN_STATE]), c.tensor(node.inputs[CELL_STATE])]
        return f"mf_lstm_s8({', '.join(args)});"
