"""CONV_2D: integer reference == generated C == TFLM, over randomized shapes, options and scales."""

import flatbuffers
import numpy as np
import pytest

from microforge import ops
from microforge.importers.schema import schema
from microforge.importers.tflite import import_tflite_bytes
from microforge.ops._conv_util import out_size
from microforge.ops.conv2d import Conv2DAttrs
from microforge.reference import run_reference
from microforge.validate.tflm import run_tflm

from support import SHARED, act, assert_bit_exact, const, one_op_graph, random_inputs

ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def conv_case(rng, n, h, w, cin, cout, kh, kw, attrs, per_channel=True, bias=True, groups=1, scales=None):
    """One CONV_2D graph; the output scale is picked so the outputs spread over the int8 range."""
    xs, ws, ys = scales if scales is not None else (float(rng.uniform(0.005, 0.2)), None, None)
    x = act("x", (n, h, w, cin), xs, int(rng.integers(-128, 128)))
    if ws is None:
        ws = rng.uniform(0.001, 0.05, cout) if per_channel else float(rng.uniform(0.001, 0.05))
    taps = kh * kw * (cin // groups)
    real_std = xs * np.mean(ws) * 5400 * np.sqrt(taps)  # accumulator std ~ 74 * 73 * sqrt(taps), in real units
    bound = {"RELU6": 6.0, "RELU_N1_TO_1": 1.0}.get(attrs.activation)
    if bound is not None and scales is None:
        ws = ws * (bound / real_std)  # keep the clamp range busy but not always hit
        real_std = bound
    if ys is None:
        ys = float(real_std * 3 / 128 * rng.uniform(0.3, 3))  # cover about +-3 std, times a random factor
    wt = const("w", rng.integers(-127, 128, (cout, kh, kw, cin // groups)).astype(np.int8), ws, axis=0)
    b = None
    if bias:
        b_max = int(3000 * np.sqrt(taps))  # comparable to the accumulator, so it neither vanishes nor dominates
        b = const("b", rng.integers(-b_max, b_max + 1, cout).astype(np.int32), np.atleast_1d(ws) * xs, axis=0)
    oh = out_size(attrs.padding, h, kh, attrs.stride_h, attrs.dilation_h)
    ow = out_size(attrs.padding, w, kw, attrs.stride_w, attrs.dilation_w)
    y = act("y", (n, oh, ow, cout), ys, int(rng.integers(-128, 128)))
    return one_op_graph("CONV_2D", [x, wt, b], [y], attrs)


def random_case(rng, seed):
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    dh, dw = (int(v) for v in rng.integers(1, 4, 2)) if seed % 3 == 0 else (1, 1)
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    padding = ("SAME", "VALID")[seed % 2]
    groups = 2 if seed % 5 == 4 else 1
    attrs = Conv2DAttrs(padding, sh, sw, dh, dw, ACTIVATIONS[seed % 4])
    # VALID needs the image at least as large as the dilated filter
    h = (kh - 1) * dh + 1 + int(rng.integers(0, 9))
    w = (kw - 1) * dw + 1 + int(rng.integers(0, 9))
    cin = groups * int(rng.integers(1, 9))
    cout = groups * int(rng.integers(1, 9))
    n = int(rng.integers(1, 3))
    per_channel, bias = seed % 7 != 3, seed % 6 != 5
    return conv_case(rng, n, h, w, cin, cout, kh, kw, attrs, per_channel=per_channel, bias=bias, groups=groups)


@pytest.mark.parametrize("seed", range(14))
def test_conv2d_random(seed, tmp_path):
    rng = np.random.default_rng(1000 + seed)
    g = random_case(rng, seed)
    assert ops.get("CONV_2D").check(g.nodes[0], g) == []
    samples = random_inputs(g, rng, 4)
    _assert_informative(g, samples)
    assert_bit_exact(g, samples, tmp_path / "out")


def test_conv2d_person_detect_shapes(tmp_path):
    """1x1 convs as in person_detect, plus a 3x3 stride-2 SAME conv with an odd padding split, batch 3."""
    rng = np.random.default_rng(7)
    cases = [
        conv_case(rng, 1, 12, 12, 32, 64, 1, 1, Conv2DAttrs("SAME", 1, 1, 1, 1, "RELU6")),
        conv_case(rng, 3, 8, 9, 5, 7, 3, 3, Conv2DAttrs("SAME", 2, 2, 1, 1, "NONE")),
        conv_case(rng, 1, 1, 1, 256, 2, 1, 1, Conv2DAttrs("VALID", 1, 1, 1, 1, "NONE")),
    ]
    for k, g in enumerate(cases):
        assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / f"out{k}")


def test_conv2d_extreme_scales(tmp_path):
    """Left-shifting multipliers, right shifts near 31, a channel whose multiplier underflows to 0,
    and the extreme input zero points (input_offset 128 and -127)."""
    rng = np.random.default_rng(99)
    per_channel = np.array([0.05, 1e-4, 1e-12, 0.2, 3e-3, 0.5], np.float32)
    for k, scales in enumerate([(0.5, 0.05, 0.001), (1e-4, 1e-4, 10.0), (0.3, per_channel, 0.01)]):
        g = conv_case(rng, 2, 5, 6, 3, 6, 3, 2, Conv2DAttrs("SAME", 1, 2, 1, 1, "NONE"), scales=scales)
        g.tensor("x").quant.zero_point[:] = (-128, 127, -128)[k]
        assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / f"out{k}")


def test_conv2d_check_rejects(tmp_path):
    rng = np.random.default_rng(5)
    op = ops.get("CONV_2D")

    def fresh():
        return conv_case(rng, 1, 6, 6, 4, 3, 3, 3, Conv2DAttrs("SAME", 1, 1, 1, 1, "RELU"))

    g = fresh()
    g.tensor("y").shape = (1, 5, 6, 3)
    assert any("differs from TFLite's computed" in p for p in op.check(g.nodes[0], g))
    g = fresh()
    g.tensor("w").quant.axis = 3
    assert any("dimension 0" in p for p in op.check(g.nodes[0], g))
    g = fresh()
    g.tensor("w").quant.zero_point[:] = 1
    assert any("symmetric" in p for p in op.check(g.nodes[0], g))
    g = fresh()
    g.nodes[0].attrs.activation = "TANH"
    assert any("TANH" in p for p in op.check(g.nodes[0], g))
    g = fresh()
    g.tensor("b").data = g.tensor("b").data[:2]
    g.tensor("b").shape = (2,)
    assert any("bias" in p for p in op.check(g.nodes[0], g))
    g = fresh()
    g.tensor("x").shape = (6, 6, 4)
    assert any("rank 4" in p for p in op.check(g.nodes[0], g))
    # a filter whose worst-case int32 accumulation overflows
    big = conv_case(rng, 1, 1, 1, 70000, 1, 1, 1, Conv2DAttrs("VALID", 1, 1, 1, 1, "NONE"), bias=False)
    big.tensor("x").quant.zero_point[:] = 127  # |q - zp| reaches 255
    big.tensor("w").data[:] = 127
    assert any("accumulator" in p for p in op.check(big.nodes[0], big))


def _layer_model(model_bytes: bytes, op_index: int) -> bytes:
    """The model cut down to its operator `op_index` (with that op's input/output as the graph's)."""
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(model_bytes, 0))
    sg = model.subgraphs[0]
    op = sg.operators[op_index]
    sg.operators = [op]
    sg.inputs, sg.outputs = [op.inputs[0]], [op.outputs[0]]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.mark.parametrize("op_index", [2, 4, 28])  # 1x1 8->16 at 48x48, 1x1 16->32, the 1x1x256->2 classifier
def test_conv2d_person_detect_layers(op_index, tmp_path):
    """Real layers (imported options, weights and quantization): reference == C == TFLM on the original bytes."""
    layer = _layer_model((SHARED / "tflite" / "person_detect.tflite").read_bytes(), op_index)
    g = import_tflite_bytes(layer, name="layer")
    assert [n.op for n in g.nodes] == ["CONV_2D"]
    rng = np.random.default_rng(op_index)
    samples = random_inputs(g, rng, 2)
    assert_bit_exact(g, samples, tmp_path / "out")
    for r, t in zip((run_reference(g, s) for s in samples), run_tflm(layer, samples)):
        np.testing.assert_array_equal(r[0], t[0].reshape(r[0].shape))


def _assert_informative(g, samples):
    """Guard against cases that could not fail: the outputs must not be all one value."""
    out = np.concatenate([run_reference(g, s)[0].ravel() for s in samples])
    if out.size >= 8:
        assert np.unique(out).size > 2, "degenerate case: outputs nearly constant"


@pytest.mark.parametrize("model", ["person_detect", "micro_speech_quantized"])
def test_every_conv_layer_of_model_matches_tflm(model):
    """Every CONV_2D / DEPTHWISE_CONV_2D layer of a real model, fed the activations the integer reference
    computes for the golden input: each layer's reference output == TFLM running that layer alone."""
    data = (SHARED / "tflite" / f"{model}.tflite").read_bytes()
    g = import_tflite_bytes(data, name=model)
    x0 = np.load(SHARED / "golden" / f"{model}.npz")["x0"]
    values = run_reference(g, [x0], keep=True)
    checked = 0
    for k, node in enumerate(g.nodes):
        if node.op not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        (theirs,) = run_tflm(_layer_model(data, k), [[values[node.inputs[0]]]])
        ours = values[node.outputs[0]]
        np.testing.assert_array_equal(ours, theirs[0].reshape(ours.shape), err_msg=f"layer {k} ({node.op})")
        assert np.unique(ours).size > 1, f"layer {k}: constant output, the check would be weak"
        checked += 1
    assert checked == {"person_detect": 28, "micro_speech_quantized": 1}[model]
