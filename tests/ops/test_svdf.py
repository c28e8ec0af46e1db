"""SVDF: integer reference == generated C == TFLM, streaming over several invokes (the state persists).

The op is not registered until the planner/backend keep variable tensors (ops/svdf.py,
STATE_PERSISTENCE_READY); these tests enable it for their own duration. The C runs through emit_c on
one-op graphs, where no other tensor shares the state's arena bytes, with a runner of this file that
fills the state with its reset value before each sequence (what a generated `<name>_reset` would do).
"""

import copy
import subprocess

import flatbuffers
import numpy as np
import pytest

from microforge import ops
from microforge.backends.c.emit import emit_c
from microforge.backends.tflite.writer import write_tflite
from microforge.errors import UnsupportedModelError
from microforge.importers import load_model
from microforge.importers.schema import schema
from microforge.ir import DTYPES, Graph
from microforge.ops import svdf
from microforge.validate.host import CFLAGS
from microforge.validate.tflm import _interpreter

from support import SHARED, act, const, one_op_graph

KEYWORD = SHARED / "tflite" / "keyword_scrambled_8bit.tflite"


@pytest.fixture
def svdf_on(monkeypatch):
    inst = svdf.Svdf()
    monkeypatch.setitem(ops.REGISTRY, "SVDF", inst)
    monkeypatch.setitem(ops.TFLITE_TO_OP, "SVDF", inst)
    monkeypatch.setattr(svdf, "STATE_PERSISTENCE_READY", True)
    return inst


def svdf_case(rng, batches, input_size, units, rank, memory, state_dtype, state_zp=None, scales=None, bias_range=20000):
    nf = units * rank
    xs, wfs, wts, ss, ys = scales or (
        rng.uniform(0.005, 0.2),
        rng.uniform(0.001, 0.05),
        rng.uniform(0.001, 0.05),
        rng.uniform(0.01, 0.5) if state_dtype == "int8" else rng.uniform(1e-4, 1e-3),
        rng.uniform(0.02, 0.5),
    )
    hi = np.iinfo(state_dtype).max
    if state_zp is None:
        state_zp = int(rng.integers(-128, 128)) if state_dtype == "int8" else 0
    x = act("x", (batches, input_size), float(xs), int(rng.integers(-128, 128)))
    wf = const("wf", rng.integers(-127, 128, (nf, input_size)).astype(np.int8), float(wfs))
    wt = const("wt", rng.integers(-hi, hi + 1, (nf, memory)).astype(DTYPES[state_dtype]), float(wts))
    state = act("state", (batches, memory * nf), float(ss), state_zp, state_dtype)
    bias_scale = float(np.float32(np.float32(ss) * np.float32(wts)))
    b = const("b", rng.integers(-bias_range, bias_range + 1, units).astype(np.int32), bias_scale)
    y = act("y", (batches, units), float(ys), int(rng.integers(-128, 128)))
    activation = ["NONE", "RELU"][int(rng.integers(0, 2))]
    g = one_op_graph("SVDF", [x, wf, wt, b, state], [y], svdf.SvdfAttrs(rank, activation))
    g.inputs = ["x"]  # the state is a variable tensor, not an input
    return g


def state_tensors(graph: Graph) -> list[str]:
    return [n.inputs[4] for n in graph.nodes if n.op == "SVDF"]


def reset_states(graph: Graph) -> dict[str, np.ndarray]:
    out = {}
    for name in state_tensors(graph):
        t = graph.tensor(name)
        out[name] = np.full(t.shape, svdf.reset_value(t.dtype, t.quant.zp), np.int64)
    return out


