"""QDQ folding for the ONNX importer: DequantizeLinear -> float op -> QuantizeLinear becomes one int8 IR node.

The converter walks the (topologically sorted) ONNX nodes once and gives every ONNX value an
abstract meaning instead of a float tensor:

- `Act`: an int8 activation that exists in the IR (a graph input, or the output of a folded op);
- `Deq`: the float view DequantizeLinear(Act) -- what a float op reads;
- `Const`: a constant (float, or integers with quantization after DequantizeLinear);
- `Pending`: the float result of an op still waiting for the QuantizeLinear that gives it
  its output quantization (a Relu/Clip or a bias Add may be folded in meanwhile);
- `FloatInput`: a float graph input, which must go through QuantizeLinear first.

A QuantizeLinear on a Pending value emits the IR node. Layout (NCHW -> NHWC) is handled by
`onnx_layout`. The per-op rules live in `onnx_ops`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from .. import ops
from ..errors import UnsupportedModelError
from ..ir import Graph, Node, QuantParams, Tensor
from ..quant import activation_range
from .onnx_layout import NHWC_OF_NCHW, Layout, identity, permute, same_memory_order
from .schema import schema

INT8_MIN, INT8_MAX = -128, 127


class Reject(Exception):
    """A node the importer cannot express in the IR; the message says why."""


@dataclass
class Act:
    name: str  # IR tensor
    layout: Layout  # the IR tensor is the ONNX value transposed by `layout`


@dataclass
class Deq:
    act: Act


@dataclass
class Const:
    data: np.ndarray  # real values when `quant` is None, else the stored integers
    quant: QuantParams | None = None  # axis counts in `data`'s (ONNX) axes
    name: str = "const"


@dataclass
class FloatInput:
    name: str


@dataclass
class Pending:
    op: str  # IR op to emit; "" for an identity (a lone Relu between DQ and Q)
    name: str
    inputs: list[str | None]
    options: Any
    shape: tuple[int, ...]  # ONNX output shape
    layout: Layout
    activation: str = "NONE"
    fuses_activation: bool = False
    fixed_out: QuantParams | None = None  # the kernel only supports this output quantization
    same_as_input: bool = False  # the kernel needs output quantization == input 0's
    requant_inputs: bool = False  # every input must carry the output's quantization (CONCATENATION)
    bias_for: tuple[float, np.ndarray, int] | None = None  # (input scale, weight scales, channels) if a bias may fold
    consumed: bool = False


class Bad:
    """Value of a node that was already reported as unsupported; its consumers stay silent."""


BAD = Bad()
Value = Act | Deq | Const | FloatInput | Pending | Bad


def qp(scale, zero_point, axis: int | None = None) -> QuantParams:
    q = QuantParams(np.asarray(scale, np.float32).reshape(-1), np.asarray(zero_point, np.int64).reshape(-1))
    q.axis = axis if q.per_channel else None
    return q


def same_q(a: QuantParams | None, b: QuantParams | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.scale.shape == b.scale.shape and bool(np.all(a.scale == b.scale) and np.all(a.zero_point == b.zero_point))


def covers(activation: str, q: QuantParams) -> bool:
    """True when a fused activation clamps nothing on top of the int8 range of `q`."""
    lo, hi = activation_range(activation, q.s, q.zp, "int8")
    return lo <= INT8_MIN and hi >= INT8_MAX


@dataclass
class Converter:
    model: onnx.ModelProto
    shapes: dict[str, tuple[int, ...]]
    where: str
    graph: Graph
    values: dict[str, Value] = field(default_factory=dict)
    uses: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    alias_src: dict[str, str] = field(default_factory=dict)
    _relayout: dict[tuple[str, Layout], str] = field(default_factory=dict)
    _inputs: dict[str, str] = field(default_factory=dict)  # ONNX graph input -> IR input tensor
    opset: int = 13

    # ---------------------------------------------------------------- helpers for op handlers
    def shape(self, name: str) -> tuple[int, ...]:
        if name not in self.shapes:
            raise Reject(f"no static shape known for {name!r}")
        return self.shapes[name]

    def fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self.graph.tensors:
            name, k = f"{base}#{k}", k + 1
        return name

    def add_const(self, base: str, data: np.ndarray, quant: QuantParams | None = None) -> str:
        name = self.fresh(base)
        self.graph.add_tensor(Tensor(name, tuple(data.shape), str(data.dtype), quant, np.ascontiguousarray(data)))
        return name

    def add_act(self, base: str, shape: tuple[int, ...], quant: QuantParams | None) -> str:
        name = self.fresh(base)
        self.graph.add_tensor(Tensor(name, tuple(shape), "int8", quant))
        return name

    def quant_of(self, ir_name: str) -> QuantParams | None:
        return self.graph.tensor(ir_name).quant

    def add_node(self, op: str, name: str, inputs: list[str | None], outputs: list[str], options: Any = None) -> Node:
        node = Node(op, name, list(inputs), outputs)
        if op not in ops.REGISTRY:
            raise Reject(f"needs the IR op {op}, which this microforge build does not have")
        node.attrs = ops.get(op).from_tflite(options, node, self.graph)
        self.graph.nodes.append(node)
        return node

    def reshape(self, src: str, shape: tuple[int, ...], base: str) -> str:
        """A RESHAPE view of `src` (same bytes, same quantization)."""
        out = self.add_act(base, shape, self.quant_of(src))
        opts = schema.ReshapeOptionsT()
        opts.newShape = np.asarray(shape, np.int32)
        shape_t = self.add_const(f"{out}/shape", np.asarray(shape, np.int32))
        self.add_node("RESHAPE", out, [src, shape_t], [out], opts)
        self.alias_src[out] = src
        return out

    def requantize(self, src: str, q: QuantParams, base: str) -> str:
        """A QUANTIZE node int8 -> int8 giving `src` the quantization `q`."""
        out = self.add_act(base, self.graph.tensor(src).shape, q)
        self.add_node("QUANTIZE", out, [src], [out])
        return out

    def as_layout(self, act: Act, target: Layout, onnx_shape: tuple[int, ...]) -> str:
        """IR tensor holding `act` in `target` layout; a free view when the bytes agree, else rejected."""
        if act.layout == target:
            return act.name
        if act.name in self._inputs.values() and not any(act.name in n.inputs for n in self.graph.nodes):
            # A graph input nobody read yet takes the layout its first consumer wants (NCHW -> NHWC).
            self.graph.tensor(act.name).shape = permute(onnx_shape, target)
            act.layout = target
            return act.name
        key = (act.name, target)
        if key not in self._relayout:
            if not same_memory_order(onnx_shape, act.layout, target):
                raise Reject(
                    f"tensor {act.name!r} (ONNX shape {list(onnx_shape)}) would need a data transpose from "
                    f"layout {list(act.layout)} to {list(target)}; microforge has no TRANSPOSE op"
                )
            self._relayout[key] = self.reshape(act.name, permute(onnx_shape, target), f"{act.name}/relayout")
        return self._relayout[key]

    def set_quant(self, ir_name: str, q: QuantParams) -> None:
        """First quantization seen for an int8 tensor without one (an int8 graph input and its views)."""
        t = self.graph.tensor(ir_name)
        if t.quant is None:
            t.quant = q
            for out, src in self.alias_src.items():
                if out == ir_name:
                    self.set_quant(src, q)
                elif src == ir_name:
                    self.set_quant(out, q)
        elif not same_q(t.quant, q):
            raise Reject(f"tensor {ir_name!r} is dequantized with parameters other than those it was quantized with")

    # ---------------------------------------------------------------- value kinds
    def deq(self, v: Value, what: str = "input") -> Act:
        if isinstance(v, Deq):
            return v.act
        if isinstance(v, FloatInput):
            raise Reject(f"float graph input {v.name!r} is used without QuantizeLinear (not a QDQ model)")
        raise Reject(f"{what} is not a dequantized int8 activation ({type(v).__name__})")

    def const(self, v: Value, what: str) -> Const:
        if not isinstance(v, Const):
            raise Reject(f"{what} must be constant")
        return v

    def take_pending(self, name: str, v: Pending) -> Pending:
        if self.uses[name] != 1 or v.consumed:
            raise Reject(f"float result {name!r} has {self.uses[name]} consumers; a QDQ model quantizes it once")
        v.consumed = True
        return v

    # ---------------------------------------------------------------- Q / DQ
    def qparams(self, scale_v: Value, zp_v: Value | None, axis: int | None, ndim: int) -> tuple[QuantParams, str]:
        scale = np.asarray(self.const(scale_v, "scale").data, np.float32)
        zp_data = None if zp_v is None else self.const(zp_v, "zero point").data
        dtype = "uint8" if zp_data is None else str(zp_data.dtype)
        if dtype not in ("int8", "uint8", "int32"):
            raise Reject(f"{dtype} quantization is not supported (int8, uint8 activations, int32 bias)")
        zp = np.zeros(scale.shape, np.int64) if zp_data is None else np.asarray(zp_data, np.int64)
        if dtype == "uint8":  # same real values as int8 with the zero point moved by 128
            zp = zp - 128
        if scale.size > 1 and axis is None:
            raise Reject("per-channel scale without an axis")
        return qp(scale, zp, (axis % ndim) if scale.size > 1 and axis is not None else None), dtype

    def dequantize(self, node: onnx.NodeProto, ins: list[Value]) -> Value:
        x = ins[0]
        attrs = attr_dict(node)
        if isinstance(x, Const):
            q, dtype = self.qparams(ins[1], ins[2] if len(ins) > 2 else None, attrs.get("axis", 1), x.data.ndim)
            if str(x.data.dtype) != dtype:
                raise Reject(f"data type {x.data.dtype} does not match zero point type {dtype}")
            data = x.data.astype(np.int64) - 128 if dtype == "uint8" else x.data
            return Const(np.asarray(data, np.int8 if dtype == "uint8" else x.data.dtype), q, x.name)
        if isinstance(x, Act):
            q, dtype = self.qparams(ins[1], ins[2] if len(ins) > 2 else None, None, 1)
            if q.per_channel:
                raise Reject("activations must be quantized per tensor")
            self.set_quant(x.name, q)
            return Deq(x)
        raise Reject("DequantizeLinear of something other than an int8 tensor or constant")

    def quantize(self, node: onnx.NodeProto, ins: list[Value]) -> Value:
        x, out_name = ins[0], node.output[0]
        attrs = attr_dict(node)
        if isinstance(x, Const):
            ndim = x.data.ndim
            q, dtype = self.qparams(ins[1], ins[2] if len(ins) > 2 else None, attrs.get("axis", 1), ndim)
            scale = q.scale if q.axis is None else q.scale.reshape([-1 if i == q.axis else 1 for i in range(ndim)])
            zp = q.zero_point if q.axis is None else q.zero_point.reshape(scale.shape)
            lo, hi = (-(2**31), 2**31 - 1) if dtype == "int32" else (INT8_MIN, INT8_MAX)
            data = np.clip(np.rint(x.data / scale) + zp, lo, hi)  # ONNX rounds half to even
            return Const(data.astype(np.int32 if dtype == "int32" else np.int8), q, x.name)
        q, dtype = self.qparams(ins[1], ins[2] if len(ins) > 2 else None, None, 1)
        if dtype == "int32" or q.per_channel:
            raise Reject("activations must be quantized per tensor to int8/uint8")
        if isinstance(x, FloatInput):
            name = self.add_act(out_name, self.shape(x.name), q)
            self._inputs[x.name] = name
            return Act(name, identity(len(self.shape(x.name))))
        if isinstance(x, Deq):
            if same_q(self.quant_of(x.act.name), q):
                return x.act
            return Act(self.requantize(x.act.name, q, out_name), x.act.layout)
        if isinstance(x, Pending):
            return self.materialize(self.take_pending(node.input[0], x), out_name, q)
        raise Reject(f"QuantizeLinear of an unsupported value ({type(x).__name__})")

    def materialize(self, p: Pending, out_name: str, q: QuantParams) -> Act:
        """Emit the IR node(s) of a pending float op now that its output quantization `q` is known."""
        shape = permute(p.shape, p.layout)
        act = "NONE" if p.activation == "NONE" or covers(p.activation, q) else p.activation
        if act != "NONE" and not p.fuses_activation:
            raise Reject(f"{p.activation} after {p.op or 'a dequantized tensor'} cannot be fused and clamps values")
        if not p.op:  # identity: DQ -> (covered) Relu -> Q
            src = p.inputs[0]
            return Act(src if same_q(self.quant_of(src), q) else self.requantize(src, q, out_name), p.layout)
        inputs = list(p.inputs)
        if p.requant_inputs:
            inputs = [
                i if i is None or self.graph.tensor(i).is_const or same_q(self.quant_of(i), q)
                else self.requantize(i, q, f"{i}/requant")
                for i in inputs
            ]
        required = p.fixed_out or (self.quant_of(inputs[0]) if p.same_as_input else None)
        direct = required is None or same_q(required, q)
        node_out = self.add_act(out_name if direct else f"{out_name}/raw", shape, q if direct else required)
        if p.fuses_activation:
            p.options.fusedActivationFunction = int(getattr(schema.ActivationFunctionType, act))
        self.add_node(p.op, p.name, inputs, [node_out], p.options)
        return Act(node_out if direct else self.requantize(node_out, q, out_name), p.layout)

    def bias_tensor(self, base: str, c: Const, in_scale: float, w_scale: np.ndarray, channels: int) -> str:
        """int32 bias with scale input_scale * weight_scale (float32 product, as TFLite), from any QDQ bias."""
        expected = (np.float32(in_scale) * np.broadcast_to(w_scale.astype(np.float32), (channels,))).astype(np.float32)
        data = np.asarray(c.data).reshape(-1)
        if data.size not in (1, channels):
            raise Reject(f"bias has {data.size} values, expected {channels}")
        data = np.broadcast_to(data, (channels,))
        if c.quant is not None and str(c.data.dtype) == "int32" and np.all(c.quant.zero_point == 0) and np.allclose(
            np.broadcast_to(c.quant.scale, (channels,)), expected, rtol=1e-6, atol=0
        ):
            values = data.astype(np.int64)
        else:  # float bias, or quantized with another scale: requantize to the TFLite bias scale
            real = data.astype(np.float64)
            if c.quant is not None:
                real = (real - np.broadcast_to(c.quant.zero_point, (channels,))) * np.broadcast_to(c.quant.scale, (channels,))
            values = np.rint(real / expected.astype(np.float64))
        values = np.clip(values, -(2**31), 2**31 - 1).astype(np.int32)
        per_channel = bool(np.any(expected != expected[0]))
        quant = qp(expected if per_channel else expected[:1], np.zeros(channels if per_channel else 1), 0)
        return self.add_const(base, values, quant)

    def weights_tensor(self, base: str, c: Const, data: np.ndarray, axis_map: dict[int, int]) -> tuple[str, np.ndarray]:
        """Constant int8 weights already transposed to the TFLite layout; returns (name, per-channel scales)."""
        if c.quant is None or data.dtype != np.int8:
            raise Reject(f"weights {c.name!r} are not int8 DequantizeLinear constants (not a QDQ int8 model)")
        q = c.quant
        if q.per_channel:
            if q.axis not in axis_map:
                raise Reject(f"weights {c.name!r} are quantized along axis {q.axis}, not the output channel")
            q = qp(q.scale, q.zero_point, axis_map[q.axis])
        return self.add_const(base, data, q), q.scale

    # ---------------------------------------------------------------- driver
    def run(self, handlers: dict[str, Callable[[Converter, onnx.NodeProto, list[Value]], Value]]) -> Graph:
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
            if elem == onnx.TensorProto.FLOAT:
                self.values[inp.name] = FloatInput(inp.name)
            elif elem == onnx.TensorProto.INT8:
                name = self.add_act(inp.name, self.shapes[inp.name], None)
                self._inputs[inp.name] = name
                self.values[inp.name] = Act(name, identity(len(self.shapes[inp.name])))
            else:
                self.problems.append(f"graph input {inp.name!r} has type "
                                     f"{onnx.TensorProto.DataType.Name(elem)}; float32 or int8 expected")
                self.values[inp.name] = BAD
        for node in g.node:
            ins = [self.values[i] if i else None for i in node.input]
            label = f"{node.name or node.output[0]!r} ({node.op_type})"
            if any(isinstance(v, Bad) for v in ins):
                result: Value = BAD
            else:
                try:
                    result = handlers[node.op_type](self, node, ins)
                except Reject as exc:
                    self.problems.append(f"{label}: {exc}")
                    result = BAD
            self.values[node.output[0]] = result
            for extra in node.output[1:]:
                if extra and self.uses[extra]:
                    self.problems.append(f"{label}: output {extra!r} is used; only the first output is supported")
        self._finish()
        return self.graph

    def _finish(self) -> None:
        g = self.model.graph
        for inp in g.input:
            if inp.name in self._inputs:
                self.graph.inputs.append(self._inputs[inp.name])
        for out in g.output:
            v = self.values.get(out.name, BAD)
            try:
                if isinstance(v, Deq):  # output DequantizeLinear: the IR output is the int8 tensor
                    v = v.act
                if isinstance(v, Act):
                    shape, ident = self.shape(out.name), identity(len(v.layout))
                    # 4-D outputs stay NHWC (like the inputs) when ONNX order would need a transpose.
                    keep = v.layout == NHWC_OF_NCHW and not same_memory_order(shape, v.layout, ident)
                    self.graph.outputs.append(v.name if keep else self.as_layout(v, ident, shape))
                elif isinstance(v, Pending):
                    raise Reject(f"is the float result of {v.op or 'an activation'} {v.name!r}; it needs a QuantizeLinear")
                elif not isinstance(v, Bad):
                    raise Reject("is not an int8 (or dequantized int8) tensor")
            except Reject as exc:
                self.problems.append(f"graph output {out.name!r}: {exc}")
        self._collapse_views()
        for t in self.graph.tensors.values():
            if t.dtype == "int8" and t.quant is None and not t.is_const:
                self.problems.append(f"int8 tensor {t.name!r} never gets quantization parameters (no DequantizeLinear)")
        if self.problems:
            raise UnsupportedModelError(f"{self.where}: {len(self.problems)} problem(s): " + "; ".join(self.problems))

    def _collapse_views(self) -> None:
        """RESHAPE of a RESHAPE reads the first one's input; views nobody reads are dropped."""
        nodes = self.graph.nodes
        producer = {n.outputs[0]: n for n in nodes}
        for n in nodes:
            src = producer.get(n.inputs[0]) if n.op == "RESHAPE" else None
            while src is not None and src.op == "RESHAPE":
                n.inputs[0] = src.inputs[0]
                src = producer.get(src.inputs[0])
        while True:
            read = {i for n in nodes for i in n.inputs} | set(self.graph.outputs)
            dead = [n for n in nodes if n.op == "RESHAPE" and n.outputs[0] not in read]
            if not dead:
                break
            for n in dead:
                nodes.remove(n)
                for t in n.outputs + n.inputs[1:]:
                    if t is not None and t not in read | set(n.inputs[:1]):
                        self.graph.tensors.pop(t, None)


def attr_dict(node: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
