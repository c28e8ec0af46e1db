"""Model importers. `load_model` picks one by file content, not by suffix alone."""

from __future__ import annotations

from pathlib import Path

from ..errors import ModelFormatError
from ..ir import Graph


def load_model(path: str | Path, name: str | None = None) -> Graph:
    path = Path(path)
    if not path.is_file():
        raise ModelFormatError(f"{path}: no such file")
    head = path.read_bytes()[:8]
    if head[4:8] == b"TFL3":
        from .tflite import import_tflite

        return import_tflite(path, name)
    if path.suffix.lower() == ".onnx" or head[:1] == b"\x08":  # ONNX ModelProto starts with ir_version (field 1)
        from .onnx import import_onnx

        return import_onnx(path, name)
    raise ModelFormatError(f"{path}: not a model file we can read (expected a .tflite flatbuffer or an ONNX model)")
