"""The `arm_dsp` kernel variant (Cortex-M4/M7/M33 DSP extension) in QEMU, bit for bit against the integer reference.

Random one-op cases (odd channel counts, 1x1 / 3x3 / other filters, strides, dilation, SAME / VALID, depth
multipliers, batches, per-tensor and per-channel weights, extreme scales, every fused activation) are merged into
one multi-input graph per op so that one firmware build covers many cases; chains of layers let the arena planner
overlap outputs with dying inputs (the kernels' in-place checks); the shared models run end to end; the SMMLAR
requantization is checked against mf_requantize over the int32 range in QEMU.
"""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
from ops.test_add import add_case
from ops.test_conv2d import conv_case
from ops.test_depthwise_conv2d import dw_case
from ops.test_fully_connected import fc_case

from microforge import ops
from microforge.backends.c.emit import emit_c
from microforge.importers import load_model
from microforge.ir import Graph
from microforge.ops.conv2d import Conv2DAttrs
from microforge.ops.depthwise_conv2d import DepthwiseConv2DAttrs
from microforge.plan.memory import plan_memory
from microforge.reference import run_reference
from microforge.targets import load_target
from microforge.validate.host import load_metadata, run_host
from microforge.validate.qemu import build_program, run_elf, run_qemu

from support import ROOT, SHARED, chain, merge, random_inputs

M4 = dataclasses.replace(load_target("stm32l4r5"), kernels="arm_dsp")
KERNELS = ("mf_conv2d_s8", "mf_depthwise_conv2d_s8", "mf_fully_connected_s8", "mf_add_s8")
ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")

pytestmark = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm",
)


def assert_qemu_exact(graph: Graph, samples, out, target=M4) -> dict:
    for node in graph.nodes:
        assert ops.get(node.op).check(node, graph) == [], node.name
    emit_c(graph, out, kernel_variant="arm_dsp")
    meta = load_metadata(out)
    used = {k: v for k, v in meta.get("kernel_sources", {}).items() if k in KERNELS}
    assert used and all(v == "arm_dsp" for v in used.values()), meta.get("kernel_sources")
    got, prof = run_qemu(out, target, samples, profile=True)
    for k, sample in enumerate(samples):
        want = run_reference(graph, sample)
        for i, (a, b) in enumerate(zip(want, got[k])):
            assert a.shape == b.shape and a.dtype == b.dtype
            diff = np.flatnonzero(a.astype(np.int64) != b.astype(np.int64))
            assert diff.size == 0, f"sample {k} output {graph.outputs[i]}: {diff.size} values differ, first {diff[:5]}"
    return prof


def with_extremes(graph: Graph, rng, count: int) -> list[list[np.ndarray]]:
    samples = random_inputs(graph, rng, count)
    samples.append([np.full(graph.tensor(x).shape, v, np.int8) for x, v in zip(graph.inputs, [-128, 127] * 99)])
    return samples


# ------------------------------------------------------------------------------------------------ cases


def conv_random(rng, seed):
    kh, kw = [(1, 1), (3, 3), (1, 1), (3, 3), (2, 3), (5, 1), (1, 4)][seed % 7]
    dh, dw = (int(v) for v in rng.integers(1, 3, 2)) if seed % 4 == 3 else (1, 1)
    sh, sw = (int(v) for v in rng.integers(1, 3, 2)) if seed % 3 else (1, 1)
    attrs = Conv2DAttrs(("SAME", "VALID")[seed % 2], sh, sw, dh, dw, ACTIVATIONS[seed % 4])
    groups = 2 if seed % 11 == 10 else 1
    h = (kh - 1) * dh + 1 + int(rng.integers(0, 8))
    w = (kw - 1) * dw + 1 + int(rng.integers(0, 8))
    # 8, 16, 24: the 1x1 stride-1 path (C_in % 8 == 0); 4, 12: the 4-byte step; others: the byte tails
    cin = groups * int(rng.choice([1, 2, 3, 4, 5, 8, 9, 12, 16, 17, 24]))
    cout = groups * int(rng.choice([1, 3, 4, 5, 8, 11, 16]))
    return conv_case(rng, int(rng.integers(1, 3)), h, w, cin, cout, kh, kw, attrs, per_channel=seed % 7 != 3,
                     bias=seed % 6 != 5, groups=groups)  # fmt: skip


