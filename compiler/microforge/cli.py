"""The `microforge` command."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from . import __version__
from .errors import MicroforgeError

console = Console(width=None if sys.stdout.isatty() else 140)  # pipes and CI logs get wide tables


def _load(path: str, name: str | None = None):
    from .importers import load_model

    return load_model(path, name)


def _size(text: str) -> int:
    """Bytes from '65536', '64K', '1.5M'."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([kKmM]?)[bB]?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 262144, 256K, 1M)")
    return int(float(m[1]) * {"": 1, "k": 1024, "m": 1024 * 1024}[m[2].lower()])


def _calibration(path: str, graph) -> list[list[np.ndarray]]:
    """calib.npz: one array per model input (by input name, or in input order), each [N, *input shape]."""
    from .api import to_ir_layout

    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise MicroforgeError(f"{path}: cannot read calibration data ({exc})") from None
    keys = list(data.keys())
    arrays = [data[n] if n in data else None for n in graph.inputs]
    if any(a is None for a in arrays):
        if len(keys) != len(graph.inputs):
            raise MicroforgeError(f"{path}: has arrays {keys}; the model's inputs are {graph.inputs}")
        arrays = [data[k] for k in keys]
    count = {len(a) for a in arrays}
    if len(count) != 1:
        raise MicroforgeError(f"{path}: the arrays hold different numbers of samples ({sorted(count)})")
    for name, a in zip(graph.inputs, arrays):
        if a.dtype.kind != "f":
            raise MicroforgeError(f"{path}: calibration data for {name!r} is {a.dtype}; expected float32 "
                                  f"samples of shape [N, {', '.join(map(str, graph.tensor(name).shape[1:]))}] (or its NCHW form)")  # fmt: skip
    return [to_ir_layout(graph, [a[k : k + 1].astype(np.float32) for a in arrays]) for k in range(count.pop())]


def _quantized(graph, args):
    """(graph, calibration samples): quantized when --quantize int8 asks for it (with --calibration data)."""
    if not args.quantize:
        return graph, None
    if not args.calibration:
        raise MicroforgeError("--quantize int8 needs --calibration calib.npz (float samples of the model's inputs)")
    from .passes.quantize import quantize

    samples = _calibration(args.calibration, graph)
    return quantize(graph, samples, args.calibration_method), samples


def cmd_compile(args: argparse.Namespace) -> int:
    from .pipeline import compile_graph
    from .report import render_report, write_report

    t0 = time.perf_counter()
    graph, _ = _quantized(_load(args.model, args.name), args)
    compiled = compile_graph(
        graph,
        args.output,
        args.name,
        target=args.target,
        flash_budget=args.flash_budget,
        ram_budget=args.ram_budget,
        ram_region=args.ram_region,
        weights_section=args.weights_section,
        arena_section=args.arena_section,
        emit=args.emit,
    )
    seconds = time.perf_counter() - t0
    if args.emit == "tflite":
        console.print(f"wrote {compiled.outdir}: {compiled.name}.tflite ({compiled.tflite_bytes:,} B, ops: {', '.join(compiled.ops)}) "
                      f"+ TFLM wrapper; TFLM arena {compiled.tflm_arena_bytes:,} B measured, {compiled.arena_size:,} B "
                      f"with margin; in {seconds:.2f} s")
        return 0
    files = write_report(compiled.outdir)
    render_report(compiled.outdir, console)
    choice = json.loads((compiled.outdir / "metadata.json").read_text()).get("kernel_choice") or {}
    if choice.get("chosen") != choice.get("preferred"):
        console.print(f"[yellow]kernels: {choice['chosen']} instead of {choice['preferred']}, which did not fit: "
                      f"{choice['reason']}[/yellow]")  # fmt: skip
    if choice.get("scratch_refused"):
        layers = ", ".join(f"#{i}" for i in choice["scratch_refused"])
        console.print(f"[yellow]scratch: layers {layers} run without their arena scratch (the reference loop: slower, "
                      f"less RAM): {choice['scratch_reason']}[/yellow]")  # fmt: skip
    console.print(f"wrote {compiled.outdir} ({compiled.name}.h, {compiled.name}.c, weights, runtime, metadata.json, "
                  f"{', '.join(f.name for f in files)}) in {seconds:.2f} s")  # fmt: skip
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import render_report, write_report
    from .validate.host import load_metadata

    load_metadata(Path(args.outdir))  # a clear error for a folder that is not ours
    files = write_report(args.outdir)
    render_report(args.outdir, console)
    console.print("wrote " + ", ".join(str(f) for f in files))
    return 0


