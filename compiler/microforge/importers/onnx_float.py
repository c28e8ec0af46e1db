"""Float ONNX model -> float32 IR (same ops, attrs, TFLite weight layouts and NHWC activations as int8).

Steps: constant folding (every node whose inputs are constants, plus Shape/Size of statically shaped
values, evaluated by onnx's reference evaluator: the Shape -> Gather -> Concat -> Reshape subgraphs of
exporters, Constant, ConstantOfShape, Cast, Identity on weights, ...), then one walk over the remaining
nodes that emits IR nodes right away (`onnx_float_ops` has the per-op rules). The walk keeps the
bookkeeping needed to rewrite an emitted node while nobody else reads its output: BatchNormalization
and a constant Add fold into a Conv/Gemm's weights and bias, Relu/Clip into its fused activation.

Layout works as in the QDQ path (`onnx_layout`): NCHW values are stored NHWC, Transpose only changes a
layout. A Flatten/Reshape of a real NHWC feature map becomes a `Permuted` value, which a Gemm/MatMul
absorbs by permuting its weight rows (PyTorch's `x.flatten(1)` -> Linear), so no run-time transpose.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import numpy_helper

from ..ir import Node, Tensor
from .onnx_layout import NHWC_OF_NCHW, Layout, identity, same_memory_order
from .onnx_qdq import BAD, Act, Bad, Const, Converter, Reject

_DOMAINS = ("", "ai.onnx")
_SHAPE_OPS = ("Shape", "Size")


@dataclass
class Permuted:
    """A value whose IR tensor (identity layout) holds the ONNX elements in another flat order.

    `ir.ravel()[j] == onnx_value.ravel()[perm[j]]`: what a Flatten/Reshape of an NHWC-stored NCHW map gives.
    """

    act: Act
    perm: np.ndarray


FValue = Act | Const | Permuted | Bad


# ------------------------------------------------------------------ constant folding
def _standard(node: onnx.NodeProto) -> bool:
    return node.domain in _DOMAINS


def foldable_values(model: onnx.ModelProto) -> set[str]:
    """Names that constant folding can compute, judged without shapes (for the up-front op check)."""
    known = {i.name for i in model.graph.initializer}
    for node in model.graph.node:
        if _standard(node) and (node.op_type in _SHAPE_OPS or all(i in known for i in node.input if i)):
            known.update(o for o in node.output if o)
    return known


def _evaluate(node: onnx.NodeProto, feeds: dict[str, np.ndarray], opset: int) -> list[np.ndarray]:
    from onnx.reference import ReferenceEvaluator

    return [np.asarray(v) for v in ReferenceEvaluator(node, opsets={"": opset}).run(None, feeds)]


def fold_constants(
    model: onnx.ModelProto, shapes: dict[str, tuple[int, ...]], opset: int
) -> tuple[onnx.ModelProto, dict[str, str]]:
    """The model with every computable node replaced by initializers, and why some node that looked
    computable did not fold (by output name)."""
    values = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    live: list[onnx.NodeProto] = []
    failed: dict[str, str] = {}
    for node in model.graph.node:
        outs = None
        if _standard(node) and node.op_type in _SHAPE_OPS and node.input[0] not in values:
            shape = shapes.get(node.input[0])
            if shape is not None:
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
                if node.op_type == "Shape":
                    start, end = int(attrs.get("start", 0)), attrs.get("end")
                    outs = [np.asarray(shape[start:None if end is None else int(end)], np.int64)]
                else:
                    outs = [np.asarray(int(np.prod(shape, dtype=np.int64)), np.int64)]
        elif _standard(node) and all(i in values for i in node.input if i):
            try:
                outs = _evaluate(node, {i: values[i] for i in node.input if i}, opset)
            except Exception as exc:  # the evaluator's own message says what is wrong
                text = str(exc).strip()
                failed[node.output[0]] = f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
        if outs is None:
            live.append(node)
            continue
        for name, value in zip(node.output, outs):
            if name:
                values[name] = value
    needed = {i for n in live for i in n.input} | {o.name for o in model.graph.output}
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.node[:]
    out.graph.node.extend(live)
    del out.graph.initializer[:]
    out.graph.initializer.extend(numpy_helper.from_array(np.asarray(v), k) for k, v in values.items() if k in needed)
    del out.graph.value_info[:]
    return out, failed


# ------------------------------------------------------------------ converter
def row_permutation(perm: np.ndarray, k: int) -> np.ndarray | None:
    """The column order when `perm` keeps every row of length `k` in place and reorders all rows alike."""
    p = np.asarray(perm).reshape(-1, k)
    rows = np.arange(p.shape[0])[:, None]
    if not np.all(p // k == rows) or not np.all(p % k == p[:1] % k):
        return None
    return p[0] % k


@dataclass
class FloatConverter(Converter):
    made_by: dict[str, Node] = field(default_factory=dict)  # IR tensor -> the node that writes it
    refs: Counter = field(default_factory=Counter)  # IR tensor -> ONNX consumers (graph outputs count)
    current: onnx.NodeProto | None = None  # the ONNX node being converted

    def add_act(self, base: str, shape: tuple[int, ...], quant=None) -> str:
        name = self.fresh(base)
        self.graph.add_tensor(Tensor(name, tuple(int(d) for d in shape), "float32"))
        return name

    def add_const(self, base: str, data: np.ndarray, quant=None) -> str:
        if data.dtype == np.float64:
            data = data.astype(np.float32)
        return super().add_const(base, data, quant)

    def add_node(self, op, name, inputs, outputs, options=None) -> Node:
        node = super().add_node(op, name, inputs, outputs, options)
        for o in outputs:
            self.made_by[o] = node
        return node

    def emit(self, op: str, name: str, inputs: list[str | None], shape: tuple[int, ...], options=None) -> str:
        """Add one IR node writing a new float tensor of (IR) `shape`; returns that tensor.

        The node computing the ONNX node's own output is named like the ONNX node (helpers like a PAD
        before a Conv are named after their tensor)."""
        out = self.add_act(name, shape)
        cur = self.current
        self.add_node(op, (cur.name or out) if cur is not None and name == cur.output[0] else out, inputs, [out], options)
        return out

    def plain(self, v: FValue, what: str = "input") -> Act:
        """`v` as an activation in a true ONNX layout (not a Permuted flatten)."""
        if isinstance(v, Act):
            return v
        if isinstance(v, Permuted):
            raise Reject(f"{what} is a Flatten/Reshape of an NHWC feature map ({v.act.name!r}) in NCHW order; only a "
                         "Gemm/MatMul (or elementwise ops before it) can absorb that, and microforge has no TRANSPOSE")
        if isinstance(v, Const):
            raise Reject(f"{what} is a constant where an activation is expected")
        raise Reject(f"{what} is not a float activation")

    def settle(self, v: FValue, what: str = "input") -> Act:
        """`plain(v)`, with a 4-D graph input nobody read yet stored NHWC (what the convolutions after a
        layout-agnostic op -- Pad, Add, Relu, ... -- want; an NCHW start would need a transpose later)."""
        act = self.plain(v, what)
        shape = self.graph.tensor(act.name).shape
        if len(shape) == 4 and act.layout == identity(4) and act.name in self._inputs.values():
            self.as_layout(act, NHWC_OF_NCHW, shape)  # a no-op once the input has been read
        return act

    def owned(self, act: Act) -> Node | None:
        """The node writing `act` when the importer may rewrite it: its output has no other reader."""
        node = self.made_by.get(act.name)
        if node is None or self.refs[act.name] != 1 or act.name in self._inputs.values():
            return None
        return node

    def rename(self, old: str, new_base: str) -> str:
        """Give a tensor nobody else reads yet the name of the ONNX value it now stands for."""
        new = self.fresh(new_base)
        t = self.graph.tensors.pop(old)
        t.name = new
        self.graph.tensors[new] = t
        node = self.made_by.pop(old)
        node.outputs = [new if o == old else o for o in node.outputs]
        self.made_by[new] = node
        self.refs[new] = self.refs.pop(old)
        for v in self.values.values():
            a = v.act if isinstance(v, Permuted) else v
            if isinstance(a, Act) and a.name == old:
                a.name = new
        return new

    def replace_const(self, node: Node, index: int, data: np.ndarray, base: str) -> None:
        node.inputs[index] = self.add_const(base, np.ascontiguousarray(data, np.float32))

    def const_in_layout(self, base: str, data: np.ndarray, rank: int, layout: Layout) -> str:
        """A broadcastable constant (ONNX axes) stored like an activation in `layout`."""
        data = np.asarray(data, np.float32)
        if data.ndim > rank:
            raise Reject(f"constant of rank {data.ndim} broadcast against a rank-{rank} tensor")
        data = data.reshape((1,) * (rank - data.ndim) + data.shape)
        return self.add_const(base, np.ascontiguousarray(np.transpose(data, layout)))

    # ---------------------------------------------------------------- driver
    def run_float(self, handlers: dict[str, Callable], failed: dict[str, str]) -> None:
        g = self.model.graph
        for init in g.initializer:
            self.values[init.name] = Const(numpy_helper.to_array(init), None, init.name)
        for node in g.node:
            for i in node.input:
                self.uses[i] += 1
        for o in g.output:
            self.uses[o.name] += 1
        for inp in g.input:
            if inp.name in self.values:
                continue
            elem = inp.type.tensor_type.elem_type
            if elem != onnx.TensorProto.FLOAT:
                self.problems.append(f"graph input {inp.name!r} has type {onnx.TensorProto.DataType.Name(elem)}; "
                                     "a float model takes float32 inputs")
                self.values[inp.name] = BAD
                continue
            name = self.add_act(inp.name, self.shape(inp.name))
            self._inputs[inp.name] = name
            self.refs[name] = self.uses[inp.name]
            self.values[inp.name] = Act(name, identity(len(self.shape(inp.name))))
        for node in g.node:
            ins = [self.values[i] if i else None for i in node.input]
            label = f"{node.name or node.output[0]!r} ({node.op_type})"
            self.current = node
            result: FValue = BAD
            if not any(isinstance(v, Bad) for v in ins):
                try:
                    if node.op_type not in handlers:
                        why = failed.get(node.output[0], "its inputs are not all constant")
                        raise Reject(f"cannot be evaluated at compile time ({why})")
                    result = handlers[node.op_type](self, node, ins)
                except Reject as exc:
                    self.problems.append(f"{label}: {exc}")
                    result = BAD
            self.values[node.output[0]] = result
            self._count_refs(node, ins, result)
            for extra in node.output[1:]:
                if extra and self.uses[extra]:
                    self.problems.append(f"{label}: output {extra!r} is used; only the first output is supported")
        self._finish_float()

    def _count_refs(self, node: onnx.NodeProto, ins: list, result: FValue) -> None:
        """ONNX readers of each IR tensor; a value passed through (Transpose, fused Relu, ...) is not a reader."""
        a = result.act if isinstance(result, Permuted) else result
        if not isinstance(a, Act):
            return
        through = any(isinstance(v, (Act, Permuted)) and (v.act if isinstance(v, Permuted) else v).name == a.name
                      for v in ins)
        self.refs[a.name] += self.uses[node.output[0]] - (1 if through else 0)

    def _finish_float(self) -> None:
        g = self.model.graph
        for inp in g.input:
            if inp.name in self._inputs:
                self.graph.inputs.append(self._inputs[inp.name])
        for out in g.output:
            v = self.values.get(out.name, BAD)
            try:
                if isinstance(v, Act):
                    shape, ident = self.shape(out.name), identity(len(v.layout))
                    # 4-D outputs stay NHWC (like the inputs) when ONNX order would need a transpose.
                    keep = v.layout == NHWC_OF_NCHW and not same_memory_order(shape, v.layout, ident)
                    self.graph.outputs.append(v.name if keep else self.as_layout(v, ident, shape))
                elif isinstance(v, Permuted):
                    self.plain(v, "it")
                elif isinstance(v, Const):
                    raise Reject("is a constant (nothing to compute)")
            except Reject as exc:
                self.problems.append(f"graph output {out.name!r}: {exc}")
        self._collapse_views()
        read = {i for n in self.graph.nodes for i in n.inputs if i is not None}
        for name in [n for n, t in self.graph.tensors.items() if t.is_const and n not in read]:
            del self.graph.tensors[name]  # weights replaced by folded ones, folded shape tensors
        if self.problems:
            from ..errors import UnsupportedModelError

            raise UnsupportedModelError(f"{self.where}: {len(self.problems)} problem(s): " + "; ".join(self.problems))
