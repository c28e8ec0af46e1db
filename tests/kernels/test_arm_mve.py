"""arm_mve kernel variant (Cortex-M55 Helium): one-op graphs and shared models run in QEMU (mps3-an547) with
runtime_c/kernels/arm_mve/, bit for bit against the integer reference (== the portable C kernels == TFLM)."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from microforge.ops._conv_util import out_size
from microforge.ops.add import AddAttrs
from microforge.ops.conv2d import Conv2DAttrs
from microforge.ops.depthwise_conv2d import DepthwiseConv2DAttrs
from microforge.ops.fully_connected import FullyConnectedAttrs
from microforge.pipeline import compile_graph
from microforge.reference import run_reference
from microforge.targets import load_target
from microforge.validate.host import run_host

from support import SHARED, act, const, one_op_graph, random_inputs

TARGET = "corstone300_m55"
ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def _need_tools():
    t = load_target(TARGET)
    for exe in (t.toolchain, t.qemu.system):
        if shutil.which(exe) is None:
            pytest.skip(f"{exe} not installed")
    return t


@pytest.fixture(scope="module")
def mve():
    """The M55 target with the arm_mve kernels (whatever the profile's default)."""
    return dataclasses.replace(_need_tools(), kernels="arm_mve")


def run_mve(graph, samples, outdir, target, profile=False):
    from microforge.validate.qemu import run_qemu

    compile_graph(graph, outdir, target=target)
    meta = json.loads((outdir / "metadata.json").read_text())
    return run_qemu(outdir, target, samples, profile=profile), meta


def assert_mve_exact(graph, samples, outdir, target) -> dict:
    (outs, _), meta = run_mve(graph, samples, outdir, target)
    for k, s in enumerate(samples):
        ref = run_reference(graph, s)
        for i, (a, b) in enumerate(zip(ref, outs[k])):
            diff = np.flatnonzero(a.astype(np.int64).ravel() != np.asarray(b).astype(np.int64).ravel())
            assert diff.size == 0, f"sample {k} output {i}: reference != arm_mve at {diff.size} positions, first {diff[:8]}"
    return meta


# ---------------------------------------------------------------------------------------------- graphs


def _scales(rng, cout, taps, activation, per_channel=True):
    xs = float(rng.uniform(0.005, 0.2))
    ws = rng.uniform(0.001, 0.05, cout) if per_channel else np.float64(rng.uniform(0.001, 0.05))
    real_std = xs * np.mean(ws) * 5400 * np.sqrt(taps)
    bound = {"RELU6": 6.0, "RELU_N1_TO_1": 1.0}.get(activation)
    if bound is not None:
        ws = ws * (bound / real_std)
        real_std = bound
    ys = float(real_std * 3 / 128 * rng.uniform(0.3, 3))
    if rng.uniform() < 0.15:  # a multiplier above 1 (shift > 0)
        ys = float(xs * np.max(ws) * rng.uniform(0.2, 0.9))
    return xs, ws, ys


def conv_graph(rng, n, h, w, cin, cout, kh, kw, attrs, groups=1, bias=True, per_channel=True):
    taps = kh * kw * (cin // groups)
    xs, ws, ys = _scales(rng, cout, taps, attrs.activation, per_channel)
    x = act("x", (n, h, w, cin), xs, int(rng.integers(-128, 128)))
    wt = const("w", rng.integers(-127, 128, (cout, kh, kw, cin // groups)).astype(np.int8), ws, axis=0)
    b = None
    if bias:
        b_max = int(3000 * np.sqrt(taps))
        b = const("b", rng.integers(-b_max, b_max + 1, cout).astype(np.int32), np.atleast_1d(ws) * xs, axis=0)
    oh = out_size(attrs.padding, h, kh, attrs.stride_h, attrs.dilation_h)
    ow = out_size(attrs.padding, w, kw, attrs.stride_w, attrs.dilation_w)
    y = act("y", (n, oh, ow, cout), ys, int(rng.integers(-128, 128)))
    return one_op_graph("CONV_2D", [x, wt, b], [y], attrs)


def dw_graph(rng, n, h, w, cin, mult, kh, kw, attrs, bias=True, per_channel=True):
    cout = cin * mult
    xs, ws, ys = _scales(rng, cout, kh * kw, attrs.activation, per_channel)
    x = act("x", (n, h, w, cin), xs, int(rng.integers(-128, 128)))
    wt = const("w", rng.integers(-127, 128, (1, kh, kw, cout)).astype(np.int8), ws, axis=3)
    b = None
    if bias:
        b_max = int(3000 * np.sqrt(kh * kw))
        b = const("b", rng.integers(-b_max, b_max + 1, cout).astype(np.int32), np.atleast_1d(ws) * xs, axis=0)
    oh = out_size(attrs.padding, h, kh, attrs.stride_h, attrs.dilation_h)
    ow = out_size(attrs.padding, w, kw, attrs.stride_w, attrs.dilation_w)
    y = act("y", (n, oh, ow, cout), ys, int(rng.integers(-128, 128)))
    return one_op_graph("DEPTHWISE_CONV_2D", [x, wt, b], [y], attrs)


def fc_graph(rng, batches, cin, cout, activation, bias=True, per_channel=False):
    xs, ws, ys = _scales(rng, cout, cin, activation, per_channel)
    x = act("x", (batches, cin), xs, int(rng.integers(-128, 128)))
    wt = const("w", rng.integers(-127, 128, (cout, cin)).astype(np.int8), ws, axis=0)
    b = None
    if bias:
        b_max = int(3000 * np.sqrt(cin))
        b = const("b", rng.integers(-b_max, b_max + 1, cout).astype(np.int32), np.atleast_1d(ws) * xs, axis=0)
    y = act("y", (batches, cout), ys, int(rng.integers(-128, 128)))
    return one_op_graph("FULLY_CONNECTED", [x, wt, b], [y], FullyConnectedAttrs(activation, False))


# ---------------------------------------------------------------------------------------------- cases


def conv_case(seed):
    rng = np.random.default_rng(5000 + seed)
    kind = seed % 4
    if kind == 0:  # pointwise (the VMLADAVA matrix path), odd channel counts, C_in around a 16-byte boundary
        kh = kw = 1
        attrs = Conv2DAttrs("VALID", int(rng.integers(1, 3)), int(rng.integers(1, 3)), 1, 1, ACTIVATIONS[seed % 4])
        cin, cout = int(rng.choice([3, 8, 15, 16, 17, 33, 64])), int(rng.choice([4, 5, 7, 16, 19]))
    elif kind == 1:  # KxK with padding: border windows sum their valid weights
        kh, kw = (int(v) for v in rng.integers(1, 5, 2))
        attrs = Conv2DAttrs("SAME", int(rng.integers(1, 3)), int(rng.integers(1, 3)), 1, 1, ACTIVATIONS[seed % 4])
        cin, cout = int(rng.integers(1, 20)), int(rng.integers(4, 13))
    elif kind == 2:  # dilation (dilation_w > 1 runs the generic copy), VALID
        kh, kw = (int(v) for v in rng.integers(1, 4, 2))
        attrs = Conv2DAttrs("VALID", 1, 1, int(rng.integers(1, 3)), int(rng.integers(1, 3)), ACTIVATIONS[seed % 4])
        cin, cout = int(rng.integers(1, 12)), int(rng.integers(1, 9))
    else:  # 1x1 with SAME padding at stride 2, or fewer than four output channels
        kh = kw = int(rng.choice([1, 3]))
        attrs = Conv2DAttrs("SAME", 2, 2, 1, 1, ACTIVATIONS[seed % 4])
        cin, cout = int(rng.integers(1, 40)), int(rng.integers(1, 6))
    h = (kh - 1) * attrs.dilation_h + 1 + int(rng.integers(0, 7))
    w = (kw - 1) * attrs.dilation_w + 1 + int(rng.integers(0, 7))
    n = 1 + seed % 2
    return conv_graph(rng, n, h, w, cin, cout, kh, kw, attrs, bias=seed % 5 != 4, per_channel=seed % 7 != 3), rng


def dw_case(seed):
    rng = np.random.default_rng(6000 + seed)
    mult = (1, 1, 1, 8, 4, 2, 3)[seed % 7]
    kh, kw = (3, 3) if seed % 3 else (int(v) for v in rng.integers(1, 6, 2))
    dil = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if seed % 5 == 2 else (1, 1)
    attrs = DepthwiseConv2DAttrs(("SAME", "VALID")[seed % 2], int(rng.integers(1, 3)), int(rng.integers(1, 3)),
                                 mult, dil[0], dil[1], ACTIVATIONS[seed % 4])  # fmt: skip
    cin = int(rng.choice([1, 5, 8, 16, 19, 32, 40])) if mult == 1 else int(rng.integers(1, 6))
    h = (kh - 1) * dil[0] + 1 + int(rng.integers(0, 6))
    w = (kw - 1) * dil[1] + 1 + int(rng.integers(0, 6))
    return dw_graph(rng, 1 + seed % 2, h, w, cin, mult, kh, kw, attrs, bias=seed % 5 != 4,
                    per_channel=seed % 7 != 3), rng  # fmt: skip


def fc_case(seed):
    rng = np.random.default_rng(7000 + seed)
    cin, cout = int(rng.choice([1, 7, 16, 33, 100, 250])), int(rng.choice([1, 3, 4, 9, 10]))
    return fc_graph(rng, 1 + seed % 3, cin, cout, ACTIVATIONS[seed % 4], bias=seed % 4 != 3,
                    per_channel=seed % 2 == 0), rng  # fmt: skip


FAST = 8
SLOW = 24


@pytest.mark.parametrize("seed", range(FAST))
def test_conv2d(seed, tmp_path, mve):
    g, rng = conv_case(seed)
    meta = assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)
    assert meta["kernel_sources"]["mf_conv2d_s8"] == "arm_mve"


@pytest.mark.parametrize("cin", [8, 16, 32])
def test_conv2d_pointwise_small_cin(cin, tmp_path, mve):
    """The C_in 8/16/32 pointwise asm path (C_out % 4 == 0, no left shift): strides, batch, every activation."""
    rng = np.random.default_rng(900 + cin)
    cout = {8: 12, 16: 20, 32: 8}[cin]
    attrs = Conv2DAttrs("VALID", 1 + cin // 16 % 2, 1 + cin // 8 % 2, 1, 1, ACTIVATIONS[cin // 8 % 4])
    g = conv_graph(rng, 2, 5, 7, cin, cout, 1, 1, attrs)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


@pytest.mark.parametrize("seed", range(FAST))
def test_depthwise_conv2d(seed, tmp_path, mve):
    g, rng = dw_case(seed)
    meta = assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)
    assert meta["kernel_sources"]["mf_depthwise_conv2d_s8"] == "arm_mve"


@pytest.mark.parametrize("mult", [4, 8, 12, 24])
def test_depthwise_single_channel(mult, tmp_path, mve):
    """C == 1 (first layers): the window-gather VMLADAVA path (asm run for <= 16 channels, intrinsics above),
    interior and border pixels, strides, dilation."""
    rng = np.random.default_rng(1300 + mult)
    kh, kw = {4: (3, 3), 8: (3, 3), 12: (4, 2), 24: (3, 3)}[mult]
    stride = 1 + mult % 8 // 4
    attrs = DepthwiseConv2DAttrs("SAME", stride, 2, mult, 1 + mult // 12, 1, ACTIVATIONS[mult // 4 % 4])
    g = dw_graph(rng, 2, 9, 11, 1, mult, kh, kw, attrs, bias=mult != 12)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


def dw_c1big_case(seed):
    """One input channel, more than 16 taps (micro_speech's 10x8 first layer): the patch + transposed-filter
    path, multipliers 4..13 (partial last group), strides, SAME/VALID, dilation_h, batch 2."""
    rng = np.random.default_rng(2700 + seed)
    while True:
        kh, kw = int(rng.integers(2, 11)), int(rng.integers(1, 11))
        if kh * kw > 16:
            break
    mult = (8, 4, 5, 12, 13)[seed % 5]
    dh = 2 if seed % 4 == 3 else 1
    attrs = DepthwiseConv2DAttrs(("SAME", "VALID")[seed % 2], 1 + seed % 2, 1 + seed % 3 // 2, mult, dh, 1,
                                 ACTIVATIONS[seed % 4])  # fmt: skip
    h = (kh - 1) * dh + 1 + int(rng.integers(0, 6))
    w = kw + int(rng.integers(0, 6))
    return dw_graph(rng, 1 + seed % 2, h, w, 1, mult, kh, kw, attrs, bias=seed % 5 != 4,
                    per_channel=seed % 7 != 3), rng  # fmt: skip


@pytest.mark.parametrize("seed", range(FAST))
def test_depthwise_single_channel_large(seed, tmp_path, mve):
    g, rng = dw_c1big_case(seed)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


def test_depthwise_micro_speech_shape(tmp_path, mve):
    """micro_speech's first layer: 49x40x1, 10x8 filter, multiplier 8, stride 2, SAME."""
    rng = np.random.default_rng(2800)
    attrs = DepthwiseConv2DAttrs("SAME", 2, 2, 8, 1, 1, "RELU")
    g = dw_graph(rng, 1, 49, 40, 1, 8, 10, 8, attrs)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


@pytest.mark.parametrize("cin", [8, 24, 128])
def test_depthwise_interior_runs(cin, tmp_path, mve):
    """Multiplier 1, C % 8 == 0: interior pixel runs (the per-pixel asm block, offset folded into the bias) between
    border pixels, stride 1/2, dilation_h 2, batch 2, SAME and VALID."""
    rng = np.random.default_rng(1400 + cin)
    kh, kw = {8: (3, 3), 24: (5, 3), 128: (3, 3)}[cin]
    attrs = DepthwiseConv2DAttrs(("SAME", "VALID")[cin % 16 // 8], 1 + cin // 24 % 2, 1 + cin // 8 % 2, 1,
                                 1 + cin // 24 % 2, 1, ACTIVATIONS[cin // 8 % 4])  # fmt: skip
    g = dw_graph(rng, 2, 10, 12, cin, 1, kh, kw, attrs, bias=cin != 24)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


@pytest.mark.parametrize("cin", [17, 24, 40, 48, 63, 64])
def test_conv2d_pointwise_patch(cin, tmp_path, mve):
    """16 < C_in <= 64 pointwise (C_out % 4 == 0, no left shift): each pixel read in place as a patch (the
    first vector zero-extended past C_in % 16), strides, batch 2, every activation, up to 160 channels."""
    rng = np.random.default_rng(2000 + cin)
    cout = {17: 8, 24: 160, 40: 12, 48: 4, 63: 20, 64: 64}[cin]
    attrs = Conv2DAttrs("VALID", 1 + cin % 2, 1 + cin // 8 % 2, 1, 1, ACTIVATIONS[cin % 4])
    g = conv_graph(rng, 2, 5, 7, cin, cout, 1, 1, attrs, bias=cin != 40, per_channel=cin != 48)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


@pytest.mark.parametrize("cout", [4, 16, 64])
def test_conv2d_pointwise_cin8_layer(cout, tmp_path, mve):
    """C_in 8, stride 1, C_out % 4 == 0 <= 64: the whole-layer asm block (pw8), batch 2, every activation."""
    rng = np.random.default_rng(1700 + cout)
    attrs = Conv2DAttrs("VALID", 1, 1, 1, 1, ACTIVATIONS[cout // 4 % 4])
    g = conv_graph(rng, 2, 5, 7, 8, cout, 1, 1, attrs, bias=cout != 16)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


def dw3_case(seed):
    """3x3, multiplier 1, C % 16 == 0: the int8-lane asm path (tap vectors in the block up to 64 channels, the
    filter read in place for 80..144), interior pixels walking the input, border
    pixels a tap table with the zero point for padding), strides, dilation, SAME/VALID, narrow images (W 1..7),
    batch 2, per-tensor/per-channel, every activation (left shifts take the older path)."""
    rng = np.random.default_rng(2300 + seed)
    cin = (16, 32, 48, 64, 80, 128, 144)[seed % 7]
    dil = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if seed % 5 == 2 else (1, 1)
    attrs = DepthwiseConv2DAttrs(("SAME", "VALID")[seed % 3 == 2], int(rng.integers(1, 3)), int(rng.integers(1, 3)), 1,
                                 dil[0], dil[1], ACTIVATIONS[seed % 4])  # fmt: skip
    lo_h, lo_w = (2 * dil[0] + 1, 2 * dil[1] + 1) if attrs.padding == "VALID" else (1, 1)
    h = lo_h + int(rng.integers(0, 8))
    w = lo_w + int(rng.integers(0, 6))
    return dw_graph(rng, 1 + seed % 2, h, w, cin, 1, 3, 3, attrs, bias=seed % 5 != 4, per_channel=seed % 7 != 3), rng


@pytest.mark.parametrize("seed", range(FAST))
def test_depthwise_3x3_c16(seed, tmp_path, mve):
    g, rng = dw3_case(seed)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(FAST, SLOW))
def test_depthwise_3x3_c16_more(seed, tmp_path, mve):
    g, rng = dw3_case(seed)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


def test_depthwise_ds_cnn_shape(tmp_path, mve):
    """DS-CNN's depthwise layers: 25x5x64, 3x3, stride 1, SAME."""
    rng = np.random.default_rng(2400)
    attrs = DepthwiseConv2DAttrs("SAME", 1, 1, 1, 1, 1, "RELU")
    g = dw_graph(rng, 1, 25, 5, 64, 1, 3, 3, attrs)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


@pytest.mark.parametrize("act_dil", [("RELU6", 1), ("NONE", 2), ("RELU", 1)])
def test_depthwise_c8_3x3_runs(act_dil, tmp_path, mve):
    """C == 8, 3x3 filter, multiplier 1: the unrolled interior-run asm block (dw_run8_3x3), stride 1 and 2,
    dilation_h 1/2, SAME padding (border pixels around the runs), batch 2."""
    activation, dil = act_dil
    rng = np.random.default_rng(1800 + dil + len(activation))
    stride = 1 + (activation == "RELU")
    attrs = DepthwiseConv2DAttrs("SAME", stride, stride, 1, dil, 1, activation)
    g = dw_graph(rng, 2, 9, 12, 8, 1, 3, 3, attrs, bias=activation != "NONE")
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


def window_case(seed):
    """C_in 1-4, KH * KW * C_in <= 32 and a window spanning <= 256 input bytes: the byte-gather window path."""
    rng = np.random.default_rng(1900 + seed)
    cin = 1 + seed % 4
    while True:
        kh, kw = (int(v) for v in rng.integers(1, 6, 2))
        if 1 < kh * kw and kh * kw * cin <= 32:
            break
    dil = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if seed % 3 == 2 else (1, 1)
    attrs = Conv2DAttrs(("SAME", "VALID")[seed % 2], int(rng.integers(1, 3)), int(rng.integers(1, 3)), dil[0], dil[1],
                        ACTIVATIONS[seed % 4])  # fmt: skip
    h = (kh - 1) * dil[0] + 1 + int(rng.integers(0, 6))
    w = (kw - 1) * dil[1] + 1 + int(rng.integers(0, 6))
    cout = int(rng.choice([4, 5, 8, 13, 16, 64]))
    return conv_graph(rng, 1 + seed % 2, h, w, cin, cout, kh, kw, attrs, bias=seed % 5 != 4,
                      per_channel=seed % 7 != 3), rng  # fmt: skip


@pytest.mark.parametrize("seed", range(FAST))
def test_conv2d_small_window(seed, tmp_path, mve):
    """The gathered-window path (first layers, e.g. 3x3 RGB): border taps replaced by the zero point, strides,
    dilation, batch 2, partial last channel group, every activation."""
    g, rng = window_case(seed)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(FAST, SLOW))
def test_conv2d_small_window_more(seed, tmp_path, mve):
    g, rng = window_case(seed)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


def patch_case(seed):
    """KxK windows of 33..64 bytes (e.g. DS-CNN's 10x4 first layer on one channel): the im2col patch path, with
    C_in 1-4, strides, padding (zero-point taps), dilation_h, odd and small channel counts, batch 2."""
    rng = np.random.default_rng(2100 + seed)
    cin = 1 + seed % 4
    while True:
        kh, kw = int(rng.integers(1, 11)), int(rng.integers(1, 11))
        if 32 < kh * kw * cin <= 64:
            break
    dh = int(rng.integers(1, 3)) if seed % 4 == 3 else 1
    attrs = Conv2DAttrs(("SAME", "VALID")[seed % 2], int(rng.integers(1, 3)), int(rng.integers(1, 3)), dh, 1,
                        ACTIVATIONS[seed % 4])  # fmt: skip
    h = (kh - 1) * dh + 1 + int(rng.integers(0, 6))
    w = kw + int(rng.integers(0, 8)) if seed % 3 else int(rng.integers(1, kw + 1))
    if attrs.padding == "VALID":
        w = max(w, kw)
    cout = int(rng.choice([4, 5, 7, 12, 64, 130]))
    return conv_graph(rng, 1 + seed % 2, h, w, cin, cout, kh, kw, attrs, bias=seed % 5 != 4,
                      per_channel=seed % 7 != 3), rng  # fmt: skip


@pytest.mark.parametrize("seed", range(FAST))
def test_conv2d_patch(seed, tmp_path, mve):
    g, rng = patch_case(seed)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(FAST, SLOW))
def test_conv2d_patch_more(seed, tmp_path, mve):
    g, rng = patch_case(seed)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


def long_patch_case(seed):
    """KxK windows of more than 64 bytes (ResNet-8's 3x3 over 16/32/64 channels): the patch in memory, a DLS/LE
    dot loop per group of four channels when L % 16 == 0 (C_in 16, 32, 48, 64; else the C loop), strides,
    SAME/VALID, dilation_h, C_out up to 180 (beyond the blocks' room: the C loop)."""
    rng = np.random.default_rng(2500 + seed)
    cin = (16, 32, 48, 24, 64, 20)[seed % 6]
    kh, kw = ((3, 3), (3, 3), (2, 3), (3, 3), (3, 2), (5, 1))[seed % 6]
    dh = 2 if seed % 7 == 5 else 1
    attrs = Conv2DAttrs(("SAME", "VALID")[seed % 2], 1 + seed % 3 // 2, 1 + seed % 4 // 3, dh, 1, ACTIVATIONS[seed % 4])
    h = (kh - 1) * dh + 1 + int(rng.integers(0, 5))
    w = kw + int(rng.integers(0, 6))
    cout = int(rng.choice([4, 8, 16, 36, 180]))
    return conv_graph(rng, 1 + seed % 2, h, w, cin, cout, kh, kw, attrs, bias=seed % 5 != 4,
                      per_channel=seed % 7 != 3), rng  # fmt: skip


@pytest.mark.parametrize("seed", range(FAST))
def test_conv2d_long_patch(seed, tmp_path, mve):
    g, rng = long_patch_case(seed)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(FAST, SLOW))
def test_conv2d_long_patch_more(seed, tmp_path, mve):
    g, rng = long_patch_case(seed)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


@pytest.mark.parametrize("cin", [80, 128, 256])
def test_conv2d_pointwise_long(cin, tmp_path, mve):
    """Pointwise C_in % 16 == 0 above 64: each pixel through the DLS/LE dot loop (C_out <= 168), or the C loop."""
    rng = np.random.default_rng(2600 + cin)
    cout = {80: 12, 128: 168, 256: 172}[cin]
    attrs = Conv2DAttrs("VALID", 1 + cin // 128 % 2, 1, 1, 1, ACTIVATIONS[cin // 16 % 4])
    g = conv_graph(rng, 2, 3, 4, cin, cout, 1, 1, attrs)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


def test_conv2d_ds_cnn_first_layer(tmp_path, mve):
    """DS-CNN's first layer shape: 10x4 filter, one input channel -> 64, stride 2, on a pre-padded 58x12 input."""
    rng = np.random.default_rng(2200)
    g = conv_graph(rng, 1, 58, 12, 1, 64, 10, 4, Conv2DAttrs("VALID", 2, 2, 1, 1, "RELU"))
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


@pytest.mark.parametrize("seed", range(4))
def test_fully_connected(seed, tmp_path, mve):
    g, rng = fc_case(seed)
    meta = assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)
    assert meta["kernel_sources"]["mf_fully_connected_s8"] == "arm_mve"


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(FAST, SLOW))
def test_conv2d_more(seed, tmp_path, mve):
    g, rng = conv_case(seed)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(FAST, SLOW))
def test_depthwise_conv2d_more(seed, tmp_path, mve):
    g, rng = dw_case(seed)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4, 12))
def test_fully_connected_more(seed, tmp_path, mve):
    g, rng = fc_case(seed)
    assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)


def test_requantization_extremes(tmp_path, mve):
    """Scales that make the multiplier's shift large left and large right, rounding ties included: a 1x1
    conv whose accumulators sweep a wide range."""
    rng = np.random.default_rng(11)
    for k, (ws, ys) in enumerate([(0.05, 1e-4), (1e-5, 10.0), (0.02, 0.02 * 0.1 * 0.5)]):
        x = act("x", (1, 4, 4, 20), 0.1, int(rng.integers(-128, 128)))
        wt = const("w", rng.integers(-127, 128, (6, 1, 1, 20)).astype(np.int8), np.full(6, ws), axis=0)
        y = act("y", (1, 4, 4, 6), ys, int(rng.integers(-128, 128)))
        g = one_op_graph("CONV_2D", [x, wt, None], [y], Conv2DAttrs("VALID", 1, 1, 1, 1, "NONE"))
        assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / f"out{k}", mve)


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"])
def test_rounding_ties(op, tmp_path, mve):
    """Effective scales in [0.25, 1) with small accumulators: the final rounding shift is by 1 or 2 bits, so
    about half of the outputs are exact ties, negative ones included (rounded away from zero, unlike VRSHL)."""
    rng = np.random.default_rng(13)
    scales = rng.uniform(0.26, 0.95, 16) * 0.01 / (0.1 * 0.03)  # weight scales giving real multipliers 0.26..0.95
    x = act("x", (1, 5, 5, 16) if op != "FULLY_CONNECTED" else (3, 16), 0.1, int(rng.integers(-20, 20)))
    small = rng.integers(-1, 2, (16, 16)).astype(np.int8)
    if op == "CONV_2D":
        wt = const("w", small.reshape(16, 1, 1, 16), scales * 0.03, axis=0)
        y = act("y", (1, 5, 5, 16), 0.01 * 0.1 * 0.03 / 0.003, 3)
        g = one_op_graph(op, [x, wt, None], [y], Conv2DAttrs("VALID", 1, 1, 1, 1, "NONE"))
    elif op == "DEPTHWISE_CONV_2D":
        wt = const("w", rng.integers(-1, 2, (1, 3, 3, 16)).astype(np.int8), scales * 0.03, axis=3)
        y = act("y", (1, 5, 5, 16), 0.01, 3)
        g = one_op_graph(op, [x, wt, None], [y], DepthwiseConv2DAttrs("SAME", 1, 1, 1, 1, 1, "NONE"))
    else:
        wt = const("w", small, scales * 0.03, axis=0)
        y = act("y", (3, 16), 0.01, 3)
        g = one_op_graph(op, [x, wt, None], [y], FullyConnectedAttrs("NONE", False))
    samples = [[rng.integers(-40, 40, size=g.tensor(g.inputs[0]).shape).astype(np.int8)] for _ in range(3)]
    assert_mve_exact(g, samples, tmp_path / "out", mve)


def add_case(seed):
    """Same shapes (one contiguous run, odd lengths for the predicated tail), a broadcast over rows/columns
    (per-row runs), a broadcast channel (the reference loop), a constant input; scales that make either input
    the larger (its shift 0) and ties."""
    rng = np.random.default_rng(8000 + seed)
    shape = (1 + seed % 2, int(rng.integers(1, 6)), int(rng.integers(1, 7)), int(rng.choice([1, 3, 8, 13, 16])))
    kind = seed % 4
    b_shape = {0: shape, 1: (1, 1, shape[2], shape[3]), 2: shape[:3] + (1,), 3: shape}[kind]
    s1, s2 = (float(v) for v in rng.uniform(0.01, 0.2, 2))
    so = max(s1, s2) * float(rng.uniform(0.3, 4.0))
    if seed % 3 == 0:  # equal scales, output scale 2 or 4 times larger: (a + b + offsets) / 2 or 4, many exact ties
        s2 = s1
        so = s1 * (2.0, 4.0)[seed % 2]
    a = act("a", shape, s1, int(rng.integers(-128, 128)))
    if kind == 3:
        b = const("b", rng.integers(-128, 128, b_shape).astype(np.int8), s2, [int(rng.integers(-128, 128))])
    else:
        b = act("b", b_shape, s2, int(rng.integers(-128, 128)))
    y = act("y", shape, so, int(rng.integers(-128, 128)))
    return one_op_graph("ADD", [a, b], [y], AddAttrs(ACTIVATIONS[seed % 3])), rng


@pytest.mark.parametrize("seed", range(8))
def test_add(seed, tmp_path, mve):
    g, rng = add_case(seed)
    meta = assert_mve_exact(g, random_inputs(g, rng, 2), tmp_path / "out", mve)
    assert meta["kernel_sources"]["mf_add_s8"] == "arm_mve"


@pytest.mark.parametrize("model", ["person_detect", "micro_speech_quantized"])
def test_shared_model(model, tmp_path, mve):
    """A whole model in QEMU with arm_mve kernels (arenas overlap in place) == the host build (reference
    kernels), and fewer instructions per MAC than the reference kernels on the same core."""
    from microforge.importers.tflite import import_tflite

    path = SHARED / "tflite" / f"{model}.tflite"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    g = import_tflite(path)
    rng = np.random.default_rng(3)
    samples = random_inputs(g, rng, 2)
    (outs, prof), meta = run_mve(g, samples, tmp_path / "out", mve, profile=True)
    host, _ = run_host(tmp_path / "out", samples)
    for k in range(len(samples)):
        for a, b in zip(host[k], outs[k]):
            assert np.array_equal(a, b), f"{model} sample {k}: QEMU arm_mve != host reference"
    macs = sum(layer["macs"] or 0 for layer in prof["layers"])
    assert set(meta["kernel_sources"].values()) >= {"arm_mve"}
    if model == "person_detect":  # reference kernels: 11.5 instructions/MAC on this core
        assert prof["instructions"] / macs < 1.0, prof["instructions"] / macs
