"""report.html: one self-contained page (inline CSS, PNGs as data: URIs, no script, no external asset).

Model, layer and tensor names come from the model file: untrusted text. The template is rendered with
autoescaping on, and nothing is marked safe except the base64 images and numbers formatted here.
"""

from __future__ import annotations

import base64
from pathlib import Path

import jinja2

from . import __version__
from .report import ReportData, shape_text

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ name }} — microforge report</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2228;
         margin: 0 auto; padding: 24px 32px 48px; max-width: 1320px; background: #fff; }
  h1 { font-size: 24px; margin: 0 0 4px; word-break: break-all; }
  h2 { font-size: 18px; margin: 32px 0 10px; border-bottom: 1px solid #d8dde3; padding-bottom: 4px; }
  .sub { color: #5b6570; margin: 0 0 20px; }
  table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { padding: 3px 10px; text-align: left; vertical-align: top; }
  th { background: #eef1f4; font-weight: 600; position: sticky; top: 0; }
  tbody tr:nth-child(even) { background: #f7f9fa; }
  td.n, th.n { text-align: right; white-space: nowrap; }
  td.name { max-width: 360px; overflow-wrap: anywhere; font-family: ui-monospace, Menlo, Consolas, monospace;
            font-size: 12px; }
  td.op { white-space: nowrap; }
  tfoot td { font-weight: 600; border-top: 2px solid #c5ccd3; }
  .facts td:first-child { color: #5b6570; white-space: nowrap; padding-right: 18px; }
  .bar { display: inline-block; vertical-align: middle; width: 180px; height: 10px; background: #e6e9ed;
         border-radius: 2px; overflow: hidden; margin-left: 10px; }
  .bar span { display: block; height: 100%; background: #3b82c4; }
  .bar.over span { background: #d0342c; }
  .cell-bar { display: inline-block; vertical-align: middle; width: 60px; height: 8px; background: #e6e9ed;
              margin-right: 6px; }
  .cell-bar span { display: block; height: 100%; background: #6aa84f; }
  .over-text { color: #d0342c; font-weight: 600; }
  .note { background: #fff6d6; border-left: 4px solid #e0b100; padding: 6px 10px; margin: 8px 0; }
  img { max-width: 100%; height: auto; border: 1px solid #e1e5e9; }
  details { margin: 10px 0; }
  summary { cursor: pointer; font-weight: 600; }
  code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
  .muted { color: #8a939c; }
</style>
</head>
<body>
<h1>{{ name }}</h1>
<p class="sub">{{ rows|length }} layers{% if target %} · target {{ target }}{% endif %} · microforge {{ version }}</p>

<h2>Summary</h2>
<table class="facts">
{% for f in facts %}
<tr><td>{{ f.label }}</td><td><span{% if f.over %} class="over-text"{% endif %}>{{ f.value }}</span>
{%- if f.used is not none %}<span class="bar{% if f.over %} over{% endif %}"><span style="width: {{ '%.1f'|format([f.used, 1.0]|min * 100) }}%"></span></span>{% endif %}</td></tr>
{% endfor %}
</table>
{% for n in notes %}<p class="note">{{ n }}</p>{% endfor %}

<h2>Arena memory timeline</h2>
<p class="muted">Each box is one arena slot: from the layer that writes it to the last layer that reads it (x), at its
byte offset (y). Red hatching: an output written over the input that dies at that layer (in-place).</p>
<img src="{{ timeline_uri }}" alt="arena memory timeline of {{ name }}">
{% if layers_uri %}
<h2>Per-layer cost</h2>
<img src="{{ layers_uri }}" alt="per-layer MACs and instructions of {{ name }}">
{% endif %}

<h2>Layers</h2>
<table class="layers">
<thead><tr>
  <th class="n">#</th><th>op</th><th>name</th><th>input</th><th>output</th>
  <th class="n">MACs</th><th class="n">% MACs</th><th class="n">params</th><th class="n">param B</th>
  <th class="n">scratch B</th><th class="n">arena in use</th>
  {% if has_estimate %}<th class="n">est. cycles</th><th class="n">est. ms</th>{% endif %}
  {% if has_profile %}<th class="n">instructions</th><th class="n">instr/MAC</th>{% endif %}
</tr></thead>
<tbody>
{% for r in rows %}
<tr>
  <td class="n">{{ r.index }}</td><td class="op">{{ r.op }}</td><td class="name">{{ r.name }}</td>
  <td>{{ r.input }}</td><td>{{ r.output }}</td>
  <td class="n">{{ r.macs }}</td><td class="n">{{ r.macs_pct }}</td><td class="n">{{ r.params }}</td>
  <td class="n">{{ r.param_bytes }}</td><td class="n">{{ r.scratch }}</td>
  <td class="n"><span class="cell-bar"><span style="width: {{ r.share_pct }}%"></span></span>{{ r.live }} B ({{ r.share_pct }}%)</td>
  {% if has_estimate %}<td class="n">{{ r.est_cycles }}</td><td class="n">{{ r.est_ms }}</td>{% endif %}
  {% if has_profile %}<td class="n">{{ r.instructions }}</td><td class="n">{{ r.ipm }}</td>{% endif %}
</tr>
{% endfor %}
</tbody>
<tfoot><tr>
  <td></td><td>total</td><td></td><td></td><td></td>
  <td class="n">{{ total.macs }}</td><td class="n">100%</td><td class="n">{{ total.params }}</td>
  <td class="n">{{ total.param_bytes }}</td><td></td><td class="n">arena {{ total.arena }} B</td>
  {% if has_estimate %}<td class="n">{{ total.est_cycles }}</td><td class="n">{{ total.est_ms }}</td>{% endif %}
  {% if has_profile %}<td class="n">{{ total.instructions }}</td><td class="n">{{ total.ipm }}</td>{% endif %}
</tr></tfoot>
</table>

<h2>Inputs and outputs</h2>
<table>
<thead><tr><th></th><th>name</th><th>shape</th><th>dtype</th><th class="n">scale</th><th class="n">zero point</th>
<th class="n">arena offset</th><th class="n">bytes</th></tr></thead>
<tbody>
{% for kind, t in io %}
<tr><td>{{ kind }}</td><td class="name">{{ t.name }}</td><td>{{ t.shape }}</td><td>{{ t.dtype }}</td>
<td class="n">{{ t.scale }}</td><td class="n">{{ t.zero_point }}</td><td class="n">{{ t.arena_offset }}</td>
<td class="n">{{ t.bytes }}</td></tr>
{% endfor %}
</tbody>
</table>

<details>
<summary>Arena slots ({{ slots|length }})</summary>
<table>
<thead><tr><th class="n">offset</th><th class="n">bytes</th><th class="n">first layer</th><th class="n">last layer</th>
<th>tensors</th></tr></thead>
<tbody>
{% for s in slots %}
<tr><td class="n">{{ s.offset }}</td><td class="n">{{ s.bytes }}</td><td class="n">{{ s.first }}</td>
<td class="n">{{ s.last }}</td><td class="name">{% for t in s.tensors %}{{ t }}{% if not loop.last %}<br>{% endif %}{% endfor %}</td></tr>
{% endfor %}
</tbody>
</table>
</details>
{% if overlaps %}
<details>
<summary>In-place overlaps ({{ overlaps|length }})</summary>
<table>
<thead><tr><th>output</th><th>written over input</th></tr></thead>
<tbody>
{% for o in overlaps %}<tr><td class="name">{{ o.output }}</td><td class="name">{{ o.input }}</td></tr>{% endfor %}
</tbody>
</table>
</details>
{% endif %}
{% if kernels %}<p class="muted">kernels: {% for k in kernels %}<code>{{ k }}</code>{% if not loop.last %}, {% endif %}{% endfor %}</p>{% endif %}
</body>
</html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _num(v) -> str:
    return f"{v:,}" if v is not None else ""


def data_uri(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def render_html(data: ReportData, pngs: list[Path]) -> str:
    """The page; `pngs`: the timeline first, then the per-layer chart if there is one."""
    meta = data.meta
    layers = {layer["index"]: layer for layer in meta["layers"]}
    total_macs = sum(r.macs for r in data.rows)
    rows = []
    for r in data.rows:
        layer = layers[r.index]
        ipm = r.instructions_per_mac
        rows.append(
            {
                "index": r.index,
                "op": r.op,
                "name": r.name,
                "input": shape_text(layer.get("input_shapes", [])),
                "output": r.output_shape,
                "macs": _num(r.macs) if r.macs else "",
                "macs_pct": f"{100 * r.macs / total_macs:.1f}%" if r.macs and total_macs else "",
                "params": _num(r.params) if r.params else "",
                "param_bytes": _num(layer.get("param_bytes")) if layer.get("param_bytes") else "",
                "scratch": _num(layer.get("scratch_bytes")) if layer.get("scratch_bytes") else "",
                "live": _num(r.live_bytes),
                "share_pct": f"{100 * r.arena_share:.0f}",
                "est_cycles": _num(r.est_cycles),
                "est_ms": f"{r.est_ms:.3f}" if r.est_ms is not None else "",
                "instructions": _num(r.instructions),
                "ipm": f"{ipm:.1f}" if ipm is not None else "",
            }
        )
    estimate = meta.get("estimate") or {}
    measured = sum(r.instructions or 0 for r in data.rows)
    total = {
        "macs": _num(total_macs),
        "params": _num(sum(r.params for r in data.rows)),
        "param_bytes": _num(sum(int(x.get("param_bytes", 0)) for x in meta["layers"])),
        "arena": _num(int(meta["arena_bytes"])),
        "est_cycles": _num(estimate.get("cycles") or sum(r.est_cycles or 0 for r in data.rows)),
        "est_ms": f"{float(estimate['ms']):.3f}" if estimate.get("ms") is not None else "",
        "instructions": _num(measured),
        "ipm": f"{measured / total_macs:.1f}" if total_macs and measured else "",
    }
    io = [
        (
            kind,
            {
                "name": t["name"],
                "shape": "x".join(str(d) for d in t.get("shape", [])),
                "dtype": t.get("dtype", ""),
                "scale": f"{t['scale']:.6g}" if t.get("scale") is not None else "",
                "zero_point": t.get("zero_point") if t.get("zero_point") is not None else "",
                "arena_offset": _num(t.get("arena_offset")),
                "bytes": _num(t.get("bytes")),
            },
        )
        for kind, key in (("input", "inputs"), ("output", "outputs"))
        for t in meta.get(key, [])
    ]
    slots = [
        {
            "offset": _num(s["offset"]),
            "bytes": _num(s["bytes"]),
            "first": s["first_layer"],
            "last": s["last_layer"],
            "tensors": s["tensors"],
        }  # fmt: skip
        for s in meta.get("arena", [])
    ]
    return _ENV.from_string(TEMPLATE).render(
        name=data.name,
        target=data.target_name,
        version=__version__,
        facts=data.facts,
        notes=data.notes,
        rows=rows,
        total=total,
        has_estimate=data.has_estimate,
        has_profile=data.has_profile,
        timeline_uri=data_uri(pngs[0]),
        layers_uri=data_uri(pngs[1]) if len(pngs) > 1 else None,
        io=io,
        slots=slots,
        overlaps=meta.get("inplace_overlaps", []),
        kernels=meta.get("kernels", []),
    )
