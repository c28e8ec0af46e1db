"""Read patterns for in-place arena planning (an output overlapping an input that dies at the node).

An op's `inplace_reads` returns, for each output element in the order the C kernel writes it, the
lowest input element index the kernel reads while computing that element (every read of an element
happens before its write; reads of later elements never go below the suffix minimum). From that
the planner derives how far below the input the output may start (see plan/memory.py).
"""

from __future__ import annotations

import numpy as np


def first_valid_tap(out_size: int, stride: int, pad: int, dilation: int, kernel: int, in_size: int) -> np.ndarray:
    """Per output row (or column): the first input row the window touches, or in_size if none."""
    start = np.arange(out_size) * stride - pad
    k = np.where(start >= 0, 0, (-start + dilation - 1) // dilation)  # first tap index inside the image
    row = start + k * dilation
    return np.where((k < kernel) & (row < in_size), row, in_size).astype(np.int64)


def window_reads(
    in_shape: tuple[int, ...],
    out_shape: tuple[int, ...],
    stride: tuple[int, int],
    pad: tuple[int, int],
    dilation: tuple[int, int],
    kernel: tuple[int, int],
    per_channel: int | None,
) -> np.ndarray:
    """Lowest input element read per output element of a sliding-window op (NHWC, batch-major).

    per_channel: None when every output element reads all input channels of its window (conv);
    else the depth multiplier m, output channel o reading input channel o // m (depthwise, pools).
    """
    n, h, w, c = in_shape
    on, oh, ow, oc = out_shape
    rows = first_valid_tap(oh, stride[0], pad[0], dilation[0], kernel[0], h)
    cols = first_valid_tap(ow, stride[1], pad[1], dilation[1], kernel[1], w)
    total = n * h * w * c
    b = np.arange(on)[:, None, None]
    base = ((b * h + rows[None, :, None]) * w + cols[None, None, :]) * c  # [on, oh, ow]
    empty = (rows[None, :, None] >= h) | (cols[None, None, :] >= w)
    base = np.where(empty, total, base)
    if per_channel is None:
        reads = np.repeat(base[..., None], oc, axis=-1)
    else:
        channel = np.arange(oc) // per_channel
        reads = np.where(empty[..., None], total, base[..., None] + channel)
    return reads.reshape(-1)


def elementwise_reads(size: int) -> np.ndarray:
    return np.arange(size, dtype=np.int64)


def row_reads(rows: int, row_length: int, out_per_row: int) -> np.ndarray:
    """Each output row reads its whole input row (fully connected: out_per_row outputs per input row)."""
    return np.repeat(np.arange(rows, dtype=np.int64) * row_length, out_per_row)