def dw_random(rng, seed):
    kh, kw = [(3, 3), (3, 3), (3, 3), (5, 5), (2, 3), (3, 1)][seed % 6]
    dh, dw = (int(v) for v in rng.integers(1, 3, 2)) if seed % 5 == 4 else (1, 1)
    sh, sw = [(1, 1), (2, 2), (1, 2), (2, 1), (3, 3)][seed % 5]
    mult = [1, 1, 2, 4, 8, 3][seed % 6] if seed % 3 else 1
    attrs = DepthwiseConv2DAttrs(("SAME", "VALID")[seed % 2], sh, sw, mult, dh, dw, ACTIVATIONS[seed % 4])
    h = (kh - 1) * dh + 1 + int(rng.integers(0, 10))
    w = (kw - 1) * dw + 1 + int(rng.integers(0, 10))
    cin = int(rng.choice([1, 3, 4, 5, 8, 16, 20]))
    return dw_case(rng, int(rng.integers(1, 3)), h, w, cin, kh, kw, attrs, per_channel=seed % 7 != 3,
                   bias=seed % 6 != 5)  # fmt: skip


def fc_random(rng, seed):
    return fc_case(rng, int(rng.integers(1, 4)), int(rng.choice([1, 5, 8, 13, 64, 250])), int(rng.integers(1, 11)),
                   seed % 3 != 0, ACTIVATIONS[seed % 4], bias=seed % 5 != 4)  # fmt: skip


def extreme_scales(rng):
    """Multipliers with left shifts (effective scale > 1: the reference path), large right shifts (tiny scales)."""
    return [
        conv_case(rng, 1, 6, 7, 8, 8, 1, 1, Conv2DAttrs("SAME", 1, 1, 1, 1, "NONE"), scales=(0.9, np.full(8, 0.8), 0.05)),
        conv_case(rng, 1, 6, 9, 5, 4, 3, 3, Conv2DAttrs("SAME", 1, 1, 1, 1, "NONE"), scales=(1e-3, np.full(4, 1e-4), 50.0)),
        conv_case(rng, 1, 4, 6, 16, 6, 1, 1, Conv2DAttrs("SAME", 1, 1, 1, 1, "RELU"),
                  scales=(0.3, np.array([0.05, 1e-4, 1e-12, 0.2, 3e-3, 0.5], np.float32), 0.01)),
        dw_case(rng, 1, 7, 10, 8, 3, 3, DepthwiseConv2DAttrs("SAME", 1, 1, 1, 1, 1, "NONE"),
                scales=(0.9, np.full(8, 0.9), 0.02)),
        dw_case(rng, 1, 7, 10, 8, 3, 3, DepthwiseConv2DAttrs("SAME", 2, 2, 1, 1, 1, "RELU"),
                scales=(1e-3, np.full(8, 1e-4), 40.0)),
        fc_case(rng, 2, 40, 6, True, "NONE"),
    ]  # fmt: skip


@pytest.mark.parametrize(("kind", "count"), [("conv", 14), ("dw", 14), ("fc", 8)])
def test_random_cases_bit_exact(kind, count, tmp_path):
    rng = np.random.default_rng({"conv": 41, "dw": 42, "fc": 43}[kind])
    maker = {"conv": conv_random, "dw": dw_random, "fc": fc_random}[kind]
    graph = merge([maker(rng, seed) for seed in range(count)], f"dsp_{kind}")
    assert_qemu_exact(graph, with_extremes(graph, rng, 2), tmp_path / "out")


def test_extreme_scales_bit_exact(tmp_path):
    rng = np.random.default_rng(51)
    graph = merge(extreme_scales(rng), "dsp_extreme")
    assert_qemu_exact(graph, random_inputs(graph, rng, 3), tmp_path / "out")


