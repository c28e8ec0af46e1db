"""The PyTorch zoo (MobileNetV1-0.25, DS-CNN, ResNet-8, autoencoder), seeded random weights:
from_torch -> our PTQ -> generated C == TFLM running our emitted .tflite, bit for bit; the float C path
within 1e-5 of onnxruntime; and our int8 quantization no worse than onnxruntime's quantize_static."""


import numpy as np
import onnxruntime as ort
import pytest
import torch

import microforge as mf
from microforge.backends.tflite import write_tflite
from microforge.importers.torch import export_onnx_bytes
from microforge.reference import run_reference
from microforge.validate.host import run_host
from microforge.validate.ort_quant import ort_quantized_outputs, sqnr_db
from microforge.validate.tflm import run_tflm

import zoo

CALIBRATION = 32
HELD_OUT = 16


def quantize_input(graph, x: torch.Tensor) -> np.ndarray:
    xi = mf.to_ir_layout(graph, [x])[0]
    q = graph.tensor(graph.inputs[0]).quant
    return np.clip(np.round(xi / q.s) + q.zp, -128, 127).astype(np.int8)


@pytest.fixture(scope="module", params=sorted(zoo.ZOO))
def zoo_model(request, tmp_path_factory):
    name = request.param
    model, shape = zoo.build(name)
    cal = zoo.calibration(shape, CALIBRATION, seed=1)
    float_graph = mf.from_torch(model, cal[0], name=name)
    int8_graph = mf.quantize(float_graph, cal)
    out = tmp_path_factory.mktemp(name)
    mf.compile(int8_graph, out / "int8")
    mf.compile(float_graph, out / "float")
    return name, model, shape, float_graph, int8_graph, out


def test_generated_c_equals_tflm_on_our_tflite(zoo_model):
    name, model, shape, _, g, out = zoo_model
    samples = [[quantize_input(g, x)] for x in zoo.calibration(shape, 10, seed=3)]
    ours, _ = run_host(out / "int8", samples)
    theirs = run_tflm(write_tflite(g), samples)
    differ = [k for k, (a, b) in enumerate(zip(ours, theirs)) if not np.array_equal(a[0], b[0].reshape(a[0].shape))]
    assert differ == [], f"{name}: {len(differ)}/10 samples differ from TFLM"
    # and the integer reference agrees with both
    assert np.array_equal(run_reference(g, samples[0])[0], ours[0][0])


def test_float_c_within_1e5_of_onnxruntime(zoo_model):
    name, model, shape, fg, _, out = zoo_model
    x = zoo.calibration(shape, 2, seed=4)
    sess = ort.InferenceSession(export_onnx_bytes(model, x[0]))
    iname = sess.get_inputs()[0].name
    ours, _ = run_host(out / "float", [mf.to_ir_layout(fg, [xi]) for xi in x])
    for xi, o in zip(x, ours):
        ref = sess.run(None, {iname: xi.numpy()})[0]
        rel = np.max(np.abs(o[0].reshape(ref.shape) - ref)) / np.max(np.abs(ref))
        assert rel < 1e-5, (name, rel)


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_int8_sqnr_not_worse_than_onnxruntime(name):
    """Logits (a classifier's softmax output is fixed at 1/256 steps by TFLM, which would hide the quantizer)."""
    model, shape = zoo.build(name, logits=True)
    cal = zoo.calibration(shape, CALIBRATION, seed=1)
    held = zoo.calibration(shape, HELD_OUT, seed=7)
    g = mf.from_torch(model, cal[0], calibration=cal, name=name)
    out_q = g.tensor(g.outputs[0]).quant
    with torch.no_grad():
        ref = np.concatenate([model(x).numpy().ravel() for x in held])
    ours = np.concatenate(
        [((run_reference(g, [quantize_input(g, x)])[0].astype(np.float32) - out_q.zp) * out_q.s).ravel() for x in held]
    )

    theirs = np.concatenate(
        [y.ravel() for y in ort_quantized_outputs(export_onnx_bytes(model, cal[0]), [c.numpy() for c in cal], [x.numpy() for x in held])]
    )
    ours_db, ort_db = sqnr_db(ref, ours), sqnr_db(ref, theirs)
    print(f"{name}: ours {ours_db:.2f} dB, onnxruntime quantize_static {ort_db:.2f} dB")
    assert ours_db > 30 and ours_db >= ort_db, (ours_db, ort_db)
