"""Per-op rules of the float ONNX importer: each handler maps one ONNX node to float32 IR nodes (see onnx_float)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx

from .onnx_float import FloatConverter, FValue, Permuted, row_permutation
from .onnx_layout import NHWC_OF_NCHW, after_transpose, identity, ir_axis, map_padding, permute, same_memory_order
from .onnx_ops import _ints
from .onnx_qdq import Act, Const, Reject, attr_dict
from .schema import schema

Handler = Callable[[FloatConverter, onnx.NodeProto, list[FValue]], FValue]
HANDLERS: dict[str, Handler] = {}

# IR ops whose fused activation the float kernels apply (TFLite float kernels do for these).
_FUSES = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "MUL", "AVERAGE_POOL_2D", "MAX_POOL_2D")
_CLIPS = {(0.0, np.inf): "RELU", (0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}
_NONNEGATIVE = ("RELU", "RELU6")


def handles(*op_types: str):
    def deco(fn: Handler) -> Handler:
        for t in op_types:
            HANDLERS[t] = fn
        return fn

    return deco


def _name(node: onnx.NodeProto) -> str:
    return node.name or node.output[0]


def _f32(c: Const) -> np.ndarray:
    return np.asarray(c.data, np.float32)


def _opt_const(cv: FloatConverter, ins: list[FValue], i: int, what: str) -> Const | None:
    return cv.const(ins[i], what) if len(ins) > i and ins[i] is not None else None


# ------------------------------------------------------------------ structure
@handles("Identity", "Dropout")
def _identity(cv, node, ins):
    if node.op_type == "Dropout" and len(ins) > 2 and ins[2] is not None and np.any(cv.const(ins[2], "mode").data):
        raise Reject("Dropout in training mode")
    return ins[0]


@handles("Cast")
def _cast(cv, node, ins):
    if attr_dict(node).get("to") != onnx.TensorProto.FLOAT:
        raise Reject("Cast of an activation to a type other than float32")
    return ins[0]  # float32 -> float32 (exporters leave such casts in)


@handles("Transpose")
def _transpose(cv, node, ins):
    act = cv.plain(ins[0])
    rank = len(cv.shape(node.input[0]))
    perm = tuple(attr_dict(node).get("perm", list(reversed(range(rank)))))
    return Act(act.name, after_transpose(act.layout, perm))  # no data moves: only the layout changes


@handles("Reshape", "Flatten", "Squeeze", "Unsqueeze")
def _reshape(cv, node, ins):
    x, in_shape, out_shape = ins[0], cv.shape(node.input[0]), tuple(cv.shape(node.output[0]))
    out_name = node.output[0]
    if isinstance(x, Permuted):  # both sides are flat-index views: the permutation carries over
        return Permuted(Act(cv.reshape(x.act.name, out_shape, out_name), identity(len(out_shape))), x.perm)
    act = cv.plain(x)
    ident = identity(len(in_shape))
    if _fc_writes_nhwc(cv, act, in_shape, out_shape):
        return Act(cv.reshape(act.name, permute(out_shape, NHWC_OF_NCHW), out_name), NHWC_OF_NCHW)
    if same_memory_order(in_shape, act.layout, ident):
        src = cv.as_layout(act, ident, in_shape)
        return Act(cv.reshape(src, out_shape, out_name), identity(len(out_shape)))
    layout = _unit_axes_layout(in_shape, out_shape, act.layout)
    if layout is not None:  # only size-1 axes come or go: keep the stored order
        return Act(cv.reshape(act.name, permute(out_shape, layout), out_name), layout)
    # A real NHWC map read in NCHW (row-major) order: keep the bytes, remember the element order.
    perm = np.arange(int(np.prod(in_shape))).reshape(in_shape).transpose(act.layout).ravel()
    return Permuted(Act(cv.reshape(act.name, out_shape, out_name), identity(len(out_shape))), perm)


def _fc_writes_nhwc(cv, act: Act, in_shape, out_shape) -> bool:
    """Linear -> view(1, C, H, W): permute the FC's output rows so that it writes the map NHWC (no transpose)."""
    if len(out_shape) != 4 or out_shape[0] != 1 or len(in_shape) != 2 or act.layout != identity(2):
        return False
    if same_memory_order(out_shape, identity(4), NHWC_OF_NCHW):
        return False  # already the same bytes
    fc = cv.owned(act)
    if fc is None or fc.op != "FULLY_CONNECTED" or in_shape[1] != int(np.prod(out_shape)):
        return False
    rows = np.arange(in_shape[1]).reshape(out_shape[1:]).transpose(1, 2, 0).ravel()  # NHWC position -> NCHW row
    cv.replace_const(fc, 1, cv.graph.tensor(fc.inputs[1]).data[rows], f"{fc.name}/weights")
    if cv.graph.inp(fc, 2) is not None:
        cv.replace_const(fc, 2, cv.graph.tensor(fc.inputs[2]).data[rows], f"{fc.name}/bias")
    return True


