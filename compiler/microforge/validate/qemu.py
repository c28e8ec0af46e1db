"""Build a model into bare-metal firmware for a target's QEMU machine, run it on samples, and count instructions.

Firmware = generated model + runtime kernels + a runner (templates/qemu_runner.c.j2) + the board files in
targets/boards/ (vector table or trap entry, reset, fault handlers, semihosting, linker script). Inputs and
outputs travel as files over semihosting; the exit code comes back with SYS_EXIT_EXTENDED.

Profiling (profile=True) loads a TCG plugin (plugin/insn_count.c, built with the host gcc on first use) that
logs the exact guest instruction count each time the code reaches a watched address. We watch:
  - the entry of <name>_invoke and the instruction after its call in main: total instructions per inference;
  - one address per layer: the `mf_layer_begin_<i>` labels that the generated invoke's MF_LAYER_BEGIN(i)
    hook becomes in profiling builds (templates/qemu_layer_hook.h.j2): zero-instruction asm labels;
and histogram the translation blocks run during the first inference by function symbol.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from ..errors import MicroforgeError, ToolchainError
from ..resources import runtime_dir, targets_dir
from ..targets import Target, load_target
from .host import kernel_source, load_metadata, pack_inputs, unpack_outputs

CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
MODEL_CFLAGS = ["-pedantic"]  # generated code and kernels are pedantic C99; board files use GNU asm/attributes
QEMU_APT = {"qemu-system-arm": "qemu-system-arm", "qemu-system-riscv32": "qemu-system-misc"}
ICOUNT = "shift=0,align=off,sleep=off"  # virtual time = 1 ns per instruction, deterministic
EXIT_IO = {
    2: "could not open inputs.bin/outputs.bin over semihosting",
    3: "short read or failed write over semihosting",
}
ARM_FAULTS = ["NMI", "HardFault", "MemManage", "BusFault", "UsageFault", "SecureFault", "unexpected exception"]
RISCV_TRAPS = {0: "instruction address misaligned", 1: "instruction access fault", 2: "illegal instruction",
               3: "breakpoint", 4: "load address misaligned", 5: "load access fault", 6: "store address misaligned",
               7: "store access fault", 11: "ecall", 16: "unexpected interrupt"}  # fmt: skip
_TEMPLATES = Path(__file__).parent / "templates"
_PLUGIN_SRC = Path(__file__).parent / "plugin" / "insn_count.c"


def fault_name(code: int) -> str | None:
    """The fault behind a firmware exit code (targets/boards/common/mf_board.h), or None."""
    if 100 <= code < 100 + len(ARM_FAULTS):
        return ARM_FAULTS[code - 100]
    if 110 <= code <= 126:
        return RISCV_TRAPS.get(code - 110, f"trap mcause={code - 110}")
    return None


# ---------------------------------------------------------------------------------------------- building


def _target(target: str | Target) -> Target:
    t = load_target(target) if isinstance(target, str) else target
    if t.qemu is None:
        raise MicroforgeError(f"target {t.name!r} ({t.core}) has no QEMU machine: it can only be compiled for")
    return t


def board_files(t: Target) -> tuple[list[Path], Path, list[Path]]:
    """(sources, linker script, include/library dirs) of the target's QEMU board."""
    boards = targets_dir() / "boards"
    board = boards / t.qemu.board
    if not board.is_dir():
        raise MicroforgeError(f"board folder {board} for target {t.name!r} does not exist")
    dirs = [boards / "common"] + ([boards / "cortex-m"] if t.arch == "arm" else []) + [board]
    sources = sorted(p for d in dirs for p in d.iterdir() if p.suffix in (".c", ".S"))
    script = board / f"{t.qemu.machine}.ld"
    return sources, script if script.is_file() else board / "link.ld", dirs


