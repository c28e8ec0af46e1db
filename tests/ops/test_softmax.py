"""SOFTMAX: integer reference == generated C == TFLM over row lengths, input scales, betas and output types."""

import numpy as np
import pytest

from microforge import ops
from microforge.backends.c.emit import emit_c
from microforge.ops.softmax import SoftmaxAttrs, prepare, softmax_scaling
from microforge.reference import run_reference
from microforge.validate.host import run_host

from support import act, assert_bit_exact, one_op_graph, random_inputs, run_all_three

OUT_QUANT = {"int8": (1 / 256, -128), "int16": (1 / 65536, -32768)}


def softmax_case(shape, scale, zero_point, beta=1.0, out_dtype="int8"):
    x = act("x", shape, scale, zero_point)
    y = act("y", shape, *OUT_QUANT[out_dtype], out_dtype)
    return one_op_graph("SOFTMAX", [x], [y], SoftmaxAttrs(beta))


def samples_for(g, rng, count=4):
    """Uniform int8 rows, rows bunched near the top (many entries close to the max), a constant row."""
    shape = g.tensor("x").shape
    samples = random_inputs(g, rng, count)
    top = int(rng.integers(-100, 128))
    samples.append([np.clip(rng.integers(top - 12, top + 1, shape), -128, 127).astype(np.int8)])
    samples.append([np.full(shape, int(rng.integers(-128, 128)), np.int8)])
    return samples


def tflm_safe(g, samples):
    """Samples TFLM can run: with int8 output it aborts when a row's Q12.19 sum of exp() reaches 512."""
    if g.tensor("y").dtype != "int8":
        return samples
    p = prepare(g.nodes[0], g)
    return [s for s in samples if _max_row_sum(s[0], p) < 2**28]


def _max_row_sum(x, p):
    from microforge import fixedpoint as fp

    x = x.astype(np.int64).reshape(p.outer, p.depth)
    diff = x - x.max(axis=1, keepdims=True)
    valid = diff >= p.diff_min
    e = fp.exp_on_negative_values(fp.srdhm(np.where(valid, diff, 0) << p.input_left_shift, p.input_multiplier), 5)
    return int(np.where(valid, fp.rescale(e, 0, 12), 0).sum(axis=1).max())


@pytest.mark.parametrize("seed", range(14))
def test_softmax_random(seed, tmp_path):
    """Random ranks/row lengths (1..1000), input scales 1e-4..30, zero points, betas, int8 and int16 outputs."""
    rng = np.random.default_rng(seed)
    depth = int(rng.choice([1, 2, 3, 7, 10, 64, 100, 257, 1000])) if seed else 1000
    lead = tuple(int(d) for d in rng.integers(1, 4, int(rng.integers(0, 3))))
    beta = float(rng.choice([1.0, 1.0, 0.5, 2.0, 0.1, 10.0, 1e-3]))
    scale = float(10 ** rng.uniform(-4, 1.5))
    while beta * scale * 2**26 <= 1:
        scale *= 10
    zero_point, out_dtype = int(rng.integers(-128, 128)), "int16" if seed % 4 == 3 else "int8"
    while True:
        g = softmax_case(lead + (depth,), scale, zero_point, beta, out_dtype)
        samples = tflm_safe(g, samples_for(g, rng))
        if len(samples) >= 4:
            break
        scale *= 4  # long rows of near-equal exp() would make TFLM abort; sharpen the distribution
    assert_bit_exact(g, samples, tmp_path / "out")


