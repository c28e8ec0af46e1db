"""Shared test helpers: build one-op graphs and check reference == C == TFLM bit for bit."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from microforge.backends.c.emit import emit_c
from microforge.backends.tflite.writer import write_tflite
from microforge.ir import DTYPES, Graph, Node, QuantParams, Tensor
from microforge.reference import run_reference
from microforge.validate.host import run_host
from microforge.validate.tflm import run_tflm

ROOT = Path(__file__).resolve().parents[1]
# the read-only shared models beside the project (../shared), or where MICROFORGE_SHARED points
SHARED = Path(os.environ.get("MICROFORGE_SHARED", ROOT.parent / "shared")) / "models"


def act(name: str, shape, scale: float, zero_point: int, dtype: str = "int8") -> Tensor:
    """A quantized activation tensor."""
    return Tensor(name, tuple(shape), dtype, QuantParams([scale], [zero_point]))


def const(name: str, data: np.ndarray, scale=None, zero_point=None, axis: int | None = None) -> Tensor:
    """A constant tensor; quantized when `scale` is given (per-channel when it is an array)."""
    data = np.asarray(data)
    dtype = {np.dtype(v): k for k, v in DTYPES.items()}[data.dtype]
    quant = None
    if scale is not None:
        scale = np.atleast_1d(np.asarray(scale, dtype=np.float32))
        zp = np.zeros(scale.shape, np.int64) if zero_point is None else zero_point
        quant = QuantParams(scale, zp, axis if scale.size > 1 else None)
    return Tensor(name, tuple(data.shape), dtype, quant, data)


def one_op_graph(op: str, inputs: list[Tensor | None], outputs: list[Tensor], attrs=None, name: str = "case") -> Graph:
    g = Graph(name=name)
    for t in inputs + outputs:
        if t is not None:
            g.add_tensor(t)
    g.nodes.append(Node(op, outputs[0].name, [t.name if t is not None else None for t in inputs], [t.name for t in outputs], attrs))
    g.inputs = [t.name for t in inputs if t is not None and not t.is_const]
    g.outputs = [t.name for t in outputs]
    return g


def random_inputs(graph: Graph, rng: np.random.Generator, count: int) -> list[list[np.ndarray]]:
    samples = []
    for _ in range(count):
        sample = []
        for name in graph.inputs:
            t = graph.tensor(name)
            info = np.iinfo(DTYPES[t.dtype])
            sample.append(rng.integers(info.min, info.max, size=t.shape, endpoint=True).astype(DTYPES[t.dtype]))
        samples.append(sample)
    return samples


def run_all_three(graph: Graph, samples: list[list[np.ndarray]], outdir: Path, tflm: bool = True, sanitize: bool = False):
    """Outputs of the integer reference, our generated C (host gcc) and TFLM, per sample."""
    state: dict = {}
    ref = [run_reference(graph, s, state=state) for s in samples]
    emit_c(graph, outdir)
    ours, _ = run_host(outdir, samples, sanitize=sanitize)
    theirs = run_tflm(write_tflite(graph), samples) if tflm else None
    return ref, ours, theirs


def _bits(a: np.ndarray) -> np.ndarray:
    """Integers compared by value; floats by their raw bits (so -0.0 != 0.0 and NaNs compare)."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return a.view(np.dtype(f"i{a.dtype.itemsize}")).astype(np.int64)
    return a.astype(np.int64)


def assert_bit_exact(graph: Graph, samples, outdir: Path, tflm: bool = True, sanitize: bool = False) -> None:
    """Reference == C for every sample, and == TFLM when `tflm`. `sanitize` builds the C with ASan+UBSan."""
    ref, ours, theirs = run_all_three(graph, samples, outdir, tflm, sanitize)
    for k, (r, o) in enumerate(zip(ref, ours)):
        for i, (a, b) in enumerate(zip(r, o)):
            assert a.dtype == b.dtype and a.shape == b.shape, (k, i, a.shape, b.shape)
            diff = np.flatnonzero(_bits(a) != _bits(b))
            assert diff.size == 0, f"sample {k} output {i}: reference != C at {diff.size} positions, first {diff[:5]}"
        if theirs is not None:
            for i, (a, b) in enumerate(zip(r, theirs[k])):
                b = b.reshape(a.shape).astype(a.dtype)
                diff = np.flatnonzero(_bits(a) != _bits(b))
                assert diff.size == 0, f"sample {k} output {i}: reference != TFLM at {diff.size} positions, first {diff[:5]}"


def model_with_unsupported_ops(path: Path) -> Path:
    """hello_world_int8 with its first and last layers turned into CUMSUM (an op we do not support)."""
    import flatbuffers

    from microforge.importers.schema import schema

    buf = (SHARED / "tflite" / "hello_world_int8.tflite").read_bytes()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(buf, 0))
    oc = schema.OperatorCodeT()
    oc.builtinCode = schema.BuiltinOperator.CUMSUM
    oc.deprecatedBuiltinCode = min(schema.BuiltinOperator.CUMSUM, 127)
    oc.version = 1
    model.operatorCodes.append(oc)
    ops = model.subgraphs[0].operators
    for op in (ops[0], ops[-1]):
        op.opcodeIndex = len(model.operatorCodes) - 1
        op.builtinOptionsType, op.builtinOptions = 0, None
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    path.write_bytes(bytes(b.Output()))
    return path


def merge(graphs: list[Graph], name: str) -> Graph:
    """Independent one-op graphs side by side in one graph (tensor names prefixed per case)."""
    g = Graph(name=name)
    for i, part in enumerate(graphs):
        rename = {t: f"c{i}_{t}" for t in part.tensors}
        for t in part.tensors.values():
            g.add_tensor(dataclasses.replace(t, name=rename[t.name]))
        for node in part.nodes:
            g.nodes.append(Node(node.op, f"c{i}_{node.name}", [rename[x] if x else None for x in node.inputs],
                                [rename[x] for x in node.outputs], node.attrs))  # fmt: skip
        g.inputs += [rename[x] for x in part.inputs]
        g.outputs += [rename[x] for x in part.outputs]
    return g


def chain(graphs: list[Graph], name: str) -> Graph:
    """One-op graphs in sequence: each case's input is replaced by the previous case's output (same shape/quant);
    the bias scale follows the new input scale."""
    g = merge(graphs, name)
    for i in range(1, len(graphs)):
        prev_out, cur_in = f"c{i - 1}_{graphs[i - 1].outputs[0]}", f"c{i}_{graphs[i].inputs[0]}"
        src = g.tensor(prev_out)
        assert src.shape == g.tensor(cur_in).shape, (src.shape, g.tensor(cur_in).shape)
        del g.tensors[cur_in]
        g.inputs.remove(cur_in)
        g.outputs.remove(prev_out)
        for node in g.nodes:
            if cur_in in node.inputs:
                node.inputs = [prev_out if x == cur_in else x for x in node.inputs]
                w, b = g.tensor(node.inputs[1]), node.inputs[2] and g.tensor(node.inputs[2])
                if b:
                    scale = np.broadcast_to(w.quant.scale * src.quant.scale[0], b.quant.scale.shape)
                    b.quant = dataclasses.replace(b.quant, scale=scale.astype(np.float32))
    return g
