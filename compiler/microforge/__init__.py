"""microforge: trained, quantized neural networks -> C for microcontrollers."""

__version__ = "0.1.0"
