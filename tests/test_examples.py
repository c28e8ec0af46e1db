"""The bundled examples run end to end and meet their own acceptance checks."""

import importlib.util
import sys

from support import ROOT


def test_digits_example(tmp_path, capsys):
    """Trains on scikit-learn digits, quantizes, compiles both ways: C == TFLM on every sample, drop <= 1 point."""
    spec = importlib.util.spec_from_file_location("digits_run", ROOT / "examples" / "digits" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "examples" / "digits"))
    try:
        spec.loader.exec_module(module)
        code = module.main(["--out", str(tmp_path / "digits")])
    finally:
        sys.path.remove(str(ROOT / "examples" / "digits"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "C and TFLM bit-exact on 360/360 held-out samples" in out
    float_acc = float(out.split("float accuracy (PyTorch) ")[1].split("%")[0])
    assert float_acc > 95.0
