"""Reference vs ISA-optimized int8 kernels, measured in QEMU: exact instructions per inference and per MAC.

Per model (person_detect, micro_speech, and the zoo's ResNet-8 and DS-CNN through the PyTorch importer + PTQ,
or equivalent synthetic int8 graphs when those passes are missing) and per QEMU-runnable target (Cortex-M4
stm32l4r5, M7 stm32f746, M55 corstone300_m55, RV32IMC esp32c3), the same model is compiled twice: with the
portable reference kernels (the target profile with kernels="reference") and with the target's kernel variant
(runtime_c/kernels/<variant>/<kernel>.c where present, else the reference file). Both run in QEMU with exact
instruction counts (TCG plugin); outputs must be bit-identical. Printed: instructions per inference and per
MAC, speed-up, the ISA lower bound, the two heaviest layers, and TensorFlow Lite Micro's figures
(../shared/docs/ANCHORS.md) where the model matches.

    .venv/bin/python benchmarks/qemu_kernels.py            # all models and targets (~1-2 min)
    .venv/bin/python benchmarks/qemu_kernels.py --models person_detect --targets esp32c3
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from microforge.backends.c.emit import emit_c
from microforge.importers import load_model
from microforge.ir import Graph, Node, QuantParams, Tensor
from microforge.targets import Target, load_target
from microforge.validate.host import load_metadata
from microforge.validate.qemu import run_qemu

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "models"
TARGETS = {"M4": "stm32l4r5", "M7": "stm32f746", "M55": "corstone300_m55", "RV32": "esp32c3"}
# instructions per MAC an ideal inner loop needs on each ISA (loads, sign extension, MAC; pointer updates amortised)
ISA_BOUND = {
    "M4": (0.75, "SMLAD: 2 MACs/instr + loads + SXTB16 sign extension"),
    "M7": (0.75, "same ISA as M4 (dual issue does not change the count)"),
    "M55": (0.1, "MVE VMLADAVA.S8: 16 MACs/instr + vector loads"),
    "RV32": (3.0, "RV32IMC: lb + mul + add per MAC, the other operand's load shared by a register block"),
}
# TFLM in QEMU (../shared/docs/ANCHORS.md): (model label, reference M4, CMSIS-NN M4, CMSIS-NN MVE M55), instr/MAC
TFLM = {
    "person_detect": ("VWW MobileNetV1-0.25 (3-channel input; person_detect is 1-channel)", 13.4, 3.22, 0.88),
    "resnet8": ("IC ResNet-8 (trained MLPerf model; ours: same architecture, random weights)", 8.6, 2.39, 0.39),
    "ds_cnn": ("KWS DS-CNN (trained MLPerf model; ours: same architecture, random weights)", 16.2, 2.90, 0.68),
}


@dataclass
class Run:
    instructions: int
    macs: int
    layers: list[dict]
    outputs: list[np.ndarray]
    sources: dict[str, str]

    @property
    def per_mac(self) -> float:
        return self.instructions / max(self.macs, 1)


# ------------------------------------------------------------------------------------------------ models


def _shared(name: str) -> Graph:
    return load_model(SHARED / "tflite" / f"{name}.tflite")


def _zoo(name: str) -> tuple[Graph, str]:
    """The zoo model through import_torch + PTQ, or (when those are missing) an equivalent synthetic int8 graph."""
    try:
        sys.path.insert(0, str(ROOT / "tests"))
        from microforge.importers.torch import import_torch
        from microforge.passes.quantize import quantize

        import zoo

        model, shape = zoo.build(name, logits=True)
        graph = import_torch(model, zoo.calibration(shape, 1)[0], name=name)
        in_shape = graph.tensor(graph.inputs[0]).shape
        samples = []
        for x in zoo.calibration(shape, 8):
            a = x.numpy()
            samples.append([a.transpose(0, 2, 3, 1).copy() if a.shape != tuple(in_shape) else a])
        return quantize(graph, samples), "zoo, PTQ"
    except ImportError as exc:  # importer or quantizer not there yet
        return (_synthetic_resnet8() if name == "resnet8" else _synthetic_ds_cnn()), f"synthetic ({exc.name} missing)"


class _Builder:
    """Minimal int8 IR graph builder with random weights and plausible scales (synthetic fallback only)."""

    def __init__(self, name: str, shape: tuple[int, ...]):
        self.g = Graph(name=name)
        self.rng = np.random.default_rng(0)
        self.n = 0
        x = self._act(shape, 0.05, -10)
        self.g.inputs = [x]

    def _name(self, base: str) -> str:
        self.n += 1
        return f"{base}{self.n}"

    def _act(self, shape, scale: float, zp: int) -> str:
        t = Tensor(self._name("t"), tuple(shape), "int8", QuantParams(np.array([scale], np.float32), np.array([zp])))
        return self.g.add_tensor(t).name

    def _const(self, data: np.ndarray, scale: np.ndarray | None, axis: int | None) -> str:
        dtype = "int8" if data.dtype == np.int8 else "int32"
        quant = None
        if scale is not None:
            quant = QuantParams(
                scale.astype(np.float32), np.zeros(scale.shape, np.int64), axis if scale.size > 1 else None
            )
        return self.g.add_tensor(Tensor(self._name("w"), data.shape, dtype, quant, data)).name

    def conv(
        self, x: str, cout: int, k: tuple[int, int], stride: int, depthwise: bool = False, relu: bool = True
    ) -> str:
        from microforge.ops.conv2d import Conv2DAttrs
        from microforge.ops.depthwise_conv2d import DepthwiseConv2DAttrs

        xt = self.g.tensor(x)
        n, h, w, cin = xt.shape
        oh, ow = -(-h // stride), -(-w // stride)
        wshape = (1, k[0], k[1], cin) if depthwise else (cout, k[0], k[1], cin)
        cout = cin if depthwise else cout
        wdata = self.rng.integers(-127, 128, size=wshape).astype(np.int8)
        ws = (self.rng.uniform(0.5, 1.5, cout) * 0.02 / np.sqrt(k[0] * k[1] * (1 if depthwise else cin))).astype(
            np.float32
        )
        wname = self._const(wdata, ws, 3 if depthwise else 0)
        bname = self._const(self.rng.integers(-500, 500, size=cout).astype(np.int32), ws * xt.quant.scale[0], 0)
        out = self._act((n, oh, ow, cout), 0.05, -128 if relu else 0)
        act = "RELU" if relu else "NONE"
        if depthwise:
            attrs = DepthwiseConv2DAttrs("SAME", stride, stride, 1, 1, 1, act)
        else:
            attrs = Conv2DAttrs("SAME", stride, stride, 1, 1, act)
        op = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
        self.g.nodes.append(Node(op, self._name("n"), [x, wname, bname], [out], attrs))
        return out

    def add(self, a: str, b: str) -> str:
        from microforge.ops.add import AddAttrs

        out = self._act(self.g.tensor(a).shape, 0.06, -128)
        self.g.nodes.append(Node("ADD", self._name("n"), [a, b], [out], AddAttrs("RELU")))
        return out

    def done(self, out: str) -> Graph:
        self.g.outputs = [out]
        return self.g


def _synthetic_resnet8() -> Graph:
    b = _Builder("resnet8_synthetic", (1, 32, 32, 3))
    x = b.conv(b.g.inputs[0], 16, (3, 3), 1)
    for cin, cout, stride in ((16, 16, 1), (16, 32, 2), (32, 64, 2)):
        y = b.conv(b.conv(x, cout, (3, 3), stride), cout, (3, 3), 1, relu=False)
        skip = x if stride == 1 and cin == cout else b.conv(x, cout, (1, 1), stride, relu=False)
        x = b.add(y, skip)
    return b.done(x)


def _synthetic_ds_cnn() -> Graph:
    b = _Builder("ds_cnn_synthetic", (1, 49, 10, 1))
    x = b.conv(b.g.inputs[0], 64, (10, 4), 2)
    for _ in range(4):
        x = b.conv(b.conv(x, 64, (3, 3), 1, depthwise=True), 64, (1, 1), 1)
    return b.done(x)


# ------------------------------------------------------------------------------------------------ running


def _run(folder: Path, target: Target, sample: list[np.ndarray]) -> Run:
    outputs, prof = run_qemu(folder, target, [sample], profile=True, timeout=300)
    meta = load_metadata(folder)
    layers = [dict(layer) for layer in prof["layers"]]
    return Run(prof["instructions"], sum(layer["macs"] for layer in layers), layers, outputs[0],
               dict(meta.get("kernel_sources", {})))  # fmt: skip


def measure(models: dict[str, tuple[Graph, str]], cores: list[str], work: Path, console: Console):
    """{(model, core): (reference Run, optimized Run, variant)} — folders emitted once per (model, variant)."""
    targets = {core: load_target(TARGETS[core]) for core in cores}
    folders: dict[tuple[str, str], Path] = {}
    for model, (graph, _) in models.items():
        for variant in {"reference", *(t.kernels for t in targets.values())}:
            folder = work / f"{model}-{variant}"
            emit_c(graph, folder, name=model, kernel_variant=variant)
            folders[(model, variant)] = folder
    jobs = []
    for model in models:
        meta = load_metadata(folders[(model, "reference")])
        rng = np.random.default_rng(7)
        sample = [rng.integers(-128, 128, size=t["shape"], dtype=np.int8) for t in meta["inputs"]]
        for core, t in targets.items():
            ref_t = dataclasses.replace(t, kernels="reference")
            jobs.append((model, core, "ref", folders[(model, "reference")], ref_t, sample))
            jobs.append((model, core, "opt", folders[(model, t.kernels)], t, sample))
    # firmware builds land in <folder>/build/<target>: jobs sharing a folder and a target must not run together,
    # and no two jobs here do (ref and opt of one target use different folders unless the variant is "reference")
    unique = {}
    for _, _, _, folder, t, sample in jobs:
        unique.setdefault((folder, t.name), (folder, t, sample))
    console.print(f"[dim]{len(unique)} QEMU runs…[/dim]")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(_run, *args) for key, args in unique.items()}
        runs = {key: f.result() for key, f in futures.items()}
    results = {}
    for model, core, kind, folder, t, _ in jobs:
        results.setdefault((model, core), {})[kind] = runs[(folder, t.name)]
        results[(model, core)]["variant"] = t.kernels
    return results


# ------------------------------------------------------------------------------------------------ tables


def _variant_label(run: Run, variant: str) -> str:
    """e.g. "riscv 3/7": the variant and how many of the model's kernels it supplies (the rest: reference)."""
    if variant == "reference":
        return "reference"
    used = sum(1 for v in run.sources.values() if v == variant)
    return f"{variant} {used}/{len(run.sources)}"


