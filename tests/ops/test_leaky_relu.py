"""LEAKY_RELU: int8 (identity and alpha multipliers, float32 Prepare arithmetic) == C == TFLM bit for bit,
alphas of any sign and size; float32 within 1e-5 of TFLM and onnxruntime; both ONNX importers; PTQ."""

import numpy as np
import pytest
from onnx import helper

from microforge import ops
from microforge.ops.leaky_relu import LeakyReluAttrs, prepare

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
from support import act, assert_bit_exact, one_op_graph, random_inputs

OP = "LEAKY_RELU"
EDGE_ALPHAS = [0.0, 0.01, 0.1, 0.2, 0.5, 1.0, 1.5, 3.0, -0.3, -1.0, -2.5, 1e-6]


@pytest.mark.parametrize("seed", range(3))
def test_leaky_relu_int8_random(seed, tmp_path):
    rng = np.random.default_rng(seed)
    alphas = rng.uniform(-2, 2, 24)
    alphas[::3] = 10 ** rng.uniform(-3, 0, 8)  # the usual small positive slopes
    g = parallel_graph(OP, random_cases(rng, 24, lo=-3, hi=0.5), attrs=lambda k: LeakyReluAttrs(float(alphas[k])))
    assert_checks_pass(g)
    assert_bit_exact(g, all_values(g, rng, 2), tmp_path / "out")


def test_leaky_relu_int8_edge_alphas(tmp_path):
    rng = np.random.default_rng(7)
    cases = [(0.05, zp, 0.04, -zp // 2) for zp in (-128, 0, 127)] * 4
    g = parallel_graph(OP, cases, attrs=lambda k: LeakyReluAttrs(EDGE_ALPHAS[k]))
    assert_checks_pass(g)
    assert_bit_exact(g, all_values(g, rng, 1), tmp_path / "out")


def test_leaky_relu_prepare_double_products():
    """Both multipliers come from double arithmetic on the float32 scales and alpha (not float32 products)."""
    g = parallel_graph(OP, [(0.05, 0, 0.04, 0)], attrs=lambda k: LeakyReluAttrs(0.5))
    p = prepare(g.nodes[0], g)
    f = np.float32
    assert f(f(0.05) * f(0.5) / f(0.04)) == f(0.625)  # float32 would give exactly 0.625: ties at x = 4k + 2
    real = float(f(0.05)) * 0.5 / float(f(0.04))
    assert (p.multiplier_alpha, p.shift_alpha) == (round(real * 2**31), 0) and p.multiplier_alpha > 0.625 * 2**31
    g = parallel_graph(OP, [(0.05, 0, 0.04, 0)], attrs=lambda k: LeakyReluAttrs(-0.5))
    assert prepare(g.nodes[0], g).multiplier_alpha == -p.multiplier_alpha


def test_leaky_relu_int8_random_shapes(tmp_path):
    rng = np.random.default_rng(20)
    shape = (2, 3, 5)
    g = one_op_graph(OP, [act("x", shape, 0.02, -5)], [act("y", shape, 0.015, 10)], LeakyReluAttrs(0.1))
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out")


def test_leaky_relu_check_rejects():
    check = ops.get(OP).check
    g = parallel_graph(OP, [(1.0, 0, 0.5, 0)], attrs=lambda k: LeakyReluAttrs(2.0**30))
    assert any("left shift" in p for p in check(g.nodes[0], g))
    g = parallel_graph(OP, [(1.0, 0, 0.5, 0)], attrs=lambda k: LeakyReluAttrs(float("nan")))
    assert any("finite" in p for p in check(g.nodes[0], g))


@pytest.mark.parametrize("alpha", [0.01, 0.2, -1.5])
def test_leaky_relu_float(alpha, tmp_path):
    rng = np.random.default_rng(3)
    g = one_op_graph(OP, [fact("x", (2, 5, 7))], [fact("y", (2, 5, 7))], LeakyReluAttrs(alpha))
    assert_float_close(g, float_samples(g, rng), tmp_path / "out")


def test_leaky_relu_onnx_float(tmp_path):
    rng = np.random.default_rng(4)
    model = onnx_model([helper.make_node("LeakyRelu", ["x"], ["y"], alpha=0.07)], {}, (1, 3, 4, 5))
    g = check_float_onnx(model, tmp_path / "a", rng, OP)
    assert np.float32(g.nodes[0].attrs.alpha) == np.float32(0.07)
    model = onnx_model([helper.make_node("LeakyRelu", ["x"], ["y"])], {}, (2, 6))  # default alpha 0.01
    g = check_float_onnx(model, tmp_path / "b", rng, OP)
    assert np.float32(g.nodes[0].attrs.alpha) == np.float32(0.01)


def test_leaky_relu_onnx_qdq(tmp_path):
    rng = np.random.default_rng(5)
    node = helper.make_node("LeakyRelu", ["xf"], ["yf"], alpha=0.1)
    check_qdq_onnx(qdq_model([node], {}, (1, 3, 4, 5), (0.04, 3), (0.03, -60)), tmp_path, rng, [OP])


def test_leaky_relu_ptq(tmp_path):
    rng = np.random.default_rng(6)
    g = one_op_graph(OP, [fact("x", (1, 4, 4, 8))], [fact("y", (1, 4, 4, 8))], LeakyReluAttrs(0.1))
    check_ptq(g, rng, tmp_path / "out")
