"""Latency cost model: estimated instructions, cycles and milliseconds per layer on a target.

Instructions per layer are a linear model of loop trip counts ("features") of the layer's kernel:

    instructions ≈ Σ coefficient[f] · feature[f]      e.g. CONV_2D: a·macs + b·taps + c·outputs + d

Features are what the reference kernels' loops actually run (taps skipped by zero padding are not
counted), so a 3x3 conv with 4 input channels and a 1x1 conv with 128 are both fitted well: the first
is dominated by per-tap overhead, the second by the multiply-accumulate loop. The coefficients are
fitted per core (compiler and ISA differ) and per kernel variant, by least squares against exact QEMU
instruction counts (benchmarks/calibrate_cost.py), and live in the [cost.<variant>.<op>] tables of
targets/*.toml. Cycles = instructions × the target's cycles_per_instruction: QEMU counts instructions,
not cycles, so cycles and milliseconds are always an estimate; for cores QEMU cannot run (Xtensa) the
instruction counts are too, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import ops
from ..ir import Graph, Node
from ..targets import Target

CONST = "const"  # the feature that is always 1: call overhead and kernel prologue

#: Features of each op's reference int8 kernel (the loop levels that cost instructions).
FEATURES: dict[str, tuple[str, ...]] = {
    # inner MAC loop; per executed tap (inner-loop setup, index math); per filter row (bounds check);
    # per output (bias, requantize, store)
    "CONV_2D": ("macs", "taps", "rows", "outputs", CONST),
    # one MAC per executed tap; per filter row (bounds check); per output (requantize)
    "DEPTHWISE_CONV_2D": ("macs", "rows", "outputs", CONST),
    "FULLY_CONNECTED": ("macs", "outputs", CONST),
    "AVERAGE_POOL_2D": ("macs", "outputs", CONST),  # macs = window elements summed (inside the image)
    "MAX_POOL_2D": ("macs", "outputs", CONST),
    "ADD": ("outputs", CONST),
    "MUL": ("outputs", CONST),
    "MEAN": ("macs", "outputs", CONST),  # macs = input elements summed
    "SOFTMAX": ("outputs", "rows", CONST),  # rows: reciprocal of the sum per row
    "LOGISTIC": ("outputs", CONST),
    "TANH": ("outputs", CONST),
    "QUANTIZE": ("outputs", CONST),  # int8 -> int8 requantization
    "DEQUANTIZE": ("outputs", CONST),
    "PAD": ("outputs", "rows", CONST),  # rows: output pixels (a memset/memcpy each)
    "CONCATENATION": ("outputs", "rows", CONST),  # rows: memcpy calls (outer size × inputs)
}
#: Features of the fallback model for ops (or dtypes) without their own coefficients.
GENERIC = "*"
GENERIC_FEATURES = ("macs", "outputs", "inputs", CONST)


@dataclass
class LayerCost:
    index: int
    op: str
    name: str
    macs: int  # the op's MAC count (as in the report); features["macs"] counts executed ones
    features: dict[str, float]
    key: str  # the node's model key: "OP" (int8) or "OP/<in>_<out>"
    instructions: float
    cycles: float
    ms: float
    model: str  # coefficients used: "<variant>.<key>", "<variant>.<OP>" (int8 fit), "<variant>.*" (generic), "alias"

    @property
    def fallback(self) -> bool:
        """True when the coefficients are not the node's own (another dtype's fit or the generic one)."""
        return self.model != "alias" and self.model.split(".", 1)[1] != self.key


@dataclass
class CostEstimate:
    """Estimated latency of one inference on a target. Cycles and ms are always estimates."""

    target: str
    core: str
    clock_hz: int
    kernels: str
    cycles_per_instruction: float
    measured: bool  # instruction coefficients fitted to QEMU counts on this core (False: derived)
    basis: str  # where the coefficients come from
    layers: list[LayerCost] = field(default_factory=list)

    @property
    def instructions(self) -> float:
        return sum(layer.instructions for layer in self.layers)

    @property
    def cycles(self) -> float:
        return sum(layer.cycles for layer in self.layers)

    @property
    def ms(self) -> float:
        return sum(layer.ms for layer in self.layers)

    @property
    def label(self) -> str:
        if self.measured:
            text = (f"estimate: instructions from a model fitted to exact QEMU counts, cycles = instructions × "
                    f"{self.cycles_per_instruction:g} (CPI estimate) at {self.clock_hz / 1e6:g} MHz")  # fmt: skip
        else:
            text = f"estimate, not measured: {self.basis}"
        if self.kernels != "reference" and any(c.model.startswith("reference.") for c in self.layers):
            text += (f"; the {self.kernels} kernels have no fit of their own for some layers, which use the reference "
                     "kernels' coefficients and are over-estimated")  # fmt: skip
        return text

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "core": self.core,
            "clock_hz": self.clock_hz,
            "kernels": self.kernels,
            "cycles_per_instruction": self.cycles_per_instruction,
            "measured": self.measured,
            "basis": self.basis,
            "label": self.label,
            "instructions": round(self.instructions),
            "cycles": round(self.cycles),
            "ms": self.ms,
            "layers": [
                {
                    "index": c.index,
                    "op": c.op,
                    "macs": c.macs,
                    "instructions": round(c.instructions),
                    "cycles": round(c.cycles),
                    "ms": c.ms,
                    "model": c.model,
                    "fallback": c.fallback,
                }  # fmt: skip
                for c in self.layers
            ],
        }

    def table(self) -> str:
        lines = [f"{self.target} ({self.core} @ {self.clock_hz / 1e6:g} MHz, {self.kernels} kernels) — {self.label}",
                 f"{'#':>3} {'op':<20} {'MACs':>10} {'est. instr':>12} {'est. cycles':>12} {'est. ms':>9}"]  # fmt: skip
        for c in self.layers:
            lines.append(
                f"{c.index:>3} {c.op:<20} {c.macs:>10,} {c.instructions:>12,.0f} {c.cycles:>12,.0f} "
                f"{c.ms:>9.3f}" + (f"  ({c.key}: {c.model} coefficients)" if c.fallback else "")
            )
        lines.append(f"{'':>3} {'total':<20} {sum(c.macs for c in self.layers):>10,} {self.instructions:>12,.0f} "
                     f"{self.cycles:>12,.0f} {self.ms:>9.3f}")  # fmt: skip
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- features


def _valid(out: int, stride: int, pad: int, k: int, dilation: int, size: int) -> np.ndarray:
    """For each output position along one axis: how many filter taps land inside the input."""
    pos = np.arange(out)[:, None] * stride - pad + np.arange(k)[None, :] * dilation
    return ((pos >= 0) & (pos < size)).sum(axis=1)


def _conv_counts(node: Node, graph: Graph, depthwise: bool) -> dict[str, float]:
    from ..ops._conv_util import window  # the geometry the kernels use (TFLM's padding rule)

    x, f, y = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
    n, h, w, _ = x.shape
    _, kh, kw, fc = f.shape
    win = window(node.attrs, h, w, kh, kw)
    vy = _valid(win.out_h, win.stride_h, win.pad_h, kh, win.dilation_h, h)
    vx = _valid(win.out_w, win.stride_w, win.pad_w, kw, win.dilation_w, w)
    oc = y.shape[-1]
    outputs = n * win.out_h * win.out_w * oc
    taps = n * oc * int(vy.sum()) * int(vx.sum())  # (output, tap) pairs inside the image
    return {
        "macs": taps if depthwise else taps * fc,
        "taps": taps,
        "rows": outputs * kh,
        "outputs": outputs,
    }


def _pool_counts(node: Node, graph: Graph) -> dict[str, float]:
    from ..ops import _pool_util as pu

    p = pu.prepare(node, graph)
    vy = _valid(p.out_h, p.stride_h, p.pad_h, p.filter_h, 1, p.in_h)
    vx = _valid(p.out_w, p.stride_w, p.pad_w, p.filter_w, 1, p.in_w)
    return {"macs": p.batches * p.channels * int(vy.sum()) * int(vx.sum()),
            "outputs": p.batches * p.out_h * p.out_w * p.channels}  # fmt: skip


def _activation_inputs(node: Node, graph: Graph) -> list:
    return [graph.tensor(n) for n in node.inputs if n is not None and not graph.tensor(n).is_const]


def model_key(node: Node, graph: Graph) -> str:
    """The coefficient table of a node: its op for int8 kernels, op/<in>_<out> dtypes otherwise."""
    dtypes = {t.dtype for t in _activation_inputs(node, graph)} | {graph.tensor(n).dtype for n in node.outputs}
    if dtypes <= {"int8"}:
        return node.op
    ins = "_".join(sorted({t.dtype for t in _activation_inputs(node, graph)})) or "none"
    return f"{node.op}/{ins}_{graph.out(node).dtype}"


def features(node: Node, graph: Graph) -> dict[str, float]:
    """Loop trip counts of the node's kernel: every feature any model might use, plus 'const' = 1."""
    opdef = ops.get(node.op)
    out = graph.out(node)
    acts = _activation_inputs(node, graph)
    d: dict[str, float] = {
        "macs": opdef.macs(node, graph),
        "outputs": sum(graph.tensor(n).size for n in node.outputs),
        "inputs": sum(t.size for t in acts),
        CONST: 1,
    }
    if opdef.alias:
        return d
    if node.op in ("CONV_2D", "DEPTHWISE_CONV_2D") and len(out.shape) == 4:
        d.update(_conv_counts(node, graph, node.op == "DEPTHWISE_CONV_2D"))
    elif node.op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        d.update(_pool_counts(node, graph))
    elif node.op == "MEAN":
        d["macs"] = d["inputs"]
    elif node.op == "SOFTMAX":
        d["rows"] = out.size // max(int(out.shape[-1]), 1) if out.shape else 1
    elif node.op == "PAD":
        d["rows"] = out.size // max(int(out.shape[-1]), 1) if out.shape else 1
    elif node.op == "CONCATENATION":
        axis = node.attrs.axis % max(len(out.shape), 1)
        d["rows"] = int(np.prod(out.shape[:axis], dtype=np.int64)) * len(acts)
    return d


