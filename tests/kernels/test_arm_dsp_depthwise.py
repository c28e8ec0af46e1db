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


def band_random(rng, seed):
    """A random 3x3 depthwise case for the int16-plane bands: C 1..300 (odd, not multiples of 4), widths and
    heights 1..50, stride 1 / 2 in each direction, depth multipliers 1 and > 1, every activation, per-tensor and
    per-channel weights, with and without bias, batches."""
    d = DepthwiseConv2DAttrs
    act = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")[seed % 4]
    sh, sw = [(1, 1), (2, 2), (1, 2), (2, 1)][(seed // 4) % 4]
    mult = [1, 1, 1, 2, 4, 8, 3][seed % 7]
    c = int(rng.choice([1, 2, 3, 4, 5, 7, 8, 12, 13, 16, 33, 64, 100, 130, 256, 300]))
    c = c if mult == 1 else min(c, 8)
    hw_max = max(1, min(50, int(np.sqrt(12000 / (c * mult)))))
    h, w = (int(v) for v in rng.integers(1, hw_max + 1, 2))
    if seed % 5 == 0:  # tall and narrow / short and wide (the column-by-column orientation)
        h, w = max(h, hw_max), max(1, w // 4)
    pad = ("SAME", "VALID")[seed % 3 == 2]
    if pad == "VALID":
        h, w = h + 2, w + 2
    return dw_case(rng, int(rng.integers(1, 3)) if seed % 6 == 1 else 1, h, w, c, 3, 3,
                   d(pad, sh, sw, mult, 1, 1, act), per_channel=seed % 7 != 3, bias=seed % 8 != 5)  # fmt: skip


@pytest.mark.parametrize("part", range(3))
def test_depthwise_bands_random_bit_exact(part, tmp_path):
    """Randomized 3x3 shapes through the int16-plane bands (rows or columns orientation, chunks, band buffer, odd
    widths, zero-point padding) and, where the 4-channel runs are cheaper, those."""
    rng = np.random.default_rng(3030 + part)
    graph = merge([band_random(rng, 12 * part + k) for k in range(12)], f"dsp_dw_bands{part}")
    assert_qemu_exact(graph, with_extremes(graph, rng, 2), tmp_path / "out")


def test_depthwise_bands_inplace_chains_bit_exact(tmp_path):
    """Chains the arena overlaps in place: DS-CNN's 25x5x64 (the columns orientation, outputs written straight over
    the dying input a whole number of pixels below), MobileNet-like 6x6x128, 12x12x64 and 48x48x8, an odd channel
    count (the gap not a multiple of C: the band buffer or the runs), and stride 2."""
    rng = np.random.default_rng(3040)
    d = DepthwiseConv2DAttrs
    s = (0.05, None, 0.05)
    for name, (h, w, c, acts) in {
        "ds": (25, 5, 64, ("RELU", "NONE", "RELU")),
        "p6": (6, 6, 128, ("RELU6", "NONE")),
        "p12": (12, 12, 64, ("NONE", "RELU")),
        "p48": (48, 48, 8, ("RELU6", "NONE")),
        "odd": (9, 7, 13, ("NONE", "RELU", "NONE")),
        "wide": (3, 40, 12, ("NONE", "RELU6")),
    }.items():
        parts = [dw_case(rng, 1, h, w, c, 3, 3, d("SAME", 1, 1, 1, 1, 1, a), scales=s) for a in acts]
        chained = chain(parts, f"dsp_dw_band_chain_{name}")
        assert_qemu_exact(chained, random_inputs(chained, rng, 2), tmp_path / name)


def shared_input(parts, name):
    """One-op graphs side by side reading the first one's input (same scale): that input outlives the first node,
    so its output cannot overlap it (disjoint tensors: the bands may write in any order)."""
    g = merge(parts, name)
    first = g.inputs[0]
    for k in range(1, len(parts)):
        cur = f"c{k}_{parts[k].inputs[0]}"
        del g.tensors[cur]
        g.inputs.remove(cur)
        for node in g.nodes:
            node.inputs = [first if x == cur else x for x in node.inputs]
    return g


def test_depthwise_bands_buffer_and_disjoint_bit_exact(tmp_path):
    """Chains through depth multiplier 2 (the band buffer when in place with several chunks; the random cases above
    reach it too) and disjoint tensors (an input read by several nodes: the columns orientation over several bands,
    chunked rows, stride 2, batches)."""
    rng = np.random.default_rng(3041)
    d = DepthwiseConv2DAttrs
    s = (0.05, None, 0.05)
    for name, parts in {
        "m2": [dw_case(rng, 1, 10, 60, 8, 3, 3, d("SAME", 1, 1, 2, 1, 1, "NONE"), scales=s),
               dw_case(rng, 1, 10, 60, 16, 3, 3, d("SAME", 1, 1, 1, 1, 1, "NONE"), scales=s)],
        "m2b": [dw_case(rng, 1, 12, 30, 12, 3, 3, d("SAME", 1, 2, 2, 1, 1, "RELU6"), scales=s),
                dw_case(rng, 1, 12, 15, 24, 3, 3, d("SAME", 2, 1, 1, 1, 1, "RELU"), scales=s)],
    }.items():  # fmt: skip
        chained = chain(parts, f"dsp_dw_band_buf_{name}")
        assert_qemu_exact(chained, random_inputs(chained, rng, 2), tmp_path / name)
    parts = [dw_case(rng, 1, 40, 6, 16, 3, 3, d("SAME", 1, 1, 1, 1, 1, a), scales=s) for a in ("NONE", "RELU")]
    parts += [dw_case(rng, 1, 40, 6, 16, 3, 3, d("SAME", 2, 2, 1, 1, 1, "NONE"), scales=s)]
    parts += [dw_case(rng, 2, 40, 6, 16, 3, 3, d("VALID", 2, 1, 1, 1, 1, "RELU6"), scales=s)]
    graph = shared_input(parts[:3], "dsp_dw_band_shared")
    assert_qemu_exact(graph, with_extremes(graph, rng, 2), tmp_path / "shared")
    graph = shared_input([parts[3], dw_case(rng, 2, 40, 6, 16, 3, 3, d("SAME", 1, 1, 1, 1, 1, "NONE"), scales=s)],
                         "dsp_dw_band_shared2")  # fmt: skip
    assert_qemu_exact(graph, with_extremes(graph, rng, 2), tmp_path / "shared2")
