"""Non-MAC int8 kernels in QEMU on every kernel variant's core, bit for bit against the integer reference.

ADD: the arm_dsp / arm_mve / riscv drop-ins (per-call input tables above their element thresholds, the per-element
paths below them and for other parameters, broadcasting, every activation, extreme scales, element counts that are
not a multiple of the vector width). MEAN, PAD and AVERAGE_POOL_2D: the portable kernels compiled for each core
(contiguous-axes MEAN with channel chunks, PAD copy runs with every relative alignment of input and output rows,
pooling with partial windows); the chains let the arena planner place tensors at unaligned offsets.
"""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
from ops.test_add import add_case
from ops.test_average_pool2d import pool_case
from ops.test_mean import mean_case
from ops.test_pad import pad_case

from microforge import ops
from microforge.pipeline import compile_graph
from microforge.reference import run_reference
from microforge.targets import load_target

from support import act, const, merge, one_op_graph, random_inputs

VARIANTS = {"M4": ("stm32l4r5", "arm_dsp"), "M55": ("corstone300_m55", "arm_mve"), "RV32": ("esp32c3", "riscv")}
ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def _target(core):
    name, kernels = VARIANTS[core]
    t = dataclasses.replace(load_target(name), kernels=kernels)
    for exe in (t.toolchain, t.qemu.system):
        if shutil.which(exe) is None:
            pytest.skip(f"{exe} not installed")
    return t


def assert_qemu_exact(graph, samples, outdir, target) -> dict:
    from microforge.validate.qemu import run_qemu

    for node in graph.nodes:
        assert ops.get(node.op).check(node, graph) == [], node.name
    compile_graph(graph, outdir, target=target)
    meta = json.loads((outdir / "metadata.json").read_text())
    outs, _ = run_qemu(outdir, target, samples, profile=True)
    for k, s in enumerate(samples):
        ref = run_reference(graph, s)
        for i, (a, b) in enumerate(zip(ref, outs[k])):
            diff = np.flatnonzero(a.astype(np.int64).ravel() != np.asarray(b).astype(np.int64).ravel())
            assert diff.size == 0, f"sample {k} output {graph.outputs[i]}: {diff.size} values differ, first {diff[:8]}"
    return meta


def with_extremes(graph, rng, count):
    samples = random_inputs(graph, rng, count)
    samples.append([np.full(graph.tensor(x).shape, v, np.int8) for x, v in zip(graph.inputs, [-128, 127] * 99)])
    samples.append([np.full(graph.tensor(x).shape, v, np.int8) for x, v in zip(graph.inputs, [127, -128] * 99)])
    return samples


@pytest.mark.parametrize("core", list(VARIANTS))
def test_add_tables_bit_exact(core, tmp_path):
    """Same-shape ADDs above the table thresholds (256-1024 elements) with every activation, equal input
    quantizations (one shared table), extreme scales (output shift below -23: the per-element path), counts not a
    multiple of 4 or 16, and small / broadcast cases."""
    target = _target(core)
    rng = np.random.default_rng(311)
    big = (1, 8, 9, 16)
    cases = [add_case(rng, big, big, big, activation=ACTIVATIONS[k]) for k in range(4)]
    cases += [
        add_case(rng, (1, 7, 9, 13), (1, 7, 9, 13), (1, 7, 9, 13), activation="RELU"),  # 819: tails
        add_case(rng, (3, 5, 7, 11), (3, 5, 7, 11), (3, 5, 7, 11), activation="RELU6"),  # 1155
        add_case(rng, (257,), (257,), (257,)),
        add_case(rng, (1, 1, 2, 511), (1, 1, 2, 511), (1, 1, 2, 511), activation="RELU_N1_TO_1"),
        add_case(rng, big, big, big, scales=(0.05, 0.05, 0.07)),  # equal input quantization
        add_case(rng, big, big, big, scales=(1e-4, 0.5, 0.01)),
        add_case(rng, big, big, big, scales=(3e-3, 7.0, 1e-4), activation="RELU"),
        add_case(rng, big, big, big, scales=(0.1, 0.1000001, 50.0)),  # output shift < -23
        add_case(rng, big, big, big, scales=(0.5, 0.5, 1e-3), activation="RELU"),
        add_case(rng, (1, 4, 4, 8), (1, 4, 4, 8), (1, 4, 4, 8), scales=(1e-4, 2e-4, 10.0)),
        add_case(rng, big, big, big, scales=(0.5, 0.4, 10.0), activation="RELU_N1_TO_1"),  # act_min == act_max
        add_case(rng, big, big, big, scales=(0.02, 0.03, 0.01), activation="RELU6"),  # many clamped outputs
        add_case(rng, (1, 3, 5, 7), (1, 3, 5, 7), (1, 3, 5, 7)),  # below the thresholds
        add_case(rng, big, (1, 1, 1, 16), big, activation="RELU6"),  # broadcast: the tables row by row
        add_case(rng, (1, 1, 9, 13), (1, 6, 9, 13), (1, 6, 9, 13)),  # rows of 13: predicated tails
        add_case(rng, (2, 7, 11, 5), (2, 1, 11, 5), (2, 7, 11, 5), activation="RELU"),  # rows of 5
        add_case(rng, big, big, big, const2=True),
    ]
    for g in cases:  # same zero points too: one shared table when the scales also match
        if g.tensor("a").quant.scale[0] == g.tensor("b").quant.scale[0]:
            g.tensor("b").quant.zero_point[:] = g.tensor("a").quant.zero_point
    graph = merge(cases, f"nonmac_add_{core}")
    meta = assert_qemu_exact(graph, with_extremes(graph, rng, 2), tmp_path / "out", target)
    assert meta["kernel_sources"]["mf_add_s8"] == VARIANTS[core][1]


