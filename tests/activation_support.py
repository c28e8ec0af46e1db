"""Test machinery shared by the standalone activation op tests (RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU,
HARD_SWISH, PRELU): side-by-side int8 graphs, float checks vs TFLM, ONNX models through both importers
(vs onnxruntime) and post-training quantization (vs TFLM), LiteRT as the oracle where TFLM has no kernel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from microforge import ops
from microforge.backends.c.emit import emit_c
from microforge.backends.tflite.writer import write_tflite
from microforge.importers import load_model
from microforge.ir import Graph, Node, Tensor
from microforge.passes.quantize import quantize
from microforge.reference import run_reference
from microforge.validate.host import run_host

from support import act, assert_bit_exact, run_all_three

FLOAT_TOL = 1e-5


# ------------------------------------------------------------------ int8 graphs
def parallel_graph(op: str, cases, shape=(256,), attrs=None, alpha=None) -> Graph:
    """One `op` node per (input scale, input zp, output scale, output zp), side by side: one C build, one TFLM run.

    `attrs(k)` gives node k's attributes; `alpha(k)` an int8 constant tensor as input 1 (PRELU).
    """
    g = Graph(name="par")
    for k, (si, zi, so, zo) in enumerate(cases):
        x = g.add_tensor(act(f"x{k}", shape, float(si), int(zi)))
        y = g.add_tensor(act(f"y{k}", shape, float(so), int(zo)))
        inputs = [x.name]
        if alpha is not None:
            inputs.append(g.add_tensor(alpha(k)).name)
        g.nodes.append(Node(op, f"n{k}", inputs, [y.name], attrs(k) if attrs else None))
        g.inputs.append(x.name)
        g.outputs.append(y.name)
    return g


def random_cases(rng, n: int, same: bool = False, lo: float = -4, hi: float = 1, ratio: float = 1.0):
    """(si, zi, so, zo) with log-uniform input scales in [10^lo, 10^hi], output scale within 10^±ratio of it."""
    out = []
    for _ in range(n):
        si, zi = float(10 ** rng.uniform(lo, hi)), int(rng.integers(-128, 128))
        if same:
            out.append((si, zi, si, zi))
        else:
            out.append((si, zi, float(si * 10 ** rng.uniform(-ratio, ratio)), int(rng.integers(-128, 128))))
    return out


def all_values(g: Graph, rng, count: int = 1) -> list[list[np.ndarray]]:
    """Each (256-element) input holds every int8 value once, permuted."""
    return [[rng.permutation(np.arange(-128, 128)).astype(np.int8) for _ in g.inputs] for _ in range(count)]


def assert_checks_pass(g: Graph) -> None:
    for n in g.nodes:
        problems = ops.get(n.op).check(n, g)
        assert not problems, (n.name, problems)


# ------------------------------------------------------------------ LiteRT (for ops TFLM does not have)
def run_litert(model: bytes, samples) -> list[list[np.ndarray]]:
    """LiteRT's reference kernels (BUILTIN_REF) on a .tflite."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    ins, outs = interp.get_input_details(), interp.get_output_details()
    results = []
    for sample in samples:
        for d, arr in zip(ins, sample):
            interp.set_tensor(d["index"], np.asarray(arr, d["dtype"]).reshape(d["shape"]))
        interp.invoke()
        results.append([interp.get_tensor(d["index"]).copy() for d in outs])
    return results


def assert_bit_exact_litert(g: Graph, samples, outdir: Path) -> None:
    """Reference == C (host) == LiteRT's reference kernels, bit for bit."""
    assert_bit_exact(g, samples, outdir, tflm=False)
    theirs = run_litert(write_tflite(g), samples)
    for k, sample in enumerate(samples):
        for i, (r, t) in enumerate(zip(run_reference(g, sample), theirs[k])):
            diff = np.flatnonzero(np.asarray(r, np.int64).ravel() != np.asarray(t, np.int64).ravel())
            assert diff.size == 0, f"sample {k} output {i}: reference != LiteRT at {diff.size} positions, first {diff[:5]}"


# ------------------------------------------------------------------ float32
def fact(name: str, shape) -> Tensor:
    return Tensor(name, tuple(int(d) for d in shape), "float32")


def rel_err(ref, other) -> float:
    ref = np.asarray(ref, np.float64)
    other = np.asarray(other, np.float64).reshape(ref.shape)
    return float(np.max(np.abs(ref - other))) / max(float(np.max(np.abs(ref))), 1e-30) if ref.size else 0.0


def assert_float_close(g: Graph, samples, outdir: Path, tflm: bool = True) -> None:
    """Float reference vs generated C and vs TFLM's float kernel (or LiteRT when `tflm` is False), within 1e-5."""
    ref, ours, theirs = run_all_three(g, samples, outdir, tflm)
    if not tflm:
        theirs = run_litert(write_tflite(g), samples)
    for k in range(len(samples)):
        for i, r in enumerate(ref[k]):
            assert r.dtype == np.float32 and np.all(np.isfinite(r))
            assert rel_err(r, ours[k][i]) <= FLOAT_TOL, f"sample {k} output {i}: reference vs C {rel_err(r, ours[k][i])}"
            err = rel_err(r, theirs[k][i])
            assert err <= FLOAT_TOL, f"sample {k} output {i}: reference vs {'TFLM' if tflm else 'LiteRT'} {err}"


