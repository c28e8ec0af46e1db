"""RELU (standalone): int8 with requantization == C == TFLM bit for bit; float32 within 1e-5 of TFLM and
onnxruntime; both ONNX importers; post-training quantization."""

import numpy as np
import pytest
from onnx import helper

from microforge import ops
from microforge.ops.relu import prepare_relu

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

OP = "RELU"


@pytest.mark.parametrize("seed", range(3))
def test_relu_int8_random_scales(seed, tmp_path):
    rng = np.random.default_rng(seed)
    g = parallel_graph(OP, random_cases(rng, 24, ratio=1.5))
    assert_checks_pass(g)
    assert_bit_exact(g, all_values(g, rng, 2), tmp_path / "out")


def test_relu_int8_edge_scales(tmp_path):
    """Equal quantization, output scale 2^22 x finer (left shift 23), 2^40 x coarser (multiplier 0), zp extremes."""
    rng = np.random.default_rng(7)
    cases = [(0.1, 0, 0.1, 0), (0.1, -128, 0.1, -128), (0.1, 127, 0.1, 127), (0.05, 3, 0.05 / 2**22 * 1.3, -128),
             (1.0, 0, 2.0**40, 0), (1e-3, -128, 1e3, 127), (0.02, 127, 0.01, -128), (0.02, -128, 0.0100001, 127),
             (3.0, 10, 1 / 255, -128), (1 / 255, -128, 3.0, 5)]
    g = parallel_graph(OP, cases)
    assert_checks_pass(g)
    assert_bit_exact(g, all_values(g, rng, 1), tmp_path / "out")


@pytest.mark.parametrize("seed", range(2))
def test_relu_int8_random_shapes(seed, tmp_path):
    rng = np.random.default_rng(20 + seed)
    shape = tuple(int(d) for d in rng.integers(1, 7, int(rng.integers(1, 5))))
    x = act("x", shape, float(10 ** rng.uniform(-3, 0)), int(rng.integers(-128, 128)))
    y = act("y", shape, float(10 ** rng.uniform(-3, 0)), int(rng.integers(-128, 128)))
    g = one_op_graph(OP, [x], [y])
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out")


def test_relu_prepare_numbers():
    """Multiplier from the double division of the float32 scales; clamp from the output zero point."""
    g = parallel_graph(OP, [(0.5, 3, 0.25, -7)])
    p = prepare_relu(g.nodes[0], g, OP)
    assert (p.output_multiplier, p.output_shift, p.act_min, p.act_max) == (1 << 30, 2, -7, 127)
    assert (p.input_offset, p.output_offset) == (3, -7)


def test_relu_check_rejects():
    check = ops.get(OP).check
    g = parallel_graph(OP, [(1.0, 0, 2.0**-24, 0)])
    assert any("left shift" in p for p in check(g.nodes[0], g))
    g = parallel_graph(OP, [(0.1, 0, 0.1, 0)])
    g.tensor("x0").dtype = "int16"
    assert check(g.nodes[0], g)
    g = parallel_graph(OP, [(0.1, 0, 0.1, 0)])
    g.tensor("y0").shape = (255,)
    assert any("elements" in p for p in check(g.nodes[0], g))


def test_relu_float(tmp_path):
    rng = np.random.default_rng(3)
    g = one_op_graph(OP, [fact("x", (2, 3, 5, 7))], [fact("y", (2, 3, 5, 7))])
    assert_checks_pass(g)
    samples = float_samples(g, rng)
    samples[0][0].reshape(-1)[:4] = [0.0, -0.0, 1e-30, -1e-30]
    assert_float_close(g, samples, tmp_path / "out")


def test_relu_onnx_float(tmp_path):
    rng = np.random.default_rng(4)
    model = onnx_model([helper.make_node("Relu", ["x"], ["y"])], {}, (1, 3, 4, 5))
    g = check_float_onnx(model, tmp_path, rng, OP)
    assert [n.op for n in g.nodes] == [OP]  # no ADD(x, 0) any more


def test_relu_onnx_qdq(tmp_path):
    rng = np.random.default_rng(5)
    node = helper.make_node("Relu", ["xf"], ["yf"])
    # output zero point 0: the clamp at 0 is inside the int8 range, so a RELU op (with rescaling) is needed
    check_qdq_onnx(qdq_model([node], {}, (1, 3, 4, 5), (0.04, 3), (0.03, 0)), tmp_path / "a", rng, [OP])
    # output zero point -128: the int8 range itself clamps at 0: a requantization only
    check_qdq_onnx(qdq_model([node], {}, (1, 3, 4, 5), (0.04, 3), (0.03, -128)), tmp_path / "b", rng, ["QUANTIZE"])


def test_relu_ptq(tmp_path):
    rng = np.random.default_rng(6)
    g = one_op_graph(OP, [fact("x", (1, 4, 4, 8))], [fact("y", (1, 4, 4, 8))])
    q = check_ptq(g, rng, tmp_path / "out")
    x, y = q.tensor(q.inputs[0]), q.tensor(q.outputs[0])
    assert y.quant.zp == -128 and y.quant.s < x.quant.s  # the output kept its own (non-negative) range
