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


def run_demo(outdir: Path, console: Console) -> int:
    from ..backends.c.emit import emit_c
    from ..importers.tflite import import_tflite
    from ..report import print_summary
    from ..validate.host import run_host
    from ..validate.tflm import run_tflm, tflm_arena_bytes

    t0 = time.perf_counter()
    graph = import_tflite(MODEL, "person_detect")
    compiled = emit_c(graph, outdir)
    compile_s = time.perf_counter() - t0
    print_summary(compiled.summary, console)

    rng = np.random.default_rng(0)
    samples = [[load_gray_bmp(HERE / f)] for f in IMAGES]
    samples += [[rng.integers(-128, 128, (1, 96, 96, 1), dtype=np.int8)] for _ in range(8)]
    ours, us = run_host(outdir, samples, repeat=5)
    model_bytes = MODEL.read_bytes()
    theirs = run_tflm(model_bytes, samples)
    exact = sum(np.array_equal(a[0], b[0].reshape(a[0].shape)) for a, b in zip(ours, theirs))

    console.print()
    console.print(f"compiled in {compile_s:.2f} s into {compiled.outdir}")
    for fname, out in zip(IMAGES, ours):
        person = (int(out[0][0, 1]) + 128) / 256
        console.print(f"{fname:14s} -> person score {person:.2f} (raw int8 {out[0].ravel().tolist()})")
    tflm_arena = tflm_arena_bytes(model_bytes)
    console.print(f"bit-exact with TensorFlow Lite Micro: {exact}/{len(samples)} inputs")
    console.print(
        f"arena: ours {compiled.summary.plan.arena_bytes:,} B vs TFLM {tflm_arena:,} B "
        f"({compiled.summary.plan.arena_bytes / tflm_arena:.2f}x); host {us:.0f} us per inference"
    )
    return 0 if exact == len(samples) else 1
