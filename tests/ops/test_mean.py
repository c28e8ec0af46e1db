"""MEAN: integer reference == generated C == TFLM, over axes, keep_dims, and equal or differing quantization."""

import numpy as np
import pytest

from microforge import ops
from microforge.ops.mean import MeanAttrs, mean_multiplier

from support import act, assert_bit_exact, const, one_op_graph, random_inputs


def mean_case(rng, shape, axes, keep_dims, same_quant, scales=None):
    rank = len(shape)
    resolved = sorted({a % rank for a in axes})
    if keep_dims:
        out_shape = tuple(1 if k in resolved else d for k, d in enumerate(shape))
    else:
        out_shape = tuple(d for k, d in enumerate(shape) if k not in resolved)
    s_in, s_out = scales if scales is not None else (float(rng.uniform(0.005, 0.2)), float(rng.uniform(0.005, 0.2)))
    zp_in = int(rng.integers(-128, 128))
    x = act("x", shape, s_in, zp_in)
    y = act("y", out_shape, s_in, zp_in) if same_quant else act("y", out_shape, s_out, int(rng.integers(-128, 128)))
    axis = const("axis", np.asarray(axes, dtype=np.int32))
    return one_op_graph("MEAN", [x, axis], [y], MeanAttrs(keep_dims))


@pytest.mark.parametrize("seed", range(8))
def test_mean_global_average(seed, tmp_path):
    """Axes {1, 2} of NHWC (either order), keep_dims both ways, same and different quantization."""
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 12)), int(rng.integers(1, 12)), int(rng.integers(1, 20)))
    axes = [1, 2] if seed % 4 < 2 else [2, -3]
    g = mean_case(rng, shape, axes, keep_dims=seed % 2 == 0, same_quant=seed % 3 == 0)
    assert ops.get("MEAN").check(g.nodes[0], g) == []
    assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / "out")


@pytest.mark.parametrize("seed", range(8))
def test_mean_other_axes(seed, tmp_path):
    """One or two arbitrary axes on rank 2..4 tensors, duplicates and negative axes included."""
    rng = np.random.default_rng(50 + seed)
    rank = int(rng.integers(2, 5))
    shape = tuple(int(d) for d in rng.integers(1, 8, rank))
    axes = [int(a) for a in rng.choice(np.arange(-rank, rank), size=int(rng.integers(1, 3)), replace=False)]
    if seed == 3:
        axes = axes + [axes[0]]  # a duplicate, dropped by TFLM's ResolveAxis
    if len({a % rank for a in axes}) > 2:
        axes = axes[:2]
    g = mean_case(rng, shape, axes, keep_dims=seed % 2 == 1, same_quant=seed % 3 == 1)
    assert ops.get("MEAN").check(g.nodes[0], g) == [], axes
    assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / "out")


@pytest.mark.parametrize("scales", [(0.5, 1e-3), (1e-4, 0.3), (0.02, 0.0200001), (3.0, 0.01), (1e-3, 1e-3 * 1.5)])
def test_mean_extreme_scales(scales, tmp_path):
    rng = np.random.default_rng(int(scales[0] * 1e4) % 991)
    g = mean_case(rng, (1, 7, 9, 5), [1, 2], keep_dims=True, same_quant=False, scales=scales)
    assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / "out")


def test_mean_large_count(tmp_path):
    """count = 2^k exactly and a large window: the folded 1/count multiplier at its edges."""
    rng = np.random.default_rng(9)
    for k, shape in enumerate([(1, 16, 16, 3), (1, 31, 33, 2)]):
        g = mean_case(rng, shape, [1, 2], keep_dims=False, same_quant=False)
        assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / f"out{k}")


def test_mean_multiplier_fold():
    # s_in / s_out = 1 -> (2^30, 1); count 3: shift 1, (2^30 << 1) // 3
    assert mean_multiplier(1.0, 1.0, 3) == ((2**31) // 3, 0)
    assert mean_multiplier(1.0, 1.0, 1) == (2**30, 1)


def test_mean_check_rejects():
    rng = np.random.default_rng(0)
    g = mean_case(rng, (1, 4, 4, 3), [0, 1, 2], keep_dims=True, same_quant=True)
    assert any("3 distinct axes" in r for r in ops.get("MEAN").check(g.nodes[0], g))
    g = mean_case(rng, (1, 4, 4, 3), [1, 2], keep_dims=True, same_quant=True)
    g.tensor("axis").data = None
    assert any("constant int32" in r for r in ops.get("MEAN").check(g.nodes[0], g))


def test_mean_scalar_axis(tmp_path):
    """A rank-0 axis tensor (TFLM counts it as one axis): mean over channels, axis -1."""
    rng = np.random.default_rng(11)
    x = act("x", (1, 3, 4, 10), 0.03, 5)
    y = act("y", (1, 3, 4), 0.01, -20)
    g = one_op_graph("MEAN", [x, const("axis", np.asarray(-1, dtype=np.int32))], [y], MeanAttrs(False))
    assert ops.get("MEAN").check(g.nodes[0], g) == []
    assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / "out")


@pytest.mark.parametrize(
    "shape,axes",
    [
        ((1, 5, 3, 300), [1, 2]),  # more than one 256-channel chunk of sums
        ((2, 1, 7, 520), [1, 2]),  # H = 1: reduced over one real dim, three chunks
        ((3, 4, 6, 2), [3]),  # the last axis: one contiguous row per output
        ((1, 9, 1, 5), [1, 2]),  # reduced rows not a multiple of 4
        ((2, 3, 1, 4), [1]),  # reduced rows = 3
        ((4, 6, 5, 3), [0, 1]),  # leading reduced dims, inner = W * C
        ((2, 3, 4, 5), [1, 3]),  # not adjacent: the general path
        ((1, 1, 1, 6), [1, 2]),  # nothing really reduced (count 1)
    ],
)
def test_mean_contiguous_paths(shape, axes, tmp_path):
    rng = np.random.default_rng(sum(shape) + len(axes))
    g = mean_case(rng, shape, axes, keep_dims=len(axes) == 2, same_quant=False)
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out")
