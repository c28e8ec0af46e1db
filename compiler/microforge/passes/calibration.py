"""Calibration for post-training quantization: run the float graph on samples, derive each tensor's range.

Two methods, chosen per tensor by the caller:
- "minmax": the observed minimum and maximum (TFLite's converter default);
- "percentile": the [100 - p, p] percentiles of the observed values (outlier-robust, p = 99.99 by default);
- "mse": the clipping range (a shrunk min/max, 1-D search) that minimizes the int8 quantization MSE.

The robust methods read a 2048-bin histogram over the observed [min, max], filled in a second run of
the samples, so memory stays proportional to the number of tensors, not to the calibration set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import MicroforgeError
from ..ir import Graph
from ..reference import run_reference

METHODS = ("minmax", "percentile", "mse")
BINS = 2048
# Smallest range width given to a tensor: keeps every requantization multiplier in TFLM's range when a
# tensor was constant (often all zeros) on the calibration data.
MIN_WIDTH = 1e-5

Runner = Callable[[Graph, list[np.ndarray]], dict[str, np.ndarray]]


@dataclass(frozen=True)
class TensorRange:
    """A float range [lo, hi] that always contains 0 (so 0.0 is exactly representable)."""

    lo: float
    hi: float

    @staticmethod
    def of(lo: float, hi: float) -> TensorRange:
        lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
        if hi - lo < MIN_WIDTH:
            hi = lo + MIN_WIDTH
        return TensorRange(lo, hi)

    def union(self, other: TensorRange) -> TensorRange:
        return TensorRange(min(self.lo, other.lo), max(self.hi, other.hi))


def asymmetric_qparams(r: TensorRange) -> tuple[float, int]:
    """int8 (scale, zero point) of a range, as TFLite's converter nudges it (GetAsymmetricQuantizationParams).

    float32 arithmetic; the zero point is round-half-away(-128 - lo / scale) clamped to [-128, 127].
    """
    lo, hi = np.float32(min(r.lo, 0.0)), np.float32(max(r.hi, 0.0))
    scale = np.float32((hi - lo) / np.float32(255.0))
    zp_from_min = np.float32(-128.0) - lo / scale
    zp = int(np.clip(np.sign(zp_from_min) * np.floor(np.abs(zp_from_min) + np.float32(0.5)), -128, 127))
    return float(scale), zp


def check_samples(graph: Graph, samples: Sequence[Sequence[np.ndarray]]) -> list[list[np.ndarray]]:
    """The samples as float32 arrays of the graph's input shapes, or a MicroforgeError saying what was expected."""
    expected = ", ".join(f"{n!r} {list(graph.tensor(n).shape)} float32" for n in graph.inputs)
    if samples is None or len(samples) == 0:
        raise MicroforgeError(f"calibration: no samples given; each sample is one array per input: {expected}")
    out = []
    for k, sample in enumerate(samples):
        if isinstance(sample, np.ndarray):  # a lone array for a one-input graph
            sample = [sample]
        if len(sample) != len(graph.inputs):
            raise MicroforgeError(
                f"calibration sample {k}: {len(sample)} array(s) given, the model has "
                f"{len(graph.inputs)} input(s): {expected}"
            )
        arrays = []
        for name, arr in zip(graph.inputs, sample):
            t = graph.tensor(name)
            a = np.asarray(arr)
            if a.dtype.kind != "f":
                raise MicroforgeError(
                    f"calibration sample {k}, input {name!r}: dtype {a.dtype}, expected float32 "
                    f"of shape {list(t.shape)}"
                )
            if tuple(a.shape) != tuple(t.shape):
                # a missing or extra leading batch dimension of 1 is harmless
                if a.size != t.size or tuple(d for d in a.shape if d != 1) != tuple(d for d in t.shape if d != 1):
                    raise MicroforgeError(
                        f"calibration sample {k}, input {name!r}: shape {list(a.shape)}, expected "
                        f"{list(t.shape)} float32 (layout NHWC)"
                    )
            a = a.astype(np.float32).reshape(t.shape)
            if not np.all(np.isfinite(a)):
                raise MicroforgeError(f"calibration sample {k}, input {name!r}: contains NaN or infinity")
            arrays.append(a)
        out.append(arrays)
    return out


def _run(graph: Graph, sample: list[np.ndarray]) -> dict[str, np.ndarray]:
    return run_reference(graph, sample, keep=True)  # type: ignore[return-value]


def activation_names(graph: Graph) -> list[str]:
    """Every float tensor computed at run time (graph inputs and node outputs), in graph order."""
    names = list(graph.inputs) + [n for node in graph.nodes for n in node.outputs]
    return [n for n in dict.fromkeys(names) if graph.tensor(n).dtype == "float32" and not graph.tensor(n).is_const]


