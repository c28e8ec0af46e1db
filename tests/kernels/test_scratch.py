"""Arena scratch of the kernel variants: the C `<kernel>_get_buffer_size` == its Python twin (ops/_scratch.py),
in QEMU, over the layers of the shared models and randomized shapes; a kernel given no scratch (the planner
refused it) is bit-exact too; over a RAM budget the compiler refuses scratch layer by layer and says so."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
from kernels.test_arm_dsp import conv_random, dw_random

from microforge import ops
from microforge.analysis import scratch_wanted
from microforge.backends.c.context import _c_value
from microforge.backends.c.emit import emit_c
from microforge.cli import main
from microforge.importers import load_model
from microforge.ops._scratch import TWINS
from microforge.reference import run_reference
from microforge.targets import load_target
from microforge.validate.qemu import build_program, run_elf, run_qemu

from support import ROOT, SHARED, merge, random_inputs

QEMU_TARGET = {"arm_dsp": "stm32l4r5", "arm_mve": "corstone300_m55", "riscv": "esp32c3"}
STRUCT = {"mf_conv2d_s8": "mf_conv2d_params", "mf_depthwise_conv2d_s8": "mf_depthwise_conv2d_params"}
OP = {"mf_conv2d_s8": "CONV_2D", "mf_depthwise_conv2d_s8": "DEPTHWISE_CONV_2D"}
MODELS = ("person_detect", "micro_speech_quantized", "hello_world_int8")
PERSON = SHARED / "tflite" / "person_detect.tflite"

TWIN_CASES = sorted({(k, v) for k, v in TWINS if v in QEMU_TARGET})


def _needs(target):
    return shutil.which(target.toolchain) is None or shutil.which(target.qemu.system) is None


def _layer_fields(kernel: str, seed: int) -> list[dict]:
    """Parameter-struct fields of every layer of the shared models and of randomized shapes that use `kernel`."""
    graphs = [load_model(SHARED / "tflite" / f"{m}.tflite") for m in MODELS]
    rng = np.random.default_rng(seed)
    make = conv_random if kernel == "mf_conv2d_s8" else dw_random
    graphs += [make(rng, s) for s in range(40)]
    fields = []
    for g in graphs:
        for node in g.nodes:
            if node.op == OP[kernel] and kernel in ops.get(node.op).c_kernels(node, g):
                fields.append(ops.get(node.op)._fields(node, g))
    return fields


@pytest.mark.parametrize(("kernel", "variant"), TWIN_CASES)
def test_get_buffer_size_matches_python_twin(kernel, variant, tmp_path):
    target = load_target(QEMU_TARGET[variant])
    if _needs(target):
        pytest.skip(f"needs {target.toolchain} and {target.qemu.system}")
    fields = _layer_fields(kernel, seed=3)
    want = [TWINS[(kernel, variant)](f) for f in fields]
    structs = ",\n".join("{" + ", ".join(f".{k} = {_c_value(v)}" for k, v in f.items()) + "}" for f in fields)
    src = tmp_path / "sizes.c"
    src.write_text(
        f'#include <stdio.h>\n#include "mf_board.h"\n#include "{ROOT}/runtime_c/kernels/{variant}/{kernel}.c"\n'
        f"static const {STRUCT[kernel]} cases[] = {{\n{structs}\n}};\n"
        "int main(void)\n{\n    char line[32];\n"
        "    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; ++i) {\n"
        f'        snprintf(line, sizeof line, "%ld\\n", (long){kernel}_get_buffer_size(&cases[i]));\n'
        "        mf_sh_puts(line);\n    }\n    return 0;\n}\n"
    )
    includes = [ROOT / "runtime_c" / "include", ROOT / "runtime_c" / "kernels" / variant]
    elf = build_program([src], target, tmp_path / "build", include_dirs=includes)
    got = [int(v) for v in run_elf(elf, target, tmp_path, timeout=60).stdout.split()]
    assert got == want
    assert any(want), "no layer here takes the path that asks for scratch: the check would be empty"


@pytest.mark.parametrize("variant", sorted({v for _, v in TWIN_CASES}))
def test_kernels_given_no_scratch_are_bit_exact(variant, tmp_path):
    """Layers whose scratch the planner refuses run without it: same output bit for bit (random shapes, QEMU)."""
    target = dataclasses.replace(load_target(QEMU_TARGET[variant]), kernels=variant)
    if _needs(target):
        pytest.skip(f"needs {target.toolchain} and {target.qemu.system}")
    rng = np.random.default_rng(11)
    graph = merge([conv_random(rng, s) for s in range(8)] + [dw_random(rng, s) for s in range(8)], "scratch_cases")
    wanted = scratch_wanted(graph, variant)
    assert wanted, "no case asks for scratch"
    refused = sorted(wanted)[::2]  # half with, half without
    samples = random_inputs(graph, rng, 2)
    emit_c(graph, tmp_path / "out", kernel_variant=variant, refuse_scratch=refused)
    meta = json.loads((tmp_path / "out" / "metadata.json").read_text())
    given = {la["index"]: la["scratch_bytes"] for la in meta["layers"]}
    assert all(given[i] == 0 for i in refused) and all(given[i] == wanted[i] for i in wanted if i not in refused)
    got, _ = run_qemu(tmp_path / "out", target, samples)
    for sample, outs in zip(samples, got):
        for a, b in zip(run_reference(graph, sample), outs):
            assert np.array_equal(a, b)


def test_ram_budget_refuses_scratch_layer_by_layer(tmp_path, capsys):
    """Over the RAM budget by a little, the M4 keeps its fast kernels and refuses only the scratch it must;
    the refused layers are estimated as the reference loop, and the model still runs bit-exact."""
    target = load_target("stm32l4r5")
    if _needs(target):
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm")
    full = tmp_path / "full"
    assert main(["compile", str(PERSON), "-o", str(full), "--target", "stm32l4r5"]) == 0
    meta = json.loads((full / "metadata.json").read_text())
    assert meta["kernel_choice"]["chosen"] == "arm_dsp" and meta["kernel_choice"]["scratch_refused"] == []
    with_scratch = [la for la in meta["layers"] if la["scratch_bytes"]]
    assert with_scratch
    # a budget that the arena alone cannot meet with every scratch buffer (1 B short)
    capsys.readouterr()
    tight = tmp_path / "tight"
    assert main(["compile", str(PERSON), "-o", str(tight), "--target", "stm32l4r5",
                 "--ram-budget", str(meta["ram_bytes"] - 1)]) == 0  # fmt: skip
    small = json.loads((tight / "metadata.json").read_text())
    choice = small["kernel_choice"]
    assert choice["chosen"] == "arm_dsp" and choice["scratch_refused"], choice  # refusing some scratch was enough
    assert "over budget by 1 B" in choice["scratch_reason"]
    assert small["ram_bytes"] < meta["ram_bytes"] and small["arena_bytes"] < meta["arena_bytes"]
    for i in choice["scratch_refused"]:
        assert small["layers"][i]["scratch_bytes"] == 0 and small["layers"][i]["scratch_wanted"] > 0
        assert small["estimate"]["layers"][i]["path"] == "reference"
    kept = [la for la in small["layers"] if la["scratch_bytes"]]
    assert len(kept) == len(with_scratch) - len(choice["scratch_refused"]) > 0  # only what was needed
    assert "run without their arena scratch" in capsys.readouterr().out
    graph = load_model(PERSON)
    sample = random_inputs(graph, np.random.default_rng(5), 1)
    got, _ = run_qemu(tight, dataclasses.replace(target, kernels="arm_dsp"), sample)
    assert np.array_equal(got[0][0], run_reference(graph, sample[0])[0])