def _unit_axes_layout(in_shape, out_shape, layout) -> tuple[int, ...] | None:
    """Layout of the output when a reshape only inserts/removes size-1 axes; None otherwise."""
    big_in = [a for a in range(len(in_shape)) if in_shape[a] != 1]
    big_out = [a for a in range(len(out_shape)) if out_shape[a] != 1]
    if [in_shape[a] for a in big_in] != [out_shape[a] for a in big_out]:
        return None
    to_out = dict(zip(big_in, big_out))
    units = [a for a in range(len(out_shape)) if out_shape[a] == 1]
    return tuple(units + [to_out[a] for a in layout if a in to_out])


# ------------------------------------------------------------------ activations
def _activation_of(cv, node, ins) -> str:
    if node.op_type == "Relu":
        return "RELU"
    attrs = attr_dict(node)
    lo_c, hi_c = _opt_const(cv, ins, 1, "min"), _opt_const(cv, ins, 2, "max")
    lo = float(lo_c.data) if lo_c is not None else float(attrs.get("min", -np.inf))
    hi = float(hi_c.data) if hi_c is not None else float(attrs.get("max", np.inf))
    activation = _CLIPS.get((lo, hi))
    if activation is None:
        raise Reject(f"Clip({lo:g}, {hi:g}) is none of RELU, RELU6, RELU_N1_TO_1")
    return activation


def _apply_activation(cv: FloatConverter, act: Act, activation: str, node: onnx.NodeProto) -> Act:
    """Fuse into the producer when it has an activation slot and nobody else reads it; else a standalone op."""
    producer = cv.owned(act)
    if producer is not None and producer.op in _FUSES and producer.attrs.activation == "NONE":
        producer.attrs.activation = activation
        cv.rename(act.name, node.output[0])
        return act
    # A standalone RELU / RELU6 / RELU_N1_TO_1 (the IR op names equal the fused activation names).
    return Act(cv.emit(activation, node.output[0], [act.name], cv.graph.tensor(act.name).shape), act.layout)


@handles("Relu", "Clip")
def _relu(cv, node, ins):
    activation = _activation_of(cv, node, ins)
    x = ins[0]
    if isinstance(x, Permuted):  # elementwise: the order does not matter
        return Permuted(_apply_activation(cv, x.act, activation, node), x.perm)
    return _apply_activation(cv, cv.settle(x), activation, node)


def _elementwise(cv, node, x: FValue, op: str, inputs_after: list[str | None], options=None) -> FValue:
    """A one-activation elementwise IR op on `x` (its element order does not matter)."""
    act = x.act if isinstance(x, Permuted) else cv.settle(x)
    out = Act(cv.emit(op, node.output[0], [act.name, *inputs_after], cv.graph.tensor(act.name).shape, options),
              act.layout)
    return Permuted(out, x.perm) if isinstance(x, Permuted) else out


