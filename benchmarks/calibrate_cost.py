"""Calibrate the latency cost model (compiler/microforge/plan/cost.py) against exact QEMU instruction counts.

    .venv/bin/python benchmarks/calibrate_cost.py            # fit every core, print the coefficients
    .venv/bin/python benchmarks/calibrate_cost.py --write    # ... and write them into targets/*.toml [cost]
    .venv/bin/python benchmarks/calibrate_cost.py --check    # estimate vs QEMU on the shared models (no fit)

Calibration set: one-op graphs of every int8 op with varied shapes (the builders of tests/support.py),
merged into a few multi-layer graphs so that one firmware build and one profiled QEMU run per core give
the exact instruction count of every case (the generated invoke marks each layer). Per core and op the
coefficients of the op's features (plan/cost.py FEATURES) are fitted by non-negative least squares on
relative error, so that small and large layers count alike.

Kernel variants: each core is fitted twice, with the reference kernels ([cost.reference.*]) and with its
calibration target's `kernels` variant (e.g. arm_mve on the M55, riscv on RV32: [cost.<variant>.*]). The
variant fit uses the variant's features (plan/cost.py VARIANT_FEATURES; the reference ones for a variant
kernel not listed there) and only the layers its specialised code runs (plan/cost.py kernel_path): ops
without a variant source, and shapes the variant hands to its copy of the reference loop, run reference
code and keep the reference fit. --check compiles the models with each target's actual kernels.

Cores: M3, M4, M7, M33, M55 and RV32 run on their QEMU machines. The Cortex-M0+ (RP2040) has no QEMU
machine, but ARMv6-M is a subset of ARMv7-M: code built with -mcpu=cortex-m0plus runs unchanged on the M3
machine and executes exactly the instructions an M0+ would, so its counts are exact too. Xtensa LX6/LX7
(ESP32, ESP32-S3) have neither a compiler nor QEMU here: their coefficients are the RV32IMC fit (closest
ISA: 32-bit load/store RISC without SIMD in the reference kernels, and a 32x32->64 multiply through
mul/mulh pairs as on Xtensa's MULL/MULSH), labeled "estimate, not measured". The host profile uses the
M7 fit, also labeled as not measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from microforge import ops  # noqa: E402
from microforge.backends.c.emit import emit_c  # noqa: E402
from microforge.importers import load_model  # noqa: E402
from microforge.ir import Graph, Tensor  # noqa: E402
from microforge.ops._conv_util import out_size  # noqa: E402
from microforge.ops._pool_util import PoolAttrs  # noqa: E402
from microforge.ops._pool_util import out_size as pool_out_size  # noqa: E402
from microforge.ops.add import AddAttrs  # noqa: E402
from microforge.ops.concatenation import ConcatenationAttrs  # noqa: E402
from microforge.ops.conv2d import Conv2DAttrs  # noqa: E402
from microforge.ops.depthwise_conv2d import DepthwiseConv2DAttrs  # noqa: E402
from microforge.ops.fully_connected import FullyConnectedAttrs  # noqa: E402
from microforge.ops.mean import MeanAttrs  # noqa: E402
from microforge.ops.mul import MulAttrs  # noqa: E402
from microforge.ops.softmax import SoftmaxAttrs  # noqa: E402
from microforge.plan.cost import (  # noqa: E402
    GENERIC,
    GENERIC_FEATURES,
    estimate,
    feature_names,
    features,
    kernel_path,
    model_key,
)
from microforge.targets import load_target  # noqa: E402
from microforge.validate.host import load_metadata  # noqa: E402
from microforge.validate.qemu import run_qemu  # noqa: E402

from support import SHARED, act, chain, const, merge, one_op_graph  # noqa: E402

# core -> (target whose QEMU machine and flags calibrate it, targets that take its coefficients)
CORES: dict[str, tuple[str, tuple[str, ...]]] = {
    "cortex-m3": ("sam3x8e", ("sam3x8e",)),
    "cortex-m4": ("stm32l4r5", ("stm32l4r5", "nrf52840")),
    "cortex-m7": ("stm32f746", ("stm32f746", "stm32h743")),
    "cortex-m33": ("stm32u585", ("stm32u585",)),
    "cortex-m55": ("corstone300_m55", ("corstone300_m55",)),
    "rv32imc": ("esp32c3", ("esp32c3",)),
    "cortex-m0plus": ("rp2040", ("rp2040",)),  # run on the M3 machine (see the module doc)
}
# targets without a fit of their own: target -> (core whose fit they take, why)
DERIVED: dict[str, tuple[str, str]] = {
    "esp32": ("rv32imc", "no Xtensa compiler or QEMU here; RV32IMC reference-kernel fit used for the Xtensa LX6"),
    "esp32s3": (
        "rv32imc",
        "no Xtensa compiler or QEMU here; RV32IMC reference-kernel fit used for the Xtensa LX7 "
        "(its PIE SIMD is not used by the reference kernels)",
    ),  # fmt: skip
    "host": ("cortex-m7", "host runs are not profiled; the Cortex-M7 fit stands in"),
}
MODELS = ["hello_world_int8", "micro_speech_quantized", "person_detect"]
MAX_BATCH_ARENA = 200_000  # bytes of activations per merged graph (the M55 machine has 512 KB of data RAM)
MAX_BATCH_WEIGHTS = 1_000_000


# ---------------------------------------------------------------------------------------------- the set


def _xq(rng) -> tuple[float, int]:
    return float(rng.uniform(0.005, 0.2)), int(rng.integers(-128, 128))


def conv(rng, h, w, cin, cout, k, stride=1, padding="SAME", n=1, activation="RELU6") -> Graph:
    kh, kw = k
    xs, xz = _xq(rng)
    x = act("x", (n, h, w, cin), xs, xz)
    ws = rng.uniform(0.001, 0.01, cout)
    wt = const("w", rng.integers(-127, 128, (cout, kh, kw, cin)).astype(np.int8), ws, axis=0)
    b = const("b", rng.integers(-2000, 2000, cout).astype(np.int32), ws * xs, axis=0)
    oh, ow = out_size(padding, h, kh, stride, 1), out_size(padding, w, kw, stride, 1)
    y = act("y", (n, oh, ow, cout), float(xs * ws.mean() * 60 * np.sqrt(kh * kw * cin)), int(rng.integers(-128, 128)))
    return one_op_graph("CONV_2D", [x, wt, b], [y], Conv2DAttrs(padding, stride, stride, 1, 1, activation))


def dwconv(rng, h, w, cin, k, mult=1, stride=1, padding="SAME", activation="RELU") -> Graph:
    kh, kw = k
    cout = cin * mult
    xs, xz = _xq(rng)
    x = act("x", (1, h, w, cin), xs, xz)
    ws = rng.uniform(0.001, 0.01, cout)
    wt = const("w", rng.integers(-127, 128, (1, kh, kw, cout)).astype(np.int8), ws, axis=3)
    b = const("b", rng.integers(-2000, 2000, cout).astype(np.int32), ws * xs, axis=0)
    oh, ow = out_size(padding, h, kh, stride, 1), out_size(padding, w, kw, stride, 1)
    y = act("y", (1, oh, ow, cout), float(xs * ws.mean() * 60 * np.sqrt(kh * kw)), int(rng.integers(-128, 128)))
    attrs = DepthwiseConv2DAttrs(padding, stride, stride, mult, 1, 1, activation)
    return one_op_graph("DEPTHWISE_CONV_2D", [x, wt, b], [y], attrs)


def fc(rng, batches, depth, units) -> Graph:
    xs, xz = _xq(rng)
    x = act("x", (batches, depth), xs, xz)
    ws = rng.uniform(0.001, 0.01, units)
    w = const("w", rng.integers(-127, 128, (units, depth)).astype(np.int8), ws, axis=0)
    b = const("b", rng.integers(-2000, 2000, units).astype(np.int32), ws * xs, axis=0)
    y = act("y", (batches, units), float(xs * ws.mean() * 60 * np.sqrt(depth)), int(rng.integers(-128, 128)))
    return one_op_graph("FULLY_CONNECTED", [x, w, b], [y], FullyConnectedAttrs("NONE", False))


def pool(rng, op, h, w, c, k, stride, padding="VALID") -> Graph:
    s, z = _xq(rng)
    oh, ow = pool_out_size(padding, h, k, stride), pool_out_size(padding, w, k, stride)
    x, y = act("x", (1, h, w, c), s, z), act("y", (1, oh, ow, c), s, z)
    return one_op_graph(op, [x], [y], PoolAttrs(padding, stride, stride, k, k, "NONE"))


def binary(rng, op, shape1, shape2, out_shape, scales=None, activation="NONE") -> Graph:
    """scales: (input 1, input 2, output) scales (ADD's kernel paths depend on their ratios), else random."""
    q1, q2 = _xq(rng), _xq(rng)
    so = float(rng.uniform(0.05, 0.2))
    if scales is not None:
        q1, q2, so = (scales[0], q1[1]), (scales[1], q2[1]), scales[2]
        if scales[0] == scales[1]:
            q2 = q1  # the same quantization: one input table
    a = act("a", shape1, *q1)
    b = act("b", shape2, *q2)
    y = act("y", out_shape, so, int(rng.integers(-128, 128)))
    return one_op_graph(op, [a, b], [y], AddAttrs(activation) if op == "ADD" else MulAttrs(activation))


def mean(rng, shape, axes) -> Graph:
    out_shape = tuple(1 if k in axes else d for k, d in enumerate(shape))
    x, y = act("x", shape, *_xq(rng)), act("y", out_shape, *_xq(rng))
    return one_op_graph("MEAN", [x, const("axis", np.asarray(axes, np.int32))], [y], MeanAttrs(True))


def unary(rng, op, shape) -> Graph:
    # LOGISTIC/TANH/SOFTMAX run data-dependent paths: a typical input range (about +-6) rather than a random one
    x = act("x", shape, 0.05, int(rng.integers(-20, 20)))
    out = {"SOFTMAX": (1 / 256, -128), "LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0)}.get(op, _xq(rng))
    y = act("y", shape, *out)
    return one_op_graph(op, [x], [y], SoftmaxAttrs(1.0) if op == "SOFTMAX" else None)


def dequantize(rng, shape) -> Graph:
    x = act("x", shape, *_xq(rng))
    return one_op_graph("DEQUANTIZE", [x], [Tensor("y", tuple(shape), "float32")])


def pad(rng, shape, pads) -> Graph:
    s, z = _xq(rng)
    pads = np.asarray(pads, np.int32)
    y = act("y", [d + int(a) + int(b) for d, (a, b) in zip(shape, pads)], s, z)
    return one_op_graph("PAD", [act("x", shape, s, z), const("paddings", pads)], [y])


def concat(rng, shapes, axis) -> Graph:
    s, z = _xq(rng)
    out = list(shapes[0])
    out[axis] = sum(sh[axis] for sh in shapes)
    xs = [act(f"x{i}", sh, s, z) for i, sh in enumerate(shapes)]
    return one_op_graph("CONCATENATION", xs, [act("y", out, s, z)], ConcatenationAttrs(axis))


def dw_band_cases() -> list[Graph]:
    """3x3 depthwise shapes for arm_dsp's band path (plan/cost.py _dsp_dw_band) and the paths its cost test still
    leaves to the old code: stride 1 and 2, rows and columns (tall maps), clamped or not, odd widths, C % 4 != 0,
    small maps with many channels, multipliers 4 / 8, stride-2 4-channel runs, rows wider than 128 values; chains
    (the second layer's input dies there: in place, through the band buffer when the gap is not whole pixels).
    Their own generator, so the other ops' cases stay the same."""
    rng = np.random.default_rng(1)
    g: list[Graph] = []
    for h, w, c, m, s, a in [(16, 16, 16, 1, 1, "NONE"), (15, 15, 12, 1, 1, "NONE"), (24, 24, 8, 1, 1, "RELU6"),
                             (11, 11, 16, 1, 1, "RELU"), (13, 9, 20, 1, 1, "NONE"), (21, 21, 4, 1, 1, "RELU"),
                             (20, 20, 6, 1, 2, "RELU"), (17, 17, 10, 1, 2, "NONE"), (9, 9, 160, 1, 2, "RELU"),
                             (12, 12, 2, 4, 2, "NONE"), (25, 19, 3, 1, 2, "NONE"), (10, 10, 6, 1, 1, "NONE"),
                             (14, 14, 10, 1, 1, "RELU"), (8, 8, 7, 1, 1, "RELU6"), (12, 12, 5, 1, 1, "NONE"),
                             (40, 10, 8, 1, 1, "RELU"), (25, 5, 64, 1, 1, "NONE"), (30, 8, 12, 1, 2, "RELU"),
                             (49, 10, 16, 1, 1, "NONE"), (33, 7, 6, 1, 1, "RELU"),
                             (6, 6, 192, 1, 1, "RELU"), (3, 3, 256, 1, 1, "NONE"), (6, 6, 128, 1, 1, "NONE"),
                             (3, 3, 96, 1, 1, "RELU6"), (4, 4, 200, 1, 1, "RELU"), (7, 7, 132, 1, 1, "NONE"),
                             (10, 10, 4, 4, 1, "RELU"), (16, 16, 2, 8, 1, "NONE"), (8, 8, 8, 4, 1, "RELU"),
                             (20, 20, 32, 1, 2, "NONE"), (10, 10, 64, 1, 2, "RELU"), (16, 16, 128, 1, 2, "NONE"),
                             (6, 130, 8, 1, 1, "RELU"), (8, 140, 4, 1, 1, "NONE"), (4, 130, 2, 4, 1, "RELU"),
                             (10, 70, 8, 1, 2, "NONE"), (5, 120, 12, 1, 1, "NONE"), (30, 60, 2, 1, 1, "RELU")]:  # fmt: skip
        g.append(dwconv(rng, h, w, c, (3, 3), m, s, "SAME", a))
    for (h, w, c, m, s, a), (m2, s2, a2) in [((12, 12, 12, 1, 1, "NONE"), (1, 1, "RELU")),
                                             ((14, 14, 6, 1, 1, "RELU"), (1, 1, "NONE")),
                                             ((10, 10, 2, 4, 1, "NONE"), (1, 1, "RELU")),
                                             ((16, 16, 8, 1, 1, "RELU"), (1, 1, "NONE")),
                                             ((25, 5, 64, 1, 1, "NONE"), (1, 1, "RELU")),
                                             ((20, 20, 16, 1, 1, "NONE"), (1, 2, "NONE")),
                                             ((9, 9, 20, 1, 1, "RELU"), (1, 1, "RELU")),
                                             ((12, 12, 2, 1, 1, "NONE"), (4, 1, "NONE")),
                                             ((25, 5, 32, 1, 1, "RELU"), (1, 1, "RELU")),
                                             ((25, 5, 48, 1, 1, "NONE"), (1, 1, "NONE")),
                                             ((20, 8, 24, 1, 1, "NONE"), (1, 1, "RELU6")),
                                             ((12, 12, 20, 1, 1, "RELU"), (1, 1, "NONE")),
                                             ((16, 16, 12, 1, 1, "NONE"), (1, 1, "RELU")),
                                             ((8, 8, 4, 4, 1, "NONE"), (1, 1, "NONE")),
                                             ((10, 10, 36, 1, 1, "RELU"), (1, 1, "NONE"))]:  # fmt: skip
        first = dwconv(rng, h, w, c, (3, 3), m, s, "SAME", a)
        _, oh, ow, oc = first.tensor(first.outputs[0]).shape
        g.append(chain([first, dwconv(rng, oh, ow, oc, (3, 3), m2, s2, "SAME", a2)], "dwchain"))
    return g


def calibration_set(seed: int = 0) -> list[Graph]:
    """Varied shapes per op, spread so that every feature of the op varies independently. None is a layer
    of the shared models: --check measures the model on shapes the fit has not seen."""
    rng = np.random.default_rng(seed)
    g: list[Graph] = []
    # CONV_2D: 1x1 (pointwise, channel-heavy), 3x3 and 5x5 with few and many channels, strides, paddings
    for h, w, cin, cout, k, s, p in [(10, 10, 24, 48, (1, 1), 1, "SAME"), (5, 5, 96, 160, (1, 1), 1, "SAME"),
                                     (20, 20, 12, 16, (1, 1), 1, "SAME"), (3, 3, 256, 64, (1, 1), 1, "VALID"),
                                     (16, 16, 3, 8, (3, 3), 2, "SAME"), (12, 12, 16, 16, (3, 3), 1, "SAME"),
                                     (10, 10, 1, 8, (3, 3), 1, "VALID"), (8, 8, 32, 32, (3, 3), 1, "SAME"),
                                     (10, 10, 4, 4, (5, 5), 1, "SAME"), (20, 20, 2, 6, (5, 5), 2, "VALID"),
                                     (7, 9, 5, 3, (3, 1), 1, "SAME"), (1, 1, 64, 10, (1, 1), 1, "VALID"),
                                     (4, 4, 64, 32, (2, 2), 2, "VALID"), (16, 16, 1, 16, (3, 3), 1, "SAME"),
                                     (8, 8, 16, 8, (7, 7), 1, "SAME"), (12, 12, 8, 8, (1, 5), 1, "SAME"),
                                     (12, 12, 8, 8, (5, 1), 1, "SAME"), (32, 32, 3, 8, (3, 3), 2, "SAME"),
                                     (6, 6, 24, 24, (3, 3), 1, "SAME"), (10, 10, 2, 32, (1, 1), 1, "VALID"),
                                     (20, 20, 16, 4, (1, 1), 2, "VALID"), (5, 5, 48, 16, (3, 3), 1, "VALID"),
                                     # pointwise with few input channels (the variants' special 1x1 loops)
                                     (20, 20, 8, 24, (1, 1), 1, "VALID"), (14, 14, 32, 40, (1, 1), 1, "VALID"),
                                     (9, 9, 16, 20, (1, 1), 1, "SAME"), (11, 7, 8, 12, (1, 1), 1, "VALID"),
                                     (16, 16, 8, 16, (1, 1), 1, "VALID"), (12, 12, 8, 64, (1, 1), 1, "SAME")]:  # fmt: skip
        g.append(conv(rng, h, w, cin, cout, k, s, p))
    # without a clamp narrower than int8 (arm_dsp's unclamped 1x1 C_in 8/16 loop)
    for h, w, cin, cout in [(18, 18, 8, 16), (12, 10, 16, 32), (9, 9, 8, 40), (10, 12, 16, 20)]:
        g.append(conv(rng, h, w, cin, cout, (1, 1), 1, "VALID", activation="NONE"))
    # arm_dsp CONV_2D paths (own generator: the other ops' cases stay the same): whole-layer 1x1 C_in 8 / 16
    # clamped or not with odd pixel counts; 6-pixel blocks (1x1 from the input, rows of inside windows, per-call
    # table or constants from the arrays, low-only clamps), 4-pixel blocks and chunked patches (3x3 C_in 32..64),
    # leftover 1-3 pixels, C_in % 4 != 0 gathers, borders, first layers with C_in 1 / 3 and large windows,
    # stride 2, batches, the C channel loop (1x1 C_in <= 4) and layers too wide for the blocks (2x2 path)
    crng = np.random.default_rng(seed + 1)
    for h, w, cin, cout, k, s, p, n, a in [(7, 9, 8, 30, (1, 1), 1, "VALID", 1, "NONE"),
                                           (8, 8, 16, 40, (1, 1), 1, "SAME", 1, "RELU"),
                                           (9, 7, 16, 21, (1, 1), 1, "VALID", 1, "NONE"),
                                           (13, 11, 8, 9, (1, 1), 1, "VALID", 1, "RELU6"),
                                           (12, 12, 64, 32, (1, 1), 1, "SAME", 1, "RELU6"),
                                           (6, 6, 128, 64, (1, 1), 1, "VALID", 1, "NONE"),
                                           (10, 10, 24, 16, (1, 1), 1, "VALID", 1, "RELU"),
                                           (6, 6, 64, 96, (1, 1), 1, "VALID", 1, "RELU6"),
                                           (7, 7, 48, 20, (1, 1), 1, "VALID", 2, "NONE"),
                                           (15, 15, 16, 8, (1, 1), 2, "VALID", 1, "RELU6"),
                                           (8, 8, 64, 64, (3, 3), 1, "SAME", 1, "RELU"),
                                           (16, 16, 32, 64, (3, 3), 2, "SAME", 1, "RELU"),
                                           (9, 9, 32, 24, (3, 3), 1, "SAME", 1, "NONE"),
                                           (10, 10, 16, 16, (5, 5), 1, "SAME", 1, "RELU6"),
                                           (11, 13, 16, 32, (3, 3), 1, "VALID", 1, "RELU6"),
                                           (7, 7, 40, 48, (3, 3), 2, "SAME", 1, "RELU"),
                                           (6, 6, 16, 16, (3, 3), 1, "SAME", 2, "RELU6"),
                                           (14, 14, 6, 12, (3, 3), 1, "SAME", 1, "RELU6"),
                                           (12, 12, 5, 8, (3, 3), 2, "SAME", 1, "NONE"),
                                           (20, 20, 3, 16, (3, 3), 1, "SAME", 1, "RELU"),
                                           (24, 24, 3, 32, (3, 3), 2, "SAME", 1, "RELU6"),
                                           (10, 10, 7, 10, (3, 3), 1, "VALID", 1, "RELU6"),
                                           (41, 32, 1, 8, (10, 4), 2, "SAME", 1, "RELU"),
                                           (30, 30, 1, 8, (7, 7), 2, "SAME", 1, "RELU6"),
                                           (25, 25, 3, 8, (5, 5), 2, "SAME", 1, "RELU"),
                                           (20, 20, 3, 16, (7, 7), 2, "SAME", 1, "NONE"),
                                           (28, 20, 1, 16, (5, 5), 1, "VALID", 1, "RELU6"),
                                           (12, 12, 4, 16, (1, 1), 1, "VALID", 1, "RELU6"),
                                           (8, 8, 3, 8, (1, 1), 1, "VALID", 1, "NONE"),
                                           (6, 6, 32, 128, (3, 3), 1, "SAME", 1, "RELU6"),
                                           (4, 6, 40, 140, (3, 3), 1, "VALID", 1, "NONE"),
                                           (5, 5, 12, 20, (3, 3), 1, "SAME", 1, "RELU6"),
                                           (18, 14, 6, 96, (1, 1), 2, "SAME", 1, "RELU"),
                                           (12, 16, 3, 64, (3, 3), 1, "VALID", 1, "RELU6"),
                                           (10, 10, 6, 48, (3, 3), 2, "SAME", 1, "NONE"),
                                           (14, 10, 5, 80, (1, 1), 1, "VALID", 1, "RELU6"),
                                           (9, 11, 32, 4, (3, 3), 1, "SAME", 1, "NONE"),
                                           (16, 12, 24, 8, (1, 1), 1, "SAME", 1, "RELU"),
                                           # tiny layers: the per-call overheads of each path
                                           (3, 5, 8, 4, (1, 1), 1, "VALID", 1, "RELU"),
                                           (2, 3, 16, 6, (1, 1), 1, "VALID", 1, "NONE"),
                                           (4, 3, 8, 4, (3, 3), 1, "SAME", 1, "RELU6"),
                                           (2, 2, 12, 4, (1, 1), 1, "VALID", 1, "NONE")]:  # fmt: skip
        g.append(conv(crng, h, w, cin, cout, k, s, p, n=n, activation=a))
    # DEPTHWISE_CONV_2D: 3x3 on many channels, multipliers, micro_speech's 10x8 stride 2, 5x5, 1x1
    for h, w, c, k, m, s, p in [(20, 20, 24, (3, 3), 1, 1, "SAME"), (14, 14, 48, (3, 3), 1, 2, "SAME"),
                                (7, 7, 96, (3, 3), 1, 1, "SAME"), (40, 40, 1, (3, 3), 6, 2, "SAME"),
                                (30, 24, 1, (8, 6), 4, 2, "SAME"), (16, 16, 8, (5, 5), 1, 1, "SAME"),
                                (10, 10, 16, (5, 5), 2, 1, "VALID"), (20, 20, 4, (1, 1), 1, 1, "VALID"),
                                (4, 4, 160, (3, 3), 1, 1, "SAME"), (12, 12, 3, (3, 3), 4, 1, "VALID"),
                                (9, 9, 12, (2, 2), 1, 2, "SAME"),
                                # the kernel variants' paths: 3x3 multiplier-1 at more widths and strides
                                # (RV32 4-pixel groups, MVE 16/8/tail channel steps), multipliers 8, 4, 2, 3
                                (30, 30, 8, (3, 3), 1, 1, "SAME"), (23, 17, 17, (3, 3), 1, 2, "SAME"),
                                (9, 11, 64, (3, 3), 1, 1, "VALID"), (5, 6, 128, (3, 3), 1, 2, "SAME"),
                                (13, 13, 40, (3, 3), 1, 1, "SAME"), (33, 27, 1, (6, 8), 8, 2, "SAME"),
                                (14, 12, 2, (3, 3), 8, 1, "SAME"), (18, 18, 3, (5, 3), 4, 2, "VALID"),
                                (12, 10, 6, (3, 3), 2, 1, "SAME"), (10, 10, 5, (3, 3), 3, 2, "SAME"),
                                (12, 12, 24, (5, 5), 1, 2, "SAME"), (15, 15, 36, (1, 1), 1, 1, "VALID"),
                                # one input channel (MVE gather + VMLADAVA path, asm up to 16 channels; RV32 m8)
                                (26, 22, 1, (3, 3), 8, 2, "SAME"), (20, 18, 1, (3, 3), 16, 1, "SAME"),
                                (16, 14, 1, (3, 3), 32, 1, "SAME"), (15, 13, 1, (4, 4), 12, 2, "VALID"),
                                (12, 12, 1, (3, 3), 4, 1, "VALID"), (11, 10, 1, (5, 3), 24, 1, "SAME"),
                                (30, 30, 1, (3, 3), 8, 1, "VALID"),
                                # interior runs: MVE asm 8/16-channel chunks, arm_dsp 3x3 runs (C % 4, <= 128)
                                (26, 26, 32, (3, 3), 1, 1, "SAME"), (18, 18, 16, (3, 3), 1, 2, "SAME"),
                                (10, 10, 112, (3, 3), 1, 1, "SAME"), (22, 14, 12, (3, 3), 1, 1, "SAME"),
                                (12, 30, 4, (3, 3), 1, 2, "VALID"), (8, 8, 24, (3, 3), 1, 1, "VALID"),
                                (14, 14, 64, (5, 5), 1, 1, "SAME"), (6, 40, 20, (3, 3), 1, 1, "SAME"),
                                # C == 8 3x3 interior runs (MVE dedicated asm block)
                                (18, 18, 8, (3, 3), 1, 1, "VALID"), (24, 20, 8, (3, 3), 1, 2, "SAME")]:  # fmt: skip
        g.append(dwconv(rng, h, w, c, k, m, s, p))
    g += dw_band_cases()
    for b, d, u in [(1, 1, 12), (1, 12, 20), (1, 20, 1), (1, 3000, 6), (1, 256, 64), (1, 64, 256), (2, 128, 32),
                    (1, 1000, 10), (4, 8, 8), (1, 512, 128), (1, 100, 3), (1, 700, 7), (3, 40, 13),
                    (1, 2000, 2)]:  # fmt: skip
        g.append(fc(rng, b, d, u))
    for op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        for h, w, c, k, s, p in [(4, 4, 192, 4, 1, "VALID"), (16, 16, 8, 2, 2, "VALID"), (12, 12, 16, 3, 2, "SAME"),
                                 (8, 8, 1, 2, 2, "VALID"), (7, 7, 64, 7, 1, "VALID"), (10, 10, 24, 3, 1, "SAME")]:  # fmt: skip
            g.append(pool(rng, op, h, w, c, k, s, p))
    # AVERAGE_POOL_2D: both paths (C < 4 per element, C >= 4 channel runs, > 256 channels in two chunks)
    for h, w, c, k, s, p in [(3, 3, 300, 3, 1, "VALID"), (9, 9, 4, 3, 3, "VALID"), (14, 14, 3, 2, 2, "VALID"),
                             (10, 10, 2, 3, 1, "SAME"), (6, 6, 5, 5, 1, "SAME"), (5, 5, 128, 5, 1, "VALID"),
                             (20, 20, 12, 4, 4, "VALID"), (12, 12, 33, 3, 2, "SAME"), (9, 9, 3, 9, 1, "VALID")]:  # fmt: skip
        g.append(pool(rng, "AVERAGE_POOL_2D", h, w, c, k, s, p))
    for op in ("MUL",):
        for s1, s2, so in [((1, 8, 8, 16),) * 3, ((1, 1),) * 3, ((1, 4, 4, 64), (1, 1, 1, 64), (1, 4, 4, 64)),
                           ((1, 300),) * 3, ((1, 12, 12, 8),) * 3]:  # fmt: skip
            g.append(binary(rng, op, s1, s2, so))
    # ADD: the kernels' table paths (arm_dsp >= 256 elements, arm_mve >= 128, riscv >= 512, output shift >= -23
    # / -21), their smaller-tensor loops, broadcast rows, one shared input table, activation clamps, and output
    # shifts below the table ranges (an output scale much larger than the inputs')
    for s1, s2, so, sc, a in [
        ((1, 16, 16, 16), None, None, (0.05, 0.08, 0.1), "NONE"),
        ((1, 300), None, None, (0.02, 0.03, 0.06), "NONE"),
        ((1, 10, 20), None, None, (0.1, 0.04, 0.12), "NONE"),
        ((1, 100), None, None, (0.05, 0.05, 0.09), "NONE"),
        ((1, 12, 12, 32), None, None, (0.06, 0.06, 0.1), "NONE"),
        ((1, 24, 24, 16), None, None, (0.05, 0.07, 0.08), "RELU"),
        ((1, 1000), None, None, (0.03, 0.05, 0.04), "RELU6"),
        ((1, 20, 20, 8), None, None, (0.005, 0.004, 0.2), "NONE"),
        ((1, 700), None, None, (0.01, 0.008, 0.06), "NONE"),
        ((1, 8, 8, 64), (1, 1, 1, 64), None, (0.05, 0.1, 0.1), "NONE"),
        ((1, 2, 2, 16), (1, 1, 1, 16), None, (0.05, 0.03, 0.07), "NONE"),
        ((1, 6, 6, 32), (1, 1, 1, 32), None, (0.004, 0.005, 0.2), "NONE"),
        ((1, 8, 8, 16), (1, 1, 1, 1), None, (0.05, 0.02, 0.06), "NONE"),
        ((1, 16, 16, 8), (1, 16, 1, 8), None, (0.04, 0.06, 0.1), "RELU"),
        ((1, 10, 10, 32), (1, 1, 1, 32), None, (0.08, 0.06, 0.12), "NONE"),
        ((1, 30, 40), (1, 1, 40), None, (0.03, 0.05, 0.07), "RELU"),
    ]:  # fmt: skip
        g.append(binary(rng, "ADD", s1, s2 or s1, so or s1, sc, a))
    for shape, axes in [((1, 3, 3, 256), [1, 2]), ((1, 12, 12, 16), [1, 2]), ((1, 7, 7, 64), [1, 2]),
                        ((1, 2, 2, 8), [1, 2]), ((1, 25, 5, 64), [1, 2]), ((1, 20, 20, 24), [1, 2]),
                        ((1, 4, 4, 300), [1, 2]), ((1, 10, 10, 7), [1, 2]), ((1, 30, 30, 3), [1, 2]),
                        ((1, 8, 300), [2]), ((1, 40, 12), [2]), ((1, 20, 50), [2]), ((3, 4, 64), [2]),
                        ((2, 5, 6, 40), [1, 2]), ((1, 16, 16, 32), [1]),
                        # the general path: reduced dims not adjacent
                        ((1, 8, 8, 16), [1, 3]), ((1, 12, 6, 10), [1, 3]), ((1, 5, 30, 4), [1, 3])]:  # fmt: skip
        g.append(mean(rng, shape, axes))
    for op, shapes in [("SOFTMAX", [(1, 3), (1, 6), (1, 10), (1, 100), (8, 12), (32, 4)]),
                       ("LOGISTIC", [(1, 1), (1, 64), (1, 500)]), ("TANH", [(1, 1), (1, 64), (1, 500)]),
                       ("QUANTIZE", [(1, 1), (1, 64), (1, 600)])]:  # fmt: skip
        g.extend(unary(rng, op, s) for s in shapes)
    g.extend(dequantize(rng, s) for s in [(1, 1), (1, 64), (1, 600)])
    # PAD: copy runs with the source and destination alignment shared (C % 4 == 0, or padding by whole words) and
    # not (odd widths), long and short runs, padding of one dim or several
    for shape, pads in [((1, 8, 8, 16), [[0, 0], [1, 1], [1, 1], [0, 0]]),
                        ((1, 16, 16, 3), [[0, 0], [0, 1], [0, 1], [0, 0]]),
                        ((1, 4, 4, 64), [[0, 0], [2, 2], [2, 2], [0, 0]]),
                        ((1, 20, 20, 1), [[0, 0], [1, 2], [2, 1], [0, 3]]),
                        ((1, 32, 32, 16), [[0, 0], [1, 1], [1, 1], [0, 0]]),
                        ((1, 24, 24, 3), [[0, 0], [1, 1], [1, 1], [0, 0]]),
                        ((1, 49, 10, 1), [[0, 0], [2, 2], [1, 1], [0, 0]]),
                        ((1, 12, 12, 5), [[0, 0], [0, 0], [3, 2], [0, 0]]),
                        ((1, 10, 10, 8), [[0, 0], [2, 1], [0, 0], [0, 0]]),
                        ((1, 6, 6, 40), [[0, 0], [1, 1], [1, 1], [0, 0]]),
                        ((1, 30, 7, 2), [[0, 0], [0, 0], [1, 0], [0, 0]]),
                        ((1, 16, 16, 24), [[0, 0], [0, 1], [0, 1], [0, 0]]),
                        ((1, 9, 9, 12), [[0, 0], [1, 1], [1, 1], [2, 2]]),
                        ((1, 40, 40, 2), [[0, 0], [1, 1], [1, 1], [0, 0]]),
                        ((1, 7, 50, 4), [[0, 0], [2, 2], [3, 3], [0, 0]]),
                        ((1, 20, 20, 8), [[0, 0], [0, 0], [0, 0], [0, 4]]),
                        ((1, 12, 12, 6), [[0, 0], [1, 1], [1, 1], [0, 0]]),
                        ((1, 25, 5, 64), [[0, 0], [1, 1], [1, 1], [0, 0]])]:  # fmt: skip
        g.append(pad(rng, shape, pads))
    g.append(concat(rng, [(1, 8, 8, 16), (1, 8, 8, 16)], 3))
    g.append(concat(rng, [(1, 4, 4, 8), (1, 4, 4, 24), (1, 4, 4, 2)], 3))
    g.append(concat(rng, [(1, 100), (1, 300)], 1))
    g.append(concat(rng, [(1, 6, 6, 64), (1, 2, 6, 64)], 1))
    g.extend(mve_conv_cases(np.random.default_rng(seed + 1000)))  # the arm_mve conv/depthwise paths
    for case in g:
        for node in case.nodes:
            problems = ops.get(node.op).check(node, case)
            if problems:
                raise RuntimeError(f"calibration case {node.op} {case.inputs}: {problems}")
    return g


def _left_shift(g: Graph) -> Graph:
    """The same one-op graph with an output scale below input × weight scale: every multiplier > 1 (a left shift,
    which the MVE conv / depthwise asm paths hand to their C loops)."""
    node = g.nodes[0]
    x, w, y = g.inp(node, 0), g.inp(node, 1), g.out(node)
    scale = float(x.quant.scale[0]) * float(np.min(w.quant.scale)) / 3
    g.tensors[y.name] = dataclasses.replace(y, quant=dataclasses.replace(y.quant, scale=np.asarray([scale], np.float32)))
    return g


def mve_conv_cases(rng) -> list[Graph]:
    """CONV_2D / DEPTHWISE_CONV_2D shapes for each arm_mve kernel path (runtime_c/kernels/arm_mve, plan/cost.py
    _mve_conv / _mve_depthwise): conv windows of <= 16 and 17..32 bytes, im2col patches of 17..64 bytes and long
    (L % 16 == 0) ones, pointwise C_in 8/16/32, 16 < C_in <= 64, C_in % 16 == 0 > 64 and others, C_out % 4 != 0 and
    left shifts (the C loops); depthwise 3x3 C % 16 (<= 64 blocks, 80..144 in place, > 144), one input channel with
    > 16 taps, multiplier-1 runs of 8/16-channel chunks, multipliers 4/8; borders, strides, batches, clamps."""
    g: list[Graph] = []
    acts = ("NONE", "RELU", "RELU6")
    for i, (h, w, cin, cout, k, s, p, n, left) in enumerate([
        # window path: <= 16-byte windows (one VMLADAVA per channel), 17..32 bytes (two), C_out % 4, left shift
        (12, 12, 1, 12, (4, 4), 1, "SAME", 1, False), (20, 20, 2, 8, (3, 3), 1, "SAME", 1, False),
        (14, 14, 3, 32, (3, 3), 2, "VALID", 1, False), (10, 10, 3, 56, (3, 3), 1, "SAME", 1, False),
        (24, 24, 1, 4, (5, 5), 1, "SAME", 1, False), (9, 9, 2, 6, (2, 2), 1, "SAME", 1, False),
        (12, 12, 3, 8, (3, 3), 1, "SAME", 1, True), (18, 18, 1, 64, (2, 3), 2, "SAME", 1, False),
        # patches of 17..64 bytes (patch_run), C_out 60 > 56 leaves the window path
        (8, 8, 3, 60, (3, 3), 1, "SAME", 1, False), (30, 10, 1, 48, (10, 4), 2, "SAME", 1, False),
        (12, 12, 4, 16, (3, 3), 1, "SAME", 1, False), (10, 10, 6, 24, (3, 3), 2, "SAME", 1, False),
        (8, 8, 16, 16, (2, 2), 1, "VALID", 1, False), (14, 14, 2, 20, (5, 5), 1, "SAME", 1, False),
        (9, 9, 8, 12, (2, 3), 1, "SAME", 1, False), (20, 8, 1, 64, (6, 4), 1, "SAME", 1, False),
        (11, 11, 5, 8, (3, 3), 1, "SAME", 2, False),
        # small windows over wide inputs (spanning > 256 bytes: no byte gather) take the patch path too
        (50, 50, 3, 8, (3, 3), 2, "SAME", 1, False), (40, 40, 3, 16, (3, 3), 1, "VALID", 1, False),
        (36, 36, 3, 12, (3, 3), 2, "VALID", 1, False),
        # patches through mve_dot4 (C_out % 4 != 0, left shift)
        (10, 10, 4, 10, (3, 3), 1, "SAME", 1, False), (10, 10, 4, 16, (3, 3), 1, "SAME", 1, True),
        (8, 8, 16, 6, (3, 3), 1, "SAME", 1, False),
        # long patches (L % 16 == 0, > 64: patch_mem_run)
        (12, 12, 16, 32, (3, 3), 2, "SAME", 1, False), (10, 10, 32, 64, (3, 3), 1, "SAME", 1, False),
        (6, 6, 64, 64, (3, 3), 1, "SAME", 1, False), (8, 8, 16, 8, (5, 5), 1, "SAME", 1, False),
        (6, 6, 48, 24, (2, 2), 2, "VALID", 1, False), (16, 16, 16, 16, (3, 3), 1, "VALID", 1, False),
        (9, 9, 32, 12, (3, 3), 2, "VALID", 1, False),
        # the row loop: L > 64 not a multiple of 16, blocks too large for the scratch
        (8, 8, 12, 16, (3, 3), 1, "SAME", 1, False), (6, 6, 16, 160, (3, 3), 1, "SAME", 1, False),
        (9, 9, 6, 8, (4, 4), 2, "SAME", 1, False),
        # pointwise: 16 < C_in <= 64 (patch_run in place), C_in % 16 == 0 > 64 (patch_mem_run), the others
        (12, 12, 48, 32, (1, 1), 1, "VALID", 1, False), (8, 8, 64, 64, (1, 1), 1, "VALID", 1, False),
        (10, 10, 20, 12, (1, 1), 1, "VALID", 1, False), (6, 6, 40, 100, (1, 1), 1, "VALID", 1, False),
        (9, 9, 64, 24, (1, 1), 2, "VALID", 1, False), (7, 7, 128, 128, (1, 1), 1, "VALID", 1, False),
        (6, 6, 80, 40, (1, 1), 1, "VALID", 1, False), (4, 4, 144, 168, (1, 1), 1, "VALID", 1, False),
        (8, 8, 72, 32, (1, 1), 1, "VALID", 1, False), (6, 6, 100, 20, (1, 1), 1, "VALID", 1, False),
        (8, 8, 32, 16, (1, 1), 1, "VALID", 1, True), (8, 8, 16, 30, (1, 1), 1, "VALID", 1, False),
        (6, 6, 32, 96, (1, 1), 1, "VALID", 1, False), (16, 16, 8, 24, (1, 1), 2, "VALID", 1, False),
        (4, 4, 16, 260, (1, 1), 1, "VALID", 1, False), (10, 10, 8, 16, (1, 1), 1, "VALID", 1, True),
        (10, 10, 24, 36, (1, 1), 1, "VALID", 2, False),
    ]):  # fmt: skip
        case = conv(rng, h, w, cin, cout, k, s, p, n=n, activation=acts[i % 3])
        g.append(_left_shift(case) if left else case)
    for h, w, c, k, m, s, p, left in [
        # 3x3 multiplier 1, C % 16 == 0: blocks (C <= 64), filter in place (80..144), above (the C loops)
        (20, 20, 16, (3, 3), 1, 1, "SAME", False), (12, 12, 64, (3, 3), 1, 1, "SAME", False),
        (15, 15, 64, (3, 3), 1, 2, "SAME", False), (8, 8, 80, (3, 3), 1, 1, "SAME", False),
        (10, 10, 128, (3, 3), 1, 1, "SAME", False), (6, 6, 144, (3, 3), 1, 1, "SAME", False),
        (5, 5, 16, (3, 3), 1, 1, "VALID", False), (2, 20, 32, (3, 3), 1, 1, "SAME", False),
        (9, 9, 96, (3, 3), 1, 2, "VALID", False), (12, 12, 32, (3, 3), 1, 1, "SAME", True),
        (6, 6, 176, (3, 3), 1, 1, "SAME", False),
        # one input channel with > 16 taps (a C_in-1 convolution), and the scratch too small for it (M 64)
        (25, 20, 1, (5, 5), 4, 1, "SAME", False), (30, 16, 1, (9, 4), 12, 2, "SAME", False),
        (20, 20, 1, (7, 7), 6, 1, "VALID", False), (40, 12, 1, (10, 4), 16, 2, "SAME", False),
        (16, 16, 1, (5, 4), 32, 1, "SAME", False), (18, 18, 1, (3, 7), 5, 1, "SAME", False),
        (12, 12, 1, (5, 4), 64, 1, "SAME", False), (24, 16, 1, (6, 6), 8, 1, "SAME", True),
        # one input channel, <= 16 taps, left shift (C loop instead of the asm block)
        (12, 12, 1, (3, 3), 8, 1, "SAME", True),
        # multiplier 1: 8/16-channel asm runs of other windows, C % 8 tails, too few pixels, left shift
        (16, 16, 24, (5, 5), 1, 1, "SAME", False), (12, 12, 48, (5, 5), 1, 1, "SAME", False),
        (14, 14, 16, (5, 5), 1, 2, "SAME", False), (10, 10, 8, (5, 5), 1, 1, "SAME", False),
        (20, 20, 40, (2, 2), 1, 1, "VALID", False), (12, 12, 10, (5, 5), 1, 1, "SAME", False),
        (12, 12, 24, (3, 3), 1, 1, "SAME", True), (4, 4, 24, (3, 3), 1, 1, "SAME", False),
        (10, 10, 32, (1, 3), 1, 1, "SAME", False),
        # multipliers 4 and 8
        (12, 12, 2, (5, 5), 4, 1, "SAME", False), (10, 10, 4, (3, 3), 8, 2, "SAME", False),
        (16, 16, 3, (3, 3), 8, 2, "SAME", False), (9, 9, 6, (2, 4), 4, 1, "SAME", False),
        (10, 10, 4, (3, 3), 3, 1, "SAME", False),
    ]:  # fmt: skip
        case = dwconv(rng, h, w, c, k, m, s, p)
        g.append(_left_shift(case) if left else case)
    return g


def batches(graphs: list[Graph]) -> list[Graph]:
    """Merged graphs below the arena and weight limits, each led by a tiny warm-up layer that takes the
    invoke prologue (the profiler charges it to the first layer) and is left out of the fit."""
    rng = np.random.default_rng(99)
    out, current, arena, weights = [], [], 0, 0
    for g in graphs:
        a = sum(t.nbytes for t in g.tensors.values() if not t.is_const)
        w = sum(t.nbytes for t in g.tensors.values() if t.is_const)
        if current and (arena + a > MAX_BATCH_ARENA or weights + w > MAX_BATCH_WEIGHTS):
            out.append(current)
            current, arena, weights = [], 0, 0
        current.append(g)
        arena, weights = arena + a, weights + w
    if current:
        out.append(current)
    return [merge([binary(rng, "ADD", (1, 1), (1, 1), (1, 1)), *b], f"calib{i}") for i, b in enumerate(out)]


# ---------------------------------------------------------------------------------------------- measuring


def core_target(core: str):
    name = CORES[core][0]
    t = load_target(name)
    if t.qemu is None and core == "cortex-m0plus":  # ARMv6-M code on the M3 machine
        t = dataclasses.replace(t, qemu=load_target("sam3x8e").qemu)
    return t


def _samples(meta: dict, seed: int) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.integers(-128, 128, size=t["shape"]).astype(np.int8) for t in meta["inputs"]]]


