"""Generated C compiles warning-free (-Wall -Wextra -Werror -pedantic) with gcc, clang and the cross compilers, and
the generated microforge.mk builds a program with make."""

import shutil
import subprocess
from pathlib import Path

import pytest

from microforge.validate.host import load_metadata

CROSS = {
    "arm-none-eabi-gcc": ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "riscv64-unknown-elf-gcc": ["-march=rv32imc", "-mabi=ilp32", "--specs=picolibc.specs"],
    "gcc": [],
    "clang": [],
}
FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c"]
MODELS = ["hello_world_int8", "micro_speech_quantized", "person_detect", "keyword_scrambled_8bit", "trained_lstm_int8"]


def _sources(out):
    meta = load_metadata(out)
    name = meta["name"]
    return [out / f"{name}.c", out / f"{name}_weights.c"] + [out / "runtime" / "kernels" / f"{k}.c" for k in meta["kernels"]]


@pytest.mark.parametrize("cc", sorted(CROSS))
@pytest.mark.parametrize("model", MODELS)
def test_generated_c_compiles_warning_free(cc, model, shared_compiled, tmp_path):
    assert shutil.which(cc), f"{cc} missing: run ./dev.sh setup as root (apt package {cc.replace('-gcc', '')})"
    _, out = shared_compiled(model)
    for src in _sources(out):
        cmd = [cc, *CROSS[cc], *FLAGS, f"-I{out}", f"-I{out / 'runtime' / 'include'}", str(src), "-o", str(tmp_path / (src.stem + ".o"))]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_makefile_snippet_builds(shared_compiled, tmp_path):
    _, out = shared_compiled("hello_world_int8")
    (tmp_path / "main.c").write_text(
        '#include <string.h>\n#include "hello_world_int8.h"\n'
        "static uint8_t arena[HELLO_WORLD_INT8_ARENA_BYTES];\n"
        "int main(void) { int8_t x = 0; memcpy(hello_world_int8_input(arena, 0), &x, 1);\n"
        "  hello_world_int8_invoke(arena); return *(int8_t *)hello_world_int8_output(arena, 0) == 0 ? 1 : 0; }\n"
    )
    (tmp_path / "Makefile").write_text(
        f"include {out}/microforge.mk\n"
        "app: main.c $(HELLO_WORLD_INT8_SRCS)\n\t$(CC) -std=c99 -Wall -Werror $(HELLO_WORLD_INT8_CFLAGS) $^ -o $@\n"
    )
    proc = subprocess.run(["make", "-s", "app"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert subprocess.run([str(tmp_path / "app")]).returncode == 0


RUNTIME = Path(__file__).resolve().parents[1] / "runtime_c"
VARIANT_FLAGS = {
    "arm_dsp": ("arm-none-eabi-gcc", CROSS["arm-none-eabi-gcc"]),
    "arm_mve": ("arm-none-eabi-gcc", ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"]),
    "riscv": ("riscv64-unknown-elf-gcc", CROSS["riscv64-unknown-elf-gcc"]),
}


@pytest.mark.parametrize("cc", sorted(CROSS))
def test_every_reference_kernel_compiles_warning_free(cc, tmp_path):
    """All of runtime_c, not only the kernels the shared models happen to use (float kernels included)."""
    for src in sorted((RUNTIME / "kernels").glob("*.c")):
        cmd = [cc, *CROSS[cc], *FLAGS, f"-I{RUNTIME / 'include'}", str(src), "-o", str(tmp_path / (src.stem + ".o"))]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, f"{src.name}: {proc.stderr}"


# users build generated folders with their own flags: debug builds too (the variants' inline assembly must not
# run out of registers when -O0 / -Og / a frame pointer take some)
OPT_LEVELS = (["-O2"], ["-O0"], ["-Og"], ["-Os"], ["-O3"], ["-O2", "-fno-omit-frame-pointer"])


@pytest.mark.parametrize("variant", sorted(VARIANT_FLAGS))
def test_every_isa_variant_compiles_warning_free(variant, tmp_path):
    cc, flags = VARIANT_FLAGS[variant]
    sources = sorted((RUNTIME / "kernels" / variant).glob("*.c"))
    for src in sources:
        for opt in OPT_LEVELS:
            includes = [f"-I{RUNTIME / 'include'}", f"-I{RUNTIME / 'kernels' / variant}"]  # + the variant's own headers
            cmd = [cc, *flags, *FLAGS, *opt, *includes, str(src), "-o", str(tmp_path / (src.stem + ".o"))]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            assert proc.returncode == 0, f"{variant}/{src.name} {' '.join(opt)}: {proc.stderr}"