@handles("LeakyRelu")
def _leaky_relu(cv, node, ins):
    opts = schema.LeakyReluOptionsT()
    opts.alpha = float(attr_dict(node).get("alpha", 0.01))  # ONNX's default (TFLite's is 0.2)
    return _elementwise(cv, node, ins[0], "LEAKY_RELU", [], opts)


@handles("HardSwish")
def _hard_swish(cv, node, ins):
    return _elementwise(cv, node, ins[0], "HARD_SWISH", [])


@handles("PRelu")
def _prelu(cv, node, ins):
    x, slope = ins[0], _f32(cv.const(ins[1], "slope"))
    if slope.size == 1:  # one slope: elementwise whatever the element order
        alpha = cv.add_const(f"{_name(node)}/alpha", slope.reshape(1))
        return _elementwise(cv, node, x, "PRELU", [alpha])
    act = cv.settle(x)  # the slope broadcasts along ONNX axes: the input needs its real layout
    alpha = cv.const_in_layout(f"{_name(node)}/alpha", slope, len(cv.shape(node.input[0])), act.layout)
    return _elementwise(cv, node, act, "PRELU", [alpha])


@handles("Sigmoid", "Tanh")
def _unary(cv, node, ins):
    x = ins[0]
    act = x.act if isinstance(x, Permuted) else cv.settle(x)
    op = "LOGISTIC" if node.op_type == "Sigmoid" else "TANH"
    out = Act(cv.emit(op, node.output[0], [act.name], cv.graph.tensor(act.name).shape), act.layout)
    return Permuted(out, x.perm) if isinstance(x, Permuted) else out


@handles("Softmax")
def _softmax(cv, node, ins):
    x, shape = ins[0], cv.shape(node.input[0])
    rank = len(shape)
    axis = int(attr_dict(node).get("axis", -1 if cv.opset >= 13 else 1)) % rank
    # Before opset 13 Softmax flattens from `axis` on: the same as last-axis softmax only when axis is last.
    if axis != rank - 1 and not all(d == 1 for d in shape[axis + 1:]):
        raise Reject(f"softmax over axis {axis} of a rank-{rank} tensor (only the last axis is supported)")
    opts = schema.SoftmaxOptionsT()
    opts.beta = 1.0
    if isinstance(x, Permuted):  # a softmax over each row does not care how the row is ordered
        if axis != rank - 1 or row_permutation(x.perm, shape[-1]) is None:
            cv.plain(x)
        return Permuted(Act(cv.emit("SOFTMAX", node.output[0], [x.act.name], tuple(shape), opts), x.act.layout), x.perm)
    act = cv.plain(x)
    layout = act.layout if ir_axis(act.layout, axis) == rank - 1 else identity(rank)
    src = cv.as_layout(act, layout, shape)
    return Act(cv.emit("SOFTMAX", node.output[0], [src], permute(shape, layout), opts), layout)


# ------------------------------------------------------------------ convolution / fully connected / batch norm
def _auto_pad(node) -> str:
    auto = attr_dict(node).get("auto_pad", b"NOTSET")
    return auto.decode() if isinstance(auto, bytes) else auto


def _window_padding(cv, node, act, in_shape, k, strides, dil, zero_pad: bool) -> tuple[str, str]:
    """(TFLite padding, NHWC input); pads TFLite cannot express become a zero PAD (rejected unless `zero_pad`)."""
    x = cv.as_layout(act, NHWC_OF_NCHW, in_shape)
    auto = _auto_pad(node)
    if auto == "VALID":
        return "VALID", x
    if auto == "SAME_UPPER":
        return "SAME", x
    if auto == "SAME_LOWER":
        raise Reject("auto_pad SAME_LOWER is not supported (TFLite SAME pads the odd pixel after)")
    pads = [int(p) for p in attr_dict(node).get("pads", [0, 0, 0, 0])]
    mapped = map_padding(pads, (in_shape[2], in_shape[3]), k, strides, dil)
    if mapped is not None:
        return mapped, x
    if not zero_pad or min(pads) < 0:
        raise Reject(f"pads {pads} are neither TFLite SAME nor VALID")
    return "VALID", _pad_node(cv, x, f"{_name(node)}/pad", pads)


