"""TFLite backend: our .tflite runs in TFLM and LiteRT bit-exact with the original file and our C; wrapper compiles."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from microforge import __version__, ops
from microforge.backends.tflite import emit_tflite, write_tflite
from microforge.backends.tflite.emit import TFLM_ADD_METHODS, arena_with_margin
from microforge.backends.tflite.versions import converter_version
from microforge.errors import UnsupportedModelError
from microforge.importers.schema import schema
from microforge.importers.tflite import import_tflite, import_tflite_bytes
from microforge.ir import Graph, Node, Tensor
from microforge.ops.concatenation import ConcatenationAttrs
from microforge.ops.conv2d import Conv2DAttrs
from microforge.ops.depthwise_conv2d import DepthwiseConv2DAttrs
from microforge.ops.fully_connected import FullyConnectedAttrs
from microforge.ops.mul import MulAttrs
from microforge.reference import run_reference
from microforge.validate.host import run_host
from microforge.validate.tflm import run_tflm, tflm_arena_bytes

from support import SHARED, act, const, one_op_graph, random_inputs

MODELS = ("hello_world_int8", "micro_speech_quantized", "person_detect")


def _litert(model: bytes):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    return interp


def _run_litert(model: bytes, samples) -> list[list[np.ndarray]]:
    interp = _litert(model)
    results = []
    for sample in samples:
        for d, arr in zip(interp.get_input_details(), sample):
            interp.set_tensor(d["index"], np.asarray(arr, d["dtype"]).reshape(d["shape"]))
        interp.invoke()
        results.append([interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()])
    return results


def _same(a: list[list[np.ndarray]], b: list[list[np.ndarray]]) -> None:
    assert len(a) == len(b)
    for k, (x, y) in enumerate(zip(a, b)):
        assert len(x) == len(y)
        for i, (u, v) in enumerate(zip(x, y)):
            u, v = np.asarray(u).reshape(-1), np.asarray(v).reshape(-1)
            assert u.dtype == v.dtype and np.array_equal(u, v), f"sample {k} output {i}: {u[:8]} != {v[:8]}"


def _buffer_offsets(model: bytes) -> list[int]:
    """Absolute file offsets of every non-empty buffer's data."""
    m = schema.Model.GetRootAs(model, 0)
    offsets = []
    for i in range(m.BuffersLength()):
        b = m.Buffers(i)
        field = b._tab.Offset(4)  # Buffer.data is the table's first field
        if field and b.DataLength():
            offsets.append(b._tab.Vector(field))
    return offsets


@pytest.fixture(scope="module")
def emitted(tmp_path_factory):
    """`get(model)` -> (outdir, our .tflite bytes, original bytes, metadata), each model emitted once."""
    cache = {}

    def get(name: str):
        if name not in cache:
            path = SHARED / "tflite" / f"{name}.tflite"
            out = tmp_path_factory.mktemp(name) / "tfl"
            emit_tflite(import_tflite(path), out)
            meta = json.loads((out / "metadata.json").read_text())
            cache[name] = (out, (out / f"{name}.tflite").read_bytes(), path.read_bytes(), meta)
        return cache[name]

    return get


@pytest.mark.parametrize("name", MODELS)
def test_shared_model_tflm_bit_exact_with_original_and_c(name, emitted, shared_compiled):
    out, ours, orig, meta = emitted(name)
    graph = import_tflite_bytes(orig, name)
    samples = random_inputs(graph, np.random.default_rng(7), 10)
    on_ours = run_tflm(ours, samples)
    _same(on_ours, run_tflm(orig, samples))
    _, c_out = shared_compiled(name)
    c_results, _ = run_host(c_out, samples)
    _same(on_ours, c_results)
    # the re-import of our file is the same graph: same ops, same outputs
    assert [n.op for n in import_tflite_bytes(ours, name).nodes] == [n.op for n in graph.nodes]
    assert meta["tflite_bytes"] == len(ours) and meta["tflm_arena_bytes"] == tflm_arena_bytes(ours)
    # 16-byte-aligned buffers cost a few bytes of padding; shared empty buffers and deduplication win them back
    assert len(ours) <= len(orig)
    assert meta["tflm_arena_bytes"] <= tflm_arena_bytes(orig)