def conv_block_cases(rng):
    """The CONV_2D paths by shape: 4-pixel blocks through the int16 stack buffer (patch <= 256 bytes in one
    chunk, larger patches in chunks of whole taps with partial sums on the stack; byte tails when the chunk % 4 !=
    0; without bias; blocks spanning rows and batches, 1-3 pixels left over), the 2x2 register blocks (C_out too
    large for the partial sums) and multipliers whose shift is below -22 (no zero-point folding)."""
    c = Conv2DAttrs
    return [
        conv_case(rng, 1, 5, 7, 8, 16, 1, 1, c("SAME", 1, 1, 1, 1, "RELU6")),      # 35 px: 8 blocks + 3
        conv_case(rng, 2, 3, 3, 16, 5, 1, 1, c("VALID", 1, 1, 1, 1, "RELU")),      # blocks across the batch
        conv_case(rng, 1, 6, 6, 3, 16, 3, 3, c("SAME", 1, 1, 1, 1, "RELU")),       # patch 27: tail
        conv_case(rng, 1, 7, 5, 12, 7, 1, 1, c("SAME", 1, 1, 1, 1, "NONE"), bias=False),
        conv_case(rng, 1, 13, 6, 1, 9, 10, 4, c("SAME", 2, 2, 1, 1, "RELU")),      # DS-CNN's first layer
        conv_case(rng, 1, 9, 9, 16, 8, 3, 3, c("SAME", 2, 2, 1, 1, "RELU_N1_TO_1")),
        conv_case(rng, 1, 6, 6, 256, 4, 1, 1, c("SAME", 1, 1, 1, 1, "NONE")),     # patch 256: the largest block
        conv_case(rng, 1, 6, 5, 32, 6, 3, 3, c("SAME", 1, 1, 1, 1, "RELU")),       # patch 288: 2 chunks
        conv_case(rng, 1, 5, 6, 30, 9, 3, 3, c("SAME", 1, 1, 1, 1, "RELU")),       # chunks with byte tails
        conv_case(rng, 1, 7, 6, 64, 12, 3, 3, c("SAME", 2, 2, 1, 1, "NONE"), bias=False),  # 5 chunks, no bias
        conv_case(rng, 1, 4, 5, 40, 130, 3, 3, c("VALID", 1, 1, 1, 1, "RELU6")),   # C_out 130: 2x2 blocks
        conv_case(rng, 1, 5, 6, 8, 4, 1, 1, c("SAME", 1, 1, 1, 1, "NONE"), scales=(0.01, np.full(4, 1e-6), 50.0)),
    ]  # fmt: skip


def test_conv_block_paths_bit_exact(tmp_path):
    rng = np.random.default_rng(81)
    graph = merge(conv_block_cases(rng), "dsp_conv_paths")
    assert_qemu_exact(graph, with_extremes(graph, rng, 3), tmp_path / "out")


def test_add_bit_exact(tmp_path):
    """ADD: same-shape inputs (the SMMLAR path) with random and extreme scales and every activation; broadcasting
    and a constant input (the reference loop)."""
    rng = np.random.default_rng(91)
    cases = [add_case(rng, (1, 5, 7, 6), (1, 5, 7, 6), (1, 5, 7, 6), activation=ACTIVATIONS[k]) for k in range(4)]
    cases += [
        add_case(rng, (2, 3, 17), (2, 3, 17), (2, 3, 17), scales=(0.001, 0.2, 0.003)),
        add_case(rng, (33,), (33,), (33,), scales=(0.5, 0.5, 1e-3), activation="RELU"),
        add_case(rng, (1, 4, 4, 8), (1, 4, 4, 8), (1, 4, 4, 8), scales=(1e-4, 2e-4, 10.0)),
        add_case(rng, (1, 3, 5, 7), (1, 3, 5, 7), (1, 3, 5, 7), scales=(0.1, 0.1000001, 50.0)),
        add_case(rng, (1, 3, 5, 7), (1, 3, 5, 7), (1, 3, 5, 7), scales=(3e-3, 7.0, 1e-4)),
        add_case(rng, (1, 4, 5, 8), (1, 1, 1, 8), (1, 4, 5, 8), activation="RELU6"),
        add_case(rng, (1, 3, 1, 4), (1, 1, 6, 4), (1, 3, 6, 4)),
        add_case(rng, (1, 4, 4, 3), (1, 4, 4, 3), (1, 4, 4, 3), const2=True),
    ]
    graph = merge(cases, "dsp_add")
    assert_qemu_exact(graph, with_extremes(graph, rng, 3), tmp_path / "out")


def test_depthwise_planar_rows_bit_exact(tmp_path):
    """Depth multiplier > 1 with 3x3 filters: planar rows through the int16 stack buffer (stride 1 and 2, SAME /
    VALID, odd and even output widths, channel chunks when a row's planes exceed the buffer, batches); a chain
    lets the arena overlap output rows with input rows (the per-row pointer check)."""
    rng = np.random.default_rng(101)
    d = DepthwiseConv2DAttrs
    cases = [
        dw_case(rng, 1, 11, 12, 1, 3, 3, d("SAME", 2, 2, 8, 1, 1, "RELU6")),  # person_detect's first layer
        dw_case(rng, 2, 7, 9, 2, 3, 3, d("SAME", 1, 1, 4, 1, 1, "NONE")),
        dw_case(rng, 1, 8, 7, 3, 3, 3, d("VALID", 2, 2, 4, 1, 1, "RELU")),
        dw_case(rng, 1, 5, 200, 8, 3, 3, d("SAME", 1, 1, 4, 1, 1, "RELU_N1_TO_1")),  # 2 channels per chunk
        dw_case(rng, 1, 4, 700, 1, 3, 3, d("SAME", 1, 1, 8, 1, 1, "NONE")),  # a plane wider than the buffer
    ]
    graph = merge(cases, "dsp_dw_planar")
    assert_qemu_exact(graph, with_extremes(graph, rng, 2), tmp_path / "out")


