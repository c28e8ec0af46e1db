"""Post-training quantization: float IR + calibration -> int8 IR that the int8 ops run bit-exact with TFLM.

Float graphs are built directly in the IR (NHWC, TFLite weight layouts). The same networks are written as
NCHW float ONNX models (tiny converter below) so onnxruntime's quantize_static (QDQ, per channel, MinMax,
same calibration data) gives a baseline SQNR that ours must not fall below.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from microforge import ops
from microforge.errors import MicroforgeError, UnsupportedModelError
from microforge.ir import Graph, Node, Tensor
from microforge.ops._conv_util import window
from microforge.ops._pool_util import PoolAttrs
from microforge.ops.add import AddAttrs
from microforge.ops.concatenation import ConcatenationAttrs
from microforge.ops.conv2d import Conv2DAttrs
from microforge.ops.depthwise_conv2d import DepthwiseConv2DAttrs
from microforge.ops.fully_connected import FullyConnectedAttrs
from microforge.ops.mean import MeanAttrs
from microforge.ops.mul import MulAttrs
from microforge.ops.reshape import ReshapeAttrs
from microforge.ops.softmax import SoftmaxAttrs
from microforge.passes.calibration import TensorRange, asymmetric_qparams, calibrate
from microforge.passes.quantize import quantize
from microforge.passes.sqnr import int8_inputs, measure_sqnr
from microforge.reference import run_reference

from support import assert_bit_exact

# --------------------------------------------------------------------------------------------- float IR builder


class FloatNet:
    """A tiny builder of float32 IR graphs (NHWC) that also records each layer for the ONNX twin."""

    def __init__(self, name: str, rng: np.random.Generator):
        self.g = Graph(name=name)
        self.rng = rng
        self.n = 0

    def _t(self, shape, data=None, name=None) -> str:
        self.n += 1
        name = name or f"t{self.n}"
        self.g.add_tensor(
            Tensor(
                name,
                tuple(int(d) for d in shape),
                "float32",
                None,
                None if data is None else np.asarray(data, np.float32),
            )
        )
        return name

    def _const(self, data, dtype="float32") -> str:
        self.n += 1
        name = f"c{self.n}"
        self.g.add_tensor(Tensor(name, tuple(np.shape(data)), dtype, None, np.asarray(data)))
        return name

    def shape(self, name):
        return self.g.tensor(name).shape

    def input(self, shape) -> str:
        name = self._t(shape, name=f"input{len(self.g.inputs)}")
        self.g.inputs.append(name)
        return name

    def node(self, op, inputs, out_shape, attrs=None) -> str:
        out = self._t(out_shape)
        self.g.nodes.append(Node(op, f"{op.lower()}_{self.n}", inputs, [out], attrs))
        return out

    def conv(self, x, out_c, k=3, stride=1, padding="SAME", act="NONE", dilation=1):
        n, h, w, c = self.shape(x)
        wt = self.rng.normal(0, 1 / math.sqrt(k * k * c), (out_c, k, k, c))
        b = self.rng.normal(0, 0.1, out_c)
        a = Conv2DAttrs(padding, stride, stride, dilation, dilation, act)
        win = window(a, h, w, k, k)
        return self.node(
            "CONV_2D", [x, self._t(wt.shape, wt), self._t(b.shape, b)], (n, win.out_h, win.out_w, out_c), a
        )

    def dwconv(self, x, k=3, mult=1, stride=1, padding="SAME", act="NONE"):
        n, h, w, c = self.shape(x)
        wt = self.rng.normal(0, 1 / k, (1, k, k, c * mult))
        b = self.rng.normal(0, 0.1, c * mult)
        a = DepthwiseConv2DAttrs(padding, stride, stride, mult, 1, 1, act)
        win = window(a, h, w, k, k)
        return self.node(
            "DEPTHWISE_CONV_2D", [x, self._t(wt.shape, wt), self._t(b.shape, b)], (n, win.out_h, win.out_w, c * mult), a
        )

    def fc(self, x, out, act="NONE"):
        n, c = self.shape(x)
        wt = self.rng.normal(0, 1 / math.sqrt(c), (out, c))
        b = self.rng.normal(0, 0.1, out)
        return self.node(
            "FULLY_CONNECTED", [x, self._t(wt.shape, wt), self._t(b.shape, b)], (n, out), FullyConnectedAttrs(act)
        )

    def binary(self, op, a, b, act="NONE"):
        attrs = AddAttrs(act) if op == "ADD" else MulAttrs(act)
        return self.node(op, [a, b], self.shape(a), attrs)

    def pool(self, op, x, k=2, stride=2, padding="VALID", act="NONE"):
        n, h, w, c = self.shape(x)
        oh, ow = (
            ((h + stride - 1) // stride, (w + stride - 1) // stride)
            if padding == "SAME"
            else ((h - k) // stride + 1, (w - k) // stride + 1)
        )
        return self.node(op, [x], (n, oh, ow, c), PoolAttrs(padding, stride, stride, k, k, act))

    def concat(self, xs, axis=3):
        shape = list(self.shape(xs[0]))
        shape[axis] = sum(self.shape(x)[axis] for x in xs)
        return self.node("CONCATENATION", list(xs), shape, ConcatenationAttrs(axis))

    def mean_hw(self, x):
        n, _, _, c = self.shape(x)
        return self.node("MEAN", [x, self._const(np.array([1, 2], np.int32), "int32")], (n, c), MeanAttrs(False))

    def pad(self, x, p=1):
        n, h, w, c = self.shape(x)
        pads = np.array([[0, 0], [p, p], [p, p], [0, 0]], np.int32)
        return self.node("PAD", [x, self._const(pads, "int32")], (n, h + 2 * p, w + 2 * p, c))

    def unary(self, op, x, attrs=None):
        return self.node(op, [x], self.shape(x), attrs)

    def reshape(self, x, shape):
        return self.node(
            "RESHAPE", [x, self._const(np.array(shape, np.int32), "int32")], shape, ReshapeAttrs(tuple(shape))
        )

    def output(self, x):
        self.g.outputs.append(x)
        return self.g


def images(rng: np.random.Generator, count: int, shape) -> list[list[np.ndarray]]:
    """Random but structured NHWC images: a few smooth waves per channel plus a little noise."""
    _, h, w, c = shape
    yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    out = []
    for _ in range(count):
        img = np.zeros(shape[1:], np.float64)
        for ch in range(c):
            for _ in range(3):
                fy, fx, ph = rng.uniform(0.5, 4.0), rng.uniform(0.5, 4.0), rng.uniform(0, 2 * np.pi)
                img[:, :, ch] += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * (fy * yy + fx * xx) + ph)
        img += rng.normal(0, 0.05, img.shape)
        out.append([img.reshape(shape).astype(np.float32)])
    return out


def small_cnn(seed: int = 0) -> Graph:
    """conv(RELU6) -> dw(RELU) -> ADD(skip) -> [conv s2 | avgpool] -> CONCAT -> conv -> MEAN -> FC -> FC (logits)."""
    net = FloatNet("small_cnn", np.random.default_rng(seed))
    x = net.input((1, 12, 12, 3))
    c1 = net.conv(x, 8, act="RELU6")
    d1 = net.dwconv(c1, act="RELU")
    a1 = net.binary("ADD", c1, d1)
    b1 = net.conv(a1, 8, k=1, stride=2)
    b2 = net.pool("AVERAGE_POOL_2D", a1)
    cat = net.concat([b1, b2])
    c2 = net.conv(cat, 16, act="RELU")
    m = net.mean_hw(c2)
    f1 = net.fc(m, 16, act="RELU")
    return net.output(net.fc(f1, 10))


def every_op_net(seed: int = 1) -> Graph:
    """Every op the quantizer handles at least once, incl. fixed-output ops and a concat of a fixed output."""
    net = FloatNet("every_op", np.random.default_rng(seed))
    x = net.input((1, 8, 8, 4))
    p = net.pad(x)
    c1 = net.conv(p, 8, padding="VALID", act="RELU")
    mp = net.pool("MAX_POOL_2D", c1, k=3, stride=1, padding="SAME")
    d1 = net.dwconv(mp, mult=2, stride=2, act="RELU6")
    sig = net.unary("LOGISTIC", d1)
    th = net.unary("TANH", net.conv(d1, 8, k=1))
    mul = net.binary("MUL", d1, sig)
    cat = net.concat([mul, th, sig])
    r = net.reshape(net.mean_hw(cat), (1, 40))
    logits = net.fc(r, 6)
    return net.output(net.unary("SOFTMAX", logits, SoftmaxAttrs(1.0)))


# --------------------------------------------------------------------------------------------- checks


def assert_all_checks_pass(g: Graph) -> None:
    problems = [(n.name, p) for n in g.nodes for p in ops.get(n.op).check(n, g)]
    assert not problems, problems
    for node in g.nodes:
        for name in node.inputs + node.outputs:
            if name is None:
                continue
            t = g.tensor(name)
            if t.dtype == "int8" and not t.is_const:
                assert t.quant is not None and not t.quant.per_channel
                assert -128 <= t.quant.zp <= 127 and t.quant.s > 0


def int8_samples(g: Graph, samples) -> list[list[np.ndarray]]:
    return [int8_inputs(g, s) for s in samples]


def test_activation_qparams_nudge():
    """Range always includes 0; scale (max-min)/255; zero point round(-128 - min/scale) clamped."""
    s, zp = asymmetric_qparams(TensorRange.of(-1.0, 3.0))
    assert s == pytest.approx(4 / 255) and zp == round(-128 + 1 / (4 / 255))
    s, zp = asymmetric_qparams(TensorRange.of(0.5, 6.0))  # 0 included: [0, 6]
    assert s == pytest.approx(6 / 255) and zp == -128
    s, zp = asymmetric_qparams(TensorRange.of(-5.0, -1.0))  # [-5, 0]
    assert s == pytest.approx(5 / 255) and zp == 127
    s, zp = asymmetric_qparams(TensorRange.of(0.0, 0.0))  # degenerate: still a valid positive scale
    assert s > 0 and zp == -128


def test_small_cnn_bit_exact_and_sqnr(tmp_path: Path):
    g = small_cnn()
    rng = np.random.default_rng(10)
    calib = images(rng, 16, g.tensor(g.inputs[0]).shape)
    q = quantize(g, calib)
    assert_all_checks_pass(q)
    # weights symmetric per channel (conv axis 0, depthwise axis 3), FC per tensor, int32 bias
    for node in q.nodes:
        if node.op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            w, b = q.inp(node, 1), q.inp(node, 2)
            assert w.dtype == "int8" and np.all(w.quant.zero_point == 0) and np.abs(w.data).max() <= 127
            if node.op == "FULLY_CONNECTED":
                assert not w.quant.per_channel
            else:
                assert (
                    w.quant.axis == (0 if node.op == "CONV_2D" else 3) and w.quant.scale.size == w.shape[w.quant.axis]
                )
            x = q.inp(node, 0)
            assert b.dtype == "int32"
            np.testing.assert_allclose(b.quant.scale, np.float32(x.quant.s) * w.quant.scale, rtol=1e-6)
    # the ADD output feeds a conv and a pool (two readers): the pool branch needs a requantize before CONCAT
    cat = next(n for n in q.nodes if n.op == "CONCATENATION")
    out_q = q.out(cat).quant
    assert all(q.tensor(i).quant.s == out_q.s and q.tensor(i).quant.zp == out_q.zp for i in cat.inputs)
    assert sum(n.op == "QUANTIZE" for n in q.nodes) == 1
    assert q.tensor(q.inputs[0]).dtype == "int8" and q.tensor(q.outputs[0]).dtype == "int8"

    test = images(rng, 12, g.tensor(g.inputs[0]).shape)
    assert_bit_exact(q, int8_samples(q, test), tmp_path / "c")
    rep = measure_sqnr(g, q, test)
    assert rep.end_to_end_db > 25, rep
    assert all(layer.sqnr_db > 20 for layer in rep.layers), rep.worst()
    assert {layer.op for layer in rep.layers} >= {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "CONCATENATION", "MEAN"}


def test_every_op_bit_exact(tmp_path: Path):
    g = every_op_net()
    rng = np.random.default_rng(11)
    calib = images(rng, 12, g.tensor(g.inputs[0]).shape)
    for method in ("minmax", "percentile", "mse"):
        q = quantize(g, calib, method)
        assert_all_checks_pass(q)
        fixed = {n.op: q.out(n).quant for n in q.nodes if n.op in ("SOFTMAX", "LOGISTIC", "TANH")}
        assert (fixed["SOFTMAX"].s, fixed["SOFTMAX"].zp) == (1 / 256, -128)
        assert (fixed["LOGISTIC"].s, fixed["LOGISTIC"].zp) == (1 / 256, -128)
        assert (fixed["TANH"].s, fixed["TANH"].zp) == (1 / 128, 0)
        for n in q.nodes:
            if n.op in ("PAD", "MAX_POOL_2D", "RESHAPE"):
                assert q.inp(n, 0).quant.s == q.out(n).quant.s and q.inp(n, 0).quant.zp == q.out(n).quant.zp
        test = images(rng, 6, g.tensor(g.inputs[0]).shape)
        assert_bit_exact(q, int8_samples(q, test), tmp_path / method)
        rep = measure_sqnr(g, q, test)
        assert rep.end_to_end_db > 20, (method, rep.end_to_end_db, rep.worst())


def test_float_io_bit_exact(tmp_path: Path):
    """io="float": float32 in/out with QUANTIZE/DEQUANTIZE at the boundary; same numbers as the int8 graph."""
    g = small_cnn(seed=3)
    rng = np.random.default_rng(12)
    calib = images(rng, 8, g.tensor(g.inputs[0]).shape)
    q = quantize(g, calib, io="float")
    qi = quantize(g, calib, io="int8")
    assert_all_checks_pass(q)
    assert q.nodes[0].op == "QUANTIZE" and q.nodes[-1].op == "DEQUANTIZE"
    assert [q.tensor(n).dtype for n in q.inputs + q.outputs] == ["float32", "float32"]
    test = images(rng, 4, g.tensor(g.inputs[0]).shape)
    assert_bit_exact(q, test, tmp_path / "c")
    # same as running the int8-io graph on quantized inputs and dequantizing
    for s in test:
        yf = run_reference(q, s)[0]
        yi = run_reference(qi, int8_inputs(qi, s))[0]
        oq = qi.tensor(qi.outputs[0]).quant
        np.testing.assert_array_equal(yf, (np.float32(oq.s) * (yi.astype(np.float32) - oq.zp)).astype(np.float32))
    assert measure_sqnr(g, q, test).end_to_end_db == pytest.approx(measure_sqnr(g, qi, test).end_to_end_db)


def _fake_quant_mse(x: np.ndarray, r: TensorRange) -> float:
    s, zp = asymmetric_qparams(r)
    q = np.clip(np.round(x / s) + zp, -128, 127)
    return float(np.mean((x - (q - zp) * s) ** 2))


def _one_conv(seed: int = 5) -> Graph:
    net = FloatNet("one_conv", np.random.default_rng(seed))
    return net.output(net.conv(net.input((1, 8, 8, 2)), 4, act="RELU6"))


def test_percentile_clips_outlier_and_relu6_range():
    """percentile drops a far outlier that minmax keeps; ranges include 0; a RELU6 output stays in [0, 6]."""
    g = _one_conv()
    rng = np.random.default_rng(6)
    calib = [[rng.normal(0.5, 1, (1, 8, 8, 2)).astype(np.float32)] for _ in range(32)]
    calib[3][0][0, 1, 1, 0] = 60.0
    mm = calibrate(g, calib, "minmax")
    pc = calibrate(g, calib, "percentile", percentile=99.9)
    assert mm["input0"].hi == pytest.approx(60.0) and pc["input0"].hi < 6
    assert mm["input0"].lo == pytest.approx(min(float(s[0].min()) for s in calib))
    out = g.outputs[0]
    for r in (mm[out], pc[out], calibrate(g, calib, "mse")[out]):
        assert r.lo == 0.0 and 0 < r.hi <= 6.0
    mixed = calibrate(g, calib, {"input0": "percentile", "*": "minmax"}, percentile=99.9)
    assert mixed["input0"] == pc["input0"] and mixed[out] == mm[out]


@pytest.mark.parametrize("dist", ["normal", "laplace", "t4"])
def test_mse_method_minimizes_quantization_error(dist):
    """The "mse" range is within 2% of the best of a brute-force grid of clipping ranges, and beats minmax."""
    g = _one_conv()
    rng = np.random.default_rng(7)
    draw = {
        "normal": lambda: rng.normal(0.3, 1, (1, 8, 8, 2)),
        "laplace": lambda: rng.laplace(0.3, 1, (1, 8, 8, 2)),
        "t4": lambda: rng.standard_t(4, (1, 8, 8, 2)),
    }[dist]
    calib = [[draw().astype(np.float32)] for _ in range(128)]
    values = np.concatenate([s[0].ravel() for s in calib])
    ms = calibrate(g, calib, "mse")["input0"]
    mm = calibrate(g, calib, "minmax")["input0"]
    grid = np.linspace(0.3, 1.0, 29)
    best = min(_fake_quant_mse(values, TensorRange.of(mm.lo * a, mm.hi * b)) for a in grid for b in grid)
    err = _fake_quant_mse(values, ms)
    assert err <= 1.02 * best and err < _fake_quant_mse(values, mm), (err, best)


def test_bad_calibration_data():
    g = small_cnn()
    good = images(np.random.default_rng(0), 2, (1, 12, 12, 3))
    with pytest.raises(MicroforgeError, match=r"'input0' \[1, 12, 12, 3\] float32"):
        quantize(g, [])
    with pytest.raises(MicroforgeError, match=r"shape \[1, 3, 12, 12\], expected \[1, 12, 12, 3\]"):
        quantize(g, [[np.zeros((1, 3, 12, 12), np.float32)]])
    with pytest.raises(MicroforgeError, match=r"dtype int8, expected float32"):
        quantize(g, [[np.zeros((1, 12, 12, 3), np.int8)]])
    with pytest.raises(MicroforgeError, match=r"2 array\(s\) given, the model has 1 input"):
        quantize(g, [good[0] + good[1]])
    with pytest.raises(MicroforgeError, match="NaN"):
        quantize(g, [[np.full((1, 12, 12, 3), np.nan, np.float32)]])
    with pytest.raises(MicroforgeError, match="unknown"):
        quantize(g, good, "kl")
    with pytest.raises(MicroforgeError, match="io must be"):
        quantize(g, good, io="uint8")
    # an int8 model is not a float model
    q = quantize(g, good)
    with pytest.raises(MicroforgeError, match="float32 model"):
        quantize(q, good)
    # an op the quantizer does not know is named
    g.nodes.append(Node("SQUARE", "sq", [g.outputs[0]], ["sq_out"]))
    g.add_tensor(Tensor("sq_out", (1, 10), "float32"))
    with pytest.raises(UnsupportedModelError, match="SQUARE"):
        quantize(g, good)


# --------------------------------------------------------------------------------------------- onnxruntime baseline


def to_onnx(g: Graph):
    """The float IR graph (NHWC) as an NCHW float ONNX model with the same weights (ops of small_cnn)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    k = [0]

    def fresh(base="v"):
        k[0] += 1
        return f"{base}{k[0]}"

    def init(arr, dtype=np.float32):
        name = fresh("w")
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype), name))
        return name

    def activation(x, act):
        if act == "NONE":
            return x
        y = fresh()
        if act == "RELU":
            nodes.append(helper.make_node("Relu", [x], [y]))
        else:
            nodes.append(helper.make_node("Clip", [x, init(0.0), init(6.0)], [y]))
        return y

    def explicit_pads(node, x, kh, kw):
        a = node.attrs
        win = window(a, x.shape[1], x.shape[2], kh, kw)
        eff_h, eff_w = (kh - 1) * a.dilation_h + 1, (kw - 1) * a.dilation_w + 1
        bottom = max((win.out_h - 1) * a.stride_h + eff_h - x.shape[1] - win.pad_h, 0)
        right = max((win.out_w - 1) * a.stride_w + eff_w - x.shape[2] - win.pad_w, 0)
        return [win.pad_h, win.pad_w, bottom, right]

    for node in g.nodes:
        x = g.inp(node, 0)
        ins, out = node.inputs, node.outputs[0]
        raw = fresh()
        act = getattr(node.attrs, "activation", "NONE")
        if node.op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            w, b = g.inp(node, 1).data, g.inp(node, 2).data
            if node.op == "CONV_2D":
                wt, group = w.transpose(0, 3, 1, 2), 1
            else:
                wt, group = w.transpose(3, 0, 1, 2), x.shape[3]
            a = node.attrs
            nodes.append(
                helper.make_node(
                    "Conv",
                    [ins[0], init(wt), init(b)],
                    [raw],
                    group=group,
                    strides=[a.stride_h, a.stride_w],
                    dilations=[a.dilation_h, a.dilation_w],
                    pads=explicit_pads(node, x, w.shape[1], w.shape[2]),
                )
            )
        elif node.op == "FULLY_CONNECTED":
            nodes.append(
                helper.make_node(
                    "Gemm", [ins[0], init(g.inp(node, 1).data), init(g.inp(node, 2).data)], [raw], transB=1
                )
            )
        elif node.op == "ADD":
            nodes.append(helper.make_node("Add", ins[:2], [raw]))
        elif node.op == "AVERAGE_POOL_2D":
            a = node.attrs
            assert a.padding == "VALID"
            nodes.append(
                helper.make_node(
                    "AveragePool",
                    ins[:1],
                    [raw],
                    kernel_shape=[a.filter_h, a.filter_w],
                    strides=[a.stride_h, a.stride_w],
                )
            )
        elif node.op == "CONCATENATION":
            assert node.attrs.axis == 3
            nodes.append(helper.make_node("Concat", ins, [raw], axis=1))
        elif node.op == "MEAN":
            assert list(g.inp(node, 1).data) == [1, 2] and not node.attrs.keep_dims
            nodes.append(helper.make_node("GlobalAveragePool", ins[:1], [fresh("gap")]))
            nodes.append(helper.make_node("Flatten", [nodes[-1].output[0]], [raw]))
        else:
            raise AssertionError(node.op)
        y = activation(raw, act)
        nodes.append(helper.make_node("Identity", [y], [out]))

    def nchw(t):
        s = g.tensor(t).shape
        return [s[0], s[3], s[1], s[2]] if len(s) == 4 else list(s)

    graph = helper.make_graph(
        nodes,
        g.name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, nchw(n)) for n in g.inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, nchw(n)) for n in g.outputs],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _sqnr(ref: list[np.ndarray], got: list[np.ndarray]) -> float:
    s = sum(float(np.mean(np.square(r.astype(np.float64)))) for r in ref)
    n = sum(float(np.mean(np.square(r.astype(np.float64) - q))) for r, q in zip(ref, got))
    return 10 * math.log10(s / n)


