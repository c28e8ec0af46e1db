"""What one op is: a class with its import rule, integer reference, C lowering and costs.

One op = one module in this package, defining a subclass of `OpDef` decorated with
`@register`. Nothing else needs editing: the registry imports every module here.

Like TFLM's prepare/eval split, an op computes its compile-time parameters (multipliers,
clamp ranges, padding) once in a `prepare`-style helper of its own, and both `reference`
(the executable spec, numpy int64) and `emit_c` (the C call) use that same result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..ir import Graph, Node

if TYPE_CHECKING:  # pragma: no cover
    from ..backends.c.context import CContext


@dataclass
class TfliteOpOut:
    """How a node is written back into a .tflite: builtin name and its options object."""

    builtin: str  # BuiltinOperator member name, e.g. "FULLY_CONNECTED"
    options_type: str | None = None  # BuiltinOptions member name, e.g. "FullyConnectedOptions"
    options: Any = None  # the schema's object-API options instance (e.g. FullyConnectedOptionsT)
    version: int = 1


class OpDef:
    #: IR op name (registry key), usually the TFLite builtin name.
    op: ClassVar[str]
    #: TFLite BuiltinOperator names imported as this op.
    tflite_ops: ClassVar[tuple[str, ...]] = ()
    #: runtime_c kernels (file stems under runtime_c/kernels) the C lowering calls.
    kernels: ClassVar[tuple[str, ...]] = ()
    #: True when the output is a view of input 0 (no copy, shares arena storage).
    alias: ClassVar[bool] = False

    def from_tflite(self, options: Any, node: Node, graph: Graph) -> Any:
        """Attributes dataclass from the TFLite options object. Inputs/outputs are already set."""
        return None

    def to_tflite(self, node: Node, graph: Graph) -> TfliteOpOut:
        raise NotImplementedError(f"{self.op}: no TFLite export")

    def c_kernels(self, node: Node, graph: Graph) -> tuple[str, ...]:
        """The runtime_c kernels this node's C calls (e.g. by dtype); the class's `kernels` by default."""
        return self.kernels

    def check(self, node: Node, graph: Graph) -> list[str]:
        """Reasons this node cannot be compiled (dtype, rank, ...); empty when supported."""
        return []

    def reference(self, node: Node, graph: Graph, inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        """Integer reference: the executable spec that the C kernels must match bit for bit."""
        raise NotImplementedError

    def macs(self, node: Node, graph: Graph) -> int:
        return 0

    def scratch_bytes(self, node: Node, graph: Graph, variant: str = "reference") -> int:
        """Arena scratch bytes this node's kernel asks for with a kernel variant: the Python twin of the C
        `<kernel>_get_buffer_size` of runtime_c/kernels/<variant>/ (0: none). A kernel that asks for scratch
        also runs, bit for bit the same, when it is given none (slower: the planner may refuse it for RAM)."""
        return 0

    def inplace_reads(self, node: Node, graph: Graph, input_index: int) -> np.ndarray | None:
        """Lets the planner overlap the output with input `input_index` when that input dies here.

        For each output element, in the order the C kernel writes them, the lowest element index of
        the input read while computing it (see ops/_inplace.py). None: never overlap (the default).
        This is a contract with the kernel's loop order: an optimized kernel that reads or writes
        in another order must return None or its own pattern.
        """
        return None

    def emit_c(self, node: Node, graph: Graph, c: CContext) -> str:
        """C statement(s) that run this node, built with the helpers on `c`."""
        raise NotImplementedError


REGISTRY: dict[str, OpDef] = {}
TFLITE_TO_OP: dict[str, OpDef] = {}


def register(cls: type[OpDef]) -> type[OpDef]:
    inst = cls()
    if cls.op in REGISTRY:
        raise RuntimeError(f"op {cls.op} registered twice")
    REGISTRY[cls.op] = inst
    for name in cls.tflite_ops:
        TFLITE_TO_OP[name] = inst
    return cls


def dims4(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Pad a shape on the left to rank 4 (NHWC)."""
    s = tuple(int(d) for d in shape)
    if len(s) > 4:
        raise ValueError(f"rank {len(s)} > 4")
    return (1,) * (4 - len(s)) + s
