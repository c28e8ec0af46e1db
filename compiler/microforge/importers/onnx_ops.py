"""Per-op rules of the ONNX importer: each handler maps one ONNX node over abstract values (see onnx_qdq)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx

from ..ir import QuantParams
from ..passes.calibration import TensorRange, asymmetric_qparams
from ..quant import activation_range
from .onnx_layout import NHWC_OF_NCHW, after_transpose, identity, ir_axis, map_padding
from .onnx_qdq import Act, Const, Converter, Deq, Pending, Reject, Value, attr_dict, covers, qp
from .schema import schema

Handler = Callable[[Converter, onnx.NodeProto, list[Value]], Value]
HANDLERS: dict[str, Handler] = {}


def handles(*op_types: str):
    def deco(fn: Handler) -> Handler:
        for t in op_types:
            HANDLERS[t] = fn
        return fn

    return deco


def _name(node: onnx.NodeProto) -> str:
    return node.name or node.output[0]


def _ints(cv: Converter, node: onnx.NodeProto, ins: list[Value], index: int, attr: str) -> list[int] | None:
    """An int list given as constant input `index` (newer opsets) or as attribute `attr` (older ones)."""
    if index < len(ins) and ins[index] is not None:
        return [int(v) for v in np.asarray(cv.const(ins[index], attr).data).reshape(-1)]
    value = attr_dict(node).get(attr)
    return None if value is None else [int(v) for v in value]


# ------------------------------------------------------------------ Q/DQ and structure
@handles("DequantizeLinear")
def _dq(cv, node, ins):
    return cv.dequantize(node, ins)


@handles("QuantizeLinear")
def _q(cv, node, ins):
    return cv.quantize(node, ins)


@handles("Constant")
def _constant(cv, node, ins):
    attrs = attr_dict(node)
    if "value" not in attrs:
        raise Reject("only Constant with a tensor 'value' is supported")
    return Const(onnx.numpy_helper.to_array(attrs["value"]), None, node.output[0])


@handles("Identity", "Dropout")
def _identity(cv, node, ins):
    return ins[0]


@handles("Reshape", "Flatten", "Squeeze", "Unsqueeze")
def _reshape(cv, node, ins):
    x, out_shape = ins[0], cv.shape(node.output[0])
    if isinstance(x, Const):
        if x.quant is not None and x.quant.per_channel:
            _reject_pc(x)
        return Const(np.asarray(x.data).reshape(out_shape), x.quant, x.name)
    act = x.act if isinstance(x, Deq) else x
    if not isinstance(act, Act):
        raise Reject("input is not an int8 tensor")
    in_shape = cv.shape(node.input[0])
    src = cv.as_layout(act, identity(len(in_shape)), in_shape)  # a reshape reads ONNX (row-major) order
    result = Act(cv.reshape(src, tuple(out_shape), node.output[0]), identity(len(out_shape)))
    return Deq(result) if isinstance(x, Deq) else result


def _reject_pc(x: Const):
    raise Reject(f"reshaping the per-channel constant {x.name!r} is not supported")


@handles("Transpose")
def _transpose(cv, node, ins):
    x = ins[0]
    rank = len(cv.shape(node.input[0]))
    perm = tuple(attr_dict(node).get("perm", list(reversed(range(rank)))))
    if isinstance(x, Const):
        if x.quant is not None and x.quant.per_channel:
            _reject_pc(x)
        return Const(np.transpose(x.data, perm), x.quant, x.name)
    act = x.act if isinstance(x, Deq) else x
    if not isinstance(act, Act):
        raise Reject("input is not an int8 tensor")
    moved = Act(act.name, after_transpose(act.layout, perm))  # no data moves: only the layout changes
    return Deq(moved) if isinstance(x, Deq) else moved


# ------------------------------------------------------------------ activations (folded into the producer, or standalone)
_CLIPS = {(0.0, np.inf): "RELU", (0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}


def _next_quantization(cv: Converter, name: str) -> QuantParams | None:
    """The quantization of the QuantizeLinear that is the only reader of ONNX value `name`, if it is one."""
    readers = [n for n in cv.model.graph.node if name in n.input]
    if len(readers) != 1 or readers[0].op_type != "QuantizeLinear" or cv.uses[name] != 1:
        return None
    q_node = readers[0]
    ins = [cv.values.get(i) if i else None for i in q_node.input]
    if any(v is not None and not isinstance(v, Const) for v in ins[1:]):
        return None
    try:
        q, _ = cv.qparams(ins[1], ins[2] if len(ins) > 2 else None, None, 1)
    except Reject:
        return None
    return None if q.per_channel else q


def _standalone_activation(cv: Converter, node, act: Act, activation: str) -> Pending:
    """DQ -> Relu/Clip -> Q on a tensor no producer can absorb the clamp of: an identity (requantize) when the
    output quantization clamps anyway, else the RELU / RELU6 / RELU_N1_TO_1 op."""
    shape = cv.shape(node.input[0])
    q = _next_quantization(cv, node.output[0])
    if q is not None and covers(activation, q):
        return Pending("", _name(node), [act.name], None, shape, act.layout, activation)
    if activation == "RELU6":
        if q is not None and activation_range("RELU6", q.s, q.zp, "int8")[1] >= 127:
            # 6.0 lies beyond the output's int8 range: RELU (which rescales) clamps exactly like RELU6 here
            return Pending("RELU", _name(node), [act.name], None, shape, act.layout)
        # TFLM's RELU6 clamps in the input's quantization: requantize after it when the output's differs
        return Pending("RELU6", _name(node), [act.name], None, shape, act.layout, same_as_input=True)
    return Pending(activation, _name(node), [act.name], None, shape, act.layout)


@handles("Relu", "Clip")
def _relu(cv, node, ins):
    if node.op_type == "Relu":
        activation = "RELU"
    else:
        attrs = attr_dict(node)
        lo = float(cv.const(ins[1], "min").data) if len(ins) > 1 and ins[1] is not None else attrs.get("min", -np.inf)
        hi = float(cv.const(ins[2], "max").data) if len(ins) > 2 and ins[2] is not None else attrs.get("max", np.inf)
        activation = _CLIPS.get((float(lo), float(hi)))
        if activation is None:
            raise Reject(f"Clip({lo:g}, {hi:g}) is none of RELU, RELU6, RELU_N1_TO_1")
    x = ins[0]
    if isinstance(x, Pending):
        p = cv.take_pending(node.input[0], x)
        if p.activation != "NONE":
            raise Reject("two activations in a row")
        p.consumed = False
        p.activation = activation
        return p
    return _standalone_activation(cv, node, cv.deq(x), activation)


@handles("LeakyRelu")
def _leaky_relu(cv, node, ins):
    act = cv.deq(ins[0])
    opts = schema.LeakyReluOptionsT()
    opts.alpha = float(attr_dict(node).get("alpha", 0.01))  # ONNX's default (TFLite's is 0.2)
    return Pending("LEAKY_RELU", _name(node), [act.name], opts, cv.shape(node.output[0]), act.layout)


@handles("HardSwish")
def _hard_swish(cv, node, ins):
    act = cv.deq(ins[0])
    return Pending("HARD_SWISH", _name(node), [act.name], None, cv.shape(node.output[0]), act.layout)


@handles("PRelu")
def _prelu(cv, node, ins):
    act, slope = cv.deq(ins[0]), cv.const(ins[1], "slope")
    shape = cv.shape(node.input[0])
    rank = len(shape)
    data = np.asarray(slope.data)
    if data.ndim > rank:
        raise Reject(f"slope of rank {data.ndim} for a rank-{rank} input")
    q = slope.quant
    if q is not None and not q.per_channel and data.dtype == np.int8:
        values, alpha_q = data, q
    else:  # float slope, or per-channel / uint8: one int8 scale (TFLM's PRELU reads a single alpha scale)
        real = data.astype(np.float64)
        if q is not None:
            zp, sc = q.zero_point, q.scale
            if q.per_channel:
                bshape = [1] * data.ndim
                bshape[q.axis] = -1
                zp, sc = zp.reshape(bshape), sc.reshape(bshape)
            real = (data.astype(np.float64) - zp) * sc
        scale, zp = asymmetric_qparams(TensorRange.of(float(real.min(initial=0.0)), float(real.max(initial=0.0))))
        scale = scale if scale > 0 else 1.0
        values = np.clip(np.rint(real / scale) + zp, -128, 127).astype(np.int8)
        alpha_q = qp(scale, zp)
    values = values.reshape((1,) * (rank - data.ndim) + data.shape)
    alpha = cv.add_const(f"{_name(node)}/alpha", np.ascontiguousarray(np.transpose(values, act.layout)), alpha_q)
    return Pending("PRELU", _name(node), [act.name, alpha], None, cv.shape(node.output[0]), act.layout)


# ------------------------------------------------------------------ convolution / fully connected
@handles("Conv")
def _conv(cv, node, ins):
    a = attr_dict(node)
    act, wc = cv.deq(ins[0]), cv.const(ins[1], "weights")
    in_shape, out_shape = cv.shape(node.input[0]), cv.shape(node.output[0])
    if len(in_shape) != 4 or wc.data.ndim != 4:
        raise Reject("only 2-D convolutions (NCHW input) are supported")
    o, i_per_group, kh, kw = wc.data.shape
    group, channels = int(a.get("group", 1)), in_shape[1]
    strides, dil = tuple(a.get("strides", (1, 1))), tuple(a.get("dilations", (1, 1)))
    padding, x = _spatial_padding(cv, node, act, in_shape, (kh, kw), strides, dil, allow_pad_op=True)
    if group == 1:
        op, opts = "CONV_2D", schema.Conv2DOptionsT()
        w, wscale = cv.weights_tensor(f"{_name(node)}/filter", wc, np.transpose(wc.data, (0, 2, 3, 1)), {0: 0})
    elif group == channels and i_per_group == 1:
        op, opts = "DEPTHWISE_CONV_2D", schema.DepthwiseConv2DOptionsT()
        opts.depthMultiplier = o // channels
        w, wscale = cv.weights_tensor(f"{_name(node)}/filter", wc, np.transpose(wc.data, (1, 2, 3, 0)), {0: 3})
    else:
        raise Reject(f"grouped convolution (group={group}, {channels} input channels) is not supported")
    opts.padding = getattr(schema.Padding, padding)
    opts.strideH, opts.strideW = int(strides[0]), int(strides[1])
    opts.dilationHFactor, opts.dilationWFactor = int(dil[0]), int(dil[1])
    in_scale = cv.quant_of(x).s
    bias = None
    if len(ins) > 2 and ins[2] is not None:
        bias = cv.bias_tensor(f"{_name(node)}/bias", cv.const(ins[2], "bias"), in_scale, wscale, o)
    return Pending(op, _name(node), [x, w, bias], opts, out_shape, NHWC_OF_NCHW, fuses_activation=True,
                   bias_for=None if bias else (in_scale, wscale, o))


def _spatial_padding(cv, node, act, in_shape, k, strides, dil, allow_pad_op: bool) -> tuple[str, str]:
    """(TFLite padding name, NHWC input tensor); explicit pads TFLite cannot express become a PAD node."""
    a = attr_dict(node)
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    x = cv.as_layout(act, NHWC_OF_NCHW, in_shape)
    hw = (in_shape[2], in_shape[3])
    if auto == "VALID":
        return "VALID", x
    if auto == "SAME_UPPER":
        return "SAME", x
    pads = list(a.get("pads", [0, 0, 0, 0]))
    if auto == "SAME_LOWER":
        raise Reject("auto_pad SAME_LOWER is not supported (TFLite SAME pads the odd pixel after)")
    mapped = map_padding(pads, hw, k, strides, dil)
    if mapped is not None:
        return mapped, x
    if not allow_pad_op or min(pads) < 0:
        raise Reject(f"pads {pads} are neither TFLite SAME nor VALID")
    # Zero padding in real values is the input zero point: an explicit PAD, then a VALID window.
    paddings = np.array([[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]], np.int32)
    shape = cv.graph.tensor(x).shape
    out = cv.add_act(f"{_name(node)}/pad", (shape[0], shape[1] + pads[0] + pads[2], shape[2] + pads[1] + pads[3], shape[3]),
                     cv.quant_of(x))
    cv.add_node("PAD", out, [x, cv.add_const(f"{out}/paddings", paddings)], [out], schema.PadOptionsT())
    return "VALID", out


def _fc(cv, node, ins, act: Act, wc: Const, w_kn: np.ndarray, axis_map: dict[int, int], bias: Const | None) -> Pending:
    in_shape, out_shape = cv.shape(node.input[0]), cv.shape(node.output[0])
    x = cv.as_layout(act, identity(len(in_shape)), in_shape)
    n = w_kn.shape[1]
    w, wscale = cv.weights_tensor(f"{_name(node)}/weights", wc, np.ascontiguousarray(w_kn.T), axis_map)
    in_scale = cv.quant_of(x).s
    b = cv.bias_tensor(f"{_name(node)}/bias", bias, in_scale, wscale, n) if bias is not None else None
    opts = schema.FullyConnectedOptionsT()
    opts.keepNumDims = len(out_shape) != 2
    return Pending("FULLY_CONNECTED", _name(node), [x, w, b], opts, out_shape, identity(len(out_shape)),
                   fuses_activation=True, bias_for=None if b else (in_scale, wscale, n))


@handles("MatMul")
def _matmul(cv, node, ins):
    act = cv.deq(ins[0])
    if not isinstance(ins[1], Const):
        raise Reject("MatMul of two activations (BATCH_MATMUL) is not supported")
    wc = ins[1]
    if wc.data.ndim != 2:
        raise Reject("MatMul weights must be 2-D")
    return _fc(cv, node, ins, act, wc, wc.data, {1: 0}, None)


@handles("Gemm")
def _gemm(cv, node, ins):
    a = attr_dict(node)
    if a.get("transA", 0) or float(a.get("alpha", 1.0)) != 1.0 or float(a.get("beta", 1.0)) != 1.0:
        raise Reject("Gemm with transA or alpha/beta != 1 is not supported")
    act, wc = cv.deq(ins[0]), cv.const(ins[1], "weights")
    trans_b = int(a.get("transB", 0))
    w_kn = wc.data.T if trans_b else wc.data
    bias = cv.const(ins[2], "bias") if len(ins) > 2 and ins[2] is not None else None
    return _fc(cv, node, ins, act, wc, w_kn, {0: 0} if trans_b else {1: 0}, bias)


# ------------------------------------------------------------------ elementwise
@handles("Add", "Mul")
def _binary(cv, node, ins):
    a, b = ins[0], ins[1]
    if node.op_type == "Add":  # Add of a constant to a bias-less Conv/FC: fold it as the bias
        for p, c in ((a, b), (b, a)):
            if isinstance(p, Pending) and isinstance(c, Const) and p.bias_for is not None and p.activation == "NONE":
                src = node.input[0] if p is a else node.input[1]
                p = cv.take_pending(src, p)
                in_scale, wscale, n = p.bias_for
                if np.asarray(c.data).size not in (1, n):
                    break
                p.inputs[2] = cv.bias_tensor(f"{p.name}/bias", c, in_scale, wscale, n)
                p.bias_for, p.consumed = None, False
                return p
    out_shape = cv.shape(node.output[0])
    rank = len(out_shape)
    acts = [v.act for v in (a, b) if isinstance(v, Deq)]
    if not acts:
        raise Reject("needs at least one dequantized int8 input")
    same_rank = all(len(cv.shape(i)) == rank for i, v in zip(node.input, (a, b)) if isinstance(v, Deq))
    layout = acts[0].layout if same_rank else identity(rank)
    names = []
    for i, v in zip(node.input, (a, b)):
        if isinstance(v, Deq):
            names.append(cv.as_layout(v.act, layout if same_rank else identity(len(cv.shape(i))), cv.shape(i)))
        elif isinstance(v, Const) and v.quant is not None and not v.quant.per_channel and v.data.dtype == np.int8:
            data = np.asarray(v.data).reshape((1,) * (rank - v.data.ndim) + v.data.shape)
            names.append(cv.add_const(v.name, np.ascontiguousarray(np.transpose(data, layout)), v.quant))
        else:
            raise Reject("operands must be dequantized int8 tensors or per-tensor int8 constants")
    opts = schema.AddOptionsT() if node.op_type == "Add" else schema.MulOptionsT()
    return Pending(node.op_type.upper(), _name(node), names, opts, out_shape, layout, fuses_activation=True)


def _fixed_out(op: str) -> object:
    """Output quantization TFLM's int8 kernel requires (the importer requantizes after it otherwise)."""
    return {"SOFTMAX": qp(1 / 256, -128), "LOGISTIC": qp(1 / 256, -128), "TANH": qp(1 / 128, 0)}[op]