def ort_sqnr(g: Graph, calib, test, tmp_path: Path) -> float:
    """SQNR of onnxruntime's quantize_static (QDQ, per-channel, MinMax, int8) vs its float model, on `test`."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    name = g.inputs[0]

    def feed(sample):
        return {name: np.ascontiguousarray(sample[0].transpose(0, 3, 1, 2))}

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([feed(s) for s in calib])

        def get_next(self):
            return next(self.it, None)

    fpath, qpath = tmp_path / "float.onnx", tmp_path / "qdq.onnx"
    onnx.save(to_onnx(g), fpath)
    quantize_static(
        str(fpath),
        str(qpath),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
    )
    fs = ort.InferenceSession(str(fpath), providers=["CPUExecutionProvider"])
    qs = ort.InferenceSession(str(qpath), providers=["CPUExecutionProvider"])
    ref = [fs.run(None, feed(s))[0] for s in test]
    # the ONNX twin computes what our float reference computes
    ours = [run_reference(g, s)[0] for s in test]
    for a, b in zip(ref, ours):
        assert np.max(np.abs(a - b)) <= 1e-4 * np.max(np.abs(a)), "ONNX twin differs from the float IR"
    return _sqnr(ref, [qs.run(None, feed(s))[0] for s in test])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sqnr_not_worse_than_onnxruntime(seed, tmp_path: Path, record_property):
    g = small_cnn(seed)
    rng = np.random.default_rng(100 + seed)
    calib = images(rng, 32, g.tensor(g.inputs[0]).shape)
    test = images(rng, 32, g.tensor(g.inputs[0]).shape)
    ours = measure_sqnr(g, quantize(g, calib, "minmax"), test).end_to_end_db
    ours_mse = measure_sqnr(g, quantize(g, calib, "mse"), test).end_to_end_db
    theirs = ort_sqnr(g, calib, test, tmp_path)
    record_property("sqnr_db", {"ours_minmax": ours, "ours_mse": ours_mse, "onnxruntime": theirs})
    print(f"seed {seed}: ours minmax {ours:.2f} dB, ours mse {ours_mse:.2f} dB, onnxruntime {theirs:.2f} dB")
    assert ours > 20 and ours >= theirs - 0.1, (ours, theirs)


def test_nested_concat_widens_producers(tmp_path: Path):
    """concat(concat(conv, input), conv(pad(input))): the convs and the inner concat take the outer union range;
    the input has three readers, so only it is requantized (one QUANTIZE)."""
    net = FloatNet("nested_concat", np.random.default_rng(8))
    x = net.input((1, 6, 6, 3))
    a = net.conv(x, 4, act="RELU")
    inner = net.concat([a, x])
    b = net.conv(net.pad(x), 5, padding="VALID")
    g = net.output(net.concat([inner, b]))
    rng = np.random.default_rng(9)
    q = quantize(g, images(rng, 8, (1, 6, 6, 3)))
    assert_all_checks_pass(q)
    requant = [n for n in q.nodes if n.op == "QUANTIZE"]
    assert len(requant) == 1 and requant[0].inputs == [x]
    outer = q.out(q.nodes[-1]).quant
    for n in q.nodes:
        if n.op == "CONCATENATION":
            assert all((q.tensor(i).quant.s, q.tensor(i).quant.zp) == (outer.s, outer.zp) for i in n.inputs)
    test = images(rng, 4, (1, 6, 6, 3))
    assert_bit_exact(q, int8_samples(q, test), tmp_path / "c")
    assert measure_sqnr(g, q, test).end_to_end_db > 25


def test_fc_per_channel_option_bit_exact(tmp_path: Path):
    """fc_per_channel=True: per-channel FULLY_CONNECTED weights, which the tflite-micro wheel runs bit-exact too."""
    g = small_cnn(seed=2)
    rng = np.random.default_rng(13)
    calib = images(rng, 16, (1, 12, 12, 3))
    q = quantize(g, calib, fc_per_channel=True)
    assert_all_checks_pass(q)
    fcs = [n for n in q.nodes if n.op == "FULLY_CONNECTED"]
    assert all(q.inp(n, 1).quant.scale.size == q.inp(n, 1).shape[0] and q.inp(n, 1).quant.axis == 0 for n in fcs)
    test = images(rng, 6, (1, 12, 12, 3))
    assert_bit_exact(q, int8_samples(q, test), tmp_path / "c")


def test_bias_correction_removes_mean_output_shift():
    """With bias correction the int8 output's mean error over the calibration data shrinks."""
    g = small_cnn(seed=2)
    calib = images(np.random.default_rng(14), 32, (1, 12, 12, 3))

    def mean_error(q):
        ref = np.stack([run_reference(g, s)[0] for s in calib])
        oq = q.tensor(q.outputs[0]).quant
        got = np.stack([(run_reference(q, int8_inputs(q, s))[0].astype(np.float64) - oq.zp) * oq.s for s in calib])
        return float(np.abs((got - ref).mean(axis=0)).mean())

    assert mean_error(quantize(g, calib, bias_correction=True)) < mean_error(quantize(g, calib, bias_correction=False))


