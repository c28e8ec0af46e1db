"""UNIDIRECTIONAL_SEQUENCE_LSTM (int8, int16 cell): integer reference == generated C == TFLM, bit for bit.

The one-op models are built directly as flatbuffers (state tensors `isVariable`, as the converter writes
them) and imported like any .tflite; one test also round-trips through our TFLite writer. The LSTM state
persists across invokes (streaming), so every comparison runs the samples as one stream: one TFLM
interpreter, one reference state, one generated-C arena reset once.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
import pytest

from microforge.backends.c.emit import emit_c
from microforge.errors import UnsupportedModelError
from microforge.importers.schema import schema
from microforge.importers.tflite import _parse, import_tflite_bytes
from microforge.reference import run_reference
from microforge.validate.host import run_host
from microforge.validate.tflm import run_tflm

from support import SHARED, assert_bit_exact

LSTM_MODEL = SHARED / "tflite" / "trained_lstm_int8.tflite"
GOLDEN = SHARED / "golden" / "trained_lstm_int8.npz"
TANH, RELU = 4, 1


def _tensor(model, name, data_or_shape, ttype, scale=None, zp=0, variable=False) -> int:
    t = schema.TensorT()
    t.name = name.encode()
    t.type = ttype
    t.isVariable = variable
    if isinstance(data_or_shape, np.ndarray):
        t.shape = np.asarray(data_or_shape.shape, np.int32)
        b = schema.BufferT()
        b.data = np.frombuffer(np.ascontiguousarray(data_or_shape).tobytes(), np.uint8)
        model.buffers.append(b)
        t.buffer = len(model.buffers) - 1
    else:
        t.shape = np.asarray(data_or_shape, np.int32)
        t.buffer = 0
    if scale is not None:
        q = schema.QuantizationParametersT()
        q.scale, q.zeroPoint = [float(scale)], [int(zp)]
        t.quantization = q
    model.subgraphs[0].tensors.append(t)
    return len(model.subgraphs[0].tensors) - 1


def lstm_model(rng, b, t, i, s, *, time_major=False, activation=TANH, cell_power=-12, cell_clip=0.0, extra=()):
    """A one-op int8 LSTM .tflite with random weights; `extra` adds (input index, tensor) for unsupported inputs."""
    model = schema.ModelT()
    model.version = 3
    model.buffers = [schema.BufferT()]
    sg = schema.SubGraphT()
    sg.tensors = []
    model.subgraphs = [sg]
    oc = schema.OperatorCodeT()
    oc.builtinCode = oc.deprecatedBuiltinCode = schema.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM
    model.operatorCodes = [oc]
    int8, int16, int32 = schema.TensorType.INT8, schema.TensorType.INT16, schema.TensorType.INT32

    x_scale, x_zp = float(2 ** rng.uniform(-9, -3)), int(rng.integers(-128, 128))
    h_scale, h_zp = float(2 ** rng.uniform(-8, -5)), int(rng.integers(-30, 31))
    inputs = [-1] * 24
    shape = (t, b, i) if time_major else (b, t, i)
    inputs[0] = _tensor(model, "x", shape, int8, x_scale, x_zp)
    for k in range(1, 9):
        cols = i if k < 5 else s
        # weight scales chosen so gate pre-activations span the Q3.12 range, sometimes saturating
        w_scale = float(2 ** rng.uniform(-1, 3)) / (127 * np.sqrt(cols) * (x_scale if k < 5 else h_scale) * 64)
        w = rng.integers(-127, 128, (s, cols)).astype(np.int8)
        inputs[k] = _tensor(model, f"w{k}", w, int8, w_scale, 0)
    for k in range(12, 16):
        bias_scale = x_scale * float(sg.tensors[inputs[k - 11]].quantization.scale[0])
        bias = (rng.normal(0, 2.0, s) / bias_scale).clip(-(2**30), 2**30).astype(np.int32)
        inputs[k] = _tensor(model, f"b{k}", bias, int32, bias_scale, 0)
    inputs[18] = _tensor(model, "h", (b, s), int8, h_scale, h_zp, variable=True)
    inputs[19] = _tensor(model, "c", (b, s), int16, 2.0**cell_power, 0, variable=True)
    for k, tensor in extra:
        inputs[k] = tensor(model)
    out = _tensor(model, "y", (t, b, s) if time_major else (b, t, s), int8, h_scale, h_zp)
    op = schema.OperatorT()
    op.opcodeIndex = 0
    op.inputs, op.outputs = inputs, [out]
    op.builtinOptionsType = schema.BuiltinOptions.UnidirectionalSequenceLSTMOptions
    opts = schema.UnidirectionalSequenceLSTMOptionsT()
    opts.fusedActivationFunction, opts.cellClip, opts.timeMajor = activation, float(cell_clip), time_major
    op.builtinOptions = opts
    sg.operators = [op]
    sg.inputs, sg.outputs = [inputs[0]], [out]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def lstm_only(path) -> bytes:
    """The shared model cut after its LSTM: the LSTM output itself is compared, before softmax saturates it."""
    model = _parse(path.read_bytes(), str(path))
    sg = model.subgraphs[0]
    lstm = sg.operators[0]
    assert model.operatorCodes[lstm.opcodeIndex].builtinCode == schema.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM
    sg.operators, sg.outputs = [lstm], [int(lstm.outputs[0])]
    model.signatureDefs = None
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def check_bit_exact(tflite: bytes, samples, outdir) -> list[np.ndarray]:
    """Reference == C == TFLM for every sample of one stream; returns the C outputs."""
    graph = import_tflite_bytes(tflite, "lstm")
    emit_c(graph, outdir)
    ours, _ = run_host(outdir, samples)
    tflm = run_tflm(tflite, samples)
    state: dict = {}
    for k, sample in enumerate(samples):
        ref = run_reference(graph, sample, state=state)[0]
        theirs = tflm[k][0].reshape(ref.shape)
        c = ours[k][0].reshape(ref.shape)
        assert np.array_equal(ref, c), f"sample {k}: reference != C at {np.flatnonzero(ref != c)[:8]}"
        assert np.array_equal(ref, theirs), f"sample {k}: reference != TFLM at {np.flatnonzero(ref != theirs)[:8]}"
    return [o[0] for o in ours]


def int8_samples(rng, shape, count):
    return [[rng.integers(-128, 128, shape, dtype=np.int8)] for _ in range(count)]


def test_shared_model_golden_and_random_inputs(tmp_path):
    """The whole shared model: the golden output, then 20 random inputs streamed vs TFLM and the reference."""
    golden = np.load(GOLDEN)
    rng = np.random.default_rng(1234)
    samples = [[golden["x0"]]] + int8_samples(rng, golden["x0"].shape, 20)
    tflite = LSTM_MODEL.read_bytes()
    graph = import_tflite_bytes(tflite, "trained_lstm")
    emit_c(graph, tmp_path / "out")
    ours, _ = run_host(tmp_path / "out", samples)
    assert np.array_equal(ours[0][0].reshape(-1), golden["y0"].reshape(-1))
    theirs, state = run_tflm(tflite, samples), {}
    for k, sample in enumerate(samples):
        assert np.array_equal(ours[k][0].reshape(-1), theirs[k][0].reshape(-1)), k
        assert np.array_equal(ours[k][0].reshape(-1), run_reference(graph, sample, state=state)[0].reshape(-1)), k


def test_shared_model_lstm_output(tmp_path):
    """The shared model's LSTM layer alone ([1, 28, 20] outputs), 20 random inputs plus the golden input."""
    rng = np.random.default_rng(7)
    samples = [[np.load(GOLDEN)["x0"]]] + int8_samples(rng, (1, 28, 28), 20)
    outs = check_bit_exact(lstm_only(LSTM_MODEL), samples, tmp_path / "out")
    assert len({o.tobytes() for o in outs}) == len(outs)  # the outputs carry information


