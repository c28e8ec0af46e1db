"""Bad input: one clear line, a non-zero exit, and nothing half-written."""

import numpy as np
import pytest

from microforge.backends.c.emit import emit_c
from microforge.cli import main
from microforge.errors import ModelFormatError, UnsupportedModelError
from microforge.importers import load_model
from microforge.ops.fully_connected import FullyConnectedAttrs

from support import SHARED, act, const, model_with_unsupported_ops, one_op_graph

PERSON = SHARED / "tflite" / "person_detect.tflite"


@pytest.mark.parametrize("keep", [0, 7, 100, 5000, 150_000, 300_000])
def test_truncated_tflite_is_a_format_error(tmp_path, keep):
    bad = tmp_path / "cut.tflite"
    bad.write_bytes(PERSON.read_bytes()[:keep])
    with pytest.raises(ModelFormatError, match="cut.tflite"):
        load_model(bad)


def test_garbage_with_tflite_magic(tmp_path):
    bad = tmp_path / "junk.tflite"
    bad.write_bytes(b"\x10\x00\x00\x00TFL3" + bytes(range(256)) * 4)
    with pytest.raises(ModelFormatError):
        load_model(bad)


def test_wrong_kind_of_file(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello, this is not a model\n")
    with pytest.raises(ModelFormatError, match="not a model file"):
        load_model(bad)


def test_cli_prints_one_line_and_fails(tmp_path, capsys):
    bad = tmp_path / "cut.tflite"
    bad.write_bytes(PERSON.read_bytes()[:1000])
    out = tmp_path / "out"
    assert main(["compile", str(bad), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("microforge: error:") and "Traceback" not in err
    assert not out.exists()


def test_cli_missing_file(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "nope.tflite")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_unsupported_lists_every_node_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    model = model_with_unsupported_ops(tmp_path / "cumsum.tflite")
    assert main(["compile", str(model), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "2 unsupported node(s) [CUMSUM]" in err and err.count("'") >= 4  # both node names quoted
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["cumsum.tflite"]


def _fc_graph(weights_scale: float):
    rng = np.random.default_rng(0)
    x = act("x", (1, 4), 0.1, 0)
    w = const("w", rng.integers(-127, 128, (3, 4)).astype(np.int8), weights_scale)
    y = act("y", (1, 3), 0.1, 0)
    return one_op_graph("FULLY_CONNECTED", [x, w, None], [y], FullyConnectedAttrs("TANH"))


def test_check_failure_keeps_previous_output_intact(tmp_path):
    """A failing compile into an existing folder leaves the old folder exactly as it was."""
    out = tmp_path / "out"
    good = _fc_graph(0.01)
    good.nodes[0].attrs = FullyConnectedAttrs("RELU")
    emit_c(good, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(UnsupportedModelError, match="fused activation TANH"):
        emit_c(_fc_graph(0.01), out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert before == after
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_recompile_replaces_folder_as_a_whole(tmp_path):
    out = tmp_path / "out"
    emit_c(load_model(SHARED / "tflite" / "hello_world_int8.tflite"), out, "first")
    (out / "stale.txt").write_text("x")
    emit_c(load_model(SHARED / "tflite" / "hello_world_int8.tflite"), out, "second")
    assert (out / "second.h").exists() and not (out / "first.h").exists() and not (out / "stale.txt").exists()


def test_dynamic_shape_rejected(tmp_path):
    """A tflite whose input has a dynamic (-1) non-batch dimension."""
    from microforge.backends.tflite.writer import write_tflite
    from microforge.importers.schema import schema
    from microforge.importers.tflite import import_tflite_bytes

    buf = write_tflite(_fc_graph(0.01))
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(buf, 0))
    model.subgraphs[0].tensors[0].shapeSignature = np.array([1, -1], dtype=np.int32)
    import flatbuffers

    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    with pytest.raises(UnsupportedModelError, match="dynamic shape"):
        import_tflite_bytes(bytes(b.Output()))


def test_identifiers_never_raw_from_model(tmp_path):
    g = _fc_graph(0.01)
    g.nodes[0].attrs = FullyConnectedAttrs("NONE")
    g.nodes[0].name = "evil */ #include <stdio.h> /*"
    compiled = emit_c(g, tmp_path / "out", "9 bad-name!")
    assert compiled.name == "m_9_bad_name"
    src = (tmp_path / "out" / "m_9_bad_name.c").read_text()
    # the node name survives only inside a neutralized comment, and the file still compiles
    assert "/* 0: FULLY_CONNECTED evil *_/ #include <stdio.h> /_* */" in src
    from microforge.validate.host import build_host

    assert build_host(tmp_path / "out").exists()
