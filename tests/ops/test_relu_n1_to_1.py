"""RELU_N1_TO_1 (standalone clamp to [-1, 1]). TFLM has no kernel for it, so the oracle is LiteRT's
reference kernel (BUILTIN_REF): int8 with requantization == C == LiteRT bit for bit; float32 within 1e-5;
both ONNX importers (vs onnxruntime); post-training quantization."""

import numpy as np
import pytest
from onnx import helper

from microforge import ops
from microforge.ops.relu import prepare_relu

from activation_support import (
    all_values,
    assert_bit_exact_litert,
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
from support import act, one_op_graph, random_inputs

OP = "RELU_N1_TO_1"
CLIP = {"lo": np.float32(-1.0), "hi": np.float32(1.0)}


@pytest.mark.parametrize("seed", range(3))
def test_relu_n1_to_1_int8_random_scales(seed, tmp_path):
    rng = np.random.default_rng(seed)
    g = parallel_graph(OP, random_cases(rng, 24, lo=-3, hi=-0.5, ratio=1.0))
    assert_checks_pass(g)
    assert_bit_exact_litert(g, all_values(g, rng, 2), tmp_path / "out")


def test_relu_n1_to_1_int8_edges(tmp_path):
    rng = np.random.default_rng(7)
    cases = [(1 / 100.5, 0, 1 / 100.5, 0), (1 / 127.5, -1, 1 / 127.5, -1), (0.02, -128, 0.01, 127),
             (0.02, 127, 0.01, -128), (0.5, 0, 0.25, 0), (1e-3, 5, 1e-2, -5)]
    g = parallel_graph(OP, cases)
    p = prepare_relu(g.nodes[0], g, OP)
    assert (p.act_min, p.act_max) == (-101, 101)  # roundf(+-1 / s): half away from zero
    assert_bit_exact_litert(g, all_values(g, rng, 1), tmp_path / "out")


def test_relu_n1_to_1_int8_random_shapes(tmp_path):
    rng = np.random.default_rng(20)
    shape = (2, 3, 4)
    g = one_op_graph(OP, [act("x", shape, 0.013, 9)], [act("y", shape, 0.009, -3)])
    assert_bit_exact_litert(g, random_inputs(g, rng, 3), tmp_path / "out")


def test_relu_n1_to_1_check_rejects():
    g = parallel_graph(OP, [(1.0, 0, 2.0**-24, 0)])
    assert any("left shift" in p for p in ops.get(OP).check(g.nodes[0], g))


def test_relu_n1_to_1_float(tmp_path):
    rng = np.random.default_rng(3)
    g = one_op_graph(OP, [fact("x", (3, 5, 7))], [fact("y", (3, 5, 7))])
    samples = float_samples(g, rng, scale=1.5)
    samples[0][0].reshape(-1)[:4] = [-1.0, 1.0, -1.0000001, 1.0000001]
    assert_float_close(g, samples, tmp_path / "out", tflm=False)


def test_relu_n1_to_1_onnx_float(tmp_path):
    rng = np.random.default_rng(4)
    model = onnx_model([helper.make_node("Clip", ["x", "lo", "hi"], ["y"])], CLIP, (1, 3, 4, 5))
    g = check_float_onnx(model, tmp_path, rng, OP, scale=1.5)
    assert [n.op for n in g.nodes] == [OP]


def test_relu_n1_to_1_onnx_qdq(tmp_path):
    rng = np.random.default_rng(5)
    node = helper.make_node("Clip", ["xf", "lo", "hi"], ["yf"])
    check_qdq_onnx(qdq_model([node], CLIP, (1, 3, 4, 5), (0.02, 3), (0.01, 0)), tmp_path, rng, [OP], tflm=False,
                   scale=1.5)


def test_relu_n1_to_1_ptq(tmp_path):
    rng = np.random.default_rng(6)
    g = one_op_graph(OP, [fact("x", (1, 4, 4, 8))], [fact("y", (1, 4, 4, 8))])
    check_ptq(g, rng, tmp_path / "out", tflm=False)
