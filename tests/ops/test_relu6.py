"""RELU6 (standalone): TFLM's int8 RELU6 clamps in the input's quantization (no rescaling) == C == TFLM;
float32 within 1e-5 of TFLM and onnxruntime; both ONNX importers; post-training quantization."""

import numpy as np
import pytest
from onnx import helper

from microforge import ops
from microforge.ops.relu6 import six_quantized

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

OP = "RELU6"
CLIP = {"min": np.float32(0.0), "max": np.float32(6.0)}


@pytest.mark.parametrize("seed", range(3))
def test_relu6_int8_random_scales(seed, tmp_path):
    rng = np.random.default_rng(seed)
    g = parallel_graph(OP, random_cases(rng, 24, same=True, lo=-3, hi=0.5))
    assert_checks_pass(g)
    assert_bit_exact(g, all_values(g, rng, 2), tmp_path / "out")


def test_relu6_int8_edge_scales(tmp_path):
    """6 / scale exactly at a half (rounding), beyond int8 (six clamps to 127), zero points at the extremes."""
    rng = np.random.default_rng(7)
    scales = [6 / 100.5, 6 / 20.5, 0.001, 6 / 255, 0.05, 1.0, 7.0, 100.0]
    cases = [(s, zp, s, zp) for s in scales for zp in (-128, 0, 127)]
    g = parallel_graph(OP, cases)
    assert_checks_pass(g)
    assert_bit_exact(g, all_values(g, rng, 1), tmp_path / "out")


def test_relu6_six_rounding():
    assert six_quantized(6 / 100.5, 0) == 101  # half away from zero
    assert six_quantized(0.001, 0) == 127
    assert six_quantized(100.0, -128) == -128


def test_relu6_int8_random_shapes(tmp_path):
    rng = np.random.default_rng(20)
    shape = (2, 3, 4, 5)
    x = act("x", shape, 0.05, 7)
    g = one_op_graph(OP, [x], [act("y", shape, 0.05, 7)])
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out")


def test_relu6_check_rejects():
    check = ops.get(OP).check
    g = parallel_graph(OP, [(0.1, 0, 0.1, 1)])
    assert any("must equal the input" in p for p in check(g.nodes[0], g))
    g = parallel_graph(OP, [(1e-10, 0, 1e-10, 0)])
    assert any("too small" in p for p in check(g.nodes[0], g))


def test_relu6_float(tmp_path):
    rng = np.random.default_rng(3)
    g = one_op_graph(OP, [fact("x", (3, 5, 7))], [fact("y", (3, 5, 7))])
    samples = float_samples(g, rng)
    samples[0][0].reshape(-1)[:5] = [0.0, -0.0, 6.0, 6.0000005, 5.9999995]
    assert_float_close(g, samples, tmp_path / "out")


def test_relu6_onnx_float(tmp_path):
    rng = np.random.default_rng(4)
    model = onnx_model([helper.make_node("Clip", ["x", "lo", "hi"], ["y"])], {"lo": CLIP["min"], "hi": CLIP["max"]},
                       (1, 3, 4, 5))
    g = check_float_onnx(model, tmp_path, rng, OP)
    assert [n.op for n in g.nodes] == [OP]


def test_relu6_onnx_qdq(tmp_path):
    rng = np.random.default_rng(5)
    node = helper.make_node("Clip", ["xf", "lo", "hi"], ["yf"])
    inits = {"lo": CLIP["min"], "hi": CLIP["max"]}
    # output range holds 6: RELU6 in the input's quantization, then a requantization
    check_qdq_onnx(qdq_model([node], inits, (1, 3, 4, 5), (0.06, -3), (0.05, -20)), tmp_path / "a", rng,
                   [OP, "QUANTIZE"])
    # output range ends below 6 and starts below 0: RELU (rescaling, clamp at 0) does it in one op
    check_qdq_onnx(qdq_model([node], inits, (1, 3, 4, 5), (0.06, -3), (0.02, -20)), tmp_path / "b", rng, ["RELU"])
    # same quantization on both sides: RELU6 alone
    check_qdq_onnx(qdq_model([node], inits, (1, 3, 4, 5), (0.06, -3), (0.06, -3)), tmp_path / "c", rng, [OP])


def test_relu6_ptq(tmp_path):
    rng = np.random.default_rng(6)
    g = one_op_graph(OP, [fact("x", (1, 4, 4, 8))], [fact("y", (1, 4, 4, 8))])
    q = check_ptq(g, rng, tmp_path / "out")
    assert q.tensor(q.outputs[0]).quant.zp == q.tensor(q.inputs[0]).quant.zp  # same quantization (TFLM)