def _m(n: int) -> str:
    return f"{n / 1e6:.2f} M"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=["person_detect", "micro_speech", "resnet8", "ds_cnn"])
    ap.add_argument("--targets", nargs="*", default=list(TARGETS), help="cores: M4 M7 M55 RV32 (or target names)")
    args = ap.parse_args(argv)
    cores = [c for c in TARGETS if c in args.targets or TARGETS[c] in args.targets]
    console = Console(width=160)
    start = time.perf_counter()

    models: dict[str, tuple[Graph, str]] = {}
    for name in args.models:
        if name == "person_detect":
            models[name] = (_shared("person_detect"), "shared .tflite")
        elif name == "micro_speech":
            models[name] = (_shared("micro_speech_quantized"), "shared .tflite")
        else:
            models[name] = _zoo(name)

    with tempfile.TemporaryDirectory(prefix="mf-qemu-kernels-") as tmp:
        results = measure(models, cores, Path(tmp), console)

    summary = Table(
        title="Instructions per inference and per MAC in QEMU (exact counts; reference vs target's kernels)"
    )
    for col in ("model", "MACs", "core", "kernels", "ref instr", "ref /MAC", "opt instr", "opt /MAC", "speed-up",
                "ISA bound", "TFLM ref", "TFLM opt", "exact"):  # fmt: skip
        summary.add_column(col, justify="left" if col in ("model", "core", "kernels", "exact") else "right")
    for model in models:
        for core in cores:
            r = results[(model, core)]
            ref, opt = r["ref"], r["opt"]
            same = all(np.array_equal(a, b) for a, b in zip(ref.outputs, opt.outputs))
            tflm = TFLM.get(model)
            tflm_ref = f"{tflm[1]:.1f}" if tflm and core == "M4" else "—"
            tflm_opt = (
                (f"{tflm[2]:.2f}" if core == "M4" else f"{tflm[3]:.2f}" if core == "M55" else "—") if tflm else "—"
            )
            summary.add_row(model, _m(ref.macs), core, _variant_label(opt, r["variant"]),
                            _m(ref.instructions), f"{ref.per_mac:.2f}", _m(opt.instructions), f"{opt.per_mac:.2f}",
                            f"{ref.instructions / max(opt.instructions, 1):.2f}x", f"{ISA_BOUND[core][0]:g}", tflm_ref,
                            tflm_opt, "yes" if same else "[red]NO[/red]")  # fmt: skip
        summary.add_section()
    console.print(summary)

    layers = Table(title="The two heaviest layers (by MACs): instructions per MAC, reference -> optimized")
    for col in ("model", "layer", "op", "MACs", *cores):
        layers.add_column(col, justify="right" if col in ("layer", "MACs", *cores) else "left")
    for model in models:
        first = results[(model, cores[0])]["ref"].layers
        heaviest = sorted(range(len(first)), key=lambda i: -first[i]["macs"])[:2]
        for i in sorted(heaviest):
            cells = []
            for core in cores:
                r = results[(model, core)]
                a, b = r["ref"].layers[i], r["opt"].layers[i]
                macs = max(a["macs"], 1)
                cells.append(f"{a['instructions'] / macs:.2f} -> {b['instructions'] / macs:.2f}")
            layers.add_row(model, str(first[i]["index"]), first[i]["op"], f"{first[i]['macs']:,}", *cells)
    console.print(layers)

    bounds = Table(title="ISA lower bounds assumed (instructions per MAC of an ideal int8 inner loop)")
    bounds.add_column("core")
    bounds.add_column("instr/MAC", justify="right")
    bounds.add_column("assumption")
    for core in cores:
        bounds.add_row(core, f"{ISA_BOUND[core][0]:g}", ISA_BOUND[core][1])
    console.print(bounds)
    notes = [f"{model}: {source}" for model, (_, source) in models.items()]
    notes.append(
        "cores: " + ", ".join(f"{c} = {TARGETS[c]}" for c in cores) + "; kernels: the target's variant "
        "and how many of the model's kernels it supplies (the others fall back to the reference files)"
    )
    notes += [f"TFLM columns: {model} vs {label}" for model, (label, *_) in TFLM.items() if model in models]
    notes.append("TFLM figures: TFLM reference kernels on M4 and TFLM + CMSIS-NN on M4 / M55 (MVE), QEMU, gcc 12.2 -O2")
    for note in notes:
        console.print(f"[dim]{note}[/dim]")
    console.print(f"[dim]{time.perf_counter() - start:.0f} s[/dim]")
    bad = [
        k
        for k, r in results.items()
        if not all(np.array_equal(a, b) for a, b in zip(r["ref"].outputs, r["opt"].outputs))
    ]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
