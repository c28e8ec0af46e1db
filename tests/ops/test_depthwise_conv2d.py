"""DEPTHWISE_CONV_2D: integer reference == generated C == TFLM, over randomized shapes, options and scales."""

import flatbuffers
import numpy as np
import pytest

from microforge import ops
from microforge.backends.tflite.writer import write_tflite
from microforge.importers.schema import schema
from microforge.importers.tflite import import_tflite_bytes
from microforge.ops._conv_util import out_size
from microforge.ops.depthwise_conv2d import DepthwiseConv2DAttrs
from microforge.reference import run_reference
from microforge.validate.tflm import run_tflm

from support import SHARED, act, assert_bit_exact, const, one_op_graph, random_inputs

ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def dw_case(rng, n, h, w, cin, kh, kw, attrs, per_channel=True, bias=True, scales=None):
    """One DEPTHWISE_CONV_2D graph; the output scale is picked so the outputs spread over the int8 range."""
    cout = cin * attrs.depth_multiplier
    xs, ws, ys = scales if scales is not None else (float(rng.uniform(0.005, 0.2)), None, None)
    x = act("x", (n, h, w, cin), xs, int(rng.integers(-128, 128)))
    if ws is None:
        ws = rng.uniform(0.001, 0.05, cout) if per_channel else float(rng.uniform(0.001, 0.05))
    taps = kh * kw
    real_std = xs * np.mean(ws) * 5400 * np.sqrt(taps)  # accumulator std ~ 74 * 73 * sqrt(taps), in real units
    bound = {"RELU6": 6.0, "RELU_N1_TO_1": 1.0}.get(attrs.activation)
    if bound is not None and scales is None:
        ws = ws * (bound / real_std)  # keep the clamp range busy but not always hit
        real_std = bound
    if ys is None:
        ys = float(real_std * 3 / 128 * rng.uniform(0.3, 3))  # cover about +-3 std, times a random factor
    wt = const("w", rng.integers(-127, 128, (1, kh, kw, cout)).astype(np.int8), ws, axis=3)
    b = None
    if bias:
        b_max = int(3000 * np.sqrt(taps))  # comparable to the accumulator, so it neither vanishes nor dominates
        b = const("b", rng.integers(-b_max, b_max + 1, cout).astype(np.int32), np.atleast_1d(ws) * xs, axis=0)
    oh = out_size(attrs.padding, h, kh, attrs.stride_h, attrs.dilation_h)
    ow = out_size(attrs.padding, w, kw, attrs.stride_w, attrs.dilation_w)
    y = act("y", (n, oh, ow, cout), ys, int(rng.integers(-128, 128)))
    return one_op_graph("DEPTHWISE_CONV_2D", [x, wt, b], [y], attrs)


def random_case(rng, seed):
    kh, kw = (int(v) for v in rng.integers(1, 6, 2))
    dh, dw = (int(v) for v in rng.integers(1, 4, 2)) if seed % 3 == 0 else (1, 1)
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    padding = ("SAME", "VALID")[seed % 2]
    mult = int(rng.integers(1, 5)) if seed % 2 == 0 else 1
    attrs = DepthwiseConv2DAttrs(padding, sh, sw, mult, dh, dw, ACTIVATIONS[seed % 4])
    # VALID needs the image at least as large as the dilated filter
    h = (kh - 1) * dh + 1 + int(rng.integers(0, 9))
    w = (kw - 1) * dw + 1 + int(rng.integers(0, 9))
    n, cin = int(rng.integers(1, 3)), int(rng.integers(1, 9))
    return dw_case(rng, n, h, w, cin, kh, kw, attrs, per_channel=seed % 7 != 3, bias=seed % 6 != 5)


@pytest.mark.parametrize("seed", range(14))
def test_depthwise_conv2d_random(seed, tmp_path):
    rng = np.random.default_rng(2000 + seed)
    g = random_case(rng, seed)
    assert ops.get("DEPTHWISE_CONV_2D").check(g.nodes[0], g) == []
    samples = random_inputs(g, rng, 4)
    _assert_informative(g, samples)
    _assert_bit_exact(g, samples, tmp_path / "out")


def test_depthwise_conv2d_model_shapes(tmp_path):
    """The shapes of person_detect (3x3 stride 1/2 SAME, 1 -> 8 channels) and micro_speech
    (10x8 stride 2 SAME, depth multiplier 8 on 1 channel), at batch 2."""
    rng = np.random.default_rng(11)
    cases = [
        dw_case(rng, 2, 24, 24, 1, 3, 3, DepthwiseConv2DAttrs("SAME", 2, 2, 8, 1, 1, "RELU6")),
        dw_case(rng, 2, 12, 12, 16, 3, 3, DepthwiseConv2DAttrs("SAME", 1, 1, 1, 1, 1, "RELU6")),
        dw_case(rng, 1, 13, 11, 16, 3, 3, DepthwiseConv2DAttrs("SAME", 2, 2, 1, 1, 1, "NONE")),
        dw_case(rng, 2, 49, 40, 1, 10, 8, DepthwiseConv2DAttrs("SAME", 2, 2, 8, 1, 1, "RELU")),
    ]
    for k, g in enumerate(cases):
        assert_bit_exact(g, random_inputs(g, rng, 2), tmp_path / f"out{k}")