def variant_of(core: str) -> str:
    """The kernel variant of the core's calibration target (its `kernels`)."""
    return core_target(core).kernels


def with_kernels(target, variant: str):
    return dataclasses.replace(target, kernels=variant)


def measure(outdir: Path, graph: Graph, core: str, variant: str = "reference") -> list[tuple[str, str, dict, int]]:
    """(kernel path, model key, features, exact instructions) of every layer of a graph compiled with the
    `variant` kernels, run on a core."""
    meta = load_metadata(outdir)
    _, prof = run_qemu(outdir, with_kernels(core_target(core), variant), _samples(meta, 1), profile=True)
    rows = []
    for node, layer in zip(graph.nodes, prof["layers"], strict=True):
        path = kernel_path(node, graph, variant)
        rows.append((path, model_key(node, graph), features(node, graph, path), layer["instructions"]))
    return rows


def fit(rows: list[tuple[dict[str, float], int]], names: tuple[str, ...]) -> tuple[dict[str, float], float]:
    """Non-negative least squares on relative error; returns (coefficients, worst relative error)."""
    a = np.array([[f.get(n, 0.0) for n in names] for f, _ in rows], dtype=np.float64)
    y = np.array([m for _, m in rows], dtype=np.float64)
    coef, _ = nnls(a / y[:, None], np.ones_like(y))
    err = np.abs(a @ coef - y) / y
    return {n: float(c) for n, c in zip(names, coef)}, float(err.max())