def _pad_node(cv, x: str, base: str, pads: list[int]) -> str:
    """An explicit zero PAD of an NHWC tensor by ONNX spatial pads [top, left, bottom, right]."""
    n, h, w, c = cv.graph.tensor(x).shape
    paddings = cv.add_const(f"{base}/paddings", np.array([[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]], np.int32))
    return cv.emit("PAD", base, [x, paddings], (n, h + pads[0] + pads[2], w + pads[1] + pads[3], c), schema.PadOptionsT())


@handles("Conv")
def _conv(cv, node, ins):
    a = attr_dict(node)
    act, w = cv.plain(ins[0]), _f32(cv.const(ins[1], "weights"))
    in_shape, out_shape = cv.shape(node.input[0]), cv.shape(node.output[0])
    if len(in_shape) != 4 or w.ndim != 4:
        raise Reject("only 2-D convolutions (NCHW input) are supported")
    o, i_per_group, kh, kw = w.shape
    group, channels = int(a.get("group", 1)), in_shape[1]
    strides, dil = tuple(a.get("strides", (1, 1))), tuple(a.get("dilations", (1, 1)))
    if group == 1:
        op, opts, filt = "CONV_2D", schema.Conv2DOptionsT(), np.transpose(w, (0, 2, 3, 1))  # OIHW -> OHWI
    elif group == channels and i_per_group == 1:
        op, opts, filt = "DEPTHWISE_CONV_2D", schema.DepthwiseConv2DOptionsT(), np.transpose(w, (1, 2, 3, 0))
        opts.depthMultiplier = o // channels  # OIHW (I = 1) -> 1HW(C*M)
    else:
        raise Reject(f"grouped convolution (group={group}, {channels} input channels) is not supported")
    padding, x = _window_padding(cv, node, act, in_shape, (kh, kw), strides, dil, True)
    opts.padding = getattr(schema.Padding, padding)
    opts.strideH, opts.strideW = int(strides[0]), int(strides[1])
    opts.dilationHFactor, opts.dilationWFactor = int(dil[0]), int(dil[1])
    b = _opt_const(cv, ins, 2, "bias")
    bias = cv.add_const(f"{_name(node)}/bias", _f32(b).reshape(o)) if b is not None else None
    wname = cv.add_const(f"{_name(node)}/filter", np.ascontiguousarray(filt))
    out = cv.emit(op, node.output[0], [x, wname, bias], permute(out_shape, NHWC_OF_NCHW), opts)
    return Act(out, NHWC_OF_NCHW)


def _fc(cv, node, x: FValue, w_kn: np.ndarray, bias: np.ndarray | None) -> Act:
    """FULLY_CONNECTED y = x @ w_kn + bias over the last axis of x."""
    in_shape, out_shape = cv.shape(node.input[0]), cv.shape(node.output[0])
    if len(in_shape) < 2:
        raise Reject("a rank-1 MatMul input is not supported")
    k = in_shape[-1]
    if isinstance(x, Permuted):
        cols = row_permutation(x.perm, k)
        if cols is None:
            cv.plain(x)
        src, w_kn = x.act.name, w_kn[cols]  # the IR input holds column cols[j] at j: permute the weights alike
    else:
        src = cv.as_layout(cv.plain(x), identity(len(in_shape)), in_shape)
    n = w_kn.shape[1]
    opts = schema.FullyConnectedOptionsT()
    opts.keepNumDims = len(out_shape) != 2
    wname = cv.add_const(f"{_name(node)}/weights", np.ascontiguousarray(w_kn.T, np.float32))
    bname = None if bias is None else cv.add_const(f"{_name(node)}/bias", np.broadcast_to(bias, (n,)).astype(np.float32))
    return Act(cv.emit("FULLY_CONNECTED", node.output[0], [src, wname, bname], tuple(out_shape), opts),
               identity(len(out_shape)))


