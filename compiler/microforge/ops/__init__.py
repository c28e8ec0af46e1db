"""Op registry: importing this package registers every op module in it."""

import importlib
import pkgutil

from .base import REGISTRY, TFLITE_TO_OP, OpDef, register

for _mod in pkgutil.iter_modules(__path__):
    if _mod.name != "base" and not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}")


def get(op: str) -> OpDef:
    return REGISTRY[op]


__all__ = ["REGISTRY", "TFLITE_TO_OP", "OpDef", "register", "get"]