def float_samples(g: Graph, rng, count: int = 3, scale: float = 4.0) -> list[list[np.ndarray]]:
    return [[(rng.standard_normal(g.tensor(n).shape) * scale).astype(np.float32) for n in g.inputs] for _ in range(count)]


# ------------------------------------------------------------------ ONNX
def onnx_model(nodes, inits: dict[str, np.ndarray], shape, out_type=TensorProto.FLOAT, opset: int = 18) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "act",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", out_type, list(shape))],  # every op here keeps the shape
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _to_ir(x: np.ndarray, ir_shape) -> np.ndarray:
    if x.ndim == 4 and tuple(x.shape) != tuple(ir_shape):
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    return x.reshape(ir_shape)


def check_float_onnx(model: onnx.ModelProto, tmp_path: Path, rng, ir_op: str, count: int = 3, scale: float = 4.0):
    """Float importer: the IR has `ir_op`; reference and generated C within 1e-5 of onnxruntime."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "float.onnx"
    onnx.save(model, path)
    g = load_model(path)
    assert ir_op in [n.op for n in g.nodes], [n.op for n in g.nodes]
    assert_checks_pass(g)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    xs = [(rng.standard_normal(shape) * scale).astype(np.float32) for _ in range(count)]
    samples = [[_to_ir(x, g.tensor(g.inputs[0]).shape)] for x in xs]
    emit_c(g, tmp_path / "c")
    ours, _ = run_host(tmp_path / "c", samples)
    for x, s, o in zip(xs, samples, ours):
        theirs = sess.run(None, {"x": x})[0]
        ref = run_reference(g, s)[0]
        theirs = _to_ir(theirs, ref.shape)
        assert rel_err(theirs, ref) <= FLOAT_TOL, f"reference vs onnxruntime {rel_err(theirs, ref)}"
        assert rel_err(theirs, o[0]) <= FLOAT_TOL, f"C vs onnxruntime {rel_err(theirs, o[0])}"
    return g


def qdq_model(op_nodes, inits: dict[str, np.ndarray], shape, q_in: tuple[float, int], q_out: tuple[float, int],
              opset: int = 18) -> onnx.ModelProto:
    """x -> Q(q_in) -> DQ -> op_nodes ("xf" -> "yf") -> Q(q_out) -> y (int8)."""
    inits = dict(inits)
    inits.update(s_in=np.float32(q_in[0]), z_in=np.int8(q_in[1]), s_out=np.float32(q_out[0]), z_out=np.int8(q_out[1]))
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s_in", "z_in"], ["xq"], "q_in"),
        helper.make_node("DequantizeLinear", ["xq", "s_in", "z_in"], ["xf"], "dq_in"),
        *op_nodes,
        helper.make_node("QuantizeLinear", ["yf", "s_out", "z_out"], ["y"], "q_out"),
    ]
    return onnx_model(nodes, inits, shape, TensorProto.INT8, opset)


def check_qdq_onnx(model: onnx.ModelProto, tmp_path: Path, rng, ir_ops: list[str], tflm: bool = True,
                   count: int = 4, scale: float = 4.0) -> Graph:
    """QDQ importer: IR ops == `ir_ops`; C == reference (== TFLM); C within 1 LSB of onnxruntime."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "qdq.onnx"
    onnx.save(model, path)
    g = load_model(path)
    assert [n.op for n in g.nodes] == ir_ops
    assert_checks_pass(g)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    tin = g.tensor(g.inputs[0])
    xs = [(rng.standard_normal(shape) * scale).astype(np.float32) for _ in range(count)]
    samples = [[_to_ir(np.clip(np.rint(x / tin.quant.s) + tin.quant.zp, -128, 127).astype(np.int8), tin.shape)]
               for x in xs]
    if tflm:
        assert_bit_exact(g, samples, tmp_path / "c")
    else:
        assert_bit_exact_litert(g, samples, tmp_path / "c")
    emit_c(g, tmp_path / "c2")
    ours, _ = run_host(tmp_path / "c2", samples)
    worst = 0
    for x, o in zip(xs, ours):
        theirs = _to_ir(sess.run(None, {"x": x})[0], o[0].shape)
        worst = max(worst, int(np.abs(theirs.astype(np.int64) - o[0].astype(np.int64)).max()))
    assert worst <= 1, f"C vs onnxruntime: max |diff| {worst} LSB"
    return g


# ------------------------------------------------------------------ post-training quantization
def check_ptq(float_graph: Graph, rng, outdir: Path, tflm: bool = True, scale: float = 3.0) -> Graph:
    """Quantize a float graph on random samples; the int8 graph's C is bit-exact with TFLM (or LiteRT)."""
    calib = float_samples(float_graph, rng, 8, scale)
    g = quantize(float_graph, calib)
    assert_checks_pass(g)
    samples = [[np.clip(np.rint(s[0] / g.tensor(g.inputs[0]).quant.s) + g.tensor(g.inputs[0]).quant.zp, -128, 127)
                .astype(np.int8)] for s in float_samples(float_graph, rng, 3, scale)]
    if tflm:
        assert_bit_exact(g, samples, outdir)
    else:
        assert_bit_exact_litert(g, samples, outdir)
    return g