@pytest.mark.parametrize("name", MODELS)
def test_litert_runs_ours_like_tflm(name, emitted):
    _, ours, orig, _ = emitted(name)
    graph = import_tflite_bytes(orig, name)
    samples = random_inputs(graph, np.random.default_rng(3), 5)
    _same(_run_litert(ours, samples), run_tflm(ours, samples))
    runner = _litert(ours).get_signature_runner("serving_default")
    (key,) = runner.get_input_details()
    result = runner(**{key: samples[0][0].reshape(graph.tensor(graph.inputs[0]).shape)})
    assert np.array_equal(next(iter(result.values())).reshape(-1), run_tflm(ours, samples[:1])[0][0].reshape(-1))


def test_litert_refuses_original_person_detect_but_not_ours(emitted):
    """person_detect's bias tensors carry quantized_dimension 3 on rank-1 tensors; we write 0."""
    _, ours, orig, _ = emitted("person_detect")
    with pytest.raises(ValueError, match="quantized_dimension"):
        _litert(orig)
    _litert(ours)


@pytest.mark.parametrize("name", MODELS)
def test_file_layout(name, emitted):
    _, ours, _, _ = emitted(name)
    m = schema.ModelT.InitFromPackedBuf(ours, 0)
    assert m.version == 3 and m.description.decode() == f"microforge {__version__}"
    assert all(off % 16 == 0 for off in _buffer_offsets(ours))
    names = [t.name.decode() for t in m.subgraphs[0].tensors]
    assert len(set(names)) == len(names) and all(n.isascii() and n.isprintable() for n in names)
    (sig,) = m.signatureDefs
    assert sig.signatureKey.decode() == "serving_default" and [t.tensorIndex for t in sig.inputs] == list(
        m.subgraphs[0].inputs
    )
    versions = {int(oc.builtinCode): int(oc.version) for oc in m.operatorCodes}
    expected = {
        "CONV_2D": 3,
        "DEPTHWISE_CONV_2D": 3,
        "FULLY_CONNECTED": 4,
        "SOFTMAX": 2,
        "AVERAGE_POOL_2D": 2,
        "RESHAPE": 1,
    }
    for code, version in versions.items():
        builtin = next(k for k, v in vars(schema.BuiltinOperator).items() if v == code)
        assert version == expected[builtin], builtin


def test_depthwise_without_bias_runs_in_tflm_and_litert():
    rng = np.random.default_rng(11)
    x = act("x", (1, 6, 5, 3), 0.05, 3)
    w = const("w", rng.integers(-127, 128, (1, 3, 3, 6)).astype(np.int8), rng.uniform(0.01, 0.02, 6), axis=3)
    g = one_op_graph(
        "DEPTHWISE_CONV_2D", [x, w, None], [act("y", (1, 6, 5, 6), 0.3, -2)], DepthwiseConv2DAttrs(depth_multiplier=2)
    )
    model = write_tflite(g)
    samples = random_inputs(g, rng, 4)
    ref = [run_reference(g, s) for s in samples]
    _same(run_tflm(model, samples), ref)
    _same(_run_litert(model, samples), ref)
    bias = schema.ModelT.InitFromPackedBuf(model, 0).subgraphs[0].tensors[2]
    assert bias.type == schema.TensorType.INT32 and list(bias.shape) == [6]
    np.testing.assert_array_equal(np.float32(bias.quantization.scale), np.float32(0.05) * w.quant.scale)


