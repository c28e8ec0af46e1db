"""`microforge report`: terminal table, memory timeline PNG and self-contained HTML, from a real compiled model."""

import base64
import io
import json
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from microforge.analysis import summarize
from microforge.backends.c.emit import emit_c
from microforge.importers import load_model
from microforge.report import (
    LAYERS_PNG,
    REPORT_HTML,
    TIMELINE_PNG,
    build_report,
    live_bytes,
    print_summary,
    render_report,
    totals_lines,
    write_report,
)
from microforge.report_plot import DPI, FIGSIZE

from support import SHARED

MODEL = SHARED / "tflite" / "person_detect.tflite"
LAYERS = 31  # person_detect


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "person_detect"
    emit_c(load_model(MODEL), out)
    return out


@pytest.fixture
def meta(compiled) -> dict:
    return json.loads((compiled / "metadata.json").read_text())


def _folder(tmp_path: Path, meta: dict, profile: dict | None = None) -> Path:
    """The report reads only metadata.json (+ profile.json): a folder with just those is enough."""
    out = tmp_path / "out"
    out.mkdir(parents=True)
    (out / "metadata.json").write_text(json.dumps(meta))
    if profile is not None:
        (out / "profile.json").write_text(json.dumps(profile))
    return out


def _terminal(outdir: Path) -> str:
    console = Console(width=120, file=io.StringIO(), record=True, color_system=None)
    render_report(outdir, console)
    return console.export_text()


def _png_size(path: Path) -> tuple[int, int]:
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert raw[12:16] == b"IHDR"
    return struct.unpack(">II", raw[16:24])


