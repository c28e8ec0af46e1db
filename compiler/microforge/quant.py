"""Integer fixed-point arithmetic exactly as TensorFlow Lite Micro's reference kernels do it.

Every function works elementwise on numpy int64 arrays (or Python ints) and reproduces the
int32 C semantics of tflite::MultiplyByQuantizedMultiplier and friends (double rounding:
a rounding doubling high multiply, then a rounding right shift).
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

QRANGE: dict[str, tuple[int, int]] = {
    "int8": (-128, 127),
    "uint8": (0, 255),
    "int16": (-32768, 32767),
    "int32": (INT32_MIN, INT32_MAX),
}


def tflite_round(x: float) -> int:
    """Round half away from zero (std::round / TfLiteRound), not Python's banker's rounding."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """Real multiplier -> (Q31 significand, power-of-two exponent), as tflite::QuantizeMultiplier."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = tflite_round(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift = 0
        q_fixed = 0
    return int(q_fixed), int(shift)


def quantize_multiplier_smaller_than_one_exp(real: float) -> tuple[int, int]:
    """As tflite::QuantizeMultiplierSmallerThanOneExp: the exponent returned is <= 0."""
    q, shift = quantize_multiplier(real)
    assert shift <= 0, real
    return q, shift


def _trunc_div_pow2(x: np.ndarray, bits: int) -> np.ndarray:
    """C-style (truncating toward zero) division of int64 values by 2**bits."""
    return np.where(x >= 0, x >> bits, -((-x) >> bits))


def saturating_rounding_doubling_high_mul(a, b) -> np.ndarray:
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    result = _trunc_div_pow2(ab + nudge, 31)
    return np.where(overflow, INT32_MAX, result)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift) -> np.ndarray:
    """tflite::MultiplyByQuantizedMultiplier for int32 x (shift > 0 is a left shift)."""
    x = np.asarray(x, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    # int32 wrap-around of the left shift, as the C code does it (it never happens in practice)
    shifted = ((x << left) + 2**31) % 2**32 - 2**31
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right)


def activation_range(activation: str, scale: float, zero_point: int, dtype: str = "int8") -> tuple[int, int]:
    """Clamp range of a fused activation in the quantized domain (CalculateActivationRangeQuantized).

    The division is done in float32, as in TFLM.
    """
    qmin, qmax = QRANGE[dtype]

    def quantize(f: float) -> int:
        return zero_point + tflite_round(float(np.float32(f) / np.float32(scale)))

    if activation == "NONE":
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, quantize(0.0)), qmax
    if activation == "RELU6":
        return max(qmin, quantize(0.0)), min(qmax, quantize(6.0))
    if activation == "RELU_N1_TO_1":
        return max(qmin, quantize(-1.0)), min(qmax, quantize(1.0))
    raise ValueError(f"unsupported fused activation {activation}")


def per_channel_multipliers(input_scale: float, weight_scales: np.ndarray, output_scale: float, channels: int):
    """Per-output-channel (multiplier, shift) arrays as TFLM's PopulateConvolutionQuantizationParams.

    A per-tensor weight scale is broadcast to every channel.
    """
    ws = np.broadcast_to(np.asarray(weight_scales, dtype=np.float32), (channels,))
    mults = np.zeros(channels, dtype=np.int32)
    shifts = np.zeros(channels, dtype=np.int32)
    for c in range(channels):
        effective = float(np.float32(input_scale)) * float(ws[c]) / float(np.float32(output_scale))
        mults[c], shifts[c] = quantize_multiplier(effective)
    return mults, shifts


def requantize(acc, multiplier, shift, output_zero_point: int, act_min: int, act_max: int) -> np.ndarray:
    """acc (int32) -> clamp(MBQM(acc) + zp, act_min, act_max)."""
    out = multiply_by_quantized_multiplier(acc, multiplier, shift) + output_zero_point
    return np.clip(out, act_min, act_max)
