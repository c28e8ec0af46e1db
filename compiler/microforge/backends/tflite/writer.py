"""IR -> .tflite flatbuffer (schema object API). Each op says how it is written (`OpDef.to_tflite`)."""

from __future__ import annotations

import flatbuffers
import numpy as np

from ... import ops
from ...importers.schema import schema
from ...ir import Graph

_TYPE_CODES = {
    "float32": schema.TensorType.FLOAT32,
    "int32": schema.TensorType.INT32,
    "uint8": schema.TensorType.UINT8,
    "int64": schema.TensorType.INT64,
    "bool": schema.TensorType.BOOL,
    "int16": schema.TensorType.INT16,
    "int8": schema.TensorType.INT8,
}


def _tensor(graph: Graph, name: str, buffer_index: int):
    t = graph.tensor(name)
    tt = schema.TensorT()
    tt.name = name.encode()
    tt.shape = np.asarray(t.shape, dtype=np.int32)
    tt.type = _TYPE_CODES[t.dtype]
    tt.buffer = buffer_index
    if t.quant is not None:
        q = schema.QuantizationParametersT()
        q.scale = t.quant.scale.astype(np.float32).tolist()
        q.zeroPoint = t.quant.zero_point.astype(np.int64).tolist()
        q.quantizedDimension = int(t.quant.axis or 0)
        tt.quantization = q
    return tt


def write_tflite(graph: Graph) -> bytes:
    model = schema.ModelT()
    model.version = 3
    model.description = b"microforge"
    model.buffers = [schema.BufferT()]  # buffer 0 is the conventional empty buffer
    sg = schema.SubGraphT()
    sg.name = b"main"
    sg.tensors = []
    index: dict[str, int] = {}

    used = list(dict.fromkeys(graph.inputs + [n for node in graph.nodes for n in node.inputs + node.outputs if n] + graph.outputs))
    for name in used:
        t = graph.tensor(name)
        buffer_index = 0
        if t.is_const:
            b = schema.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(t.data.astype(t.data.dtype.newbyteorder("<"))).tobytes(), dtype=np.uint8)
            model.buffers.append(b)
            buffer_index = len(model.buffers) - 1
        else:
            model.buffers.append(schema.BufferT())
            buffer_index = len(model.buffers) - 1
        index[name] = len(sg.tensors)
        sg.tensors.append(_tensor(graph, name, buffer_index))

    codes: dict[tuple[int, int], int] = {}
    model.operatorCodes = []
    sg.operators = []
    for node in graph.nodes:
        out = ops.get(node.op).to_tflite(node, graph)
        code = int(getattr(schema.BuiltinOperator, out.builtin))
        key = (code, out.version)
        if key not in codes:
            oc = schema.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, 127)
            oc.version = out.version
            codes[key] = len(model.operatorCodes)
            model.operatorCodes.append(oc)
        op = schema.OperatorT()
        op.opcodeIndex = codes[key]
        op.inputs = [index[n] if n is not None else -1 for n in node.inputs]
        op.outputs = [index[n] for n in node.outputs]
        if out.options_type is not None:
            op.builtinOptionsType = int(getattr(schema.BuiltinOptions, out.options_type))
            op.builtinOptions = out.options
        sg.operators.append(op)

    sg.inputs = [index[n] for n in graph.inputs]
    sg.outputs = [index[n] for n in graph.outputs]
    model.subgraphs = [sg]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