class _TagBalance(HTMLParser):
    """Every element closed, in order (void elements excepted)."""

    VOID = {"meta", "img", "br", "link", "hr", "input"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.errors.append((tag, self.getpos()))


def _with_target(meta: dict, flash: int, ram: int, budget_flash: int, budget_ram: int) -> dict:
    """metadata.json as a --target compile writes it: target, sizes, budget and the cost model's estimate."""
    meta = json.loads(json.dumps(meta))
    clock = 120_000_000
    meta["target"] = {"name": "stm32l4r5", "description": "STM32L4R5ZI, Cortex-M4F", "clock_hz": clock}
    meta["flash_bytes"], meta["ram_bytes"] = flash, ram
    meta["budget"] = {"flash_bytes": budget_flash, "ram_bytes": budget_ram}
    layers = [
        {"index": x["index"], "instructions": 10 * x["macs"] + 100, "cycles": 13 * x["macs"] + 130,
         "ms": (13 * x["macs"] + 130) / clock * 1e3}
        for x in meta["layers"]
    ]  # fmt: skip
    cycles = sum(x["cycles"] for x in layers)
    label = "estimate: cycles = instructions × 1.3 (CPI estimate) at 120 MHz"
    meta["estimate"] = {"layers": layers, "cycles": cycles, "ms": cycles / clock * 1e3, "label": label,
                        "instructions": sum(x["instructions"] for x in layers)}  # fmt: skip
    return meta


def _profile(meta: dict) -> dict:
    layers = [{"index": x["index"], "op": x["op"], "macs": x["macs"], "instructions": 11 * x["macs"] + 7}
              for x in meta["layers"]]  # fmt: skip
    return {"instructions": sum(x["instructions"] for x in layers), "layers": layers, "target": "stm32l4r5"}


# ---------------------------------------------------------------------------------------------- terminal


def test_terminal_report_has_the_metadata_numbers(compiled, meta):
    text = _terminal(compiled)
    assert f"person_detect: {LAYERS} layers" in text
    for figure in ("macs", "params", "arena_bytes", "arena_lower_bound_bytes", "weights_bytes"):
        assert f"{meta[figure]:,}" in text, figure
    assert f"{len(meta['inplace_overlaps'])} in-place overlaps" in text
    rows = [line for line in text.splitlines() if re.match(r"\s*\d+\s+[A-Z]", line)]
    assert len(rows) == LAYERS
    for row, layer in zip(rows, meta["layers"]):
        assert row.split()[0] == str(layer["index"])
        if layer["macs"]:
            assert f"{layer['macs']:,}" in row
        shape = "x".join(map(str, layer["output_shapes"][0]))
        assert shape in row
    # one screen wide; no estimate or profile columns without them
    assert max(len(line) for line in text.splitlines()) <= 120
    assert "est. cycles" not in text and "i/MAC" not in text and "flash" not in text


def test_arena_share_is_the_bytes_in_use(meta):
    data = build_report(meta)
    for row in data.rows:
        assert row.live_bytes == live_bytes(meta["arena"], row.index)
        assert 0 < row.live_bytes <= meta["arena_bytes"]
        assert row.arena_share == pytest.approx(row.live_bytes / meta["arena_bytes"])
    # the peak is the whole arena (the planner packs it), and layer 0 holds exactly its input and output
    assert max(r.live_bytes for r in data.rows) == meta["arena_bytes"]
    s_in = next(s for s in meta["arena"] if s["tensors"] == ["input"])
    s_out = next(s for s in meta["arena"] if meta["layers"][0]["name"] in s["tensors"])
    union = max(s_in["offset"] + s_in["bytes"], s_out["offset"] + s_out["bytes"]) - min(s_in["offset"], s_out["offset"])
    assert data.rows[0].live_bytes == union  # overlapping in place: counted once


def test_live_bytes_counts_overlap_once():
    arena = [
        {"offset": 0, "bytes": 100, "first_layer": 0, "last_layer": 1},
        {"offset": 60, "bytes": 100, "first_layer": 1, "last_layer": 2},  # overlaps the first at step 1
        {"offset": 300, "bytes": 8, "first_layer": 1, "last_layer": 1},
        {"offset": 0, "bytes": 50, "first_layer": 3, "last_layer": 3},
    ]
    assert [live_bytes(arena, t) for t in range(5)] == [100, 168, 100, 50, 0]


def test_terminal_report_with_target_estimate_and_profile(tmp_path, meta):
    m = _with_target(meta, flash=262_144, ram=98_304, budget_flash=1_048_576, budget_ram=655_360)
    prof = _profile(m)
    text = _terminal(_folder(tmp_path, m, prof))
    assert f"{LAYERS} layers on stm32l4r5" in text
    assert "262,144 B of 1,048,576 B budget (25.0%)" in text
    assert "98,304 B of 655,360 B budget (15.0%)" in text
    assert "120 MHz" in text
    assert f"{m['estimate']['cycles']:,} cycles" in text
    assert "latency (estimate)" in text and "(CPI estimate)" in text
    assert f"{prof['instructions']:,} instructions per inference" in text
    assert f"{prof['instructions'] / m['macs']:.2f} per MAC" in text
    est = m["estimate"]["instructions"]
    assert f"{100 * (est - prof['instructions']) / prof['instructions']:+.1f}% instructions" in text
    rows = [line for line in text.splitlines() if re.match(r"\s*\d+\s+[A-Z]", line)]
    assert len(rows) == LAYERS
    for row, layer, e, p in zip(rows, m["layers"], m["estimate"]["layers"], prof["layers"]):
        assert f"{e['cycles']:,}" in row and f"{p['instructions']:,}" in row
        if layer["macs"]:
            assert row.split()[-1] == f"{p['instructions'] / layer['macs']:.1f}"
    assert max(len(line) for line in text.splitlines()) <= 120
    assert "OVER" not in text


def test_over_budget_is_flagged(tmp_path, meta):
    m = _with_target(meta, flash=300_000, ram=40_000, budget_flash=262_144, budget_ram=65_536)
    text = _terminal(_folder(tmp_path, m))
    assert "300,000 B of 262,144 B budget (114.4%), OVER by 37,856 B" in text
    assert "40,000 B of 65,536 B budget (61.0%), 25,536 B free" in text
    html = Path(next(p for p in write_report(_folder(tmp_path / "h", m)) if p.suffix == ".html")).read_text()
    assert 'class="over-text">300,000 B of 262,144 B budget' in html
    assert 'class="bar over"><span style="width: 100.0%">' in html  # the bar is capped at full


def test_stale_profile_is_not_shown_per_layer(tmp_path, meta):
    prof = _profile(meta)
    prof["layers"] = prof["layers"][:-3]
    text = _terminal(_folder(tmp_path, meta, prof))
    assert "does not match this model's layers" in text
    assert "i/MAC" not in text
    assert f"{prof['instructions']:,} instructions per inference" in text  # the total still is


def test_inspect_summary_uses_the_same_table():
    graph = load_model(MODEL)
    summary = summarize(graph)
    console = Console(width=120, file=io.StringIO(), record=True, color_system=None)
    print_summary(summary, console)
    text = console.export_text()
    assert f"{summary.macs:,}" in text and f"{summary.plan.arena_bytes:,}" in text
    assert len([line for line in text.splitlines() if re.match(r"\s*\d+\s+[A-Z]", line)]) == LAYERS
    assert any(line.startswith("MACs per inference") and f"{summary.macs:,}" in line for line in totals_lines(summary))


# ---------------------------------------------------------------------------------------------- files


def test_write_report_png_and_html(compiled, meta):
    written = write_report(compiled)
    assert [p.name for p in written] == [TIMELINE_PNG, REPORT_HTML]  # no estimate/profile: no per-layer chart
    assert _png_size(compiled / TIMELINE_PNG) == (int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI))

    html = (compiled / REPORT_HTML).read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert html.count('<td class="op">') == LAYERS
    for layer in meta["layers"]:
        assert f'<td class="name">{layer["name"]}</td>' in html
    assert f"{meta['arena_bytes']:,}" in html and f"{meta['macs']:,}" in html
    # the timeline is embedded, and nothing is fetched from anywhere
    uris = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(uris) == 1
    assert base64.b64decode(uris[0]) == (compiled / TIMELINE_PNG).read_bytes()
    assert 'src="http' not in html and "http://" not in html and "https://" not in html
    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    balance = _TagBalance()
    balance.feed(html)
    assert balance.errors == [] and balance.stack == []