def test_float_graph_runs_in_tflm_and_litert():
    """Float IR (quant None): depthwise without bias -> reshape -> fully connected -> softmax, versions 1."""
    rng = np.random.default_rng(5)
    g = Graph("floaty")
    for t in (
        Tensor("x", (1, 4, 4, 2), "float32"),
        Tensor("w", (1, 3, 3, 4), "float32", data=rng.standard_normal((1, 3, 3, 4)).astype(np.float32)),
        Tensor("d", (1, 4, 4, 4), "float32"),
        Tensor("shape", (2,), "int32", data=np.array([1, 64], np.int32)),
        Tensor("r", (1, 64), "float32"),
        Tensor("fw", (5, 64), "float32", data=rng.standard_normal((5, 64)).astype(np.float32) * 0.1),
        Tensor("fb", (5,), "float32", data=rng.standard_normal(5).astype(np.float32)),
        Tensor("f", (1, 5), "float32"),
        Tensor("y", (1, 5), "float32"),
    ):
        g.add_tensor(t)
    reshape_attrs = ops.get("RESHAPE").from_tflite(None, Node("RESHAPE", "r", ["d", "shape"], ["r"]), g)
    softmax_attrs = ops.get("SOFTMAX").from_tflite(None, Node("SOFTMAX", "y", ["f"], ["y"]), g)
    g.nodes = [
        Node(
            "DEPTHWISE_CONV_2D",
            "d",
            ["x", "w", None],
            ["d"],
            DepthwiseConv2DAttrs(depth_multiplier=2, activation="RELU"),
        ),
        Node("RESHAPE", "r", ["d", "shape"], ["r"], reshape_attrs),
        Node("FULLY_CONNECTED", "f", ["r", "fw", "fb"], ["f"], FullyConnectedAttrs()),
        Node("SOFTMAX", "y", ["f"], ["y"], softmax_attrs),
    ]
    g.inputs, g.outputs = ["x"], ["y"]
    model = write_tflite(g)
    assert {int(oc.version) for oc in schema.ModelT.InitFromPackedBuf(model, 0).operatorCodes} == {1}
    samples = [[rng.standard_normal((1, 4, 4, 2)).astype(np.float32)] for _ in range(3)]
    tflm, litert = run_tflm(model, samples), _run_litert(model, samples)
    for a, b in zip(tflm, litert):
        np.testing.assert_allclose(a[0].reshape(-1), b[0].reshape(-1), rtol=1e-5, atol=1e-7)
        assert abs(float(a[0].sum()) - 1.0) < 1e-5 and a[0].std() > 0.01


def _versions_case(op, x, w, y, attrs, bias=True):
    inputs = [x, w, const("b", np.zeros(w.shape[0], np.int32))] if bias else [x, w]
    g = one_op_graph(op, inputs, [y], attrs)
    return converter_version(op, g.nodes[0], g, default=99)


def test_converter_versions():
    rng = np.random.default_rng(0)
    x8, y8 = act("x", (1, 8), 0.1, 0), act("y", (1, 4), 0.1, 0)
    w8 = const("w", rng.integers(-127, 128, (4, 8)).astype(np.int8), 0.01)
    assert _versions_case("FULLY_CONNECTED", x8, w8, y8, FullyConnectedAttrs()) == 4
    assert _versions_case("FULLY_CONNECTED", x8, w8, y8, FullyConnectedAttrs(keep_num_dims=True)) == 5
    assert _versions_case("FULLY_CONNECTED", x8, w8, y8, FullyConnectedAttrs(), bias=False) == 6
    xf, yf = Tensor("x", (1, 8), "float32"), Tensor("y", (1, 4), "float32")
    wf = Tensor("w", (4, 8), "float32", data=np.zeros((4, 8), np.float32))
    assert _versions_case("FULLY_CONNECTED", xf, wf, yf, FullyConnectedAttrs()) == 1

    x4, wc = act("x", (1, 5, 5, 3), 0.1, 0), const("w", np.ones((4, 3, 3, 3), np.int8), [0.01] * 4, axis=0)
    assert _versions_case("CONV_2D", x4, wc, act("y", (1, 5, 5, 4), 0.1, 0), Conv2DAttrs()) == 3
    x4f, y4f = Tensor("x", (1, 5, 5, 4), "float32"), Tensor("y", (1, 5, 5, 4), "float32")
    wd = Tensor("w", (1, 3, 3, 4), "float32", data=np.zeros((1, 3, 3, 4), np.float32))
    assert _versions_case("DEPTHWISE_CONV_2D", x4f, wd, y4f, DepthwiseConv2DAttrs()) == 1
    assert _versions_case("DEPTHWISE_CONV_2D", x4f, wd, y4f, DepthwiseConv2DAttrs(dilation_h=2)) == 2

    def mul_version(ys):
        g = one_op_graph(
            "MUL", [act("a", (1, 4), 0.5, 0), act("b", (1, 4), 0.5, 0)], [act("y", (1, 4), ys, 0)], MulAttrs()
        )
        return converter_version("MUL", g.nodes[0], g, default=99)

    assert mul_version(0.5) == 2 and mul_version(0.2) == 3  # input1 * input2 / output scale >= 1 -> 3
    g = one_op_graph(
        "CONCATENATION",
        [act("a", (1, 4), 0.5, 0), act("b", (1, 4), 0.5, 0)],
        [act("y", (1, 8), 0.5, 0)],
        ConcatenationAttrs(axis=1),
    )
    assert converter_version("CONCATENATION", g.nodes[0], g, default=99) == 2