@handles("MatMul")
def _matmul(cv, node, ins):
    if not isinstance(ins[1], Const):
        raise Reject("MatMul of two activations (BATCH_MATMUL) is not supported")
    w = _f32(ins[1])
    if w.ndim != 2:
        raise Reject("MatMul weights must be 2-D")
    return _fc(cv, node, ins[0], w, None)


@handles("Gemm")
def _gemm(cv, node, ins):
    a = attr_dict(node)
    if a.get("transA", 0):
        raise Reject("Gemm with transA is not supported")
    w = _f32(cv.const(ins[1], "weights"))
    w_kn = (w.T if a.get("transB", 0) else w) * np.float32(a.get("alpha", 1.0))
    c = _opt_const(cv, ins, 2, "C")
    bias = None
    if c is not None:
        data = _f32(c) * np.float32(a.get("beta", 1.0))
        if data.size not in (1, w_kn.shape[1]) or (data.ndim == 2 and data.shape[0] != 1):
            raise Reject(f"Gemm C of shape {list(data.shape)} is not a bias vector")
        bias = data.reshape(-1)
    return _fc(cv, node, ins[0], w_kn, bias)


def _channel_vector(data: np.ndarray, out_shape: tuple[int, ...], axis: int) -> np.ndarray | None:
    """The per-channel vector a broadcast constant is, when it varies along `axis` only."""
    data = np.asarray(data, np.float32)
    if data.ndim > len(out_shape):
        return None
    full = np.broadcast_to(data.reshape((1,) * (len(out_shape) - data.ndim) + data.shape), out_shape)
    vec = np.moveaxis(full, axis, -1).reshape(-1, out_shape[axis])
    return vec[0] if np.all(vec == vec[:1]) else None


def _channel_axis(node) -> int:
    """The output-channel axis of an IR node's ONNX output."""
    return 1 if node.op in ("CONV_2D", "DEPTHWISE_CONV_2D") else -1


def _foldable_producer(cv, x: FValue):
    """The Conv/FC writing `x` when a per-output-channel affine map may fold into its weights and bias."""
    if not isinstance(x, Act):
        return None
    node = cv.owned(x)
    if node is None or node.op not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        return None
    return node if node.attrs.activation == "NONE" else None


def _fold_affine(cv, node, scale: np.ndarray | None, shift: np.ndarray, onnx_name: str, x: Act) -> Act:
    """Rewrite Conv/FC `node` to compute scale * y + shift (per output channel)."""
    w = cv.graph.tensor(node.inputs[1]).data.astype(np.float32)
    b_t = cv.graph.inp(node, 2)
    channels = w.shape[-1] if node.op == "DEPTHWISE_CONV_2D" else w.shape[0]
    bias = b_t.data.astype(np.float64) if b_t is not None else np.zeros(channels)
    if scale is not None:
        s = scale.astype(np.float64)
        shape = (1, 1, 1, -1) if node.op == "DEPTHWISE_CONV_2D" else (-1,) + (1,) * (w.ndim - 1)
        cv.replace_const(node, 1, w.astype(np.float64) * s.reshape(shape), f"{node.name}/filter")
        bias = bias * s
    bias = bias + np.broadcast_to(shift.astype(np.float64), (channels,))
    if len(node.inputs) < 3:
        node.inputs.append(None)
    cv.replace_const(node, 2, bias, f"{node.name}/bias")
    cv.rename(x.name, onnx_name)
    return x


