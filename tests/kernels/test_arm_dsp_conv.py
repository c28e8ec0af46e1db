"""The arm_dsp CONV_2D whole-layer path for 1x1 stride-1 convolutions with C_in 8 or 16 (pre-extended filter table
on the stack, no window copy), in QEMU bit for bit against the integer reference: every activation (the clamping C
loop and the unclamped assembly loop), no bias, batches, per-tensor weights, C_out up to the table limit and just
over it (the 4-pixel blocks), tiny scales (shift < -22: the generic paths), an in-place chain, and the instruction
count of person_detect's pointwise layers 2 and 4."""

from __future__ import annotations

import numpy as np
import pytest
from kernels.test_arm_dsp import ACTIVATIONS, M4, assert_qemu_exact, chain, merge, pytestmark, with_extremes  # noqa: F401
from ops.test_conv2d import conv_case

from microforge.ops.conv2d import Conv2DAttrs
from microforge.plan.memory import plan_memory

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
    with the 4-pixel blocks; the whole-layer path reaches ~2.5 and ~1.6 (their RELU6 bounds are int8's: no clamp,
    the assembly loop, as with activation NONE here)."""
    rng = np.random.default_rng(94)
    graph = merge([conv_case(rng, 1, 48, 48, 8, 16, 1, 1, c("SAME", "NONE")),
                   conv_case(rng, 1, 24, 24, 16, 32, 1, 1, c("SAME", "NONE"))], "dsp_pw_pd")  # fmt: skip
    prof = assert_qemu_exact(graph, random_inputs(graph, rng, 1), tmp_path / "out")
    per_mac = [layer["instructions"] / layer["macs"] for layer in prof["layers"]]
    assert per_mac[0] < 2.8 and per_mac[1] < 1.8, per_mac
