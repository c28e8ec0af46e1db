"""`pip install .` (not editable) carries the C runtime, target profiles, board files, templates and demo data."""

import os
import subprocess
import sys
import zipfile

from support import ROOT, SHARED


def test_wheel_is_self_contained(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True)  # fmt: skip
    (wheel,) = wheels.glob("microforge-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for must in [
        "microforge/_data/runtime_c/include/mf_requant.h",
        "microforge/_data/runtime_c/kernels/mf_conv2d_s8.c",
        "microforge/_data/targets/stm32l4r5.toml",
        "microforge/_data/targets/boards/mps2/link.ld",
        "microforge/backends/c/templates/model.c.j2",
        "microforge/validate/templates/host_runner.c.j2",
        "microforge/validate/plugin/insn_count.c",
        "microforge/demo/person_detect.tflite",
    ]:
        assert must in names, must
    # installed into a bare folder (dependencies from this environment), it compiles and runs a model from its own data
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)], check=True,
                   capture_output=True)  # fmt: skip
    code = (
        "import microforge, numpy as np; from microforge.resources import runtime_dir;"
        f"assert str(runtime_dir()).startswith({str(site)!r}), runtime_dir();"
        "from microforge.importers import load_model; from microforge.pipeline import compile_graph;"
        "from microforge.validate.host import run_host;"
        f"compile_graph(load_model({str(SHARED / 'tflite' / 'hello_world_int8.tflite')!r}), {str(tmp_path / 'out')!r});"
        f"y = run_host({str(tmp_path / 'out')!r}, [[np.array([[-64]], np.int8)]])[0][0][0]; assert int(y.ravel()[0]) == 126, y"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
