"""QEMU runs of generated models: bit-exact with the host build on every QEMU-runnable core, exact and
repeatable instruction counts, and clear errors for faults, hangs and missing tools."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile

from microforge.errors import MicroforgeError, ToolchainError
from microforge.targets import load_target
from microforge.validate.host import load_metadata, run_host
from microforge.validate.qemu import build_firmware, build_program, qemu_command, run_elf, run_qemu

# one target per QEMU-runnable core
CORES = {
    "m3": "sam3x8e",
    "m4": "nrf52840",
    "m7": "stm32f746",
    "m33": "stm32u585",
    "m55": "corstone300_m55",
    "rv32": "esp32c3",
}
QEMU_TARGETS = sorted(CORES.values())


def _samples(meta: dict, n: int, seed: int) -> list[list[np.ndarray]]:
    """Random inputs of each input's integer dtype, plus the two extremes (saturation paths)."""
    rng = np.random.default_rng(seed)
    info = [np.iinfo(t["dtype"]) for t in meta["inputs"]]
    shapes = [t["shape"] for t in meta["inputs"]]
    samples = [[rng.integers(i.min, i.max, size=s, dtype=i.dtype, endpoint=True) for i, s in zip(info, shapes)] for _ in range(n)]
    samples.append([np.full(s, i.min, i.dtype) for i, s in zip(info, shapes)])
    samples.append([np.full(s, i.max, i.dtype) for i, s in zip(info, shapes)])
    return samples


def _assert_same(got, want):
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        for j, (a, b) in enumerate(zip(g, w)):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert np.array_equal(a, b), f"sample {i} output {j}: {np.count_nonzero(a != b)} values differ"


def _check_bit_exact(out: Path, target: str, n: int, seed: int) -> dict:
    samples = _samples(load_metadata(out), n, seed)
    want, _ = run_host(out, samples)
    got, prof = run_qemu(out, target, samples, profile=True)
    _assert_same(got, want)
    return prof


@pytest.mark.parametrize("target", QEMU_TARGETS)
def test_hello_world_bit_exact(shared_compiled, target):
    _, out = shared_compiled("hello_world_int8")
    _check_bit_exact(out, target, n=6, seed=1)


@pytest.mark.parametrize("target", QEMU_TARGETS)
def test_micro_speech_bit_exact(shared_compiled, target):
    _, out = shared_compiled("micro_speech_quantized")
    _check_bit_exact(out, target, n=2, seed=2)


@pytest.mark.parametrize("target", [CORES["m4"], CORES["m55"]])
def test_person_detect_bit_exact(shared_compiled, target):
    _, out = shared_compiled("person_detect")
    prof = _check_bit_exact(out, target, n=1, seed=3)
    meta = load_metadata(out)
    assert meta["macs"] < prof["instructions"] < 30 * meta["macs"]


@pytest.mark.parametrize("target", QEMU_TARGETS)
@pytest.mark.parametrize("model", ["hello_world_int8", "micro_speech_quantized", "person_detect", "keyword_scrambled_8bit", "trained_lstm_int8"])
def test_full_matrix_bit_exact(shared_compiled, model, target):
    _, out = shared_compiled(model)
    _check_bit_exact(out, target, n=4, seed=4)


# ---------------------------------------------------------------------------------------------- profiles


@pytest.mark.parametrize("target", [CORES["m4"], CORES["rv32"]])
def test_profile_exact_and_repeatable(shared_compiled, target):
    _, out = shared_compiled("micro_speech_quantized")
    meta = load_metadata(out)
    samples = _samples(meta, 2, seed=5)
    _, a = run_qemu(out, target, samples, profile=True)
    _, b = run_qemu(out, target, samples, profile=True)
    for key in ("instructions", "layers", "functions", "per_sample"):
        assert a[key] == b[key], key
    assert a["layer_source"] == "hook"  # the generated invoke carries MF_LAYER_BEGIN markers
    assert len(a["per_sample"]) == len(samples) and a["per_sample"][0] == a["instructions"]
    # every instruction of the first inference is in exactly one layer and one function
    assert sum(layer["instructions"] for layer in a["layers"]) == a["instructions"]
    assert sum(a["functions"].values()) == a["instructions"]
    assert [layer["index"] for layer in a["layers"]] == [layer["index"] for layer in meta["layers"]]
    for layer in a["layers"]:
        if layer["op"] == "RESHAPE":  # alias: no code of its own; GCC may schedule a few of the next call's here
            assert layer["instructions"] <= 8
        else:
            assert layer["instructions"] > 0, layer
    conv = next(layer for layer in a["layers"] if layer["op"] == "DEPTHWISE_CONV_2D")
    assert conv["instructions"] > 0.9 * a["instructions"]
    assert (
        a["functions"]["mf_depthwise_conv2d_s8"]
        <= conv["instructions"]
        <= a["functions"]["mf_depthwise_conv2d_s8"] + 30
    )


