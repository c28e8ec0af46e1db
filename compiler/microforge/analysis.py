"""Per-layer figures shared by `inspect`, metadata.json and the report."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from . import ops
from .ir import Graph
from .plan.memory import MemoryPlan, plan_memory


@dataclass
class LayerSummary:
    index: int
    op: str
    name: str
    input_shapes: list[list[int]]
    output_shapes: list[list[int]]
    params: int  # elements of constant inputs (weights, bias)
    param_bytes: int
    macs: int
    scratch_bytes: int  # arena scratch the layer's kernel gets (0 when it asks for none or was refused)
    scratch_wanted: int = 0  # what the kernel variant asks for (its fast path)


@dataclass
class ModelSummary:
    graph: Graph
    plan: MemoryPlan
    layers: list[LayerSummary] = field(default_factory=list)
    weights_bytes: int = 0  # bytes of const arrays actually emitted (set by the C backend)
    variant: str = "reference"  # the kernel variant the plan's scratch buffers were sized for

    @property
    def scratch_refused(self) -> list[int]:
        """Layers whose kernel asked for scratch and got none (they run their slower path)."""
        return [la.index for la in self.layers if la.scratch_wanted > 0 and la.scratch_bytes == 0]

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    def to_metadata(self, format_version: int, cname: str, kernels: list[str]) -> dict:
        g = self.graph

        def io(name: str) -> dict:
            t = g.tensor(name)
            q = t.quant
            return {
                "name": name,
                "shape": list(t.shape),
                "dtype": t.dtype,
                "scale": float(q.s) if q else None,
                "zero_point": q.zp if q else None,
                "arena_offset": self.plan.tensor_offset[name],
                "bytes": t.nbytes,
            }

        return {
            "format_version": format_version,
            "generator": "microforge",
            "name": cname,
            "arena_bytes": self.plan.arena_bytes,
            # largest total of simultaneously live tensors; in-place overlap can plan below it
            "arena_lower_bound_bytes": self.plan.lower_bound,
            "inplace_overlaps": [{"output": o, "input": i} for o, i in self.plan.overlapped_pairs],
            "weights_bytes": self.weights_bytes,
            "params": self.params,
            "macs": self.macs,
            "kernels": kernels,
            "inputs": [io(n) for n in g.inputs],
            "outputs": [io(n) for n in g.outputs],
            "layers": [
                {
                    "index": layer.index,
                    "op": layer.op,
                    "name": layer.name,
                    "input_shapes": layer.input_shapes,
                    "output_shapes": layer.output_shapes,
                    "params": layer.params,
                    "param_bytes": layer.param_bytes,
                    "macs": layer.macs,
                    "scratch_bytes": layer.scratch_bytes,
                    "scratch_wanted": layer.scratch_wanted,
                }
                for layer in self.layers
            ],
            "arena": [
                {"tensors": s.tensors or [s.key], "offset": s.offset, "bytes": s.size, "first_layer": s.first, "last_layer": s.last}
                for s in sorted(self.plan.slots, key=lambda s: s.offset)
            ],
        }


def scratch_wanted(graph: Graph, variant: str = "reference") -> dict[int, int]:
    """Node index -> arena scratch bytes its kernel asks for with `variant` (nodes asking for none left out)."""
    wanted = {i: ops.get(node.op).scratch_bytes(node, graph, variant) for i, node in enumerate(graph.nodes)}
    return {i: b for i, b in wanted.items() if b > 0}


def summarize(graph: Graph, variant: str = "reference", refuse_scratch: Collection[int] = ()) -> ModelSummary:
    """Per-layer figures and the arena plan for `variant`'s kernels; layers in `refuse_scratch` get no scratch."""
    wanted = scratch_wanted(graph, variant)
    planned = {i: b for i, b in wanted.items() if i not in set(refuse_scratch)}
    summary = ModelSummary(graph=graph, plan=plan_memory(graph, scratch=planned), variant=variant)
    for i, node in enumerate(graph.nodes):
        opdef = ops.get(node.op)
        consts = [graph.tensor(n) for n in node.inputs if n is not None and graph.tensor(n).is_const]
        # an alias op's constant operand is a shape, not a parameter
        weights = [] if opdef.alias else consts
        summary.layers.append(
            LayerSummary(
                index=i,
                op=node.op,
                name=node.name,
                input_shapes=[list(graph.tensor(n).shape) for n in node.inputs if n is not None and not graph.tensor(n).is_const],
                output_shapes=[list(graph.tensor(n).shape) for n in node.outputs],
                params=sum(t.size for t in weights),
                param_bytes=sum(t.nbytes for t in weights),
                macs=opdef.macs(node, graph),
                scratch_bytes=planned.get(i, 0),
                scratch_wanted=wanted.get(i, 0),
            )
        )
    return summary