@handles("Sigmoid", "Tanh")
def _unary_fixed(cv, node, ins):
    act = cv.deq(ins[0])
    op = "LOGISTIC" if node.op_type == "Sigmoid" else "TANH"
    return Pending(op, _name(node), [act.name], None, cv.shape(node.output[0]), act.layout, fixed_out=_fixed_out(op))


@handles("Softmax")
def _softmax(cv, node, ins):
    act, shape = cv.deq(ins[0]), cv.shape(node.input[0])
    rank = len(shape)
    axis = int(attr_dict(node).get("axis", -1 if cv.opset >= 13 else 1)) % rank
    # Before opset 13 Softmax flattens from `axis` on: the same as last-axis softmax only when axis is last.
    if axis != rank - 1 and not all(d == 1 for d in shape[axis + 1:]):
        raise Reject(f"softmax over axis {axis} of a rank-{rank} tensor (only the last axis is supported)")
    layout = act.layout if ir_axis(act.layout, axis) == rank - 1 else identity(rank)
    x = cv.as_layout(act, layout, shape)
    opts = schema.SoftmaxOptionsT()
    opts.beta = 1.0
    return Pending("SOFTMAX", _name(node), [x], opts, cv.shape(node.output[0]), layout, fixed_out=_fixed_out("SOFTMAX"))


