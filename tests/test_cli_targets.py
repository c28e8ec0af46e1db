"""compile/run --target through the CLI: budgets, missing toolchains, QEMU runs with profiles."""

import json
import os
import shutil

import numpy as np

from microforge.cli import main

from support import SHARED

MICRO_SPEECH = SHARED / "tflite" / "micro_speech_quantized.tflite"
PERSON = SHARED / "tflite" / "person_detect.tflite"


def test_compile_for_target_records_flash_ram_and_budget(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", str(MICRO_SPEECH), "-o", str(out), "--target", "stm32l4r5"]) == 0
    meta = json.loads((out / "metadata.json").read_text())
    s = meta["sizes"]
    assert meta["target"]["name"] == "stm32l4r5" and meta["budget"] == {"flash_bytes": 2_097_152, "ram_bytes": 655_360, "ram_region": "sram"}
    assert meta["flash_bytes"] == s["code_bytes"] + s["weights_bytes"] + s["params_bytes"] + s["data_bytes"]
    assert meta["ram_bytes"] == s["data_bytes"] + s["bss_bytes"] + meta["arena_bytes"] + s["stack_bytes"]
    # weights: 16,000 int8 depthwise+FC weights and 12 int32 biases, plus per-channel multipliers/shifts
    # stack: the deepest call chain below invoke (the arm_dsp kernels' working buffers are arena scratch, not stack)
    assert 16_000 < s["weights_bytes"] < 17_000 and 256 < s["stack_bytes"] < 2048
    assert f"{meta['flash_bytes']:,} B of 2,097,152 B budget" in capsys.readouterr().out


def test_over_budget_says_by_how_much_and_what_dominates(tmp_path, capsys):
    fits = tmp_path / "fits"
    assert main(["compile", str(PERSON), "-o", str(fits), "--target", "stm32l4r5"]) == 0
    meta = json.loads((fits / "metadata.json").read_text())
    ram, flash = meta["ram_bytes"], meta["flash_bytes"]
    capsys.readouterr()
    out = tmp_path / "out"
    code = main(["compile", str(PERSON), "-o", str(out), "--target", "stm32l4r5",
                 "--ram-budget", str(ram - 4096), "--flash-budget", str(flash - 40_000)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and not out.exists()
    assert f"RAM needs {ram:,} B" in err and f"RAM budget (sram) is {ram - 4096:,} B: over by 4,096 B" in err
    assert "Conv2d_1_pointwise/Relu6' 36,864 B (layers 2-3)" in err  # the largest tensor, named
    assert f"flash needs {flash:,} B" in err and "over by 40,000 B" in err
    assert "#26 CONV_2D" in err  # the layer with the most weights (256x256 pointwise, 65,536 B + bias)


def test_missing_cross_compiler_names_the_apt_package(tmp_path, capsys, monkeypatch):
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("gcc", "cc"):  # keep the host compiler, hide the cross compilers
        if shutil.which(tool):
            os.symlink(shutil.which(tool), bare / tool)
    monkeypatch.setenv("PATH", str(bare))
    out = tmp_path / "out"
    assert main(["compile", str(MICRO_SPEECH), "-o", str(out), "--target", "stm32l4r5"]) == 1
    err = capsys.readouterr().err
    assert "arm-none-eabi-gcc not found" in err and "apt-get install gcc-arm-none-eabi" in err
    assert not out.exists()


def test_unknown_target_lists_the_known_ones(tmp_path, capsys):
    assert main(["compile", str(MICRO_SPEECH), "-o", str(tmp_path / "o"), "--target", "nope"]) == 1
    err = capsys.readouterr().err
    assert "unknown target 'nope'" in err and "stm32l4r5" in err and "esp32c3" in err


def test_run_in_qemu_with_profile(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", str(MICRO_SPEECH), "-o", str(out), "--target", "stm32l4r5"]) == 0
    x = np.load(SHARED / "golden" / "micro_speech_quantized.npz")
    np.save(tmp_path / "x.npy", x["x0"])
    assert main(["run", str(out), "--input", str(tmp_path / "x.npy"), "--target", "stm32l4r5", "--profile",
                 "--output", str(tmp_path / "y.npy")]) == 0  # fmt: skip
    assert np.array_equal(np.load(tmp_path / "y.npy"), x["y0"].reshape(np.load(tmp_path / "y.npy").shape))
    profile = json.loads((out / "profile.json").read_text())
    assert profile["target"] == "stm32l4r5"
    assert sum(layer["instructions"] for layer in profile["layers"]) == profile["instructions"]
    dw = next(layer for layer in profile["layers"] if layer["op"] == "DEPTHWISE_CONV_2D")
    assert dw["macs"] == 320_000 and dw["instructions"] > 0.9 * profile["instructions"]
    assert "instructions per inference" in capsys.readouterr().out


def test_profile_needs_a_target(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", str(MICRO_SPEECH), "-o", str(out)]) == 0
    np.save(tmp_path / "x.npy", np.zeros((1, 1960), np.int8))
    assert main(["run", str(out), "--input", str(tmp_path / "x.npy"), "--profile"]) == 1
    assert "--profile needs --target" in capsys.readouterr().err


def test_weights_and_arena_sections(tmp_path):
    """--weights-section / --arena-section place the const weights and the caller's arena in named sections."""
    import subprocess

    from elftools.elf.elffile import ELFFile

    out = tmp_path / "out"
    assert main(["compile", str(MICRO_SPEECH), "-o", str(out), "--target", "stm32l4r5",
                 "--weights-section", ".ext_flash", "--arena-section", ".dtcm"]) == 0  # fmt: skip
    (tmp_path / "app.c").write_text(
        '#include "micro_speech_quantized.h"\n'
        "uint8_t app_arena[MICRO_SPEECH_QUANTIZED_ARENA_BYTES] MICRO_SPEECH_QUANTIZED_ARENA_ATTR;\n"
    )
    objs = []
    for src in (tmp_path / "app.c", out / "micro_speech_quantized_weights.c"):
        obj = tmp_path / (src.stem + ".o")
        subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-std=c99", "-Wall", "-Werror", f"-I{out}",
                        "-c", str(src), "-o", str(obj)], check=True)  # fmt: skip
        objs.append(obj)
    sections = {}
    for obj in objs:
        with obj.open("rb") as f:
            elf = ELFFile(f)
            for sym in elf.get_section_by_name(".symtab").iter_symbols():
                if sym.name.startswith(("app_arena", "micro_speech_quantized_l")) and isinstance(sym["st_shndx"], int):
                    sections[sym.name] = elf.get_section(sym["st_shndx"]).name
    assert sections["app_arena"] == ".dtcm"
    weights = {v for k, v in sections.items() if k != "app_arena"}
    assert weights == {".ext_flash"}, weights


def test_stack_depth_follows_the_call_graph(tmp_path):
    """The stack figure is the deepest chain of frames below invoke, not the largest frame anywhere."""
    import subprocess

    from microforge.validate.sizes import stack_depth

    (tmp_path / "a.c").write_text(
        "void leaf_big(volatile char *p);\nvoid mid(volatile char *p);\n"
        "void mid(volatile char *p) { volatile char buf[200]; buf[0] = p[0]; leaf_big(buf); }\n"
        "int root(void);\nint root(void) { volatile char b[40]; b[0] = 1; mid(b); return b[0]; }\n"
        "void unused(void);\nvoid unused(void) { volatile char huge[4000]; huge[0] = 0; }\n"
    )
    (tmp_path / "b.c").write_text("void leaf_big(volatile char *p);\nvoid leaf_big(volatile char *p) { volatile char x[600]; x[0] = p[0]; }\n")
    for src in ("a.c", "b.c"):
        subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-O2", "-fcallgraph-info=su", "-c", src],
                       cwd=tmp_path, check=True)  # fmt: skip
    depth = stack_depth([tmp_path / "a.ci", tmp_path / "b.ci"], "root")
    assert 40 + 200 + 600 <= depth < 40 + 200 + 600 + 64  # frames of root, mid, leaf_big (+ saved registers)


def test_fast_kernels_that_do_not_fit_fall_back_to_reference(tmp_path, capsys):
    """The planner weighs the arm_dsp kernels' stack buffers and code against the budget and says what it chose."""
    fast = tmp_path / "fast"
    assert main(["compile", str(MICRO_SPEECH), "-o", str(fast), "--target", "stm32l4r5"]) == 0
    meta = json.loads((fast / "metadata.json").read_text())
    assert meta["kernel_choice"] == {"preferred": "arm_dsp", "chosen": "arm_dsp", "reason": None,
                                     "scratch_refused": [], "scratch_reason": None}  # fmt: skip
    capsys.readouterr()
    tight = tmp_path / "tight"
    assert main(["compile", str(MICRO_SPEECH), "-o", str(tight), "--target", "stm32l4r5",
                 "--ram-budget", str(meta["ram_bytes"] - 1)]) == 0  # fmt: skip
    small = json.loads((tight / "metadata.json").read_text())
    assert small["kernel_choice"]["chosen"] == "reference" and "over by 1 B" in small["kernel_choice"]["reason"]
    assert set(small["kernel_sources"].values()) == {"reference"} and small["ram_bytes"] < meta["ram_bytes"]
    assert "kernels: reference instead of arm_dsp" in capsys.readouterr().out


def test_folder_for_one_core_runs_on_another_with_that_cores_kernels(tmp_path):
    """A folder generated with the M4's arm_dsp kernels runs on the M55 and RV32 machines with their own kernels."""
    from microforge.validate.host import run_host
    from microforge.validate.qemu import run_qemu

    out = tmp_path / "m4"
    assert main(["compile", str(MICRO_SPEECH), "-o", str(out), "--target", "stm32l4r5"]) == 0
    x = np.load(SHARED / "golden" / "micro_speech_quantized.npz")["x0"]
    want = run_host(out, [[x]])[0][0][0]
    macs = json.loads((out / "metadata.json").read_text())["macs"]
    # reference kernels take ~17 (M55) and ~15 (RV32) instructions per MAC here; their own variants far fewer
    for target, most_per_mac in (("corstone300_m55", 5.0), ("esp32c3", 8.0)):
        got, profile = run_qemu(out, target, [[x]], profile=True)
        assert np.array_equal(got[0][0], want), target
        assert profile["instructions"] / macs < most_per_mac, (target, profile["instructions"] / macs)
