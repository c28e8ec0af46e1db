"""AVERAGE_POOL_2D: integer reference == generated C == TFLM, over random windows, strides and paddings."""

import numpy as np
import pytest

from microforge import ops
from microforge.ops._pool_util import PoolAttrs, out_size

from support import act, assert_bit_exact, one_op_graph, random_inputs

OP = "AVERAGE_POOL_2D"
ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def pool_case(rng, shape, padding, filt, stride, activation="NONE", scale=None, zp=None):
    n, h, w, c = shape
    oh, ow = out_size(padding, h, filt[0], stride[0]), out_size(padding, w, filt[1], stride[1])
    scale = float(rng.uniform(0.005, 0.1)) if scale is None else scale
    zp = int(rng.integers(-128, 128)) if zp is None else zp
    x = act("x", shape, scale, zp)
    y = act("y", (n, oh, ow, c), scale, zp)
    return one_op_graph(OP, [x], [y], PoolAttrs(padding, stride[0], stride[1], filt[0], filt[1], activation))


@pytest.mark.parametrize("seed", range(12))
def test_pool_random(seed, tmp_path):
    """SAME windows overhang the input (partial windows); every third case has stride > filter."""
    rng = np.random.default_rng(seed)
    filt = tuple(int(v) for v in rng.integers(1, 5, 2))
    if seed % 3 == 2:
        stride = (filt[0] + int(rng.integers(1, 3)), filt[1] + int(rng.integers(1, 3)))
    else:
        stride = tuple(int(v) for v in rng.integers(1, 4, 2))
    padding = "SAME" if seed % 2 == 0 else "VALID"
    h, w = int(rng.integers(filt[0], 12)), int(rng.integers(filt[1], 12))
    shape = (int(rng.integers(1, 3)), h, w, int(rng.integers(1, 9)))
    g = pool_case(rng, shape, padding, filt, stride, ACTS[seed % 4])
    assert ops.get(OP).check(g.nodes[0], g) == []
    assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / "out")


def test_pool_person_detect(tmp_path):
    """person_detect.tflite's head: 3x3 VALID on [1,3,3,256]."""
    rng = np.random.default_rng(7)
    g = pool_case(rng, (1, 3, 3, 256), "VALID", (3, 3), (2, 2), scale=0.0235, zp=-128)
    assert_bit_exact(g, random_inputs(g, rng, 6), tmp_path / "out")


def test_pool_global_same_even(tmp_path):
    """A window larger than the input with SAME padding: every output averages a different partial window."""
    rng = np.random.default_rng(8)
    g = pool_case(rng, (1, 4, 5, 3), "SAME", (4, 4), (1, 1), activation="RELU6", scale=0.05, zp=-3)
    assert_bit_exact(g, random_inputs(g, rng, 6), tmp_path / "out")


def test_pool_check_rejects():
    rng = np.random.default_rng(0)
    g = pool_case(rng, (1, 6, 6, 2), "VALID", (2, 2), (2, 2))
    g.tensor("y").quant.zero_point[:] = g.tensor("x").quant.zp + 1
    assert any("quantization differ" in r for r in ops.get(OP).check(g.nodes[0], g))
    g = pool_case(rng, (1, 6, 6, 2), "VALID", (2, 2), (2, 2))
    g.tensor("y").shape = (1, 4, 4, 2)
    assert any("output shape" in r for r in ops.get(OP).check(g.nodes[0], g))


@pytest.mark.parametrize(
    "shape,padding,filt,stride",
    [
        ((1, 4, 5, 300), "SAME", (3, 3), (2, 2)),  # two channel chunks, partial windows of 4, 6 and 9 taps
        ((2, 6, 7, 5), "VALID", (1, 1), (1, 1)),  # one tap per window
        ((1, 7, 6, 12), "SAME", (5, 5), (1, 1)),  # up to 25 taps: 4 per pass and a remainder
        ((1, 5, 9, 4), "SAME", (2, 3), (2, 3)),
        ((1, 3, 3, 3), "VALID", (3, 3), (1, 1)),  # fewer channels than the chunked path needs
    ],
)
def test_pool_channel_chunks(shape, padding, filt, stride, tmp_path):
    """The chunked channel sums: 1..25 taps per window taken 4 at a time, more channels than one chunk."""
    rng = np.random.default_rng(sum(shape) + filt[0])
    g = pool_case(rng, shape, padding, filt, stride, ACTS[shape[3] % 4])
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out")