@handles("BatchNormalization")
def _batch_norm(cv, node, ins):
    a = attr_dict(node)
    if a.get("training_mode", 0):
        raise Reject("BatchNormalization in training mode")
    gamma, beta, mean, var = (_f32(cv.const(v, "statistics")).astype(np.float64) for v in ins[1:5])
    scale = gamma / np.sqrt(var + float(a.get("epsilon", 1e-5)))
    shift = beta - mean * scale
    x, shape = ins[0], cv.shape(node.input[0])
    target = _foldable_producer(cv, x)
    if target is not None and target.op == "FULLY_CONNECTED" and len(shape) != 2:
        target = None  # BatchNorm1d over [N, C, L] normalizes axis 1, not the FC's output axis
    if target is not None:
        return _fold_affine(cv, target, scale, shift, node.output[0], x)
    # Standalone (e.g. after an Add): MUL then ADD by per-channel constants along ONNX axis 1.
    act = cv.settle(x)
    rank, ir_shape = len(shape), cv.graph.tensor(act.name).shape
    per_channel = [1] * rank
    per_channel[1] = shape[1]
    s = cv.const_in_layout(f"{_name(node)}/scale", scale.reshape(per_channel), rank, act.layout)
    t = cv.const_in_layout(f"{_name(node)}/shift", shift.reshape(per_channel), rank, act.layout)
    mid = cv.emit("MUL", f"{node.output[0]}/scaled", [act.name, s], ir_shape, schema.MulOptionsT())
    return Act(cv.emit("ADD", node.output[0], [mid, t], ir_shape, schema.AddOptionsT()), act.layout)


# ------------------------------------------------------------------ elementwise
@handles("Add", "Sub", "Mul", "Div")
def _binary(cv, node, ins):
    op_type, (a, b) = node.op_type, ins[:2]
    out_shape = tuple(cv.shape(node.output[0]))
    if isinstance(a, Const) and op_type in ("Add", "Mul"):
        a, b = b, a
    if isinstance(a, Const):
        raise Reject(f"{op_type} of a constant by an activation needs an op microforge does not have")
    if isinstance(b, Const):  # x - c = x + (-c); x / c = x * (1 / c) (within float rounding)
        c = _f32(b)
        if op_type == "Sub":
            c, op_type = -c, "Add"
        elif op_type == "Div":
            c, op_type = (np.float32(1.0) / c).astype(np.float32), "Mul"
        if op_type == "Add":
            target = _foldable_producer(cv, a)
            vec = _channel_vector(c, out_shape, _channel_axis(target) % len(out_shape)) if target else None
            if vec is not None:  # a bias Add after a Conv/MatMul
                return _fold_affine(cv, target, None, vec, node.output[0], a)
        b = Const(c, None, node.input[1])
    elif op_type in ("Sub", "Div"):
        raise Reject(f"{op_type} of two activations is not supported (no SUB/DIV op)")
    op, rank = op_type.upper(), len(out_shape)
    shapes = {id(v): cv.shape(i) for i, v in zip(node.input, ins)}
    acts = [v for v in (a, b) if not isinstance(v, Const)]
    for v in acts:
        cv.settle(v)  # a Permuted operand would need its partner in the same element order
    same_rank = all(len(shapes[id(v)]) == rank for v in acts)
    layout = acts[0].layout if same_rank else identity(rank)
    names = []
    for v in (a, b):
        if isinstance(v, Const):
            names.append(cv.const_in_layout(f"{_name(node)}/{v.name}", v.data, rank, layout))
        else:
            names.append(cv.as_layout(v, layout if same_rank else identity(len(shapes[id(v)])), shapes[id(v)]))
    opts = schema.AddOptionsT() if op == "ADD" else schema.MulOptionsT()
    return Act(cv.emit(op, node.output[0], names, permute(out_shape, layout), opts), layout)