Fits = dict[str, dict[str, dict[str, dict[str, float]]]]  # {core: {variant: {model key: {feature: coefficient}}}}


def calibrate(cores: list[str], work: Path, verbose: bool = True) -> Fits:
    """{core: {variant: {model key: coefficients}}} fitted to QEMU counts of the calibration set, for the
    reference kernels and the core's variant (only the keys whose specialised variant code ran)."""
    merged = batches(calibration_set())
    outdirs: dict[str, list[Path]] = {}
    result: Fits = {}
    for core in cores:
        result[core] = {}
        for variant in dict.fromkeys(("reference", variant_of(core))):
            start = time.perf_counter()
            if variant not in outdirs:
                outdirs[variant] = []
                for g in merged:
                    out = work / variant / g.name
                    emit_c(g, out, kernel_variant=variant)
                    outdirs[variant].append(out)
            rows: dict[str, list] = {}
            for g, out in zip(merged, outdirs[variant]):
                for k, (path, key, feats, n) in enumerate(measure(out, g, core, variant)):
                    if k > 0 and path == variant:  # layer 0 is the warm-up layer
                        rows.setdefault(key, []).append((feats, n))
            table, worst = {}, {}
            for key, data in sorted(rows.items()):
                table[key], worst[key] = fit(data, feature_names(variant, key))
            if variant == "reference":
                all_rows = [r for data in rows.values() for r in data]
                table[GENERIC], worst[GENERIC] = fit(all_rows, GENERIC_FEATURES)
            result[core][variant] = table
            if verbose:
                print(f"{core} {variant}: {sum(map(len, rows.values()))} layers in {len(merged)} firmware, "
                      f"{time.perf_counter() - start:.1f} s; worst relative fit error per op: "
                      + ", ".join(f"{k} {v:.1%}" for k, v in worst.items()))  # fmt: skip
    return result


