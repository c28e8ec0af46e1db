"""The `riscv` kernel variant (RV32IMC, ESP32-C3 profile) in QEMU, bit for bit against the integer reference.

Random one-op cases (odd channel counts, 1x1 / 3x3 / other filters, strides, dilation, SAME / VALID, depth
multipliers, batches, per-tensor and per-channel weights, extreme scales, every fused activation) are merged into
one multi-input graph per op so that one firmware build covers many cases; chains of layers let the arena planner
overlap outputs with dying inputs (the kernels' staged-pixel path); the shared models run end to end.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

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
from microforge.validate.qemu import run_qemu

from support import ROOT, SHARED, chain, merge, random_inputs

TARGET = dataclasses.replace(load_target("esp32c3"), kernels="riscv")
KERNELS = ("mf_conv2d_s8", "mf_depthwise_conv2d_s8", "mf_fully_connected_s8", "mf_add_s8")
ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")

pytestmark = pytest.mark.skipif(
    shutil.which("riscv64-unknown-elf-gcc") is None or shutil.which("qemu-system-riscv32") is None,
    reason="needs riscv64-unknown-elf-gcc and qemu-system-riscv32",
)


def assert_qemu_exact(graph: Graph, samples, out) -> dict:
    for node in graph.nodes:
        assert ops.get(node.op).check(node, graph) == [], node.name
    emit_c(graph, out, kernel_variant="riscv")
    meta = load_metadata(out)
    used = {k: v for k, v in meta.get("kernel_sources", {}).items() if k in KERNELS}
    assert used and all(v == "riscv" for v in used.values()), meta.get("kernel_sources")
    got, prof = run_qemu(out, TARGET, samples, profile=True)
    for k, sample in enumerate(samples):
        want = run_reference(graph, sample)
        for i, (a, b) in enumerate(zip(want, got[k])):
            assert a.shape == b.shape and a.dtype == b.dtype
            diff = np.flatnonzero(a.astype(np.int64) != b.astype(np.int64))
            assert diff.size == 0, f"sample {k} output {graph.outputs[i]}: {diff.size} values differ, first {diff[:5]}"
    return prof


# ------------------------------------------------------------------------------------------------ cases


def conv_random(rng, seed):
    kh, kw = [(1, 1), (3, 3), (1, 1), (3, 3), (2, 3), (5, 1), (1, 4)][seed % 7]
    dh, dw = (int(v) for v in rng.integers(1, 3, 2)) if seed % 4 == 3 else (1, 1)
    sh, sw = (int(v) for v in rng.integers(1, 3, 2)) if seed % 3 else (1, 1)
    attrs = Conv2DAttrs(("SAME", "VALID")[seed % 2], sh, sw, dh, dw, ACTIVATIONS[seed % 4])
    groups = 2 if seed % 11 == 10 else 1
    h = (kh - 1) * dh + 1 + int(rng.integers(0, 8))
    w = (kw - 1) * dw + 1 + int(rng.integers(0, 8))
    cin = groups * int(rng.choice([1, 2, 3, 5, 8, 9, 16, 17]))
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
    w = (kw - 1) * dw + 1 + int(rng.integers(4, 14))  # wide enough for the 4-pixel groups
    cin = int(rng.choice([1, 3, 5, 8, 16, 20]))
    return dw_case(rng, int(rng.integers(1, 3)), h, w, cin, kh, kw, attrs, per_channel=seed % 7 != 3,
                   bias=seed % 6 != 5)  # fmt: skip


def fc_random(rng, seed):
    return fc_case(rng, int(rng.integers(1, 4)), int(rng.choice([1, 5, 8, 13, 64, 250])), int(rng.integers(1, 11)),
                   seed % 3 != 0, ACTIVATIONS[seed % 4], bias=seed % 5 != 4)  # fmt: skip


def extreme_scales(rng):
    """Multipliers with left shifts (effective scale > 1) and large right shifts (tiny scales), both signs of zp."""
    return [
        conv_case(rng, 1, 6, 7, 8, 8, 1, 1, Conv2DAttrs("SAME", 1, 1, 1, 1, "NONE"), scales=(0.9, np.full(8, 0.8), 0.05)),
        conv_case(rng, 1, 6, 9, 5, 4, 3, 3, Conv2DAttrs("SAME", 1, 1, 1, 1, "NONE"), scales=(1e-3, np.full(4, 1e-4), 50.0)),
        dw_case(rng, 1, 7, 10, 8, 3, 3, DepthwiseConv2DAttrs("SAME", 1, 1, 1, 1, 1, "NONE"),
                scales=(0.9, np.full(8, 0.9), 0.02)),
        dw_case(rng, 1, 7, 10, 8, 3, 3, DepthwiseConv2DAttrs("SAME", 2, 2, 1, 1, 1, "RELU"),
                scales=(1e-3, np.full(8, 1e-4), 40.0)),
    ]  # fmt: skip


@pytest.mark.parametrize(("kind", "count"), [("conv", 14), ("dw", 14), ("fc", 8)])
def test_random_cases_bit_exact(kind, count, tmp_path):
    rng = np.random.default_rng({"conv": 11, "dw": 12, "fc": 13}[kind])
    maker = {"conv": conv_random, "dw": dw_random, "fc": fc_random}[kind]
    graph = merge([maker(rng, seed) for seed in range(count)], f"riscv_{kind}")
    samples = random_inputs(graph, rng, 2)
    samples.append([np.full(graph.tensor(x).shape, v, np.int8) for x, v in zip(graph.inputs, [-128, 127] * 99)])
    assert_qemu_exact(graph, samples, tmp_path / "out")


def test_extreme_scales_bit_exact(tmp_path):
    rng = np.random.default_rng(21)
    graph = merge(extreme_scales(rng), "riscv_extreme")
    assert_qemu_exact(graph, random_inputs(graph, rng, 3), tmp_path / "out")


def test_depth_multiplier_8_first_layer_bit_exact(tmp_path):
    """1-channel input, depth multiplier 8, 3x3 (person_detect's first layer): the 4-pixel group path for M = 8."""
    rng = np.random.default_rng(41)
    cases = []
    for k, (sh, sw) in enumerate([(1, 1), (2, 2), (2, 1), (1, 2), (2, 2), (1, 1)]):
        attrs = DepthwiseConv2DAttrs(("SAME", "VALID")[k % 2], sh, sw, 8, 1, 1, ACTIVATIONS[k % 4])
        h, w = int(rng.integers(3, 12)), int(rng.integers(9, 24))
        cases.append(dw_case(rng, 1 + k % 2, h, w, 1, 3, 3, attrs, per_channel=k != 3, bias=k != 5))
    graph = merge(cases, "riscv_dw_m8")
    assert_qemu_exact(graph, random_inputs(graph, rng, 3), tmp_path / "out")


def test_depthwise_edge_groups_bit_exact(tmp_path):
    """3x3 SAME widths whose first / last 4-pixel group clips one column (left edge, right edge), strides 1 and 2."""
    rng = np.random.default_rng(43)
    cases = []
    for k, (w, sw, c) in enumerate([(5, 1, 64), (6, 1, 5), (13, 2, 8), (8, 2, 3), (9, 2, 16), (4, 1, 7)]):
        attrs = DepthwiseConv2DAttrs("SAME", 1 + k % 2, sw, 1, 1, 1, ACTIVATIONS[k % 4])
        cases.append(dw_case(rng, 1, int(rng.integers(3, 8)), w, c, 3, 3, attrs, per_channel=k != 2, bias=k != 4))
    graph = merge(cases, "riscv_dw_edges")
    assert_qemu_exact(graph, random_inputs(graph, rng, 3), tmp_path / "out")


def test_conv_whole_window_triples_bit_exact(tmp_path):
    """Rows wide enough for the folded-offset 3-pixel blocks of non-1x1 convs, incl. leftover channels (C_out % 4),
    stride 2, dilation_h 2 and non-square filters."""
    rng = np.random.default_rng(61)
    cases = [
        conv_case(rng, 1, 7, 12, 8, 5, 3, 3, Conv2DAttrs("SAME", 1, 1, 1, 1, "NONE")),
        conv_case(rng, 2, 6, 13, 3, 11, 3, 3, Conv2DAttrs("VALID", 1, 2, 1, 1, "RELU")),
        conv_case(rng, 1, 5, 11, 5, 7, 2, 3, Conv2DAttrs("VALID", 1, 1, 1, 1, "RELU6")),
        conv_case(rng, 1, 9, 10, 4, 6, 3, 3, Conv2DAttrs("SAME", 1, 1, 2, 1, "RELU_N1_TO_1")),
        conv_case(rng, 1, 6, 9, 16, 8, 3, 3, Conv2DAttrs("SAME", 2, 1, 1, 1, "NONE"), per_channel=False, bias=False),
    ]
    graph = merge(cases, "riscv_conv_triples")
    assert_qemu_exact(graph, random_inputs(graph, rng, 3), tmp_path / "out")


def test_add_bit_exact(tmp_path):
    """ADD: dense and broadcast tensors above the table threshold (512 elements), small ones (reference copy),
    extreme scales, every activation, a constant input."""
    rng = np.random.default_rng(51)
    big, chan = (1, 8, 9, 16), (1, 1, 1, 16)
    cases = [
        add_case(rng, big, big, big, activation="NONE"),
        add_case(rng, (2, 5, 7, 11), (2, 5, 7, 11), (2, 5, 7, 11), activation="RELU"),
        add_case(rng, big, chan, big, activation="RELU6"),
        add_case(rng, (1, 8, 1, 1), big, big, activation="RELU_N1_TO_1"),
        add_case(rng, (1, 3, 4, 5), (1, 3, 4, 5), (1, 3, 4, 5)),
        add_case(rng, big, big, big, scales=(1e-4, 0.5, 0.01)),
        add_case(rng, big, big, big, scales=(3e-3, 7.0, 1e-4), activation="RELU"),
        add_case(rng, big, big, big, scales=(0.1, 0.1000001, 50.0)),
        add_case(rng, big, (16,), big, const2=True),
    ]
    graph = merge(cases, "riscv_add")
    samples = random_inputs(graph, rng, 2)
    samples.append([np.full(graph.tensor(x).shape, v, np.int8) for x, v in zip(graph.inputs, [-128, 127] * 99)])
    assert_qemu_exact(graph, samples, tmp_path / "out")


def test_inplace_chain_bit_exact(tmp_path):
    """A MobileNet-like chain whose arena plan overlaps outputs with dying inputs (staged second pixels)."""
    rng = np.random.default_rng(31)
    s = (0.05, None, 0.05)
    parts = [
        conv_case(rng, 1, 12, 12, 16, 16, 1, 1, Conv2DAttrs("SAME", 1, 1, 1, 1, "RELU6")),
        dw_case(rng, 1, 12, 12, 16, 3, 3, DepthwiseConv2DAttrs("SAME", 1, 1, 1, 1, 1, "RELU6"), scales=s),
        conv_case(rng, 1, 12, 12, 16, 12, 1, 1, Conv2DAttrs("SAME", 1, 1, 1, 1, "RELU"), scales=s),
        dw_case(rng, 1, 12, 12, 12, 3, 3, DepthwiseConv2DAttrs("SAME", 2, 2, 1, 1, 1, "NONE"), scales=s),
        conv_case(rng, 1, 6, 6, 12, 8, 3, 3, Conv2DAttrs("SAME", 1, 1, 1, 1, "NONE"), scales=s),
    ]
    graph = chain(parts, "riscv_chain")
    assert plan_memory(graph).overlapped_pairs, "the planner should overlap at least one output with its input"
    assert_qemu_exact(graph, random_inputs(graph, rng, 3), tmp_path / "out")


@pytest.mark.parametrize("model", ["person_detect", "micro_speech_quantized"])
def test_shared_model_qemu_equals_host(model, tmp_path):
    """End to end with the riscv kernels in QEMU == the host build (reference kernels); and fewer instructions."""
    graph = load_model(SHARED / "tflite" / f"{model}.tflite")
    out = tmp_path / "out"
    emit_c(graph, out, kernel_variant="riscv")
    meta = load_metadata(out)
    rng = np.random.default_rng(5)
    samples = [[rng.integers(-128, 128, size=t["shape"], dtype=np.int8) for t in meta["inputs"]] for _ in range(2)]
    want, _ = run_host(out, samples)
    got, prof = run_qemu(out, TARGET, samples, profile=True)
    for a, b in zip(got, want):
        for x, y in zip(a, b):
            assert np.array_equal(x, y)
    macs = sum(layer["macs"] for layer in prof["layers"])
    # reference kernels on RV32: 13.2 (person_detect) and ~15 (micro_speech) instructions per MAC
    assert prof["instructions"] / macs < 6.0, prof["instructions"] / macs


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_random_cases_bit_exact_slow(seed, tmp_path):
    rng = np.random.default_rng(100 + seed)
    graph = merge(
        [m(rng, 20 + 3 * seed + k) for m in (conv_random, dw_random, fc_random) for k in range(3)], "riscv_slow"
    )
    assert_qemu_exact(graph, random_inputs(graph, rng, 3), tmp_path / "out")


# ------------------------------------------------------------------------------------------- requantization

_RQ_CHECK = r"""
#include <stdio.h>
#include "mf_requant.h"
#include KERNEL
static unsigned long long s = 88172645463325252ull;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)s; }
int main(void)
{
    long bad = 0;
    for (long i = 0; i < 3000000; ++i) {
        int32_t x = (int32_t)rnd();
        if (i % 7 == 0) x >>= (int)(rnd() % 31);
        if (i % 1000 == 1) x = INT32_MIN;
        if (i % 1000 == 2) x = INT32_MAX;
        int32_t m = (int32_t)((1u << 30) | (rnd() & 0x3fffffffu));
        if (i % 500 == 3) m = 0x7fffffff;
        if (i % 500 == 4) m = 1 << 30;
        if (i % 997 == 5) m = 0;
        if (i % 11 == 6) { /* exact ties of both roundings: M = 2^30, x = small * 2^k */
            m = 1 << 30;
            x = (int32_t)((uint32_t)((int32_t)(rnd() % 2048) - 1024) << (rnd() % 21));
        }
        int32_t sh = (int32_t)(rnd() % 43) - 31;
        if (sh > 0 && (i & 1)) sh = -sh;
        int32_t bias = (int32_t)rnd() >> (int)(rnd() % 32);
        int32_t zp = (int32_t)(rnd() % 256) - 128;
        int32_t lo = (i % 3) ? -128 : zp, hi = 127;
        int32_t mults[1] = {m}, shifts[1] = {sh}, biases[1] = {bias};
        mf_per_channel_quant q = {mults, shifts};
        rv_rq r = rv_rq_load(&q, biases, 0);
        int32_t want = mf_clamp(mf_requantize((int32_t)((uint32_t)x + (uint32_t)bias), m, sh) + zp, lo, hi);
        int32_t got = rv_requant(&r, x, zp, lo, hi);
        if (want != got && bad++ < 5) printf("x=%d bias=%d m=%d shift=%d: %d != %d\n", x, bias, m, sh, want, got);
    }
    printf("%ld mismatches\n", bad);
    return bad != 0;
}
"""


@pytest.mark.parametrize("kernel", KERNELS)
def test_requantization_matches_mf_requantize(kernel, tmp_path):
    """The variants' RV32-friendly requantization == mf_requantize (+ offset, clamp) over the whole int32 range,
    incl. the extremes no model layer reaches (|value| near 2^31 with right shifts up to 31); host gcc."""
    if shutil.which("gcc") is None:
        pytest.skip("needs host gcc")
    src = tmp_path / "rq.c"
    src.write_text(_RQ_CHECK)
    kernel_c = ROOT / "runtime_c" / "kernels" / "riscv" / f"{kernel}.c"
    exe = tmp_path / "rq"
    cc = ["gcc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Wno-unused-function", f"-I{ROOT / 'runtime_c' / 'include'}",
          f'-DKERNEL="{kernel_c}"', str(src), "-o", str(exe)]  # fmt: skip
    build = subprocess.run(cc, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "0 mismatches", run.stdout
