"""Post-training quantization: float32 IR + calibration samples -> int8 IR (TFLite quantization spec).

Activations: int8 asymmetric per tensor, from calibrated ranges nudged as TFLite's converter does.
Weights: int8 symmetric per output channel (FULLY_CONNECTED: per tensor), biases int32 at
input_scale x weight_scale. Each op's TFLM constraints (quant_rules.py) are enforced so the existing
int8 kernels, bit-exact with TFLM, run the result; every node of the result passes its op's `check()`.

    int8_graph = quantize(float_graph, samples, method="minmax", io="int8")

With io="int8" the graph inputs/outputs are int8 (their quantization is on the IR tensors); with
io="float" they stay float32 and QUANTIZE / DEQUANTIZE nodes convert at the boundary.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from .. import ops
from ..errors import MicroforgeError, UnsupportedModelError
from ..ir import Graph, Node, QuantParams, Tensor
from ..reference import run_reference
from .calibration import TensorRange, activation_names, asymmetric_qparams, calibrate
from .quant_rules import (
    CONCAT,
    FIXED,
    FIXED_OUTPUT,
    OUTPUT_KIND,
    REQUANT,
    SAME,
    WEIGHTED,
    quantize_bias,
    quantize_per_tensor,
    quantize_weights,
    weight_scales,
)

QParams = tuple[float, int]  # (scale, zero point) of a per-tensor int8 tensor
ADD_LEFT_SHIFT = 20  # TFLM's int8 ADD: inputs are shifted left by 20 before rescaling


def check_float_graph(graph: Graph) -> None:
    """Raise unless every activation is float32 and every node is an op we can quantize."""
    for name in list(graph.inputs) + [o for n in graph.nodes for o in n.outputs]:
        t = graph.tensor(name)
        if t.dtype != "float32":
            raise MicroforgeError(
                f"quantize {graph.name!r}: tensor {name!r} is {t.dtype}; post-training quantization takes a "
                "float32 model"
            )
    bad = [(n.name, n.op) for n in graph.nodes if n.op not in OUTPUT_KIND]
    if bad:
        raise UnsupportedModelError.for_nodes(f"quantize {graph.name!r} (ops without an int8 quantization rule)", bad)


def quantize(
    graph: Graph,
    samples: Sequence[Sequence[np.ndarray]],
    method: str | Mapping[str, str] = "minmax",
    *,
    io: str = "int8",
    percentile: float = 99.99,
    fc_per_channel: bool = False,
    bias_correction: bool = True,
) -> Graph:
    """The int8 graph for `graph` calibrated on `samples` (one list of float32 arrays per sample).

    `method`: "minmax", "percentile" or "mse", or a mapping tensor name -> method ("*": the default).
    `fc_per_channel`: per-channel FULLY_CONNECTED weights (recent TFLM runs them; the TFLite converter's
    default and older runtimes are per tensor). `bias_correction`: fold the mean output shift that weight
    rounding causes on the calibration data back into each conv/FC bias (Nagel et al., 2019).
    """
    check_float_graph(graph)
    if io not in ("int8", "float"):
        raise MicroforgeError(f"quantize: io must be 'int8' or 'float', not {io!r}")
    weighted = [n for n in graph.nodes if n.op in WEIGHTED]
    sums: dict[str, np.ndarray] = {}
    counts: Counter = Counter()

    def runner(g: Graph, sample: list[np.ndarray]) -> dict[str, np.ndarray]:
        values = run_reference(g, sample, keep=True)
        if bias_correction and counts["passes"] == 0:  # the first calibration pass collects input means
            for node in weighted:
                x = values[node.inputs[0]]
                depth = graph.inp(node, 1).shape[-1] if node.op == "FULLY_CONNECTED" else x.shape[-1]
                rows = np.asarray(x, np.float64).reshape(-1, depth)
                sums[node.name] = sums.get(node.name, 0.0) + rows.sum(axis=0)
                counts[node.name] += rows.shape[0]
        return values

    ranges = calibrate(graph, samples, method, percentile, runner=runner)
    means = {name: sums[name] / counts[name] for name in sums}
    return quantize_with_ranges(graph, ranges, io=io, fc_per_channel=fc_per_channel, input_means=means)


def quantize_with_ranges(
    graph: Graph,
    ranges: Mapping[str, TensorRange],
    *,
    io: str = "int8",
    fc_per_channel: bool = False,
    input_means: Mapping[str, np.ndarray] | None = None,
) -> Graph:
    """The int8 graph from already calibrated ranges (one per float activation).

    `input_means`: node name -> mean of its input per channel (conv) or per feature (FC), for bias correction.
    """
    check_float_graph(graph)
    missing = [n for n in activation_names(graph) if n not in ranges]
    if missing:
        raise MicroforgeError(f"quantize: no calibrated range for tensor(s) {missing}")
    ranges = dict(ranges)
    _resolve_concats(graph, ranges)
    qp = _assign(graph, ranges)
    g = _build(graph, qp, fc_per_channel, input_means or {})
    if io == "float":
        _float_io(g)
    problems = [(n, p) for n in g.nodes for p in ops.get(n.op).check(n, g)]
    if problems:
        detail = "; ".join(f"{n.op} {n.name!r}: {p}" for n, p in problems)
        raise UnsupportedModelError(
            f"quantize {graph.name!r}: the int8 model breaks TFLM constraints: {detail}",
            list(dict.fromkeys((n.name, n.op) for n, _ in problems)),
        )
    return g


def _uses(graph: Graph) -> Counter:
    """How many times each tensor is read (node inputs and graph outputs)."""
    c: Counter = Counter(n for node in graph.nodes for n in node.inputs if n is not None)
    c.update(graph.outputs)
    return c


def _resolve_concats(graph: Graph, ranges: dict[str, TensorRange]) -> None:
    """Give each CONCATENATION the union range of its inputs, and make its inputs produce that range.

    An input whose producer can output any scale (or a graph input) and that has no other reader
    takes the union range, through pools/views (SAME ops) too. Outer concatenations are resolved
    first, so an inner one feeding an outer one takes the outer's range and passes it on. Inputs that
    still differ get a QUANTIZE (requantize) node in `_build`.
    """
    producers = graph.producers()
    uses = _uses(graph)

    def widen(name: str, r: TensorRange) -> bool:
        if ranges.get(name) == r and _produces_range(producers, name):
            return True
        if uses[name] != 1:  # another reader (or another concatenation) wants its own range
            return False
        p = producers.get(name)
        kind = REQUANT if p is None else OUTPUT_KIND[p.op]
        if kind == FIXED or (kind == SAME and not widen(p.inputs[0], r)):
            return False
        ranges[name] = r
        return True

    for node in reversed(graph.nodes):
        if OUTPUT_KIND[node.op] != CONCAT:
            continue
        live = [n for n in node.inputs if not graph.tensor(n).is_const]
        r = ranges[node.outputs[0]]
        for name in live:
            r = r.union(ranges[name])
        ranges[node.outputs[0]] = r
        for name in live:
            widen(name, r)


def _produces_range(producers: dict[str, Node], name: str) -> bool:
    """True when the tensor's quantization is derived from its own range (not from an input or fixed)."""
    p = producers.get(name)
    return p is None or OUTPUT_KIND[p.op] in (REQUANT, CONCAT)


