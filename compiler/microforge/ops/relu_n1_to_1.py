"""RELU_N1_TO_1 (standalone clamp to [-1, 1]): int8 with requantization, or float32.

TFLM has no RELU_N1_TO_1 kernel (its op resolver lacks it), so TFLM cannot run a .tflite holding one. The int8
numbers follow TensorFlow Lite's own kernel (LiteRT's Relu1Eval: QuantizedReluX(-1, 1) with the multiplier
from ReluPrepare), which is TFLM's RELU algorithm with the clamp range of the fused RELU_N1_TO_1 activation;
the tests check it bit for bit against LiteRT's reference kernels instead of TFLM.
"""

from __future__ import annotations

from .base import register
from .relu import ReluFamily


@register
class ReluN1To1(ReluFamily):
    op = "RELU_N1_TO_1"
    tflite_ops = ("RELU_N1_TO_1",)
    activation = "RELU_N1_TO_1"
    int8_version = 1