# ---------------------------------------------------------------------------------------------- estimate


def coefficients_for(target: Target, key: str) -> tuple[str, dict[str, float]] | None:
    """(model name, coefficients) for a node's model key ("OP" or "OP/<in>_<out>") on a target.

    Tried in order: the key, then the op's int8 fit (same loop nest, e.g. for a float kernel), then the
    generic fallback; each in the target's kernel variant first, then in the reference kernels' table (an
    optimized variant without a fit of its own is then over-estimated)."""
    tables = target.cost_coefficients
    variants = list(dict.fromkeys((target.kernels, "reference")))
    for k in dict.fromkeys((key, key.split("/")[0], GENERIC)):
        for variant in variants:
            if k in tables.get(variant, {}):
                return f"{variant}.{k}", tables[variant][k]
    return None


def layer_instructions(coeffs: dict[str, float], feats: dict[str, float]) -> float:
    return max(sum(c * feats.get(name, 0.0) for name, c in coeffs.items()), 0.0)


def estimate(summary_or_graph, target: Target) -> CostEstimate:
    """Estimated instructions, cycles and ms per layer and in total of one inference on `target`.

    Accepts a Graph or an analysis.ModelSummary (its graph is used)."""
    graph: Graph = getattr(summary_or_graph, "graph", summary_or_graph)
    est = CostEstimate(
        target=target.name,
        core=target.core,
        clock_hz=target.clock_hz,
        kernels=target.kernels,
        cycles_per_instruction=target.cycles_per_instruction,
        measured=target.cost_measured,
        basis=target.cost_basis or "no calibration recorded for this target",
    )
    for i, node in enumerate(graph.nodes):
        opdef = ops.get(node.op)
        feats = features(node, graph)
        key = model_key(node, graph)
        if opdef.alias:
            instr, model = 0.0, "alias"
        else:
            found = coefficients_for(target, key)
            if found is None:
                raise ValueError(f"target {target.name!r} has no cost coefficients (a [cost.reference] table)")
            model, coeffs = found
            instr = layer_instructions(coeffs, feats)
        cycles = instr * target.cycles_per_instruction
        ms = cycles / target.clock_hz * 1e3
        macs = int(opdef.macs(node, graph))
        est.layers.append(LayerCost(i, node.op, node.name, macs, feats, key, instr, cycles, ms, model))
    return est