def test_tensor_names_sanitized_and_unique():
    g = one_op_graph(
        "FULLY_CONNECTED",
        [act('a "b"*\n', (1, 3), 0.1, 0), const("w\u00e9", np.ones((2, 3), np.int8), 0.1)],
        [act("a b", (1, 2), 0.1, 0)],
        FullyConnectedAttrs(),
    )
    names = [t.name.decode() for t in schema.ModelT.InitFromPackedBuf(write_tflite(g), 0).subgraphs[0].tensors]
    assert names == ["a_b", "w", "a_b_1"]


def test_unsupported_export_names_the_node(monkeypatch, tmp_path):
    g = one_op_graph(
        "FULLY_CONNECTED",
        [act("x", (1, 3), 0.1, 0), const("w", np.ones((2, 3), np.int8), 0.1)],
        [act("y", (1, 2), 0.1, 0)],
        FullyConnectedAttrs(),
    )

    def no_export(node, graph):
        raise NotImplementedError

    monkeypatch.setattr(ops.get("FULLY_CONNECTED"), "to_tflite", no_export)
    with pytest.raises(UnsupportedModelError, match="FULLY_CONNECTED") as err:
        emit_tflite(g, tmp_path / "out")
    assert err.value.nodes == [("y", "FULLY_CONNECTED")]
    assert not (tmp_path / "out").exists()


def test_arena_margin():
    assert arena_with_margin(1504) == 2528  # +1 KiB minimum
    assert arena_with_margin(85264) == 93792  # +10 %, rounded up to 16
    assert all(arena_with_margin(n) % 16 == 0 and arena_with_margin(n) >= n + 1024 for n in (1, 17, 9999, 123457))


def test_emit_replaces_folder(tmp_path):
    g = import_tflite(SHARED / "tflite" / "hello_world_int8.tflite")
    out = tmp_path / "out"
    emit_tflite(g, out, name="first")
    (out / "stale.txt").write_text("x")
    result = emit_tflite(g, out, name="Hello World!")
    files = sorted(p.name for p in out.iterdir())
    assert result.name == "hello_world" and "stale.txt" not in files
    assert files == sorted(json.loads((out / "metadata.json").read_text())["files"] + ["metadata.json"])
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left behind


# --- The wrapper against stub TFLM headers -------------------------------------------------------------------
# Every MicroMutableOpResolver::Add* method of TFLM (tensorflow/tflite-micro,
# tensorflow/lite/micro/micro_mutable_op_resolver.h): a misspelt method in the wrapper fails to compile.
TFLM_RESOLVER_METHODS = """
AddAbs AddAdd AddAddN AddArgMax AddArgMin AddAssignVariable AddAveragePool2D AddBatchToSpaceNd AddBroadcastArgs
AddBroadcastTo AddCallOnce AddCast AddCeil AddCircularBuffer AddConcatenation AddConv2D AddCos AddCumSum
AddDepthToSpace AddDepthwiseConv2D AddDequantize AddDetectionPostprocess AddElu AddEqual AddEthosU AddExp
AddExpandDims AddFill AddFloor AddFloorDiv AddFloorMod AddFullyConnected AddGather AddGatherNd AddGreater
AddGreaterEqual AddHardSwish AddIf AddL2Normalization AddL2Pool2D AddLeakyRelu AddLess AddLessEqual AddLog
AddLogicalAnd AddLogicalNot AddLogicalOr AddLogistic AddMaximum AddMaxPool2D AddMirrorPad AddMean AddMinimum
AddMul AddNeg AddNotEqual AddPack AddPad AddPadV2 AddPrelu AddQuantize AddReadVariable AddReduceMax AddRelu
AddRelu6 AddReshape AddResizeBilinear AddResizeNearestNeighbor AddRound AddRsqrt AddShape AddSin AddSlice
AddSoftmax AddSpaceToBatchNd AddSpaceToDepth AddSplit AddSplitV AddSqueeze AddSqrt AddSquare AddStridedSlice
AddSub AddSvdf AddTanh AddTransposeConv AddTranspose AddUnpack AddUnidirectionalSequenceLSTM AddVarHandle
AddWhile AddZerosLike
""".split()

