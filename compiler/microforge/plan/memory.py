"""Offline arena planning: tensor lifetimes -> byte offsets in one arena.

Every non-constant tensor (inputs, outputs, intermediates) and every node's scratch buffer
gets a slot. Alias ops (RESHAPE & co.) share their input's slot. Slots whose lifetimes
overlap never overlap in memory, with one exception: a node's output may overlap an input
that dies at that node, as far as the kernel's read/write order allows (`OpDef.inplace_reads`,
the trick MIT's TinyEngine uses for depthwise convolutions, applied to every op that declares it).
Placement is greedy, largest first, lowest offset that fits.
The lower bound is the largest total of simultaneously live slots: no planner without
in-place overlap can do better.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import ops
from ..ir import Graph

ALIGN = 4  # bytes; every slot starts on a word boundary


@dataclass
class Slot:
    """A region of the arena: one tensor (plus its aliases) or one node's scratch."""

    key: str  # root tensor name, or "scratch:<node index>"
    size: int  # bytes
    first: int  # first step it is live (node index; graph inputs are live from 0)
    last: int  # last step it is live
    offset: int = -1
    tensors: list[str] = field(default_factory=list)  # tensor names stored here


@dataclass
class MemoryPlan:
    arena_bytes: int
    lower_bound: int
    slots: list[Slot]
    tensor_offset: dict[str, int]  # tensor name -> arena offset
    scratch_offset: dict[int, int]  # node index -> arena offset of its scratch
    # (output slot key, input slot key) -> minimum (input offset - output offset) when they overlap
    inplace_gaps: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def overlapped_pairs(self) -> list[tuple[str, str]]:
        """In-place pairs (output, input) that the plan actually overlaps."""
        at = {s.key: s for s in self.slots}
        return [
            (o, i)
            for o, i in self.inplace_gaps
            if at[o].offset < at[i].offset + at[i].size and at[i].offset < at[o].offset + at[o].size
        ]

    def scratch_bytes(self, node_index: int) -> int:
        """Bytes of the node's planned scratch (0: none)."""
        return next((s.size for s in self.slots if s.key == f"scratch:{node_index}"), 0)

    def slot_of(self, tensor: str) -> Slot:
        return next(s for s in self.slots if tensor in s.tensors)


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def alias_roots(graph: Graph) -> dict[str, str]:
    """Tensor name -> the tensor whose storage it shares (itself when it owns storage)."""
    root: dict[str, str] = {}
    for node in graph.nodes:
        if ops.get(node.op).alias:
            src = node.inputs[0]
            if src is not None and not graph.tensor(src).is_const:
                root[node.outputs[0]] = root.get(src, src)
    return root


def lifetimes(graph: Graph, scratch: dict[int, int] | None = None) -> list[Slot]:
    """Live ranges of the arena's slots; `scratch`: node index -> scratch bytes its kernel gets (default: what
    each op's reference kernel asks for)."""
    root = alias_roots(graph)
    end = len(graph.nodes)  # outputs stay live after the last node
    slots: dict[str, Slot] = {}

    def touch(name: str, step: int) -> None:
        t = graph.tensor(name)
        if t.is_const:
            return
        key = root.get(name, name)
        slot = slots.get(key)
        if slot is None:
            slot = slots[key] = Slot(key=key, size=graph.tensor(key).nbytes, first=step, last=step)
        slot.first, slot.last = min(slot.first, step), max(slot.last, step)
        slot.size = max(slot.size, t.nbytes)
        if name not in slot.tensors:
            slot.tensors.append(name)

    for name in graph.inputs:
        touch(name, 0)
    for i, node in enumerate(graph.nodes):
        for name in node.inputs:
            if name is not None:
                touch(name, i)
        for name in node.outputs:
            touch(name, i)
    for name in graph.outputs:
        touch(name, end)
    for name in graph.variables():  # persistent state: live from before the first node to after the last
        touch(name, 0)
        touch(name, end)

    result = list(slots.values())
    if scratch is None:
        scratch = {i: ops.get(node.op).scratch_bytes(node, graph) for i, node in enumerate(graph.nodes)}
    for i, size in sorted(scratch.items()):
        if size > 0:
            result.append(Slot(key=f"scratch:{i}", size=size, first=i, last=i))
    return result


def lower_bound(slots: list[Slot]) -> int:
    steps = {s.first for s in slots} | {s.last for s in slots}
    return max((sum(s.size for s in slots if s.first <= t <= s.last) for t in steps), default=0)


def inplace_gap(reads: np.ndarray, out_itemsize: int, in_itemsize: int) -> int:
    """Smallest (input offset - output offset) at which writing the output never clobbers input still to be read.

    Writing element e ends at out + (e+1)*osz; input still needed afterwards starts at
    in + min(reads[e+1:])*isz. The gap is the largest difference over e, rounded up to ALIGN.
    """
    if reads.size < 2:
        return -(1 << 62)  # nothing is read after the only write
    later_min = np.minimum.accumulate(reads[::-1])[::-1][1:]  # min over reads[e+1:]
    ends = (np.arange(reads.size - 1, dtype=np.int64) + 1) * out_itemsize
    return _align(int(np.max(ends - later_min * in_itemsize)))


