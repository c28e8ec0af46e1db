"""PNG figures of the report (matplotlib, Agg: no display): the arena's memory timeline, and per-layer cost.

Deterministic: fixed figure size and dpi, no timestamp or version in the PNG metadata, so the same
metadata.json always gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: never open a window, work without $DISPLAY

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import MaxNLocator, MultipleLocator  # noqa: E402

from .report import ReportData  # noqa: E402

FIGSIZE = (12.0, 6.0)  # inches
DPI = 100  # -> 1200 x 600 pixels
PNG_METADATA = {"Software": None}  # drop "matplotlib version ..." so the bytes depend only on the data


def _bytes_label(n: float) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MiB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.1f} KiB"
    return f"{int(n)} B"


def _step_locator(steps: int):
    """A tick at every layer while they fit, else round numbers."""
    return MultipleLocator(1) if steps <= 40 else MaxNLocator(nbins=32, integer=True)


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, format="png", metadata=PNG_METADATA)
    plt.close(fig)
    return path


def _label_candidates(tensors: list[str], common: set[str], size: str) -> list[list[str]]:
    """Label texts for a slot, most informative first: path tail + size, distinctive last part + size, size."""
    name = tensors[0]  # the slot's own tensor; the others are aliases (RESHAPE & co.) of it
    if name.startswith("scratch:"):
        return [[f"scratch L{name.split(':', 1)[1]}", size], [size]]
    parts = [p for p in name.split("/") if p] or [name]
    names = ["/".join(parts[-2:])]
    if parts[-1] not in common:
        names.append(parts[-1])
    return [*([n, size] for n in dict.fromkeys(names)), [size]]


CHAR_W, LINE_H = 4.6, 9.5  # label font (DejaVu Sans, 7 pt at 100 dpi): average glyph width, line height in pixels


def _free_regions(arena: list[dict], k: int) -> list[tuple[int, int, int, int]]:
    """(first step, last step, low byte, high byte) rectangles inside slot k that no other slot covers.

    Only in-place pairs share both time and space, at the step where the output is written over its input:
    a label placed in one of these never sits under another slot."""
    s = arena[k]
    first, last = s["first_layer"], s["last_layer"]
    busy: dict[int, list[tuple[int, int]]] = {t: [] for t in range(first, last + 1)}
    for j, o in enumerate(arena):
        if j == k or o["last_layer"] < first or o["first_layer"] > last:
            continue
        for t in range(max(first, o["first_layer"]), min(last, o["last_layer"]) + 1):
            busy[t].append((o["offset"], o["offset"] + o["bytes"]))
    regions = []
    for a in range(first, last + 1):
        taken: list[tuple[int, int]] = []
        for b in range(a, last + 1):
            taken += busy[b]
            # the largest byte interval of the slot free at every step a..b
            lo, best = s["offset"], (0, 0)
            for t_lo, t_hi in sorted(taken) + [(s["offset"] + s["bytes"], s["offset"] + s["bytes"])]:
                if t_lo > lo and t_lo - lo > best[1] - best[0]:
                    best = (lo, min(t_lo, s["offset"] + s["bytes"]))
                lo = max(lo, t_hi)
            if best[1] > best[0]:
                regions.append((a, b, *best))
    return regions


def _label(ax, arena: list[dict], k: int, candidates: list[list[str]], half: float, unit: int,
           px: tuple[float, float]) -> None:  # fmt: skip
    """Write the most informative label that fits a free part of slot k (horizontal, else vertical), if any."""
    boxes = []
    for a, b, lo, hi in _free_regions(arena, k):
        w, h = (b - a + 2 * half) * px[0] - 4, (hi - lo) * px[1] - 2
        boxes.append((w * h, w, h, a, b, lo, hi))
    boxes.sort(key=lambda r: -r[0])
    for lines in candidates:
        need_w, need_h = max(len(t) for t in lines) * CHAR_W, len(lines) * LINE_H
        for _, w, h, a, b, lo, hi in boxes:
            rotation = 0 if need_w <= w and need_h <= h else 90 if need_w <= h and need_h <= w else None
            if rotation is not None:
                ax.text((a + b) / 2, (lo + hi) / 2 / unit, "\n".join(lines), ha="center", va="center", fontsize=7,
                        color="0.1", rotation=rotation, clip_on=True)  # fmt: skip
                return


def plot_timeline(data: ReportData, path: str | Path) -> Path:
    """x: execution step (layer index), y: arena byte offset; one rectangle per slot over its lifetime."""
    meta = data.meta
    arena = meta.get("arena", [])
    arena_bytes = int(meta["arena_bytes"])
    lower = int(meta.get("arena_lower_bound_bytes") or 0)
    n_layers = len(data.rows)
    last_step = max([n_layers - 1, *(s["last_layer"] for s in arena)])  # graph outputs live one step past the end
    top = max(arena_bytes, lower, 1)
    unit, unit_name = (1024, "KiB") if top >= 4096 else (1, "B")  # y in KiB: ticks at round numbers

    slot_of = {t: k for k, s in enumerate(arena) for t in s["tensors"]}
    inplace = [
        (slot_of[p["output"]], slot_of[p["input"]])
        for p in meta.get("inplace_overlaps", [])
        if p["output"] in slot_of and p["input"] in slot_of
    ]

    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    half = 0.45
    ax.set_xlim(-0.5 - half, last_step + half + 0.5)
    ax.set_ylim(0, top * 1.08 / unit)
    ax.xaxis.set_major_locator(_step_locator(last_step + 1))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=10, steps=[1, 2, 4, 5, 8, 10]))
    ax.set_xlabel(f"execution step (layer index; step {n_layers} = outputs after the last layer)"
                  if last_step >= n_layers else "execution step (layer index)")  # fmt: skip
    ax.set_ylabel(f"arena offset ({unit_name})")
    title = f"{data.name}: arena memory timeline ({len(arena)} slots"
    if inplace:
        n = len(inplace)
        title += f"; red hatching: {n} output{'s' if n != 1 else ''} written over {'their' if n != 1 else 'its'} dying input in place"
    ax.set_title(title + ")", fontsize=11, loc="left")
    ax.grid(axis="y", color="0.9", linewidth=0.6)
    ax.set_axisbelow(True)
    fig.tight_layout()
    # pixels per data unit, to decide which labels fit in their box
    bbox = ax.get_window_extent()
    x_lo, x_hi = ax.get_xlim()
    px_x = bbox.width / (x_hi - x_lo)
    px_y = bbox.height / (top * 1.08)

    cmap = plt.get_cmap("tab20")
    # colours by order of first use, so neighbouring lifetimes differ
    order = sorted(range(len(arena)), key=lambda k: (arena[k]["first_layer"], arena[k]["offset"]))
    colour = {k: cmap(i % 20) for i, k in enumerate(order)}
    last_parts = [s["tensors"][0].rsplit("/", 1)[-1] for s in arena]
    common = {p for p in last_parts if last_parts.count(p) > 1}
    for k, s in enumerate(arena):
        x0, x1 = s["first_layer"] - half, s["last_layer"] + half
        scratch = s["tensors"][0].startswith("scratch:")
        ax.add_patch(
            Rectangle(
                (x0, s["offset"] / unit), x1 - x0, s["bytes"] / unit,
                facecolor="0.75" if scratch else colour[k], edgecolor="0.2", linewidth=0.6, alpha=0.72,
                hatch="xx" if scratch else None,
            )
        )  # fmt: skip
        _label(ax, arena, k, _label_candidates(s["tensors"], common, _bytes_label(s["bytes"])), half, unit,
               (px_x, px_y))  # fmt: skip

    # in-place pairs: the region where the output is written over its dying input
    for o, i in inplace:
        so, si = arena[o], arena[i]
        lo, hi = max(so["offset"], si["offset"]), min(so["offset"] + so["bytes"], si["offset"] + si["bytes"])
        if hi <= lo:
            continue
        step = so["first_layer"]
        ax.add_patch(Rectangle((step - half, lo / unit), 2 * half, (hi - lo) / unit, facecolor="none",
                               edgecolor="crimson", linewidth=1.2, hatch="////", alpha=0.9))  # fmt: skip

    ax.axhline(arena_bytes / unit, color="black", linewidth=1.2, linestyle="-")
    ax.text(last_step + half, arena_bytes / unit, f"arena {arena_bytes:,} B", ha="right", va="bottom", fontsize=8)
    if lower and lower != arena_bytes:
        ax.axhline(lower / unit, color="0.35", linewidth=1.0, linestyle="--")
        ax.text(last_step + half, lower / unit, f"lower bound without in-place {lower:,} B", ha="right", va="bottom",
                fontsize=8, color="0.3")  # fmt: skip
    return _save(fig, Path(path))


def plot_layers(data: ReportData, path: str | Path) -> Path | None:
    """Per layer, share of the total: MACs vs measured instructions (and estimated cycles); instructions per MAC
    on a second axis. None (nothing written) without an estimate or a profile."""
    if not (data.has_profile or data.has_estimate):
        return None
    rows = data.rows
    xs = [r.index for r in rows]
    series = [("MACs", [r.macs for r in rows], "tab:blue")]
    if data.has_profile:
        series.append(("measured instructions", [r.instructions or 0 for r in rows], "tab:orange"))
    if data.has_estimate:
        series.append(("estimated cycles", [r.est_cycles or 0 for r in rows], "tab:green"))

    fig, ax = plt.subplots(figsize=(FIGSIZE[0], 4.5), dpi=DPI)
    width = 0.8 / len(series)
    for k, (label, values, col) in enumerate(series):
        total = sum(values) or 1
        offset = (k - (len(series) - 1) / 2) * width
        ax.bar([x + offset for x in xs], [100 * v / total for v in values], width, label=f"{label} (% of total)",
               color=col)  # fmt: skip
    ax.set_ylabel("% of the model's total")
    ax.set_xlabel("layer index")
    ax.set_xlim(min(xs, default=0) - 0.6, max(xs, default=0) + 0.6)
    ax.xaxis.set_major_locator(_step_locator(len(xs)))
    ax.grid(axis="y", color="0.9", linewidth=0.6)
    ax.set_axisbelow(True)
    handles, labels = ax.get_legend_handles_labels()

    if data.has_profile:
        ipm = [(r.index, r.instructions_per_mac) for r in rows if r.instructions_per_mac is not None]
        ax2 = ax.twinx()
        ax2.plot([i for i, _ in ipm], [v for _, v in ipm], "o", color="black", markersize=3.5,
                 label="instructions per MAC (right axis)")  # fmt: skip
        ax2.set_ylabel("instructions per MAC")
        ax2.set_ylim(0, max((v for _, v in ipm), default=1) * 1.15)
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=len(labels), fontsize=8,
              frameon=False)  # fmt: skip
    where = f" on {data.target_name}" if data.target_name else ""
    ax.set_title(f"{data.name}: per-layer cost{where}", fontsize=11, loc="left")
    fig.tight_layout()
    return _save(fig, Path(path))
