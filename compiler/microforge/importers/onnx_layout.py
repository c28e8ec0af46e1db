"""Layout bookkeeping for the ONNX importer (NCHW ONNX values -> NHWC IR tensors, once, at import).

Every int8 activation of the ONNX graph is stored in the IR as `onnx_value.transpose(layout)`.
A Transpose node therefore never moves data: it only changes the layout of its output value.
Data has to move only when a consumer needs a layout whose element order differs; when the
two orders differ only by size-1 axes, a free RESHAPE view does it, otherwise the model is rejected.
"""

from __future__ import annotations

Layout = tuple[int, ...]

NHWC_OF_NCHW: Layout = (0, 2, 3, 1)  # IR axis j holds ONNX axis layout[j]


def identity(rank: int) -> Layout:
    return tuple(range(rank))


def permute(shape: tuple[int, ...], layout: Layout) -> tuple[int, ...]:
    """The IR shape of an ONNX value of `shape` stored in `layout`."""
    return tuple(int(shape[a]) for a in layout)


def after_transpose(layout: Layout, perm: Layout) -> Layout:
    """Layout of y = Transpose(x, perm) so that y stored in it is x stored in `layout` (no data moves)."""
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return tuple(inverse[a] for a in layout)


def same_memory_order(shape: tuple[int, ...], a: Layout, b: Layout) -> bool:
    """True when storing a value in layout `a` or `b` gives the same bytes (they differ by size-1 axes only)."""
    return [x for x in a if shape[x] != 1] == [x for x in b if shape[x] != 1]


def ir_axis(layout: Layout, onnx_axis: int) -> int:
    """Where ONNX axis `onnx_axis` (may be negative) is in the IR tensor."""
    rank = len(layout)
    return layout.index(onnx_axis % rank)


def same_pads_1d(in_size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """TFLite SAME padding (before, after) of one spatial axis."""
    eff = (k - 1) * dilation + 1
    out = (in_size + stride - 1) // stride
    total = max((out - 1) * stride + eff - in_size, 0)
    return total // 2, total - total // 2


def map_padding(
    pads: list[int], in_hw: tuple[int, int], k: tuple[int, int], strides: tuple[int, int], dil: tuple[int, int]
) -> str | None:
    """ONNX explicit pads [top, left, bottom, right] -> "SAME"/"VALID" when TFLite computes the same, else None."""
    if all(p == 0 for p in pads):
        return "VALID"
    same = [same_pads_1d(in_hw[i], k[i], strides[i], dil[i]) for i in (0, 1)]
    if [same[0][0], same[1][0], same[0][1], same[1][1]] == list(pads):
        return "SAME"
    return None