def _const_qparams(t: Tensor) -> QParams:
    data = np.asarray(t.data, dtype=np.float32)
    return asymmetric_qparams(TensorRange.of(data.min(initial=0.0), data.max(initial=0.0)))


def _assign(graph: Graph, ranges: dict[str, TensorRange]) -> dict[str, QParams]:
    """(scale, zero point) of every activation, in topological order."""
    qp: dict[str, QParams] = {n: asymmetric_qparams(ranges[n]) for n in graph.inputs}
    for node in graph.nodes:
        kind, out = OUTPUT_KIND[node.op], node.outputs[0]
        if kind == SAME:
            qp[out] = qp[node.inputs[0]]
        elif kind == FIXED:
            qp[out] = FIXED_OUTPUT[node.op]
        else:
            qp[out] = asymmetric_qparams(ranges[out])
        if node.op == "ADD":
            qp[out] = _add_output(graph, node, qp, ranges[out])
    return qp


def _add_output(graph: Graph, node: Node, qp: dict[str, QParams], r: TensorRange) -> QParams:
    """TFLM's int8 ADD needs 2 * max(input scales) < 2^20 * output scale: widen the output range if not."""
    scales = []
    for name in node.inputs[:2]:
        t = graph.tensor(name)
        scales.append(_const_qparams(t)[0] if t.is_const else qp[name][0])
    so = qp[node.outputs[0]]
    need = 2.0 * max(scales) / (1 << ADD_LEFT_SHIFT)
    if so[0] > need * 1.001:
        return so
    f = need * 1.01 / so[0]
    return asymmetric_qparams(TensorRange(r.lo * f, r.hi * f))


