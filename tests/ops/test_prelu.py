"""PRELU: int8 with a broadcast int8 alpha tensor == C == TFLM bit for bit; float32 within 1e-5 of TFLM
and onnxruntime; both ONNX importers (per-channel slopes); post-training quantization."""

import numpy as np
import pytest
from onnx import helper

from microforge import ops

from activation_support import (
    all_values,
    assert_checks_pass,
    assert_float_close,
    check_float_onnx,
    check_ptq,
    check_qdq_onnx,
    fact,
    float_samples,
    onnx_model,
    parallel_graph,
    qdq_model,
    random_cases,
)
from support import act, assert_bit_exact, const, one_op_graph, random_inputs

OP = "PRELU"


@pytest.mark.parametrize("seed", range(2))
def test_prelu_int8_random_scales(seed, tmp_path):
    """Every int8 input value against a random int8 alpha per element (alpha shape = input shape)."""
    rng = np.random.default_rng(seed)

    def alpha(k):
        data = rng.integers(-128, 128, 256).astype(np.int8)
        return const(f"a{k}", data, float(10 ** rng.uniform(-3, 0)), np.array([int(rng.integers(-128, 128))]))

    g = parallel_graph(OP, random_cases(rng, 16, lo=-3, hi=0.5, ratio=1.0), alpha=alpha)
    assert_checks_pass(g)
    assert_bit_exact(g, all_values(g, rng, 2), tmp_path / "out")


@pytest.mark.parametrize("alpha_shape", [(1,), (5,), (1, 1, 5), (4, 1, 5), (3, 1, 1, 1), (3, 4, 1, 5)])
def test_prelu_int8_broadcast(alpha_shape, tmp_path):
    rng = np.random.default_rng(sum(alpha_shape))
    shape = (3, 4, 2, 5)
    a = const("a", rng.integers(-128, 128, alpha_shape).astype(np.int8), 0.01, np.array([-7]))
    g = one_op_graph(OP, [act("x", shape, 0.05, 3), a], [act("y", shape, 0.04, -20)])
    assert_checks_pass(g)
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out")


def test_prelu_int8_edges(tmp_path):
    """Zero points at the extremes, alpha 0 / negative / > 1 in real terms, power-of-two scales (ties)."""
    rng = np.random.default_rng(9)
    cases = [(0.5, -128, 0.25, 127), (0.5, 127, 0.25, -128), (1 / 64, 0, 1 / 32, 0), (0.1, 0, 0.1, 0)]
    alphas = [(0.5, -128), (1 / 128, 0), (0.03, 127), (1e-3, 5)]
    g = parallel_graph(OP, cases, alpha=lambda k: const(f"a{k}", rng.integers(-128, 128, 256).astype(np.int8),
                                                      alphas[k][0], np.array([alphas[k][1]])))
    assert_bit_exact(g, all_values(g, rng, 1), tmp_path / "out")


def test_prelu_check_rejects():
    check = ops.get(OP).check
    a = const("a", np.zeros((3,), np.int8), 0.01, np.array([0]))
    g = one_op_graph(OP, [act("x", (2, 5), 0.1, 0), a], [act("y", (2, 5), 0.1, 0)])
    assert any("broadcast" in p for p in check(g.nodes[0], g))
    a = const("a", np.ones((5,), np.int8), 2.0**20, np.array([0]))
    g = one_op_graph(OP, [act("x", (2, 5), 0.1, 0), a], [act("y", (2, 5), 0.1, 0)])
    assert any("left shift" in p for p in check(g.nodes[0], g))


def test_prelu_float(tmp_path):
    rng = np.random.default_rng(3)
    shape = (2, 3, 4, 5)
    a = fact("a", (1, 1, 5))
    a.data = rng.uniform(-1, 1, (1, 1, 5)).astype(np.float32)
    g = one_op_graph(OP, [fact("x", shape), a], [fact("y", shape)])
    assert_checks_pass(g)
    assert_float_close(g, float_samples(g, rng), tmp_path / "out")


@pytest.mark.parametrize("slope_shape", [(4, 1, 1), (1,)])
def test_prelu_onnx_float(slope_shape, tmp_path):
    rng = np.random.default_rng(4)
    slope = rng.uniform(-0.5, 0.5, slope_shape).astype(np.float32)
    model = onnx_model([helper.make_node("PRelu", ["x", "slope"], ["y"])], {"slope": slope}, (1, 4, 3, 5))
    g = check_float_onnx(model, tmp_path, rng, OP)
    assert [n.op for n in g.nodes] == [OP]


def test_prelu_onnx_qdq(tmp_path):
    rng = np.random.default_rng(5)
    slope = rng.uniform(-0.5, 0.8, (4, 1, 1)).astype(np.float32)
    node = helper.make_node("PRelu", ["xf", "slope"], ["yf"])
    g = check_qdq_onnx(qdq_model([node], {"slope": slope}, (1, 4, 3, 5), (0.04, 3), (0.03, -20)), tmp_path, rng, [OP])
    # nothing here wants NHWC, so the graph input keeps the ONNX layout and the slope its channel axis
    assert g.tensor(g.inputs[0]).shape == (1, 4, 3, 5) and g.tensor(g.nodes[0].inputs[1]).shape == (1, 4, 1, 1)


def test_prelu_ptq(tmp_path):
    rng = np.random.default_rng(6)
    a = fact("a", (8,))
    a.data = rng.uniform(-0.3, 0.6, (8,)).astype(np.float32)
    g = one_op_graph(OP, [fact("x", (1, 4, 4, 8)), a], [fact("y", (1, 4, 4, 8))])
    check_ptq(g, rng, tmp_path / "out")