# ------------------------------------------------------------------ pooling / reductions / shape ops
@handles("MaxPool", "AveragePool")
def _pool(cv, node, ins):
    a = attr_dict(node)
    act, in_shape, out_shape = cv.deq(ins[0]), cv.shape(node.input[0]), cv.shape(node.output[0])
    if len(in_shape) != 4:
        raise Reject("only 2-D pooling (NCHW input) is supported")
    k = tuple(a["kernel_shape"])
    strides = tuple(a.get("strides", (1, 1)))
    if any(d != 1 for d in a.get("dilations", (1, 1))) or a.get("storage_order", 0):
        raise Reject("pool dilation / storage_order are not supported")
    padding, x = _spatial_padding(cv, node, act, in_shape, k, strides, (1, 1), allow_pad_op=False)
    if node.op_type == "AveragePool" and a.get("count_include_pad", 0) and padding == "SAME" and any(a.get("pads", [])):
        raise Reject("AveragePool with count_include_pad=1 and padding (TFLite excludes the padding)")
    if a.get("ceil_mode", 0):  # fine only when ceil gives the floor-mode size TFLite computes
        for i in (0, 1):
            floor_size = (in_shape[2 + i] + sum(a.get("pads", [0] * 4)[i::2]) - k[i]) // strides[i] + 1
            if floor_size != out_shape[2 + i]:
                raise Reject("ceil_mode=1 changes the output size; TFLite pools use floor")
    opts = schema.Pool2DOptionsT()
    opts.padding = getattr(schema.Padding, padding)
    opts.strideH, opts.strideW, opts.filterHeight, opts.filterWidth = strides[0], strides[1], k[0], k[1]
    op = "MAX_POOL_2D" if node.op_type == "MaxPool" else "AVERAGE_POOL_2D"
    return Pending(op, _name(node), [x], opts, out_shape, NHWC_OF_NCHW, fuses_activation=True, same_as_input=True)