@pytest.mark.parametrize(
    "scale,beta",
    [
        (1 / 16, 1.0),  # diff_min = -248: the drop threshold sits inside the int8 difference range
        (0.25, 1.0),  # diff_min = -62
        (2.0, 1.0),  # diff_min = -7
        (100.0, 1.0),  # multiplier capped at 2^31 - 1: left shift 31, diff_min 0 (only the max survives)
        (1.6e-8, 1.0),  # beta * scale * 2^26 just above 1: smallest accepted multiplier
        (0.1, 0.05),
    ],
)
def test_softmax_scaling_edges(scale, beta, tmp_path):
    rng = np.random.default_rng(int(scale * 1000) + 7)
    for k, out_dtype in enumerate(("int8", "int16")):
        g = softmax_case((3, 300), scale, int(rng.integers(-128, 128)), beta, out_dtype)
        samples = samples_for(g, rng, 3)
        # every difference -255..0 once per row, so the diff_min boundary is always hit
        sweep = np.tile(np.concatenate([np.arange(-128, 128), np.full(44, 127)]).astype(np.int8), (3, 1))
        samples.append([np.ascontiguousarray(rng.permuted(sweep, axis=1))])
        assert_bit_exact(g, tflm_safe(g, samples), tmp_path / f"out{k}")


def test_softmax_scaling_params():
    """Prepare numbers pinned: multiplier/shift of beta * scale * 2^26 and diff_min = -floor(31 * 2^26 / 2^shift)."""
    assert softmax_scaling(1.0, 1 / 16) == (1 << 30, 23, -248)
    assert softmax_scaling(1.0, 100.0) == (2**31 - 1, 31, 0)
    m, s, d = softmax_scaling(1.0, 0.00390625)
    assert (m, s, d) == (1 << 30, 19, -3968)
    with pytest.raises(ValueError):
        softmax_scaling(1.0, 2.0**-27)


def test_softmax_large_sum_where_tflm_aborts(tmp_path):
    """>= 512 entries at the row max with int8 output: TFLM aborts (TFLITE_CHECK); we output -128 there."""
    g = softmax_case((2, 600), 0.1, 0)
    x = np.zeros((2, 600), np.int8)
    x[1, :300] = -128  # row 1: 300 entries at the max, sum of exp() < 512, a normal row
    ref, ours, _ = run_all_three(g, [[x]], tmp_path / "out", tflm=False)
    assert np.array_equal(ref[0][0], ours[0][0])
    assert np.all(ref[0][0][0] == -128)
    assert np.all(ref[0][0][1, :300] == -128) and np.all(ref[0][0][1, 300:] == -127)  # round(256 / 300) = 1
    # int16 output has room for the shift: TFLM runs it, and we match it
    g16 = softmax_case((2, 600), 0.1, 0, out_dtype="int16")
    assert_bit_exact(g16, [[x]], tmp_path / "out16")


def test_softmax_check_rejects():
    check = ops.get("SOFTMAX").check
    g = softmax_case((1, 10), 0.1, 0)
    assert check(g.nodes[0], g) == []
    g.tensor("y").quant.scale[:] = 1 / 255
    assert any("scale" in p for p in check(g.nodes[0], g))
    g = softmax_case((1, 10), 0.1, 0)
    g.tensor("y").quant.zero_point[:] = 0
    assert any("zero point" in p for p in check(g.nodes[0], g))
    g = softmax_case((1, 10), 2.0**-27, 0)
    assert any("> 1" in p for p in check(g.nodes[0], g))
    g = softmax_case((1, 10), 0.1, 0)
    g.tensor("x").dtype = "uint8"
    assert check(g.nodes[0], g)


@pytest.mark.parametrize("out_dtype", ["int8", "int16"])
def test_softmax_c_under_sanitizers(out_dtype, tmp_path):
    """Left shift 31 (diff_min 0), the smallest multiplier, a row TFLM aborts on: no UB under ASan/UBSan."""
    rng = np.random.default_rng(40)
    for k, (scale, shape) in enumerate([(100.0, (2, 50)), (1.6e-8, (3, 40)), (0.1, (1, 700))]):
        g = softmax_case(shape, scale, 3, 1.0, out_dtype)
        samples = samples_for(g, rng, 2)
        emit_c(g, tmp_path / f"out{k}")
        ours, _ = run_host(tmp_path / f"out{k}", samples, sanitize=True)
        for s, o in zip(samples, ours, strict=True):
            assert np.array_equal(run_reference(g, s)[0], o[0])
