"""SLICE (int8 and float32): reference == generated C == TFLM bit for bit over random begins and sizes."""

import numpy as np
import pytest

from microforge.ir import Tensor
from microforge.ops import get

from support import act, assert_bit_exact, const, one_op_graph, random_inputs


def slice_case(rng, shape, begin, size, dtype="int8", index_dtype=np.int32, out_shape=None):
    if out_shape is None:
        out_shape = [d - b if s == -1 else s for d, b, s in zip(shape, begin, size)]
    if dtype == "int8":
        scale, zp = float(rng.uniform(1e-3, 1.0)), int(rng.integers(-128, 128))
        x, y = act("x", shape, scale, zp), act("y", out_shape, scale, zp)
    else:
        x, y = Tensor("x", tuple(shape), "float32"), Tensor("y", tuple(out_shape), "float32")
    b, s = const("begin", np.asarray(begin, index_dtype)), const("size", np.asarray(size, index_dtype))
    return one_op_graph("SLICE", [x, b, s], [y])


def random_case(rng, dtype, index_dtype=np.int32):
    rank = int(rng.integers(1, 5))
    shape = [int(d) for d in rng.integers(1, 8, rank)]
    begin = [int(rng.integers(0, d)) for d in shape]
    size = [-1 if rng.random() < 0.25 else int(rng.integers(1, d - b + 1)) for d, b in zip(shape, begin)]
    return slice_case(rng, shape, begin, size, dtype, index_dtype)


@pytest.mark.parametrize("seed", range(10))
def test_slice_int8(seed, tmp_path):
    rng = np.random.default_rng(seed)
    g = random_case(rng, "int8", np.int64 if seed % 3 == 2 else np.int32)
    assert get("SLICE").check(g.nodes[0], g) == []
    assert_bit_exact(g, random_inputs(g, rng, 2), tmp_path / "out")


@pytest.mark.parametrize("seed", range(5))
def test_slice_float32(seed, tmp_path):
    rng = np.random.default_rng(50 + seed)
    g = random_case(rng, "float32")
    assert get("SLICE").check(g.nodes[0], g) == []
    samples = [[rng.standard_normal(g.tensors["x"].shape).astype(np.float32)] for _ in range(2)]
    assert_bit_exact(g, samples, tmp_path / "out")


def test_slice_check_rejects():
    rng = np.random.default_rng(1)

    def reasons(g):
        return " ".join(get("SLICE").check(g.nodes[0], g))

    assert "begin 5 out of range" in reasons(slice_case(rng, [4, 3], [5, 0], [1, 1], out_shape=[1, 1]))
    assert "size 3 out of range" in reasons(slice_case(rng, [4, 3], [0, 1], [1, 3], out_shape=[1, 3]))
    assert "slice shape" in reasons(slice_case(rng, [4, 3], [0, 1], [2, 2], out_shape=[4, 1]))
    assert "one entry per input dim" in reasons(slice_case(rng, [4, 3], [0], [2], out_shape=[2, 3]))
    g = slice_case(rng, [4, 3], [0, 1], [2, 2])
    g.tensors["size"].data = np.asarray([2, 2], np.int64)
    g.tensors["size"].dtype = "int64"
    assert "same type" in reasons(g)
    assert "empty" in reasons(slice_case(rng, [4, 3], [0, 1], [0, 2]))
