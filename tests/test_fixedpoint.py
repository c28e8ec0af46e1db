"""gemmlowp fixed-point twins: Python (microforge.fixedpoint) == C (mf_fixedpoint.h) bit for bit, and accurate.

The C header is compiled into a small harness (with the undefined-behaviour sanitizer) that applies one
function to a stream of raw int32 values; both twins run on the same random and edge-case inputs.
The op tests (SOFTMAX, LOGISTIC, TANH) check these functions against TFLM itself.
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from microforge import fixedpoint as fp

ROOT = Path(__file__).resolve().parents[1]

HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include "mf_fixedpoint.h"

static int32_t apply(int fn, int32_t a, int32_t b)
{
    int32_t nbou = 0;
    switch (fn) {
    case 0: return mf_fp_exp_on_interval_between_negative_one_quarter_and_0_excl(a);
    case 1: return mf_fp_exp_on_negative_values(a, b);
    case 2: return mf_fp_one_over_one_plus_x_for_x_in_0_1(a);
    case 3: return mf_fp_one_minus_x_over_one_plus_x_for_x_in_0_1(a);
    case 4: return mf_fp_logistic(a, b);
    case 5: return mf_fp_tanh(a, b);
    case 6: return mf_fp_get_reciprocal(a, b, &nbou);
    case 10: (void)mf_fp_get_reciprocal(a, b, &nbou); return nbou;
    case 7: return mf_fp_rescale(a, b, 0);
    case 8: return mf_fp_rounding_half_sum(a, b);
    case 9: return mf_fp_mul(a, b);
    default: exit(2);
    }
}

int main(void)
{
    int fn;
    long n;
    if (scanf("%d %ld", &fn, &n) != 2) return 1;
    for (long i = 0; i < n; ++i) {
        long a, b;
        if (scanf("%ld %ld", &a, &b) != 2) return 1;
        printf("%ld\n", (long)apply(fn, (int32_t)a, (int32_t)b));
    }
    return 0;
}
"""

FUNCS = {
    "exp_quarter": 0,
    "exp_neg": 1,
    "one_over": 2,
    "one_minus_over": 3,
    "logistic": 4,
    "tanh": 5,
    "reciprocal": 6,
    "rescale": 7,
    "half_sum": 8,
    "mul": 9,
    "reciprocal_bits": 10,
}


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not available")
    d = tmp_path_factory.mktemp("fp")
    (d / "h.c").write_text(HARNESS)
    exe = d / "h"
    flags = [
        "-std=c99",
        "-O1",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-pedantic",
        "-fsanitize=undefined",
        "-fno-sanitize-recover=all",
    ]
    subprocess.run(["gcc", *flags, f"-I{ROOT / 'runtime_c' / 'include'}", str(d / "h.c"), "-o", str(exe)], check=True)

    def run(name: str, a: np.ndarray, b) -> np.ndarray:
        a = np.asarray(a, dtype=np.int64).ravel()
        b = np.broadcast_to(np.asarray(b, dtype=np.int64), a.shape)
        text = f"{FUNCS[name]} {a.size}\n" + "\n".join(f"{x} {y}" for x, y in zip(a.tolist(), b.tolist()))
        out = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True).stdout
        return np.array(out.split(), dtype=np.int64)

    return run


def _raw(rng, lo, hi, n=20000):
    """Random raws in [lo, hi] plus both ends and a few values next to them."""
    edge = np.array([lo, lo + 1, hi - 1, hi], dtype=np.int64)
    return np.concatenate([edge, rng.integers(lo, hi, n, endpoint=True)])


def test_exp_on_interval(harness):
    a = _raw(np.random.default_rng(0), -(1 << 29), -1)
    py = fp.exp_on_interval_between_negative_one_quarter_and_0_excl(a)
    assert np.array_equal(py, harness("exp_quarter", a, 0))
    assert np.max(np.abs(py / 2**31 - np.exp(a / 2**31))) < 3e-7  # gemmlowp's exp is good to ~2^-22