@pytest.mark.parametrize("seed", range(8))
def test_random_lstm(seed, tmp_path):
    rng = np.random.default_rng(100 + seed)
    b, t, i, s = (int(v) for v in (rng.integers(1, 4), rng.integers(1, 7), rng.integers(1, 13), rng.integers(1, 13)))
    time_major = bool(seed % 2)
    cell_power = [-15, -14, -13, -12, -11, -10, -9, -13][seed]  # cell tanh input shift < 0, == 0 and > 0
    cell_clip = [0.3, 0.0, 0.5, 0.0, 1.5, 10.0, 2.0, 0.0][seed]  # in cell units: most of these clip
    tflite = lstm_model(rng, b, t, i, s, time_major=time_major, cell_power=cell_power, cell_clip=cell_clip)
    check_bit_exact(tflite, int8_samples(rng, (t, b, i) if time_major else (b, t, i), 6), tmp_path / "out")


def test_state_streams_across_invokes(tmp_path):
    """The same sequence twice: the second invoke starts from the first one's state, in TFLM and in our C."""
    rng = np.random.default_rng(5)
    tflite = lstm_model(rng, 2, 5, 4, 6)
    x = rng.integers(-128, 128, (2, 5, 4), dtype=np.int8)
    outs = check_bit_exact(tflite, [[x], [x], [x]], tmp_path / "out")
    assert not np.array_equal(outs[0], outs[1])
    fresh = run_tflm(tflite, [[x]])[0][0]  # a new interpreter: reset state
    assert np.array_equal(outs[0].reshape(-1), fresh.reshape(-1))


def test_writer_round_trip(tmp_path):
    """The imported graph written back by our TFLite writer (state tensors isVariable) runs the same in TFLM."""
    rng = np.random.default_rng(9)
    graph = import_tflite_bytes(lstm_model(rng, 2, 3, 5, 4, time_major=True, cell_clip=0.5, cell_power=-13), "rt")
    assert_bit_exact(graph, int8_samples(rng, (3, 2, 5), 4), tmp_path / "out")


def _peephole(model):
    return _tensor(model, "peep", np.ones(3, np.int16), schema.TensorType.INT16, 1.0, 0)


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        (dict(activation=RELU), "cell gate activation"),
        (dict(cell_power=-40), "cell state scale"),
        (dict(extra=[(10, _peephole)]), "peephole"),
    ],
)
def test_unsupported_variants_are_rejected(kwargs, reason, tmp_path):
    tflite = lstm_model(np.random.default_rng(0), 1, 2, 3, 3, **kwargs)
    with pytest.raises(UnsupportedModelError, match=reason):
        emit_c(import_tflite_bytes(tflite, "bad"), tmp_path / "out")


def test_non_power_of_two_cell_scale_is_rejected(tmp_path):
    model = _parse(lstm_model(np.random.default_rng(0), 1, 2, 3, 3), "m")
    model.subgraphs[0].tensors[model.subgraphs[0].operators[0].inputs[19]].quantization.scale = [0.0003]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    with pytest.raises(UnsupportedModelError, match="cell state scale"):
        emit_c(import_tflite_bytes(bytes(builder.Output()), "bad"), tmp_path / "out")
