"""What an op's `emit_c` uses to name tensors, constants and parameter structs in generated C."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...ir import C_TYPES, DTYPES, Graph
from ...plan.memory import MemoryPlan

_NP_OF_CTYPE = {c: DTYPES[d] for d, c in C_TYPES.items() if d != "bool"}


@dataclass
class ConstArray:
    ident: str
    ctype: str
    values: np.ndarray  # flat
    comment: str = ""


@dataclass
class CContext:
    """One per generated model. `layer` is set by the emitter before each node's emit_c."""

    prefix: str  # sanitized model name
    graph: Graph
    plan: MemoryPlan
    arrays: list[ConstArray] = field(default_factory=list)  # go to <name>_weights.c
    decls: list[str] = field(default_factory=list)  # static const parameter structs in <name>.c
    layer: int = 0
    _tensor_idents: dict[str, str] = field(default_factory=dict)

    def _ident(self, hint: str) -> str:
        return f"{self.prefix}_l{self.layer}_{hint}"

    def const_array(self, hint: str, values: np.ndarray, ctype: str) -> str:
        """A const array in the weights file; returns its identifier."""
        ident = self._ident(hint)
        flat = np.asarray(values).reshape(-1)
        typed = flat.astype(_NP_OF_CTYPE[ctype])
        if not np.array_equal(typed, flat):
            raise ValueError(f"{ident}: values do not fit {ctype}")
        self.arrays.append(ConstArray(ident, ctype, typed))
        return ident

    def tensor(self, name: str | None) -> str:
        """C expression for a tensor's data: a weights array, or a typed pointer into the arena."""
        if name is None:
            return "NULL"
        t = self.graph.tensor(name)
        ctype = C_TYPES[t.dtype]
        if t.is_const:
            if name not in self._tensor_idents:
                self._tensor_idents[name] = self.const_array(f"t{len(self._tensor_idents)}", t.data, ctype)
            return self._tensor_idents[name]
        return f"(({ctype} *)(arena + {self.plan.tensor_offset[name]}))"

    def scratch(self) -> tuple[str, int]:
        """(C pointer, bytes) of this layer's arena scratch; ("NULL", 0) when it has none (its kernel asks for
        none, or the planner refused it for RAM)."""
        if self.layer not in self.plan.scratch_offset:
            return "NULL", 0
        return f"((void *)(arena + {self.plan.scratch_offset[self.layer]}))", self.plan.scratch_bytes(self.layer)

    def struct(self, ctype: str, hint: str, fields: dict[str, object]) -> str:
        """A `static const` initialized struct in the model source; returns `&ident`."""
        ident = self._ident(hint)
        body = ", ".join(f".{k} = {_c_value(v)}" for k, v in fields.items())
        self.decls.append(f"static const {ctype} {ident} = {{{body}}};")
        return f"&{ident}"


def _c_value(v: object) -> str:
    """A C initializer: ints, floats, identifiers/expressions (str), and sequences as brace lists."""
    if isinstance(v, (tuple, list, np.ndarray)):
        return "{" + ", ".join(_c_value(x) for x in v) + "}"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        return c_int(int(v))
    if isinstance(v, (float, np.floating)):
        return c_float(float(v))
    return str(v)


def c_int(v: int) -> str:
    """An int literal that stays well-defined at the int32 extremes (-2147483648 is not a literal in C)."""
    if v == -(2**31):
        return "(-2147483647 - 1)"
    return str(v)


def c_float(v: float) -> str:
    """A float literal that round-trips float32 exactly."""
    if not np.isfinite(v):
        raise ValueError(f"non-finite constant {v}")
    s = f"{float(np.float32(v)):.9g}"
    if not any(ch in s for ch in ".e"):
        s += ".0"
    return s + "f"
