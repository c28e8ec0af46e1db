"""ADD: integer reference == generated C == TFLM, over randomized shapes, scales and broadcasts."""

import numpy as np
import pytest

from microforge.ops.add import AddAttrs

from support import act, assert_bit_exact, const, one_op_graph, random_inputs

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def add_case(rng, shape1, shape2, out_shape, scales=None, activation="NONE", const2=False):
    s1, s2, so = scales if scales is not None else rng.uniform(0.005, 0.2, 3)
    a = act("a", shape1, float(s1), int(rng.integers(-128, 128)))
    if const2:
        b = const("b", rng.integers(-128, 128, shape2).astype(np.int8), float(s2), int(rng.integers(-128, 128)))
    else:
        b = act("b", shape2, float(s2), int(rng.integers(-128, 128)))
    y = act("y", out_shape, float(so), int(rng.integers(-128, 128)))
    return one_op_graph("ADD", [a, b], [y], AddAttrs(activation))


def random_shape(rng, rank):
    return tuple(int(d) for d in rng.integers(1, 7, rank))


@pytest.mark.parametrize("seed", range(6))
def test_add_same_shape(seed, tmp_path):
    rng = np.random.default_rng(seed)
    shape = random_shape(rng, int(rng.integers(1, 5)))
    g = add_case(rng, shape, shape, shape, activation=ACTS[seed % 4])
    assert_bit_exact(g, random_inputs(g, rng, 6), tmp_path / "out")


@pytest.mark.parametrize("seed", range(8))
def test_add_broadcast(seed, tmp_path):
    """Random size-1 dims on either side (and a lower-rank input), incl. [1,1,1,C] + [1,H,W,C]."""
    rng = np.random.default_rng(100 + seed)
    out = random_shape(rng, 4)
    s1 = tuple(d if rng.random() < 0.5 else 1 for d in out)
    s2 = tuple(d if rng.random() < 0.5 else 1 for d in out)
    if seed == 0:
        s1, s2 = (1, 1, 1, out[3]), out
    if seed % 3 == 1:
        s2 = s2[int(rng.integers(1, 4)) :]  # lower rank, left-padded by broadcasting
    out = np.broadcast_shapes(s1, s2)
    g = add_case(rng, s1, s2, out, activation=ACTS[seed % 4])
    assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / "out")


@pytest.mark.parametrize("seed", range(3))
def test_add_constant_input(seed, tmp_path):
    """A constant second input, e.g. a per-channel bias [C] added to [1,H,W,C]."""
    rng = np.random.default_rng(200 + seed)
    out = random_shape(rng, 4)
    g = add_case(rng, out, (out[3],) if seed < 2 else out, out, activation=ACTS[seed], const2=True)
    assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / "out")


@pytest.mark.parametrize(
    "scales",
    [(1e-4, 0.5, 0.01), (0.5, 1e-4, 2.0), (0.02, 0.02, 1e-3), (0.1, 0.1000001, 50.0), (3e-3, 7.0, 1e-4)],
)
def test_add_extreme_scales(scales, tmp_path):
    rng = np.random.default_rng(int(scales[2] * 1e4) % 997)
    g = add_case(rng, (1, 5, 3, 7), (1, 1, 3, 7), (1, 5, 3, 7), scales=scales)
    assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / "out")


def test_add_check_rejects(tmp_path):
    from microforge import ops

    rng = np.random.default_rng(0)
    g = add_case(rng, (2, 3), (4, 3), (4, 3))
    assert any("broadcast" in r for r in ops.get("ADD").check(g.nodes[0], g))
    g = add_case(rng, (1, 3), (4, 3), (1, 3))
    assert any("output shape" in r for r in ops.get("ADD").check(g.nodes[0], g))
    g = add_case(rng, (1, 3), (1, 3), (1, 3), scales=(0.5, 0.1, 1e-7))
    assert any("out of TFLM's range" in r for r in ops.get("ADD").check(g.nodes[0], g))
