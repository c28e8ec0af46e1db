"""PAD / PADV2 (int8): integer reference == generated C == TFLM over random ranks, paddings and pad values."""

import numpy as np
import pytest

from microforge.ops import get

from support import act, assert_bit_exact, const, one_op_graph, random_inputs


def pad_case(rng, op, rank, scale=None, zp=None, value=None, paddings=None):
    in_shape = [int(d) for d in rng.integers(1, 6, rank)]
    pads = rng.integers(0, 4, (rank, 2)).astype(np.int32) if paddings is None else np.asarray(paddings, np.int32)
    scale = float(rng.uniform(0.001, 1.0)) if scale is None else scale
    zp = int(rng.integers(-128, 128)) if zp is None else zp
    x = act("x", in_shape, scale, zp)
    y = act("y", [d + int(a) + int(b) for d, (a, b) in zip(in_shape, pads)], scale, zp)
    inputs = [x, const("paddings", pads)]
    if op == "PADV2":
        v = int(rng.integers(-128, 128)) if value is None else value
        inputs.append(const("value", np.asarray([v], np.int8), scale, np.array([zp])))
    return one_op_graph(op, inputs, [y])


@pytest.mark.parametrize("op", ["PAD", "PADV2"])
@pytest.mark.parametrize("seed", range(6))
def test_pad_random(op, seed, tmp_path):
    rng = np.random.default_rng(seed + (50 if op == "PADV2" else 0))
    g = pad_case(rng, op, rank=int(rng.integers(1, 5)))
    assert get(op).check(g.nodes[0], g) == []
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out")


@pytest.mark.parametrize(
    "paddings",
    [
        [[0, 0], [2, 1], [1, 3], [0, 0]],  # TFLM's "image style" path (no batch/channel padding)
        [[1, 2], [0, 0], [0, 0], [3, 1]],  # batch and channel padding only
        [[0, 0], [0, 0], [0, 0], [0, 0]],  # a plain copy
    ],
)
def test_pad_4d_categories(paddings, tmp_path):
    rng = np.random.default_rng(sum(map(sum, paddings)))
    variants = [("PAD", -128, None), ("PAD", 127, None), ("PADV2", 0, -128), ("PADV2", -5, 127)]
    for k, (op, zp, value) in enumerate(variants):
        g = pad_case(rng, op, 4, scale=[1e-6, 3.0, 0.02, 1e4][k], zp=zp, value=value, paddings=paddings)
        assert_bit_exact(g, random_inputs(g, rng, 2), tmp_path / f"out{k}")


def test_pad_check_rejects():
    rng = np.random.default_rng(3)

    def reasons(g):
        return " ".join(get(g.nodes[0].op).check(g.nodes[0], g))

    g = pad_case(rng, "PAD", 2, paddings=[[1, 0], [0, 1]])
    g.tensors["paddings"].data = np.asarray([[1, 0], [0, 1]], np.int64)
    g.tensors["paddings"].dtype = "int64"
    assert "int32" in reasons(g)
    g = pad_case(rng, "PAD", 2, paddings=[[1, 0], [0, 1]])
    g.tensors["paddings"].data = np.asarray([[1, 0], [-1, 2]], np.int32)
    assert "negative" in reasons(g)
    g = pad_case(rng, "PAD", 2, paddings=[[1, 0], [0, 1]])
    g.tensors["y"].quant.scale[0] *= 2
    assert "quantization differ" in reasons(g)
    g = pad_case(rng, "PADV2", 3, zp=4)
    g.tensors["value"].quant.zero_point[0] = 5
    assert "scale and zero point" in reasons(g)
    g = pad_case(rng, "PAD", 2, paddings=[[1, 0], [0, 1]])
    g.tensors["y"].shape = (g.tensors["y"].shape[0] + 1, g.tensors["y"].shape[1])
    assert "padded input shape" in reasons(g)
    assert "rank 5" in reasons(pad_case(rng, "PAD", 5))
    g = pad_case(rng, "PAD", 2)
    g.tensors["paddings"].data = None
    assert "constant int32" in reasons(g)


@pytest.mark.parametrize("k", range(4))
def test_pad_innermost_padded_dim(k, tmp_path):
    """The kernel copies one contiguous run per in-range position of the dims outside the innermost padded dim k:
    k = 0..3 with padding on random outer dims (zero on some), merged pad runs across rows."""
    rng = np.random.default_rng(70 + k)
    for t in range(3):
        pads = [[0, 0]] * 4
        for j in range(k):
            pads[j] = [int(v) for v in rng.integers(0, 3, 2)]
        pads[k] = [[1, 0], [0, 2], [2, 1]][t]
        g = pad_case(rng, "PADV2" if t == 1 else "PAD", 4, paddings=pads)
        assert_bit_exact(g, random_inputs(g, rng, 2), tmp_path / f"out{t}")