def _fake_model(root: Path, nops: int) -> Path:
    """A model folder by hand whose one layer runs a kernel of exactly `nops` NOPs plus fixed overhead."""
    out = root / f"fake{nops}"
    (out / "runtime" / "include").mkdir(parents=True)
    (out / "runtime" / "kernels").mkdir(parents=True)
    io = {"shape": [1], "dtype": "int8"}
    meta = {"name": "fake", "kernels": ["fake_kernel"], "inputs": [io], "outputs": [io], "macs": 1,
            "layers": [{"index": 0, "op": "FAKE", "macs": 1}]}  # fmt: skip
    (out / "metadata.json").write_text(json.dumps(meta))
    (out / "fake.h").write_text(
        "#include <stdint.h>\n#define FAKE_ARENA_BYTES 2\n#define FAKE_INPUT_COUNT 1\n#define FAKE_OUTPUT_COUNT 1\n"
        "#define FAKE_INPUT0_BYTES 1\n#define FAKE_OUTPUT0_BYTES 1\n"
        "void *fake_input(uint8_t *arena, int index);\nvoid *fake_output(uint8_t *arena, int index);\n"
        "int fake_invoke(uint8_t *arena);\nvoid fake_reset(uint8_t *arena);\n"
    )
    (out / "runtime" / "include" / "fake_kernel.h").write_text("#include <stdint.h>\nvoid fake_kernel(uint8_t *a);\n")
    (out / "runtime" / "kernels" / "fake_kernel.c").write_text(
        '#include "fake_kernel.h"\nvoid fake_kernel(uint8_t *a)\n{\n'
        f'    __asm__ volatile(".rept {nops}\\n nop\\n .endr" ::: "memory");\n    a[1] = (uint8_t)(a[0] + 1);\n}}\n'
    )
    (out / "fake_weights.c").write_text("typedef int fake_weights_unused;\n")
    (out / "fake.c").write_text(
        '#include "fake.h"\n#include "fake_kernel.h"\n'
        "void *fake_input(uint8_t *arena, int index)\n{\n    return arena + index;\n}\n"
        "void fake_reset(uint8_t *arena)\n{\n    (void)arena;\n}\n"
        "void *fake_output(uint8_t *arena, int index)\n{\n    return arena + 1 + index;\n}\n"
        "int fake_invoke(uint8_t *arena)\n{\n    /* 0: FAKE one layer */\n    MF_LAYER_BEGIN(0);\n    fake_kernel(arena);\n    return 0;\n}\n"
    )
    return out


@pytest.mark.parametrize("target", [CORES["m4"], CORES["rv32"]])
def test_counts_are_exact(tmp_path, target):
    """Two firmwares that differ by exactly 1000 executed NOPs differ by exactly 1000 counted instructions."""
    profiles = []
    for nops in (10, 1010):
        out = _fake_model(tmp_path, nops)
        got, prof = run_qemu(out, target, [[np.array([41], np.int8)]], profile=True)
        assert got[0][0].tolist() == [42]
        profiles.append(prof)
    small, big = profiles
    assert big["instructions"] - small["instructions"] == 1000
    assert big["layers"][0]["instructions"] - small["layers"][0]["instructions"] == 1000
    assert big["functions"]["fake_kernel"] - small["functions"]["fake_kernel"] == 1000
    assert small["instructions"] < 10 + 30  # the NOPs plus call, load/add/store and return


# ---------------------------------------------------------------------------------------------- firmware


