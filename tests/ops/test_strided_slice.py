"""STRIDED_SLICE (int8 and float32): reference == generated C == TFLM bit for bit.

Random ranks, begin/end (negative, out of range), strides of both signs, begin/end/shrink masks; the
output shape comes from numpy's slicing (TF's semantics), independent of the op's own index logic.
"""

import numpy as np
import pytest

from microforge.ir import Tensor
from microforge.ops import get
from microforge.ops.strided_slice import StridedSliceAttrs

from support import act, assert_bit_exact, const, one_op_graph, random_inputs


def numpy_shape(shape, begin, end, strides, attrs):
    index = []
    for k in range(len(shape)):
        if attrs.shrink_axis_mask & (1 << k):
            index.append(begin[k])
        else:
            b = None if attrs.begin_mask & (1 << k) else begin[k]
            e = None if attrs.end_mask & (1 << k) else end[k]
            index.append(slice(b, e, strides[k]))
    return np.empty(shape)[tuple(index)].shape


def slice_case(shape, begin, end, strides, attrs, dtype="int8", rng=None, out_shape=None):
    rng = rng or np.random.default_rng(0)
    out_shape = numpy_shape(shape, begin, end, strides, attrs) if out_shape is None else out_shape
    if dtype == "int8":
        scale, zp = float(rng.uniform(1e-3, 1.0)), int(rng.integers(-128, 128))
        x, y = act("x", shape, scale, zp), act("y", out_shape, scale, zp)
    else:
        x, y = Tensor("x", tuple(shape), "float32"), Tensor("y", tuple(out_shape), "float32")
    vectors = [const(n, np.asarray(v, np.int32)) for n, v in (("begin", begin), ("end", end), ("strides", strides))]
    return one_op_graph("STRIDED_SLICE", [x] + vectors, [y], attrs)


def random_case(rng, dtype):
    while True:
        rank = int(rng.integers(1, 5))
        shape = [int(d) for d in rng.integers(1, 8, rank)]
        begin, end, strides = [], [], []
        masks = [int(rng.integers(0, 1 << rank)) for _ in range(3)]
        for k, d in enumerate(shape):
            s = int(rng.choice([1, 1, 2, 3, -1, -2]))
            if masks[2] & (1 << k):
                s = int(rng.choice([1, 2]))
                begin.append(int(rng.integers(-d, d)))  # a valid index
            else:
                begin.append(int(rng.integers(-d - 2, d + 3)))
            end.append(int(rng.integers(-d - 2, d + 3)))
            strides.append(s)
        attrs = StridedSliceAttrs(begin_mask=masks[0], end_mask=masks[1], shrink_axis_mask=masks[2])
        if int(np.prod(numpy_shape(shape, begin, end, strides, attrs))) > 0:
            return slice_case(shape, begin, end, strides, attrs, dtype, rng)


def float_inputs(graph, rng, count):
    return [[rng.standard_normal(graph.tensor(n).shape).astype(np.float32) for n in graph.inputs] for _ in range(count)]


@pytest.mark.parametrize("seed", range(16))
def test_strided_slice_int8(seed, tmp_path):
    rng = np.random.default_rng(seed)
    g = random_case(rng, "int8")
    assert get("STRIDED_SLICE").check(g.nodes[0], g) == []
    assert_bit_exact(g, random_inputs(g, rng, 2), tmp_path / "out")


@pytest.mark.parametrize("seed", range(8))
def test_strided_slice_float32(seed, tmp_path):
    rng = np.random.default_rng(1000 + seed)
    g = random_case(rng, "float32")
    assert get("STRIDED_SLICE").check(g.nodes[0], g) == []
    assert_bit_exact(g, float_inputs(g, rng, 2), tmp_path / "out")


@pytest.mark.parametrize(
    "case",
    [
        # x[:, -1, :, :] as the converter writes a "take last time step" (shrink, negative begin)
        ((2, 5, 3, 4), [0, -1, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], StridedSliceAttrs(13, 13, shrink_axis_mask=2)),
        # reverse the channels with end_mask
        ((1, 2, 3, 6), [0, 0, 0, -1], [1, 2, 3, 0], [1, 1, 1, -1], StridedSliceAttrs(end_mask=8)),
        # every other row and column
        ((1, 7, 8, 2), [0, 1, 0, 0], [1, 7, 8, 2], [1, 2, 2, 1], StridedSliceAttrs()),
        # out-of-range begin/end clamp
        ((9,), [-100], [100], [3], StridedSliceAttrs()),
    ],
)
def test_strided_slice_cases(case, tmp_path):
    g = slice_case(*case)
    assert get("STRIDED_SLICE").check(g.nodes[0], g) == []
    rng = np.random.default_rng(7)
    assert_bit_exact(g, random_inputs(g, rng, 2), tmp_path / "out")


def test_strided_slice_check_rejects():
    def reasons(g):
        return " ".join(get("STRIDED_SLICE").check(g.nodes[0], g))

    base = ((2, 6), [0, 1], [2, 5], [1, 1])
    assert "ellipsis_mask" in reasons(slice_case(*base, StridedSliceAttrs(ellipsis_mask=1)))
    assert "new_axis_mask" in reasons(slice_case(*base, StridedSliceAttrs(new_axis_mask=2)))
    assert "offset" in reasons(slice_case(*base, StridedSliceAttrs(offset=True)))
    g = slice_case((2, 6), [0, 1], [2, 5], [1, -1], StridedSliceAttrs(shrink_axis_mask=2), out_shape=(2,))
    assert "writes nothing" in reasons(g)
    g = slice_case(*base, StridedSliceAttrs())
    g.tensors["strides"].data = np.asarray([1, 0], np.int32)
    assert "contain 0" in reasons(g)
    g = slice_case(*base, StridedSliceAttrs())
    g.tensors["begin"].data = np.asarray([0], np.int32)
    assert "one entry per input dim" in reasons(g)
    g = slice_case(*base, StridedSliceAttrs())
    g.tensors["end"].data = np.asarray([2, 5], np.int64)
    g.tensors["end"].dtype = "int64"
    assert "constant int32" in reasons(g)
    assert "strided slice shape" in reasons(slice_case(*base, StridedSliceAttrs(), out_shape=(2, 3)))
    g = slice_case(*base, StridedSliceAttrs())
    g.tensors["y"].quant.scale[0] *= 2
    assert "quantization differs" in reasons(g)
