"""scikit-learn digits, end to end: train a small CNN with PyTorch, quantize it with microforge's PTQ,
compile it both ways (generated C, and a .tflite for TensorFlow Lite Micro), and compare on the held-out split.

    .venv/bin/python examples/digits/run.py [--out out/digits]

Prints float accuracy (PyTorch), int8 accuracy of our generated C (host gcc), int8 accuracy of TFLM
running our .tflite, whether C and TFLM agree on every sample, and the SQNR of our int8 logits next to
onnxruntime's quantize_static on the same calibration data. Exits non-zero if C and TFLM disagree anywhere or
the int8 accuracy drops more than 1 point.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))

from model import accuracy, train  # noqa: E402

import microforge as mf  # noqa: E402
from microforge.validate.host import run_host  # noqa: E402
from microforge.validate.tflm import run_tflm  # noqa: E402


def quantize_inputs(graph, x: np.ndarray) -> list[list[np.ndarray]]:
    q = graph.tensor(graph.inputs[0]).quant
    samples = []
    for xi in x:
        nhwc = mf.to_ir_layout(graph, [xi[None]])[0]
        samples.append([np.clip(np.round(nhwc / q.s) + q.zp, -128, 127).astype(np.int8)])
    return samples


def _quantization_quality(model, graph, calibration, x_test, ours_logits) -> None:
    """SQNR of the int8 logits vs the float logits: ours next to onnxruntime's quantize_static."""
    from microforge.importers.torch import export_onnx_bytes
    from microforge.validate.ort_quant import ort_quantized_outputs, sqnr_db

    q = graph.tensor(graph.outputs[0]).quant
    ours = (ours_logits.astype(np.float32) - q.zp) * q.s
    with torch.no_grad():
        ref = model(torch.from_numpy(x_test)).numpy()
    ort = np.stack(ort_quantized_outputs(export_onnx_bytes(model, calibration[:1]), [c[None] for c in calibration.numpy()],
                                         [x[None] for x in x_test])).reshape(ref.shape)  # fmt: skip
    print(f"SQNR int8 vs float logits: ours {sqnr_db(ref, ours):.2f} dB, onnxruntime quantize_static {sqnr_db(ref, ort):.2f} dB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/digits")
    ap.add_argument("--epochs", type=int, default=40)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)

    t0 = time.perf_counter()
    model, (x_train, x_test, y_train, y_test) = train(args.epochs)
    with torch.no_grad():
        float_acc = accuracy(model(torch.from_numpy(x_test)).numpy(), y_test)
    print(f"trained in {time.perf_counter() - t0:.1f} s; float accuracy (PyTorch) {100 * float_acc:.2f}% on {len(y_test)} held-out images")

    calibration = torch.from_numpy(x_train[:200])
    graph = mf.from_torch(model, calibration[:1], calibration=calibration, name="digits")
    out = Path(args.out)
    compiled = mf.compile(graph, out, emit="both")
    print(f"compiled: arena {compiled.summary.plan.arena_bytes:,} B, weights {compiled.summary.weights_bytes:,} B, "
          f"{compiled.summary.macs:,} MACs; .tflite in {out / 'tflite'}")  # fmt: skip

    samples = quantize_inputs(graph, x_test)
    ours, _ = run_host(out, samples)
    theirs = run_tflm((out / "tflite" / "digits.tflite").read_bytes(), samples)
    ours_logits = np.stack([o[0].ravel() for o in ours])
    tflm_logits = np.stack([t[0].ravel() for t in theirs])
    agree = int(np.sum(np.all(ours_logits == tflm_logits, axis=1)))
    c_acc = accuracy(ours_logits, y_test)
    tflm_acc = accuracy(tflm_logits, y_test)
    print(f"int8 accuracy, our generated C        : {100 * c_acc:.2f}%")
    print(f"int8 accuracy, TFLM on our .tflite    : {100 * tflm_acc:.2f}%")
    print(f"C and TFLM bit-exact on {agree}/{len(samples)} held-out samples")
    print(f"accuracy drop float -> int8: {100 * (float_acc - c_acc):.2f} points")
    _quantization_quality(model, graph, calibration, x_test, ours_logits)
    ok = agree == len(samples) and float_acc - c_acc <= 0.01
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
