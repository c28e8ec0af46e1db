"""Reports on a model: the terminal tables of `inspect`, `compile`, `demo` and `report` (rich), and the figures
behind the PNG plots (report_plot.py) and the HTML page (report_html.py).

Everything is computed from a compiled folder's metadata.json, plus its profile.json (QEMU instruction counts)
when there is one. Optional metadata keys (target, flash_bytes, ram_bytes, budget, estimate) are shown when
present and skipped when absent. Names come from the model file: untrusted text, never rich markup or HTML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .analysis import ModelSummary
from .errors import MicroforgeError

TIMELINE_PNG = "memory_timeline.png"
LAYERS_PNG = "layer_profile.png"
REPORT_HTML = "report.html"


@dataclass
class LayerRow:
    index: int
    op: str
    name: str
    output_shape: str
    macs: int
    params: int
    live_bytes: int  # arena bytes occupied while the layer runs (union of its live slots: in-place overlap counts once)
    arena_share: float  # live_bytes / arena_bytes
    est_cycles: int | None = None
    est_ms: float | None = None
    instructions: int | None = None  # measured (QEMU)

    @property
    def instructions_per_mac(self) -> float | None:
        if self.instructions is None or not self.macs:
            return None
        return self.instructions / self.macs


@dataclass
class Fact:
    """One line of the totals: `label: value`; `used` (0..1+) draws a budget bar in HTML; `over` marks a failure."""

    label: str
    value: str
    used: float | None = None
    over: bool = False


@dataclass
class ReportData:
    name: str
    meta: dict
    profile: dict | None
    rows: list[LayerRow]
    facts: list[Fact]
    notes: list[str] = field(default_factory=list)  # caveats (e.g. a profile.json that does not match)

    @property
    def has_estimate(self) -> bool:
        return any(r.est_cycles is not None for r in self.rows)

    @property
    def has_profile(self) -> bool:
        return any(r.instructions is not None for r in self.rows)

    @property
    def target_name(self) -> str | None:
        return target_name(self.meta.get("target"))


# ---------------------------------------------------------------------------------------------- figures


def shape_text(shapes: list[list[int]]) -> str:
    return ", ".join("x".join(str(d) for d in s) or "scalar" for s in shapes)


def short_name(name: str, width: int = 34) -> str:
    """Keep the end of a long name: tensor paths differ at their end (…/Conv2d_3_pointwise/Relu6)."""
    return name if len(name) <= width else "…" + name[-(width - 1) :]


def target_name(target) -> str | None:
    if isinstance(target, dict):
        return target.get("name")
    return str(target) if target else None


def live_bytes(arena: list[dict], step: int) -> int:
    """Bytes of the arena covered by the slots live at `step` (overlapping in-place slots counted once)."""
    spans = sorted(
        (s["offset"], s["offset"] + s["bytes"]) for s in arena if s["first_layer"] <= step <= s["last_layer"]
    )
    total, end = 0, 0
    for lo, hi in spans:
        if hi > end:
            total += hi - max(lo, end)
            end = hi
    return total


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _ms(ms: float) -> str:
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.2f} ms" if ms >= 1 else f"{ms:.3f} ms"


def _budget_fact(label: str, used: int | None, budget: int | None) -> Fact | None:
    if used is None:
        return None
    if not budget:
        return Fact(label, f"{used:,} B")
    over = used > budget
    text = f"{used:,} B of {budget:,} B budget ({_percent(used, budget)})"
    if over:
        text += f", OVER by {used - budget:,} B"
    else:
        text += f", {budget - used:,} B free"
    return Fact(label, text, used / budget, over)


def _profile_layers(meta: dict, profile: dict | None, notes: list[str]) -> dict[int, int]:
    """Layer index -> measured instructions, if profile.json has per-layer counts matching this model."""
    if not profile or not profile.get("layers"):
        return {}
    layers = {int(p["index"]): p for p in profile["layers"]}
    ops_now = {layer["index"]: layer["op"] for layer in meta["layers"]}
    if set(layers) != set(ops_now) or any(p.get("op") not in (None, ops_now[i]) for i, p in layers.items()):
        notes.append("profile.json does not match this model's layers (stale?): per-layer counts not shown")
        return {}
    return {i: int(p["instructions"]) for i, p in layers.items()}


def build_report(meta: dict, profile: dict | None = None) -> ReportData:
    notes: list[str] = []
    arena_bytes = int(meta["arena_bytes"])
    arena = meta.get("arena", [])
    estimate = meta.get("estimate") or {}
    est = {int(e["index"]): e for e in estimate.get("layers", [])}
    measured = _profile_layers(meta, profile, notes)

    rows = []
    for layer in meta["layers"]:
        i = layer["index"]
        live = live_bytes(arena, i)
        e = est.get(i, {})
        rows.append(
            LayerRow(
                index=i,
                op=layer["op"],
                name=layer["name"],
                output_shape=shape_text(layer["output_shapes"]),
                macs=int(layer["macs"]),
                params=int(layer["params"]),
                live_bytes=live,
                arena_share=live / arena_bytes if arena_bytes else 0.0,
                est_cycles=int(e["cycles"]) if e.get("cycles") is not None else None,
                est_ms=float(e["ms"]) if e.get("ms") is not None else None,
                instructions=measured.get(i),
            )
        )

    facts: list[Fact] = []
    target = meta.get("target")
    if target:
        if isinstance(target, dict):
            parts = [target.get("name") or "?"]
            if target.get("description"):
                parts.append(str(target["description"]))
            if target.get("clock_hz"):
                parts.append(f"{target['clock_hz'] / 1e6:g} MHz")
            facts.append(Fact("target", ", ".join(parts)))
        else:
            facts.append(Fact("target", str(target)))
    macs = int(meta.get("macs", sum(r.macs for r in rows)))
    facts.append(Fact("MACs per inference", f"{macs:,}"))
    facts.append(Fact("parameters", f"{int(meta.get('params', 0)):,}"))
    if meta.get("weights_bytes"):
        facts.append(Fact("weights (const)", f"{int(meta['weights_bytes']):,} B"))
    budget = meta.get("budget") or {}
    for label, key in (("flash", "flash_bytes"), ("RAM", "ram_bytes")):
        fact = _budget_fact(label, meta.get(key), budget.get(key))
        if fact:
            facts.append(fact)

    lower = meta.get("arena_lower_bound_bytes")
    overlaps = len(meta.get("inplace_overlaps", []))
    plural = "s" if overlaps != 1 else ""
    if lower and arena_bytes < lower:
        saved = _percent(lower - arena_bytes, lower)
        text = f"{arena_bytes:,} B (lower bound without in-place: {int(lower):,} B; {overlaps} in-place overlap{plural} save {saved})"
    elif lower:
        text = f"{arena_bytes:,} B (lower bound: {int(lower):,} B; {overlaps} in-place overlap{plural})"
    else:
        text = f"{arena_bytes:,} B"
    facts.append(Fact("arena (planned)", text))
    peak = max(rows, key=lambda r: r.live_bytes, default=None)
    if peak is not None and peak.live_bytes:
        facts.append(Fact("arena peak at", f"layer {peak.index} ({peak.op}), {peak.live_bytes:,} B in use"))

    if estimate.get("cycles") is not None:
        ms = estimate.get("ms")
        text = f"{int(estimate['cycles']):,} cycles" + (f", {_ms(float(ms))}" if ms is not None else "")
        label = str(estimate.get("label") or "")  # the cost model says how much to trust it: keep its words
        if label and label != "estimate":
            text += f" ({label})"
        facts.append(Fact("latency (estimate)", text))
    if profile and profile.get("instructions"):
        n = int(profile["instructions"])
        where = f" on {target_name(profile.get('target'))}" if profile.get("target") else ""
        per_mac = f", {n / macs:.2f} per MAC" if macs else ""
        facts.append(Fact("measured (QEMU)", f"{n:,} instructions per inference{per_mac}{where}"))
        est_n = estimate.get("instructions")
        if est_n:
            facts.append(Fact("estimate vs measured", f"{100 * (int(est_n) - n) / n:+.1f}% instructions"))
    return ReportData(str(meta.get("name", "model")), meta, profile, rows, facts, notes)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MicroforgeError(f"{path}: cannot read ({exc})") from None


def load_report(outdir: str | Path) -> ReportData:
    """The report of a compiled folder: its metadata.json, and profile.json when present."""
    outdir = Path(outdir)
    meta_path = outdir / "metadata.json"
    if not meta_path.is_file():
        raise MicroforgeError(f"{outdir}: no metadata.json (not a folder written by `microforge compile`)")
    meta = _read_json(meta_path)
    prof_path = outdir / "profile.json"
    profile = _read_json(prof_path) if prof_path.is_file() else None
    return build_report(meta, profile)


# ---------------------------------------------------------------------------------------------- terminal


# terminal only (the HTML has room for the full names): leaves the layer names a few more columns
_OP_ABBREV = {"DEPTHWISE_CONV_2D": "DW_CONV_2D", "AVERAGE_POOL_2D": "AVG_POOL_2D", "FULLY_CONNECTED": "FULLY_CONN"}


def _op_short(op: str) -> str:
    op = _OP_ABBREV.get(op, op)
    return op if len(op) <= 14 else op[:13] + "…"


def _cells(row: LayerRow, data: ReportData) -> list[str]:
    cells = [
        str(row.index),
        _op_short(row.op),
        "",  # name: filled in once its width is known
        row.output_shape,
        f"{row.macs:,}" if row.macs else "",
        f"{row.params:,}" if row.params else "",
        f"{100 * row.arena_share:.0f}%" if row.arena_share >= 0.005 or not row.live_bytes else "<1%",
    ]
    if data.has_estimate:
        cells.append(f"{row.est_cycles:,}" if row.est_cycles is not None else "")
    if data.has_profile:
        cells.append(f"{row.instructions:,}" if row.instructions is not None else "")
        ipm = row.instructions_per_mac
        cells.append(f"{ipm:.1f}" if ipm is not None else "")
    return cells


def _total_cells(data: ReportData) -> list[str]:
    macs = sum(r.macs for r in data.rows)
    total = ["", "total", "", "", f"{macs:,}", f"{sum(r.params for r in data.rows):,}", ""]
    if data.has_estimate:
        est = (data.meta.get("estimate") or {}).get("cycles")
        total.append(f"{int(est):,}" if est is not None else f"{sum(r.est_cycles or 0 for r in data.rows):,}")
    if data.has_profile:
        n = sum(r.instructions or 0 for r in data.rows)
        total += [f"{n:,}", f"{n / macs:.1f}" if macs else ""]
    return total


def report_table(data: ReportData, width: int = 120) -> Table:
    """The per-layer table, names shortened (from the left) so that it fits `width` columns."""
    headers = ["#", "op", "name", "output", "MACs", "params", "arena"]
    if data.has_estimate:
        headers.append("est. cycles")
    if data.has_profile:
        headers += ["instr", "i/MAC"]
    cells = [_cells(r, data) for r in data.rows]
    total = _total_cells(data) if data.rows else None
    widths = [max([len(h)] + [len(c[k]) for c in [*cells, *([total] if total else [])]]) for k, h in enumerate(headers)]
    # each column: its text, one space of padding on both sides, one divider (show_edge=False: no outer edge)
    others = sum(w + 3 for k, w in enumerate(widths) if headers[k] != "name")
    longest = max((len(r.name) for r in data.rows), default=4)
    name_width = max(12, min(longest, width - others - 2))

    title = f"{data.name}: {len(data.rows)} layers"
    if data.target_name:
        title += f" on {data.target_name}"
    caption = "arena: share of the arena in use while the layer runs"
    if data.has_profile:
        caption += "; instr: instructions executed (QEMU); i/MAC: instructions per MAC"
    table = Table(title=Text(title), caption=caption, title_justify="left", caption_justify="left",
                  box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1))  # fmt: skip
    for h in headers:
        table.add_column(h, justify="left" if h in ("op", "name", "output") else "right", no_wrap=True)
    for row, c in zip(data.rows, cells):
        c[2] = short_name(row.name, name_width)
        # Text, not str: a name like "[red]" must print as itself, not as rich markup
        table.add_row(*(Text(x) for x in c))
    if total:
        table.add_section()
        table.add_row(*(Text(x, style="bold") for x in total))
    return table


def fact_lines(data: ReportData) -> list[Text]:
    width = max((len(f.label) for f in data.facts), default=0)
    lines = []
    for f in data.facts:
        line = Text(f"{f.label:<{width}} : ")
        line.append(f.value, style="bold red" if f.over else "")
        lines.append(line)
    lines += [Text(f"note: {n}", style="yellow") for n in data.notes]
    return lines


def print_report(data: ReportData, console: Console | None = None) -> None:
    console = console or Console()
    console.print(report_table(data, min(console.width, 120) if console.width >= 60 else 120))
    for line in fact_lines(data):
        console.print(line)


def render_report(outdir: str | Path, console: Console | None = None) -> ReportData:
    """Print the report of a compiled folder (per-layer table, then totals) and return its figures."""
    data = load_report(outdir)
    print_report(data, console)
    return data


def write_report(outdir: str | Path) -> list[Path]:
    """Write memory_timeline.png (+ layer_profile.png with an estimate or a profile) and report.html into outdir."""
    from .report_html import render_html
    from .report_plot import plot_layers, plot_timeline

    outdir = Path(outdir)
    data = load_report(outdir)
    written = [plot_timeline(data, outdir / TIMELINE_PNG)]
    layers_png = plot_layers(data, outdir / LAYERS_PNG)
    if layers_png is not None:
        written.append(layers_png)
    elif (outdir / LAYERS_PNG).exists():
        (outdir / LAYERS_PNG).unlink()  # left over from an earlier profile: it would no longer match
    html = outdir / REPORT_HTML
    html.write_text(render_html(data, [p for p in written if p.suffix == ".png"]), encoding="utf-8")
    written.append(html)
    return written


# ---------------------------------------------------------------------------------------------- inspect


def layer_table(summary: ModelSummary) -> Table:
    """The per-layer table of a model that has not been written out (`inspect`, and `compile` before the report)."""
    return report_table(build_report(summary.to_metadata(0, summary.graph.name, [])))


def totals_lines(summary: ModelSummary) -> list[str]:
    data = build_report(summary.to_metadata(0, summary.graph.name, []))
    return [line.plain for line in fact_lines(data)]


def print_summary(summary: ModelSummary, console: Console | None = None) -> None:
    print_report(build_report(summary.to_metadata(0, summary.graph.name, [])), console)