# ---------------------------------------------------------------------------------------------- TOMLs


def cost_block(old_block: str, tables: dict[str, dict[str, dict[str, float]]], measured: bool, basis: str) -> str:
    """The [cost] section: the target's own lines (cycles_per_instruction, comments) kept, the fit replaced by
    `tables` = {variant: {model key: coefficients}} ([cost.<variant>.<key>])."""
    keep = []
    for line in old_block.splitlines()[1:]:
        if line.startswith("[cost."):
            break
        if not re.match(r"\s*(measured|basis)\s*=|# instructions ≈", line) and line.strip():
            keep.append(line)
    lines = ["[cost]", *keep, f"measured = {'true' if measured else 'false'}", f"basis = {_toml_str(basis)}"]
    lines.append("# instructions ≈ Σ coefficient × feature (plan/cost.py); fitted by benchmarks/calibrate_cost.py")
    for variant, table in tables.items():
        for key, coeffs in table.items():
            lines.append(f"\n[cost.{_toml_key(variant)}.{_toml_key(key)}]")
            lines += [f"{n} = {_round(c)}" for n, c in coeffs.items()]
    return "\n".join(lines) + "\n"


def _round(c: float) -> str:
    return f"{c:.4g}"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_str(key)


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_target(name: str, tables: dict[str, dict[str, dict[str, float]]], measured: bool, basis: str) -> None:
    path = ROOT / "targets" / f"{name}.toml"
    text = path.read_text()
    m = re.search(r"^\[cost\]\s*$", text, re.M)
    if m is None:
        text = text.rstrip("\n") + "\n\n" + cost_block("[cost]\n", tables, measured, basis)
    else:
        end = re.search(r"^\[(?!cost[.\]])", text[m.end() :], re.M)
        stop = m.end() + end.start() if end else len(text)
        text = text[: m.start()] + cost_block(text[m.start():stop], tables, measured, basis) + \
            ("\n" + text[stop:] if end else "")  # fmt: skip
    path.write_text(text)