def test_depthwise_conv2d_extreme_scales(tmp_path):
    """Left-shifting multipliers, right shifts near 31, a channel whose multiplier underflows to 0,
    and the extreme input zero points (input_offset 128 and -127)."""
    rng = np.random.default_rng(98)
    per_channel = np.array([0.05, 1e-4, 1e-12, 0.2, 3e-3, 0.5], np.float32)
    for k, scales in enumerate([(0.5, 0.05, 0.001), (1e-4, 1e-4, 10.0), (0.3, per_channel, 0.01)]):
        g = dw_case(rng, 2, 5, 6, 3, 3, 2, DepthwiseConv2DAttrs("SAME", 1, 2, 2, 1, 1, "NONE"), scales=scales)
        g.tensor("x").quant.zero_point[:] = (-128, 127, -128)[k]
        assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / f"out{k}")


def test_depthwise_conv2d_check_rejects():
    rng = np.random.default_rng(6)
    op = ops.get("DEPTHWISE_CONV_2D")

    def fresh():
        return dw_case(rng, 1, 6, 6, 4, 3, 3, DepthwiseConv2DAttrs("VALID", 1, 1, 2, 1, 1, "RELU"))

    g = fresh()
    g.tensor("y").shape = (1, 6, 6, 8)
    assert any("differs from TFLite's computed" in p for p in op.check(g.nodes[0], g))
    g = fresh()
    g.tensor("w").quant.axis = 0
    assert any("dimension 3" in p for p in op.check(g.nodes[0], g))
    g = fresh()
    g.nodes[0].attrs.depth_multiplier = 3
    assert any("depth multiplier" in p for p in op.check(g.nodes[0], g))
    g = fresh()
    g.tensor("w").quant.zero_point[:] = -2
    assert any("symmetric" in p for p in op.check(g.nodes[0], g))
    g = fresh()
    g.tensor("w").data = g.tensor("w").data.reshape(2, 3, 3, 4)
    g.tensor("w").shape = (2, 3, 3, 4)
    assert any("1, KH, KW" in p for p in op.check(g.nodes[0], g))
    g = fresh()
    g.nodes[0].attrs.stride_h = 0
    assert any("strides" in p for p in op.check(g.nodes[0], g))
    g = fresh()
    g.nodes[0].attrs.padding = "PADDING_7"
    assert any("padding" in p for p in op.check(g.nodes[0], g))


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


@pytest.mark.parametrize(
    "model, op_index",
    [
        ("person_detect", 0),  # 3x3 stride 2 SAME, depth multiplier 8 on 1 channel, 96x96
        ("person_detect", 1),  # 3x3 stride 1 SAME, 8 channels
        ("person_detect", 11),  # 3x3 stride 2 SAME, 64 channels, 12x12 -> 6x6
        ("micro_speech_quantized", 1),  # 10x8 stride 2 SAME, multiplier 8, per-tensor-quantized bias
    ],
)
def test_depthwise_conv2d_model_layers(model, op_index, tmp_path):
    """Real layers (imported options, weights and quantization): reference == C == TFLM on the original bytes."""
    layer = _layer_model((SHARED / "tflite" / f"{model}.tflite").read_bytes(), op_index)
    g = import_tflite_bytes(layer, name="layer")
    assert [n.op for n in g.nodes] == ["DEPTHWISE_CONV_2D"]
    rng = np.random.default_rng(op_index)
    samples = random_inputs(g, rng, 2)
    assert_bit_exact(g, samples, tmp_path / "out")
    for r, t in zip((run_reference(g, s) for s in samples), run_tflm(layer, samples)):
        np.testing.assert_array_equal(r[0], t[0].reshape(r[0].shape))


def _assert_bit_exact(g, samples, outdir):
    """assert_bit_exact, except that TFLM gets an all-zero bias when the node has none.

    TFLM's DepthwiseConvPrepare crashes (segfault) on a missing bias: CalculateOpDataDepthwiseConv
    calls DeallocateTempTfLiteTensor(bias) without the null check CONV_2D has. A zero bias is the
    same computation, so it stands in as the oracle.
    """
    if g.nodes[0].inputs[2] is not None:
        assert_bit_exact(g, samples, outdir)
        return
    assert_bit_exact(g, samples, outdir, tflm=False)
    w, y = g.tensor(g.nodes[0].inputs[1]), g.tensor("y")
    zero = const("b0", np.zeros(w.shape[3], np.int32), w.quant.scale * g.tensor("x").quant.s, axis=0)
    twin = one_op_graph("DEPTHWISE_CONV_2D", [g.tensor("x"), w, zero], [y], g.nodes[0].attrs)
    for r, t in zip((run_reference(g, s) for s in samples), run_tflm(write_tflite(twin), samples)):
        np.testing.assert_array_equal(r[0], t[0].reshape(r[0].shape))


def _assert_informative(g, samples):
    """Guard against cases that could not fail: the outputs must not be all one value."""
    out = np.concatenate([run_reference(g, s)[0].ravel() for s in samples])
    if out.size >= 8:
        assert np.unique(out).size > 2, "degenerate case: outputs nearly constant"