@pytest.mark.parametrize("integer_bits", [1, 4, 5, 6, 12])
def test_exp_on_negative_values(harness, integer_bits):
    rng = np.random.default_rng(integer_bits)
    a = np.concatenate(
        [_raw(rng, -(2**31) + 1, 0), -rng.integers(0, min(1 << (31 - integer_bits + 3), 2**31 - 1), 5000)]
    )
    py = fp.exp_on_negative_values(a, integer_bits)
    assert np.array_equal(py, harness("exp_neg", a, integer_bits))
    real = a / 2.0 ** (31 - integer_bits)
    assert np.max(np.abs(py / 2**31 - np.exp(real))) < 3e-7
    assert py[a == 0].tolist() == [fp.INT32_MAX] * int(np.sum(a == 0))


def test_one_over_one_plus_x_and_one_minus_x(harness):
    a = _raw(np.random.default_rng(1), 0, 2**31 - 1)
    py = fp.one_over_one_plus_x_for_x_in_0_1(a)
    assert np.array_equal(py, harness("one_over", a, 0))
    assert np.max(np.abs(py / 2**31 - 1 / (1 + a / 2**31))) < 1e-8
    py2 = fp.one_minus_x_over_one_plus_x_for_x_in_0_1(a)
    assert np.array_equal(py2, harness("one_minus_over", a, 0))
    x = a / 2**31
    assert np.max(np.abs(py2 / 2**31 - (1 - x) / (1 + x))) < 1e-8


@pytest.mark.parametrize("integer_bits", [0, 4, 5])
def test_logistic_and_tanh(harness, integer_bits):
    rng = np.random.default_rng(10 + integer_bits)
    a = _raw(rng, -(2**31) + 1, 2**31 - 1)
    a = np.concatenate([a, [0, 1, -1], rng.integers(-(1 << 20), 1 << 20, 2000)])
    real = a / 2.0 ** (31 - integer_bits)
    lg = fp.logistic(a, integer_bits)
    assert np.array_equal(lg, harness("logistic", a, integer_bits))
    assert np.max(np.abs(lg / 2**31 - 1 / (1 + np.exp(-real)))) < 3e-7
    th = fp.tanh(a, integer_bits)
    assert np.array_equal(th, harness("tanh", a, integer_bits))
    assert np.max(np.abs(th / 2**31 - np.tanh(real))) < 3e-7


def test_get_reciprocal(harness):
    rng = np.random.default_rng(3)
    x = np.concatenate([_raw(rng, 1, 2**31 - 1), [1 << 19, (1 << 19) + 1, 1 << 28, 1000 << 19]])
    raw, nbou = fp.get_reciprocal(x, 12)
    assert np.array_equal(raw, harness("reciprocal", x, 12))
    assert np.array_equal(nbou, harness("reciprocal_bits", x, 12))
    # raw / 2^31 * 2^-nbou ~ 1 / (x / 2^19)
    approx = raw / 2**31 * 2.0 ** (-nbou.astype(np.float64))
    assert np.max(np.abs(approx * (x / 2**19) - 1)) < 1e-7


def test_rescale_rounding_half_sum_and_mul(harness):
    rng = np.random.default_rng(4)
    a = _raw(rng, -(2**31), 2**31 - 1)
    for bits in (-3, 0, 1, 4, 12):  # rescale from `bits` integer bits to 0: saturating left / rounding right shift
        assert np.array_equal(fp.rescale(a, bits, 0), harness("rescale", a, bits))
    assert fp.rescale(2**31 - 1, 0, 12) == 1 << 19 and fp.rescale(1 << 27, 4, 0) == 2**31 - 1
    b = _raw(rng, -(2**31), 2**31 - 1)[: a.size]
    assert np.array_equal(fp.rounding_half_sum(a, b), harness("half_sum", a, b))
    assert fp.rounding_half_sum(-3, 0) == -2 and fp.rounding_half_sum(3, 0) == 2
    assert np.array_equal(fp.srdhm(a, b), harness("mul", a, b))
    assert fp.srdhm(-(2**31), -(2**31)) == 2**31 - 1


def test_count_leading_zeros_and_wrap():
    assert fp.count_leading_zeros32(np.array([0, 1, 2**19, 2**31 - 1, -1])).tolist() == [32, 31, 12, 1, 0]
    assert fp.wrap32(2**31) == -(2**31) and fp.wrap32(-(2**31) - 1) == 2**31 - 1