@pytest.mark.parametrize("core", list(VARIANTS))
def test_mean_pad_pool_bit_exact(core, tmp_path):
    """MEAN (global average pooling over 1..3 channel chunks, > 256 reduced rows, fewer than 16 channels, the last
    axis, leading axes, the general path),
    PAD (innermost padded dim 0..3, odd channel counts so input and output rows have every alignment mod 4,
    long rows for the 16-byte blocks) and AVERAGE_POOL_2D, compiled for the core."""
    target = _target(core)
    rng = np.random.default_rng(313)
    cases = [
        mean_case(rng, (1, 6, 5, 64), [1, 2], keep_dims=False, same_quant=False),
        mean_case(rng, (2, 3, 3, 300), [1, 2], keep_dims=True, same_quant=False),
        mean_case(rng, (1, 2, 2, 600), [1, 2], keep_dims=False, same_quant=True),
        mean_case(rng, (3, 4, 37), [2], keep_dims=False, same_quant=False),
        mean_case(rng, (5, 3, 4, 6), [0, 1], keep_dims=False, same_quant=False),
        mean_case(rng, (2, 3, 4, 5), [1, 3], keep_dims=True, same_quant=False),
        mean_case(rng, (1, 17, 17, 32), [1, 2], keep_dims=False, same_quant=False),  # 289 rows: int16 blocks of 256
        mean_case(rng, (2, 4, 4, 5), [1, 2], keep_dims=False, same_quant=True),  # fewer than 16 channels
        mean_case(rng, (2, 700), [1], keep_dims=False, same_quant=False),  # the last axis, 16-byte steps + tail
        pad_case(rng, "PAD", 4, paddings=[[0, 0], [1, 1], [1, 1], [0, 0]]),
        pad_case(rng, "PADV2", 4, paddings=[[0, 0], [2, 1], [3, 2], [0, 0]]),
        pad_case(rng, "PAD", 4, paddings=[[0, 0], [0, 0], [0, 0], [1, 2]]),
        pad_case(rng, "PAD", 4, paddings=[[1, 0], [0, 0], [0, 0], [0, 0]]),
        pad_case(rng, "PAD", 3, paddings=[[1, 2], [0, 0], [0, 0]]),
        pad_case(rng, "PAD", 2, paddings=[[0, 0], [0, 0]]),
        pool_case(rng, (1, 7, 6, 19), "SAME", (3, 3), (2, 2), activation="RELU6"),
        pool_case(rng, (2, 5, 5, 40), "VALID", (5, 5), (1, 1)),
        pool_case(rng, (1, 9, 8, 3), "SAME", (2, 3), (1, 2), activation="RELU"),
    ]
    # wider pads: rows of 3 * 37 bytes, input and output row starts at all offsets mod 4
    for c, pads in ((37, [[0, 0], [1, 0], [1, 2], [0, 0]]), (5, [[0, 0], [0, 1], [3, 0], [0, 0]])):
        x = act("x", (1, 3, 7, c), 0.02, 3)
        y = act("y", (1, 3 + sum(pads[1]), 7 + sum(pads[2]), c), 0.02, 3)
        cases.append(one_op_graph("PAD", [x, const("paddings", np.asarray(pads, np.int32))], [y]))
    graph = merge(cases, f"nonmac_misc_{core}")
    assert_qemu_exact(graph, with_extremes(graph, rng, 2), tmp_path / "out", target)
