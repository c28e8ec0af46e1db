"""Build generated C with the host compiler and run it on inputs (the `run` command and the tests)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

from ..errors import MicroforgeError, ToolchainError
from ..ir import DTYPES

CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic"]
# Address + undefined-behaviour sanitizers: out-of-arena accesses, signed overflow, bad shifts.
SANITIZE_FLAGS = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


@dataclass
class IoSpec:
    shape: tuple[int, ...]
    dtype: str

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(DTYPES[self.dtype]).itemsize


def load_metadata(outdir: Path) -> dict:
    meta_path = Path(outdir) / "metadata.json"
    if not meta_path.is_file():
        raise MicroforgeError(f"{outdir}: not a microforge output folder (no metadata.json)")
    return json.loads(meta_path.read_text())


def build_host(outdir: str | Path, cc: str = "gcc", sanitize: bool = False) -> Path:
    """Compile the model and a runner with warnings as errors; cached until sources change."""
    outdir = Path(outdir)
    meta = load_metadata(outdir)
    name = meta["name"]
    if shutil.which(cc) is None:
        raise ToolchainError(f"host C compiler {cc!r} not found (apt-get install gcc)")
    build = outdir / "build" / "host"
    build.mkdir(parents=True, exist_ok=True)
    runner_c = build / "runner.c"
    template = jinja2.Template((Path(__file__).parent / "templates" / "host_runner.c.j2").read_text(), undefined=jinja2.StrictUndefined)
    runner_c.write_text(template.render(name=name, NAME=name.upper(), n_inputs=len(meta["inputs"]), n_outputs=len(meta["outputs"])))
    sources = [outdir / f"{name}.c", outdir / f"{name}_weights.c"] + [kernel_source(outdir, meta, k) for k in meta["kernels"]]
    exe = build / ("runner-sanitize" if sanitize else "runner")
    if exe.exists() and all(exe.stat().st_mtime >= s.stat().st_mtime for s in sources):
        return exe
    cmd = [cc, *CFLAGS, *(SANITIZE_FLAGS if sanitize else []), f"-I{outdir}", f"-I{outdir / 'runtime' / 'include'}", str(runner_c), *map(str, sources), "-o", str(exe), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainError(f"host build of {outdir} failed:\n{proc.stderr.strip()}")
    return exe


def kernel_source(outdir: Path, meta: dict, kernel: str, variant: str = "reference") -> Path:
    """The source of `kernel` to build for a machine whose kernel variant is `variant`: the folder's own copy
    when it is portable or of that variant, else the package's copy of that variant (or the reference)."""
    held = meta.get("kernel_sources", {}).get(kernel, "reference")
    if held in ("reference", variant):
        return outdir / "runtime" / "kernels" / f"{kernel}.c"
    from ..resources import runtime_dir

    special = runtime_dir() / "kernels" / variant / f"{kernel}.c"
    return special if variant != "reference" and special.is_file() else runtime_dir() / "kernels" / f"{kernel}.c"


def io_specs(meta: dict, kind: str) -> list[IoSpec]:
    return [IoSpec(tuple(t["shape"]), t["dtype"]) for t in meta[kind]]


def pack_inputs(meta: dict, samples: list[list[np.ndarray]]) -> bytes:
    specs = io_specs(meta, "inputs")
    chunks = []
    for sample in samples:
        if len(sample) != len(specs):
            raise MicroforgeError(f"model has {len(specs)} input(s), got {len(sample)}")
        for arr, spec in zip(sample, specs):
            arr = np.asarray(arr)
            if arr.size != int(np.prod(spec.shape)):
                raise MicroforgeError(f"input of shape {list(arr.shape)} does not match the model's {list(spec.shape)}")
            if arr.dtype != np.dtype(DTYPES[spec.dtype]):
                raise MicroforgeError(f"input dtype {arr.dtype} does not match the model's {spec.dtype}")
            chunks.append(np.ascontiguousarray(arr).tobytes())
    return b"".join(chunks)


def unpack_outputs(meta: dict, raw: bytes, count: int) -> list[list[np.ndarray]]:
    specs = io_specs(meta, "outputs")
    per_sample = sum(s.nbytes for s in specs)
    if len(raw) != per_sample * count:
        raise MicroforgeError(f"runner wrote {len(raw)} bytes, expected {per_sample * count}")
    result, pos = [], 0
    for _ in range(count):
        sample = []
        for spec in specs:
            sample.append(np.frombuffer(raw[pos : pos + spec.nbytes], dtype=DTYPES[spec.dtype]).reshape(spec.shape).copy())
            pos += spec.nbytes
        result.append(sample)
    return result


def run_host(
    outdir: str | Path, samples: list[list[np.ndarray]], repeat: int = 0, sanitize: bool = False
) -> tuple[list[list[np.ndarray]], float | None]:
    """Outputs for each sample (a list of input arrays), and µs per inference when repeat > 0."""
    outdir = Path(outdir)
    meta = load_metadata(outdir)
    exe = build_host(outdir, sanitize=sanitize)
    work = outdir / "build" / "host"
    (work / "inputs.bin").write_bytes(pack_inputs(meta, samples))
    proc = subprocess.run([str(exe), str(work / "inputs.bin"), str(work / "outputs.bin"), str(repeat)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise MicroforgeError(f"host run failed (exit {proc.returncode}): {proc.stderr.strip()}")
    us = None
    for line in proc.stdout.splitlines():
        if line.startswith("us_per_inference"):
            us = float(line.split()[1])
    return unpack_outputs(meta, (work / "outputs.bin").read_bytes(), len(samples)), us
