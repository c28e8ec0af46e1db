"""The TFLite flatbuffer schema module (object API), as shipped inside the tflite-micro wheel."""

from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

__all__ = ["schema"]