# ------------------------------------------------------------------ pooling / reductions / shape ops
@handles("MaxPool", "AveragePool")
def _pool(cv, node, ins):
    a = attr_dict(node)
    act, in_shape, out_shape = cv.plain(ins[0]), cv.shape(node.input[0]), cv.shape(node.output[0])
    if len(in_shape) != 4:
        raise Reject("only 2-D pooling (NCHW input) is supported")
    k = tuple(int(v) for v in a["kernel_shape"])
    strides = tuple(int(v) for v in a.get("strides", (1, 1)))
    if any(d != 1 for d in a.get("dilations", (1, 1))) or a.get("storage_order", 0):
        raise Reject("pool dilation / storage_order are not supported")
    pads = [int(p) for p in a.get("pads", [0, 0, 0, 0])]
    if node.op_type == "AveragePool" and a.get("count_include_pad", 0) and any(pads):
        # TFLite averages over the real pixels only; ONNX counts the zeros here: pad them explicitly.
        if _auto_pad(node) != "NOTSET" or min(pads) < 0:
            raise Reject("AveragePool with count_include_pad=1 needs explicit non-negative pads")
        padding = "VALID"
        x = _pad_node(cv, cv.as_layout(act, NHWC_OF_NCHW, in_shape), f"{_name(node)}/pad", pads)
    elif node.op_type == "AveragePool":
        padding, x = _window_padding(cv, node, act, in_shape, k, strides, (1, 1), False)
    else:
        # TFLite SAME ignores padded pixels like ONNX's -inf padding; other pads need a PAD, and zero padding
        # gives the same max only for non-negative inputs (a window always holds a real pixel).
        producer = cv.made_by.get(act.name)
        nonneg = producer is not None and (
            producer.op in _NONNEGATIVE or getattr(producer.attrs, "activation", "NONE") in _NONNEGATIVE
        )
        try:
            padding, x = _window_padding(cv, node, act, in_shape, k, strides, (1, 1), nonneg)
        except Reject as exc:
            raise Reject(f"{exc}; MaxPool is zero-padded only after a ReLU (the input may be negative here)") from None
    if a.get("ceil_mode", 0):  # fine only when ceil gives the floor-mode size TFLite computes
        for i in (0, 1):
            floor_size = (in_shape[2 + i] + pads[i] + pads[i + 2] - k[i]) // strides[i] + 1
            if floor_size != out_shape[2 + i]:
                raise Reject("ceil_mode=1 changes the output size; TFLite pools use floor")
    opts = schema.Pool2DOptionsT()
    opts.padding = getattr(schema.Padding, padding)
    opts.strideH, opts.strideW, opts.filterHeight, opts.filterWidth = strides[0], strides[1], k[0], k[1]
    op = "MAX_POOL_2D" if node.op_type == "MaxPool" else "AVERAGE_POOL_2D"
    return Act(cv.emit(op, node.output[0], [x], permute(out_shape, NHWC_OF_NCHW), opts), NHWC_OF_NCHW)