def test_shared_float_onnx_model(tmp_path: Path):
    """The shared float ONNX model through the float importer: bit-exact vs TFLM, SQNR not below onnxruntime's."""
    import onnxruntime as ort
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    from microforge.importers import load_model

    from support import SHARED

    path = SHARED / "onnx" / "hello_world_float.onnx"
    g = load_model(path)
    rng = np.random.default_rng(15)
    shape = g.tensor(g.inputs[0]).shape
    calib = [[rng.uniform(0, 2 * np.pi, shape).astype(np.float32)] for _ in range(64)]
    test = [[rng.uniform(0, 2 * np.pi, shape).astype(np.float32)] for _ in range(64)]
    q = quantize(g, calib)
    assert_all_checks_pass(q)
    assert_bit_exact(q, int8_samples(q, test[:8]), tmp_path / "c")
    ours = measure_sqnr(g, q, test).end_to_end_db

    fs = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = fs.get_inputs()[0].name
    feeds = [{name: s[0]} for s in calib]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(feeds)

        def get_next(self):
            return next(self.it, None)

    qpath = tmp_path / "qdq.onnx"
    quantize_static(
        str(path),
        str(qpath),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
    )
    qs = ort.InferenceSession(str(qpath), providers=["CPUExecutionProvider"])
    tf = [{name: s[0]} for s in test]
    theirs = _sqnr([fs.run(None, f)[0] for f in tf], [qs.run(None, f)[0] for f in tf])
    print(f"hello_world_float: ours {ours:.2f} dB, onnxruntime {theirs:.2f} dB")
    assert ours > 25 and ours >= theirs - 0.1, (ours, theirs)
