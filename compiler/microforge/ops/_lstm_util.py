"""Integer pieces of TFLM's 8x8->16 UNIDIRECTIONAL_SEQUENCE_LSTM (lstm_eval.h / lstm_eval_common.cc).

TFLM's integer LSTM keeps the gate pre-activations in int16 Q3.12 and the gate outputs in int16
Q0.15. Its sigmoid and tanh on int16 are not gemmlowp's: they are the table interpolation of
reference_integer_ops::Logistic / Tanh (int16 overloads), which read one 256-entry table of
sigmoid values in 0.16 format (the same table as CMSIS-NN's arm_nntables.c). The table is data,
not a formula: rounding sigmoid(i/24) does not reproduce it, so it is spelled out here and in
runtime_c/kernels/mf_lstm_s8.c.
"""

from __future__ import annotations

import numpy as np

from ..quant import multiply_by_quantized_multiplier

# sigmoid_table_uint16: index i holds sigmoid(i / 24) in 0.16 format (see module docstring).
# fmt: off
SIGMOID_TABLE = np.array(
    [
        32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
        43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
        51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
        57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
        61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
        63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
        64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
        64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
        65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
        65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
        65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
        65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
        65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
        65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
        65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
        65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
    ],
    dtype=np.int64,
)
# fmt: on
assert SIGMOID_TABLE.size == 256

INT16_MIN, INT16_MAX = -32768, 32767


def _i64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def sigmoid_int16(x) -> np.ndarray:
    """reference_integer_ops::Logistic(input_multiplier=0, input_left_shift=0) on Q3.12 -> Q0.15."""
    v = _i64(x) * 3  # input_multiplier 0 means 3 << 0: the 3/4 range expansion of the table
    a = np.abs(v)
    uh = a >> 9
    idx = np.minimum(uh, 254)
    ua, ub = SIGMOID_TABLE[idx], SIGMOID_TABLE[idx + 1]
    r = np.where(uh >= 255, 0x7FFF << 10, (ua << 9) + (a & 0x1FF) * (ub - ua))
    r = np.where(v >= 0, r + (1 << 9), (1 << 25) - r + (1 << 9) - 1)
    return r >> 10


def tanh_shift(cell_scale_power: int) -> tuple[int, int]:
    """(input_multiplier, input_left_shift) TFLM's lstm Tanh passes for a cell state scale 2^power."""
    shift = 15 + cell_scale_power - 3
    return (0, shift) if shift >= 0 else (3, -shift)


def tanh_int16(x, input_multiplier: int, input_left_shift: int) -> np.ndarray:
    """reference_integer_ops::Tanh (int16 overload) -> Q0.15."""
    if input_multiplier == 0:  # power-of-two input scale
        input_multiplier, input_left_shift = 3 << input_left_shift, 0
    rnd = (1 << (input_left_shift - 1)) if input_left_shift > 0 else 0
    v = (_i64(x) * input_multiplier + rnd) >> input_left_shift
    a = np.abs(v)
    uh = a >> 8
    idx = np.minimum(uh, 254)
    ua, ub = SIGMOID_TABLE[idx], SIGMOID_TABLE[idx + 1]
    r = np.where(uh >= 255, 0xFFFF << 8, (ua << 8) + (a & 0xFF) * (ub - ua))
    r = np.where(v >= 0, r - (1 << 23) + (1 << 7), -r + (1 << 23) + (1 << 7) - 1)
    return r >> 8


def fc_int16(x, offset: int, weights, bias, multiplier: int, shift: int) -> np.ndarray:
    """reference_integer_ops::FullyConnected int8 -> int16 (output zero point 0, no activation): one row."""
    acc = _i64(weights) @ (_i64(x) + offset)
    if bias is not None:
        acc = acc + _i64(bias)
    return np.clip(multiply_by_quantized_multiplier(acc, multiplier, shift), INT16_MIN, INT16_MAX)


def mul_q(a, b, multiplier: int, shift: int, offset: int, lo: int, hi: int) -> np.ndarray:
    """reference_integer_ops::MulElementwise with zero input offsets."""
    out = multiply_by_quantized_multiplier(_i64(a) * _i64(b), multiplier, shift) + offset
    return np.clip(out, lo, hi)
