"""TFLite flatbuffer -> IR, read with the TFLite schema's object API."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import ops
from ..errors import ModelFormatError, UnsupportedModelError
from ..ir import Graph, Node, QuantParams, Tensor
from .schema import schema

# TensorType enum value -> IR dtype name
_TYPES = {
    schema.TensorType.FLOAT32: "float32",
    schema.TensorType.INT32: "int32",
    schema.TensorType.UINT8: "uint8",
    schema.TensorType.INT64: "int64",
    schema.TensorType.BOOL: "bool",
    schema.TensorType.INT16: "int16",
    schema.TensorType.INT8: "int8",
}
_TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
BUILTIN_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


def _parse(buf: bytes, where: str):
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ModelFormatError(f"{where}: not a TFLite flatbuffer (no 'TFL3' identifier)")
    try:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(buf, 0))
    except Exception as exc:  # flatbuffers raises struct.error/IndexError/... on corrupt data
        raise ModelFormatError(f"{where}: corrupt or truncated TFLite file ({type(exc).__name__}: {exc})") from None
    if not model.subgraphs:
        raise ModelFormatError(f"{where}: TFLite model has no subgraph")
    return model


def _builtin_name(model, opcode_index: int) -> str:
    oc = model.operatorCodes[opcode_index]
    code = max(int(oc.builtinCode), int(oc.deprecatedBuiltinCode))
    if code == schema.BuiltinOperator.CUSTOM:
        return f"CUSTOM:{(oc.customCode or b'').decode(errors='replace')}"
    return BUILTIN_NAMES.get(code, f"BUILTIN_{code}")


def _tensor(model, t, index: int, name: str, where: str) -> Tensor:
    if t.type not in _TYPES:
        raise UnsupportedModelError(f"{where}: tensor {name!r} has unsupported type {_TYPE_NAMES.get(t.type, t.type)}")
    dtype = _TYPES[t.type]
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    sig = t.shapeSignature
    if any(d < 0 for d in shape) or (sig is not None and any(d < 0 for d in list(sig)[1:])):
        raise UnsupportedModelError(f"{where}: tensor {name!r} has a dynamic shape {list(sig if sig is not None else shape)}")
    quant = None
    q = t.quantization
    if q is not None and q.scale is not None and len(q.scale) > 0:
        zp = q.zeroPoint if q.zeroPoint is not None and len(q.zeroPoint) else np.zeros(len(q.scale), np.int64)
        # some converters write the filter's channel axis on rank-1 bias tensors too: clamp it into range
        axis = min(int(q.quantizedDimension), max(len(shape) - 1, 0)) if len(q.scale) > 1 else None
        quant = QuantParams(np.asarray(q.scale), np.asarray(zp), axis)
    data = None
    buf = model.buffers[t.buffer] if t.buffer < len(model.buffers) else None
    if buf is not None and buf.data is not None and len(buf.data) > 0:
        raw = np.asarray(buf.data, dtype=np.uint8)
        expected = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        if raw.size != expected:
            raise ModelFormatError(f"{where}: tensor {name!r} holds {raw.size} bytes, its shape needs {expected}")
        data = raw.view(np.dtype(dtype)).reshape(shape).copy()
    return Tensor(name=name, shape=shape, dtype=dtype, quant=quant, data=data)


def import_tflite_bytes(buf: bytes, name: str = "model", where: str = "model") -> Graph:
    model = _parse(buf, where)
    sg = model.subgraphs[0]
    graph = Graph(name=name)

    names: list[str] = []
    seen: set[str] = set()
    for i, t in enumerate(sg.tensors):
        base = (t.name or b"").decode(errors="replace") or f"tensor_{i}"
        tname = base if base not in seen else f"{base}#{i}"
        seen.add(tname)
        names.append(tname)
        graph.add_tensor(_tensor(model, t, i, tname, where))

    unsupported: list[tuple[str, str]] = []
    pending: list[tuple[Node, object]] = []
    for k, op in enumerate(sg.operators or []):
        builtin = _builtin_name(model, op.opcodeIndex)
        inputs = [names[i] if i >= 0 else None for i in (op.inputs if op.inputs is not None else [])]
        outputs = [names[i] for i in (op.outputs if op.outputs is not None else [])]
        node_name = outputs[0] if outputs else f"op_{k}"
        opdef = ops.TFLITE_TO_OP.get(builtin)
        if opdef is None:
            unsupported.append((node_name, builtin))
            continue
        node = Node(op=opdef.op, name=node_name, inputs=inputs, outputs=outputs)
        pending.append((node, op.builtinOptions))
    if unsupported:
        raise UnsupportedModelError.for_nodes(where, unsupported)

    graph.inputs = [names[i] for i in sg.inputs]
    graph.outputs = [names[i] for i in sg.outputs]
    for node, options in pending:
        node.attrs = ops.get(node.op).from_tflite(options, node, graph)
        graph.nodes.append(node)
    return graph


def import_tflite(path: str | Path, name: str | None = None) -> Graph:
    path = Path(path)
    return import_tflite_bytes(path.read_bytes(), name=name or path.stem, where=str(path))
