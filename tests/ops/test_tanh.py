"""TANH: integer reference == generated C == TFLM, every int8 input value, over many input scales and zero points."""

import numpy as np
import pytest

from microforge import ops
from microforge.backends.c.emit import emit_c
from microforge.ir import Graph, Node
from microforge.reference import run_reference
from microforge.validate.host import run_host

from support import act, assert_bit_exact, one_op_graph, random_inputs

OP, OUT_SCALE, OUT_ZP = "TANH", 1 / 128, 0

# Input scales from tiny to huge; boundaries of the Prepare: 2^-28 (left shift 0), 1/16 (radius 120
# inside the int8 range), 4 and 8 (radius 1 and 0: everything saturates), plus non-powers of two.
EDGE_SCALES = [2.0**-28, 1e-6, 1e-3, 0.00390625, 0.0123, 1 / 16, 0.1, 0.25, 0.5, 1.0, 3.0, 4.0, 7.9, 8.0, 16.0, 1000.0]


def parallel_graph(scales, zero_points, shape=(256,)):
    """One TANH node per (scale, zero point), side by side: one C build and one TFLM run for all."""
    g = Graph(name="par")
    for k, (s, zp) in enumerate(zip(scales, zero_points)):
        x = g.add_tensor(act(f"x{k}", shape, float(s), int(zp)))
        y = g.add_tensor(act(f"y{k}", shape, OUT_SCALE, OUT_ZP))
        g.nodes.append(Node(OP, f"n{k}", [x.name], [y.name]))
        g.inputs.append(x.name)
        g.outputs.append(y.name)
    return g


def all_values_samples(g, rng, count=2):
    """Each input holds every int8 value (permuted), so each scale is checked exhaustively."""
    return [[rng.permutation(np.arange(-128, 128)).astype(np.int8) for _ in g.inputs] for _ in range(count)]


@pytest.mark.parametrize("seed", range(3))
def test_tanh_exhaustive_random_scales(seed, tmp_path):
    rng = np.random.default_rng(seed)
    n = 24
    scales = 10 ** rng.uniform(-6, 1.5, n)
    g = parallel_graph(scales, rng.integers(-128, 128, n))
    assert_bit_exact(g, all_values_samples(g, rng), tmp_path / "out")


def test_tanh_exhaustive_edge_scales(tmp_path):
    rng = np.random.default_rng(10)
    scales = EDGE_SCALES * 3
    zps = [0] * len(EDGE_SCALES) + [-128] * len(EDGE_SCALES) + [127] * len(EDGE_SCALES)
    g = parallel_graph(scales, zps)
    assert_bit_exact(g, all_values_samples(g, rng, 1), tmp_path / "out")


@pytest.mark.parametrize("seed", range(3))
def test_tanh_random_shapes(seed, tmp_path):
    rng = np.random.default_rng(20 + seed)
    shape = tuple(int(d) for d in rng.integers(1, 9, int(rng.integers(1, 5))))
    x = act("x", shape, float(10 ** rng.uniform(-3, 0.5)), int(rng.integers(-128, 128)))
    g = one_op_graph(OP, [x], [act("y", shape, OUT_SCALE, OUT_ZP)])
    assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / "out")


def test_tanh_check_rejects():
    check = ops.get(OP).check
    g = parallel_graph([0.1], [0])
    assert check(g.nodes[0], g) == []
    g.tensor("y0").quant.zero_point[:] = -128
    assert any("zero point" in p for p in check(g.nodes[0], g))
    g = parallel_graph([0.1], [0])
    g.tensor("y0").quant.scale[:] = 0.01
    assert any("scale" in p for p in check(g.nodes[0], g))
    g = parallel_graph([2.0**-30], [0])
    assert any("range" in p for p in check(g.nodes[0], g))
    g = parallel_graph([0.1], [0])
    g.tensor("x0").dtype = "int16"
    assert check(g.nodes[0], g)


def test_tanh_c_under_sanitizers(tmp_path):
    """Edge scales (left shift 0, radius 0 with shifts up to 38) under ASan/UBSan: no UB, same numbers."""
    rng = np.random.default_rng(30)
    g = parallel_graph(EDGE_SCALES + [300.0], [0, -128, 127, 5] * 4 + [0])
    samples = all_values_samples(g, rng, 1)
    emit_c(g, tmp_path / "out")
    ours, _ = run_host(tmp_path / "out", samples, sanitize=True)
    for r, o in zip(run_reference(g, samples[0]), ours[0], strict=True):
        assert np.array_equal(r, o)
