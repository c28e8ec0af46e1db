"""Target profiles (targets/<name>.toml): what chip, how to build for it, how to run it, what it costs."""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass, field

from .errors import MicroforgeError, ToolchainError
from .resources import targets_dir


@dataclass(frozen=True)
class MemoryRegion:
    name: str  # e.g. "flash", "sram", "dtcm", "psram"
    kind: str  # "flash" (read-only, holds code and weights) or "ram"
    size: int  # bytes
    base: int | None = None


@dataclass(frozen=True)
class QemuConfig:
    machine: str  # e.g. "mps2-an386"
    system: str  # "qemu-system-arm" or "qemu-system-riscv32"
    board: str  # folder under targets/boards/ with startup code and linker script
    cpu: str | None = None  # -cpu, when the machine's default is not the core we want


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    core: str  # e.g. "cortex-m4", "rv32imc", "xtensa-lx7", "host"
    arch: str  # "arm", "riscv", "xtensa", "host"
    clock_hz: int
    toolchain: str | None  # C compiler executable; None when Debian has none (Xtensa)
    toolchain_apt: str | None  # the apt package that provides it
    cflags: tuple[str, ...]
    kernels: str  # kernel variant: "reference", "arm_dsp", "arm_mve", "riscv"
    memory: tuple[MemoryRegion, ...]
    qemu: QemuConfig | None
    cycles_per_instruction: float  # cost model: cycles ≈ instructions × this (an estimate)
    sources: tuple[str, ...] = field(default=())  # where the figures come from
    arena_region: str | None = None  # default RAM region for the arena (else the largest; e.g. not PSRAM)
    # cost model (plan/cost.py): {kernel variant: {op or "op/<in>_<out>" or "*": {feature: instructions per unit}}}
    cost_coefficients: dict[str, dict[str, dict[str, float]]] = field(
        default_factory=dict, hash=False, compare=False, repr=False
    )
    cost_measured: bool = False  # coefficients fitted to QEMU counts on this core (False: derived, an estimate)
    cost_basis: str = ""  # where the coefficients come from

    def tool(self, suffix: str = "gcc") -> str:
        """The toolchain executable (`suffix` "gcc", "objdump", ...), or a ToolchainError naming the apt package."""
        if not self.toolchain:
            raise ToolchainError(f"target {self.name!r} ({self.core}) has no C toolchain on this system (Debian ships none)")
        exe = self.toolchain[: -len("gcc")] + suffix if self.toolchain.endswith("gcc") else self.toolchain
        if shutil.which(exe) is None:
            raise ToolchainError(f"{exe} not found for target {self.name!r} (apt-get install {self.toolchain_apt})")
        return exe

    @property
    def flash_bytes(self) -> int:
        return sum(r.size for r in self.memory if r.kind == "flash")

    @property
    def ram_bytes(self) -> int:
        """The largest single RAM region (the arena must fit in one region)."""
        return max((r.size for r in self.memory if r.kind == "ram"), default=0)


def _cost_fields(cost: dict) -> dict:
    """[cost] sub-tables are kernel variants: [cost.<variant>.<op>] feature = coefficient."""
    tables = {
        variant: {op: {k: float(v) for k, v in coeffs.items()} for op, coeffs in ops_.items()}
        for variant, ops_ in cost.items()
        if isinstance(ops_, dict)
    }
    return dict(cost_coefficients=tables, cost_measured=bool(cost.get("measured", False)),
                cost_basis=str(cost.get("basis", "")))  # fmt: skip


def available_targets() -> list[str]:
    return sorted(p.stem for p in targets_dir().glob("*.toml"))


def load_target(name: str) -> Target:
    path = targets_dir() / f"{name}.toml"
    if not path.is_file():
        raise MicroforgeError(f"unknown target {name!r}; available: {', '.join(available_targets())}")
    try:
        d = tomllib.loads(path.read_text())
        qemu = d.get("qemu")
        return Target(
            name=name,
            description=d["description"],
            core=d["core"],
            arch=d["arch"],
            clock_hz=int(d["clock_hz"]),
            toolchain=d.get("toolchain"),
            toolchain_apt=d.get("toolchain_apt"),
            cflags=tuple(d.get("cflags", [])),
            kernels=d.get("kernels", "reference"),
            memory=tuple(MemoryRegion(name=k, **v) for k, v in d.get("memory", {}).items()),
            qemu=QemuConfig(**qemu) if qemu else None,
            cycles_per_instruction=float(d.get("cost", {}).get("cycles_per_instruction", 1.0)),
            sources=tuple(d.get("sources", [])),
            arena_region=d.get("arena_region"),
            **_cost_fields(d.get("cost", {})),
        )
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise MicroforgeError(f"{path}: invalid target profile ({type(exc).__name__}: {exc})") from None
