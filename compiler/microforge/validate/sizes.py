"""Code and data sizes of generated C, measured from compiled object files with pyelftools."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from elftools.elf.elffile import ELFFile

from ..errors import ToolchainError
from .host import load_metadata


def section_sizes(obj: Path) -> dict[str, int]:
    """Bytes per section kind: text (code), rodata (const data), data, bss."""
    sizes = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    with obj.open("rb") as f:
        for sec in ELFFile(f).iter_sections():
            for kind in sizes:
                if sec.name == f".{kind}" or sec.name.startswith(f".{kind}."):
                    sizes[kind] += sec["sh_size"]
    return sizes


def code_and_weights_bytes(outdir: str | Path, cc: str = "arm-none-eabi-gcc", cflags: tuple[str, ...] = ("-mcpu=cortex-m4", "-mthumb", "-O2")) -> dict[str, int]:
    """Compile each generated source to an object file; sum section sizes of code vs weights.

    `code` = .text of the model and kernel objects; `weights` = .rodata of the weights object;
    `params` = .rodata of the model object (parameter structs).
    """
    outdir = Path(outdir)
    if shutil.which(cc) is None:
        raise ToolchainError(f"{cc} not found (apt-get install gcc-arm-none-eabi)")
    meta = load_metadata(outdir)
    name = meta["name"]
    sources = {"model": [outdir / f"{name}.c"], "weights": [outdir / f"{name}_weights.c"],
               "kernels": [outdir / "runtime" / "kernels" / f"{k}.c" for k in meta["kernels"]]}
    totals = {"code": 0, "weights": 0, "params": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for group, files in sources.items():
            for src in files:
                obj = Path(tmp) / (src.stem + ".o")
                cmd = [cc, "-std=c99", *cflags, "-ffunction-sections", "-fdata-sections", f"-I{outdir}", f"-I{outdir / 'runtime' / 'include'}", "-c", str(src), "-o", str(obj)]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    raise ToolchainError(f"{cc} failed on {src.name}: {proc.stderr.strip()}")
                s = section_sizes(obj)
                if group == "weights":
                    totals["weights"] += s["rodata"] + s["data"]
                else:
                    totals["code"] += s["text"]
                    totals["params"] += s["rodata"] + s["data"]
    return totals
