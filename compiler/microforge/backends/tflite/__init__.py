"""TFLite backend: .tflite flatbuffer writer and the TFLM wrapper emitter."""

from .emit import TfliteModel, emit_tflite
from .writer import write_tflite

__all__ = ["TfliteModel", "emit_tflite", "write_tflite"]