STUBS = {
    "tensorflow/lite/c/common.h": """
#pragma once
#include <cstddef>
#include <cstdint>
typedef enum { kTfLiteOk = 0, kTfLiteError = 1 } TfLiteStatus;
typedef union { int32_t *i32; float *f; int8_t *int8; int16_t *i16; char *raw; const char *raw_const; } TfLitePtrUnion;
typedef struct { TfLitePtrUnion data; size_t bytes; } TfLiteTensor;
""",
    "tensorflow/lite/schema/schema_generated.h": """
#pragma once
#include <cstdint>
namespace tflite {
struct Model { uint32_t version() const; };
const Model *GetModel(const void *buf);
}
""",
    "tensorflow/lite/micro/micro_interpreter.h": """
#pragma once
#include <cstddef>
#include <cstdint>
#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/schema/schema_generated.h"
#define TFLITE_SCHEMA_VERSION (3)
namespace tflite {
class MicroOpResolver {};
class MicroResourceVariables;
class MicroProfilerInterface;
class MicroInterpreter {
 public:
  MicroInterpreter(const Model *model, const MicroOpResolver &op_resolver, uint8_t *tensor_arena,
                   size_t tensor_arena_size, MicroResourceVariables *resource_variables = nullptr,
                   MicroProfilerInterface *profiler = nullptr, bool preserve_all_tensors = false);
  ~MicroInterpreter();
  TfLiteStatus AllocateTensors();
  TfLiteStatus Invoke();
  TfLiteTensor *input(size_t index);
  TfLiteTensor *output(size_t index);
  size_t inputs_size() const;
  size_t outputs_size() const;
  size_t arena_used_bytes() const;
};
}
""",
}


def _resolver_stub() -> str:
    methods = "\n".join(f"  TfLiteStatus {m}();" for m in TFLM_RESOLVER_METHODS)
    return (
        '#pragma once\n#include "tensorflow/lite/c/common.h"\n#include "tensorflow/lite/micro/micro_interpreter.h"\n'
        "namespace tflite {\ntemplate <unsigned int tOpCount>\nclass MicroMutableOpResolver : public MicroOpResolver {\n public:\n"
        f"{methods}\n}};\n}}\n"
    )


def _write_stubs(root: Path) -> None:
    for rel, text in {**STUBS, "tensorflow/lite/micro/micro_mutable_op_resolver.h": _resolver_stub()}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _gxx(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["g++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic", *map(str, args)],
        capture_output=True,
        text=True,
    )


def test_every_resolver_method_is_a_tflm_name():
    assert set(TFLM_ADD_METHODS.values()) <= set(TFLM_RESOLVER_METHODS)
    assert set(TFLM_ADD_METHODS) <= set(vars(schema.BuiltinOperator))


needs_gxx = pytest.mark.skipif(shutil.which("g++") is None or shutil.which("gcc") is None, reason="needs gcc and g++")