def inplace_pairs(graph: Graph, slots: list[Slot]) -> dict[tuple[str, str], int]:
    """(output slot, input slot) pairs that may overlap, with their minimum offset gap."""
    by_tensor = {t: s for s in slots for t in s.tensors}
    pairs: dict[tuple[str, str], int] = {}
    for i, node in enumerate(graph.nodes):
        opdef = ops.get(node.op)
        if opdef.alias or len(node.outputs) != 1 or node.outputs[0] not in by_tensor:
            continue
        out_slot = by_tensor[node.outputs[0]]
        if out_slot.first != i:
            continue
        for j, name in enumerate(node.inputs):
            in_slot = by_tensor.get(name) if name is not None else None
            if in_slot is None or in_slot.last != i or in_slot is out_slot:
                continue
            reads = opdef.inplace_reads(node, graph, j)
            if reads is None:
                continue
            gap = inplace_gap(reads, graph.tensor(node.outputs[0]).itemsize, graph.tensor(name).itemsize)
            pairs[(out_slot.key, in_slot.key)] = gap
    return pairs


def _forbidden(slot: Slot, other: Slot, pairs: dict[tuple[str, str], int]) -> tuple[int, int]:
    """Open interval of offsets `slot` may not take, given `other` (placed, live at the same time)."""
    gap = pairs.get((slot.key, other.key))
    if gap is not None:  # slot is the output: at least `gap` below the input, or wholly above it
        return other.offset - min(gap, slot.size), other.offset + other.size
    gap = pairs.get((other.key, slot.key))
    if gap is not None:  # slot is the input: at least `gap` above the output, or wholly below it
        return other.offset - slot.size, other.offset + min(gap, other.size)
    return other.offset - slot.size, other.offset + other.size


# Placement orders tried; the smallest arena wins. Largest-first is the classic greedy; reverse
# execution order does better on chains where in-place pairs let each output slide under its input.
_ORDERS = {
    "largest first": lambda s: (-s.size, -(s.last - s.first), s.key),
    "execution order": lambda s: (s.first, -s.size, s.key),
    "longest lived first": lambda s: (-(s.last - s.first), -s.size, s.key),
    "reverse execution order": lambda s: (-s.last, -s.size, s.key),
}
# ... and each with the kernels' scratch buffers (alive for one layer) placed last, into the holes the tensors leave
_ORDERS.update({f"{name}, scratch last": (lambda s, key=key: (s.key.startswith("scratch:"), key(s))) for name, key in _ORDERS.items()})


def _place(slots: list[Slot], pairs: dict[tuple[str, str], int], order) -> dict[str, int]:
    offsets: dict[str, int] = {}
    placed: list[Slot] = []
    for slot in sorted(slots, key=order):
        forbidden = []
        for p in placed:
            if p.first <= slot.last and slot.first <= p.last:
                p_at = Slot(p.key, p.size, p.first, p.last, offsets[p.key])
                forbidden.append(_forbidden(slot, p_at, pairs))
        candidates = sorted({0} | {_align(max(hi, 0)) for _, hi in forbidden})
        offsets[slot.key] = next(c for c in candidates if all(not (lo < c < hi) for lo, hi in forbidden))
        placed.append(slot)
    return offsets


def _arena_end(slots: list[Slot], offsets: dict[str, int]) -> int:
    return max((offsets[s.key] + s.size for s in slots), default=0)


def _improve(slots: list[Slot], pairs: dict[tuple[str, str], int], order: list[str], budget: int) -> dict[str, int]:
    """Local search: move a slot that reaches the top of the arena earlier in the placement order."""
    by_key = {s.key: s for s in slots}

    def place(keys: list[str]) -> dict[str, int]:
        rank = {k: i for i, k in enumerate(keys)}
        return _place(slots, pairs, lambda s: rank[s.key])

    offsets = place(order)
    best = _arena_end(slots, offsets)
    while budget > 0:
        tops = sorted(order, key=lambda k: -(offsets[k] + by_key[k].size))[:4]
        improved = False
        for top in tops:
            for pos in range(order.index(top)):
                budget -= 1
                cand = order[:pos] + [top] + [k for k in order[pos:] if k != top]
                cand_offsets = place(cand)
                if _arena_end(slots, cand_offsets) < best:
                    order, offsets, best, improved = cand, cand_offsets, _arena_end(slots, cand_offsets), True
                    break
                if budget <= 0:
                    break
            if improved or budget <= 0:
                break
        if not improved:
            break
    return offsets


def plan_memory(graph: Graph, inplace: bool = True, scratch: dict[int, int] | None = None) -> MemoryPlan:
    """Offsets of every tensor and scratch buffer in one arena (see lifetimes for `scratch`)."""
    slots = lifetimes(graph, scratch)
    pairs = inplace_pairs(graph, slots) if inplace else {}
    best_order = min(
        ([s.key for s in sorted(slots, key=order)] for order in _ORDERS.values()),
        key=lambda keys: _arena_end(slots, _place(slots, pairs, lambda s, keys=keys: keys.index(s.key))),
    )
    # a bounded amount of local search (cheap: placement is O(slots^2))
    budget = min(300, max(10, 3_000_000 // max(len(slots), 1) ** 2)) if pairs else 0
    offsets = _improve(slots, pairs, best_order, budget)
    for slot in slots:
        slot.offset = offsets[slot.key]

    arena = _align(max((s.offset + s.size for s in slots), default=0))
    tensor_offset = {name: s.offset for s in slots for name in s.tensors}
    scratch_offset = {int(s.key.split(":")[1]): s.offset for s in slots if s.key.startswith("scratch:")}
    return MemoryPlan(arena, lower_bound(slots), slots, tensor_offset, scratch_offset, pairs)
