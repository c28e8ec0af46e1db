"""DEPTHWISE_CONV_2D (int8 activations, int8 symmetric weights 1HW(C*M) per channel or per tensor, int32 bias;
or float32).

int8 matches TFLM's reference_integer_ops::DepthwiseConvPerChannel: output channel c*M + m reads input
channel c, for any depth multiplier M. float32 follows reference_ops::DepthwiseConv (reference in float64,
rounded once; the C kernel sums in float).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..importers.schema import schema
from ..quant import per_channel_multipliers, requantize
from ._common import (
    activation_code,
    activation_name,
    as_float64,
    as_int64,
    check_activation,
    check_dtypes,
    check_finite,
    float_activation,
    float_clamp,
    is_float,
    output_clamp,
)
from ._conv_util import (
    Window,
    check_accumulator,
    check_bias,
    check_per_tensor,
    check_weight_quant,
    check_window_attrs,
    padding_code,
    padding_name,
    patches,
    window,
    window_fields,
)
from ._inplace import window_reads
from ._scratch import scratch_bytes
from .base import OpDef, TfliteOpOut, register


@dataclass
class DepthwiseConv2DAttrs:
    padding: str = "SAME"  # "SAME" | "VALID"
    stride_h: int = 1
    stride_w: int = 1
    depth_multiplier: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    activation: str = "NONE"


@dataclass
class DepthwiseConv2DPrepared:
    win: Window
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int
    multipliers: np.ndarray  # int32 [out_channels]
    shifts: np.ndarray  # int32 [out_channels]


def prepare(node, graph) -> DepthwiseConv2DPrepared:
    """Compile-time parameters, as TFLM's DepthwiseConvPrepare / CalculateOpDataDepthwiseConv computes them."""
    x, w, out = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
    _, kh, kw, out_c = w.shape
    # PopulateConvolutionQuantizationParams over filter dim 3; a per-tensor scale is broadcast.
    mults, shifts = per_channel_multipliers(x.quant.s, w.quant.scale, out.quant.s, out_c)
    act_min, act_max = output_clamp(node.attrs.activation, out)
    return DepthwiseConv2DPrepared(
        win=window(node.attrs, x.shape[1], x.shape[2], kh, kw),
        input_offset=-x.quant.zp,
        output_offset=out.quant.zp,
        act_min=act_min,
        act_max=act_max,
        multipliers=mults,
        shifts=shifts,
    )