def test_arena_is_exact_static_buffer_in_ram(shared_compiled):
    _, out = shared_compiled("person_detect")
    meta = load_metadata(out)
    elf = build_firmware(out, CORES["m55"])
    with open(elf, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        (arena,) = symtab.get_symbol_by_name("mf_arena")
        assert arena["st_size"] == meta["arena_bytes"]
        assert (
            0x30000000 <= arena["st_value"] and arena["st_value"] + arena["st_size"] <= 0x30000000 + 512 * 1024
        )  # DTCM
        assert arena["st_value"] % 16 == 0
    stamp = elf.stat().st_mtime_ns
    assert build_firmware(out, CORES["m55"]) == elf and elf.stat().st_mtime_ns == stamp  # cached


def _program(tmp_path: Path, target: str, body: str) -> Path:
    src = tmp_path / "prog.c"
    src.write_text("#include <stdint.h>\n" + body)
    return build_program([src], target, tmp_path / "build" / target)


@pytest.mark.parametrize(
    ("target", "fault"),
    [(CORES["m3"], "HardFault"), (CORES["m4"], "HardFault"), (CORES["m33"], "HardFault"),
     (CORES["m55"], "HardFault"), (CORES["rv32"], "load access fault")],
)  # fmt: skip
def test_fault_gives_clear_error(tmp_path, target, fault):
    elf = _program(
        tmp_path, target, "int main(void)\n{\n    return (int)*(volatile uint32_t *)(uintptr_t)0xF0000000u;\n}\n"
    )
    with pytest.raises(MicroforgeError, match=rf"firmware faulted \({fault}\) on {target} .*pc=0x"):
        run_elf(elf, target, tmp_path, timeout=20)


@pytest.mark.parametrize("target", [CORES["m4"], CORES["m7"], CORES["m33"], CORES["m55"]])
def test_fpu_is_enabled_at_reset(tmp_path, target):
    """Floating point would fault (NOCP UsageFault -> HardFault) if reset did not enable CP10/CP11."""
    elf = _program(
        tmp_path, target, "int main(void)\n{\n    volatile float x = 1.5f;\n    return (int)(x * 3.0f);\n}\n"
    )
    assert run_elf(elf, target, tmp_path, check=False).returncode == 4


def test_hang_times_out(tmp_path):
    elf = _program(tmp_path, CORES["m4"], "int main(void)\n{\n    for (;;) {\n    }\n}\n")
    with pytest.raises(MicroforgeError, match=r"QEMU timed out after 1 s on nrf52840"):
        run_elf(elf, CORES["m4"], tmp_path, timeout=1)


@pytest.mark.parametrize(("target", "apt"), [(CORES["m4"], "qemu-system-arm"), (CORES["rv32"], "qemu-system-misc")])
def test_missing_qemu_is_a_toolchain_error(monkeypatch, tmp_path, target, apt):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError, match=rf"not found .*apt-get install {apt}\)"):
        qemu_command(load_target(target), tmp_path / "fw.elf")


@pytest.mark.parametrize(
    ("target", "apt"), [(CORES["m4"], "gcc-arm-none-eabi"), (CORES["rv32"], "gcc-riscv64-unknown-elf")]
)
def test_missing_cross_compiler_is_a_toolchain_error(shared_compiled, monkeypatch, tmp_path, target, apt):
    _, out = shared_compiled("hello_world_int8")
    copy = shutil.copytree(out, tmp_path / "out", ignore=shutil.ignore_patterns("build"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError, match=rf"apt-get install {apt}\)"):
        build_firmware(copy, target)


def test_target_without_qemu_is_refused(shared_compiled):
    _, out = shared_compiled("hello_world_int8")
    with pytest.raises(MicroforgeError, match="rp2040.*no QEMU machine"):
        run_qemu(out, "rp2040", [[np.zeros((1, 1), np.int8)]])


def test_rp2040_profile_cross_compiles(shared_compiled, tmp_path):
    """No QEMU for the M0+, but its flags must build the model (the ARMv6-M multilib links)."""
    _, out = shared_compiled("hello_world_int8")
    t = load_target("rp2040")
    name = load_metadata(out)["name"]
    cmd = [t.toolchain, *t.cflags, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c",
           f"-I{out}", f"-I{out / 'runtime' / 'include'}", str(out / f"{name}.c"), "-o", str(tmp_path / "m.o")]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
