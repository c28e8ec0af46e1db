"""HARD_SWISH: int8 (int16 fixed point of TFLM's reference_ops::HardSwish) == C == TFLM bit for bit over
random and extreme scales; float32 within 1e-5 of TFLM and onnxruntime; both ONNX importers; PTQ."""

import numpy as np
import pytest
from onnx import helper

from microforge import ops
from microforge.ops.hard_swish import downscale_to_int16, prepare

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

OP = "HARD_SWISH"


@pytest.mark.parametrize("seed", range(3))
def test_hard_swish_int8_random(seed, tmp_path):
    rng = np.random.default_rng(seed)
    cases = [c for c in random_cases(rng, 40, lo=-3, hi=0.7, ratio=1.0) if c[0] / 128 < c[2]][:24]
    g = parallel_graph(OP, cases)
    assert_checks_pass(g)
    assert_bit_exact(g, all_values(g, rng, 2), tmp_path / "out")


def test_hard_swish_int8_edge_scales(tmp_path):
    """Relu-ish exponents from -16 (tiny input scale: the int16 rounding quirk) to +12, output exponents down
    to -20, powers of two (exact ties), typical MobileNetV3 ranges."""
    rng = np.random.default_rng(7)
    cases = [(2.0**-26, 0, 2.0**-26, 0), (2.0**-23, 9, 2.0**-24, 0), (2.0**-22, 0, 2.0**-22, 0), (2.0**-20, 5, 2.0**-14, -3), (1e-5, -128, 1e-5, 127), (0.5**7, 0, 0.5**7, 0),
             (0.25, 0, 0.25, -128), (1 / 16, 12, 1 / 32, -100), (0.1, 0, 0.1, 0), (0.05, -20, 0.04, -110),
             (1.0, 0, 1.0, -128), (10.0, 3, 5.0, 0), (40.0, -7, 40.0, -128), (3 / 128, 0, 3 / 256, -128),
             (1 / 255, -128, 1 / 255, -128), (0.02, 127, 0.0157, -125), (4.0, 0, 0.04, 0), (0.02, 0, 0.02 / 127, 0)]
    g = parallel_graph(OP, cases)
    assert_checks_pass(g)
    exps = [prepare(n, g).reluish_multiplier_exponent for n in g.nodes]
    assert min(exps) <= -16 and max(exps) >= 8
    assert_bit_exact(g, all_values(g, rng, 1), tmp_path / "out")


def test_hard_swish_prepare_numbers():
    g = parallel_graph(OP, [(0.5**7, 0, 0.5**7, 0)])
    p = prepare(g.nodes[0], g)
    # output multiplier 1/128 = 2^-7 -> Q15 16384 with exponent -6; reluish (2^-14) / (3 / 2^15) = 2/3
    assert (p.output_multiplier_fixedpoint, p.output_multiplier_exponent) == (16384, -6)
    assert (p.reluish_multiplier_fixedpoint, p.reluish_multiplier_exponent) == (round(2 / 3 * 2**15), 0)
    assert downscale_to_int16(2**31 - 1) == 32767 and downscale_to_int16(2**30) == 16384


def test_hard_swish_int8_random_shapes(tmp_path):
    rng = np.random.default_rng(20)
    shape = (1, 3, 4, 5)
    g = one_op_graph(OP, [act("x", shape, 0.03, -10)], [act("y", shape, 0.02, -100)])
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out")


def test_hard_swish_check_rejects():
    check = ops.get(OP).check
    g = parallel_graph(OP, [(1.0, 0, 1.0 / 256, 0)])  # output multiplier exponent > 0: TFLM's Prepare fails
    assert any("exponent" in p for p in check(g.nodes[0], g))
    g = parallel_graph(OP, [(0.1, 0, 0.1, 0)])
    g.tensor("x0").dtype = "uint8"
    assert check(g.nodes[0], g)


def test_hard_swish_float(tmp_path):
    rng = np.random.default_rng(3)
    g = one_op_graph(OP, [fact("x", (3, 5, 7))], [fact("y", (3, 5, 7))])
    samples = float_samples(g, rng)
    samples[0][0].reshape(-1)[:6] = [-3.0, 3.0, 0.0, -0.0, -2.9999998, 3.0000002]
    assert_float_close(g, samples, tmp_path / "out")


def test_hard_swish_onnx_float(tmp_path):
    rng = np.random.default_rng(4)
    model = onnx_model([helper.make_node("HardSwish", ["x"], ["y"])], {}, (1, 3, 4, 5))
    g = check_float_onnx(model, tmp_path, rng, OP)
    assert [n.op for n in g.nodes] == [OP]


def test_hard_swish_onnx_qdq(tmp_path):
    rng = np.random.default_rng(5)
    node = helper.make_node("HardSwish", ["xf"], ["yf"])
    check_qdq_onnx(qdq_model([node], {}, (1, 3, 4, 5), (0.04, 3), (0.03, -110)), tmp_path, rng, [OP])


def test_hard_swish_ptq(tmp_path):
    rng = np.random.default_rng(6)
    g = one_op_graph(OP, [fact("x", (1, 4, 4, 8))], [fact("y", (1, 4, 4, 8))])
    check_ptq(g, rng, tmp_path / "out")


def test_hard_swish_and_leaky_relu_c_under_sanitizers(tmp_path):
    """Extreme shifts (relu-ish exponent -19..+9, output exponent -20) under ASan/UBSan: no UB, same numbers."""
    from microforge.ops.leaky_relu import LeakyReluAttrs

    rng = np.random.default_rng(30)
    cases = [(2.0**-26, 0, 2.0**-26, 0), (40.0, -7, 40.0, -128), (0.02, 0, 0.02 / 127, 0), (1e-5, -128, 1e-5, 127)]
    g = parallel_graph(OP, cases)
    assert_bit_exact(g, all_values(g, rng, 1), tmp_path / "hs", tflm=False, sanitize=True)
    g = parallel_graph("LEAKY_RELU", [(1.0, -128, 2.0**-20, 127), (1.0, 127, 1.0, -128)],
                       attrs=lambda k: LeakyReluAttrs(-3.0))
    assert_bit_exact(g, all_values(g, rng, 1), tmp_path / "lr", tflm=False, sanitize=True)
