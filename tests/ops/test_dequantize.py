"""DEQUANTIZE (int8/int16 -> float32): reference == generated C == TFLM, compared bit for bit.

tests/support.assert_bit_exact compares through int64 (it would truncate floats), so the float32
outputs are compared here on their raw bits.
"""

import numpy as np
import pytest

from microforge.ir import Graph, Node, Tensor
from microforge.ops import get
from microforge.ops.dequantize import dequantize_values

from support import act, random_inputs, run_all_three


def assert_float_bits_equal(graph, samples, outdir):
    ref, ours, theirs = run_all_three(graph, samples, outdir)
    for k in range(len(samples)):
        for i, r in enumerate(ref[k]):
            assert r.dtype == np.float32
            for who, other in (("C", ours[k][i]), ("TFLM", theirs[k][i])):
                o = np.asarray(other, dtype=np.float32).reshape(r.shape)
                bad = np.flatnonzero(r.view(np.uint32) != o.view(np.uint32))
                assert bad.size == 0, (
                    f"sample {k} output {i}: reference != {who} at {bad[:5]}: {r.flat[bad[:5]]} vs {o.flat[bad[:5]]}"
                )


def dequant_graph(cases):
    """Independent DEQUANTIZE nodes x_k -> y_k, one per (shape, scale, zero point, dtype) case."""
    g = Graph("cases")
    for k, (shape, scale, zp, dtype) in enumerate(cases):
        g.add_tensor(act(f"x{k}", shape, scale, zp, dtype))
        g.add_tensor(Tensor(f"y{k}", shape, "float32"))
        g.nodes.append(Node("DEQUANTIZE", f"y{k}", [f"x{k}"], [f"y{k}"]))
        g.inputs.append(f"x{k}")
        g.outputs.append(f"y{k}")
    for node in g.nodes:
        assert get("DEQUANTIZE").check(node, g) == []
    return g


@pytest.mark.parametrize("seed", range(6))
def test_dequantize_random(seed, tmp_path):
    rng = np.random.default_rng(seed)
    cases = []
    for dtype in ("int8", "int16"):
        info = np.iinfo(dtype)
        for _ in range(2):
            shape = tuple(int(d) for d in rng.integers(1, 8, int(rng.integers(1, 5))))
            scale = float(np.float32(10 ** rng.uniform(-6, 2)))
            zp = int(rng.integers(info.min, info.max + 1)) if dtype == "int8" or seed % 2 else 0
            cases.append((shape, scale, zp, dtype))
    g = dequant_graph(cases)
    assert_float_bits_equal(g, random_inputs(g, rng, 3), tmp_path / "out")


def test_dequantize_extreme_scales(tmp_path):
    """Scales at the ends of float32: subnormal results, results near FLT_MAX, odd mantissas."""
    rng = np.random.default_rng(99)
    cases = [((300,), s, zp, dt) for s, zp, dt in [
        (1e-40, 0, "int8"), (1.4e-45, -128, "int8"), (1e36, 127, "int8"), (1e34, -32768, "int16"),
        (0.1, 3, "int8"), (np.float32(1 / 3), -7, "int16"), (2.0**-20, 5, "int16"),
    ]]
    g = dequant_graph(cases)
    samples = random_inputs(g, rng, 2)
    for s in samples:  # make sure every code of the int8 cases appears at least once
        for k, case in enumerate(cases):
            if case[3] == "int8":
                s[k][:256] = np.arange(-128, 128, dtype=np.int8)
    assert_float_bits_equal(g, samples, tmp_path / "out")


def test_dequantize_is_one_float32_multiply():
    q = np.asarray([-128, -1, 0, 1, 127], np.int8)
    want = np.float32(0.1) * (q.astype(np.float32) - np.float32(3))
    assert dequantize_values(q, 0.1, 3).view(np.uint32).tolist() == want.view(np.uint32).tolist()
    assert dequantize_values(np.asarray([127], np.int8), 1e38, -128).tolist() == [np.inf]  # overflows like TFLM


def test_dequantize_check_rejects():
    def reasons(x, y):
        g = Graph("g", {x.name: x, y.name: y}, [Node("DEQUANTIZE", "y", [x.name], [y.name])], [x.name], [y.name])
        return " ".join(get("DEQUANTIZE").check(g.nodes[0], g))

    assert "int32" in reasons(act("x", (4,), 0.1, 0, "int32"), Tensor("y", (4,), "float32"))
    assert "float32" in reasons(act("x", (4,), 0.1, 0), Tensor("y", (4,), "int16"))
    assert "quantization" in reasons(Tensor("x", (4,), "int8"), Tensor("y", (4,), "float32"))
    assert "elements" in reasons(act("x", (4,), 0.1, 0), Tensor("y", (3,), "float32"))