def _toolchain_version(core: str) -> str:
    cc = core_target(core).toolchain
    try:
        first = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        return re.findall(r"\d+\.\d+\.\d+", first)[-1]
    except (OSError, IndexError):
        return "?"


def write_all(fits: Fits) -> None:
    """Every target of a core gets the core's reference tables, and the variant tables of its own `kernels`
    (a target whose variant was not fitted on its core keeps reference tables only)."""
    for core, tables in fits.items():
        t = core_target(core)
        how = " (ARMv6-M code run on the M3 machine: exact M0+ instruction counts)" if core == "cortex-m0plus" else ""
        for name in CORES[core][1]:
            own = {v: tab for v, tab in tables.items() if v in ("reference", load_target(name).kernels)}
            kinds = " and ".join(f"{v} kernels" for v in own)
            basis = (f"fitted to exact QEMU instruction counts on {t.qemu.machine}{how}, {t.toolchain} "
                     f"{_toolchain_version(core)} -O2, {kinds}")  # fmt: skip
            write_target(name, own, True, basis)
    for name, (core, why) in DERIVED.items():
        if core in fits and (ROOT / "targets" / f"{name}.toml").is_file():
            write_target(name, {"reference": fits[core]["reference"]}, False, why)


# ---------------------------------------------------------------------------------------------- check


