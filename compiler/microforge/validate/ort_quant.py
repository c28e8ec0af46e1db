"""onnxruntime's own post-training quantization, as the yardstick for ours (SQNR side by side)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

import numpy as np


def sqnr_db(reference: np.ndarray, test: np.ndarray) -> float:
    """10 log10(signal power / noise power) over all values."""
    ref, test = np.asarray(reference, np.float64).ravel(), np.asarray(test, np.float64).ravel()
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum((ref - test) ** 2), 1e-30)))


def ort_quantized_outputs(onnx_model: bytes, calibration: Sequence[np.ndarray], inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """First output of the model quantized by onnxruntime.quantization.quantize_static (after its quant_pre_process;
    QDQ, int8, per-channel weights, MinMax), calibrated on `calibration`, run on `inputs` (one input, ONNX layout)."""
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        raw, fp, qp = (os.path.join(tmp, n) for n in ("raw.onnx", "float.onnx", "qdq.onnx"))
        with open(raw, "wb") as f:
            f.write(onnx_model)
        # onnxruntime's recommended pre-processing (its symbolic shape pass needs sympy; shapes are static here)
        quant_pre_process(raw, fp, skip_symbolic_shape=True)
        name = ort.InferenceSession(fp).get_inputs()[0].name

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.it = iter([{name: np.asarray(c, np.float32)} for c in calibration])

            def get_next(self):
                return next(self.it, None)

        quantize_static(fp, qp, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)  # fmt: skip
        sess = ort.InferenceSession(qp)
        return [sess.run(None, {name: np.asarray(x, np.float32)})[0] for x in inputs]
