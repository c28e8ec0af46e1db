"""Where the C runtime and target profiles live: inside the wheel, or in the source tree."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_HERE / "_data" / name, _HERE.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"microforge data folder {name!r} not found (broken install?)")


def runtime_dir() -> Path:
    return _find("runtime_c")


def targets_dir() -> Path:
    return _find("targets")
