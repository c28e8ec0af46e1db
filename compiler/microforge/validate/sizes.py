"""Flash and RAM of generated C for a target, measured from the target compiler's object files (pyelftools).

flash = .text + .rodata + .data (initial values) of the model, its weights and the kernels it uses;
RAM   = .data + .bss + the arena + a stack estimate (the invoke frame plus the deepest kernel frame, from
        GCC's -fstack-usage; the kernels call nothing but inline helpers). Startup code and libc are not
        counted: they belong to the application, not the model.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

from ..errors import ToolchainError
from ..targets import Target
from .host import load_metadata

SECTION_KINDS = ("text", "rodata", "data", "bss")


@dataclass
class SizeReport:
    code_bytes: int  # .text of model + kernels
    weights_bytes: int  # .rodata of the weights file
    params_bytes: int  # .rodata/.data of the model file (parameter structs, offsets)
    data_bytes: int  # .data (in flash and RAM)
    bss_bytes: int
    arena_bytes: int
    stack_bytes: int  # estimate
    flash_bytes: int
    ram_bytes: int

    def to_dict(self) -> dict:
        return asdict(self)


def section_sizes(obj: Path) -> dict[str, int]:
    """Bytes per section kind: text (code), rodata (const data), data, bss."""
    sizes = dict.fromkeys(SECTION_KINDS, 0)
    with obj.open("rb") as f:
        for sec in ELFFile(f).iter_sections():
            for kind in SECTION_KINDS:
                if sec.name == f".{kind}" or sec.name.startswith(f".{kind}."):
                    sizes[kind] += sec["sh_size"]
    return sizes


def _stack_usage(su_files: list[Path], invoke: str) -> int:
    """Invoke's frame + the largest other frame (GCC .su lines: `file:line:col:function bytes kind`)."""
    frames: dict[str, int] = {}
    for su in su_files:
        for line in su.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) >= 2:
                frames[parts[0].rsplit(":", 1)[-1]] = int(parts[1])
    own = frames.pop(invoke, 0)
    return own + max(frames.values(), default=0)


def measure_sizes(outdir: str | Path, target: Target) -> SizeReport:
    outdir = Path(outdir)
    meta = load_metadata(outdir)
    name = meta["name"]
    cc = target.tool()
    libc = [] if target.arch == "host" else ["--specs=picolibc.specs"]  # headers for bare-metal targets
    groups = {
        "model": [outdir / f"{name}.c"],
        "weights": [outdir / f"{name}_weights.c"],
        "kernels": [outdir / "runtime" / "kernels" / f"{k}.c" for k in meta["kernels"]],
    }
    totals = dict.fromkeys(("code", "weights", "params", "data", "bss"), 0)
    with tempfile.TemporaryDirectory() as tmp:
        su_files = []
        for group, files in groups.items():
            for src in files:
                obj = Path(tmp) / (src.stem + ".o")
                cmd = [cc, "-std=c99", "-O2", *target.cflags, "-ffunction-sections", "-fdata-sections", "-fstack-usage", *libc,
                       f"-I{outdir}", f"-I{outdir / 'runtime' / 'include'}", "-c", str(src), "-o", str(obj)]  # fmt: skip
                proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
                if proc.returncode != 0:
                    raise ToolchainError(f"{cc} failed on {src.name} for target {target.name!r}: {proc.stderr.strip()}")
                su_files.append(obj.with_suffix(".su"))
                s = section_sizes(obj)
                totals["data"] += s["data"]
                totals["bss"] += s["bss"]
                if group == "weights":
                    totals["weights"] += s["rodata"]
                else:
                    totals["code"] += s["text"]
                    totals["params"] += s["rodata"]
        stack = _stack_usage([p for p in su_files if p.is_file()], f"{name}_invoke")
    arena = int(meta["arena_bytes"])
    flash = totals["code"] + totals["weights"] + totals["params"] + totals["data"]
    ram = totals["data"] + totals["bss"] + arena + stack
    return SizeReport(
        code_bytes=totals["code"],
        weights_bytes=totals["weights"],
        params_bytes=totals["params"],
        data_bytes=totals["data"],
        bss_bytes=totals["bss"],
        arena_bytes=arena,
        stack_bytes=stack,
        flash_bytes=flash,
        ram_bytes=ram,
    )