def reference_step(graph: Graph, x: np.ndarray, states: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every tensor's value after one invoke; `states` is updated in place (streaming)."""
    values = {graph.inputs[0]: x}
    for node in graph.nodes:
        args = []
        for n in node.inputs:
            t = graph.tensor(n)
            args.append(t.data if t.is_const else states[n] if n in states else values[n])
        for n, a in zip(node.outputs, ops.get(node.op).reference(node, graph, args)):
            values[n] = np.asarray(a).astype(DTYPES[graph.tensor(n).dtype]).reshape(graph.tensor(n).shape)
    return values


def tflite_with_state(graph: Graph) -> bytes:
    """write_tflite, with every SVDF state flagged isVariable (TFLM's Prepare requires it; the writer can't know)."""
    model = schema.ModelT.InitFromPackedBuf(write_tflite(graph), 0)
    sg = model.subgraphs[0]
    for op in sg.operators:
        oc = model.operatorCodes[op.opcodeIndex]
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) == schema.BuiltinOperator.SVDF:
            sg.tensors[op.inputs[4]].isVariable = True
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def tflm_streams(model: bytes, sequences, n_out: int = 1):
    """A fresh interpreter per sequence (TFLM resets variable tensors at init), invoked once per step."""
    result = []
    for seq in sequences:
        interp = _interpreter(model, 1 << 20)
        steps = []
        for x in seq:
            interp.set_input(x, 0)
            interp.invoke()
            steps.append([np.array(interp.get_output(k)) for k in range(n_out)])
        result.append(steps)
    return result


