"""The arm_dsp CONV_2D paths in QEMU, bit for bit against the integer reference.

The whole-layer path for 1x1 stride-1 convolutions with C_in 8 or 16 (pre-extended filter table on the stack, no
window copy; C_in 8 two pixels per table pass): every activation (clamped and unclamped assembly loops, the C loop
for C_in 16 with clamps), no bias, batches, per-tensor weights, odd pixel counts, C_out up to the table limit and
just over it, tiny scales (shift < -22: the generic paths), an in-place chain.
The 6- and 4-pixel im2col blocks (int16 patch lanes in the 2 KB scratch, assembly channel loops): per-call
{bias, m, k, e} table, constants from the arrays when the table does not fit, partial sums for patches in chunks
(6-pixel when cheaper, else 4-pixel), patches ending mid-group (padded filter copy, or the C loop for the last
channel), byte staging for C_in % 4 != 0, borders, dilation, strides, 1-5 pixels left over; randomized shapes
with C_in 1..300 and kernels 1..10; in-place chains; instruction counts of person_detect / ResNet-8 / DS-CNN
shapes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from kernels.test_arm_dsp import ACTIVATIONS, M4, assert_qemu_exact, chain, merge, pytestmark, with_extremes  # noqa: F401
from ops.test_conv2d import conv_case

from microforge.ops.conv2d import Conv2DAttrs
from microforge.plan.memory import plan_memory
from microforge.targets import load_target

from support import random_inputs


def c(pad: str, act: str) -> Conv2DAttrs:
    return Conv2DAttrs(pad, 1, 1, 1, 1, act)


def pointwise_cases(rng):
    cases = []
    for k, (cin, cout) in enumerate([(8, 16), (16, 32), (8, 1), (16, 3), (8, 64), (16, 42), (8, 65), (16, 43),
                                     (8, 7), (16, 17)]):  # fmt: skip
        n = 1 + k % 2
        h, w = (int(v) for v in rng.integers(1, 7, 2))
        cases.append(conv_case(rng, n, h, w, cin, cout, 1, 1, c(("SAME", "VALID")[k % 2], ACTIVATIONS[k % 4]),
                               per_channel=k % 5 != 3, bias=k % 3 != 2))  # fmt: skip
    # tiny scales: shift < -22 (no zero-point folding: the other paths); large scale with left shift
    cases.append(conv_case(rng, 1, 3, 5, 8, 4, 1, 1, c("SAME", "NONE"), scales=(0.01, np.full(4, 1e-6), 50.0)))
    cases.append(conv_case(rng, 1, 3, 4, 16, 5, 1, 1, c("SAME", "NONE"), scales=(0.9, np.full(5, 0.8), 0.05)))
    return cases


def test_pointwise_small_cin_bit_exact(tmp_path):
    rng = np.random.default_rng(91)
    graph = merge(pointwise_cases(rng), "dsp_pw_small")
    assert_qemu_exact(graph, with_extremes(graph, rng, 3), tmp_path / "out")


@pytest.mark.parametrize("seed", range(3))
def test_pointwise_small_cin_random_bit_exact(seed, tmp_path):
    rng = np.random.default_rng(200 + seed)
    parts = []
    for _ in range(8):
        cin, cout = int(rng.choice([8, 16])), int(rng.integers(1, 50))
        h, w = (int(v) for v in rng.integers(1, 9, 2))
        parts.append(conv_case(rng, int(rng.integers(1, 3)), h, w, cin, cout, 1, 1,
                               c("SAME", ACTIVATIONS[int(rng.integers(0, 4))]), per_channel=bool(rng.integers(0, 2)),
                               bias=bool(rng.integers(0, 4))))  # fmt: skip
    graph = merge(parts, f"dsp_pw_rand{seed}")
    assert_qemu_exact(graph, with_extremes(graph, rng, 2), tmp_path / "out")


def test_pointwise_small_cin_inplace_chain(tmp_path):
    """Chained 1x1 layers whose outputs the arena planner overlaps with their dying inputs."""
    rng = np.random.default_rng(93)
    s = (0.05, None, 0.05)
    parts = [
        conv_case(rng, 1, 9, 9, 16, 16, 1, 1, c("SAME", "RELU6")),
        conv_case(rng, 1, 9, 9, 16, 8, 1, 1, c("SAME", "NONE"), scales=s),
        conv_case(rng, 1, 9, 9, 8, 8, 1, 1, c("SAME", "RELU"), scales=s),
        conv_case(rng, 1, 9, 9, 8, 16, 1, 1, c("SAME", "NONE"), scales=s),
        conv_case(rng, 1, 9, 9, 16, 16, 1, 1, c("SAME", "RELU_N1_TO_1"), scales=s),
    ]
    graph = chain(parts, "dsp_pw_chain")
    assert plan_memory(graph).overlapped_pairs, "the planner should overlap at least one output with its input"
    assert_qemu_exact(graph, random_inputs(graph, rng, 3), tmp_path / "out")


def test_person_detect_pointwise_shapes_instructions(tmp_path):
    """person_detect's layers 2 (C_in 8 -> 16, 48x48) and 4 (16 -> 32, 24x24): 4.09 and 2.31 instructions/MAC
    with the 4-pixel blocks; the whole-layer path reaches ~1.95 (two pixels, two channels per pass) and ~1.48 (two channels per pass; their RELU6
    bounds are int8's: no clamp, the assembly loop, as with activation NONE here)."""
    rng = np.random.default_rng(94)
    graph = merge([conv_case(rng, 1, 48, 48, 8, 16, 1, 1, c("SAME", "NONE")),
                   conv_case(rng, 1, 24, 24, 16, 32, 1, 1, c("SAME", "NONE"))], "dsp_pw_pd")  # fmt: skip
    prof = assert_qemu_exact(graph, random_inputs(graph, rng, 1), tmp_path / "out")
    per_mac = [layer["instructions"] / layer["macs"] for layer in prof["layers"]]
    assert per_mac[0] < 2.02 and per_mac[1] < 1.54, per_mac


def a(pad: str, s: int = 1, act: str = "RELU", d: int = 1) -> Conv2DAttrs:
    return Conv2DAttrs(pad, s, s, d, d, act)


def test_im2col_block_shapes_instructions(tmp_path):
    """Instructions/MAC of the im2col blocks on model shapes (RELU: low clamp on): ResNet-8's 3x3 C_in 3 / 16 / 32
    (32 in chunks) / 64 (4-pixel chunks) convolutions, person_detect's 1x1 32 -> 32 and 128 -> 128 (constants
    from the arrays), DS-CNN's 10x4 C_in 1 stride-2 and 1x1 64 -> 64 on 125 pixels (5 left over)."""
    rng = np.random.default_rng(95)
    shapes = [  # h, w, C_in, C_out, k, attrs, bound
        (32, 32, 3, 16, 3, a("SAME"), 2.2),
        (32, 32, 16, 16, 3, a("SAME"), 1.24),
        (16, 16, 32, 32, 3, a("SAME"), 1.18),
        (8, 8, 64, 64, 3, a("SAME"), 1.17),
        (24, 24, 32, 32, 1, a("SAME"), 1.55),
        (6, 6, 128, 128, 1, a("SAME"), 1.14),
        (58, 12, 1, 64, (10, 4), a("VALID", 2), 1.53),
        (25, 5, 64, 64, 1, a("SAME"), 1.26),
    ]
    parts = []
    for h, w, cin, cout, k, attrs, _ in shapes:
        kh, kw = (k, k) if isinstance(k, int) else k
        parts.append(conv_case(rng, 1, h, w, cin, cout, kh, kw, attrs))
    graph = merge(parts, "dsp_im2col_shapes")
    prof = assert_qemu_exact(graph, random_inputs(graph, rng, 1), tmp_path / "out")
    per_mac = [layer["instructions"] / layer["macs"] for layer in prof["layers"]]
    assert all(v < s[-1] for v, s in zip(per_mac, shapes)), per_mac


def im2col_path_cases(rng):
    """One case per im2col block path (see the module docstring)."""
    cases = [
        (1, 7, 9, 16, 16, 3, 3, a("SAME"), True, True),  # 6-pixel table, 63 pixels: 3 left over (pixel path)
        (1, 5, 7, 128, 128, 1, 1, a("SAME", act="NONE"), True, True),  # 6-pixel, constants from arrays, 4 left
        (2, 6, 5, 32, 24, 3, 3, a("SAME", act="RELU6"), True, True),  # 6-pixel chunks (partial sums), batches
        (1, 6, 7, 64, 64, 3, 3, a("SAME", act="RELU_N1_TO_1"), False, True),  # 4-pixel chunks, no bias
        (1, 9, 9, 3, 16, 3, 3, a("SAME"), True, False),  # padded filter copy, byte staging, per-tensor
        (1, 8, 9, 3, 40, 5, 5, a("SAME", act="NONE"), True, True),  # no room for the copy: last channel in C
        (1, 9, 8, 5, 7, 3, 3, a("VALID", 2), False, True),  # staging, stride 2, no bias, odd C_out
        (1, 11, 11, 4, 12, 3, 3, a("SAME", d=2), True, True),  # dilation: the general fill
        (1, 10, 12, 6, 9, 3, 2, Conv2DAttrs("SAME", 2, 1, 2, 3, "RELU"), True, True),  # mixed dilation/stride
        (1, 13, 6, 1, 33, 10, 4, a("SAME", 2), True, True),  # C_in 1, 10x4, borders
        (1, 5, 5, 12, 5, 1, 1, a("VALID", 2, "RELU6"), True, False),  # 1x1 stride 2
        (1, 3, 4, 8, 20, 2, 2, a("SAME"), False, True),  # 2 groups: too short for the assembly loop
        (1, 4, 9, 1, 6, 1, 1, a("SAME"), True, True),  # one element per patch: the C loop
        (1, 7, 7, 20, 70, 3, 3, a("SAME", act="NONE"), True, True),  # 180-byte patch, C_out 70 (no table)
        (1, 5, 14, 3, 8, 3, 3, a("VALID"), True, True),  # word-gathered rows; the last block at the input end
        (1, 9, 27, 7, 10, 3, 3, a("VALID", 2, "RELU6"), True, True),  # the same with C_in 7, stride 2
    ]
    return [conv_case(rng, b, h, w, ci, co, kh, kw, at, per_channel=pc, bias=bi)
            for b, h, w, ci, co, kh, kw, at, bi, pc in cases]  # fmt: skip


def test_im2col_paths_bit_exact(tmp_path):
    rng = np.random.default_rng(96)
    graph = merge(im2col_path_cases(rng), "dsp_im2col_paths")
    assert_qemu_exact(graph, with_extremes(graph, rng, 2), tmp_path / "out")


@pytest.mark.parametrize("target", ["stm32f746", "stm32u585"])
def test_im2col_paths_other_cores_bit_exact(target, tmp_path):
    """The im2col paths (computed branch into the 6-pixel loop, unaligned word gathers) on M7 and M33."""
    rng = np.random.default_rng(99)
    graph = merge(im2col_path_cases(rng)[::2] + [conv_case(rng, 1, 6, 8, 8, 11, 1, 1, c("SAME", "RELU"))], "dsp_cores")
    core = dataclasses.replace(load_target(target), kernels="arm_dsp")
    assert_qemu_exact(graph, random_inputs(graph, rng, 2), tmp_path / "out", core)


def random_conv(rng):
    """Any shape: C_in 1..300, kernels 1..10, strides 1-2, dilation 1-2, padding, odd pixel and channel counts."""
    kh, kw = (int(v) for v in rng.integers(1, 11, 2)) if rng.random() < 0.3 else (int(rng.choice([1, 3])),) * 2
    dh, dw = (int(v) for v in rng.integers(1, 3, 2)) if rng.random() < 0.2 else (1, 1)
    sh, sw = (int(v) for v in rng.integers(1, 3, 2))
    cin = int(rng.choice([1, 2, 3, 4, 5, 7, 8, 12, 16, 24, 31, 32, 48, 64, 100, 128, 300]))
    cout = int(rng.integers(1, 80))
    cin = min(cin, max(1, 3000 // (kh * kw)))  # keep the firmware quick
    h = (kh - 1) * dh + 1 + int(rng.integers(0, 9))
    w = (kw - 1) * dw + 1 + int(rng.integers(0, 9))
    pad, act = ("SAME", "VALID")[int(rng.integers(0, 2))], ACTIVATIONS[int(rng.integers(0, 4))]
    attrs = Conv2DAttrs(pad, sh, sw, dh, dw, act)
    return conv_case(rng, int(rng.integers(1, 3)), h, w, cin, cout, kh, kw, attrs, per_channel=bool(rng.integers(0, 4)),
                     bias=bool(rng.integers(0, 5)))  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
def test_random_shapes_bit_exact(seed, tmp_path):
    rng = np.random.default_rng(300 + seed)
    graph = merge([random_conv(rng) for _ in range(10)], f"dsp_conv_rand{seed}")
    assert_qemu_exact(graph, with_extremes(graph, rng, 2), tmp_path / "out")


def test_pointwise_c8_pairs_bit_exact(tmp_path):
    """C_in 8: pairs of pixels, the odd last one (assembly or, clamped, the C loop), every activation."""
    rng = np.random.default_rng(97)
    shapes = [(3, 5, 16, "RELU"), (5, 5, 1, "NONE"), (1, 1, 9, "RELU6"), (2, 7, 64, "RELU_N1_TO_1"),
              (7, 3, 33, "NONE"), (4, 4, 5, "RELU")]  # fmt: skip
    parts = [
        conv_case(rng, 1, h, w, 8, co, 1, 1, c("SAME", act), per_channel=k % 3 != 2, bias=k % 4 != 3)
        for k, (h, w, co, act) in enumerate(shapes)
    ]
    graph = merge(parts, "dsp_pw8_pairs")
    assert_qemu_exact(graph, with_extremes(graph, rng, 2), tmp_path / "out")


def test_im2col_inplace_chain(tmp_path):
    """Chained 3x3 / 1x1 layers on the 6- and 4-pixel blocks whose outputs the planner overlaps with their inputs."""
    rng = np.random.default_rng(98)
    s = (0.05, None, 0.05)
    parts = [
        conv_case(rng, 1, 10, 9, 16, 16, 3, 3, a("SAME")),
        conv_case(rng, 1, 10, 9, 16, 32, 1, 1, a("SAME", act="NONE"), scales=s),
        conv_case(rng, 1, 10, 9, 32, 32, 3, 3, a("SAME", act="RELU6"), scales=s),
        conv_case(rng, 1, 10, 9, 32, 24, 1, 1, a("SAME", act="NONE"), scales=s),
        conv_case(rng, 1, 10, 9, 24, 24, 1, 1, a("SAME"), scales=s),
    ]
    graph = chain(parts, "dsp_im2col_chain")
    assert plan_memory(graph).overlapped_pairs, "the planner should overlap at least one output with its input"
    assert_qemu_exact(graph, random_inputs(graph, rng, 3), tmp_path / "out")
