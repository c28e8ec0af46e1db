"""Our generated C vs TensorFlow Lite Micro on the shared int8 models, in the same run.

Prints per model: arena bytes (ours, its lower bound, TFLM's minimal arena), weights bytes, code
bytes (Cortex-M4 -O2 .text of the model + kernels), compile seconds, and host µs per inference
(our C built with gcc -O2, run in a loop; TFLM's invoke() through its Python wheel).

    .venv/bin/python benchmarks/host_vs_tflm.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from microforge.backends.c.emit import emit_c
from microforge.errors import MicroforgeError, UnsupportedModelError
from microforge.importers import load_model
from microforge.targets import load_target
from microforge.validate.host import run_host
from microforge.validate.sizes import measure_sizes
from microforge.validate.tflm import run_tflm, tflm_arena_bytes

SHARED = Path(__file__).resolve().parents[2] / "shared" / "models"
MODELS = ["hello_world_int8", "micro_speech_quantized", "person_detect", "trained_lstm_int8", "keyword_scrambled_8bit"]


def tflm_us_per_invoke(model: bytes, x: np.ndarray, repeat: int) -> float:
    from tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(model, arena_size=4 << 20)
    interp.set_input(x, 0)
    interp.invoke()
    t0 = time.perf_counter()
    for _ in range(repeat):
        interp.invoke()
    return (time.perf_counter() - t0) / repeat * 1e6


def main() -> int:
    console = Console(width=200)
    table = Table(title="microforge vs TFLM (host x86-64; arena: TFLM's figure is for a 64-bit host)")
    for col in ["model", "MACs", "arena B", "lower bound B", "TFLM arena B", "ours/TFLM", "weights B", "code B (M4 -O2)",
                "compile s", "our µs", "TFLM µs", "speed-up", "bit-exact"]:
        table.add_column(col, justify="left" if col == "model" else "right")
    for name in MODELS:
        path = SHARED / "tflite" / f"{name}.tflite"
        model = path.read_bytes()
        try:
            t0 = time.perf_counter()
            graph = load_model(path)
            out = Path(tempfile.mkdtemp()) / name
            compiled = emit_c(graph, out)
            compile_s = time.perf_counter() - t0
        except UnsupportedModelError as exc:
            table.add_row(name, *["-"] * 11, "unsupported: " + ", ".join(sorted({t for _, t in exc.nodes})))
            continue
        x = np.load(SHARED / "golden" / f"{name}.npz")["x0"]
        repeat = max(3, min(2000, int(2e8 // max(compiled.summary.macs, 1))))
        ours, our_us = run_host(out, [[x]], repeat=repeat)
        theirs = run_tflm(model, [[x]])
        exact = np.array_equal(ours[0][0], theirs[0][0].reshape(ours[0][0].shape))
        their_us = tflm_us_per_invoke(model, x, repeat)
        arena, tflm_arena = compiled.summary.plan.arena_bytes, tflm_arena_bytes(model)
        try:
            code = f"{measure_sizes(out, load_target('stm32l4r5')).code_bytes:,}"
        except MicroforgeError:
            code = "n/a"
        table.add_row(
            name, f"{compiled.summary.macs:,}", f"{arena:,}", f"{compiled.summary.plan.lower_bound:,}", f"{tflm_arena:,}",
            f"{arena / tflm_arena:.2f}", f"{compiled.summary.weights_bytes:,}", code, f"{compile_s:.2f}",
            f"{our_us:.1f}", f"{their_us:.1f}", f"{their_us / our_us:.1f}x", "yes" if exact else "NO",
        )
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