RUNNER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "case.h"
static uint8_t arena[CASE_ARENA_BYTES] __attribute__((aligned(16)));
int main(int argc, char **argv)
{
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    int steps = atoi(argv[3]);
    (void)argc;
    for (;;) {
        /* reset: what a generated <name>_reset(arena) would do */
        %(reset)s
        for (int s = 0; s < steps; ++s) {
            if (fread(case_input(arena, 0), 1, CASE_INPUT0_BYTES, in) != CASE_INPUT0_BYTES) {
                fclose(out);
                return 0;
            }
            case_invoke(arena);
            fwrite(case_output(arena, 0), 1, CASE_OUTPUT0_BYTES, out);
        }
    }
}
"""


def c_streams(graph: Graph, sequences, outdir):
    """Generated C (host gcc, -Werror -pedantic, ASan+UBSan): the state reset before each sequence."""
    compiled = emit_c(graph, outdir, name="svdf_case")
    cname = compiled.name
    plan = compiled.summary.plan
    resets = []
    for name in state_tensors(graph):
        t = graph.tensor(name)
        off, value = plan.tensor_offset[name], svdf.reset_value(t.dtype, t.quant.zp)
        resets.append(
            f"{{ int64_t i; for (i = 0; i < {t.size}; ++i) (({DTYPES[t.dtype]().dtype.name}_t *)"
            f"(arena + {off}))[i] = {value}; }}"
        )
    src = RUNNER.replace("case", cname).replace("CASE", cname.upper()) % {"reset": "\n".join(resets)}
    (outdir / "runner.c").write_text(src)
    sources = [
        outdir / "runner.c",
        outdir / f"{cname}.c",
        outdir / f"{cname}_weights.c",
        *sorted((outdir / "runtime" / "kernels").glob("*.c")),
    ]
    exe = outdir / "runner"
    flags = [*CFLAGS, "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    subprocess.run(
        ["gcc", *flags, f"-I{outdir}", f"-I{outdir / 'runtime' / 'include'}", *map(str, sources), "-o", str(exe)],
        check=True,
    )
    steps = len(sequences[0])
    (outdir / "in.bin").write_bytes(b"".join(x.tobytes() for seq in sequences for x in seq))
    subprocess.run([str(exe), str(outdir / "in.bin"), str(outdir / "out.bin"), str(steps)], check=True)
    y = graph.tensor(graph.outputs[0])
    raw = np.frombuffer((outdir / "out.bin").read_bytes(), DTYPES[y.dtype]).reshape(len(sequences), steps, *y.shape)
    return raw


def assert_streams_bit_exact(graph: Graph, sequences, outdir):
    ref = []
    for seq in sequences:
        states = reset_states(graph)
        ref.append([reference_step(graph, x, states)[graph.outputs[0]] for x in seq])
    ref = np.array(ref)
    ours = c_streams(graph, sequences, outdir)
    theirs = np.array(
        [[s[0].reshape(ref.shape[2:]) for s in seq] for seq in tflm_streams(tflite_with_state(graph), sequences)]
    )
    np.testing.assert_array_equal(ref, theirs, err_msg="reference != TFLM")
    np.testing.assert_array_equal(ref, ours, err_msg="reference != C")
    return ref


def sequences_for(graph: Graph, rng, count=2, steps=6):
    shape = graph.tensor("x").shape
    return [[rng.integers(-128, 128, shape).astype(np.int8) for _ in range(steps)] for _ in range(count)]


@pytest.mark.parametrize("seed", range(8))
def test_svdf_random_streams(seed, tmp_path, svdf_on):
    rng = np.random.default_rng(seed)
    g = svdf_case(
        rng,
        batches=int(rng.integers(1, 4)),
        input_size=int(rng.integers(1, 80)),
        units=int(rng.integers(1, 12)),
        rank=int(rng.integers(1, 4)),
        memory=int(rng.integers(1, 12)),
        state_dtype=["int8", "int16"][seed % 2],
    )
    ref = assert_streams_bit_exact(g, sequences_for(g, rng), tmp_path / "out")
    assert len({r.tobytes() for r in ref.reshape(-1, *ref.shape[2:])}) > 1  # the outputs move


def test_svdf_state_wraps_and_extreme_scales(tmp_path, svdf_on):
    """State zero points at the int8 limits (the clamp-then-add-zero-point wrap TFLM's wheel has), a
    left-shifting multiplier, a tiny one, and biases near the int32 limits (wrapping int32 sums)."""
    rng = np.random.default_rng(42)
    cases = [
        svdf_case(rng, 1, 32, 8, 1, 5, "int8", state_zp=127, scales=(0.2, 0.05, 0.05, 0.01, 0.3)),
        svdf_case(rng, 2, 16, 4, 2, 3, "int8", state_zp=-128, scales=(0.2, 0.05, 0.05, 0.01, 0.3)),
        svdf_case(rng, 1, 24, 6, 1, 4, "int8", scales=(0.5, 0.05, 0.04, 0.005, 0.001)),  # multiplier 2 > 1
        svdf_case(rng, 1, 24, 6, 1, 4, "int8", scales=(1e-4, 1e-4, 1e-3, 0.4, 5.0)),  # tiny multipliers
        svdf_case(rng, 1, 20, 5, 2, 6, "int16", bias_range=2**31 - 1),
        svdf_case(rng, 1, 40, 5, 1, 9, "int16", scales=(0.2, 0.05, 0.05, 1e-5, 0.3)),  # int16 state saturates
    ]
    wrapped = 0
    for k, g in enumerate(cases):
        seqs = sequences_for(g, rng, count=1, steps=5)
        assert_streams_bit_exact(g, seqs, tmp_path / f"out{k}")
        p = svdf.prepare(g.nodes[0], g)
        if g.tensor("state").dtype == "int8":
            dots = (seqs[0][0].astype(np.int64) + p.input_offset) @ g.tensor("wf").data.astype(np.int64).T
            from microforge.quant import multiply_by_quantized_multiplier as mbqm

            v = np.clip(mbqm(dots, p.multiplier_1, p.shift_1), -128, 127) + p.state_zero_point
            wrapped += int(np.sum((v < -128) | (v > 127)))
    assert wrapped > 0  # the wrap path is exercised (and TFLM agreed above)


def test_svdf_multiplier_uses_float32_products(svdf_on):
    """effective_scale_1/2 = float32(a * b) / c, widened to double (TFLM's PrepareSvdf)."""
    s1, s2 = svdf.effective_scales(0.059208333, 0.0091712065, 0.8073114, 0.014938734, 0.23618338)
    f = np.float32
    assert s1 == float(f(f(0.059208333) * f(0.0091712065)) / f(0.8073114))
    assert s2 == float(f(f(0.8073114) * f(0.014938734)) / f(0.23618338))


def test_svdf_check_rejects(svdf_on, monkeypatch):
    rng = np.random.default_rng(7)
    op = svdf.Svdf()

    def reasons(g):
        return " ".join(op.check(g.nodes[0], g))

    g = svdf_case(rng, 1, 8, 4, 1, 3, "int8")
    assert reasons(g) == ""
    monkeypatch.setattr(svdf, "STATE_PERSISTENCE_READY", False)
    assert "persist across invokes" in reasons(g)
    monkeypatch.setattr(svdf, "STATE_PERSISTENCE_READY", True)

    g2 = copy.deepcopy(g)
    g2.tensor("b").quant.scale[:] = g2.tensor("b").quant.s * 2
    assert "bias scale" in reasons(g2)
    g3 = copy.deepcopy(g)
    g3.nodes[0].inputs[3] = None
    assert "needs 5 inputs" in reasons(g3)
    g4 = copy.deepcopy(g)
    g4.nodes[0].attrs.rank = 3  # 4 filters
    assert "rank 3 does not divide" in reasons(g4)
    g5 = copy.deepcopy(g)
    g5.inputs.append("state")
    assert "variable tensor" in reasons(g5)
    g6 = copy.deepcopy(g)
    g6.tensor("wt").data = g6.tensor("wt").data.astype(np.int16)
    g6.tensor("wt").dtype = "int16"
    assert "must have one type" in reasons(g6)
    g7 = copy.deepcopy(g)
    g7.tensor("y").dtype = "int16"
    assert "expected int8" in reasons(g7)


def test_svdf_registered_only_when_state_persists():
    """Without planner/backend support the model still fails import with the SVDF nodes named."""
    if svdf.STATE_PERSISTENCE_READY:
        assert isinstance(ops.get("SVDF"), svdf.Svdf)
        load_model(KEYWORD)
    else:
        assert "SVDF" not in ops.REGISTRY
        with pytest.raises(UnsupportedModelError, match="SVDF x7"):
            load_model(KEYWORD)


def test_keyword_model_reference_matches_golden_and_tflm(svdf_on):
    """keyword_scrambled_8bit: golden x0 -> y0; 20 random int16 inputs on fresh interpreters; and one
    20-step stream with EVERY intermediate tensor compared. Weak evidence on its own: the scrambled int32
    biases (up to ~2e9) saturate every SVDF output of this model, so the final softmax is [0, 32767] for
    any input; the one-op streams above are what pin the arithmetic down."""
    g = load_model(KEYWORD)
    problems = {n.name: ops.get(n.op).check(n, g) for n in g.nodes}
    assert not any(problems.values()), problems

    golden = np.load(SHARED / "golden" / "keyword_scrambled_8bit.npz")
    y0 = reference_step(g, golden["x0"], reset_states(g))[g.outputs[0]]
    np.testing.assert_array_equal(y0, golden["y0"])

    rng = np.random.default_rng(0)
    xs = [rng.integers(-32768, 32768, (1, 96)).astype(np.int16) for _ in range(20)]
    buf = KEYWORD.read_bytes()
    fresh = tflm_streams(buf, [[x] for x in xs])
    for x, theirs in zip(xs, fresh):
        np.testing.assert_array_equal(reference_step(g, x, reset_states(g))[g.outputs[0]], theirs[0][0])

    every = copy.copy(g)
    every.outputs = [n.outputs[0] for n in g.nodes]
    small = [rng.integers(-3000, 3001, (1, 96)).astype(np.int16) for _ in range(20)]
    theirs = tflm_streams(tflite_with_state(every), [small], n_out=len(every.outputs))[0]
    states = reset_states(g)
    for step, x in enumerate(small):
        values = reference_step(g, x, states)
        for k, name in enumerate(every.outputs):
            np.testing.assert_array_equal(
                values[name], theirs[step][k].reshape(values[name].shape), err_msg=f"step {step} {name}"
            )
    # the states moved away from their reset values (the stream carried them through 20 invokes)
    assert all(not np.array_equal(states[n], reset_states(g)[n]) for n in states)
