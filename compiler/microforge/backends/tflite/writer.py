"""IR -> .tflite flatbuffer (schema object API). Each op says how it is written (`OpDef.to_tflite`).

What the writer adds on top of the ops' own export, so TFLM and LiteRT both load the file:
- operator code versions as TFLite's converter writes them (`versions.py`);
- an all-zero int32 bias for DEPTHWISE_CONV_2D nodes without one (TFLM dereferences the bias);
- constant buffers 16-byte aligned (the schema's `force_align: 16`, which the Python object API
  ignores): kernels read int32 bias and float weights in place, and unaligned loads fault on
  Cortex-M0 and are slow elsewhere;
- identical constant buffers stored once; activations share the empty buffer 0;
- tensor names reduced to printable ASCII and made unique;
- per-channel quantization of a rank-1 tensor written on axis 0 (LiteRT rejects other axes);
- a `serving_default` signature (LiteRT's signature runner keys inputs/outputs by its names).
"""

from __future__ import annotations

import re

import flatbuffers
import numpy as np

from ... import __version__, ops
from ...errors import UnsupportedModelError
from ...importers.schema import schema
from ...ir import Graph, Node, QuantParams, Tensor
from .versions import converter_version

_TYPE_CODES = {
    "float32": schema.TensorType.FLOAT32,
    "int32": schema.TensorType.INT32,
    "uint8": schema.TensorType.UINT8,
    "int64": schema.TensorType.INT64,
    "bool": schema.TensorType.BOOL,
    "int16": schema.TensorType.INT16,
    "int8": schema.TensorType.INT8,
}

BUFFER_ALIGN = 16
_NAME_MAX = 96


class _AlignedBufferT(schema.BufferT):
    """A Buffer whose data vector starts on a BUFFER_ALIGN boundary of the finished file."""

    def Pack(self, builder):  # noqa: N802 (flatbuffers' object-API name)
        offset = None
        if self.data is not None:
            raw = bytes(self.data)
            builder.StartVector(1, len(raw), BUFFER_ALIGN)
            builder.head -= len(raw)
            builder.Bytes[builder.head : builder.head + len(raw)] = raw
            offset = builder.EndVector()
        schema.BufferStart(builder)
        if offset is not None:
            schema.BufferAddData(builder, offset)
        return schema.BufferEnd(builder)


def tensor_names(names: list[str]) -> dict[str, str]:
    """IR tensor name -> the name written to the file: printable ASCII, bounded length, unique."""
    result: dict[str, str] = {}
    seen: set[str] = set()
    for name in names:
        base = re.sub(r"[^0-9A-Za-z_.:/;+-]+", "_", name).strip("_")[:_NAME_MAX] or "tensor"
        cand, k = base, 1
        while cand in seen:
            cand, k = f"{base}_{k}", k + 1
        seen.add(cand)
        result[name] = cand
    return result


def _signature_name(name: str, seen: set[str]) -> str:
    """A Python-identifier-like key for the signature (LiteRT passes them as keyword arguments)."""
    base = re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_") or "t"
    if base[0].isdigit():
        base = "t_" + base
    cand, k = base, 1
    while cand in seen:
        cand, k = f"{base}_{k}", k + 1
    seen.add(cand)
    return cand


def _quantization(t: Tensor) -> schema.QuantizationParametersT:
    q = schema.QuantizationParametersT()
    q.scale = t.quant.scale.astype(np.float32).tolist()
    q.zeroPoint = t.quant.zero_point.astype(np.int64).tolist()
    axis = int(t.quant.axis or 0) if t.quant.per_channel else 0
    if t.quant.per_channel and len(t.shape) == 1:
        axis = 0  # a bias: some files (person_detect) say 3, copied from the filter
    q.quantizedDimension = axis
    return q


def _zero_bias(graph: Graph, node: Node, name: str) -> Tensor:
    """int32 zeros with scale input_scale * filter_scale per channel (float zeros for float graphs)."""
    x, w = graph.inp(node, 0), graph.inp(node, 1)
    channels = int(w.shape[-1])
    if w.quant is None or x.quant is None:
        return Tensor(name, (channels,), "float32", None, np.zeros(channels, np.float32))
    wscale = np.broadcast_to(w.quant.scale.astype(np.float64), (channels,))
    scale = (np.float64(np.float32(x.quant.s)) * wscale).astype(np.float32)
    quant = QuantParams(scale, np.zeros(channels, np.int64), 0 if channels > 1 else None)
    return Tensor(name, (channels,), "int32", quant, np.zeros(channels, np.int32))


