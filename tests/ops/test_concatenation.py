"""CONCATENATION (int8): integer reference == generated C == TFLM over random ranks, axes and input counts."""

import numpy as np
import pytest

from microforge.ops import get
from microforge.ops.concatenation import ConcatenationAttrs

from support import act, assert_bit_exact, const, one_op_graph, random_inputs


def concat_case(rng, rank, n_inputs, axis, with_const=False, scale=None, zp=None):
    out_shape = [int(d) for d in rng.integers(1, 6, rank)]
    a = axis % rank
    parts = [int(d) for d in rng.integers(1, 5, n_inputs)]
    scale = float(rng.uniform(0.001, 1.0)) if scale is None else scale
    zp = int(rng.integers(-128, 128)) if zp is None else zp
    inputs = []
    for i, p in enumerate(parts):
        shape = out_shape.copy()
        shape[a] = p
        if with_const and i == 1:
            inputs.append(const(f"c{i}", rng.integers(-128, 128, shape).astype(np.int8), scale, np.array([zp])))
        else:
            inputs.append(act(f"x{i}", shape, scale, zp))
    out_shape[a] = sum(parts)
    return one_op_graph("CONCATENATION", inputs, [act("y", out_shape, scale, zp)], ConcatenationAttrs(axis))


@pytest.mark.parametrize("seed", range(10))
def test_concatenation_random(seed, tmp_path):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    axis = int(rng.integers(-rank, rank))
    g = concat_case(rng, rank, n_inputs=int(rng.integers(1, 6)), axis=axis, with_const=seed % 3 == 2)
    assert get("CONCATENATION").check(g.nodes[0], g) == []
    assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / "out")


def test_concatenation_ten_inputs_extreme_quant(tmp_path):
    """TFLM's maximum input count, zero point at both ends of the range, a tiny and a huge scale."""
    rng = np.random.default_rng(42)
    for k, (scale, zp) in enumerate([(1e-9, -128), (1e6, 127)]):
        g = concat_case(rng, 4, n_inputs=10, axis=k + 2, scale=scale, zp=zp)
        assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / f"out{k}")


def test_concatenation_check_rejects():
    rng = np.random.default_rng(7)

    def reasons(g):
        return " ".join(get("CONCATENATION").check(g.nodes[0], g))

    g = concat_case(rng, 3, 2, 1, scale=0.1, zp=0)
    g.tensors["x1"].quant.scale[0] = np.float32(0.2)
    assert "requantiz" in reasons(g)  # TFLM would copy the bytes unchanged: wrong values
    g = concat_case(rng, 3, 2, 1, scale=0.1, zp=0)
    g.tensors["x0"].quant.zero_point[0] = 5
    assert "requantiz" in reasons(g)
    g = concat_case(rng, 3, 2, 1)
    g.nodes[0].attrs = ConcatenationAttrs(1, "RELU")
    assert "activation" in reasons(g)
    assert "at most 10" in reasons(concat_case(rng, 2, 11, 0))
    assert "rank 5" in reasons(concat_case(rng, 5, 2, 0))
    g = concat_case(rng, 3, 2, 1)
    g.nodes[0].attrs = ConcatenationAttrs(3)
    assert "out of range" in reasons(g)
    g = concat_case(rng, 3, 2, 1)
    g.tensors["y"].shape = g.tensors["y"].shape[:1] + (g.tensors["y"].shape[1] + 1,) + g.tensors["y"].shape[2:]
    assert "sum to" in reasons(g)
    g = concat_case(rng, 3, 2, 1)
    g.tensors["x0"].dtype = "int16"
    assert "int16" in reasons(g)