def test_depthwise_interior_runs_bit_exact(tmp_path):
    """Depth multiplier 1, 3x3, C % 4 == 0: interior pixels in runs through the per-channel constant table
    (C <= 128; C 132 takes the per-pixel path), every activation (byte clamps on and off), no bias, stride 2,
    dilation_h 2, per-tensor weights, batches; a chain overlaps outputs with dying inputs in the arena."""
    rng = np.random.default_rng(117)
    d = DepthwiseConv2DAttrs
    cases = [
        dw_case(rng, 1, 7, 9, 8, 3, 3, d("SAME", 1, 1, 1, 1, 1, "RELU6")),
        dw_case(rng, 2, 6, 8, 16, 3, 3, d("VALID", 1, 1, 1, 1, 1, "NONE"), bias=False),
        dw_case(rng, 1, 9, 11, 12, 3, 3, d("SAME", 2, 2, 1, 1, 1, "RELU")),
        dw_case(rng, 1, 8, 6, 4, 3, 3, d("SAME", 1, 2, 1, 2, 1, "RELU_N1_TO_1"), per_channel=False),
        dw_case(rng, 1, 5, 5, 128, 3, 3, d("SAME", 1, 1, 1, 1, 1, "RELU6")),
        dw_case(rng, 1, 4, 5, 132, 3, 3, d("SAME", 1, 1, 1, 1, 1, "NONE")),
    ]
    graph = merge(cases, "dsp_dw_runs")
    assert_qemu_exact(graph, with_extremes(graph, rng, 2), tmp_path / "out")
    parts = [dw_case(rng, 1, 10, 10, 16, 3, 3, d("SAME", 1, 1, 1, 1, 1, a), scales=(0.05, None, 0.05))
             for a in ("RELU6", "NONE", "RELU")]  # fmt: skip
    chained = chain(parts, "dsp_dw_runs_chain")
    assert_qemu_exact(chained, random_inputs(chained, rng, 2), tmp_path / "chain")


def test_inplace_chain_bit_exact(tmp_path):
    """A MobileNet-like chain whose arena plan overlaps outputs with dying inputs: the 2-pixel blocks must fall
    back to single pixels where writing the second pixel first would clobber input still to be read."""
    rng = np.random.default_rng(61)
    s = (0.05, None, 0.05)
    parts = [
        conv_case(rng, 1, 12, 12, 16, 16, 1, 1, Conv2DAttrs("SAME", 1, 1, 1, 1, "RELU6")),
        dw_case(rng, 1, 12, 12, 16, 3, 3, DepthwiseConv2DAttrs("SAME", 1, 1, 1, 1, 1, "RELU6"), scales=s),
        conv_case(rng, 1, 12, 12, 16, 16, 1, 1, Conv2DAttrs("SAME", 1, 1, 1, 1, "RELU"), scales=s),
        conv_case(rng, 1, 12, 12, 16, 8, 1, 1, Conv2DAttrs("SAME", 1, 1, 1, 1, "RELU"), scales=s),
        dw_case(rng, 1, 12, 12, 8, 3, 3, DepthwiseConv2DAttrs("SAME", 2, 2, 1, 1, 1, "NONE"), scales=s),
        conv_case(rng, 1, 6, 6, 8, 8, 3, 3, Conv2DAttrs("SAME", 1, 1, 1, 1, "NONE"), scales=s),
    ]
    graph = chain(parts, "dsp_chain")
    assert plan_memory(graph).overlapped_pairs, "the planner should overlap at least one output with its input"
    assert_qemu_exact(graph, random_inputs(graph, rng, 3), tmp_path / "out")


@pytest.mark.parametrize("model", ["person_detect", "micro_speech_quantized"])
def test_shared_model_qemu_equals_host(model, tmp_path):
    """End to end with the arm_dsp kernels in QEMU == the host build (reference kernels); and fewer instructions."""
    graph = load_model(SHARED / "tflite" / f"{model}.tflite")
    out = tmp_path / "out"
    emit_c(graph, out, kernel_variant="arm_dsp")
    meta = load_metadata(out)
    rng = np.random.default_rng(5)
    samples = [[rng.integers(-128, 128, size=t["shape"], dtype=np.int8) for t in meta["inputs"]] for _ in range(2)]
    want, _ = run_host(out, samples)
    got, prof = run_qemu(out, M4, samples, profile=True)
    for a, b in zip(got, want):
        for x, y in zip(a, b):
            assert np.array_equal(x, y)
    macs = sum(layer["macs"] for layer in prof["layers"])
    # reference kernels on the M4: 12.7 (person_detect) instructions per MAC; arm_dsp: 2.7
    limit = {"person_detect": 3.2, "micro_speech_quantized": 8.0}[model]
    assert prof["instructions"] / macs < limit, prof["instructions"] / macs


