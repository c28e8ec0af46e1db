"""Flash and RAM of generated C for a target, measured from the target compiler's object files (pyelftools).

flash = .text + .rodata + .data (initial values) of the model, its weights and the kernels it uses;
RAM   = .data + .bss + the arena + the stack: the deepest call chain below <name>_invoke, summing the
        frames GCC reports with -fcallgraph-info=su (static frames; the kernels do not recurse and use no
        alloca/VLAs). Startup code and libc are not counted: they belong to the application, not the model.
"""

from __future__ import annotations

import re
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
    stack_bytes: int  # deepest call chain below invoke (static frames)
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


_CI_NODE = re.compile(r'^node: \{ title: "([^"]+)" label: "[^"]*?\\n(\d+) bytes \((\w+)')
_CI_EDGE = re.compile(r'^edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


def stack_depth(ci_files: list[Path], root: str) -> int:
    """Bytes of stack of the deepest call chain from `root`, from GCC's -fcallgraph-info=su graphs (merged by
    function title: static functions carry their file in the title)."""
    frames: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    for ci in ci_files:
        for line in ci.read_text().splitlines():
            if m := _CI_NODE.match(line):
                frames[m[1]] = int(m[2])
            elif m := _CI_EDGE.match(line):
                calls.setdefault(m[1], set()).add(m[2])
    depth: dict[str, int] = {}

    def deepest(fn: str, path: frozenset) -> int:
        if fn not in depth:
            below = [deepest(c, path | {fn}) for c in calls.get(fn, ()) if c not in path]  # no recursion expected
            depth[fn] = frames.get(fn, 0) + max(below, default=0)
        return depth[fn]

    return deepest(root, frozenset())


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
        ci_files = []
        for group, files in groups.items():
            for src in files:
                obj = Path(tmp) / (src.stem + ".o")
                cmd = [cc, "-std=c99", "-O2", *target.cflags, "-ffunction-sections", "-fdata-sections", "-fcallgraph-info=su", *libc,
                       f"-I{outdir}", f"-I{outdir / 'runtime' / 'include'}", "-c", str(src), "-o", str(obj)]  # fmt: skip
                proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
                if proc.returncode != 0:
                    raise ToolchainError(f"{cc} failed on {src.name} for target {target.name!r}: {proc.stderr.strip()}")
                ci_files.append(obj.with_suffix(".ci"))
                s = section_sizes(obj)
                totals["data"] += s["data"]
                totals["bss"] += s["bss"]
                if group == "weights":
                    totals["weights"] += s["rodata"]
                else:
                    totals["code"] += s["text"]
                    totals["params"] += s["rodata"]
        stack = stack_depth([p for p in ci_files if p.is_file()], f"{name}_invoke")
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
