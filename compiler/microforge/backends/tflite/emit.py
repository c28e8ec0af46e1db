"""TFLite backend: IR -> a folder with the .tflite, the model as a C array, and a small TFLM wrapper.

Files (for `name`):
  <name>.tflite                        the flatbuffer (`write_tflite`)
  <name>_model_data.h/.cc              the same bytes as an aligned const C array, placeable in a section
  <name>_tflm.h/.cc                    C-callable init/invoke around tflite::MicroInterpreter with a
                                       MicroMutableOpResolver listing only the ops used and a static arena
  metadata.json                        sizes, arena figures, ops
The arena constant is TFLM's own measurement of the written file (tflite-micro wheel) plus a margin.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from ... import __version__, ops
from ...errors import MicroforgeError, ToolchainError, UnsupportedModelError
from ...ir import C_TYPES, Graph
from ...sanitize import c_identifier, comment_text
from ..c.context import c_float
from ..c.emit import replace_dir
from .writer import write_tflite

FORMAT_VERSION = 1
_TEMPLATES = Path(__file__).parent / "templates"

#: Arena margin over TFLM's measurement: this fraction, and at least ARENA_MARGIN_MIN bytes.
ARENA_MARGIN = 0.10
ARENA_MARGIN_MIN = 1024

#: TFLite builtin -> the MicroMutableOpResolver method that registers it (TFLM's names).
TFLM_ADD_METHODS: dict[str, str] = {
    "ABS": "AddAbs",
    "ADD": "AddAdd",
    "ARG_MAX": "AddArgMax",
    "ARG_MIN": "AddArgMin",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd",
    "CAST": "AddCast",
    "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "DEQUANTIZE": "AddDequantize",
    "ELU": "AddElu",
    "EXP": "AddExp",
    "EXPAND_DIMS": "AddExpandDims",
    "FULLY_CONNECTED": "AddFullyConnected",
    "GATHER": "AddGather",
    "HARD_SWISH": "AddHardSwish",
    "L2_NORMALIZATION": "AddL2Normalization",
    "LEAKY_RELU": "AddLeakyRelu",
    "LOGISTIC": "AddLogistic",
    "MAXIMUM": "AddMaximum",
    "MAX_POOL_2D": "AddMaxPool2D",
    "MEAN": "AddMean",
    "MINIMUM": "AddMinimum",
    "MUL": "AddMul",
    "PACK": "AddPack",
    "PAD": "AddPad",
    "PADV2": "AddPadV2",
    "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize",
    "REDUCE_MAX": "AddReduceMax",
    "RELU": "AddRelu",
    "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape",
    "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor",
    "SHAPE": "AddShape",
    "SLICE": "AddSlice",
    "SOFTMAX": "AddSoftmax",
    "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "SPACE_TO_DEPTH": "AddSpaceToDepth",
    "SPLIT": "AddSplit",
    "SPLIT_V": "AddSplitV",
    "SQUEEZE": "AddSqueeze",
    "STRIDED_SLICE": "AddStridedSlice",
    "SUB": "AddSub",
    "TANH": "AddTanh",
    "TRANSPOSE": "AddTranspose",
    "TRANSPOSE_CONV": "AddTransposeConv",
    "UNPACK": "AddUnpack",
}


@dataclass
class TfliteModel:
    outdir: Path
    name: str
    tflite_bytes: int
    tflm_arena_bytes: int  # TFLM's measurement (64-bit host)
    arena_size: int  # the constant in the wrapper: measurement + margin
    ops: list[str] = field(default_factory=list)


def arena_with_margin(measured: int) -> int:
    """Measured bytes + max(ARENA_MARGIN, ARENA_MARGIN_MIN), rounded up to 16 (TFLM aligns to 16)."""
    total = measured + max(math.ceil(measured * ARENA_MARGIN), ARENA_MARGIN_MIN)
    return (total + 15) // 16 * 16


def _measure_arena(model: bytes, graph: Graph) -> int:
    try:
        from ...validate.tflm import tflm_arena_bytes
    except ImportError as err:  # pragma: no cover - the wheel is a dependency of validation
        raise ToolchainError(f"measuring TFLM's arena needs the tflite-micro wheel: {err}") from err
    # Room for TFLM's allocation whatever the model: every activation twice, plus headroom.
    acts = sum(t.nbytes for t in graph.tensors.values() if not t.is_const)
    try:
        return tflm_arena_bytes(model, arena_size=max(4 << 20, 2 * acts + (1 << 20)))
    except Exception as err:  # the wheel raises plain RuntimeErrors for models it cannot prepare
        raise MicroforgeError(f"{graph.name}: TFLM could not load the written .tflite: {err}") from err


def _wheel_version() -> str:
    try:
        return importlib.metadata.version("tflite-micro")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _builtins(graph: Graph) -> list[str]:
    """TFLite builtins in order of first use."""
    names = [ops.get(n.op).to_tflite(n, graph).builtin for n in graph.nodes]
    return list(dict.fromkeys(names))


def _io(graph: Graph, names: list[str], kind: str) -> list[dict]:
    result = []
    for i, n in enumerate(names):
        t = graph.tensor(n)
        q = t.quant
        result.append(
            dict(
                index=i,
                param=f"{kind}{i}",
                PARAM=f"{kind.upper()}{i}",
                name=comment_text(n),
                dtype=t.dtype,
                ctype=C_TYPES[t.dtype],
                shape=list(t.shape),
                nbytes=t.nbytes,
                scale=float(q.s) if q is not None and not q.per_channel else None,
                scale_c=c_float(q.s) if q is not None and not q.per_channel else None,
                zero_point=q.zp if q is not None and not q.per_channel else None,
            )
        )
    return result


def _byte_rows(data: bytes, per_line: int = 16) -> str:
    return "\n".join(
        "    " + ", ".join(f"0x{b:02x}" for b in data[i : i + per_line]) + "," for i in range(0, len(data), per_line)
    )


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["byte_rows"] = _byte_rows
    return env


def emit_tflite(graph: Graph, outdir: str | Path, name: str | None = None) -> TfliteModel:
    """Write `graph` as .tflite + TFLM wrapper into `outdir`, replacing the folder as a whole."""
    cname = c_identifier(name or graph.name)
    model = write_tflite(graph)
    builtins = _builtins(graph)
    unknown = [b for b in builtins if b not in TFLM_ADD_METHODS]
    if unknown:
        nodes = [(n.name, n.op) for n in graph.nodes if ops.get(n.op).to_tflite(n, graph).builtin in unknown]
        raise UnsupportedModelError.for_nodes(f"{graph.name} (no TFLM op resolver method known)", nodes)
    measured = _measure_arena(model, graph)
    arena = arena_with_margin(measured)
    camel = "".join(p.capitalize() for p in cname.split("_") if p)
    params = dict(
        version=__version__,
        name=cname,
        NAME=cname.upper(),
        Camel=camel,
        tflite_bytes=len(model),
        model_data=model,
        measured=measured,
        arena=arena,
        margin=arena - measured,
        margin_pct=int(ARENA_MARGIN * 100),
        margin_min=ARENA_MARGIN_MIN,
        wheel=_wheel_version(),
        methods=[TFLM_ADD_METHODS[b] for b in builtins],
        builtins=builtins,
        inputs=_io(graph, graph.inputs, "input"),
        outputs=_io(graph, graph.outputs, "output"),
    )

    outdir = Path(outdir).resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        (tmp / f"{cname}.tflite").write_bytes(model)
        env = _env()
        files = {
            f"{cname}_model_data.h": "model_data.h.j2",
            f"{cname}_model_data.cc": "model_data.cc.j2",
            f"{cname}_tflm.h": "tflm.h.j2",
            f"{cname}_tflm.cc": "tflm.cc.j2",
        }
        for fname, template in files.items():
            (tmp / fname).write_text(env.get_template(template).render(**params))
        meta = dict(
            format_version=FORMAT_VERSION,
            kind="tflite",
            name=cname,
            microforge_version=__version__,
            tflite_file=f"{cname}.tflite",
            tflite_bytes=len(model),
            tflm_arena_bytes=measured,
            tflm_arena_size=arena,
            tflm_arena_note=(
                f"tflm_arena_bytes: TFLM's measured need (tflite-micro {params['wheel']}, reference kernels, 64-bit host; "
                f"an upper bound for 32-bit MCUs). tflm_arena_size = that + max({params['margin_pct']}%, {ARENA_MARGIN_MIN} B), "
                "rounded up to 16."
            ),
            tflite_micro_version=params["wheel"],
            ops=builtins,
            inputs=[{k: io[k] for k in ("name", "shape", "dtype", "scale", "zero_point")} for io in params["inputs"]],
            outputs=[{k: io[k] for k in ("name", "shape", "dtype", "scale", "zero_point")} for io in params["outputs"]],
            files=sorted([f"{cname}.tflite", *files]),
        )
        (tmp / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
        replace_dir(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return TfliteModel(
        outdir=outdir, name=cname, tflite_bytes=len(model), tflm_arena_bytes=measured, arena_size=arena, ops=builtins
    )
