"""C backend: IR + memory plan -> a self-contained folder of C99 sources and metadata.json."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

from ... import __version__, ops
from ...analysis import ModelSummary, summarize
from ...errors import UnsupportedModelError
from ...ir import C_TYPES, Graph, reset_value
from ...plan.memory import MemoryPlan
from ...resources import runtime_dir
from ...sanitize import c_identifier, comment_text
from .context import CContext, c_float, c_int

FORMAT_VERSION = 1
_TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class CompiledModel:
    outdir: Path
    name: str
    summary: ModelSummary


def _c_array(values: np.ndarray) -> str:
    if values.dtype.kind == "f":
        items = [c_float(float(v)) for v in values]
    else:
        items = [c_int(int(v)) for v in values]
    if not items:
        return "    0"
    per_line = 16
    return "\n".join("    " + ", ".join(items[i : i + per_line]) + "," for i in range(0, len(items), per_line))


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["c_array"] = _c_array
    return env


def check_supported(graph: Graph) -> None:
    """Every problem with every node, in one message, before anything is generated."""
    problems = []
    nodes = []
    for node in graph.nodes:
        reasons = ops.get(node.op).check(node, graph)
        if reasons:
            nodes.append((node.name, node.op))
            problems.append(f"{node.name!r} ({node.op}): {', '.join(reasons)}")
    for name in graph.inputs + graph.outputs:
        if graph.tensor(name).is_const:
            problems.append(f"graph input/output {name!r} is a constant")
    if problems:
        raise UnsupportedModelError(f"{graph.name}: {len(problems)} unsupported node(s): " + "; ".join(problems), nodes)


def _io(graph: Graph, plan: MemoryPlan, kind: str, names: list[str]) -> list[dict]:
    result = []
    for i, n in enumerate(names):
        t = graph.tensor(n)
        q = t.quant
        result.append(
            dict(
                kind=kind,
                KIND=kind.upper(),
                index=i,
                dtype=t.dtype,
                ctype=C_TYPES[t.dtype],
                shape=list(t.shape),
                size=t.size,
                nbytes=t.nbytes,
                offset=plan.tensor_offset[n],
                scale=float(q.s) if q is not None else None,
                scale_c=c_float(q.s) if q is not None else None,
                zero_point=q.zp if q is not None else None,
            )
        )
    return result


def emit_c(
    graph: Graph,
    outdir: str | Path,
    name: str | None = None,
    finalize: Callable[[Path, ModelSummary], None] | None = None,
    weights_section: str | None = None,
    kernel_variant: str = "reference",
    arena_section: str | None = None,
    refuse_scratch: Collection[int] = (),
) -> CompiledModel:
    """Generate C for `graph` into `outdir`. The folder is replaced as a whole, never half-written.

    `finalize(tmp_dir, summary)` runs on the complete folder before it replaces `outdir` (measure it, check a
    budget, add to metadata.json); if it raises, nothing is written. `weights_section` places the const
    weights in that linker section by default; `arena_section` goes into the header's <NAME>_ARENA_ATTR
    for the caller's arena buffer. `kernel_variant` (a target profile's `kernels`, e.g.
    "arm_dsp") picks runtime_c/kernels/<variant>/<kernel>.c over the reference where one exists: same
    function, same arguments, bit-exact, faster on that ISA. Kernels of the variant that ask for arena scratch
    (their fast path's working memory) get it planned in the arena, except the layers in `refuse_scratch`, whose
    kernels get NULL and run their path without scratch (same output, slower, less RAM).
    """
    check_supported(graph)
    cname = c_identifier(name or graph.name)
    summary = summarize(graph, kernel_variant, refuse_scratch)
    plan = summary.plan
    ctx = CContext(prefix=cname, graph=graph, plan=plan)

    layers = []
    kernels: list[str] = []
    for i, node in enumerate(graph.nodes):
        opdef = ops.get(node.op)
        ctx.layer = i
        call = opdef.emit_c(node, graph, ctx) if not opdef.alias else ""
        for k in opdef.c_kernels(node, graph):
            if k not in kernels:
                kernels.append(k)
        layers.append(dict(index=i, op=node.op, comment=comment_text(node.name), call=call))

    weights_bytes = int(sum(a.values.nbytes for a in ctx.arrays))
    summary.weights_bytes = weights_bytes
    params = dict(
        version=__version__,
        name=cname,
        NAME=cname.upper(),
        arena_bytes=plan.arena_bytes,
        weights_bytes=weights_bytes,
        macs=summary.macs,
        inputs=_io(graph, plan, "input", graph.inputs),
        outputs=_io(graph, plan, "output", graph.outputs),
        kernels=kernels,
        decls=ctx.decls,
        layers=layers,
        variables=[
            dict(offset=plan.tensor_offset[v], ctype=C_TYPES[graph.tensor(v).dtype], size=graph.tensor(v).size,
                 value=reset_value(graph.tensor(v)))
            for v in graph.variables()
        ],
        arrays=ctx.arrays,
        outdir_name=Path(outdir).name,
        weights_section=weights_section,
        arena_section=arena_section,
    )

    outdir = Path(outdir).resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        env = _env()
        files = {
            f"{cname}.h": "model.h.j2",
            f"{cname}.c": "model.c.j2",
            f"{cname}_weights.h": "weights.h.j2",
            f"{cname}_weights.c": "weights.c.j2",
            "microforge.mk": "microforge.mk.j2",
            "CMakeLists.txt": "CMakeLists.txt.j2",
        }
        for fname, template in files.items():
            (tmp / fname).write_text(env.get_template(template).render(**params))
        used = _copy_runtime(tmp / "runtime", kernels, kernel_variant)
        meta = summary.to_metadata(FORMAT_VERSION, cname, kernels)
        meta["kernel_variant"] = kernel_variant
        meta["kernel_sources"] = used  # which implementation of each kernel was copied: nothing silent
        (tmp / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
        if finalize is not None:
            finalize(tmp, summary)
        replace_dir(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return CompiledModel(outdir=outdir, name=cname, summary=summary)


def _copy_runtime(dest: Path, kernels: list[str], variant: str = "reference") -> dict[str, str]:
    """Copy headers and the used kernels; returns kernel -> the variant whose source was copied."""
    src = runtime_dir()
    (dest / "include").mkdir(parents=True)
    (dest / "kernels").mkdir()
    headers = sorted((src / "include").glob("*.h"))
    if variant != "reference":  # a variant's private headers (inline helpers its kernels share)
        headers += sorted((src / "kernels" / variant).glob("*.h"))
    for header in headers:
        shutil.copy2(header, dest / "include" / header.name)
    used = {}
    for k in kernels:
        special = src / "kernels" / variant / f"{k}.c"
        chosen = special if variant != "reference" and special.is_file() else src / "kernels" / f"{k}.c"
        shutil.copy2(chosen, dest / "kernels" / f"{k}.c")
        used[k] = variant if chosen is special else "reference"
    return used


def replace_dir(new: Path, target: Path) -> None:
    """Swap `new` in for `target` with renames, so a reader sees the old folder or the new one."""
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        old.rmdir()
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(target)
