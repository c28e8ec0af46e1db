"""Quantization error per layer: SQNR (dB) of the int8 graph's dequantized tensors against the float graph's.

Both graphs run their references on the same samples (the int8 graph on the inputs quantized exactly
as a QUANTIZE node would). For each tensor named in both graphs, SQNR = 10 log10(signal power / noise
power), with the powers averaged over all elements of all samples (so a sample with a tiny signal does
not dominate). "end to end" is the same figure over the graph outputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..ir import Graph
from ..ops.dequantize import dequantize_values
from ..ops.quantize import affine_quantize
from ..reference import run_reference
from .calibration import check_samples


@dataclass
class LayerSqnr:
    tensor: str  # the node output compared
    node: str
    op: str
    sqnr_db: float  # +inf when the int8 result is exact
    max_abs_error: float  # largest |float - dequantized int8| over the samples


@dataclass
class SqnrReport:
    layers: list[LayerSqnr] = field(default_factory=list)
    outputs: list[LayerSqnr] = field(default_factory=list)  # one per graph output
    end_to_end_db: float = math.inf  # over every graph output together
    samples: int = 0

    def worst(self, count: int = 5) -> list[LayerSqnr]:
        return sorted(self.layers, key=lambda s: s.sqnr_db)[:count]


def sqnr_db(signal_power: float, noise_power: float) -> float:
    if noise_power == 0.0:
        return math.inf
    if signal_power == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal_power / noise_power)


def int8_inputs(graph: Graph, sample: Sequence[np.ndarray]) -> list[np.ndarray]:
    """One float sample as the quantized graph takes it (int8 inputs quantized as TFLM's QUANTIZE does)."""
    out = []
    for name, x in zip(graph.inputs, sample):
        t = graph.tensor(name)
        if t.dtype == "float32":
            out.append(np.asarray(x, np.float32).reshape(t.shape))
        else:
            out.append(affine_quantize(x, t.quant.s, t.quant.zp, t.dtype).astype(np.int8).reshape(t.shape))
    return out


def _as_float(graph: Graph, name: str, v: np.ndarray) -> np.ndarray:
    t = graph.tensor(name)
    if t.quant is None or t.dtype == "float32":
        return np.asarray(v, np.float64)
    return dequantize_values(v, t.quant.s, t.quant.zp).astype(np.float64)


def measure_sqnr(float_graph: Graph, int8_graph: Graph, samples: Sequence[Sequence[np.ndarray]]) -> SqnrReport:
    """Per-layer and end-to-end SQNR of `int8_graph` (from `quantize`) against `float_graph` on `samples`."""
    data = check_samples(float_graph, samples)
    compared = [
        (node, name)
        for node in float_graph.nodes
        for name in node.outputs
        if name in int8_graph.tensors and int8_graph.tensor(name).shape == float_graph.tensor(name).shape
    ]
    names = list(dict.fromkeys([n for _, n in compared] + list(float_graph.outputs)))
    signal = dict.fromkeys(names, 0.0)
    noise = dict.fromkeys(names, 0.0)
    worst = dict.fromkeys(names, 0.0)
    for sample in data:
        ref = run_reference(float_graph, sample, keep=True)
        got = run_reference(int8_graph, int8_inputs(int8_graph, sample), keep=True)
        for name in names:
            f = np.asarray(ref[name], np.float64)
            d = f - _as_float(int8_graph, name, got[name])
            signal[name] += float(np.mean(f * f))
            noise[name] += float(np.mean(d * d))
            worst[name] = max(worst[name], float(np.abs(d).max(initial=0.0)))

    def layer(node_name: str, op: str, name: str) -> LayerSqnr:
        return LayerSqnr(name, node_name, op, sqnr_db(signal[name], noise[name]), worst[name])

    producers = float_graph.producers()
    report = SqnrReport(samples=len(data))
    report.layers = [layer(node.name, node.op, name) for node, name in compared]
    for name in float_graph.outputs:
        p = producers.get(name)
        report.outputs.append(layer(p.name if p else name, p.op if p else "INPUT", name))
    report.end_to_end_db = sqnr_db(
        sum(signal[n] for n in float_graph.outputs), sum(noise[n] for n in float_graph.outputs)
    )
    return report
