"""RESHAPE / SQUEEZE / EXPAND_DIMS: pure views. Reference == generated C == TFLM, and the arena slot is shared."""

import numpy as np
import pytest

from microforge.backends.tflite.writer import write_tflite
from microforge.importers.tflite import import_tflite_bytes
from microforge.ir import Graph, Node
from microforge.ops import get
from microforge.ops.reshape import ReshapeAttrs
from microforge.ops.squeeze import SqueezeAttrs
from microforge.plan.memory import plan_memory
from microforge.reference import run_reference
from microforge.validate.tflm import run_tflm

from support import act, assert_bit_exact, const, one_op_graph, random_inputs


def random_shape(rng, rank, max_dim=6):
    return tuple(int(d) for d in rng.integers(1, max_dim + 1, rank))


def factor_shape(rng, size, rank):
    """A random shape of `rank` dims whose product is `size`."""
    dims = [1] * rank
    n = size
    for p in range(2, size + 1):
        while n % p == 0:
            dims[int(rng.integers(rank))] *= p
            n //= p
    return tuple(dims)


def view_node(rng, kind, x):
    """(op, extra inputs, attrs, output shape) of a random view of tensor `x`."""
    if kind == "RESHAPE":
        shape = factor_shape(rng, x.size, int(rng.integers(1, 5)))
        choice = int(rng.integers(3))
        new = tuple(-1 if k == 0 else d for k, d in enumerate(shape)) if choice else shape
        extra = [const(f"{x.name}_shape", np.asarray(new, np.int32))] if choice == 2 else []
        return "RESHAPE", extra, ReshapeAttrs(new) if choice >= 1 else ReshapeAttrs(), shape
    if kind == "SQUEEZE":
        ones = [k for k, d in enumerate(x.shape) if d == 1]
        dims = tuple(k - len(x.shape) if rng.integers(2) else k for k in ones if rng.integers(2))
        drop = {k % len(x.shape) for k in dims} if dims else set(ones)
        return "SQUEEZE", [], SqueezeAttrs(dims), tuple(d for k, d in enumerate(x.shape) if k not in drop)
    axis = int(rng.integers(-len(x.shape) - 1, len(x.shape) + 1))
    a = axis + len(x.shape) + 1 if axis < 0 else axis
    axis_t = const(f"{x.name}_axis", np.asarray([axis], np.int32))
    return "EXPAND_DIMS", [axis_t], None, x.shape[:a] + (1,) + x.shape[a:]


def chain_graph(rng, kind, view_first):
    """x -> view -> QUANTIZE (int8 requantize) -> y, or x -> QUANTIZE -> view -> y.

    A one-node view graph has no kernel call; the QUANTIZE gives the generated C real work and checks that
    data written through one name is read through the other.
    """
    in_shape = random_shape(rng, int(rng.integers(1, 4)))
    if kind == "SQUEEZE":  # make sure there is something to squeeze
        in_shape = tuple(1 if rng.integers(2) else d for d in in_shape) + (1,)
    scale, zp = float(rng.uniform(0.01, 0.2)), int(rng.integers(-128, 128))
    g = Graph("chain")
    x = g.add_tensor(act("x", in_shape, scale, zp))
    if view_first:
        op, extra, attrs, shape = view_node(rng, kind, x)
        g.add_tensor(act("v", shape, scale, zp))
        y = g.add_tensor(act("y", shape, float(rng.uniform(0.01, 0.2)), int(rng.integers(-128, 128))))
        nodes = [Node(op, "v", ["x"] + [t.name for t in extra], ["v"], attrs), Node("QUANTIZE", "y", ["v"], ["y"])]
    else:
        q = g.add_tensor(act("q", in_shape, float(rng.uniform(0.01, 0.2)), int(rng.integers(-128, 128))))
        op, extra, attrs, shape = view_node(rng, kind, q)
        y = g.add_tensor(act("y", shape, q.quant.s, q.quant.zp))
        nodes = [Node("QUANTIZE", "q", ["x"], ["q"]), Node(op, "y", ["q"] + [t.name for t in extra], ["y"], attrs)]
    for t in extra:
        g.add_tensor(t)
    g.nodes = nodes
    g.inputs, g.outputs = ["x"], [y.name]
    return g


@pytest.mark.parametrize("kind", ["RESHAPE", "SQUEEZE", "EXPAND_DIMS"])
@pytest.mark.parametrize("seed", range(4))
def test_view_chain_bit_exact(kind, seed, tmp_path):
    rng = np.random.default_rng(seed + 100 * len(kind))
    g = chain_graph(rng, kind, view_first=seed % 2 == 0)
    assert not [r for n in g.nodes for r in get(n.op).check(n, g)]
    assert_bit_exact(g, random_inputs(g, rng, 4), tmp_path / "out")
    view = next(n for n in g.nodes if n.op == kind)
    plan = plan_memory(g)
    assert plan.tensor_offset[view.inputs[0]] == plan.tensor_offset[view.outputs[0]]


