"""The shared real models: compile -> host run -> bit-exact with TFLM's golden output and with TFLM on random inputs."""

import numpy as np
import pytest

from microforge.errors import UnsupportedModelError
from microforge.importers import load_model
from microforge.validate.host import run_host
from microforge.validate.tflm import run_tflm, tflm_arena_bytes

from support import SHARED, model_with_unsupported_ops

INT8_MODELS = ["hello_world_int8", "micro_speech_quantized", "person_detect", "keyword_scrambled_8bit", "trained_lstm_int8"]
RANDOM_INPUTS = 20


@pytest.fixture
def compiled(shared_compiled):
    return shared_compiled


@pytest.mark.parametrize("model", INT8_MODELS)
def test_model_bit_exact_with_tflm(model, compiled):
    result, out = compiled(model)
    golden = np.load(SHARED / "golden" / f"{model}.npz")
    x0 = golden["x0"]
    rng = np.random.default_rng(1234)
    info = np.iinfo(x0.dtype)  # int8, or int16 for keyword_scrambled_8bit
    samples = [[x0]] + [[rng.integers(info.min, info.max, x0.shape, dtype=x0.dtype, endpoint=True)] for _ in range(RANDOM_INPUTS)]
    ours, _ = run_host(out, samples)
    assert np.array_equal(ours[0][0], golden["y0"].reshape(ours[0][0].shape)), (ours[0][0], golden["y0"])
    theirs = run_tflm((SHARED / "tflite" / f"{model}.tflite").read_bytes(), samples)
    mismatched = [k for k, (a, b) in enumerate(zip(ours, theirs)) if not np.array_equal(a[0], b[0].reshape(a[0].shape))]
    assert mismatched == [], f"{len(mismatched)}/{len(samples)} samples differ from TFLM"


@pytest.mark.parametrize("model", INT8_MODELS)
def test_arena_not_larger_than_tflm(model, compiled):
    result, _ = compiled(model)
    ours = result.summary.plan.arena_bytes
    theirs = tflm_arena_bytes((SHARED / "tflite" / f"{model}.tflite").read_bytes())
    assert ours <= theirs, (ours, theirs)


def test_inplace_planning_beats_the_no_overlap_lower_bound(compiled):
    """person_detect: outputs overlap dying inputs (TinyEngine-style), below what any disjoint plan can reach."""
    result, _ = compiled("person_detect")
    plan = result.summary.plan
    assert plan.lower_bound == 55_296  # 48x48x8 + 48x48x16 live together at the first pointwise conv
    assert plan.arena_bytes == 36_872  # that conv's input sits inside the upper half of its output


def test_unknown_ops_are_all_reported(tmp_path):
    with pytest.raises(UnsupportedModelError) as info:
        load_model(model_with_unsupported_ops(tmp_path / "cumsum.tflite"))
    assert [t for _, t in info.value.nodes] == ["CUMSUM", "CUMSUM"]
    assert "CUMSUM x2" in str(info.value)
