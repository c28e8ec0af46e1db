"""TensorFlow Lite Micro (the tflite-micro wheel) as the bit-exactness oracle."""

from __future__ import annotations

import os
import re
import tempfile

import numpy as np


def _interpreter(model: bytes, arena_size: int):
    from tflite_micro import runtime

    return runtime.Interpreter.from_bytes(model, arena_size=arena_size)


def run_tflm(model: bytes, samples: list[list[np.ndarray]], arena_size: int = 4 << 20) -> list[list[np.ndarray]]:
    """TFLM's outputs for each sample (a list of input arrays)."""
    interp = _interpreter(model, arena_size)
    n_out = _count_outputs(model)
    results = []
    for sample in samples:
        for i, arr in enumerate(sample):
            detail = interp.get_input_details(i)
            interp.set_input(np.asarray(arr, dtype=detail["dtype"]).reshape(detail["shape"]), i)
        interp.invoke()
        results.append([np.array(interp.get_output(k)) for k in range(n_out)])
    return results


def _count_outputs(model: bytes) -> int:
    from ..importers.schema import schema

    return schema.Model.GetRootAs(model, 0).Subgraphs(0).OutputsLength()


def tflm_arena_bytes(model: bytes, arena_size: int = 4 << 20) -> int:
    """TFLM's arena use (RecordingMicroAllocator total), captured from the C-level stderr."""
    interp = _interpreter(model, arena_size)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            interp.print_allocations()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")
    m = re.search(r"Arena allocation total (\d+) bytes", text)
    if not m:
        raise RuntimeError("could not read TFLM's arena allocation total")
    return int(m.group(1))
