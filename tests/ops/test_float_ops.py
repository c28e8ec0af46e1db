"""float32 path of every op: float reference == generated C == TFLM's float kernels == onnxruntime, within 1e-5.

The error of a tensor is max |a - b| / max |reference| (relative to the tensor's largest value). Each
case builds a one-op float graph; the memory planner overlaps the output with a dying input wherever
the op's `inplace_reads` allows, so a kernel that reads or writes in another order fails here.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from microforge.analysis import summarize
from microforge.ir import Tensor
from microforge.ops._conv_util import out_size, pad_before
from microforge.ops.add import AddAttrs
from microforge.ops.concatenation import ConcatenationAttrs
from microforge.ops.conv2d import Conv2DAttrs
from microforge.ops.depthwise_conv2d import DepthwiseConv2DAttrs
from microforge.ops.fully_connected import FullyConnectedAttrs
from microforge.ops.mean import MeanAttrs
from microforge.ops.mul import MulAttrs
from microforge.ops.softmax import SoftmaxAttrs

from support import one_op_graph, run_all_three

TOL = 1e-5
ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
CLAMPS = {"NONE": None, "RELU": (0.0, None), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}
OPSET = 18

# worst relative error seen per (op, against), printed by `pytest -s` at the end of the module
ERRORS: dict[tuple[str, str], float] = {}


def fact(name: str, shape) -> Tensor:
    return Tensor(name, tuple(int(d) for d in shape), "float32")


def fconst(name: str, data) -> Tensor:
    data = np.asarray(data, dtype=np.float32)
    return Tensor(name, tuple(data.shape), "float32", None, data)


def iconst(name: str, data) -> Tensor:
    data = np.asarray(data, dtype=np.int32)
    return Tensor(name, tuple(data.shape), "int32", None, data)


def rel_err(ref: np.ndarray, other: np.ndarray) -> float:
    ref = np.asarray(ref, dtype=np.float64)
    other = np.asarray(other, dtype=np.float64).reshape(ref.shape)
    if ref.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(ref))), 1e-30)
    return float(np.max(np.abs(ref - other))) / scale


def _record(op: str, against: str, err: float) -> None:
    ERRORS[(op, against)] = max(ERRORS.get((op, against), 0.0), err)


def float_samples(graph, rng, count: int = 3, scale: float = 1.0) -> list[list[np.ndarray]]:
    return [
        [(rng.standard_normal(graph.tensor(n).shape) * scale).astype(np.float32) for n in graph.inputs]
        for _ in range(count)
    ]


def assert_close(graph, samples, outdir, tflm: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """Reference vs C and vs TFLM within TOL (relative to each output's max |value|).

    Returns (reference, C) of output 0 per sample, for the onnxruntime comparison.
    """
    op = graph.nodes[0].op
    ref, ours, theirs = run_all_three(graph, samples, outdir, tflm)
    for k, (r, o) in enumerate(zip(ref, ours)):
        for i, (a, b) in enumerate(zip(r, o)):
            assert a.dtype == np.float32 and b.dtype == np.float32 and a.shape == b.shape, (k, i, a.dtype, b.dtype)
            assert np.all(np.isfinite(a)), "reference produced non-finite values"
            err = rel_err(a, b)
            _record(op, "C", err)
            assert err <= TOL, f"sample {k} output {i}: reference vs C relative error {err:.3g}"
        if theirs is not None:
            for i, (a, b) in enumerate(zip(r, theirs[k])):
                err = rel_err(a, b)
                _record(op, "TFLM", err)
                _record(op, "C vs TFLM", rel_err(b, ours[k][i]))  # informational: same summation order
                assert err <= TOL, f"sample {k} output {i}: reference vs TFLM relative error {err:.3g}"
    return [(r[0], o[0]) for r, o in zip(ref, ours)]


def overlapped(graph) -> bool:
    """True when the planner put the output on top of a dying input (in-place)."""
    return bool(summarize(graph).plan.overlapped_pairs)


# --- onnxruntime ---------------------------------------------------------------------------------


def run_onnx(nodes, feeds: dict[str, np.ndarray], inits: dict[str, np.ndarray], out_name: str = "Y") -> np.ndarray:
    """One-output ONNX graph of `nodes`, run by onnxruntime (float32 feeds; initializers keep their dtype)."""
    graph = helper.make_graph(
        nodes,
        "case",
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape)) for k, v in feeds.items()],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, None)],
        initializer=[onnx.numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run([out_name], feeds)[0]


def activation_nodes(activation: str, src: str, dst: str = "Y") -> tuple[list, dict[str, np.ndarray]]:
    """ONNX nodes applying a fused activation (Clip/Relu) from `src` to `dst`."""
    clamp = CLAMPS[activation]
    if clamp is None:
        return [helper.make_node("Identity", [src], [dst])], {}
    if clamp[1] is None:
        return [helper.make_node("Relu", [src], [dst])], {}
    inits = {"clip_lo": np.array(clamp[0], np.float32), "clip_hi": np.array(clamp[1], np.float32)}
    return [helper.make_node("Clip", [src, "clip_lo", "clip_hi"], [dst])], inits


def check_onnx(op: str, outs: tuple[np.ndarray, np.ndarray], got: np.ndarray) -> None:
    """onnxruntime's output `got` vs our (reference, C) outputs, within TOL of the reference's scale."""
    ref, ours = outs
    err = rel_err(ref, got)
    _record(op, "onnxruntime", err)
    assert err <= TOL, f"{op}: reference vs onnxruntime relative error {err:.3g}"
    err = rel_err(got, ours)
    _record(op, "C vs onnxruntime", err)
    assert err <= TOL, f"{op}: C vs onnxruntime relative error {err:.3g}"


def onnx_pads(in_size: int, k: int, stride: int, dilation: int, out: int) -> tuple[int, int]:
    """TFLite's (before, after) padding of one spatial dim, explicit for ONNX."""
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - in_size, 0)
    before = pad_before(in_size, k, stride, dilation, out)
    return before, total - before


