"""The `microforge` command."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from . import __version__
from .errors import MicroforgeError

console = Console()


def _load(path: str, name: str | None = None):
    from .importers import load_model

    return load_model(path, name)


def cmd_compile(args: argparse.Namespace) -> int:
    from .backends.c.emit import emit_c
    from .report import print_summary

    t0 = time.perf_counter()
    graph = _load(args.model, args.name)
    compiled = emit_c(graph, args.output, args.name)
    seconds = time.perf_counter() - t0
    print_summary(compiled.summary, console)
    console.print(f"wrote {compiled.outdir} ({compiled.name}.h, {compiled.name}.c, weights, runtime, metadata.json) in {seconds:.2f} s")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from .analysis import summarize
    from .backends.c.emit import check_supported
    from .report import print_summary

    graph = _load(args.model)
    check_supported(graph)
    print_summary(summarize(graph), console)
    return 0


def _read_samples(path: str, meta: dict) -> tuple[list[list[np.ndarray]], bool]:
    """X.npy holds one input of the model's shape, or a batch of them along a new first axis (batched=True)."""
    from .ir import DTYPES

    if len(meta["inputs"]) != 1:
        raise MicroforgeError("`run --input` supports single-input models; use the Python API for more")
    spec = meta["inputs"][0]
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise MicroforgeError(f"{path}: cannot read as .npy ({exc})") from None
    want = np.dtype(DTYPES[spec["dtype"]])
    if x.dtype != want:
        raise MicroforgeError(f"{path}: dtype {x.dtype}, the model's input is {want} (quantize it first)")
    size = int(np.prod(spec["shape"]))
    if x.size == size:
        return [[x.reshape(spec["shape"])]], False
    if x.ndim >= 1 and int(np.prod(x.shape[1:])) == size:
        return [[s.reshape(spec["shape"])] for s in x], True
    raise MicroforgeError(f"{path}: shape {list(x.shape)} is neither the input shape {spec['shape']} nor a batch of it")


def cmd_run(args: argparse.Namespace) -> int:
    from .validate.host import load_metadata, run_host

    meta = load_metadata(Path(args.outdir))
    samples, batched = _read_samples(args.input, meta)
    outputs, _ = run_host(args.outdir, samples)
    first = [o[0] for o in outputs]
    y = np.stack(first) if batched else first[0]
    if args.output:
        np.save(args.output, y)
        console.print(f"wrote {args.output}: {y.dtype}{list(y.shape)}")
    else:
        console.print(y)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo.run import run_demo

    return run_demo(Path(args.output), console)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="microforge", description="Compile quantized neural networks to C for microcontrollers.")
    p.add_argument("--version", action="version", version=f"microforge {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("compile", help="compile a .tflite or ONNX model to C")
    c.add_argument("model")
    c.add_argument("-o", "--output", required=True, help="output folder (replaced as a whole)")
    c.add_argument("--name", help="C name prefix (default: the model file's stem)")
    c.set_defaults(func=cmd_compile)

    i = sub.add_parser("inspect", help="per-layer table: ops, shapes, params, MACs, planned arena")
    i.add_argument("model")
    i.set_defaults(func=cmd_inspect)

    r = sub.add_parser("run", help="build the generated C with host gcc and run it on an input")
    r.add_argument("outdir")
    r.add_argument("--input", required=True, help=".npy with one input (or a batch along a new first axis)")
    r.add_argument("--output", help="write the raw output tensor here (.npy)")
    r.set_defaults(func=cmd_run)

    d = sub.add_parser("demo", help="compile the bundled person_detect model, run it, check it against TFLM")
    d.add_argument("-o", "--output", default="out/demo", help="output folder (default out/demo)")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except MicroforgeError as exc:
        if args.debug:
            raise
        print(f"microforge: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug of ours: still one line unless --debug
        if args.debug:
            raise
        print(f"microforge: internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
