"""Latency cost model: features count the kernels' loops exactly, estimates are consistent, every profile has
coefficients, Xtensa is labeled as not measured, and estimates match exact QEMU counts on the shared models."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

from microforge.analysis import summarize
from microforge.importers import load_model
from microforge.ops._conv_util import window
from microforge.plan.cost import (
    CONST,
    FEATURES,
    GENERIC,
    GENERIC_FEATURES,
    estimate,
    feature_names,
    features,
    kernel_path,
    variant_kernels,
)
from microforge.targets import available_targets, load_target
from microforge.validate.host import load_metadata
from microforge.validate.qemu import run_qemu

from support import SHARED, act, const, one_op_graph

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import calibrate_cost  # noqa: E402


def _conv_graph(rng, op: str, h: int, w: int, cin: int, k: tuple[int, int], stride: int, dil: int, padding: str,
                mult_or_cout: int):  # fmt: skip
    from microforge.ops._conv_util import out_size
    from microforge.ops.conv2d import Conv2DAttrs
    from microforge.ops.depthwise_conv2d import DepthwiseConv2DAttrs

    kh, kw = k
    oh, ow = out_size(padding, h, kh, stride, dil), out_size(padding, w, kw, stride, dil)
    x = act("x", (1, h, w, cin), 0.1, 0)
    if op == "CONV_2D":
        cout = mult_or_cout
        wt = const("w", rng.integers(-127, 128, (cout, kh, kw, cin)).astype(np.int8), np.full(cout, 0.01), axis=0)
        attrs = Conv2DAttrs(padding, stride, stride, dil, dil, "NONE")
    else:
        cout = cin * mult_or_cout
        wt = const("w", rng.integers(-127, 128, (1, kh, kw, cout)).astype(np.int8), np.full(cout, 0.01), axis=3)
        attrs = DepthwiseConv2DAttrs(padding, stride, stride, mult_or_cout, dil, dil, "NONE")
    return one_op_graph(op, [x, wt, None], [act("y", (1, oh, ow, cout), 0.5, 0)], attrs)


def _loop_counts(graph) -> tuple[int, int]:
    """(taps, macs) by walking the reference kernels' loop nest: taps skipped by padding do not count."""
    node = graph.nodes[0]
    x, f, y = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
    _, h, w, cin = x.shape
    _, kh, kw, fc = f.shape
    win = window(node.attrs, h, w, kh, kw)
    taps = 0
    for oy, ox, ky, kx in itertools.product(range(win.out_h), range(win.out_w), range(kh), range(kw)):
        iy = oy * win.stride_h - win.pad_h + ky * win.dilation_h
        ix = ox * win.stride_w - win.pad_w + kx * win.dilation_w
        taps += 0 <= iy < h and 0 <= ix < w
    taps *= y.shape[-1]
    return taps, taps * (fc if node.op == "CONV_2D" else 1)


