"""SUB (int8 and float32): reference == generated C == TFLM over randomized shapes, scales, broadcasts, activations."""

import numpy as np
import pytest

from microforge.ir import Tensor
from microforge.ops import get
from microforge.ops.sub import SubAttrs, prepare, real_multipliers
from microforge.quant import multiply_by_quantized_multiplier as mbqm
from microforge.quant import quantize_multiplier

from support import act, assert_bit_exact, const, one_op_graph, random_inputs

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def sub_case(rng, shape1, shape2, out_shape, scales=None, activation="NONE", const2=False):
    s1, s2, so = scales if scales is not None else rng.uniform(0.005, 0.2, 3)
    a = act("a", shape1, float(s1), int(rng.integers(-128, 128)))
    if const2:
        b = const("b", rng.integers(-128, 128, shape2).astype(np.int8), float(s2), int(rng.integers(-128, 128)))
    else:
        b = act("b", shape2, float(s2), int(rng.integers(-128, 128)))
    y = act("y", out_shape, float(so), int(rng.integers(-128, 128)))
    return one_op_graph("SUB", [a, b], [y], SubAttrs(activation))


def random_shape(rng, rank):
    return tuple(int(d) for d in rng.integers(1, 7, rank))


def broadcast_shapes(rng, seed):
    out = random_shape(rng, 4)
    s1 = tuple(d if rng.random() < 0.5 else 1 for d in out)
    s2 = tuple(d if rng.random() < 0.5 else 1 for d in out)
    if seed % 3 == 1:
        s2 = s2[int(rng.integers(1, 4)) :]  # lower rank, left-padded by broadcasting
    return s1, s2, np.broadcast_shapes(s1, s2)


@pytest.mark.parametrize("seed", range(8))
def test_sub_same_shape(seed, tmp_path):
    rng = np.random.default_rng(seed)
    shape = random_shape(rng, int(rng.integers(1, 5)))
    g = sub_case(rng, shape, shape, shape, activation=ACTS[seed % 4])
    assert get("SUB").check(g.nodes[0], g) == []
    assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / "out")


@pytest.mark.parametrize("seed", range(8))
def test_sub_broadcast(seed, tmp_path):
    rng = np.random.default_rng(100 + seed)
    s1, s2, out = broadcast_shapes(rng, seed)
    g = sub_case(rng, s1, s2, out, activation=ACTS[seed % 4], const2=seed % 4 == 3)
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out")


@pytest.mark.parametrize(
    "scales",
    [(1e-4, 0.5, 0.01), (0.5, 1e-4, 2.0), (0.02, 0.02, 1e-3), (0.1, 0.1000001, 50.0), (3e-3, 7.0, 1e-4)],
)
def test_sub_extreme_scales(scales, tmp_path):
    rng = np.random.default_rng(int(scales[2] * 1e4) % 991)
    g = sub_case(rng, (1, 5, 3, 7), (1, 1, 3, 7), (1, 5, 3, 7), scales=scales)
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out")


def float_multipliers(s1, s2, so):
    """The multipliers as some TFLM sources compute them: float divisions (not what the wheel does)."""
    f1, f2, fo = np.float32(s1), np.float32(s2), np.float32(so)
    twice_max = np.float32(2) * max(f1, f2)
    return [float(f1 / twice_max), float(f2 / twice_max), float(twice_max / (np.float32(1 << 20) * fo))]


def test_sub_multipliers_are_double_arithmetic(tmp_path):
    """For these scales and zero points, Q31 multipliers from float divisions change one output among the
    2^16 input pairs; TFLM (the wheel) agrees with double divisions, as its ADD does."""
    scales = (0.08279310166835785, 0.260114461183548, 0.778059184551239)
    in_float = [quantize_multiplier(r) for r in float_multipliers(*scales)]
    assert [quantize_multiplier(r) for r in real_multipliers(*scales)] != in_float
    a = act("a", (1, 256, 256), scales[0], -73)
    b = act("b", (1, 256, 256), scales[1], 101)
    g = one_op_graph("SUB", [a, b], [act("y", (1, 256, 256), scales[2], -90)], SubAttrs())
    x1, x2 = np.meshgrid(np.arange(-128, 128), np.arange(-128, 128), indexing="ij")
    assert_bit_exact(g, [[x1.astype(np.int8)[None], x2.astype(np.int8)[None]]], tmp_path / "out")
    p = prepare(g.nodes[0], g)
    reference = get("SUB").reference(g.nodes[0], g, [x1[None], x2[None]])[0]
    (p.input1_multiplier, p.input1_shift), (p.input2_multiplier, p.input2_shift) = in_float[:2]
    p.output_multiplier, p.output_shift = in_float[2]
    assert int(np.sum(_run_prepared(p, x1[None], x2[None]) != reference)) == 1


def _run_prepared(p, x1, x2):
    s1 = mbqm((x1.astype(np.int64) + p.input1_offset) << p.left_shift, p.input1_multiplier, p.input1_shift)
    s2 = mbqm((x2.astype(np.int64) + p.input2_offset) << p.left_shift, p.input2_multiplier, p.input2_shift)
    return np.clip(mbqm(s1 - s2, p.output_multiplier, p.output_shift) + p.output_offset, p.act_min, p.act_max)


def float_case(shape1, shape2, out_shape, activation):
    a, b = Tensor("a", tuple(shape1), "float32"), Tensor("b", tuple(shape2), "float32")
    return one_op_graph("SUB", [a, b], [Tensor("y", tuple(out_shape), "float32")], SubAttrs(activation))


@pytest.mark.parametrize("seed", range(6))
def test_sub_float32(seed, tmp_path):
    rng = np.random.default_rng(300 + seed)
    s1, s2, out = broadcast_shapes(rng, seed)
    if seed < 2:
        s1 = s2 = out
    g = float_case(s1, s2, out, ACTS[seed % 4])
    assert get("SUB").check(g.nodes[0], g) == []
    samples = [[(rng.standard_normal(s) * 4).astype(np.float32) for s in (s1, s2)] for _ in range(3)]
    assert_bit_exact(g, samples, tmp_path / "out")  # one float op per element: exact, not just within 1e-5


def test_sub_check_rejects():
    rng = np.random.default_rng(0)

    def reasons(g):
        return " ".join(get("SUB").check(g.nodes[0], g))

    assert "broadcast" in reasons(sub_case(rng, (2, 3), (4, 3), (4, 3)))
    assert "output shape" in reasons(sub_case(rng, (1, 3), (4, 3), (1, 3)))
    assert "out of TFLM's range" in reasons(sub_case(rng, (1, 3), (1, 3), (1, 3), scales=(0.5, 0.1, 1e-7)))
    g = sub_case(rng, (1, 3), (1, 3), (1, 3))
    g.nodes[0].attrs = SubAttrs("TANH")
    assert "TANH" in reasons(g)
    g = float_case((2, 3), (2, 3), (2, 3), "NONE")
    g.tensors["b"] = act("b", (2, 3), 0.1, 0)
    assert "mixed types" in reasons(g)
