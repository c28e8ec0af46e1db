"""`microforge demo`: compile the bundled person_detect model, run it, check it against TFLM, report."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
from rich.console import Console

HERE = Path(__file__).parent
MODEL = HERE / "person_detect.tflite"
IMAGES = ("person.bmp", "no_person.bmp")


def load_gray_bmp(path: Path) -> np.ndarray:
    """8-bit grayscale BMP -> int8 [1,H,W,1], pixels reinterpreted as int8 the way TFLM's example does."""
    raw = path.read_bytes()
    offset, = struct.unpack_from("<I", raw, 10)
    width, height = struct.unpack_from("<ii", raw, 18)
    rows = np.frombuffer(raw, np.uint8, count=width * abs(height), offset=offset).reshape(abs(height), width)
    if height > 0:  # bottom-up rows
        rows = rows[::-1]
    return rows.view(np.int8).reshape(1, abs(height), width, 1)


TARGET = "stm32l4r5"  # the MLPerf Tiny reference board (Cortex-M4F); QEMU stands in with mps2-an386


def run_demo(outdir: Path, console: Console) -> int:
    from ..errors import ToolchainError
    from ..importers.tflite import import_tflite
    from ..pipeline import compile_graph
    from ..report import render_report, write_report
    from ..validate.host import run_host
    from ..validate.tflm import run_tflm, tflm_arena_bytes

    t0 = time.perf_counter()
    graph = import_tflite(MODEL, "person_detect")
    try:
        compiled = compile_graph(graph, outdir, target=TARGET)
        target = TARGET
    except ToolchainError as exc:  # no cross compiler: still show the host half
        console.print(f"[yellow]note: {exc}; compiling for the host only[/yellow]")
        compiled = compile_graph(graph, outdir)
        target = None
    compile_s = time.perf_counter() - t0

    rng = np.random.default_rng(0)
    samples = [[load_gray_bmp(HERE / f)] for f in IMAGES]
    samples += [[rng.integers(-128, 128, (1, 96, 96, 1), dtype=np.int8)] for _ in range(8)]
    ours, us = run_host(outdir, samples, repeat=5)
    model_bytes = MODEL.read_bytes()
    theirs = run_tflm(model_bytes, samples)
    exact = sum(np.array_equal(a[0], b[0].reshape(a[0].shape)) for a, b in zip(ours, theirs))

    qemu_exact = len(samples)
    if target is not None:
        qemu_exact = _run_on_target(outdir, target, samples, ours, console)
    files = write_report(outdir)
    render_report(outdir, console)
    console.print()
    console.print(f"compiled in {compile_s:.2f} s into {compiled.outdir} (report: {', '.join(f.name for f in files)})")
    for fname, out in zip(IMAGES, ours):
        person = (int(out[0][0, 1]) + 128) / 256
        console.print(f"{fname:14s} -> person score {person:.2f} (raw int8 {out[0].ravel().tolist()})")
    tflm_arena = tflm_arena_bytes(model_bytes)
    console.print(f"bit-exact with TensorFlow Lite Micro: {exact}/{len(samples)} inputs")
    console.print(
        f"arena: ours {compiled.summary.plan.arena_bytes:,} B vs TFLM {tflm_arena:,} B "
        f"({compiled.summary.plan.arena_bytes / tflm_arena:.2f}x); host {us:.0f} us per inference"
    )
    return 0 if exact == len(samples) and qemu_exact == len(samples) else 1


def _run_on_target(outdir: Path, target: str, samples, host_outputs, console: Console) -> int:
    """Run the firmware in QEMU with exact instruction counts; returns how many outputs equal the host's."""
    import json

    from ..errors import ToolchainError
    from ..validate.qemu import run_qemu

    try:
        outputs, profile = run_qemu(outdir, target, samples[:3], profile=True)
    except ToolchainError as exc:
        console.print(f"[yellow]note: QEMU run skipped: {exc}[/yellow]")
        return len(samples)
    same = sum(np.array_equal(a[0], b[0]) for a, b in zip(outputs, host_outputs[:3]))
    meta = json.loads((outdir / "metadata.json").read_text())
    macs = meta["macs"]
    (outdir / "profile.json").write_text(json.dumps({"target": target, **profile}, indent=2) + "\n")
    from ..targets import load_target

    t = load_target(target)
    ms = profile["instructions"] * t.cycles_per_instruction / t.clock_hz * 1e3
    console.print(
        f"{target} in QEMU ({meta['target']['qemu_machine']}, {t.kernels} kernels): {same}/3 outputs equal the host's; "
        f"{profile['instructions']:,} instructions per inference ({profile['instructions'] / macs:.2f} per MAC; "
        f"~{ms:.0f} ms at {t.clock_hz / 1e6:g} MHz with an estimated {t.cycles_per_instruction:g} cycles/instruction); "
        f"flash {meta['flash_bytes']:,} / {meta['budget']['flash_bytes']:,} B, RAM {meta['ram_bytes']:,} / "
        f"{meta['budget']['ram_bytes']:,} B"
    )
    return same + len(samples) - 3