def check(cores: list[str], work: Path, variants: str = "both") -> list[dict]:
    """Estimate vs QEMU per shared model, core and kernels (the reference kernels and the calibration
    target's own variant, each compiled with those kernels): total and per big layer (> 10 % of the MACs)."""
    rows = []
    for model in MODELS:
        g = load_model(SHARED / "tflite" / f"{model}.tflite")
        compiled: dict[str, Path] = {}
        for core in cores:
            t = core_target(core)
            wanted = {"both": ("reference", t.kernels), "actual": (t.kernels,), "reference": ("reference",)}[variants]
            for variant in dict.fromkeys(wanted):
                if variant not in compiled:
                    compiled[variant] = work / "check" / variant / model
                    emit_c(g, compiled[variant], kernel_variant=variant)
                out = compiled[variant]
                meta = load_metadata(out)
                total_macs = max(meta["macs"], 1)
                _, prof = run_qemu(out, with_kernels(t, variant), _samples(meta, 3), profile=True)
                est = estimate(g, with_kernels(load_target(CORES[core][0]), variant))
                errs = [((e.instructions - m["instructions"]) / m["instructions"], e.macs / total_macs, e.index, e.op)
                        for e, m in zip(est.layers, prof["layers"], strict=True) if m["instructions"] > 0]  # fmt: skip
                big = [e for e in errs if e[1] > 0.10]
                some = [e for e in errs if e[1] > 0.01]
                w10 = max(big, key=lambda e: abs(e[0])) if big else None
                rows.append({"model": model, "core": core, "variant": variant, "qemu": prof["instructions"],
                             "estimate": est.instructions,
                             "error": (est.instructions - prof["instructions"]) / prof["instructions"],
                             "worst_10pct": w10[0] if w10 else None, "n_10pct": len(big),
                             "worst_layer": f"#{w10[2]} {w10[3]}" if w10 else "",
                             "worst_1pct": max((e[0] for e in some), key=abs) if some else None,
                             "n_1pct": len(some)})  # fmt: skip
    return rows