def _hist_range(hist: np.ndarray, lo: float, hi: float, p: float) -> TensorRange:
    """[100 - p, p] percentiles read off the cumulative histogram (bin edges, conservatively)."""
    edges = np.linspace(lo, hi, BINS + 1)
    cdf = np.cumsum(hist) / max(hist.sum(), 1)
    q = 1.0 - p / 100.0
    low = edges[int(np.searchsorted(cdf, q, side="right"))] if lo < 0 else lo
    high = edges[min(int(np.searchsorted(cdf, 1.0 - q, side="left")) + 1, BINS)] if hi > 0 else hi
    return TensorRange.of(low, high)


def _clip_mse(centers: np.ndarray, counts: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Expected int8 quantization MSE of clipping to each candidate [lo, hi] (arrays of candidates).

    Values inside carry the uniform rounding noise scale^2 / 12; values outside, their clipping error.
    """
    lo, hi = lo[:, None], hi[:, None]
    scale = (hi - lo) / 255.0
    below = np.minimum(centers[None, :] - lo, 0.0)
    above = np.maximum(centers[None, :] - hi, 0.0)
    inside = (below == 0) & (above == 0)
    err = below**2 + above**2 + np.where(inside, scale**2 / 12.0, 0.0)
    return (err * counts[None, :]).sum(axis=1)


def _mse_range(hist: np.ndarray, lo: float, hi: float) -> TensorRange:
    """The clipping range of least expected quantization MSE: each end shrunk (x1 .. x0.01, geometric grid),
    the two ends searched alternately (a few rounds of coordinate descent)."""
    edges = np.linspace(lo, hi, BINS + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    keep = hist > 0
    centers, counts = centers[keep], hist[keep].astype(np.float64)
    factors = np.geomspace(1.0, 0.01, 120)
    best_lo, best_hi = min(lo, 0.0), max(hi, 0.0)
    for _ in range(3):
        cand = best_hi * factors
        best_hi = float(cand[np.argmin(_clip_mse(centers, counts, np.full_like(cand, best_lo), cand))])
        cand = best_lo * factors
        best_lo = float(cand[np.argmin(_clip_mse(centers, counts, cand, np.full_like(cand, best_hi)))])
    return TensorRange.of(best_lo, best_hi)


def calibrate(
    graph: Graph,
    samples: Sequence[Sequence[np.ndarray]],
    method: str | Mapping[str, str] = "minmax",
    percentile: float = 99.99,
    runner: Runner = _run,
) -> dict[str, TensorRange]:
    """Range of every float activation (graph inputs included) over the calibration samples.

    `method` is one method for every tensor, or a mapping tensor name -> method with an optional
    "*" entry as the default for the others (default "minmax").
    """
    data = check_samples(graph, samples)
    names = activation_names(graph)
    if isinstance(method, str):
        per_tensor = {n: method for n in names}
    else:
        default = method.get("*", "minmax")
        unknown = sorted(set(method) - set(names) - {"*"})
        if unknown:
            raise MicroforgeError(f"calibration: method given for unknown tensor(s) {unknown}")
        per_tensor = {n: method.get(n, default) for n in names}
    bad = sorted({m for m in per_tensor.values() if m not in METHODS})
    if bad:
        raise MicroforgeError(f"calibration method(s) {bad} unknown; use one of {list(METHODS)}")
    if not 0 < percentile <= 100:
        raise MicroforgeError(f"calibration percentile {percentile} must be in (0, 100]")

    lo = {n: np.inf for n in names}
    hi = {n: -np.inf for n in names}
    for sample in data:
        values = runner(graph, sample)
        for n in names:
            v = values[n]
            if not np.all(np.isfinite(v)):
                raise MicroforgeError(f"calibration: tensor {n!r} has NaN or infinite values in the float model")
            lo[n], hi[n] = min(lo[n], float(v.min())), max(hi[n], float(v.max()))

    robust = [n for n in names if per_tensor[n] != "minmax" and hi[n] > lo[n]]
    hists = {n: np.zeros(BINS, np.int64) for n in robust}
    if robust:
        for sample in data:
            values = runner(graph, sample)
            for n in robust:
                hists[n] += np.histogram(values[n], bins=BINS, range=(lo[n], hi[n]))[0]

    ranges = {}
    for n in names:
        if n not in hists:
            ranges[n] = TensorRange.of(lo[n], hi[n])
        elif per_tensor[n] == "percentile":
            ranges[n] = _hist_range(hists[n], lo[n], hi[n], percentile)
        else:
            ranges[n] = _mse_range(hists[n], lo[n], hi[n])
    return ranges
