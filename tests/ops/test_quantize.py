"""QUANTIZE: float32 -> int8/int16 and integer requantization; integer reference == generated C == TFLM."""

import numpy as np
import pytest

from microforge.ir import Graph, Node, Tensor
from microforge.ops import get
from microforge.ops.quantize import REQUANT_PAIRS, affine_quantize

from support import act, assert_bit_exact, one_op_graph, random_inputs


def float_samples(rng, shape, scale, zero_point, count, dtype="int8"):
    """Floats that exercise the rounding: exact .5 ties, values near the clamp limits, signed zeros,
    subnormals, and values far beyond the range (kept below |x / scale| = 1e9, where TFLM's float->int32
    cast is still defined)."""
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    n = int(np.prod(shape))
    samples = []
    for _ in range(count):
        k = rng.integers(lo - zero_point - 4, hi - zero_point + 5, n).astype(np.float64)
        kinds = rng.integers(0, 6, n)
        v = np.where(kinds == 0, (k + 0.5) * scale, 0.0)  # ties (exact when the scale is a power of two)
        v = np.where(kinds == 1, (k + rng.uniform(-0.5, 0.5, n)) * scale, v)
        v = np.where(kinds == 2, rng.uniform(-1e9, 1e9, n) * scale * rng.uniform(0, 1, n) ** 8, v)
        v = np.where(kinds == 3, np.array([0.0, -0.0, 1e-42, -1e-42])[rng.integers(0, 4, n)], v)
        toward = np.where(rng.integers(0, 2, n) == 1, np.inf, -np.inf).astype(np.float32)
        v = np.where(kinds == 4, np.nextafter(np.float32((k + 0.5) * scale), toward), v)  # one ulp off a tie
        v = np.where(kinds == 5, k * scale, v)
        samples.append([v.astype(np.float32).reshape(shape)])
    return samples


def parallel_graph(pairs):
    """One graph of independent QUANTIZE nodes x_k -> y_k (one C build and one TFLM model for all cases)."""
    g = Graph("cases")
    for k, (x, y) in enumerate(pairs):
        x.name, y.name = f"x{k}", f"y{k}"
        g.add_tensor(x)
        g.add_tensor(y)
        g.nodes.append(Node("QUANTIZE", y.name, [x.name], [y.name]))
        g.inputs.append(x.name)
        g.outputs.append(y.name)
    for node in g.nodes:
        assert get("QUANTIZE").check(node, g) == []
    return g


def float_case(rng, out_dtype, scale, zp, shape=None):
    shape = shape or tuple(int(d) for d in rng.integers(1, 7, int(rng.integers(1, 4))))
    x = Tensor("x", shape, "float32")
    return one_op_graph("QUANTIZE", [x], [act("y", shape, scale, zp, out_dtype)])


@pytest.mark.parametrize("seed", range(8))
def test_quantize_float_random(seed, tmp_path):
    rng = np.random.default_rng(seed)
    out_dtype = "int8" if seed % 4 else "int16"
    info = np.iinfo(out_dtype)
    # Power-of-two scales make exact ties; the others exercise the float32 division.
    scale = float(2.0 ** int(rng.integers(-12, 4))) if seed % 2 else float(np.float32(10 ** rng.uniform(-5, 2)))
    zp = 0 if out_dtype == "int16" and seed % 3 else int(rng.integers(info.min, info.max + 1))
    g = float_case(rng, out_dtype, scale, zp)
    assert get("QUANTIZE").check(g.nodes[0], g) == []
    assert_bit_exact(g, float_samples(rng, g.tensors["x"].shape, scale, zp, 4, out_dtype), tmp_path / "out")


def test_quantize_float_extreme_scales(tmp_path):
    rng = np.random.default_rng(11)
    cases = [(1e-7, -128), (1e5, 127), (3.0517578e-05, 0), (0.003921569, -128)]
    g = parallel_graph([(Tensor("x", (4, 64), "float32"), act("y", (4, 64), s, zp)) for s, zp in cases])
    parts = [float_samples(rng, (4, 64), s, zp, 2) for s, zp in cases]
    assert_bit_exact(g, [[p[i][0] for p in parts] for i in range(2)], tmp_path / "out")


