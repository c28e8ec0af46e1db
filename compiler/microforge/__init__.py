"""microforge: trained, quantized neural networks -> C for microcontrollers.

The public API lives in `microforge.api` and is re-exported here lazily (importing microforge stays
cheap: no torch, onnx or onnxruntime until a function needs them).
"""

__version__ = "0.1.0"

_API = ("from_torch", "load", "quantize", "compile", "run", "to_ir_layout")


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'microforge' has no attribute {name!r}")


__all__ = ["__version__", *_API]