@handles("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(cv, node, ins):
    act, in_shape = cv.plain(ins[0]), cv.shape(node.input[0])
    if len(in_shape) != 4:
        raise Reject("only NCHW (rank-4) global pooling is supported")
    x = cv.as_layout(act, NHWC_OF_NCHW, in_shape)
    out_shape = permute(cv.shape(node.output[0]), NHWC_OF_NCHW)
    if node.op_type == "GlobalAveragePool":
        opts = schema.ReducerOptionsT()
        opts.keepDims = True
        axes = cv.add_const(f"{_name(node)}/axes", np.array([1, 2], np.int32))
        return Act(cv.emit("MEAN", node.output[0], [x, axes], out_shape, opts), NHWC_OF_NCHW)
    opts = schema.Pool2DOptionsT()
    opts.padding = schema.Padding.VALID
    opts.strideH = opts.strideW = 1
    opts.filterHeight, opts.filterWidth = in_shape[2], in_shape[3]
    return Act(cv.emit("MAX_POOL_2D", node.output[0], [x], out_shape, opts), NHWC_OF_NCHW)


@handles("ReduceMean")
def _mean(cv, node, ins):
    act, in_shape = cv.plain(ins[0]), cv.shape(node.input[0])
    rank = len(in_shape)
    axes = _ints(cv, node, ins, 1, "axes")
    if not axes:
        if attr_dict(node).get("noop_with_empty_axes", 0):
            raise Reject("ReduceMean with noop_with_empty_axes")
        axes = list(range(rank))
    axes = sorted({a % rank for a in axes})
    keep = bool(attr_dict(node).get("keepdims", 1))
    opts = schema.ReducerOptionsT()
    opts.keepDims = keep
    ir_axes = sorted(ir_axis(act.layout, a) for a in axes)
    if keep:
        layout = act.layout
    else:  # the remaining axes keep their IR order, renumbered in the output's ONNX axes
        layout = tuple(a - sum(r < a for r in axes) for a in act.layout if a not in axes)
    names = [act.name, cv.add_const(f"{_name(node)}/axes", np.asarray(ir_axes, np.int32))]
    return Act(cv.emit("MEAN", node.output[0], names, permute(cv.shape(node.output[0]), layout), opts), layout)


@handles("Concat")
def _concat(cv, node, ins):
    first = next((v for v in ins if not isinstance(v, Const)), None)
    if first is None:
        raise Reject("Concat of constants only")
    layout = cv.settle(first).layout
    rank = len(cv.shape(node.output[0]))
    names = []
    for v, i in zip(ins, node.input):
        if isinstance(v, Const):
            names.append(cv.add_const(f"{_name(node)}/{i}", np.ascontiguousarray(np.transpose(_f32(v), layout))))
        else:
            names.append(cv.as_layout(cv.plain(v), layout, cv.shape(i)))
    opts = schema.ConcatenationOptionsT()
    opts.axis = ir_axis(layout, int(attr_dict(node)["axis"]) % rank)
    return Act(cv.emit("CONCATENATION", node.output[0], names, permute(cv.shape(node.output[0]), layout), opts), layout)


@handles("Pad")
def _pad(cv, node, ins):
    a = attr_dict(node)
    mode = a.get("mode", b"constant")
    if (mode.decode() if isinstance(mode, bytes) else mode) != "constant":
        raise Reject(f"Pad mode {mode!r}; only constant is supported")
    act, shape = cv.settle(ins[0]), cv.shape(node.input[0])
    rank = len(shape)
    pads = _ints(cv, node, ins, 1, "pads") or [0] * (2 * rank)
    if len(ins) > 3 and ins[3] is not None:  # opset 18 'axes': pads for those axes only
        axes = [int(v) % rank for v in np.asarray(cv.const(ins[3], "axes").data).reshape(-1)]
        full = [0] * (2 * rank)
        for j, ax in enumerate(axes):
            full[ax], full[ax + rank] = pads[j], pads[j + len(axes)]
        pads = full
    value_c = _opt_const(cv, ins, 2, "constant_value")
    value = float(np.asarray(value_c.data).reshape(-1)[0]) if value_c is not None else float(a.get("value", 0.0))
    if min(pads) < 0:
        raise Reject("negative pads (cropping) are not supported")
    paddings = np.array([[pads[onnx_axis], pads[onnx_axis + rank]] for onnx_axis in act.layout], np.int32)
    names = [act.name, cv.add_const(f"{_name(node)}/paddings", paddings)]
    op, opts = "PAD", schema.PadOptionsT()
    if value != 0.0:
        op, opts = "PADV2", schema.PadV2OptionsT()
        names.append(cv.add_const(f"{_name(node)}/value", np.array([value], np.float32)))
    out_shape = permute(cv.shape(node.output[0]), act.layout)
    return Act(cv.emit(op, node.output[0], names, out_shape, opts), act.layout)


SUPPORTED = frozenset(HANDLERS)