def _act(t: Tensor, q: QParams) -> Tensor:
    return Tensor(t.name, tuple(t.shape), "int8", QuantParams([q[0]], [q[1]]))


def _fresh(g: Graph, base: str) -> str:
    name, k = base, 1
    while name in g.tensors:
        name, k = f"{base}_{k}", k + 1
    return name


def _add_const(g: Graph, src: Tensor, data: np.ndarray, quant: QuantParams | None) -> str:
    """Add a quantized copy of a constant; a constant shared by several nodes gets one copy per use."""
    name = _fresh(g, src.name) if src.name in g.tensors else src.name
    dtype = {np.dtype(np.int8): "int8", np.dtype(np.int32): "int32"}[data.dtype]
    g.add_tensor(Tensor(name, tuple(src.shape), dtype, quant, data))
    return name


def _build(graph: Graph, qp: dict[str, QParams], fc_per_channel: bool, means: Mapping[str, np.ndarray]) -> Graph:
    g = Graph(name=graph.name, inputs=list(graph.inputs), outputs=list(graph.outputs))
    for name in graph.inputs:
        g.add_tensor(_act(graph.tensor(name), qp[name]))
    for node in graph.nodes:
        for name in node.outputs:
            g.add_tensor(_act(graph.tensor(name), qp[name]))
        inputs: list[str | None] = list(node.inputs)
        out_q = qp[node.outputs[0]]
        weighted = WEIGHTED.get(node.op)
        if node.op == "FULLY_CONNECTED" and fc_per_channel:
            weighted = (1, 0, 2)
        for k, name in enumerate(node.inputs):
            if name is None:
                continue
            t = graph.tensor(name)
            if OUTPUT_KIND[node.op] == CONCAT and not t.is_const and qp[name] != out_q:
                # TFLM's CONCATENATION copies bytes: requantize into the output's quantization
                rq = _fresh(g, f"{name}_requant")
                g.add_tensor(Tensor(rq, tuple(t.shape), "int8", QuantParams([out_q[0]], [out_q[1]])))
                g.nodes.append(Node("QUANTIZE", rq, [name], [rq]))
                inputs[k] = rq
            if not t.is_const:
                continue
            if t.dtype != "float32":  # axes, shapes, paddings: unchanged
                if name not in g.tensors:
                    g.add_tensor(copy.deepcopy(t))
                continue
            if weighted and k in (weighted[0], weighted[2]):
                continue  # below, with the bias
            if OUTPUT_KIND[node.op] in (CONCAT, SAME):  # concat inputs, PADV2 value: the output's quantization
                q = out_q
            else:
                q = _const_qparams(t)
            inputs[k] = _add_const(g, t, quantize_per_tensor(t.data, *q), QuantParams([q[0]], [q[1]]))
        if weighted:
            _quantize_weights(graph, g, node, inputs, qp[node.inputs[0]][0], weighted, means.get(node.name))
        g.nodes.append(Node(node.op, node.name, inputs, list(node.outputs), copy.deepcopy(node.attrs)))
    return g