def test_affine_quantize_rounds_half_away_from_zero():
    x = np.asarray([-1.5, -0.5, -0.49999997, 0.5, 1.5, 2.5, -2.5, 0.49999997], np.float32)
    assert affine_quantize(x, 1.0, 0, "int8").tolist() == [-2, -1, 0, 1, 2, 3, -3, 0]
    assert affine_quantize(np.asarray([1e30, -1e30, np.nan], np.float32), 0.1, 5, "int8").tolist() == [127, -128, 5]


PAIRS = sorted(REQUANT_PAIRS)


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_requantize_random(pair, tmp_path):
    in_dtype, out_dtype = pair
    rng = np.random.default_rng(len(in_dtype) * 31 + len(out_dtype) * 7 + PAIRS.index(pair))
    shape = tuple(int(d) for d in rng.integers(1, 9, int(rng.integers(1, 4))))
    cases = []
    for k in range(3):
        in_info, out_info = np.iinfo(in_dtype), np.iinfo(out_dtype)
        zin = int(rng.integers(max(in_info.min, -1000), min(in_info.max, 1000) + 1))
        zout = int(rng.integers(max(out_info.min, -1000), min(out_info.max, 1000) + 1))
        in_scale = float(10 ** rng.uniform(-6, 0))
        # Ratios from ~1e-4 to ~1e3 (left shifts included); int32 inputs keep it below 1 so nothing wraps.
        ratio = 10 ** rng.uniform(-4, 0 if in_dtype == "int32" else 3)
        if k == 0:
            ratio = 1.0  # same scale: a pure zero-point shift (TFLM's int8<->uint8 fast path)
            zout = zin + (128 if pair == ("int8", "uint8") else -128 if pair == ("uint8", "int8") else 0)
            zout = int(np.clip(zout, out_info.min, out_info.max))
        out_scale = float(np.float32(in_scale / ratio))
        cases.append((act("x", shape, in_scale, zin, in_dtype), act("y", shape, out_scale, zout, out_dtype)))
    g = parallel_graph(cases)
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out")


def test_requantize_keyword_model_params(tmp_path):
    """The two QUANTIZE nodes of keyword_scrambled_8bit.tflite: int16 -> int8 and int16 -> int32."""
    rng = np.random.default_rng(5)
    g = parallel_graph([(act("x", (1, 96), 0.000625, 0, "int16"), act("y", (1, 96), 0.05920833, -128, "int8")),
                        (act("x", (1, 2), 1.5259022e-05, -32768, "int16"), act("y", (1, 2), 3.051851e-05, 0, "int32"))])
    assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / "out")


def test_quantize_check_rejects():
    def reasons(x, y):
        g = one_op_graph("QUANTIZE", [x], [y])
        return " ".join(get("QUANTIZE").check(g.nodes[0], g))

    assert "not a QUANTIZE" in reasons(act("x", (4,), 0.1, 0, "int16"), act("y", (4,), 0.1, 0, "uint8"))
    assert "float32 -> int32" in reasons(Tensor("x", (4,), "float32"), act("y", (4,), 0.1, 0, "int32"))
    y = act("y", (4,), 0.1, 0)
    y.quant.scale = np.asarray([0.1, 0.2], np.float32)
    y.quant.zero_point = np.zeros(2, np.int64)
    assert "per-tensor" in reasons(Tensor("x", (4,), "float32"), y)
    assert "per-tensor" in reasons(Tensor("x", (4,), "int8"), act("y", (4,), 0.1, 0))
    assert "elements" in reasons(act("x", (4,), 0.1, 0), act("y", (5,), 0.1, 0))
    assert "2^31" in reasons(act("x", (4,), 1e5, 0), act("y", (4,), 1e-6, 0))
