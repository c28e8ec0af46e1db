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
    for a in plan.slots:
        assert a.offset % ALIGN == 0 and a.offset + a.size <= plan.arena_bytes
        for b in plan.slots:
            if a is b:
                continue
            live_together = a.first <= b.last and b.first <= a.last
            overlap = a.offset < b.offset + b.size and b.offset < a.offset + a.size
            assert not (live_together and overlap), (a, b)
    assert plan.lower_bound <= plan.arena_bytes


@pytest.mark.parametrize("seed", range(20))
def test_random_dags_never_overlap_live_tensors(seed):
    assert_valid(plan_memory(random_fc_dag(seed)))


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
    plan = plan_memory(g)
    assert plan.arena_bytes == plan.lower_bound == 128


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_planned_arena_is_enough_under_sanitizers(seed, tmp_path):
    """Generated C with an arena of exactly arena_bytes, under ASan+UBSan, equals the reference and TFLM."""
    g = random_fc_dag(seed)
    rng = np.random.default_rng(seed)
    assert_bit_exact(g, random_inputs(g, rng, 3), tmp_path / "out", sanitize=True)