@handles("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(cv, node, ins):
    act, in_shape = cv.deq(ins[0]), cv.shape(node.input[0])
    if len(in_shape) != 4:
        raise Reject("only NCHW (rank-4) global pooling is supported")
    x = cv.as_layout(act, NHWC_OF_NCHW, in_shape)
    out_shape = cv.shape(node.output[0])
    if node.op_type == "GlobalAveragePool":
        opts = schema.ReducerOptionsT()
        opts.keepDims = True
        axes = cv.add_const(f"{_name(node)}/axes", np.array([1, 2], np.int32))
        return Pending("MEAN", _name(node), [x, axes], opts, out_shape, NHWC_OF_NCHW)
    opts = schema.Pool2DOptionsT()
    opts.padding = schema.Padding.VALID
    opts.strideH = opts.strideW = 1
    opts.filterHeight, opts.filterWidth = in_shape[2], in_shape[3]
    return Pending("MAX_POOL_2D", _name(node), [x], opts, out_shape, NHWC_OF_NCHW, fuses_activation=True,
                   same_as_input=True)


@handles("ReduceMean")
def _mean(cv, node, ins):
    act, in_shape = cv.deq(ins[0]), cv.shape(node.input[0])
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
    return Pending("MEAN", _name(node), names, opts, cv.shape(node.output[0]), layout)


@handles("Concat")
def _concat(cv, node, ins):
    acts = [cv.deq(v) for v in ins]
    shapes = [cv.shape(i) for i in node.input]
    layout = acts[0].layout
    names = [cv.as_layout(act, layout, s) for act, s in zip(acts, shapes)]
    opts = schema.ConcatenationOptionsT()
    opts.axis = ir_axis(layout, int(attr_dict(node)["axis"]))
    return Pending("CONCATENATION", _name(node), names, opts, cv.shape(node.output[0]), layout,
                   fuses_activation=True, requant_inputs=True)


@handles("Pad")
def _pad(cv, node, ins):
    a = attr_dict(node)
    mode = a.get("mode", b"constant")
    if (mode.decode() if isinstance(mode, bytes) else mode) != "constant":
        raise Reject(f"Pad mode {mode!r}; only constant is supported")
    if len(ins) > 3 and ins[3] is not None:
        raise Reject("Pad with an 'axes' input is not supported")
    act, shape = cv.deq(ins[0]), cv.shape(node.input[0])
    rank = len(shape)
    pads = _ints(cv, node, ins, 1, "pads") or [0] * (2 * rank)
    value = cv.const(ins[2], "constant_value") if len(ins) > 2 and ins[2] is not None else None
    if value is not None:
        real = np.asarray(value.data, np.float64)
        if value.quant is not None:
            real = (real - value.quant.zero_point) * value.quant.scale
        if np.any(real != 0):
            raise Reject("Pad with a nonzero constant_value is not supported (TFLite pads with the zero point)")
    if min(pads) < 0:
        raise Reject("negative pads (cropping) are not supported")
    paddings = np.array([[pads[onnx_axis], pads[onnx_axis + rank]] for onnx_axis in act.layout], np.int32)
    names = [act.name, cv.add_const(f"{_name(node)}/paddings", paddings)]
    return Pending("PAD", _name(node), names, schema.PadOptionsT(), cv.shape(node.output[0]), act.layout,
                   same_as_input=True)


SUPPORTED = frozenset(HANDLERS)
