"""The compile pipeline: model -> IR -> C, and for a target: measured flash/RAM against its budget."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .analysis import ModelSummary, scratch_wanted, summarize
from .backends.c.emit import CompiledModel, emit_c
from .errors import BudgetError, MicroforgeError
from .ir import Graph
from .plan.cost import estimate
from .targets import Target, load_target
from .validate.sizes import SizeReport, measure_sizes

_SECTION = re.compile(r"^[.A-Za-z_][.A-Za-z0-9_$]*$")


@dataclass
class Budget:
    flash_bytes: int
    ram_bytes: int
    ram_region: str  # the RAM region the arena is placed in


def target_budget(target: Target, flash: int | None = None, ram: int | None = None, ram_region: str | None = None) -> Budget:
    rams = {r.name: r for r in target.memory if r.kind == "ram"}
    if ram_region is not None and ram_region not in rams:
        raise MicroforgeError(f"target {target.name!r} has no RAM region {ram_region!r}; it has: {', '.join(rams)}")
    ram_region = ram_region or target.arena_region
    region = rams[ram_region] if ram_region else max(rams.values(), key=lambda r: r.size, default=None)
    return Budget(
        flash_bytes=flash if flash is not None else target.flash_bytes,
        ram_bytes=ram if ram is not None else (region.size if region else 0),
        ram_region=region.name if region else "ram",
    )


def _largest_tensors(summary: ModelSummary, count: int = 3) -> str:
    slots = sorted(summary.plan.slots, key=lambda s: -s.size)[:count]
    return ", ".join(f"{(s.tensors or [s.key])[0]!r} {s.size:,} B (layers {s.first}-{s.last})" for s in slots)


def _largest_layers(summary: ModelSummary, count: int = 3) -> str:
    layers = sorted(summary.layers, key=lambda layer: -layer.param_bytes)[:count]
    return ", ".join(f"#{la.index} {la.op} {la.name!r} {la.param_bytes:,} B" for la in layers)


def estimate_sizes(summary: ModelSummary) -> SizeReport:
    """For cores without a compiler here (Xtensa): weights and arena are exact, code and stack are not counted."""
    arena = summary.plan.arena_bytes
    return SizeReport(code_bytes=0, weights_bytes=summary.weights_bytes, params_bytes=0, data_bytes=0, bss_bytes=0,
                      arena_bytes=arena, stack_bytes=0, flash_bytes=summary.weights_bytes, ram_bytes=arena)  # fmt: skip


def check_budget(name: str, target: Target, sizes: SizeReport, budget: Budget, summary: ModelSummary) -> None:
    problems = []
    ram_over = max(sizes.ram_bytes - budget.ram_bytes, 0)
    flash_over = max(sizes.flash_bytes - budget.flash_bytes, 0)
    if sizes.ram_bytes > budget.ram_bytes:
        over = sizes.ram_bytes - budget.ram_bytes
        problems.append(
            f"RAM needs {sizes.ram_bytes:,} B (arena {sizes.arena_bytes:,} + stack ~{sizes.stack_bytes:,} + static "
            f"{sizes.data_bytes + sizes.bss_bytes:,}) but the RAM budget ({budget.ram_region}) is {budget.ram_bytes:,} B: over by "
            f"{over:,} B ({100 * over / max(budget.ram_bytes, 1):.0f}%); largest tensors: {_largest_tensors(summary)}"
        )
    if sizes.flash_bytes > budget.flash_bytes:
        over = sizes.flash_bytes - budget.flash_bytes
        problems.append(
            f"flash needs {sizes.flash_bytes:,} B (weights {sizes.weights_bytes:,} + code {sizes.code_bytes:,} + params "
            f"{sizes.params_bytes:,}) but the budget is {budget.flash_bytes:,} B: over by {over:,} B "
            f"({100 * over / max(budget.flash_bytes, 1):.0f}%); largest layers: {_largest_layers(summary)}"
        )
    if problems:
        raise BudgetError(f"{name} does not fit {target.name} ({target.description}): " + "; ".join(problems),
                          ram_over=ram_over, flash_over=flash_over)  # fmt: skip


def compile_graph(
    graph: Graph,
    outdir: str | Path,
    name: str | None = None,
    target: str | Target | None = None,
    flash_budget: int | None = None,
    ram_budget: int | None = None,
    ram_region: str | None = None,
    weights_section: str | None = None,
    emit: str = "c",
    arena_section: str | None = None,
) -> CompiledModel:
    """Generate C; with a target, measure it with the target's compiler and refuse what does not fit.

    emit="both" also writes the .tflite + TFLM wrapper into OUT/tflite (inside the same atomic swap).
    emit="tflite" writes only the TFLite folder to OUT.
    """
    if emit == "tflite":
        from .backends.tflite import emit_tflite

        return emit_tflite(graph, outdir, name)
    if emit not in ("c", "both"):
        raise MicroforgeError(f"unknown --emit {emit!r}: use c, tflite or both")
    for section in (weights_section, arena_section):
        if section is not None and not _SECTION.match(section):
            raise MicroforgeError(f"invalid section name {section!r}")
    t = load_target(target) if isinstance(target, str) else target
    budget = target_budget(t, flash_budget, ram_budget, ram_region) if t is not None else None

    if t is None:
        return emit_c(graph, outdir, name, finalize=_tflite_too(graph, name, emit), weights_section=weights_section,
                      arena_section=arena_section)  # fmt: skip
    # The target's fast kernels first, each with the arena scratch its fast path asks for. Over the RAM budget:
    # refuse scratch layer by layer (those kernels run their reference loop instead) while that is enough; when
    # the fast kernels do not fit at all (more code, stack) but the portable reference ones do, take those.
    # Every choice is said in metadata "kernel_choice" and by the CLI.
    preferred, refused = t.kernels, None
    for variant in dict.fromkeys((preferred, "reference")):
        tv = dataclasses.replace(t, kernels=variant)
        no_scratch: list[int] = []
        scratch_reason = None
        while True:
            choice = {"preferred": preferred, "chosen": variant, "reason": refused,
                      "scratch_refused": no_scratch, "scratch_reason": scratch_reason}  # fmt: skip
            try:
                return emit_c(graph, outdir, name, finalize=_finalize_for_target(graph, name, emit, tv, budget, choice),
                              weights_section=weights_section, kernel_variant=variant, arena_section=arena_section,
                              refuse_scratch=no_scratch)  # fmt: skip
            except BudgetError as exc:
                more = scratch_to_refuse(graph, variant, no_scratch, exc.ram_over) if not exc.flash_over else None
                if more is None:
                    if refused is not None or variant == "reference":
                        raise BudgetError(f"{exc}" + (f" (with the {preferred} kernels: {refused})" if refused else "")) from None
                    refused = str(exc).split(": ", 1)[1]
                    break
                if not no_scratch:
                    scratch_reason = f"RAM over budget by {exc.ram_over:,} B with every layer's scratch"
                no_scratch = more
    raise AssertionError("unreachable")


def scratch_to_refuse(graph: Graph, variant: str, refused: list[int], over: int) -> list[int] | None:
    """Layers whose arena scratch to refuse (besides `refused`) so the arena shrinks by `over` bytes: the largest
    scratch buffers first, then any that turn out not to matter given back. None when refusing all is not enough."""
    arena = summarize(graph, variant, refused).plan.arena_bytes
    goal = arena - over
    wanted = scratch_wanted(graph, variant)
    candidates = sorted((i for i in wanted if i not in refused), key=lambda i: -wanted[i])
    chosen = list(refused)
    for i in candidates:
        chosen.append(i)
        if summarize(graph, variant, chosen).plan.arena_bytes <= goal:
            break
    else:
        return None
    for i in reversed(chosen[len(refused) : -1]):  # give back what was not needed (the last one was)
        trial = [j for j in chosen if j != i]
        if summarize(graph, variant, trial).plan.arena_bytes <= goal:
            chosen = trial
    return sorted(chosen)


def _tflite_too(graph: Graph, name: str | None, emit: str):
    def finalize(folder: Path, summary: ModelSummary) -> None:
        if emit == "both":
            from .backends.tflite import emit_tflite

            emit_tflite(graph, folder / "tflite", name)

    return finalize


def _finalize_for_target(graph: Graph, name: str | None, emit: str, t: Target, budget: Budget, choice: dict):
    """Measure the generated folder for `t`, refuse it when over budget, record sizes/estimate/budget."""

    def finalize(folder: Path, summary: ModelSummary) -> None:
        measured = t.toolchain is not None
        sizes = measure_sizes(folder, t) if measured else estimate_sizes(summary)
        check_budget(graph.name, t, sizes, budget, summary)
        _tflite_too(graph, name, emit)(folder, summary)
        meta_path = folder / "metadata.json"
        meta = json.loads(meta_path.read_text())
        meta["target"] = {"name": t.name, "description": t.description, "core": t.core, "clock_hz": t.clock_hz,
                          "kernels": t.kernels, "qemu_machine": t.qemu.machine if t.qemu else None}  # fmt: skip
        meta["kernel_choice"] = choice
        meta["flash_bytes"] = sizes.flash_bytes
        meta["ram_bytes"] = sizes.ram_bytes
        meta["sizes"] = sizes.to_dict()
        meta["sizes"]["measured"] = measured  # False: no compiler for this core here; weights + arena only
        meta["estimate"] = estimate(summary, t).to_dict()
        meta["budget"] = {"flash_bytes": budget.flash_bytes, "ram_bytes": budget.ram_bytes, "ram_region": budget.ram_region}
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")

    return finalize
