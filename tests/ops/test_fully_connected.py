"""FULLY_CONNECTED: integer reference == generated C == TFLM, over randomized shapes and scales."""

import numpy as np
import pytest

from microforge.ops.fully_connected import FullyConnectedAttrs

from support import act, assert_bit_exact, const, one_op_graph


def fc_case(rng, batches, in_depth, out_depth, per_channel, activation, bias=True, keep_dims=False):
    x = act("x", (batches, in_depth), float(rng.uniform(0.005, 0.2)), int(rng.integers(-128, 128)))
    w_scale = rng.uniform(0.001, 0.05, out_depth) if per_channel else float(rng.uniform(0.001, 0.05))
    w = const("w", rng.integers(-127, 128, (out_depth, in_depth)).astype(np.int8), w_scale, axis=0)
    b = const("b", rng.integers(-5000, 5000, out_depth).astype(np.int32), np.atleast_1d(w_scale) * x.quant.s, axis=0) if bias else None
    y = act("y", (batches, out_depth), float(rng.uniform(0.02, 0.5)), int(rng.integers(-128, 128)))
    return one_op_graph("FULLY_CONNECTED", [x, w, b], [y], FullyConnectedAttrs(activation, keep_dims))


@pytest.mark.parametrize("seed", range(6))
def test_fully_connected_random(seed, tmp_path):
    rng = np.random.default_rng(seed)
    g = fc_case(
        rng,
        batches=int(rng.integers(1, 4)),
        in_depth=int(rng.integers(1, 300)),
        out_depth=int(rng.integers(1, 40)),
        per_channel=False,  # TFLM's FULLY_CONNECTED takes per-tensor weights
        activation=["NONE", "RELU", "RELU6"][seed % 3],
        bias=seed != 4,
    )
    assert_bit_exact(g, [s for s in _samples(g, rng)], tmp_path / "out")


def test_fully_connected_extreme_scales(tmp_path):
    """A multiplier > 1 (left shift) and a tiny one (large right shift)."""
    rng = np.random.default_rng(100)
    for k, (xs, ws, ys) in enumerate([(0.5, 0.05, 0.001), (1e-4, 1e-4, 10.0)]):
        x = act("x", (1, 64), xs, 3)
        w = const("w", rng.integers(-127, 128, (8, 64)).astype(np.int8), ws)
        y = act("y", (1, 8), ys, -7)
        g = one_op_graph("FULLY_CONNECTED", [x, w, None], [y], FullyConnectedAttrs())
        assert_bit_exact(g, _samples(g, rng), tmp_path / f"out{k}")


def _samples(g, rng, count=8):
    from support import random_inputs

    return random_inputs(g, rng, count)
