"""What post-training quantization must respect per op (the constraints TFLM's int8 kernels impose).

Output kinds:
- REQUANT: the kernel rescales into any output scale (conv, FC, ADD, MUL, MEAN, and the standalone RELU,
  RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH, PRELU): the output keeps its calibrated range;
- SAME: the kernel copies or compares int8 values (pools, PAD, views, and RELU6: TFLM's int8 RELU6 clamps in
  the input's quantization without rescaling): output quantization = input 0's;
- FIXED: the fixed-point algorithm produces one output quantization (SOFTMAX, LOGISTIC, TANH);
- CONCAT: TFLM copies bytes, so every input must carry the output's quantization.

Constant float inputs: conv/depthwise weights are symmetric per output channel (axis 0 / 3), FC weights
symmetric per tensor (TFLM's int8 FC takes one filter scale), biases int32 at input_scale x weight_scale.
"""

from __future__ import annotations

import numpy as np

REQUANT, SAME, FIXED, CONCAT = "requant", "same", "fixed", "concat"

OUTPUT_KIND: dict[str, str] = {
    "CONV_2D": REQUANT,
    "DEPTHWISE_CONV_2D": REQUANT,
    "FULLY_CONNECTED": REQUANT,
    "ADD": REQUANT,
    "MUL": REQUANT,
    "MEAN": REQUANT,
    "RELU": REQUANT,
    "RELU_N1_TO_1": REQUANT,
    "LEAKY_RELU": REQUANT,
    "HARD_SWISH": REQUANT,
    "PRELU": REQUANT,  # its constant alpha input: asymmetric int8 per tensor (TFLM reads one alpha scale)
    "AVERAGE_POOL_2D": SAME,
    "MAX_POOL_2D": SAME,
    "PAD": SAME,
    "PADV2": SAME,
    "RESHAPE": SAME,
    "SQUEEZE": SAME,
    "EXPAND_DIMS": SAME,
    "TRANSPOSE": SAME,
    "RELU6": SAME,
    "SOFTMAX": FIXED,
    "LOGISTIC": FIXED,
    "TANH": FIXED,
    "CONCATENATION": CONCAT,
}

# (scale, zero point) the int8 kernel produces (TFLM's Prepare checks or assumes them).
FIXED_OUTPUT: dict[str, tuple[float, int]] = {
    "SOFTMAX": (1.0 / 256, -128),
    "LOGISTIC": (1.0 / 256, -128),
    "TANH": (1.0 / 128, 0),
}

# op -> (weight input index, per-channel axis or None for per tensor, bias input index)
WEIGHTED: dict[str, tuple[int, int | None, int]] = {
    "CONV_2D": (1, 0, 2),
    "DEPTHWISE_CONV_2D": (1, 3, 2),
    "FULLY_CONNECTED": (1, None, 2),
}

INT32_MAX = 2**31 - 1


def round_half_away(x: np.ndarray) -> np.ndarray:
    """TfLiteRound / std::round: half away from zero."""
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def weight_scales(w: np.ndarray, axis: int | None, input_scale: float, bias: np.ndarray | None) -> np.ndarray:
    """Symmetric int8 scales: max|w| / 127 per channel along `axis` (one scale when axis is None).

    As TFLite's converter (AdjustWeightsForBiasScale), a scale is raised when the bias would not fit in
    the middle half of int32 at input_scale x weight_scale. An all-zero channel gets scale 1 (its
    values quantize to 0 whatever the scale; 1 keeps its multiplier finite).
    """
    w = np.asarray(w, dtype=np.float32)
    if axis is None:
        half = np.array([np.abs(w).max(initial=0.0)], np.float32)
        b_half = np.array([np.abs(bias).max(initial=0.0)], np.float32) if bias is not None else None
    else:
        half = np.abs(np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)).max(axis=1).astype(np.float32)
        b_half = np.abs(np.asarray(bias, np.float32).reshape(-1)) if bias is not None else None
    scales = (half / np.float32(127.0)).astype(np.float32)
    if b_half is not None:
        needed = (2.0 * b_half.astype(np.float64) / INT32_MAX / float(np.float32(input_scale))).astype(np.float32)
        scales = np.maximum(scales, needed * np.float32(1.0001))
    scales[scales == 0] = 1.0
    return scales


def quantize_weights(w: np.ndarray, scales: np.ndarray, axis: int | None) -> np.ndarray:
    """int8 values in [-127, 127] (symmetric: -128 unused, as the TFLite spec requires)."""
    w = np.asarray(w, dtype=np.float64)
    s = scales.astype(np.float64)
    if axis is not None:
        shape = [1] * w.ndim
        shape[axis] = -1
        s = s.reshape(shape)
    return np.clip(round_half_away(w / s), -127, 127).astype(np.int8)


def quantize_bias(b: np.ndarray, input_scale: float, scales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int32 values, float32 bias scales) with bias scale = input_scale x weight_scale (per channel)."""
    bias_scales = (np.float32(input_scale) * scales.astype(np.float32)).astype(np.float32)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    q = round_half_away(b / np.broadcast_to(bias_scales.astype(np.float64), b.shape))
    return np.clip(q, -INT32_MAX, INT32_MAX).astype(np.int32), bias_scales


def quantize_per_tensor(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Asymmetric int8 values of a constant (an ADD/MUL operand, a PADV2 value)."""
    q = round_half_away(np.asarray(x, dtype=np.float64) / float(np.float32(scale))) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)
