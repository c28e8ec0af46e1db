"""The Python API: `from_torch`, `load`, `quantize`, `compile`, `run`.

    import microforge as mf
    graph = mf.from_torch(model, example, calibration=[x1, x2, ...])   # int8 IR, TFLite spec
    mf.compile(graph, "out/model", target="stm32l4r5", emit="both")
    y = mf.run("out/model", [x_int8])                                   # host build of the generated C

Data given in PyTorch/ONNX layout (NCHW) is moved to the IR's NHWC layout for 4-D inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import MicroforgeError
from .ir import Graph


def to_ir_layout(graph: Graph, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """One sample in the IR's layout: 4-D NCHW arrays become NHWC when that matches the input's shape."""
    if len(arrays) != len(graph.inputs):
        raise MicroforgeError(f"the model has {len(graph.inputs)} input(s), got {len(arrays)} array(s) per sample")
    out = []
    for name, a in zip(graph.inputs, arrays):
        a = np.asarray(a.detach().cpu().numpy() if hasattr(a, "detach") else a)
        want = tuple(graph.tensor(name).shape)
        if a.shape != want and a.ndim == 4 and a.transpose(0, 2, 3, 1).shape == want:
            a = a.transpose(0, 2, 3, 1)
        if a.size != int(np.prod(want)):
            raise MicroforgeError(f"input {name!r}: got shape {list(a.shape)}, expected {list(want)} (NHWC) or its NCHW form")
        out.append(np.ascontiguousarray(a.reshape(want)))
    return out


def _samples(graph: Graph, calibration) -> list[list[np.ndarray]]:
    """Calibration data: a list of samples (each an array or a tuple of arrays), or one batched array."""
    if isinstance(calibration, np.ndarray) or hasattr(calibration, "detach"):
        batch = np.asarray(calibration.detach().cpu().numpy() if hasattr(calibration, "detach") else calibration)
        return [to_ir_layout(graph, [x[None]]) for x in batch]
    return [to_ir_layout(graph, s if isinstance(s, (list, tuple)) else [s]) for s in calibration]


def quantize(graph: Graph, calibration, method: str = "minmax", io: str = "int8", **options) -> Graph:
    """Post-training int8 quantization (TFLite spec) calibrated on `calibration`."""
    from .passes.quantize import quantize as _quantize

    return _quantize(graph, _samples(graph, calibration), method, io=io, **options)


def from_torch(module, example_input, calibration=None, *, name: str = "model", method: str = "minmax",
               io: str = "int8", dynamo: bool = True) -> Graph:  # fmt: skip
    """A PyTorch module as our IR: exported to ONNX in memory, imported, and with `calibration` quantized to int8."""
    from .importers.torch import import_torch

    graph = import_torch(module, example_input, name=name, dynamo=dynamo)
    return quantize(graph, calibration, method, io) if calibration is not None else graph


def load(path: str | Path, name: str | None = None) -> Graph:
    from .importers import load_model

    return load_model(path, name)


def compile(graph: Graph, outdir: str | Path, **options):  # noqa: A001 - the verb users expect
    """Generate code for `graph` (options as `pipeline.compile_graph`: target, emit, budgets, ...)."""
    from .pipeline import compile_graph

    return compile_graph(graph, outdir, **options)


def run(outdir: str | Path, sample: Sequence[np.ndarray], target: str | None = None) -> list[np.ndarray]:
    """Outputs of the generated code for one sample (host gcc, or the target's QEMU machine)."""
    from .validate.host import run_host

    if target is not None:
        from .validate.qemu import run_qemu

        return run_qemu(outdir, target, [list(sample)])[0][0]
    return run_host(outdir, [list(sample)])[0][0]
