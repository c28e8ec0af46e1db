"""Terminal tables for `inspect`, `compile` and `demo` (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .analysis import ModelSummary


def _shape(shapes: list[list[int]]) -> str:
    return ", ".join("x".join(str(d) for d in s) or "scalar" for s in shapes)


def _short(name: str, width: int = 34) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1) :]


def layer_table(summary: ModelSummary) -> Table:
    total_macs = max(summary.macs, 1)
    table = Table(title=f"{summary.graph.name}: {len(summary.layers)} layers", title_justify="left")
    for col, justify in [
        ("#", "right"),
        ("op", "left"),
        ("name", "left"),
        ("input", "left"),
        ("output", "left"),
        ("params", "right"),
        ("MACs", "right"),
        ("% MACs", "right"),
        ("scratch B", "right"),
    ]:
        table.add_column(col, justify=justify, no_wrap=col != "name")
    for layer in summary.layers:
        table.add_row(
            str(layer.index),
            layer.op,
            _short(layer.name),
            _shape(layer.input_shapes),
            _shape(layer.output_shapes),
            f"{layer.params:,}",
            f"{layer.macs:,}",
            f"{100 * layer.macs / total_macs:.1f}",
            f"{layer.scratch_bytes:,}" if layer.scratch_bytes else "",
        )
    return table


def totals_lines(summary: ModelSummary) -> list[str]:
    plan = summary.plan
    lines = [
        f"MACs per inference : {summary.macs:,}",
        f"parameters         : {summary.params:,}",
        f"arena (planned)    : {plan.arena_bytes:,} bytes  (largest set of simultaneously live tensors: "
        f"{plan.lower_bound:,} bytes; {len(plan.overlapped_pairs)} outputs overlap their dying input in place)",
    ]
    if summary.weights_bytes:
        lines.append(f"weights (const)    : {summary.weights_bytes:,} bytes")
    return lines


def print_summary(summary: ModelSummary, console: Console | None = None) -> None:
    console = console or Console()
    console.print(layer_table(summary))
    for line in totals_lines(summary):
        console.print(line)