def _compile_link(cc: str, t: Target, units: list[tuple[Path, list[str]]], script: Path, lib_dirs: list[Path],
                  build: Path, elf: Path) -> None:  # fmt: skip
    def compile_one(unit: tuple[Path, list[str]]) -> Path:
        src, flags = unit
        obj = build / "obj" / (hashlib.sha1(str(src).encode()).hexdigest()[:8] + "_" + src.stem + ".o")
        cmd = [cc, *t.cflags, *CFLAGS, "--specs=picolibc.specs", *flags, "-c", str(src), "-o", str(obj)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolchainError(f"{cc} failed on {src.name} for target {t.name!r}:\n{proc.stderr.strip()}")
        return obj

    (build / "obj").mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        objects = list(pool.map(compile_one, units))
    cmd = [cc, *t.cflags, "-O2", "--specs=picolibc.specs", "-nostartfiles", f"-T{script}",
           *(f"-L{d}" for d in lib_dirs), "-Wl,--gc-sections", "-Wl,-Map," + str(elf.with_suffix(".map")),
           *map(str, objects), "-o", str(elf)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainError(f"linking firmware for target {t.name!r} failed:\n{proc.stderr.strip()}")


def _digest(paths: list[Path], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(str(p).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def build_program(sources: list[Path], target: str | Target, build: Path, include_dirs: list[Path] = (),
                  model_sources: list[Path] = (), extra_cflags: list[str] = ()) -> Path:  # fmt: skip
    """Link `sources` (+ `model_sources`, built with -pedantic too) with the board files into build/firmware.elf.

    Cached: rebuilt only when a source, a board file or a flag changed."""
    t = _target(target)
    cc = t.tool()
    build = Path(build)
    board_srcs, script, dirs = board_files(t)
    includes = [f"-I{d}" for d in [*include_dirs, *dirs]]
    units = [(s, [*includes, *extra_cflags]) for s in [*board_srcs, *sources]]
    units += [(s, [*includes, *extra_cflags, *MODEL_CFLAGS]) for s in model_sources]
    elf = build / "firmware.elf"
    stamp = build / "firmware.sha256"
    headers = sorted(p for d in [*include_dirs, *dirs] for p in Path(d).glob("*.h"))
    headers += [Path(f) for flag, f in zip(extra_cflags, extra_cflags[1:]) if flag == "-include"]
    board_all = sorted(p for p in (targets_dir() / "boards").rglob("*") if p.is_file())
    digest = _digest([s for s, _ in units] + headers + board_all, repr((t, CFLAGS, [u[1] for u in units])))
    if elf.is_file() and stamp.is_file() and stamp.read_text() == digest:
        return elf
    build.mkdir(parents=True, exist_ok=True)
    _compile_link(cc, t, units, script, dirs, build, elf)
    stamp.write_text(digest)
    return elf


def build_firmware(outdir: str | Path, target: str | Target) -> Path:
    """Firmware ELF running the model in `outdir` on the target's QEMU machine (cached in outdir/build/<target>/)."""
    t = _target(target)
    outdir = Path(outdir).resolve()
    meta = load_metadata(outdir)
    name = meta["name"]
    build = outdir / "build" / t.name
    build.mkdir(parents=True, exist_ok=True)
    runner = build / "runner.c"
    template = jinja2.Template((_TEMPLATES / "qemu_runner.c.j2").read_text(), undefined=jinja2.StrictUndefined)
    text = template.render(name=name, NAME=name.upper(), n_inputs=len(meta["inputs"]), n_outputs=len(meta["outputs"]))
    if not runner.is_file() or runner.read_text() != text:
        runner.write_text(text)
    model = [outdir / f"{name}.c", outdir / f"{name}_weights.c"]
    # a folder generated for another core carries that core's kernels: build this core's own (or the reference)
    model += [kernel_source(outdir, meta, k, t.kernels) for k in meta["kernels"]]
    hook_h = build / "mf_layer_hook.h"  # a .j2 only so that the wheel's package data carries it
    hook_text = (_TEMPLATES / "qemu_layer_hook.h.j2").read_text()
    if not hook_h.is_file() or hook_h.read_text() != hook_text:
        hook_h.write_text(hook_text)
    hook = ["-include", str(hook_h)]
    includes = [outdir, outdir / "runtime" / "include", runtime_dir() / "kernels" / t.kernels]  # + the variant's own headers
    return build_program([runner], t, build, [d for d in includes if d.is_dir()], model, extra_cflags=hook)


# ---------------------------------------------------------------------------------------------- running


@dataclass
class QemuResult:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def qemu_command(t: Target, elf: Path, plugin: list[str] | None = None) -> list[str]:
    exe = t.qemu.system
    if shutil.which(exe) is None:
        raise ToolchainError(f"{exe} not found for target {t.name!r} (apt-get install {QEMU_APT.get(exe, exe)})")
    cmd = [exe, "-M", t.qemu.machine, *(["-cpu", t.qemu.cpu] if t.qemu.cpu else [])]
    if t.arch == "riscv":
        cmd += ["-bios", "none"]
    cmd += ["-display", "none", "-monitor", "none", "-serial", "none", "-nodefaults", "-nic", "none",
            "-chardev", "stdio,id=sh0", "-semihosting-config", "enable=on,target=native,chardev=sh0",
            "-icount", ICOUNT, "-kernel", str(elf)]  # fmt: skip
    if plugin:
        cmd += ["-plugin", ",".join(plugin)]
    return cmd


def run_elf(elf: Path, target: str | Target, cwd: Path, timeout: float = 60.0, plugin: list[str] | None = None,
            check: bool = True) -> QemuResult:  # fmt: skip
    """Runs firmware under QEMU (always with a timeout). With check, a fault or a non-zero exit raises."""
    t = _target(target)
    cmd = qemu_command(t, elf, plugin)
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise MicroforgeError(
            f"QEMU timed out after {timeout:g} s on {t.name} ({t.qemu.machine}): the firmware hung or is too slow"
        ) from None
    result = QemuResult(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)
    if check and result.returncode != 0:
        console = " ".join(line.strip() for line in (proc.stdout + proc.stderr).splitlines() if line.strip())[:500]
        fault = fault_name(result.returncode)
        if fault:
            raise MicroforgeError(f"firmware faulted ({fault}) on {t.name} ({t.qemu.machine}): {console}")
        what = EXIT_IO.get(result.returncode, "QEMU or the firmware failed")
        raise MicroforgeError(f"QEMU run on {t.name} exited {result.returncode}: {what}: {console}")
    return result


def plugin_path() -> Path:
    """The instruction-count plugin, compiled with the host gcc into a cache dir keyed by its source hash."""
    src = _PLUGIN_SRC.read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "microforge" / "qemu-plugin"
    so = cache / f"insn_count-{hashlib.sha256(src).hexdigest()[:16]}.so"
    if so.is_file():
        return so
    if shutil.which("gcc") is None:
        raise ToolchainError("host gcc not found: needed to build the QEMU plugin (apt-get install gcc)")
    cache.mkdir(parents=True, exist_ok=True)
    tmp = so.with_suffix(f".{os.getpid()}.tmp")
    cmd = [
        "gcc",
        "-shared",
        "-fPIC",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-fvisibility=hidden",
        str(_PLUGIN_SRC),
        "-o",
        str(tmp),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainError(f"building the QEMU plugin failed:\n{proc.stderr.strip()}")
    tmp.replace(so)  # atomic: parallel runs never load a half-written file
    return so


def run_qemu(outdir: str | Path, target: str | Target, samples: list[list[np.ndarray]], profile: bool = False,
             timeout: float = 120.0) -> tuple[list[list[np.ndarray]], dict | None]:  # fmt: skip
    """Outputs for each sample (as validate.host.run_host), and with profile=True the instruction profile of
    the first inference: {"instructions", "layers": [{"index", "op", "macs", "instructions"}], "functions",
    "per_sample": [instructions of each inference], "layer_source": "hook" | "none", "seconds"}."""
    t = _target(target)
    outdir = Path(outdir).resolve()  # QEMU runs in a work folder: every path it gets must be absolute
    meta = load_metadata(outdir)
    elf = build_firmware(outdir, t)
    # in the system temp dir: QEMU splits -plugin arguments at commas, which a project path might contain
    with tempfile.TemporaryDirectory(prefix="microforge-qemu-") as tmp:
        work = Path(tmp)
        (work / "inputs.bin").write_bytes(pack_inputs(meta, samples))
        plugin, plan = None, None
        if profile:
            plan = _profile_plan(elf, t, outdir, meta)
            (work / "cfg.txt").write_text(plan.config())
            plugin = [str(plugin_path()), f"cfg={work / 'cfg.txt'}", f"out={work / 'counts.txt'}"]
        result = run_elf(elf, t, work, timeout, plugin)
        outputs = unpack_outputs(meta, (work / "outputs.bin").read_bytes(), len(samples))
        if not profile:
            return outputs, None
        prof = plan.analyse((work / "counts.txt").read_text(), meta)
    if len(prof["per_sample"]) != len(samples):
        raise MicroforgeError(f"profiler saw {len(prof['per_sample'])} inferences for {len(samples)} samples")
    prof["seconds"] = result.seconds
    return outputs, prof


# ---------------------------------------------------------------------------------------------- profiling


def _symbols(elf: Path) -> tuple[dict[str, int], list[tuple[int, int, str]]]:
    """All symbol addresses (Thumb bit cleared), and (start, end, name) of every sized function."""
    addrs: dict[str, int] = {}
    funcs: list[tuple[int, int, str]] = []
    with open(elf, "rb") as f:
        for sec in ELFFile(f).iter_sections():
            if not isinstance(sec, SymbolTableSection):
                continue
            for sym in sec.iter_symbols():
                value = sym["st_value"] & ~1
                if sym.name and not sym.name.startswith("$"):
                    addrs.setdefault(sym.name, value)
                if sym["st_info"]["type"] == "STT_FUNC" and sym["st_size"] > 0:
                    funcs.append((value, value + sym["st_size"], sym.name))
    return addrs, sorted(funcs)


_INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
_CALLEE = re.compile(r"<([A-Za-z_][\w.]*)>")


def _disassemble(elf: Path, t: Target, func: str) -> list[tuple[int, str, str]]:
    proc = subprocess.run([t.tool("objdump"), "-d", "--no-show-raw-insn", f"--disassemble={func}", str(elf)],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        raise ToolchainError(f"objdump failed on {elf}: {proc.stderr.strip()}")
    return [(int(m[1], 16), m[2], m[3]) for m in map(_INSN.match, proc.stdout.splitlines()) if m]


def _calls(insns: list[tuple[int, str, str]]) -> list[tuple[str, int]]:
    """(callee, return address) of every direct call (Arm bl/blx, RISC-V jal/jalr to ra)."""
    calls = []
    for (_, mnem, ops), (next_addr, _, _) in zip(insns, insns[1:]):
        is_call = mnem in ("bl", "blx") or (mnem in ("jal", "jalr", "call") and not ops.startswith(("zero", "x0")))
        if is_call and (m := _CALLEE.search(ops)):
            calls.append((m[1], next_addr))
    return calls


@dataclass
class _Plan:
    entry: int  # first instruction of <name>_invoke
    ret: int  # instruction after the call to it in main
    starts: dict[int, list[int]]  # watched address -> layers that start there (in order)
    first_layer: int | None  # the layer the invoke prologue is charged to
    source: str  # "hook" (MF_LAYER_BEGIN labels in the ELF) or "none"
    funcs: list[tuple[int, int, str]]

    def config(self) -> str:
        lines = [f"marker {a:x}" for a in sorted({self.entry, self.ret, *self.starts})]
        return "\n".join([*lines, f"open {self.entry:x}", f"close {self.ret:x}"]) + "\n"

    def analyse(self, log: str, meta: dict) -> dict:
        hits = [(int(p[1], 16), int(p[2])) for p in (line.split() for line in log.splitlines()) if p[0] == "hit"]
        inferences: list[tuple[int, int, list[tuple[int, int]]]] = []  # (start, end, [(layer, count)])
        current: list | None = None
        for addr, count in hits:
            if addr == self.entry:
                current = [count, None, [] if self.first_layer is None else [(self.first_layer, count)]]
            elif current is not None and addr == self.ret:
                current[1] = count
                inferences.append(tuple(current))
                current = None
            elif current is not None and addr in self.starts:
                current[2].extend((layer, count) for layer in self.starts[addr])
        if not inferences:
            raise MicroforgeError("the profiler saw no complete inference (did the firmware reach invoke?)")
        start, end, bounds = inferences[0]
        per_layer = {layer["index"]: 0 for layer in meta["layers"]}
        for (layer, begin), (_, stop) in zip(bounds, [*bounds[1:], (None, end)]):
            per_layer[layer] = per_layer.get(layer, 0) + stop - begin
        by_index = {layer["index"]: layer for layer in meta["layers"]}
        layers = [{"index": i, "op": by_index.get(i, {}).get("op"), "macs": by_index.get(i, {}).get("macs"),
                   "instructions": n} for i, n in sorted(per_layer.items())]  # fmt: skip
        functions: dict[str, int] = {}
        starts = [f[0] for f in self.funcs]
        for p in (line.split() for line in log.splitlines()):
            if p[0] == "tb":
                vaddr, n = int(p[1], 16), int(p[2]) * int(p[3])
                i = int(np.searchsorted(starts, vaddr, side="right")) - 1
                fname = self.funcs[i][2] if i >= 0 and vaddr < self.funcs[i][1] else f"?{vaddr:#x}"
                functions[fname] = functions.get(fname, 0) + n
        return {
            "instructions": end - start,
            "layers": layers if self.source != "none" else None,
            "layer_source": self.source,
            "functions": dict(sorted(functions.items(), key=lambda kv: -kv[1])),
            "per_sample": [e - s for s, e, _ in inferences],
        }


def _profile_plan(elf: Path, t: Target, outdir: Path, meta: dict) -> _Plan:
    name = meta["name"]
    addrs, funcs = _symbols(elf)
    invoke = f"{name}_invoke"
    back = [ret for callee, ret in _calls(_disassemble(elf, t, "main")) if callee == invoke]
    if invoke not in addrs or len(back) != 1:
        raise MicroforgeError(f"{elf}: cannot find {invoke} and its single call in main")
    labels = {int(k[len("mf_layer_begin_") :]): v for k, v in addrs.items() if re.fullmatch(r"mf_layer_begin_\d+", k)}
    starts: dict[int, list[int]] = {}
    if labels:  # the generated invoke has the MF_LAYER_BEGIN(i) hook
        order = sorted(labels)
        for i in order[1:]:
            starts.setdefault(labels[i], []).append(i)
        return _Plan(addrs[invoke], back[0], starts, order[0], "hook", funcs)
    # no MF_LAYER_BEGIN labels (an output folder from before the hook): totals and per-function counts only
    return _Plan(addrs[invoke], back[0], {}, None, "none", funcs)
