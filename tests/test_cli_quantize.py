"""compile/inspect --quantize int8 --calibration: a float ONNX model to int8 C, and clear errors for bad data."""

import json

import numpy as np

from microforge.cli import main

from support import SHARED

HELLO_FLOAT = SHARED / "onnx" / "hello_world_float.onnx"


def _calib(path, array):
    np.savez(path, x=array)
    return str(path)


def test_quantize_float_onnx_and_run(tmp_path, capsys):
    calib = _calib(tmp_path / "calib.npz", np.linspace(0, 2 * np.pi, 64, dtype=np.float32).reshape(64, 1))
    out = tmp_path / "out"
    assert main(["compile", str(HELLO_FLOAT), "-o", str(out), "--quantize", "int8", "--calibration", calib]) == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert [la["op"] for la in meta["layers"]] == ["FULLY_CONNECTED"] * 3
    assert meta["inputs"][0]["dtype"] == "int8" and meta["inputs"][0]["scale"] > 0
    # sin(pi/2) = 1: quantize the input with the header's parameters, run, dequantize the output
    q_in, q_out = meta["inputs"][0], meta["outputs"][0]
    x = np.array([[round(np.pi / 2 / q_in["scale"]) + q_in["zero_point"]]], np.int8)
    np.save(tmp_path / "x.npy", x)
    assert main(["run", str(out), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")]) == 0
    y = (np.load(tmp_path / "y.npy").astype(np.float32) - q_out["zero_point"]) * q_out["scale"]
    assert abs(float(y.ravel()[0]) - 1.0) < 0.15  # the float model itself approximates sin to about 0.1


def test_inspect_prints_per_layer_sqnr(tmp_path, capsys):
    calib = _calib(tmp_path / "calib.npz", np.linspace(0, 2 * np.pi, 32, dtype=np.float32).reshape(32, 1))
    assert main(["inspect", str(HELLO_FLOAT), "--quantize", "int8", "--calibration", calib]) == 0
    out = capsys.readouterr().out
    assert "SQNR dB" in out and "end-to-end SQNR:" in out
    assert float(out.split("end-to-end SQNR: ")[1].split(" dB")[0]) > 20


def test_quantize_needs_calibration(tmp_path, capsys):
    assert main(["compile", str(HELLO_FLOAT), "-o", str(tmp_path / "o"), "--quantize", "int8"]) == 1
    assert "needs --calibration" in capsys.readouterr().err


def test_calibration_of_wrong_dtype_or_shape(tmp_path, capsys):
    bad = _calib(tmp_path / "int.npz", np.zeros((8, 1), np.int32))
    assert main(["compile", str(HELLO_FLOAT), "-o", str(tmp_path / "o"), "--quantize", "int8", "--calibration", bad]) == 1
    assert "is int32; expected float32 samples of shape [N, 1]" in capsys.readouterr().err
    bad = _calib(tmp_path / "shape.npz", np.zeros((8, 3), np.float32))
    assert main(["compile", str(HELLO_FLOAT), "-o", str(tmp_path / "o"), "--quantize", "int8", "--calibration", bad]) == 1
    assert "got shape [1, 3], expected [1, 1]" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