@pytest.mark.parametrize("seed", range(4))
def test_reshape_one_op_vs_tflm(seed):
    """A lone RESHAPE (options or shape tensor or neither): reference == TFLM and its output is its input's slot."""
    rng = np.random.default_rng(seed)
    x = act("x", random_shape(rng, int(rng.integers(1, 5))), 0.05, -3)
    op, extra, attrs, shape = view_node(rng, "RESHAPE", x)
    g = one_op_graph(op, [x] + extra, [act("y", shape, 0.05, -3)], attrs)
    assert get(op).check(g.nodes[0], g) == []
    samples = random_inputs(g, rng, 3)
    theirs = run_tflm(write_tflite(g), samples)
    for s, t in zip(samples, theirs):
        ref = run_reference(g, s)[0]
        assert ref.shape == shape and np.array_equal(ref.reshape(-1), s[0].reshape(-1))
        assert np.array_equal(ref.reshape(-1), t[0].reshape(-1))
    plan = plan_memory(g)
    assert plan.tensor_offset["x"] == plan.tensor_offset["y"]
    assert plan.arena_bytes == (x.nbytes + 3) // 4 * 4  # one slot, not two


def test_alias_chain_shares_one_slot():
    """x -> RESHAPE -> SQUEEZE -> EXPAND_DIMS: every name lives at the same offset."""
    g = Graph("views")
    for name, shape in [("a", (1, 2, 3, 4)), ("b", (1, 6, 4, 1)), ("c", (6, 4)), ("d", (6, 1, 4))]:
        g.add_tensor(act(name, shape, 0.1, 0))
    g.add_tensor(const("axis", np.asarray([1], np.int32)))
    g.nodes = [
        Node("RESHAPE", "b", ["a"], ["b"], ReshapeAttrs()),
        Node("SQUEEZE", "c", ["b"], ["c"], SqueezeAttrs((0, -1))),
        Node("EXPAND_DIMS", "d", ["c", "axis"], ["d"]),
    ]
    g.inputs, g.outputs = ["a"], ["d"]
    plan = plan_memory(g)
    assert len({plan.tensor_offset[n] for n in "abcd"}) == 1
    assert all(get(n.op).check(n, g) == [] for n in g.nodes)


def test_tflite_round_trip_keeps_attrs():
    x = act("x", (1, 1960), 0.1017, -128)
    shape = const("s", np.asarray([-1, 49, 40, 1], np.int32))
    g = one_op_graph("RESHAPE", [x, shape], [act("y", (1, 49, 40, 1), 0.1017, -128)], ReshapeAttrs((-1, 49, 40, 1)))
    back = import_tflite_bytes(write_tflite(g))
    assert back.nodes[0].op == "RESHAPE" and back.nodes[0].attrs == ReshapeAttrs((-1, 49, 40, 1))
    g2 = one_op_graph("SQUEEZE", [act("x", (1, 1, 5), 0.1, 0)], [act("y", (1, 5), 0.1, 0)], SqueezeAttrs((-2,)))
    assert import_tflite_bytes(write_tflite(g2)).nodes[0].attrs == SqueezeAttrs((-2,))


def test_view_check_rejects():
    def reasons(op, inputs, out, attrs=None):
        g = one_op_graph(op, inputs, [out], attrs)
        return " ".join(get(op).check(g.nodes[0], g))

    x = act("x", (2, 6), 0.1, 1)
    assert "quantization differ" in reasons("RESHAPE", [x], act("y", (12,), 0.2, 1), ReshapeAttrs())
    assert "quantization differ" in reasons("RESHAPE", [x], act("y", (12,), 0.1, 2), ReshapeAttrs())
    assert "elements" in reasons("RESHAPE", [x], act("y", (13,), 0.1, 1), ReshapeAttrs())
    assert "dtype" in reasons("RESHAPE", [x], act("y", (12,), 0.1, 1, "int16"), ReshapeAttrs())
    c = const("c", np.zeros((2, 6), np.int8), 0.1, np.array([1]))
    assert "constant" in reasons("RESHAPE", [c], act("y", (12,), 0.1, 1))
    assert "int32" in reasons("RESHAPE", [x, const("s", np.asarray([12], np.int64))], act("y", (12,), 0.1, 1))
    assert "not 1" in reasons("SQUEEZE", [x], act("y", (12,), 0.1, 1), SqueezeAttrs((0,)))
    sq = act("s", (1, 6, 1), 0.1, 1)
    assert "squeezed" in reasons("SQUEEZE", [sq], act("y", (1, 6), 0.1, 1), SqueezeAttrs())
    assert reasons("SQUEEZE", [sq], act("y", (1, 6), 0.1, 1), SqueezeAttrs((2,))) == ""
    axis = const("a", np.asarray([3], np.int32))
    assert "out of range" in reasons("EXPAND_DIMS", [x, axis], act("y", (2, 6, 1), 0.1, 1))
    axis = const("a", np.asarray([-1], np.int32))
    assert reasons("EXPAND_DIMS", [x, axis], act("y", (2, 6, 1), 0.1, 1)) == ""
    assert "with a 1" in reasons("EXPAND_DIMS", [x, axis], act("y", (1, 2, 6), 0.1, 1))
