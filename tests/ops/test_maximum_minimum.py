"""MAXIMUM / MINIMUM (int8 and float32): reference == generated C == TFLM bit for bit, with broadcasting."""

import numpy as np
import pytest

from microforge.ir import Tensor
from microforge.ops import get

from support import act, assert_bit_exact, const, one_op_graph, random_inputs

OPS = ["MAXIMUM", "MINIMUM"]


def random_shapes(rng, seed):
    out = tuple(int(d) for d in rng.integers(1, 7, int(rng.integers(1, 5))))
    if seed % 4 == 0:
        return out, out, out
    s1 = tuple(d if rng.random() < 0.5 else 1 for d in out)
    s2 = tuple(d if rng.random() < 0.5 else 1 for d in out)
    if seed % 4 == 1 and len(s2) > 1:
        s2 = s2[int(rng.integers(1, len(s2))) :]  # lower rank, left-padded by broadcasting
    return s1, s2, np.broadcast_shapes(s1, s2)


def int8_case(rng, op, s1, s2, out, const2=False):
    scale, zp = float(rng.uniform(1e-3, 2.0)), int(rng.integers(-128, 128))
    a = act("a", s1, scale, zp)
    if const2:
        b = const("b", rng.integers(-128, 128, s2).astype(np.int8), scale, np.array([zp]))
    else:
        b = act("b", s2, scale, zp)
    return one_op_graph(op, [a, b], [act("y", out, scale, zp)])


def float_case(op, s1, s2, out):
    a, b = Tensor("a", tuple(s1), "float32"), Tensor("b", tuple(s2), "float32")
    return one_op_graph(op, [a, b], [Tensor("y", tuple(out), "float32")])


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("seed", range(8))
def test_maximum_minimum_int8(op, seed, tmp_path):
    rng = np.random.default_rng(seed + (100 if op == "MINIMUM" else 0))
    g = int8_case(rng, op, *random_shapes(rng, seed), const2=seed % 4 == 3)
    assert get(op).check(g.nodes[0], g) == []
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out")


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("seed", range(4))
def test_maximum_minimum_float32(op, seed, tmp_path):
    rng = np.random.default_rng(200 + seed + (100 if op == "MINIMUM" else 0))
    s1, s2, out = random_shapes(rng, seed)
    g = float_case(op, s1, s2, out)
    assert get(op).check(g.nodes[0], g) == []
    samples = [[rng.standard_normal(s).astype(np.float32) for s in (s1, s2)] for _ in range(3)]
    assert_bit_exact(g, samples, tmp_path / "out")


@pytest.mark.parametrize("op", OPS)
def test_maximum_minimum_float32_ties_and_nan(op, tmp_path):
    """+0 vs -0 and NaN on either side: TFLM's `a > b ? a : b` picks the second operand on ties and NaNs."""
    nan = np.float32(np.nan)
    a = np.array([0.0, -0.0, nan, 1.0, nan, 2.5, -3.0, np.inf], np.float32)
    b = np.array([-0.0, 0.0, 1.0, nan, nan, 2.5, -np.inf, 7.0], np.float32)
    g = float_case(op, (8,), (8,), (8,))
    assert_bit_exact(g, [[a, b], [b, a]], tmp_path / "out")


def test_maximum_minimum_check_rejects():
    rng = np.random.default_rng(0)

    def reasons(g):
        return " ".join(get(g.nodes[0].op).check(g.nodes[0], g))

    g = int8_case(rng, "MAXIMUM", (2, 3), (2, 3), (2, 3))
    g.tensors["b"].quant.scale[0] *= 1.5
    assert "quantization differs" in reasons(g)
    g = int8_case(rng, "MINIMUM", (2, 3), (2, 3), (2, 3))
    g.tensors["y"].quant.zero_point[0] += 1
    assert "quantization differs" in reasons(g)
    assert "broadcast" in reasons(int8_case(rng, "MAXIMUM", (2, 3), (4, 3), (4, 3)))
    assert "rank 5" in reasons(float_case("MINIMUM", (1, 2, 1, 2, 2), (2,), (1, 2, 1, 2, 2)))
    g = float_case("MAXIMUM", (2, 3), (2, 3), (2, 3))
    g.tensors["b"] = act("b", (2, 3), 0.1, 0)
    assert "mixed types" in reasons(g)