def _with_bias(graph: Graph) -> Graph:
    """A shallow copy of `graph` where every DEPTHWISE_CONV_2D has a bias input (TFLM needs one)."""
    missing = [n for n in graph.nodes if n.op == "DEPTHWISE_CONV_2D" and graph.inp(n, 2) is None]
    if not missing:
        return graph
    g = Graph(
        name=graph.name,
        tensors=dict(graph.tensors),
        nodes=list(graph.nodes),
        inputs=list(graph.inputs),
        outputs=list(graph.outputs),
    )
    for node in missing:
        name = f"{node.name}/zero_bias"
        while name in g.tensors:
            name += "_"
        g.add_tensor(_zero_bias(graph, node, name))
        inputs = list(node.inputs[:2]) + [name] + list(node.inputs[3:])
        g.nodes[g.nodes.index(node)] = Node(node.op, node.name, inputs, list(node.outputs), node.attrs)
    return g


def write_tflite(graph: Graph, description: str | None = None) -> bytes:
    """The graph as a .tflite flatbuffer (schema version 3) that TFLM and LiteRT load."""
    graph = _with_bias(graph)
    exports, problems = [], []
    for node in graph.nodes:
        try:
            exports.append(ops.get(node.op).to_tflite(node, graph))
        except NotImplementedError:
            problems.append((node.name, node.op))
    if problems:
        raise UnsupportedModelError.for_nodes(f"{graph.name} (TFLite export)", problems)

    model = schema.ModelT()
    model.version = 3
    model.description = (description or f"microforge {__version__}").encode()
    model.buffers = [_AlignedBufferT()]  # buffer 0: the conventional empty buffer, shared by all activations
    sg = schema.SubGraphT()
    sg.name = b"main"
    sg.tensors = []
    index: dict[str, int] = {}
    by_content: dict[bytes, int] = {}

    used = list(
        dict.fromkeys(
            graph.inputs + [n for node in graph.nodes for n in node.inputs + node.outputs if n] + graph.outputs
        )
    )
    written = tensor_names(used)
    variables = set(graph.variables())
    for name in used:
        t = graph.tensor(name)
        buffer_index = 0
        if t.is_const:
            raw = np.ascontiguousarray(t.data.astype(t.data.dtype.newbyteorder("<"))).tobytes()
            if raw not in by_content:
                b = _AlignedBufferT()
                b.data = raw
                model.buffers.append(b)
                by_content[raw] = len(model.buffers) - 1
            buffer_index = by_content[raw]
        tt = schema.TensorT()
        tt.name = written[name].encode()
        tt.shape = np.asarray(t.shape, dtype=np.int32)
        tt.type = _TYPE_CODES[t.dtype]
        tt.buffer = buffer_index
        tt.isVariable = name in variables
        if t.quant is not None:
            tt.quantization = _quantization(t)
        index[name] = len(sg.tensors)
        sg.tensors.append(tt)

    codes: dict[tuple[int, int], int] = {}
    model.operatorCodes = []
    sg.operators = []
    for node, out in zip(graph.nodes, exports):
        code = int(getattr(schema.BuiltinOperator, out.builtin))
        version = converter_version(out.builtin, node, graph, out.version)
        key = (code, version)
        if key not in codes:
            oc = schema.OperatorCodeT()
            oc.builtinCode = code
            # Codes past 127 live in builtinCode only; the deprecated byte holds the placeholder 127.
            oc.deprecatedBuiltinCode = min(code, 127)
            oc.version = version
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
    model.signatureDefs = [_signature(graph, index, written)]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _signature(graph: Graph, index: dict[str, int], written: dict[str, str]) -> schema.SignatureDefT:
    sig = schema.SignatureDefT()
    sig.signatureKey = "serving_default"
    sig.subgraphIndex = 0
    seen: set[str] = set()
    sig.inputs, sig.outputs = [], []
    for names, maps in ((graph.inputs, sig.inputs), (graph.outputs, sig.outputs)):
        for n in names:
            m = schema.TensorMapT()
            m.name = _signature_name(written[n], seen)
            m.tensorIndex = index[n]
            maps.append(m)
    return sig
