import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support import SHARED  # noqa: E402


def pytest_sessionstart(session):
    if not (SHARED / "tflite").is_dir():
        pytest.exit(f"shared models not found at {SHARED}: expected ../shared beside the project "
                    "(or set MICROFORGE_SHARED)", returncode=2)


@pytest.fixture(scope="session")
def shared_compiled(tmp_path_factory):
    """`get(model_stem)` -> (CompiledModel, outdir): each shared .tflite compiled once per test session."""
    from microforge.backends.c.emit import emit_c
    from microforge.importers import load_model

    cache = {}

    def get(name: str):
        if name not in cache:
            out = tmp_path_factory.mktemp(name) / "out"
            cache[name] = (emit_c(load_model(SHARED / "tflite" / f"{name}.tflite"), out), out)
        return cache[name]

    return get