def _rounding_shift(node: Node, w: np.ndarray, dq: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Mean output change per channel caused by weight rounding (dq - w) for inputs of mean `mean`."""
    dw = dq.astype(np.float64) - w.astype(np.float64)
    if node.op == "FULLY_CONNECTED":
        return dw.reshape(dw.shape[0], -1) @ mean
    if node.op == "DEPTHWISE_CONV_2D":
        mult = dw.shape[3] // mean.size
        return dw.sum(axis=(0, 1, 2)) * np.repeat(mean, mult)
    out_c, _, _, filter_in = dw.shape  # CONV_2D, grouped: output o reads input channels of group o // (out_c / groups)
    groups = mean.size // filter_in
    m = mean.reshape(groups, filter_in)[np.arange(out_c) // (out_c // groups)]
    return np.einsum("ohwc,oc->o", dw, m)


def _quantize_weights(
    graph: Graph, g: Graph, node: Node, inputs: list[str | None], in_scale: float, rule, mean: np.ndarray | None
) -> None:
    wi, axis, bi = rule
    w = graph.inp(node, wi)
    b = graph.inp(node, bi)
    if (
        w is None
        or not w.is_const
        or w.dtype != "float32"
        or (b is not None and (not b.is_const or b.dtype != "float32"))
    ):
        raise MicroforgeError(f"quantize: {node.op} {node.name!r} needs constant float32 weights and bias")
    scales = weight_scales(w.data, axis, in_scale, b.data if b is not None else None)
    wq = QuantParams(scales, np.zeros(scales.shape, np.int64), axis if axis is not None else None)
    values = quantize_weights(w.data, scales, axis)
    inputs[wi] = _add_const(g, w, values, wq)
    channels = w.shape[3] if node.op == "DEPTHWISE_CONV_2D" else w.shape[0]
    bias = np.zeros(channels, np.float64) if b is None else np.asarray(b.data, np.float64).reshape(-1)
    if mean is not None:
        shape = [1] * w.data.ndim
        if axis is not None:
            shape[axis] = -1
        bias = bias - _rounding_shift(node, w.data, values * scales.reshape(shape), mean)
    if b is None and not np.any(bias):
        return
    qbias, bias_scales = quantize_bias(bias, in_scale, scales)
    bq = QuantParams(bias_scales, np.zeros(bias_scales.shape, np.int64), 0 if bias_scales.size > 1 else None)
    src = b if b is not None else Tensor(f"{node.name}_bias", (channels,), "float32")
    name = _add_const(g, src, qbias.reshape(src.shape), bq)
    inputs.extend([None] * (bi + 1 - len(inputs)))
    inputs[bi] = name


def _float_io(g: Graph) -> None:
    """Keep float32 graph inputs/outputs (same names): QUANTIZE after each input, DEQUANTIZE before each output."""
    head: list[Node] = []
    for name in g.inputs:
        t = g.tensors.pop(name)
        q = _fresh(g, f"{name}_int8")
        g.add_tensor(Tensor(q, t.shape, "int8", t.quant))
        g.add_tensor(Tensor(name, t.shape, "float32"))
        for node in g.nodes:
            node.inputs = [q if n == name else n for n in node.inputs]
        head.append(Node("QUANTIZE", q, [name], [q]))
    g.nodes[:0] = head
    for name in g.outputs:
        t = g.tensors.pop(name)
        q = _fresh(g, f"{name}_int8")
        g.add_tensor(Tensor(q, t.shape, "int8", t.quant))
        g.add_tensor(Tensor(name, t.shape, "float32"))
        for node in g.nodes:
            node.inputs = [q if n == name else n for n in node.inputs]
            node.outputs = [q if n == name else n for n in node.outputs]
        g.nodes.append(Node("DEQUANTIZE", name, [q], [name]))