def cmd_targets(args: argparse.Namespace) -> int:
    from rich.table import Table

    from .targets import available_targets, load_target

    table = Table(title="target profiles (targets/*.toml)")
    for col in ("name", "core", "clock", "flash", "largest RAM", "toolchain", "QEMU machine"):
        table.add_column(col)
    for name in available_targets():
        t = load_target(name)
        table.add_row(name, t.core, f"{t.clock_hz / 1e6:g} MHz", f"{t.flash_bytes // 1024:,} KB", f"{t.ram_bytes // 1024:,} KB",
                      t.toolchain or "none (estimate only)", t.qemu.machine if t.qemu else "-")  # fmt: skip
    console.print(table)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from .analysis import summarize
    from .backends.c.emit import check_supported
    from .report import print_summary

    graph = _load(args.model)
    int8, samples = _quantized(graph, args)
    check_supported(int8)
    print_summary(summarize(int8), console)
    if samples is not None:
        _print_sqnr(graph, int8, samples)
    return 0


def _print_sqnr(float_graph, int8_graph, samples) -> None:
    from rich.table import Table

    from .passes.sqnr import measure_sqnr

    report = measure_sqnr(float_graph, int8_graph, samples)
    table = Table(title=f"quantization error per layer (int8 vs float, {report.samples} calibration samples)", title_justify="left")
    for col in ("node", "op", "SQNR dB", "max |error|"):
        table.add_column(col, justify="left" if col in ("node", "op") else "right")
    for layer in report.layers:
        table.add_row(layer.node[-40:], layer.op, f"{layer.sqnr_db:.1f}", f"{layer.max_abs_error:.4g}")
    console.print(table)
    console.print(f"end-to-end SQNR: {report.end_to_end_db:.1f} dB")


def _read_samples(path: str, meta: dict) -> tuple[list[list[np.ndarray]], bool]:
    """X.npy holds one input of the model's shape, or a batch of them along a new first axis (batched=True)."""
    from .ir import DTYPES

    if len(meta["inputs"]) != 1:
        raise MicroforgeError("`run --input` supports single-input models; use the Python API for more")
    spec = meta["inputs"][0]
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise MicroforgeError(f"{path}: cannot read as .npy ({exc})") from None
    want = np.dtype(DTYPES[spec["dtype"]])
    if x.dtype != want:
        raise MicroforgeError(f"{path}: dtype {x.dtype}, the model's input is {want} (quantize it first)")
    size = int(np.prod(spec["shape"]))
    if x.size == size:
        return [[x.reshape(spec["shape"])]], False
    if x.ndim >= 1 and int(np.prod(x.shape[1:])) == size:
        return [[s.reshape(spec["shape"])] for s in x], True
    raise MicroforgeError(f"{path}: shape {list(x.shape)} is neither the input shape {spec['shape']} nor a batch of it")


def cmd_run(args: argparse.Namespace) -> int:
    from .validate.host import load_metadata, run_host

    meta = load_metadata(Path(args.outdir))
    samples, batched = _read_samples(args.input, meta)
    if args.target:
        from .validate.qemu import run_qemu

        outputs, profile = run_qemu(args.outdir, args.target, samples, profile=args.profile)
        if profile is not None:
            _save_profile(Path(args.outdir), args.target, profile)
    else:
        if args.profile:
            raise MicroforgeError("--profile needs --target (instructions are counted in QEMU)")
        outputs, _ = run_host(args.outdir, samples)
    first = [o[0] for o in outputs]
    y = np.stack(first) if batched else first[0]
    if args.output:
        np.save(args.output, y)
        console.print(f"wrote {args.output}: {y.dtype}{list(y.shape)}")
    else:
        console.print(y)
    return 0