def nchw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def nhwc(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


# --- CONV_2D / DEPTHWISE_CONV_2D -----------------------------------------------------------------


def _spatial(rng, h, w, kh, kw, padding, sh, sw, dh, dw):
    oh, ow = out_size(padding, h, kh, sh, dh), out_size(padding, w, kw, sw, dw)
    return oh, ow


@pytest.mark.parametrize("seed", range(4))
def test_conv2d_f32(seed, tmp_path):
    rng = np.random.default_rng(seed)
    groups = 2 if seed == 3 else 1
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(3, 12)), int(rng.integers(3, 12))
    cin, cout = groups * int(rng.integers(1, 9)), groups * int(rng.integers(1, 9))
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    attrs = Conv2DAttrs(
        padding=("SAME", "VALID")[seed % 2],
        stride_h=int(rng.integers(1, 3)),
        stride_w=int(rng.integers(1, 3)),
        dilation_h=1 + (seed in (1, 3)),
        dilation_w=1 + (seed == 1),
        activation=ACTIVATIONS[seed],
    )
    oh, ow = _spatial(
        rng, h, w, kh, kw, attrs.padding, attrs.stride_h, attrs.stride_w, attrs.dilation_h, attrs.dilation_w
    )
    if min(oh, ow) < 1:
        attrs.padding, (oh, ow) = "SAME", _spatial(rng, h, w, kh, kw, "SAME", attrs.stride_h, attrs.stride_w, 1, 1)
        attrs.dilation_h = attrs.dilation_w = 1
    wt = rng.standard_normal((cout, kh, kw, cin // groups)) / np.sqrt(kh * kw * cin / groups)
    bias = rng.standard_normal(cout) if seed != 2 else None
    x, y = fact("x", (n, h, w, cin)), fact("y", (n, oh, ow, cout))
    g = one_op_graph("CONV_2D", [x, fconst("w", wt), fconst("b", bias) if bias is not None else None], [y], attrs)
    samples = float_samples(g, rng)
    ref = assert_close(g, samples, tmp_path / "out")

    # onnxruntime: NCHW Conv with explicit pads, the fused activation as Relu/Clip
    ph, pw = (
        onnx_pads(h, kh, attrs.stride_h, attrs.dilation_h, oh),
        onnx_pads(w, kw, attrs.stride_w, attrs.dilation_w, ow),
    )
    inits = {"W": np.ascontiguousarray(wt.astype(np.float32).transpose(0, 3, 1, 2))}
    ins = ["X", "W"]
    if bias is not None:
        inits["B"] = bias.astype(np.float32)
        ins.append("B")
    conv = helper.make_node(
        "Conv",
        ins,
        ["Z"],
        group=groups,
        kernel_shape=[kh, kw],
        strides=[attrs.stride_h, attrs.stride_w],
        dilations=[attrs.dilation_h, attrs.dilation_w],
        pads=[ph[0], pw[0], ph[1], pw[1]],
    )
    act_nodes, act_inits = activation_nodes(attrs.activation, "Z")
    for s, r in zip(samples, ref):
        got = run_onnx([conv] + act_nodes, {"X": nchw(s[0])}, {**inits, **act_inits})
        check_onnx("CONV_2D", r, nhwc(got))


def test_conv2d_f32_inplace(tmp_path):
    """A 1x1 conv whose output overlaps its input: the float kernel's read/write order is the int8 one's."""
    rng = np.random.default_rng(40)
    wt = rng.standard_normal((3, 1, 1, 8))
    g = one_op_graph(
        "CONV_2D", [fact("x", (1, 6, 6, 8)), fconst("w", wt), None], [fact("y", (1, 6, 6, 3))], Conv2DAttrs()
    )
    assert overlapped(g)
    assert_close(g, float_samples(g, rng), tmp_path / "out")


@pytest.mark.parametrize("seed", range(3))
def test_depthwise_conv2d_f32(seed, tmp_path):
    rng = np.random.default_rng(100 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(3, 12)), int(rng.integers(3, 12))
    c, m = int(rng.integers(1, 7)), int(rng.integers(1, 4))
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    attrs = DepthwiseConv2DAttrs(
        padding=("SAME", "VALID")[seed % 2],
        stride_h=int(rng.integers(1, 3)),
        stride_w=int(rng.integers(1, 3)),
        depth_multiplier=m,
        dilation_h=1 + (seed == 2),
        dilation_w=1 + (seed == 2),
        activation=ACTIVATIONS[seed + 1],
    )
    oh, ow = _spatial(
        rng, h, w, kh, kw, attrs.padding, attrs.stride_h, attrs.stride_w, attrs.dilation_h, attrs.dilation_w
    )
    if min(oh, ow) < 1:
        attrs.padding, (oh, ow) = "SAME", _spatial(rng, h, w, kh, kw, "SAME", attrs.stride_h, attrs.stride_w, 1, 1)
        attrs.dilation_h = attrs.dilation_w = 1
    wt = rng.standard_normal((1, kh, kw, c * m)) / np.sqrt(kh * kw)
    bias = rng.standard_normal(c * m) if seed != 1 else None
    x, y = fact("x", (n, h, w, c)), fact("y", (n, oh, ow, c * m))
    g = one_op_graph(
        "DEPTHWISE_CONV_2D", [x, fconst("w", wt), fconst("b", bias) if bias is not None else None], [y], attrs
    )
    samples = float_samples(g, rng)
    ref = assert_close(g, samples, tmp_path / "out")

    # onnxruntime: a grouped Conv with one group per input channel, weights [C*M, 1, KH, KW]
    ph, pw = (
        onnx_pads(h, kh, attrs.stride_h, attrs.dilation_h, oh),
        onnx_pads(w, kw, attrs.stride_w, attrs.dilation_w, ow),
    )
    inits = {"W": np.ascontiguousarray(wt.astype(np.float32).transpose(3, 0, 1, 2))}
    ins = ["X", "W"]
    if bias is not None:
        inits["B"] = bias.astype(np.float32)
        ins.append("B")
    conv = helper.make_node(
        "Conv",
        ins,
        ["Z"],
        group=c,
        kernel_shape=[kh, kw],
        strides=[attrs.stride_h, attrs.stride_w],
        dilations=[attrs.dilation_h, attrs.dilation_w],
        pads=[ph[0], pw[0], ph[1], pw[1]],
    )
    act_nodes, act_inits = activation_nodes(attrs.activation, "Z")
    for s, r in zip(samples, ref):
        check_onnx(
            "DEPTHWISE_CONV_2D", r, nhwc(run_onnx([conv] + act_nodes, {"X": nchw(s[0])}, {**inits, **act_inits}))
        )


def test_depthwise_conv2d_f32_inplace(tmp_path):
    rng = np.random.default_rng(41)
    attrs = DepthwiseConv2DAttrs(padding="SAME", depth_multiplier=1)
    g = one_op_graph(
        "DEPTHWISE_CONV_2D",
        [fact("x", (1, 7, 7, 5)), fconst("w", rng.standard_normal((1, 3, 3, 5))), None],
        [fact("y", (1, 7, 7, 5))],
        attrs,
    )
    assert overlapped(g)
    assert_close(g, float_samples(g, rng), tmp_path / "out")


# --- FULLY_CONNECTED -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_fully_connected_f32(seed, tmp_path):
    rng = np.random.default_rng(200 + seed)
    batches, din, dout = int(rng.integers(1, 4)), int(rng.integers(1, 300)), int(rng.integers(1, 40))
    activation = ACTIVATIONS[seed + 1]  # NONE: the in-place test
    wt = rng.standard_normal((dout, din)) / np.sqrt(din)
    bias = rng.standard_normal(dout) if seed != 1 else None
    g = one_op_graph(
        "FULLY_CONNECTED",
        [fact("x", (batches, din)), fconst("w", wt), fconst("b", bias) if bias is not None else None],
        [fact("y", (batches, dout))],
        FullyConnectedAttrs(activation),
    )
    samples = float_samples(g, rng)
    ref = assert_close(g, samples, tmp_path / "out")
    inits = {"W": wt.astype(np.float32)}
    ins = ["X", "W"]
    if bias is not None:
        inits["B"] = bias.astype(np.float32)
        ins.append("B")
    gemm = helper.make_node("Gemm", ins, ["Z"], transB=1)
    act_nodes, act_inits = activation_nodes(activation, "Z")
    for s, r in zip(samples, ref):
        check_onnx("FULLY_CONNECTED", r, run_onnx([gemm] + act_nodes, {"X": s[0]}, {**inits, **act_inits}))


def test_fully_connected_f32_inplace(tmp_path):
    rng = np.random.default_rng(42)
    g = one_op_graph(
        "FULLY_CONNECTED",
        [fact("x", (4, 32)), fconst("w", rng.standard_normal((8, 32))), None],
        [fact("y", (4, 8))],
        FullyConnectedAttrs(),
    )
    assert overlapped(g)
    assert_close(g, float_samples(g, rng), tmp_path / "out")


# --- ADD / MUL -----------------------------------------------------------------------------------

BROADCASTS = [
    ((2, 5, 4, 3), (2, 5, 4, 3)),
    ((4, 1, 6), (1, 3, 1)),
    ((7,), (1,)),
    ((2, 1, 3, 1), (1, 4, 1, 5)),
]


@pytest.mark.parametrize("op", ["ADD", "MUL"])
@pytest.mark.parametrize("case", range(len(BROADCASTS)))
def test_add_mul_f32(op, case, tmp_path):
    rng = np.random.default_rng(300 + case)
    sa, sb = BROADCASTS[case]
    activation = ACTIVATIONS[case % 4]
    out_shape = np.broadcast_shapes(sa, sb)
    attrs = AddAttrs(activation) if op == "ADD" else MulAttrs(activation)
    g = one_op_graph(op, [fact("a", sa), fact("b", sb)], [fact("y", out_shape)], attrs)
    if sa == out_shape:
        assert overlapped(g)
    samples = float_samples(g, rng, scale=2.0)
    ref = assert_close(g, samples, tmp_path / "out")
    act_nodes, act_inits = activation_nodes(activation, "Z")
    node = helper.make_node("Add" if op == "ADD" else "Mul", ["A", "B"], ["Z"])
    for s, r in zip(samples, ref):
        check_onnx(op, r, run_onnx([node] + act_nodes, {"A": s[0], "B": s[1]}, act_inits))


# --- AVERAGE_POOL_2D / MAX_POOL_2D ---------------------------------------------------------------


@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("seed", range(2))
def test_pool_f32(op, seed, tmp_path):
    from microforge.ops._pool_util import PoolAttrs
    from microforge.ops._pool_util import out_size as pool_out_size

    rng = np.random.default_rng(400 + seed)
    n, h, w, c = int(rng.integers(1, 3)), int(rng.integers(2, 11)), int(rng.integers(2, 11)), int(rng.integers(1, 6))
    fh, fw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
    attrs = PoolAttrs(
        ("SAME", "VALID")[seed % 2],
        int(rng.integers(1, 3)),
        int(rng.integers(1, 3)),
        fh,
        fw,
        ACTIVATIONS[(seed + 1) % 4],
    )
    oh, ow = pool_out_size(attrs.padding, h, fh, attrs.stride_h), pool_out_size(attrs.padding, w, fw, attrs.stride_w)
    g = one_op_graph(op, [fact("x", (n, h, w, c))], [fact("y", (n, oh, ow, c))], attrs)
    assert overlapped(g)
    samples = float_samples(g, rng, scale=3.0)
    ref = assert_close(g, samples, tmp_path / "out")
    ph, pw = onnx_pads(h, fh, attrs.stride_h, 1, oh), onnx_pads(w, fw, attrs.stride_w, 1, ow)
    kw = dict(kernel_shape=[fh, fw], strides=[attrs.stride_h, attrs.stride_w], pads=[ph[0], pw[0], ph[1], pw[1]])
    if op == "AVERAGE_POOL_2D":
        pool = helper.make_node("AveragePool", ["X"], ["Z"], count_include_pad=0, **kw)
    else:
        pool = helper.make_node("MaxPool", ["X"], ["Z"], **kw)
    act_nodes, act_inits = activation_nodes(attrs.activation, "Z")
    for s, r in zip(samples, ref):
        check_onnx(op, r, nhwc(run_onnx([pool] + act_nodes, {"X": nchw(s[0])}, act_inits)))


# --- MEAN ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,axes,keep",
    [
        ((2, 6, 5, 8), [1, 2], True),  # global average pooling
        ((3, 7, 4), [-1], False),
        ((2, 3, 4, 5), [3, 0], True),
    ],
)
def test_mean_f32(shape, axes, keep, tmp_path):
    rng = np.random.default_rng(sum(shape))
    out_shape = tuple(1 if k in [a % len(shape) for a in axes] else d for k, d in enumerate(shape))
    if not keep:
        out_shape = tuple(d for k, d in enumerate(shape) if k not in [a % len(shape) for a in axes])
    g = one_op_graph("MEAN", [fact("x", shape), iconst("axis", axes)], [fact("y", out_shape)], MeanAttrs(keep))
    samples = [[(rng.standard_normal(shape) + 0.5).astype(np.float32)] for _ in range(3)]
    ref = assert_close(g, samples, tmp_path / "out")
    node = helper.make_node("ReduceMean", ["X", "axes"], ["Y"], keepdims=int(keep))
    for s, r in zip(samples, ref):
        check_onnx("MEAN", r, run_onnx([node], {"X": s[0]}, {"axes": np.asarray(axes, np.int64)}))


# --- SOFTMAX / LOGISTIC / TANH -------------------------------------------------------------------


@pytest.mark.parametrize("shape,beta", [((3, 7), 0.5), ((2, 4, 33), 2.0), ((1000,), 1.0)])
def test_softmax_f32(shape, beta, tmp_path):
    rng = np.random.default_rng(len(shape) * 100 + shape[-1])
    g = one_op_graph("SOFTMAX", [fact("x", shape)], [fact("y", shape)], SoftmaxAttrs(beta))
    assert overlapped(g)
    samples = float_samples(g, rng, scale=4.0)
    ref = assert_close(g, samples, tmp_path / "out")
    node = helper.make_node("Softmax", ["X"], ["Y"], axis=-1)
    for s, r in zip(samples, ref):
        # ONNX Softmax has no beta: scale the input first (exact for the powers of two used here)
        check_onnx("SOFTMAX", r, run_onnx([node], {"X": (s[0] * np.float32(beta)).astype(np.float32)}, {}))


@pytest.mark.parametrize("op", ["LOGISTIC", "TANH"])
def test_logistic_tanh_f32(op, tmp_path):
    rng = np.random.default_rng(500)
    g = one_op_graph(op, [fact("x", (2, 9, 11))], [fact("y", (2, 9, 11))])
    assert overlapped(g)
    samples = float_samples(g, rng, scale=5.0)
    # the saturating ends and TFLite's logistic cut-offs (-9, 16.619)
    samples.append([np.linspace(-40, 40, 198, dtype=np.float32).reshape(2, 9, 11)])
    ref = assert_close(g, samples, tmp_path / "out")
    node = helper.make_node("Sigmoid" if op == "LOGISTIC" else "Tanh", ["X"], ["Y"])
    for s, r in zip(samples, ref):
        check_onnx(op, r, run_onnx([node], {"X": s[0]}, {}))


# --- CONCATENATION / PAD / views -----------------------------------------------------------------


@pytest.mark.parametrize("axis,shapes", [(3, [(1, 4, 4, 3), (1, 4, 4, 5)]), (-2, [(2, 3, 2), (2, 1, 2), (2, 4, 2)])])
def test_concatenation_f32(axis, shapes, tmp_path):
    rng = np.random.default_rng(600 + len(shapes))
    out_shape = list(shapes[0])
    out_shape[axis] = sum(s[axis] for s in shapes)
    ins = [fact(f"x{i}", s) for i, s in enumerate(shapes)]
    g = one_op_graph("CONCATENATION", ins, [fact("y", out_shape)], ConcatenationAttrs(axis))
    samples = float_samples(g, rng)
    ref = assert_close(g, samples, tmp_path / "out")
    node = helper.make_node("Concat", [f"X{i}" for i in range(len(shapes))], ["Y"], axis=axis)
    for s, r in zip(samples, ref):
        check_onnx("CONCATENATION", r, run_onnx([node], {f"X{i}": v for i, v in enumerate(s)}, {}))


PAD4 = ((1, 3, 4, 2), [[0, 0], [1, 2], [0, 1], [1, 0]])
PAD2 = ((3, 5), [[2, 0], [1, 3]])


@pytest.mark.parametrize("op,value,shape,pads", [("PAD", None, *PAD4), ("PADV2", -1.5, *PAD4), ("PADV2", 0.25, *PAD2)])
def test_pad_f32(op, value, shape, pads, tmp_path):
    rng = np.random.default_rng(700)
    out_shape = tuple(d + a + b for d, (a, b) in zip(shape, pads))
    ins = [fact("x", shape), iconst("pads", pads)] + ([fconst("cv", np.array([value]))] if value is not None else [])
    g = one_op_graph(op, ins, [fact("y", out_shape)])
    samples = float_samples(g, rng)
    ref = assert_close(g, samples, tmp_path / "out")
    pads_onnx = np.asarray([a for a, _ in pads] + [b for _, b in pads], np.int64)
    inits = {"pads": pads_onnx, "cv": np.array(0.0 if value is None else value, np.float32)}
    node = helper.make_node("Pad", ["X", "pads", "cv"], ["Y"], mode="constant")
    for s, r in zip(samples, ref):
        check_onnx(op, r, run_onnx([node], {"X": s[0]}, inits))


def test_views_f32(tmp_path):
    """RESHAPE, SQUEEZE and EXPAND_DIMS of float32 tensors: no kernel, values pass through unchanged."""
    from microforge.ops.reshape import ReshapeAttrs
    from microforge.ops.squeeze import SqueezeAttrs

    rng = np.random.default_rng(800)
    cases = [
        ("RESHAPE", [fact("x", (1, 2, 3, 4)), iconst("s", [6, 4])], (6, 4), ReshapeAttrs((6, 4))),
        ("SQUEEZE", [fact("x", (1, 5, 1, 3))], (5, 3), SqueezeAttrs((0, 2))),
        ("EXPAND_DIMS", [fact("x", (4, 3)), iconst("a", [1])], (4, 1, 3), None),
    ]
    for k, (op, ins, out_shape, attrs) in enumerate(cases):
        g = one_op_graph(op, ins, [fact("y", out_shape)], attrs)
        samples = float_samples(g, rng, count=2)
        ref, ours, theirs = run_all_three(g, samples, tmp_path / f"out{k}")
        for s, r, o, t in zip(samples, ref, ours, theirs):
            expected = s[0].reshape(out_shape)
            for got in (r[0], o[0], np.asarray(t[0]).reshape(out_shape)):
                assert np.array_equal(got.view(np.int32), expected.view(np.int32)), op


# --- check() -------------------------------------------------------------------------------------


def test_float_check_rejects_mixed_types():
    from microforge import ops
    from microforge.ir import QuantParams

    rng = np.random.default_rng(900)
    y8 = Tensor("y", (1, 4), "int8", QuantParams([0.1], [0]))
    g = one_op_graph(
        "FULLY_CONNECTED",
        [fact("x", (1, 8)), fconst("w", rng.standard_normal((4, 8))), None],
        [y8],
        FullyConnectedAttrs(),
    )
    assert any("mixed types" in p for p in ops.get("FULLY_CONNECTED").check(g.nodes[0], g))
    g = one_op_graph(
        "FULLY_CONNECTED",
        [fact("x", (1, 8)), fconst("w", rng.standard_normal((4, 8))), iconst("b", np.zeros(4))],
        [fact("y", (1, 4))],
        FullyConnectedAttrs(),
    )
    assert any("float32" in p for p in ops.get("FULLY_CONNECTED").check(g.nodes[0], g))
    g = one_op_graph("SOFTMAX", [fact("x", (1, 8))], [fact("y", (1, 8))], SoftmaxAttrs(-1.0))
    assert any("beta" in p for p in ops.get("SOFTMAX").check(g.nodes[0], g))
    w = rng.standard_normal((4, 1, 1, 8))
    w[1, 0, 0, 3] = np.nan
    g = one_op_graph(
        "CONV_2D", [fact("x", (1, 2, 2, 8)), fconst("w", w), None], [fact("y", (1, 2, 2, 4))], Conv2DAttrs()
    )
    assert any("non-finite" in p for p in ops.get("CONV_2D").check(g.nodes[0], g))


@pytest.fixture(scope="module", autouse=True)
def _print_errors():
    yield
    if ERRORS:
        print("\nworst relative error per op (vs float reference):")
        for (op, against), err in sorted(ERRORS.items()):
            print(f"  {op:20s} {against:12s} {err:.3g}")