@needs_gxx
@pytest.mark.parametrize("name", ("micro_speech_quantized", "person_detect"))
def test_wrapper_compiles_against_tflm_stubs(name, emitted, tmp_path):
    out, _, _, meta = emitted(name)
    _write_stubs(tmp_path)
    proc = _gxx("-fsyntax-only", f"-I{tmp_path}", f"-I{out}", out / f"{name}_tflm.cc")
    assert proc.returncode == 0, proc.stderr
    text = (out / f"{name}_tflm.cc").read_text()
    assert f"MicroMutableOpResolver<{len(meta['ops'])}>" in text
    assert sorted(m for m in TFLM_RESOLVER_METHODS if f"resolver.{m}()" in text) == sorted(
        TFLM_ADD_METHODS[b] for b in meta["ops"]
    )
    assert f"{meta['tflm_arena_bytes']} bytes" in text and "64-bit host" in text and "Margin" in text
    assert f"_TFLM_ARENA_BYTES {meta['tflm_arena_size']}u" in (out / f"{name}_tflm.h").read_text()
    # the public header is plain C
    c_file = tmp_path / "use.c"
    c_file.write_text(
        f'#include "{name}_tflm.h"\n#include "{name}_model_data.h"\nint main(void) {{ return {name}_tflm_init(); }}\n'
    )
    proc = subprocess.run(
        ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", f"-I{out}", str(c_file)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    # and the check can fail: a misspelt method (TFLM has AddConv2D, not AddConv2d) does not compile
    bad = tmp_path / "bad.cc"
    bad.write_text(text.replace(f"resolver.{TFLM_ADD_METHODS[meta['ops'][0]]}()", "resolver.AddConv2d()"))
    assert _gxx("-fsyntax-only", f"-I{tmp_path}", f"-I{out}", bad).returncode != 0


@needs_gxx
def test_model_data_array_holds_the_tflite_aligned_and_placeable(emitted, tmp_path):
    name = "micro_speech_quantized"
    out, ours, _, _ = emitted(name)
    main = tmp_path / "main.cc"
    main.write_text(
        f'#include <cstdint>\n#include <cstdio>\n#include "{name}_model_data.h"\n'
        f"int main() {{\n  if (reinterpret_cast<uintptr_t>(g_{name}_model_data) % 16 != 0) return 2;\n"
        f"  return std::fwrite(g_{name}_model_data, 1, g_{name}_model_data_len, stdout) == {len(ours)}u ? 0 : 3;\n}}\n"
    )
    exe, obj = tmp_path / "dump", tmp_path / "model_data.o"
    attr = f'-D{name.upper()}_MODEL_DATA_ATTR=__attribute__((section(".mf_model")))'
    proc = _gxx("-c", attr, f"-I{out}", out / f"{name}_model_data.cc", "-o", obj)
    assert proc.returncode == 0, proc.stderr
    proc = _gxx(f"-I{out}", main, obj, "-o", exe)
    assert proc.returncode == 0, proc.stderr
    run = subprocess.run([str(exe)], capture_output=True)
    assert run.returncode == 0 and run.stdout == ours
    symbols = subprocess.run(["objdump", "-t", str(obj)], capture_output=True, text=True).stdout
    assert any(".mf_model" in line and f"g_{name}_model_data" in line for line in symbols.splitlines()), symbols


# --- Our own PTQ output (float IR -> int8 IR) through the backend -------------------------------------------
@pytest.mark.parametrize("builder", ("small_cnn", "every_op_net"))
def test_quantized_float_nets_tflm_equals_c_and_litert(builder, tmp_path):
    """PTQ graphs (conv, depthwise, ADD, MUL, pools, CONCAT, PAD, MEAN, LOGISTIC, TANH, FC, SOFTMAX, RESHAPE)."""
    from passes.test_quantize import every_op_net, images, small_cnn  # the PTQ tests' float net builders

    from microforge.backends.c.emit import emit_c
    from microforge.passes.quantize import quantize

    fgraph = {"small_cnn": small_cnn, "every_op_net": every_op_net}[builder]()
    shape = fgraph.tensor(fgraph.inputs[0]).shape
    rng = np.random.default_rng(21)
    qgraph = quantize(fgraph, images(rng, 16, shape))
    result = emit_tflite(qgraph, tmp_path / "tfl")
    ours = (tmp_path / "tfl" / f"{result.name}.tflite").read_bytes()
    samples = random_inputs(qgraph, rng, 10)
    on_tflm = run_tflm(ours, samples)
    emit_c(qgraph, tmp_path / "c")
    _same(on_tflm, run_host(tmp_path / "c", samples)[0])
    _same(_run_litert(ours, samples), on_tflm)
    assert result.ops == list(dict.fromkeys(ops.get(n.op).to_tflite(n, qgraph).builtin for n in qgraph.nodes))

    # the float graph itself: TFLM's and LiteRT's float reference kernels agree
    fmodel = write_tflite(fgraph)
    fsamples = images(rng, 3, shape)
    for a, b in zip(run_tflm(fmodel, fsamples), _run_litert(fmodel, fsamples)):
        np.testing.assert_allclose(a[0].reshape(-1), b[0].reshape(-1), rtol=1e-5, atol=1e-6)