def _save_profile(outdir: Path, target: str, profile: dict) -> None:
    from rich.table import Table

    profile = {"target": target, **profile}
    (outdir / "profile.json").write_text(json.dumps(profile, indent=2) + "\n")
    table = Table(title=f"exact instructions per layer on {target} (QEMU)", title_justify="left")
    for col in ("#", "op", "MACs", "instructions", "instr/MAC", "%"):
        table.add_column(col, justify="left" if col == "op" else "right")
    total = max(profile["instructions"], 1)
    for layer in profile["layers"] or []:
        macs = layer.get("macs") or 0
        table.add_row(str(layer["index"]), str(layer["op"]), f"{macs:,}", f"{layer['instructions']:,}",
                      f"{layer['instructions'] / macs:.2f}" if macs else "", f"{100 * layer['instructions'] / total:.1f}")  # fmt: skip
    console.print(table)
    macs = sum((la.get("macs") or 0) for la in profile["layers"] or [])
    per_mac = f" ({profile['instructions'] / macs:.2f} per MAC)" if macs else ""
    from .report import write_report

    files = write_report(outdir)  # the report now carries the measured instructions too
    console.print(f"instructions per inference: {profile['instructions']:,}{per_mac}; wrote {outdir / 'profile.json'}, "
                  f"{', '.join(f.name for f in files)}")  # fmt: skip


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo.run import run_demo

    return run_demo(Path(args.output), console)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="microforge", description="Compile quantized neural networks to C for microcontrollers.")
    p.add_argument("--version", action="version", version=f"microforge {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("compile", help="compile a .tflite or ONNX model to C")
    c.add_argument("model")
    c.add_argument("-o", "--output", required=True, help="output folder (replaced as a whole)")
    c.add_argument("--name", help="C name prefix (default: the model file's stem)")
    c.add_argument("--target", help="target profile (see `microforge targets`): measure flash/RAM with its compiler")
    c.add_argument("--flash-budget", type=_size, help="override the target's flash budget (bytes, or 512K, 1M)")
    c.add_argument("--ram-budget", type=_size, help="override the target's RAM budget")
    c.add_argument("--ram-region", help="the target RAM region the arena goes in (default: the largest)")
    c.add_argument("--weights-section", help="linker section for the const weights (e.g. .ext_flash)")
    c.add_argument("--arena-section", help="linker section for your arena buffer, via <NAME>_ARENA_ATTR (e.g. .dtcm)")
    c.add_argument("--emit", choices=("c", "tflite", "both"), default="c",
                   help="generated C (default), a .tflite + TFLM wrapper, or both (TFLite in OUT/tflite)")
    c.set_defaults(func=cmd_compile)

    rp = sub.add_parser("report", help="per-layer report of a compiled folder (+ memory timeline PNG, HTML page)")
    rp.add_argument("outdir")
    rp.set_defaults(func=cmd_report)

    tg = sub.add_parser("targets", help="list target profiles")
    tg.set_defaults(func=cmd_targets)

    i = sub.add_parser("inspect", help="per-layer table: ops, shapes, params, MACs, planned arena")
    i.add_argument("model")
    i.set_defaults(func=cmd_inspect)

    for sp in (c, i):
        sp.add_argument("--quantize", choices=("int8",), help="post-training quantization of a float model (TFLite spec)")
        sp.add_argument("--calibration", help="calib.npz: float samples per input, [N, *input shape] (NCHW or NHWC)")
        sp.add_argument("--calibration-method", default="minmax", choices=("minmax", "percentile", "mse"),
                       help="activation ranges: min/max, 99.99th percentile, or minimum quantization MSE")  # fmt: skip

    r = sub.add_parser("run", help="build the generated C with host gcc and run it on an input")
    r.add_argument("outdir")
    r.add_argument("--input", required=True, help=".npy with one input (or a batch along a new first axis)")
    r.add_argument("--output", help="write the raw output tensor here (.npy)")
    r.add_argument("--target", help="run in QEMU on this target's machine instead of the host")
    r.add_argument("--profile", action="store_true", help="exact instructions per layer (QEMU plugin): profile.json")
    r.set_defaults(func=cmd_run)

    d = sub.add_parser("demo", help="compile the bundled person_detect model, run it, check it against TFLM")
    d.add_argument("-o", "--output", default="out/demo", help="output folder (default out/demo)")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except MicroforgeError as exc:
        if args.debug:
            raise
        print(f"microforge: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug of ours: still one line unless --debug
        if args.debug:
            raise
        print(f"microforge: internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