@pytest.mark.parametrize("seed", range(8))
def test_conv_features_count_the_kernel_loops(seed):
    rng = np.random.default_rng(seed)
    op = ("CONV_2D", "DEPTHWISE_CONV_2D")[seed % 2]
    kh, kw = (int(v) for v in rng.integers(1, 6, 2))
    dil = 1 + seed % 3 // 2
    h, w = (kh - 1) * dil + 1 + int(rng.integers(0, 7)), (kw - 1) * dil + 1 + int(rng.integers(0, 7))
    g = _conv_graph(rng, op, h, w, int(rng.integers(1, 6)), (kh, kw), int(rng.integers(1, 4)), dil,
                    ("SAME", "VALID")[seed // 2 % 2], int(rng.integers(1, 4)))  # fmt: skip
    feats = features(g.nodes[0], g)
    taps, macs = _loop_counts(g)
    assert (feats["taps"], feats["macs"]) == (taps, macs)
    assert feats["outputs"] == g.out(g.nodes[0]).size
    assert feats["rows"] == feats["outputs"] * kh
    assert macs <= summarize(g).macs  # the op's MAC count includes the taps that padding skips


def test_valid_padding_executes_every_mac():
    rng = np.random.default_rng(0)
    g = _conv_graph(rng, "CONV_2D", 9, 7, 3, (3, 2), 2, 1, "VALID", 4)
    feats = features(g.nodes[0], g)
    assert feats["macs"] == summarize(g).macs  # every window tap is inside the image
    g = _conv_graph(rng, "CONV_2D", 9, 7, 3, (3, 3), 1, 1, "SAME", 4)
    assert features(g.nodes[0], g)["macs"] < summarize(g).macs  # the border taps are skipped


def test_estimate_units_and_totals():
    g = load_model(SHARED / "tflite" / "micro_speech_quantized.tflite")
    t = load_target("stm32l4r5")
    est = estimate(g, t)
    assert est.to_dict() == estimate(summarize(g), t).to_dict()  # a Graph or its summary
    assert len(est.layers) == len(g.nodes)
    for layer in est.layers:
        assert layer.cycles == pytest.approx(layer.instructions * t.cycles_per_instruction)
        assert layer.ms == pytest.approx(layer.cycles / t.clock_hz * 1e3)
        if layer.op == "RESHAPE":
            assert layer.instructions == 0 and layer.model == "alias"
        else:
            assert layer.instructions > 0 and not layer.fallback
    assert est.instructions == pytest.approx(sum(la.instructions for la in est.layers))
    assert est.ms == pytest.approx(est.cycles / t.clock_hz * 1e3)
    assert est.measured and est.label.startswith("estimate:")
    # the same model at a higher clock of the same core: same instructions, proportionally fewer ms
    fast = estimate(g, load_target("nrf52840"))
    assert fast.instructions == pytest.approx(est.instructions)
    assert fast.ms == pytest.approx(est.ms * 120 / 64 * load_target("nrf52840").cycles_per_instruction / 1.3)


def test_every_profile_has_a_complete_cost_table():
    for name in available_targets():
        t = load_target(name)
        table = t.cost_coefficients.get("reference")
        assert table, f"{name}: no [cost.reference] tables"
        assert t.cost_basis, name
        assert {key.split("/")[0] for key in table} == {*FEATURES, GENERIC}, name  # DEQUANTIZE is int8 -> float
        for key, coeffs in table.items():
            assert set(coeffs) == set(FEATURES.get(key.split("/")[0], GENERIC_FEATURES)), (name, key)
            assert all(c >= 0 for c in coeffs.values()), (name, key)
        # fitted cores are measured; the ones without a QEMU run are labeled as derived estimates
        fitted = any(name in targets for _, targets in calibrate_cost.CORES.values())
        assert t.cost_measured == fitted, name
        # a variant's tables: only ops whose kernels it has its own source for, with the variant's features
        for variant, vtable in t.cost_coefficients.items():
            if variant == "reference":
                continue
            assert variant == t.kernels, (name, variant)
            for key, coeffs in vtable.items():
                assert key in FEATURES and set(coeffs) == set(feature_names(variant, key)), (name, variant, key)
                assert all(c >= 0 for c in coeffs.values()), (name, variant, key)


@pytest.mark.parametrize("name", ["corstone300_m55", "esp32c3"])
def test_variant_targets_have_their_own_fit(name):
    """The optimized targets' conv/depthwise/FC layers use their variant's coefficients, the other ops the
    reference ones (same code), and the label does not call that an over-estimate."""
    t = load_target(name)
    assert t.kernels != "reference" and {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"} <= set(
        t.cost_coefficients[t.kernels]
    )
    est = estimate(load_model(SHARED / "tflite" / "person_detect.tflite"), t)
    convs = [la for la in est.layers if la.op in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    # every conv runs the variant's code but the 2-channel logits (MVE hands C_out < 4 to its reference loop)
    assert sum(la.path == t.kernels for la in convs) >= len(convs) - 1
    for layer in est.layers:
        if layer.op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            assert layer.model == f"{layer.path}.{layer.op}", layer
        elif layer.model != "alias":
            assert layer.path == "reference" and layer.model.startswith("reference."), layer
    assert "over-estimated" not in est.label
    # the same target with reference kernels: reference coefficients everywhere, and a larger estimate
    import dataclasses

    ref = estimate(load_model(SHARED / "tflite" / "person_detect.tflite"), dataclasses.replace(t, kernels="reference"))
    assert all(la.model in ("alias",) or la.model.startswith("reference.") for la in ref.layers)
    assert ref.instructions > 2 * est.instructions


def test_variant_without_a_fit_is_labeled_over_estimated():
    import dataclasses

    t = load_target("corstone300_m55")
    tables = {v: tab for v, tab in t.cost_coefficients.items() if v == "reference"}
    est = estimate(
        load_model(SHARED / "tflite" / "person_detect.tflite"), dataclasses.replace(t, cost_coefficients=tables)
    )
    assert any(la.path == "arm_mve" and la.model == "reference.CONV_2D" for la in est.layers)
    assert "over-estimated" in est.label


def test_kernel_path_follows_the_variant_dispatch():
    rng = np.random.default_rng(0)
    pointwise = _conv_graph(rng, "CONV_2D", 6, 6, 20, (1, 1), 1, 1, "VALID", 12)
    narrow = _conv_graph(rng, "CONV_2D", 6, 6, 20, (1, 1), 1, 1, "VALID", 3)  # C_out < 4: MVE's reference loop
    dw3 = _conv_graph(rng, "DEPTHWISE_CONV_2D", 6, 6, 4, (3, 3), 1, 1, "SAME", 3)
    assert "mf_conv2d_s8" in variant_kernels("arm_mve") and variant_kernels("reference") == frozenset()
    assert kernel_path(pointwise.nodes[0], pointwise, "arm_mve") == "arm_mve"
    assert kernel_path(pointwise.nodes[0], pointwise, "reference") == "reference"
    assert kernel_path(narrow.nodes[0], narrow, "arm_mve") == "reference"
    assert kernel_path(narrow.nodes[0], narrow, "riscv") == "riscv"
    assert kernel_path(dw3.nodes[0], dw3, "riscv") == "riscv"
    # MVE pointwise, 16 < C_in <= 64: the patch asm block per pixel, ceil(C_in / 16) VMLADAVA steps per 4-channel
    # group (C_in % 16 != 0: the first vector's zero lanes skipped), no row-loop dot products
    f = features(pointwise.nodes[0], pointwise, "arm_mve")
    assert (f["pa_steps"], f["pa_groups"], f["pa_rgroups"], f["pa_pixels"]) == (36 * 3 * 2, 36 * 3, 36 * 3, 36)
    assert (f["vsteps"], f["dots"], f["blocks"], f["edge_steps"], f["p_copies"]) == (0, 0, 0, 0, 0)
    # C_out % 4 != 0: one mve_dot4 per pixel and group instead
    odd = _conv_graph(rng, "CONV_2D", 6, 6, 20, (1, 1), 1, 1, "VALID", 10)
    f = features(odd.nodes[0], odd, "arm_mve")
    assert (f["vsteps"], f["dot_groups"], f["pixels"], f["pa_steps"]) == (36 * 3 * 2, 36 * 3, 36, 0)
    # MVE im2col patch, 3x3 over 4 channels (36 bytes, rows of 12): 36 interior pixels copy 3 rows each, the 28
    # border pixels fill the patch (3 vectors) and copy their valid rows; patch_run, 3 vector steps per group
    patch = _conv_graph(rng, "CONV_2D", 8, 8, 4, (3, 3), 1, 1, "SAME", 8)
    f = features(patch.nodes[0], patch, "arm_mve")
    assert (f["pa_steps"], f["pa_groups"], f["pa_pixels"], f["p_border"]) == (64 * 2 * 3, 64 * 2, 64, 28)
    valid_rows = (2 + 6 * 3 + 2) * 8  # valid filter rows summed over the output rows, times 8 columns
    # interior rows (12 bytes: one plain vector copy each), border rows and fills (predicated copies)
    assert (f["p_rows"], f["p_vcopies"], f["p_copies"]) == (valid_rows, 36 * 3, valid_rows - 36 * 3 + 28 * 3)
    assert f["p_pixels"] == 64 and f["vsteps"] == 0
    # the reference features stay
    assert features(pointwise.nodes[0], pointwise)["macs"] == features(pointwise.nodes[0], pointwise, "arm_mve")["macs"]
    # RV32 depthwise 3x3 multiplier 3: the generic loop, one input load per (pixel, channel, tap, output)
    f = features(dw3.nodes[0], dw3, "riscv")
    assert f["group_macs"] == 0 and f["generic_macs"] == f["macs"] and f["loads"] == f["macs"]
    dw1 = _conv_graph(rng, "DEPTHWISE_CONV_2D", 6, 10, 4, (3, 3), 1, 1, "SAME", 1)
    f = features(dw1.nodes[0], dw1, "riscv")
    # columns 0..3: an edge group (column 0's window clips the padding column, multiplied too); 4..7: an interior
    # group; 8 and 9: single pixels
    rows = 4 * 3 + 2 * 2  # valid filter rows summed over the 6 output rows
    assert f["group_outputs"] == 6 * 8 * 4 and f["edge_outputs"] == 6 * 2 * 4
    assert f["group_macs"] + f["edge_macs"] == f["macs"] + rows * 4 and f["generic_macs"] == 0
    # MVE: one input channel with 8 outputs takes the gather path, interior pixels in the asm block
    c1 = _conv_graph(rng, "DEPTHWISE_CONV_2D", 8, 9, 1, (3, 3), 1, 1, "SAME", 8)
    f = features(c1.nodes[0], c1, "arm_mve")
    assert f["c1_groups"] == 6 * 7 * 2 and f["c1_bgroups"] == (72 - 42) * 2 and f["m1_taps"] == 0
    assert f["c1_btaps"] == f["macs"] // 8 - 42 * 9
    # MVE 3x3 multiplier 1, C % 16 == 0: every pixel through the 16-channel asm block, interior runs of a row in
    # one call, border pixels through the tap table; arm_dsp: the 3x3 run path
    m1 = _conv_graph(rng, "DEPTHWISE_CONV_2D", 10, 10, 32, (3, 3), 1, 1, "SAME", 1)
    f = features(m1.nodes[0], m1, "arm_mve")
    assert (f["d3_chunks"], f["d3_bchunks"], f["d3_border"], f["d3_run_pixels"], f["d3_runs"]) == (200, 72, 36, 64, 8)
    assert f["d3_fchunks"] == 0 and f["run16_macs"] == f["m1_taps"] == f["pixels"] == 0
    # other windows: interior pixels run the asm chunk loop (16-channel chunks), the others 8 channels per tap
    m5 = _conv_graph(rng, "DEPTHWISE_CONV_2D", 10, 10, 32, (5, 5), 1, 1, "SAME", 1)
    f = features(m5.nodes[0], m5, "arm_mve")
    assert f["run16_macs"] == 36 * 25 * 32 and f["run_chunks"] == 36 * 2 and f["m1_chunks"] == 64 * 4
    assert f["run16_macs"] + f["m1_taps"] * 8 == f["macs"] and f["d3_chunks"] == 0
    # arm_dsp stride 1: one band of all 10 rows through int16 planes (in place, a whole-pixel gap: straight to the
    # output), 4-channel chunks, two pixels per step
    f = features(m1.nodes[0], m1, "arm_dsp")
    assert (f["band_pairs"], f["band_odd"], f["band_rows"], f["band_chans"]) == (10 * 5 * 32, 0, 10 * 32, 32)
    assert (f["band_copy"], f["band_copy_rows"], f["band_calls"], f["band_buf"]) == (10 * 10 * 32, 10 * 8, 8, 0)
    assert f["run_groups"] == 0 and f["m1_taps"] == 0 and f["band_layers"] == 1
    # stride 2: the bands' copy costs more than the 4-channel runs save: interior runs (4 rows of 4 pixels)
    m2 = _conv_graph(rng, "DEPTHWISE_CONV_2D", 10, 10, 32, (3, 3), 2, 1, "SAME", 1)
    f = features(m2.nodes[0], m2, "arm_dsp")
    assert f["run_groups"] == 16 * 8 and f["run_calls"] == 4 and f["band_layers"] == 0
    # arm_dsp takes the 9 border pixels through the same table (their valid taps x C/4), C <= 60: pre-extended
    assert f["edge_groups"] == 9 * 8 and f["edge_taps"] == (f["macs"] // 32 - 16 * 9) * 8 and f["px_outputs"] == 0
    assert f["ext_taps"] == f["macs"] // 4
    assert f["run_groups"] * 4 * 9 + f["edge_taps"] * 4 == f["macs"] and f["m1_taps"] == 0


def test_elementwise_features_follow_the_kernel_paths():
    """ADD, MEAN, PAD and AVERAGE_POOL_2D features split the work by the code path each kernel takes."""
    rng = np.random.default_rng(1)

    def one(g, variant="reference"):
        node = g.nodes[0]
        path = kernel_path(node, g, variant)
        return path, features(node, g, path)

    dense = calibrate_cost.binary(rng, "ADD", (1, 16, 16, 16), (1, 16, 16, 16), (1, 16, 16, 16), (0.05, 0.08, 0.1))
    path, f = one(dense, "arm_dsp")
    assert path == "arm_dsp" and (f["table_outputs"], f["tables"], f["loop_outputs"]) == (4096, 2, 0)
    path, f = one(dense, "arm_mve")
    assert path == "arm_mve" and (f["table_steps"], f["table_runs"], f["run_steps"]) == (512, 1, 0)
    path, f = one(dense, "riscv")
    assert path == "riscv" and f["in_range"] + f["clamped"] == pytest.approx(4096) and f["bcast_rows"] == 0
    shared = calibrate_cost.binary(rng, "ADD", (1, 300), (1, 300), (1, 300), (0.05, 0.05, 0.1))
    assert one(shared, "arm_dsp")[1]["tables"] == 1
    assert one(shared, "riscv")[0] == "reference"  # < 512 elements: the reference loop
    small = calibrate_cost.binary(rng, "ADD", (1, 100), (1, 100), (1, 100), (0.05, 0.05, 0.1))
    assert one(small, "arm_dsp")[1]["loop_outputs"] == 100 and one(small, "arm_mve")[1]["run_steps"] == 25
    rows = calibrate_cost.binary(rng, "ADD", (1, 8, 8, 64), (1, 1, 1, 64), (1, 8, 8, 64), (0.05, 0.1, 0.1))
    assert one(rows, "arm_dsp")[0] == "reference"  # broadcasts: the reference loop
    path, f = one(rows, "arm_mve")
    assert path == "arm_mve" and (f["table_steps"], f["table_runs"]) == (64 * 8, 64)
    assert one(rows, "riscv")[1]["bcast_rows"] == 64
    scalar = calibrate_cost.binary(rng, "ADD", (1, 8, 8, 16), (1, 1, 1, 1), (1, 8, 8, 16), (0.05, 0.1, 0.1))
    assert one(scalar, "arm_mve")[0] == "reference"  # a broadcast channel dim

    gap = calibrate_cost.mean(rng, (1, 7, 7, 40), [1, 2])
    path, f = one(gap, "arm_mve")
    assert path == "arm_mve" and (f["rows16"], f["blocks16"], f["tail_rows"]) == (2 * 49, 2, 2 * 49)
    assert one(gap)[1]["cont_elems"] == 49 * 40 and one(gap)[1]["gen_elems"] == 0
    strided = calibrate_cost.mean(rng, (1, 8, 8, 16), [1, 3])
    assert one(strided, "arm_mve")[0] == "reference"
    f = one(strided)[1]
    assert (f["gen_elems"], f["gen_rows"], f["cont_elems"]) == (1024, 8 * 8, 0)
    last = calibrate_cost.mean(rng, (1, 8, 300), [2])
    assert one(last)[1]["last_elems"] == 2400 and one(last, "arm_mve")[1]["last_steps"] == 8 * 19

    f = one(calibrate_cost.pad(rng, (1, 8, 8, 16), [[0, 0], [1, 1], [1, 1], [0, 0]]))[1]
    assert (f["runs"], f["aligned_bytes"], f["misaligned_bytes"] + f["misaligned_rest"]) == (8, 1024, 0)
    f = one(calibrate_cost.pad(rng, (1, 9, 9, 12), [[0, 0], [1, 1], [1, 1], [2, 2]]))[1]
    assert (f["runs"], f["rows"], f["misaligned_rest"], f["aligned_bytes"]) == (81, 10, 81 * 12, 0)

    f = one(calibrate_cost.pool(rng, "AVERAGE_POOL_2D", 12, 12, 16, 3, 2, "SAME"))[1]
    assert f["wide_macs"] == f["macs"] and f["narrow_macs"] == 0 and f["pixels"] == 36
    # the last row and column clip one tap row / column: 25 windows of 9 taps (3 passes of <= 4), 10 of 6 (2), one of 4
    assert f["passes"] == 25 * 3 + 10 * 2 + 1
    f = one(calibrate_cost.pool(rng, "AVERAGE_POOL_2D", 8, 8, 3, 2, 2))[1]
    assert f["narrow_macs"] == f["macs"] == 192 and f["wide_outputs"] == 0 and f["narrow_rows"] == 16 * 3 * 2


@pytest.mark.parametrize("name", ["esp32", "esp32s3"])
def test_xtensa_is_generate_only_and_labeled_estimate(name):
    t = load_target(name)
    assert t.arch == "xtensa" and t.toolchain is None and t.qemu is None and t.clock_hz == 240_000_000
    est = estimate(load_model(SHARED / "tflite" / "person_detect.tflite"), t)
    assert not est.measured
    assert est.label.startswith("estimate, not measured")
    assert "estimate, not measured" in est.table().splitlines()[0]
    assert est.to_dict()["label"].startswith("estimate, not measured")
    assert est.ms > 0


def test_float_nodes_fall_back_to_the_int8_fit():
    est = estimate(load_model(SHARED / "tflite" / "hello_world_float.tflite"), load_target("esp32c3"))
    assert all(la.fallback and la.model == "reference.FULLY_CONNECTED" for la in est.layers)
    assert "reference.FULLY_CONNECTED coefficients" in est.table()


def test_fit_recovers_known_coefficients():
    rng = np.random.default_rng(3)
    truth = {"macs": 6.0, "taps": 20.0, "rows": 30.0, "outputs": 90.0, CONST: 120.0}
    rows = []
    for _ in range(30):
        f = {"macs": float(rng.integers(1, 10**6)), "taps": float(rng.integers(1, 10**4)),
             "rows": float(rng.integers(1, 10**4)), "outputs": float(rng.integers(1, 10**4)), CONST: 1.0}  # fmt: skip
        rows.append((f, round(sum(truth[k] * f[k] for k in truth))))
    coef, worst = calibrate_cost.fit(rows, FEATURES["CONV_2D"])
    assert worst < 1e-3
    for k, v in truth.items():
        assert coef[k] == pytest.approx(v, rel=0.05 if k == CONST else 1e-3), k


def test_cost_block_round_trips_through_toml():
    import tomllib

    table = {"CONV_2D": {"macs": 6.0071, "taps": 20.7, "rows": 0.0, "outputs": 89.1, CONST: 121.5},
             "DEQUANTIZE/int8_float32": {"outputs": 9.0, CONST: 14.0}}  # fmt: skip
    old = (
        '[cost]\n# keep me\ncycles_per_instruction = 1.3\nmeasured = true\nbasis = "old"\n\n[cost.reference.X]\na = 1\n'
    )
    mve = {"FULLY_CONNECTED": {"vsteps": 33.2, "blocks": 108.0, CONST: 56.0}}
    text = calibrate_cost.cost_block(old, {"reference": table, "arm_mve": mve}, False, 'derived "from" rv32')
    d = tomllib.loads(text)["cost"]
    assert "# keep me" in text and d["cycles_per_instruction"] == 1.3
    assert d["measured"] is False and d["basis"] == 'derived "from" rv32'
    assert set(d["reference"]) == set(table)  # the old tables are replaced
    assert d["reference"]["CONV_2D"]["macs"] == pytest.approx(6.0071, rel=1e-3)
    assert d["arm_mve"] == mve


# ---------------------------------------------------------------------------------------------- vs QEMU


_VARIANT_BUILDS: dict = {}


# Cortex-M4 (its arm_dsp kernels once the profile says so), Cortex-M55 arm_mve, RV32IMC riscv
@pytest.mark.parametrize("target", ["stm32l4r5", "corstone300_m55", "esp32c3"])
@pytest.mark.parametrize("model", ["micro_speech_quantized", "person_detect"])
def test_estimate_matches_qemu(tmp_path_factory, model, target):
    """With the target's actual kernels: total within 15 %; layers with > 10 % of the MACs, and every layer
    with > 1 % of the instructions, within 30 %. The calibration set holds none of these models' layer shapes."""
    from microforge.backends.c.emit import emit_c

    variant = load_target(target).kernels
    if (model, variant) not in _VARIANT_BUILDS:
        out = tmp_path_factory.mktemp(f"{model}_{variant}") / "out"
        compiled = emit_c(load_model(SHARED / "tflite" / f"{model}.tflite"), out, kernel_variant=variant)
        _VARIANT_BUILDS[model, variant] = compiled, out
    compiled, out = _VARIANT_BUILDS[model, variant]
    meta = load_metadata(out)
    assert variant == "reference" or variant in meta["kernel_sources"].values()  # the variant's code is measured
    rng = np.random.default_rng(7)
    samples = [[rng.integers(-128, 128, size=t["shape"]).astype(np.int8) for t in meta["inputs"]]]
    _, prof = run_qemu(out, target, samples, profile=True)
    est = estimate(compiled.summary, load_target(target))
    assert est.instructions == pytest.approx(prof["instructions"], rel=0.15)
    checked = 0
    for e, m in zip(est.layers, prof["layers"], strict=True):
        assert e.index == m["index"] and e.op == m["op"]
        if e.macs > 0.10 * meta["macs"] or m["instructions"] > 0.01 * prof["instructions"]:
            assert e.instructions == pytest.approx(m["instructions"], rel=0.30), (e.index, e.op)
            checked += 1
    assert checked >= (1 if model == "micro_speech_quantized" else 20)
