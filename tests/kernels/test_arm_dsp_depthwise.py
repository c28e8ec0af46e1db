"""The arm_dsp depthwise kernel's border windows (Cortex-M4 in QEMU), bit for bit against the integer reference.

Depth multiplier 1, 3x3, C % 4 == 0, C <= 128, foldable shifts: pixels whose window is cut by the image edge take
dw_edge3x3 (only the taps inside the image: 0-3 rows of 0-3 columns, with the runs' per-channel table). The cases
cut windows on every side (SAME, stride 1 / 2), on both sides at once (images 1 or 2 pixels wide or high), with
dilation_h 2, every fused activation (byte clamps on and off), per-tensor weights, batches; a chain lets the arena
overlap outputs with dying inputs.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from kernels.test_arm_dsp import assert_qemu_exact, chain, merge, with_extremes
from ops.test_depthwise_conv2d import dw_case

from microforge.ops.depthwise_conv2d import DepthwiseConv2DAttrs

from support import random_inputs

pytestmark = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm",
)


def test_depthwise_border_windows_bit_exact(tmp_path):
    rng = np.random.default_rng(2027)
    d = DepthwiseConv2DAttrs
    cases = [
        dw_case(rng, 1, 6, 6, 128, 3, 3, d("SAME", 1, 1, 1, 1, 1, "RELU6")),  # person_detect's 6x6 layers
        dw_case(rng, 2, 5, 7, 8, 3, 3, d("SAME", 1, 1, 1, 1, 1, "NONE")),
        dw_case(rng, 1, 7, 8, 12, 3, 3, d("SAME", 2, 2, 1, 1, 1, "RELU")),  # cut at the top/left only
        dw_case(rng, 1, 1, 1, 4, 3, 3, d("SAME", 1, 1, 1, 1, 1, "RELU_N1_TO_1")),  # 1 row, 1 column
        dw_case(rng, 1, 2, 2, 16, 3, 3, d("SAME", 1, 1, 1, 1, 1, "NONE")),  # 2 rows, 2 columns
        dw_case(rng, 1, 1, 5, 20, 3, 3, d("SAME", 1, 2, 1, 1, 1, "RELU6")),  # one row, stride_w 2
        dw_case(rng, 1, 6, 2, 4, 3, 3, d("SAME", 2, 1, 1, 1, 1, "RELU")),  # two columns, stride_h 2
        dw_case(rng, 1, 8, 6, 8, 3, 3, d("SAME", 1, 1, 1, 2, 1, "RELU6"), per_channel=False),  # dilation_h 2
        dw_case(rng, 1, 5, 5, 64, 3, 3, d("SAME", 1, 1, 1, 1, 1, "NONE"), bias=False),
    ]
    graph = merge(cases, "dsp_dw_border")
    assert_qemu_exact(graph, with_extremes(graph, rng, 3), tmp_path / "out")


def test_depthwise_border_chain_bit_exact(tmp_path):
    rng = np.random.default_rng(2028)
    d = DepthwiseConv2DAttrs
    parts = [dw_case(rng, 1, 6, 6, 32, 3, 3, d("SAME", 1, 1, 1, 1, 1, a), scales=(0.05, None, 0.05))
             for a in ("RELU6", "NONE", "RELU", "RELU6")]  # fmt: skip
    chained = chain(parts, "dsp_dw_border_chain")
    assert_qemu_exact(chained, random_inputs(chained, rng, 3), tmp_path / "chain")


def test_depthwise_planar_copy_bit_exact(tmp_path):
    """Depth multiplier > 1 (planar rows): the row copy with the padding columns / rows zeroed around the image's
    columns, one channel per chunk (plain strided copy: C 1, and C 3 / 2 when a row's planes fill the buffer with
    one channel), SAME / VALID, stride 1 / 2, odd widths, every activation."""
    rng = np.random.default_rng(2029)
    d = DepthwiseConv2DAttrs
    cases = [
        dw_case(rng, 1, 9, 10, 1, 3, 3, d("SAME", 2, 2, 8, 1, 1, "RELU6")),
        dw_case(rng, 2, 7, 9, 1, 3, 3, d("VALID", 2, 2, 8, 1, 1, "NONE")),
        dw_case(rng, 1, 3, 200, 3, 3, 3, d("SAME", 1, 1, 4, 1, 1, "RELU")),  # 1 channel per chunk, 3 chunks
        dw_case(rng, 1, 4, 150, 2, 3, 3, d("VALID", 1, 2, 4, 1, 1, "RELU_N1_TO_1")),
        dw_case(rng, 1, 1, 3, 1, 3, 3, d("SAME", 1, 1, 4, 1, 1, "RELU6")),  # one row: rows above/below zero
        dw_case(rng, 1, 5, 6, 5, 3, 3, d("SAME", 2, 1, 4, 1, 1, "NONE")),  # 5 channels in one chunk (byte tail)
    ]
    graph = merge(cases, "dsp_dw_planar_copy")
    assert_qemu_exact(graph, with_extremes(graph, rng, 2), tmp_path / "out")
