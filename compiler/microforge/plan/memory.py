"""Offline arena planning: tensor lifetimes -> byte offsets in one arena.

Every non-constant tensor (inputs, outputs, intermediates) and every node's scratch buffer
gets a slot. Alias ops (RESHAPE & co.) share their input's slot. Slots whose lifetimes
overlap never overlap in memory; placement is greedy, largest first, lowest offset that fits.
The lower bound is the largest total of simultaneously live slots: no planner without
in-place tricks can do better.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


def lifetimes(graph: Graph) -> list[Slot]:
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

    result = list(slots.values())
    for i, node in enumerate(graph.nodes):
        size = ops.get(node.op).scratch_bytes(node, graph)
        if size > 0:
            result.append(Slot(key=f"scratch:{i}", size=size, first=i, last=i))
    return result


def lower_bound(slots: list[Slot]) -> int:
    steps = {s.first for s in slots} | {s.last for s in slots}
    return max((sum(s.size for s in slots if s.first <= t <= s.last) for t in steps), default=0)


def plan_memory(graph: Graph) -> MemoryPlan:
    slots = lifetimes(graph)
    placed: list[Slot] = []
    # Largest first; ties broken by longer lifetime, then by name for determinism.
    for slot in sorted(slots, key=lambda s: (-s.size, -(s.last - s.first), s.key)):
        busy = sorted(
            (p.offset, p.offset + p.size) for p in placed if p.first <= slot.last and slot.first <= p.last
        )
        offset = 0
        for start, stop in busy:
            if offset + slot.size <= start:
                break
            offset = max(offset, _align(stop))
        slot.offset = offset
        placed.append(slot)

    arena = _align(max((s.offset + s.size for s in slots), default=0))
    tensor_offset = {name: s.offset for s in slots for name in s.tensors}
    scratch_offset = {int(s.key.split(":")[1]): s.offset for s in slots if s.key.startswith("scratch:")}
    return MemoryPlan(arena, lower_bound(slots), slots, tensor_offset, scratch_offset)