def test_report_files_are_deterministic(tmp_path, meta):
    m = _with_target(meta, 1, 1, 2, 2)
    a, b = _folder(tmp_path / "a", m, _profile(m)), _folder(tmp_path / "b", m, _profile(m))
    for p, q in zip(write_report(a), write_report(b)):
        assert p.read_bytes() == q.read_bytes(), p.name


def test_profile_chart_and_columns_in_html(tmp_path, meta):
    m = _with_target(meta, 262_144, 98_304, 1_048_576, 655_360)
    prof = _profile(m)
    out = _folder(tmp_path, m, prof)
    written = write_report(out)
    assert [p.name for p in written] == [TIMELINE_PNG, LAYERS_PNG, REPORT_HTML]
    width, _ = _png_size(out / LAYERS_PNG)
    assert width == int(FIGSIZE[0] * DPI)
    html = (out / REPORT_HTML).read_text()
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == 2
    for e, p in zip(m["estimate"]["layers"], prof["layers"]):
        assert f'<td class="n">{e["cycles"]:,}</td>' in html
        assert f'<td class="n">{p["instructions"]:,}</td>' in html
    assert 'style="width: 25.0%"' in html  # flash budget bar

    # without the profile any more, its chart goes too
    (out / "profile.json").unlink()
    m.pop("estimate")
    (out / "metadata.json").write_text(json.dumps(m))
    assert [p.name for p in write_report(out)] == [TIMELINE_PNG, REPORT_HTML]
    assert not (out / LAYERS_PNG).exists()


def test_untrusted_names_are_escaped(tmp_path, meta):
    evil = "<script>alert(1)</script>"
    m = json.loads(json.dumps(meta))
    m["name"] = evil
    m["layers"][0]["name"] = f'x"><img src=x onerror=alert(2)>{evil}'
    m["layers"][1]["name"] = "[bold red]markup[/bold red]"
    m["arena"][0]["tensors"] = [evil]
    m["inputs"][0]["name"] = evil
    m["target"] = {"name": evil, "description": "<b>", "clock_hz": 1}
    out = _folder(tmp_path, m)
    write_report(out)
    html = (out / REPORT_HTML).read_text()
    assert "<script" not in html.lower() and "<img src=x" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<title>&lt;script&gt;" in html and "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    # the terminal prints names as text, never as rich markup
    text = _terminal(out)
    assert "[bold red]markup[/bold red]" in text
    assert evil in text