@register
class DepthwiseConv2D(OpDef):
    op = "DEPTHWISE_CONV_2D"
    tflite_ops = ("DEPTHWISE_CONV_2D",)
    kernels = ("mf_depthwise_conv2d_s8",)

    def c_kernels(self, node, graph):
        return ("mf_depthwise_conv2d_f32",) if is_float(node, graph) else self.kernels

    def from_tflite(self, options, node, graph):
        if options is None:
            return DepthwiseConv2DAttrs()
        return DepthwiseConv2DAttrs(
            padding=padding_name(options.padding),
            stride_h=int(options.strideH),
            stride_w=int(options.strideW),
            depth_multiplier=int(options.depthMultiplier),
            dilation_h=int(options.dilationHFactor),
            dilation_w=int(options.dilationWFactor),
            activation=activation_name(options.fusedActivationFunction),
        )

    def to_tflite(self, node, graph):
        a = node.attrs
        opts = schema.DepthwiseConv2DOptionsT()
        opts.padding = padding_code(a.padding)
        opts.strideH, opts.strideW = a.stride_h, a.stride_w
        opts.depthMultiplier = a.depth_multiplier
        opts.dilationHFactor, opts.dilationWFactor = a.dilation_h, a.dilation_w
        opts.fusedActivationFunction = activation_code(a.activation)
        return TfliteOpOut("DEPTHWISE_CONV_2D", "DepthwiseConv2DOptions", opts, version=3)

    def check(self, node, graph):
        a = node.attrs
        flt = is_float(node, graph)
        problems = check_dtypes(node, graph, (0, 1)) + check_activation(a.activation) + check_window_attrs(a)
        x, w, b, out = graph.inp(node, 0), graph.inp(node, 1), graph.inp(node, 2), graph.out(node)
        if x is None or w is None:
            return problems + ["needs an input and a filter"]
        if len(x.shape) != 4 or len(w.shape) != 4 or len(out.shape) != 4:
            return problems + ["input, filter and output must be rank 4 (NHWC, 1HW(C*M))"]
        if not w.is_const:
            problems.append("weights are not constant")
        one, kh, kw, out_c = w.shape
        problems += check_weight_quant(w, out_c, axis=3) + check_bias(b, out_c, "float32" if flt else "int32")
        problems += check_per_tensor(x, out) + check_finite(w, b)
        if one != 1:
            problems.append(f"filter shape {tuple(w.shape)} is not [1, KH, KW, C*M]")
        # TFLM loops over input channels x depth_multiplier and trusts they give the filter's channels.
        if a.depth_multiplier < 1 or x.shape[3] * a.depth_multiplier != out_c:
            problems.append(
                f"depth multiplier {a.depth_multiplier} x input channels {x.shape[3]} != filter channels {out_c}"
            )
        if problems:
            return problems
        win = window(a, x.shape[1], x.shape[2], kh, kw)
        expected = (x.shape[0], win.out_h, win.out_w, out_c)
        if tuple(out.shape) != expected:
            problems.append(f"output shape {tuple(out.shape)} differs from TFLite's computed {expected}")
        if not flt:
            bias = b.data if b is not None else None
            problems += check_accumulator(w.data.reshape(kh * kw, out_c).T, bias, -x.quant.zp)
        return problems

    def reference(self, node, graph, inputs):
        if is_float(node, graph):
            return [self._reference_float(node, graph, inputs)]
        p = prepare(node, graph)
        x = as_int64(inputs[0]) + p.input_offset
        w = as_int64(inputs[1])
        _, kh, kw, out_c = w.shape
        n, c = x.shape[0], x.shape[3]
        win = p.win
        cols = patches(x, win)  # [n, oh, kh, ow, kw, c]
        acc = np.einsum("nakbwc,kwcm->nabcm", cols, w.reshape(kh, kw, c, out_c // c))
        acc = acc.reshape(n, win.out_h, win.out_w, out_c)
        if inputs[2] is not None:
            acc = acc + as_int64(inputs[2]).reshape(-1)
        return [requantize(acc, p.multipliers, p.shifts, p.output_offset, p.act_min, p.act_max)]

    def _reference_float(self, node, graph, inputs):
        x, w = as_float64(inputs[0]), as_float64(inputs[1])
        _, kh, kw, out_c = w.shape
        n, c = x.shape[0], x.shape[3]
        win = window(node.attrs, x.shape[1], x.shape[2], kh, kw)
        acc = np.einsum("nakbwc,kwcm->nabcm", patches(x, win), w.reshape(kh, kw, c, out_c // c))
        acc = acc.reshape(n, win.out_h, win.out_w, out_c)
        if inputs[2] is not None:
            acc = acc + as_float64(inputs[2]).reshape(-1)
        return float_activation(acc, node.attrs.activation)

    def macs(self, node, graph):
        _, kh, kw, _ = graph.inp(node, 1).shape
        return graph.out(node).size * kh * kw

    def inplace_reads(self, node, graph, input_index):
        if input_index != 0:
            return None
        x, f = graph.inp(node, 0), graph.inp(node, 1)
        w = window(node.attrs, x.shape[1], x.shape[2], f.shape[1], f.shape[2])  # both dtypes
        mult = graph.out(node).shape[3] // graph.inp(node, 0).shape[3]
        return window_reads(graph.inp(node, 0).shape, graph.out(node).shape, (w.stride_h, w.stride_w),
                            (w.pad_h, w.pad_w), (w.dilation_h, w.dilation_w), (w.kh, w.kw), mult)

    def _fields(self, node, graph) -> dict:
        """The int8 kernel's parameter struct fields (also what its scratch size is computed from)."""
        p = prepare(node, graph)
        win = p.win
        return dict(
            input=tuple(graph.inp(node, 0).shape),
            output=tuple(graph.out(node).shape),
            filter_h=win.kh,
            filter_w=win.kw,
            depth_multiplier=node.attrs.depth_multiplier,
            **window_fields(win),
            input_offset=p.input_offset,
            output_offset=p.output_offset,
            act_min=p.act_min,
            act_max=p.act_max,
        )

    def scratch_bytes(self, node, graph, variant="reference"):
        return 0 if is_float(node, graph) else scratch_bytes("mf_depthwise_conv2d_s8", variant, self._fields(node, graph))

    def emit_c(self, node, graph, c):
        if is_float(node, graph):
            return self._emit_float(node, graph, c)
        p = prepare(node, graph)
        scratch, scratch_size = c.scratch()
        params = c.struct("mf_depthwise_conv2d_params", "params", dict(self._fields(node, graph), scratch_bytes=scratch_size))
        mult = c.const_array("mult", p.multipliers, "int32_t")
        shift = c.const_array("shift", p.shifts, "int32_t")
        quant = c.struct("mf_per_channel_quant", "quant", dict(multiplier=mult, shift=shift))
        bias = c.tensor(node.inputs[2] if len(node.inputs) > 2 else None)
        args = [params, quant, c.tensor(node.inputs[0]), c.tensor(node.inputs[1]), bias, c.tensor(node.outputs[0]), scratch]
        return f"mf_depthwise_conv2d_s8({', '.join(args)});"

    def _emit_float(self, node, graph, c):
        x, w = graph.inp(node, 0), graph.inp(node, 1)
        win = window(node.attrs, x.shape[1], x.shape[2], w.shape[1], w.shape[2])
        act_min, act_max = float_clamp(node.attrs.activation)
        params = c.struct(
            "mf_depthwise_conv2d_f32_params",
            "params",
            dict(
                input=tuple(x.shape),
                output=tuple(graph.out(node).shape),
                filter_h=win.kh,
                filter_w=win.kw,
                depth_multiplier=node.attrs.depth_multiplier,
                **window_fields(win),
                act_min=act_min,
                act_max=act_max,
            ),
        )
        bias = c.tensor(node.inputs[2] if len(node.inputs) > 2 else None)
        args = [params, c.tensor(node.inputs[0]), c.tensor(node.inputs[1]), bias, c.tensor(node.outputs[0])]
        return f"mf_depthwise_conv2d_f32({', '.join(args)});"
