"""PyTorch front end: export to ONNX in memory (weights inside, no sidecar), then the ONNX importer."""

from __future__ import annotations

import io
import logging
import tempfile
import warnings
from pathlib import Path

from ..errors import MicroforgeError
from ..ir import Graph


def export_onnx_bytes(module, example_input, dynamo: bool = True, opset: int = 18) -> bytes:
    """The module as a self-contained ONNX model (eval mode, fixed shapes from `example_input`)."""
    import torch

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # e.g. "torchvision is not installed" notices
    module = module.eval()
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if dynamo:
                program = torch.onnx.export(module, args, dynamo=True, external_data=False, verbose=False)
                return program.model_proto.SerializeToString()
            buf = io.BytesIO()
            torch.onnx.export(module, args, buf, dynamo=False, opset_version=opset)
            return buf.getvalue()
        except Exception as exc:  # torch raises many types; the user needs the message, not our traceback
            raise MicroforgeError(f"torch.onnx.export failed: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None


def import_torch(module, example_input, name: str = "model", dynamo: bool = True) -> Graph:
    """Float IR of a PyTorch module."""
    from . import load_model

    data = export_onnx_bytes(module, example_input, dynamo=dynamo)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.onnx"
        path.write_bytes(data)
        return load_model(path, name)
