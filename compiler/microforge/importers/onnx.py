"""ONNX model -> IR: QDQ models to int8 IR (the same IR the TFLite importer produces), float models to float32 IR.

A model with QuantizeLinear/DequantizeLinear nodes or int8/uint8 inputs takes the QDQ path; any other
model is a float model (see onnx_float: constant folding, BatchNormalization/bias folding, activation
fusion, NCHW -> NHWC once). Accepted QDQ models: QDQ graphs (QuantizeLinear/DequantizeLinear around float ops) as tf2onnx writes them
from int8 .tflite files and as onnxruntime's `quantize_static` (QDQ format) writes them.
Each DequantizeLinear -> op -> QuantizeLinear group becomes one int8 IR node (see onnx_qdq).

Graph inputs and outputs of the IR are int8: a float input's QuantizeLinear and an output's
DequantizeLinear are not part of the generated code. Users feed int8 data quantized with the
input's scale/zero point (in metadata.json and <model>.h) and dequantize the int8 outputs.
uint8 activations are imported as int8 with the zero point moved by -128 (same real values).
Layout: NCHW is converted to NHWC once, here; constants are transposed to TFLite layouts.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from ..errors import ModelFormatError, UnsupportedModelError
from ..ir import Graph
from .onnx_float import FloatConverter, fold_constants, foldable_values
from .onnx_float_ops import HANDLERS as FLOAT_HANDLERS
from .onnx_float_ops import SUPPORTED as FLOAT_SUPPORTED
from .onnx_ops import HANDLERS, SUPPORTED
from .onnx_qdq import Converter

_DOMAINS = ("", "ai.onnx")


def _parse(path: Path) -> onnx.ModelProto:
    try:
        model = onnx.load_model_from_string(path.read_bytes())
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise ModelFormatError(f"{path}: corrupt or truncated ONNX file ({type(exc).__name__})") from None
    g = model.graph
    if not model.opset_import or not g.node or not g.output:
        raise ModelFormatError(f"{path}: corrupt or truncated ONNX file (no graph, nodes or outputs)")
    # A protobuf cut at a field boundary parses; what it lost shows up as dangling names.
    known = {i.name for i in g.input} | {i.name for i in g.initializer} | {""}
    for node in g.node:
        for name in node.input:
            if name not in known:
                raise ModelFormatError(f"{path}: corrupt or truncated ONNX file (node {node.name!r} reads "
                                       f"undefined tensor {name!r})")
        known.update(node.output)
    for out in g.output:
        if out.name not in known:
            raise ModelFormatError(f"{path}: corrupt or truncated ONNX file (output {out.name!r} is never produced)")
    return model


def _opset(model: onnx.ModelProto) -> int:
    return max((o.version for o in model.opset_import if o.domain in _DOMAINS), default=0)


def _check_ops(model: onnx.ModelProto, where: str, float_model: bool = False) -> None:
    """Every unsupported node, in one message, before anything else happens."""
    supported, computable = (FLOAT_SUPPORTED, foldable_values(model)) if float_model else (SUPPORTED, set())
    bad = [f"{n.name or n.output[0]!r} ({(n.domain + '.') if n.domain not in _DOMAINS else ''}{n.op_type})"
           for n in model.graph.node
           if n.domain not in _DOMAINS or (n.op_type not in supported and not all(o in computable for o in n.output))]
    if bad:
        raise UnsupportedModelError(f"{where}: {len(bad)} unsupported ONNX node(s): " + ", ".join(bad))


def _fix_batch(model: onnx.ModelProto, where: str) -> None:
    """A symbolic batch dimension (the only symbolic one of an input) is taken as 1."""
    inits = {i.name for i in model.graph.initializer}
    for inp in model.graph.input:
        if inp.name in inits:
            continue
        dims = inp.type.tensor_type.shape.dim
        symbolic = [i for i, d in enumerate(dims) if not d.HasField("dim_value")]
        if symbolic and symbolic != [0]:
            raise UnsupportedModelError(f"{where}: input {inp.name!r} has dynamic dimensions "
                                        f"{[d.dim_param or '?' for d in dims]}; only a dynamic batch is supported")
        if symbolic:
            dims[0].Clear()
            dims[0].dim_value = 1
    for out in model.graph.output:  # re-inferred from the now static inputs
        out.type.tensor_type.ClearField("shape")
    del model.graph.value_info[:]


def _shapes(model: onnx.ModelProto, where: str) -> dict[str, tuple[int, ...]]:
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:  # onnx raises InferenceError / ValidationError with a long text
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFormatError(f"{where}: ONNX shape inference failed: {first}") from None
    g = inferred.graph
    shapes: dict[str, tuple[int, ...]] = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        t = vi.type.tensor_type
        if t.HasField("shape") and all(d.HasField("dim_value") for d in t.shape.dim):
            shapes[vi.name] = tuple(int(d.dim_value) for d in t.shape.dim)
    for init in g.initializer:
        shapes[init.name] = tuple(int(d) for d in init.dims)
    return shapes


def is_float_model(model: onnx.ModelProto) -> bool:
    """No Q/DQ nodes and no 8-bit inputs: a float model."""
    qdq = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"}
    if any(n.op_type in qdq or n.op_type.startswith("QLinear") for n in model.graph.node):
        return False
    eight_bit = (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)
    return not any(i.type.tensor_type.elem_type in eight_bit for i in model.graph.input)


def import_onnx(path: str | Path, name: str | None = None) -> Graph:
    path = Path(path)
    where = str(path)
    model = _parse(path)
    float_model = is_float_model(model)
    _check_ops(model, where, float_model)
    _fix_batch(model, where)
    shapes = _shapes(model, where)
    graph, opset = Graph(name=name or path.name.split(".")[0]), _opset(model)
    if not float_model:
        return Converter(model, shapes, where, graph, opset=opset).run(HANDLERS)
    model, failed = fold_constants(model, shapes, opset)
    shapes = _shapes(model, where)  # again: shapes computed from folded values are static now
    converter = FloatConverter(model, shapes, where, graph, opset=opset)
    converter.run_float(FLOAT_HANDLERS, failed)
    return graph
