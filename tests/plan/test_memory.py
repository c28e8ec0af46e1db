"""Memory planner: no two live tensors overlap, aliases share storage, arena >= lower bound."""

import numpy as np
import pytest

from microforge.ir import Graph, Node
from microforge.ops.fully_connected import FullyConnectedAttrs
from microforge.plan.memory import ALIGN, plan_memory

from support import act, assert_bit_exact, const, random_inputs


def random_fc_dag(seed: int) -> Graph:
    """A random DAG of FULLY_CONNECTED layers, each reading one earlier tensor; several outputs."""
    rng = np.random.default_rng(seed)
    g = Graph(name=f"dag{seed}")
    widths = [int(rng.integers(1, 200)) for _ in range(12)]
    g.add_tensor(act("t0", (1, widths[0]), 0.05, 0))
    g.inputs = ["t0"]
    for i in range(1, len(widths)):
        src = int(rng.integers(max(0, i - 4), i))
        w = const(f"w{i}", rng.integers(-127, 128, (widths[i], widths[src])).astype(np.int8), 0.01)
        g.add_tensor(w)
        g.add_tensor(act(f"t{i}", (1, widths[i]), 0.1, int(rng.integers(-20, 20))))
        g.nodes.append(Node("FULLY_CONNECTED", f"fc{i}", [f"t{src}", f"w{i}", None], [f"t{i}"], FullyConnectedAttrs("RELU")))
    used = {n for node in g.nodes for n in node.inputs if n}
    g.outputs = [f"t{i}" for i in range(1, len(widths)) if f"t{i}" not in used]
    return g


def assert_valid(plan):
    """Live-together slots are disjoint, except an in-place (output, input) pair at its allowed gap."""
    for a in plan.slots:
        assert a.offset % ALIGN == 0 and a.offset + a.size <= plan.arena_bytes
        for b in plan.slots:
            if a is b:
                continue
            live_together = a.first <= b.last and b.first <= a.last
            overlap = a.offset < b.offset + b.size and b.offset < a.offset + a.size
            gap = plan.inplace_gaps.get((a.key, b.key))
            if gap is not None and overlap:
                assert b.offset - a.offset >= gap, (a, b, gap)
            elif (b.key, a.key) not in plan.inplace_gaps:
                assert not (live_together and overlap), (a, b)
    if not plan.inplace_gaps:
        assert plan.lower_bound <= plan.arena_bytes


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("inplace", [False, True])
def test_random_dags_never_overlap_live_tensors(seed, inplace):
    assert_valid(plan_memory(random_fc_dag(seed), inplace=inplace))


def test_chain_uses_two_buffers():
    """A chain of equal-width layers needs exactly two slots' worth of memory."""
    g = Graph(name="chain")
    g.add_tensor(act("t0", (1, 64), 0.1, 0))
    g.inputs = ["t0"]
    for i in range(1, 6):
        g.add_tensor(const(f"w{i}", np.ones((64, 64), np.int8), 0.01))
        g.add_tensor(act(f"t{i}", (1, 64), 0.1, 0))
        g.nodes.append(Node("FULLY_CONNECTED", f"fc{i}", [f"t{i-1}", f"w{i}", None], [f"t{i}"], FullyConnectedAttrs()))
    g.outputs = ["t5"]
    plan = plan_memory(g, inplace=False)
    assert plan.arena_bytes == plan.lower_bound == 128
    # every output element of a fully connected layer reads the whole input row: no overlap possible
    assert plan_memory(g).arena_bytes == 128


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_planned_arena_is_enough_under_sanitizers(seed, tmp_path):
    """Generated C with an arena of exactly arena_bytes, under ASan+UBSan, equals the reference and TFLM."""
    g = random_fc_dag(seed)
    rng = np.random.default_rng(seed)
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out", sanitize=True)


def pointwise_conv_graph(h: int, w: int, cin: int, cout: int) -> Graph:
    from microforge.ops.conv2d import Conv2DAttrs

    rng = np.random.default_rng(5)
    g = Graph(name="pw")
    g.add_tensor(act("x", (1, h, w, cin), 0.05, 3))
    g.add_tensor(const("w", rng.integers(-127, 128, (cout, 1, 1, cin)).astype(np.int8), rng.uniform(0.005, 0.02, cout), axis=0))
    g.add_tensor(act("y", (1, h, w, cout), 0.2, -5))
    g.nodes.append(Node("CONV_2D", "pw", ["x", "w", None], ["y"], Conv2DAttrs(padding="VALID", stride_h=1, stride_w=1)))
    g.inputs, g.outputs = ["x"], ["y"]
    return g


def test_pointwise_conv_overlaps_input_and_output(tmp_path):
    """1x1 conv 8 -> 16 channels on 48x48 (person_detect's layer 2): the input can sit in the output's upper half.

    Writing pixel p ends at 16(p+1); pixel p+1 still reads from 8(p+1): the input must start 8*2304 + 16 bytes
    above the output, so the arena is 18,440 + 18,432 = 36,872 bytes instead of 55,296.
    """
    g = pointwise_conv_graph(48, 48, 8, 16)
    plan = plan_memory(g)
    assert plan_memory(g, inplace=False).arena_bytes == plan.lower_bound == 55_296
    assert plan.arena_bytes == 36_872
    assert plan.tensor_offset["x"] - plan.tensor_offset["y"] == 18_440
    assert_valid(plan)
    rng = np.random.default_rng(0)
    assert_bit_exact(g, random_inputs(g, rng, 2), tmp_path / "out")
