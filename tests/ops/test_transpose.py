"""TRANSPOSE (int8 and float32): reference == generated C == TFLM bit for bit over random ranks and permutations."""

import numpy as np
import pytest

from microforge.ir import Tensor
from microforge.ops import get

from support import act, assert_bit_exact, const, one_op_graph, random_inputs


def transpose_case(rng, rank, dtype="int8", perm=None):
    shape = tuple(int(d) for d in rng.integers(1, 6, rank))
    perm = list(rng.permutation(rank)) if perm is None else list(perm)
    out_shape = tuple(shape[p] for p in perm)
    if dtype == "int8":
        scale, zp = float(rng.uniform(1e-3, 1.0)), int(rng.integers(-128, 128))
        x, y = act("x", shape, scale, zp), act("y", out_shape, scale, zp)
    else:
        x, y = Tensor("x", shape, "float32"), Tensor("y", out_shape, "float32")
    return one_op_graph("TRANSPOSE", [x, const("perm", np.asarray(perm, np.int32))], [y])


def float_inputs(graph, rng, count):
    return [[rng.standard_normal(graph.tensor(n).shape).astype(np.float32) for n in graph.inputs] for _ in range(count)]


@pytest.mark.parametrize("seed", range(10))
def test_transpose_int8(seed, tmp_path):
    rng = np.random.default_rng(seed)
    g = transpose_case(rng, rank=1 + seed % 4)
    assert get("TRANSPOSE").check(g.nodes[0], g) == []
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out")


@pytest.mark.parametrize("seed", range(6))
def test_transpose_float32(seed, tmp_path):
    rng = np.random.default_rng(100 + seed)
    g = transpose_case(rng, rank=2 + seed % 3, dtype="float32")
    assert_bit_exact(g, float_inputs(g, rng, 3), tmp_path / "out")


@pytest.mark.parametrize("perm", [(0, 3, 1, 2), (0, 2, 3, 1), (3, 2, 1, 0), (0, 1, 2, 3)])
def test_transpose_layouts(perm, tmp_path):
    """NHWC <-> NCHW, full reversal, identity (the contiguous fast path)."""
    rng = np.random.default_rng(sum(p * 10**k for k, p in enumerate(perm)))
    g = transpose_case(rng, 4, perm=perm)
    assert_bit_exact(g, random_inputs(g, rng, 2), tmp_path / "out")


def test_transpose_check_rejects():
    rng = np.random.default_rng(0)

    def reasons(g):
        return " ".join(get("TRANSPOSE").check(g.nodes[0], g))

    g = transpose_case(rng, 3, perm=(0, 2, 1))
    g.tensors["perm"].data = np.asarray([0, 1, 1], np.int32)
    assert "not a permutation" in reasons(g)
    g = transpose_case(rng, 3, perm=(0, 2, 1))
    g.tensors["perm"].data = np.asarray([0, 2], np.int32)
    g.tensors["perm"].shape = (2,)
    assert "one entry per input dim" in reasons(g)
    g = transpose_case(rng, 3, perm=(0, 2, 1))
    g.tensors["y"].quant.zero_point[0] += 1
    assert "quantization differs" in reasons(g)
    g = transpose_case(rng, 3, perm=(0, 2, 1))
    g.tensors["perm"].data = None
    assert "constant int32" in reasons(g)
    g = transpose_case(rng, 3, perm=(2, 0, 1))
    g.tensors["y"].shape = tuple(reversed(g.tensors["y"].shape)) + (1,)
    assert "rank 4" not in reasons(g) and "output shape" in reasons(g)
    assert "rank 5" in reasons(transpose_case(rng, 5))
