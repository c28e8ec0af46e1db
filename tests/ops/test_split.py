"""SPLIT / SPLIT_V (int8 and float32): every output of reference == generated C == TFLM bit for bit."""

import numpy as np
import pytest

from microforge.ir import Tensor
from microforge.ops import get
from microforge.ops.split import SplitAttrs

from support import act, assert_bit_exact, const, one_op_graph, random_inputs


def tensors(rng, shape, out_shapes, dtype):
    if dtype == "int8":
        scale, zp = float(rng.uniform(1e-3, 1.0)), int(rng.integers(-128, 128))
        return act("x", shape, scale, zp), [act(f"y{i}", s, scale, zp) for i, s in enumerate(out_shapes)]
    x = Tensor("x", tuple(shape), "float32")
    return x, [Tensor(f"y{i}", tuple(s), "float32") for i, s in enumerate(out_shapes)]


def out_shapes(shape, axis, sizes):
    return [tuple(n if k == axis % len(shape) else d for k, d in enumerate(shape)) for n in sizes]


def split_case(rng, shape, axis, n, dtype="int8"):
    x, ys = tensors(rng, shape, out_shapes(shape, axis, [shape[axis] // n] * n), dtype)
    return one_op_graph("SPLIT", [const("axis", np.asarray([axis], np.int32)), x], ys, SplitAttrs(n))


def split_v_case(rng, shape, axis, sizes, given=None, dtype="int8"):
    x, ys = tensors(rng, shape, out_shapes(shape, axis, sizes), dtype)
    splits = const("size_splits", np.asarray(sizes if given is None else given, np.int32))
    return one_op_graph("SPLIT_V", [x, splits, const("axis", np.asarray([axis], np.int32))], ys, SplitAttrs(len(sizes)))


def samples(g, rng, count=2):
    if g.tensors["x"].dtype == "int8":
        return random_inputs(g, rng, count)
    return [[rng.standard_normal(g.tensors["x"].shape).astype(np.float32)] for _ in range(count)]


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("seed", range(6))
def test_split(dtype, seed, tmp_path):
    rng = np.random.default_rng(seed + (50 if dtype == "float32" else 0))
    rank = int(rng.integers(1, 5))
    axis = int(rng.integers(-rank, rank))
    n = int(rng.integers(1, 4))
    shape = [int(d) for d in rng.integers(1, 5, rank)]
    shape[axis] *= n
    g = split_case(rng, shape, axis, n, dtype)
    assert get("SPLIT").check(g.nodes[0], g) == []
    assert_bit_exact(g, samples(g, rng), tmp_path / "out")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("seed", range(6))
def test_split_v(dtype, seed, tmp_path):
    rng = np.random.default_rng(100 + seed + (50 if dtype == "float32" else 0))
    rank = int(rng.integers(1, 5))
    axis = int(rng.integers(-rank, rank))
    sizes = [int(v) for v in rng.integers(1, 5, int(rng.integers(1, 5)))]
    shape = [int(d) for d in rng.integers(1, 5, rank)]
    shape[axis] = sum(sizes)
    given = list(sizes)
    if seed % 2:
        given[int(rng.integers(0, len(sizes)))] = -1
    g = split_v_case(rng, shape, axis, sizes, given, dtype)
    assert get("SPLIT_V").check(g.nodes[0], g) == []
    assert_bit_exact(g, samples(g, rng), tmp_path / "out")


def test_split_check_rejects():
    rng = np.random.default_rng(0)

    def reasons(g):
        return " ".join(get(g.nodes[0].op).check(g.nodes[0], g))

    g = split_case(rng, (2, 6), 1, 3)
    g.tensors["axis"].data = np.asarray([2], np.int32)
    assert "axis [2]" in reasons(g)
    g = split_case(rng, (2, 6), 1, 3)
    g.nodes[0].attrs = SplitAttrs(2)
    assert "num_splits 2" in reasons(g)
    g = split_case(rng, (2, 6), 1, 2)
    g.tensors["y1"].quant.scale[0] *= 2
    assert "quantization differs" in reasons(g)
    assert "sum to 5" in reasons(split_v_case(rng, (2, 6), 1, [2, 3]))
    assert "equal along the axis" in reasons(_unequal_split(rng))
    assert "size_splits [3, 3]" in reasons(split_v_case(rng, (2, 6), 1, [2, 4], given=[3, 3]))
    g = split_v_case(rng, (2, 6), 1, [2, 4])
    g.tensors["axis"].data = None
    assert "constant int32" in reasons(g)


def _unequal_split(rng):
    x, ys = tensors(rng, (2, 6), out_shapes((2, 6), 1, [2, 4]), "int8")
    return one_op_graph("SPLIT", [const("axis", np.asarray([1], np.int32)), x], ys, SplitAttrs(2))