@pytest.mark.slow
@pytest.mark.parametrize("target", ["nrf52840", "stm32f746", "stm32h743", "stm32u585"])
def test_other_cores_bit_exact(target, tmp_path):
    """The same kernels built for the M4F/M7/M33 profiles (their own cflags) in their QEMU machines."""
    rng = np.random.default_rng(71)
    graph = merge([m(rng, 3 + k) for m in (conv_random, dw_random, fc_random) for k in range(3)], "dsp_cores")
    core = dataclasses.replace(load_target(target), kernels="arm_dsp")
    assert_qemu_exact(graph, random_inputs(graph, rng, 2), tmp_path / "out", core)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_random_cases_bit_exact_slow(seed, tmp_path):
    rng = np.random.default_rng(200 + seed)
    graph = merge(
        [m(rng, 20 + 3 * seed + k) for m in (conv_random, dw_random, fc_random) for k in range(3)], "dsp_slow"
    )
    assert_qemu_exact(graph, with_extremes(graph, rng, 3), tmp_path / "out")


# ------------------------------------------------------------------------------------------- requantization

_RQ_CHECK = r"""
#include <stdio.h>
#include "mf_board.h"
#include "mf_requant.h"
#include KERNEL
static uint32_t s = 2463534242u;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 17; s ^= s << 5; return s; }
int main(void)
{
    long bad = 0;
    for (long i = 0; i < 200000; ++i) {
        int32_t acc = (int32_t)rnd() >> 2;            /* the fast path's domain: |acc| < 2^30 */
        if (i % 3 == 0) acc >>= (int)(rnd() % 30);
        if (i % 1000 == 1) acc = (1 << 30) - 1;
        if (i % 1000 == 2) acc = -(1 << 30) + 1;
        int32_t m = (int32_t)((1u << 30) | (rnd() & 0x3fffffffu));
        if (i % 500 == 3) m = 0x7fffffff;
        if (i % 500 == 4) m = 1 << 30;
        if (i % 997 == 5) m = 0;
        const int32_t sh = -1 - (int32_t)(rnd() % 31);  /* [-31, -1] */
        const int32_t mults[1] = {m}, shifts[1] = {sh};
        const int32_t want = mf_requantize(acc, m, sh);
        const int32_t got = RQ(acc, mults, shifts);
        if (want != got && bad++ < 5) {
            char line[96];
            snprintf(line, sizeof line, "acc=%ld m=%ld shift=%ld: %ld != %ld\n", (long)acc, (long)m, (long)sh,
                     (long)want, (long)got);
            mf_sh_puts(line);
        }
    }
    mf_sh_puts(bad == 0 ? "0 mismatches\n" : "mismatches\n");
    return bad != 0;
}
"""


@pytest.mark.parametrize("kernel", KERNELS)
def test_requantization_matches_mf_requantize(kernel, tmp_path):
    """Each variant's SMMLAR requantization == mf_requantize for every shift < 0 and |acc| < 2^30 (the domain the
    kernels check before taking it), incl. zero and extreme multipliers; run in QEMU (M4)."""
    kernel_c = ROOT / "runtime_c" / "kernels" / "arm_dsp" / f"{kernel}.c"
    call = {
        "mf_depthwise_conv2d_s8": "rq_apply(a, m[0], s_[0])",
        "mf_add_s8": "rq(2 * (a), m[0], -s_[0], 1 << (-s_[0] - 1))",
    }.get(kernel, "rq_apply(a, rq_load(m, s_, 0))")
    src = tmp_path / "rq.c"
    src.write_text(f'#define KERNEL "{kernel_c}"\n#define RQ(a, m, s_) ({call})\n' + _RQ_CHECK)
    elf = build_program([src], M4, tmp_path / "build", include_dirs=[ROOT / "runtime_c" / "include"])
    run = run_elf(elf, M4, tmp_path, timeout=60, check=False)
    assert run.returncode == 0 and "0 mismatches" in run.stdout, run.stdout + run.stderr