def print_check(rows: list[dict]) -> None:
    """Total error, and the worst layer error among layers with > 10 % (and > 1 %) of the model's MACs
    (in parentheses: how many such layers; then the worst big layer)."""

    def worst(r: dict, key: str) -> str:
        return f"{r['worst_' + key]:>+8.1%} ({r['n_' + key]:>2})" if r["worst_" + key] is not None else f"{'-':>8} ( 0)"

    print(f"\n{'model':<24}{'core':<15}{'kernels':<11}{'QEMU instr':>13}{'estimate':>13}{'error':>9}"
          f"{'worst layer >10% MACs':>23}{'':<22}{'>1% MACs':>14}")  # fmt: skip
    for r in rows:
        print(f"{r['model']:<24}{r['core']:<15}{r['variant']:<11}{r['qemu']:>13,}{r['estimate']:>13,.0f}"
              f"{r['error']:>+9.1%}{worst(r, '10pct'):>23}  {r['worst_layer']:<20}{worst(r, '1pct'):>14}")  # fmt: skip


def print_fit(fits: Fits) -> None:
    keys = sorted({(v, k) for tables in fits.values() for v, table in tables.items() for k in table})
    for variant, key in keys:
        names = feature_names(variant, key)
        print(f"\n[{variant}] {key}: instructions ≈ Σ coefficient × feature")
        print(f"  {'core':<15}" + "".join(f"{n:>11}" for n in names))
        for core, tables in fits.items():
            if key in tables.get(variant, {}):
                print(f"  {core:<15}" + "".join(f"{tables[variant][key][n]:>11.3f}" for n in names))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cores", default=",".join(CORES), help="comma-separated subset of " + ",".join(CORES))
    ap.add_argument("--write", action="store_true", help="write the fitted coefficients into targets/*.toml")
    ap.add_argument("--check", action="store_true", help="only compare the TOMLs' estimates with QEMU on the models")
    ap.add_argument("--kernels", choices=("both", "actual", "reference"), default="both",
                    help="kernels compared by the check: the reference ones and/or each target's own variant")  # fmt: skip
    args = ap.parse_args(argv)
    cores = [c for c in args.cores.split(",") if c]
    unknown = set(cores) - set(CORES)
    if unknown:
        ap.error(f"unknown cores {sorted(unknown)}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mf-calib-") as tmp:
        if not args.check:
            fits = calibrate(cores, Path(tmp))
            print_fit(fits)
            if args.write:
                write_all(fits)
                print("\nwrote the coefficients into targets/*.toml")
        if args.check or args.write:
            print_check(check(cores, Path(tmp), args.kernels))
    print(f"\n{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
