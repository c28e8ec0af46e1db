"""Latency cost model: estimated instructions, cycles and milliseconds per layer on a target.

Instructions per layer are a linear model of loop trip counts ("features") of the layer's kernel:

    instructions ≈ Σ coefficient[f] · feature[f]      e.g. CONV_2D: a·macs + b·taps + c·outputs + d

Features are what the reference kernels' loops actually run (taps skipped by zero padding are not
counted), so a 3x3 conv with 4 input channels and a 1x1 conv with 128 are both fitted well: the first
is dominated by per-tap overhead, the second by the multiply-accumulate loop. The coefficients are
fitted per core (compiler and ISA differ) and per kernel variant, by least squares against exact QEMU
instruction counts (benchmarks/calibrate_cost.py), and live in the [cost.<variant>.<op>] tables of
targets/*.toml.

Optimized kernel variants (runtime_c/kernels/<variant>/, a target's `kernels`) loop differently, so they
have features of their own (VARIANT_FEATURES): e.g. the MVE convolution runs one VMLADAVA per 16 input
bytes of a filter row for 4 output channels at a time, so its cost follows ceil(span / 16) vector steps
and per-4-channel requantization blocks, not MACs. A layer runs the variant's specialised code only when
the variant has a source for the op's kernel and the shape is one it specialises (kernel_path); otherwise
it runs reference code (the reference kernel, or the variant's copy of the reference loop) and takes the
reference features and coefficients (same loops, so the reference fit applies).

Cycles = instructions × the target's cycles_per_instruction: QEMU counts instructions,
not cycles, so cycles and milliseconds are always an estimate; for cores QEMU cannot run (Xtensa) the
instruction counts are too, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import ops
from ..ir import Graph, Node
from ..ops._common import output_clamp
from ..ops._scratch import ARM_DSP_CONV_SCRATCH, arm_dsp_lanes, arm_dsp_pw_table
from ..targets import Target

CONST = "const"  # the feature that is always 1: call overhead and kernel prologue

#: Features of each op's reference int8 kernel (the loop levels that cost instructions).
FEATURES: dict[str, tuple[str, ...]] = {
    # inner MAC loop; per executed tap (inner-loop setup, index math); per filter row (bounds check);
    # per output (bias, requantize, store)
    "CONV_2D": ("macs", "taps", "rows", "outputs", CONST),
    # one MAC per executed tap; per filter row (bounds check); per output (requantize)
    "DEPTHWISE_CONV_2D": ("macs", "rows", "outputs", CONST),
    "FULLY_CONNECTED": ("macs", "outputs", CONST),
    # C >= 4: window sums over contiguous channel runs, 4 taps per pass (wide_macs: window taps x channels inside
    # the image; passes: output pixels x 256-channel chunks x ceil(valid taps / 4); pixels: output pixels (window
    # bounds); wide_outputs: the division per output); C < 4: one window sum per output element (narrow_macs;
    # narrow_rows: outputs x valid window rows; narrow_outputs)
    "AVERAGE_POOL_2D": ("wide_macs", "passes", "pixels", "wide_outputs", "narrow_macs", "narrow_rows", "narrow_outputs",
                        CONST),  # fmt: skip
    "MAX_POOL_2D": ("macs", "outputs", CONST),
    "ADD": ("outputs", CONST),
    "MUL": ("outputs", CONST),
    # contiguous reduced dims (input [outer][red][inner]): inner > 1 sums rows into 256-channel int32 chunks
    # (cont_elems: input elements; cont_passes: outer x chunks x row passes, 4 rows per pass), inner == 1 sums
    # each output's contiguous block (last_elems; last_outputs: their outputs, a call each); any other axis set
    # sums one block per output (gen_elems; gen_rows: outputs x reduced rows of the innermost reduced dim);
    # outputs: the requantization
    "MEAN": ("cont_elems", "cont_passes", "last_elems", "last_outputs", "gen_elems", "gen_rows", "outputs", CONST),
    "SOFTMAX": ("outputs", "rows", CONST),  # rows: reciprocal of the sum per row
    "LOGISTIC": ("outputs", CONST),
    "TANH": ("outputs", CONST),
    "QUANTIZE": ("outputs", CONST),  # int8 -> int8 requantization
    "DEQUANTIZE": ("outputs", CONST),
    # runs: in-range positions of the dims outside the innermost padded one (one copy + one merged fill each);
    # rows: iterations of the kernel's two outer loop levels (dims 0 and 1 when they are outside that dim);
    # bytes copied in 16-byte blocks by runs whose source and destination share their alignment mod 4
    # (aligned_bytes) and by the others (misaligned_bytes: unaligned words, or bytes without unaligned access;
    # misaligned_rest: their bytes in 4-byte words); words: the aligned copies' and the fills' bytes in 4-byte
    # words; tails: byte steps of every copy and fill (prologue bytes, the tail's 2- and 1-byte steps);
    # fill_bytes: the fills' 16-byte block bytes (fills of >= 32 bytes)
    "PAD": ("runs", "rows", "aligned_bytes", "misaligned_bytes", "misaligned_rest", "words", "tails", "fill_bytes",
            CONST),  # fmt: skip
    "CONCATENATION": ("outputs", "rows", CONST),  # rows: memcpy calls (outer size × inputs)
}
#: Features of the fallback model for ops (or dtypes) without their own coefficients.
GENERIC = "*"
GENERIC_FEATURES = ("macs", "outputs", "inputs", CONST)

#: Features of the optimized variants' specialised paths (see kernel_path); a variant kernel not listed here
#: is fitted on the reference features. All counts are for the whole layer (batch included).
VARIANT_FEATURES: dict[str, dict[str, tuple[str, ...]]] = {
    "arm_mve": {
        # CONV_2D, one path per shape (kernel dispatch order; "group" = 4 output channels, g4 = ceil(C_out / 4);
        # "left": some per-channel shift > 0, which the asm paths do not take):
        # - window (<= 32-byte windows, KH·KW > 1, C_out <= 64, <= 56 for 17..32 bytes; _mve_small_window): two byte
        #   gathers per pixel (win_pixels), padding taps predicated off (win_border: border pixels), per group 1
        #   VMLADAVA per channel (win_groups) or 2 for 17..32-byte windows (win32_groups: those groups too);
        #   win_setup: C_out × 16 or 32 bytes of the filter copy (a byte loop)
        # - patch (im2col, dilation_w 1, KH·KW > 1, L = KH·KW·C_in in 17..64 bytes or L % 16 == 0): per pixel the
        #   window is copied into the patch: p_vcopies (interior pixels' 16-byte vectors when a filter row is <= 16
        #   bytes or a multiple of 16: plain copies), p_copies (the other, predicated, vector copies and the border
        #   pixels' zero-point fills), p_rows (filter rows copied), p_pixels (the patch handed on), p_border
        #   (border pixels: zero-point fill and per-pixel bounds); then without left and with
        #   C_out % 4 == 0: L <= 64 one patch_run asm call per pixel (pa_pixels) with per group nv = ceil(L / 16)
        #   VMLADAVA steps (pa_steps: groups × nv; pa_groups; pa_rgroups: the groups when L % 16 != 0, which skip
        #   the first vector's zero lanes); L > 64 one patch_mem_run call (pm_pixels) with a DLS/LE loop per group
        #   (pm_steps: groups × L / 16; pm_groups); otherwise mve_dot4 per group (vsteps: groups × ceil(L / 16),
        #   dot_groups: groups; pixels)
        # - pointwise (1x1, every tap inside): C_in 8 stride 1, C_out % 4 == 0, <= 64, no left: one asm block for
        #   the layer (pw8_groups: pixels × C_out / 4; pw8_pixels; pw8_setup: C_out / 4 blocks built); C_in 8/16/32:
        #   one asm loop per pixel (pw_groups: pixels × C_out / 4; pw_steps: those × ceil(C_in / 16); pixels);
        #   16 < C_in <= 64: patch_run on the pixel in place (pa_*); C_in % 16 == 0 > 64 (C_out <= 170):
        #   patch_mem_run (pm_*); else mve_dot4 per group (vsteps, dot_groups, pixels)
        # - the rest: per (pixel, valid filter row, group) an mve_dot4 over the row's span: vsteps = Σ ceil(span / 16)
        #   (span = valid taps of the row × C_in), dots: the (pixel, row, group) triples, edge_steps: the vsteps of
        #   windows clipped by padding and of the groups past C_out 256 (weights summed on the fly; edge_dots: their
        #   (pixel, row, group) triples, a mve_sum4 each), blocks:
        #   pixels × g4 (requantization), pixels
        # wsteps (every path): bias + offset·Σw per channel, min(C_out, 256) × ceil(KH·KW·C_in / 16)
        "CONV_2D": ("vsteps", "dots", "edge_steps", "edge_dots", "blocks", "dot_groups", "pixels", "wsteps", "pw_steps", "pw_groups",
                    "pw8_groups", "pw8_pixels", "pw8_setup", "win_groups", "win32_groups", "win_border", "win_pixels",
                    "win_setup", "pa_steps", "pa_groups", "pa_rgroups", "pa_pixels", "pm_steps", "pm_groups",
                    "pm_pixels", "p_vcopies", "p_copies", "p_rows", "p_pixels", "p_border", CONST),  # fmt: skip
        # one path per shape (kernel dispatch order):
        # - one input channel (C == 1, OC % 4 == 0, OC <= 64, kh·kw <= 16 taps): one window gather per pixel and one
        #   VMLADAVA per output channel; interior pixels (whole window inside) run one asm block with OC <= 16 and no
        #   left shift (c1_groups: interior pixels × OC / 4), in C otherwise (c1_cgroups); border pixels build a tap
        #   mask (c1_btaps: their valid taps) and sum their valid weights (c1_bgroups: border pixels × OC / 4);
        #   c1_setup: OC (filter transposition, 16 taps per channel); c1_runs: output rows with interior pixels (a call
        #   or a C loop each)
        # - one input channel with > 16 taps (OC >= 4, dilation_w 1): a C_in-1 convolution, the window copied into a
        #   patch per pixel (c1b_pixels; c1b_vrows: the rows of interior pixels with kw <= 16, one vector each;
        #   c1b_rows: the other valid filter rows, predicated copies; c1b_border: border pixels, whose patch is
        #   first filled with the zero point), one mve_dot4 per group of 4 channels over Lp = 16·ceil(taps / 16)
        #   bytes (c1b_groups: pixels × ceil(OC / 4); c1b_steps: those × Lp / 16); c1b_setup: OC × Lp (the filter
        #   transposed into the scratch, a byte loop)
        # - 3x3, M == 1, C % 16 == 0, C <= 144, no left shift: per pixel one asm block over 16-channel chunks
        #   (d3_chunks: pixels × C / 16; d3_fchunks: the same for C > 64, filter read in place; d3_bchunks: border
        #   pixels × C / 16, taps through an address table), border pixels one call each after building the table
        #   (d3_border), interior runs of an output row in one call (d3_runs; d3_run_pixels: their pixels);
        #   d3_setup: C / 16 (the per-chunk blocks)
        # - M == 1: interior runs (C % 8 == 0, full windows) with C <= 128, dilation_w 1, no left shift and
        #   >= 4·kh·kw pixels run one asm block per pixel over 8- or 16-channel chunks (run_macs: their MACs in
        #   8-channel chunks; run16_macs: in 16-channel chunks (C % 16 == 0); run_chunks: pixels × chunks; run_pixels:
        #   the pixels (an asm call each); run_calls: output rows with an interior run (C == 8 3x3 included);
        #   run_setup: C·kh·kw, the per-chunk table); the other pixels vectorise 8 channels per step (m1_taps: valid
        #   (pixel, tap) pairs × ceil(C / 8); m1_tail_taps: the same for a C % 8 tail, intrinsics; m1_chunks:
        #   pixels × ceil(C / 8), bias and requantization of 8 channels)
        # - M % 4 == 0 shares each input byte across 4 or 8 filter lanes (m4_taps: valid (pixel, tap) pairs ×
        #   C_out / lanes; m4_rows: valid (pixel, filter row) pairs × C_out / lanes; m4_blocks: pixels × C_out / 4)
        # - other M gather 4 lanes' inputs and check the bounds of every tap (mn_taps: all (pixel, tap) pairs ×
        #   ceil(C_out / 4); mn_blocks: pixels × ceil(C_out / 4))
        # c8_run_pixels: interior runs of 3x3, C == 8 layers take a dedicated asm block (dw_run8_3x3) instead
        # pixels: window bounds of every pixel of the C == 1 border, M == 1 and M > 1 loops outside the asm runs
        "DEPTHWISE_CONV_2D": (
            "c8_run_pixels",
            "c1_groups",
            "c1_cgroups",
            "c1_bgroups",
            "c1_btaps",
            "c1_setup",
            "c1_runs",
            "c1b_steps",
            "c1b_groups",
            "c1b_vrows",
            "c1b_rows",
            "c1b_border",
            "c1b_pixels",
            "c1b_setup",
            "d3_chunks",
            "d3_fchunks",
            "d3_bchunks",
            "d3_border",
            "d3_run_pixels",
            "d3_runs",
            "d3_setup",
            "run_macs",
            "run16_macs",
            "run_chunks",
            "run_pixels",
            "run_calls",
            "run_setup",
            "m1_taps",
            "m1_tail_taps",
            "m1_chunks",
            "m4_taps",
            "m4_rows",
            "m4_blocks",
            "mn_taps",
            "mn_blocks",
            "pixels",
            CONST,
        ),  # fmt: skip
        # vsteps: batches × ceil(C_out / 4) × ceil(depth / 16) (dot product and Σw); blocks: batches × ceil(C_out / 4)
        "FULLY_CONNECTED": ("vsteps", "blocks", CONST),
        # both inputs with channel stride 1 (see _mve_add): table path (>= 128 elements, output shift in [-23, -1]):
        # table_steps: 8-element steps over each run (the whole tensor when dense, else one (n, h, w) row each),
        # table_runs: those runs, tables: input tables built (1 when both inputs share their quantization, else 2);
        # otherwise add_run: run_steps (4 elements each) and runs
        "ADD": ("table_steps", "table_runs", "tables", "run_steps", "runs", CONST),
        # contiguous reduced dims only (other axis sets run the reference loop): rows16: rows of 16-channel blocks
        # (outer x inner // 16 x red), blocks16: their int16 sums of <= 256 rows, tail_rows: rows of the last
        # inner % 16 channels in 4-channel steps, last_steps: inner == 1, 16-byte VADDVA steps per output (and
        # last_outputs: their scalar requantization; outputs: every output)
        "MEAN": ("rows16", "blocks16", "tail_rows", "last_steps", "last_outputs", "outputs", CONST),
    },
    "arm_dsp": {
        # mf_conv2d_s8 (groups 1, rq_fast_ok; _dsp_conv follows its dispatch):
        # - 1x1 stride-1 same-size layers with C_in 8 (C_out <= 64) or 16 (C_out <= 42): one whole-layer loop from a
        #   per-call table (pw_setup: C_out · (C_in / 2 + 10)); pw_outputs / pw_macs: outputs and MACs in the asm
        #   loops (C_in 8: pixel pairs, 2 channels per pass; C_in 16: 2 channels per pass), pw_clamp_outputs: those
        #   of them with a clamp narrower than int8 (C_in 8), pw_c_macs: MACs in the C loop (clamped C_in 16, a
        #   clamped C_in 8 layer's odd last pixel); pw_pixels: pixels
        # - else im2col blocks of 6 pixels, then 4 (conv_im2col), per block and chunk of whole taps (blocks):
        #   b6_groups / b4_groups: channels × groups of 4 patch elements in the asm channel loops, b6_chans /
        #   b4_chans: channels (entry, start, loop), b6_idx: 6-pixel channels taking constants from the arrays
        #   (no per-call table), b6_outputs / b4_outputs: outputs requantized and stored by the asm loops,
        #   blk_clamps: those outputs × active bounds; part_resets: C_out × pixels of chunked blocks (partial sums
        #   reset); c4_chans: channels in the C channel loop (< 2 groups, no mode, a last channel without padded
        #   filters; its whole groups count in b4_groups), c4_macs: its MACs of the tail elements (patch % 4);
        #   fill_rows / fill_groups: window rows and groups of 4 elements copied by the asm row routines (1x1
        #   straight from the input, blocks on one row with every window inside, inside pixels); px_loop: pixels
        #   of blocks filled one pixel at a time (not a whole-block fill); stage_words: the words gathered first
        #   when C_in % 4 != 0; slow_px / slow_rows / slow_elems: windows filled with clipping (borders, dilation,
        #   staged chunks), slow_stage: their elements gathered byte-wise in C (C_in % 4 != 0); im2col_setup: per
        #   call C_out (+2 C_out with a table, +the padded filter copy's words); im2col_calls: calls running blocks
        # - the leftover 1-3 pixels (or all, when the blocks do not fit the scratch or a shift is below -22): 2x2 /
        #   single pixel SMLAD dot products over filter rows (row_macs: executed MACs; dots: (pixel, valid filter
        #   row, channel pair) triples; pixels: their count)
        "CONV_2D": (
            "pw_outputs",
            "pw_macs",
            "pw_clamp_outputs",
            "pw_c_macs",
            "pw_pixels",
            "pw_setup",
            "b6_groups",
            "b6_chans",
            "b6_idx",
            "b4_groups",
            "b4_chans",
            "b6_outputs",
            "b4_outputs",
            "blk_clamps",
            "blocks",
            "part_resets",
            "c4_macs",
            "c4_chans",
            "px_loop",
            "fill_rows",
            "fill_groups",
            "stage_words",
            "slow_px",
            "slow_rows",
            "slow_elems",
            "slow_stage",
            "im2col_setup",
            "im2col_calls",
            "row_macs",
            "dots",
            "pixels",
            CONST,
        ),
        # first choice (_dsp_dw_band mirrors the kernel's dwb_plan and its thresholds): 3x3, dilation 1, foldable
        # shifts, bands of R output rows (or columns, tall maps) through int16 planes, per channel 2 pixels per step.
        # band_pairs / band_pairs2: pixel pairs at plane stride 1 / 2 (rows × out_w // 2 × C_out); band_odd: odd
        # last pixels of a row (× C_out); band_clamp: outputs clamped to an activation narrower than int8;
        # band_rows: output rows × C_out; band_chans: bands × C_out (weights, constants); copy into the planes:
        # band_copy: values of 4-channel groups, band_copy_rows: plane rows × groups, band_copy1: values of the
        # leftover channels (chunk % 4), band_calls: copy calls (bands × chunks), band_fill: padding values refilled
        # (plane rows outside the image that held image values); band_buf: bytes through the band buffer (in place
        # without a whole-pixel gap); band_layers: 1 (the scratch fill, the plans)
        # otherwise: depth multiplier 1, 3x3, C % 4 == 0, C <= 128, dilation_w 1: interior pixels (whole window
        # inside) run in one call per output row (run_calls) with 4 channels × 9 taps per group (run_groups:
        # interior pixels × C / 4) from a per-channel table (run_setup: C); every other pixel of depth multiplier 1
        # runs 4 channels per tap step (m1_taps: valid (pixel, tap) pairs x floor(C / 4)), the C % 4 tail channels
        # one at a time (tail_macs); multiplier % 4 == 0: one input against 4 filter lanes (m4_taps: valid (pixel,
        # tap) pairs x C_out / 4); rows: valid (pixel, filter row) pairs x ceil(C_out / 4) and px_outputs: outputs,
        # both of the pixels outside the runs, pixels: their count; multiplier % 4 == 0 with 3x3, dilation 1,
        # stride_w 1 or 2 runs planar rows instead (rows wider than the bands' 128 values): per output row an int16
        # copy of 3 input rows (planar_copy: out rows × 3 × ((out_w - 1)·stride_w + 4) × C), per output channel a
        # setup (planar_chans: out rows × C_out) and SMLAD steps of 2 pixels (planar_pairs: out rows × C_out ×
        # ceil(out_w / 2))
        # run layers also take their border pixels through row asm (edge_taps: border pixels' valid taps × C / 4;
        # edge_groups: border pixels × C / 4), and with C <= 60 pre-extended weights (ext_taps: every valid tap × C/4);
        # run_pixels: interior pixels, run_clamp: run and border 4-channel groups with an activation clamp narrower
        # than int8 (SSUB8/SEL)
        "DEPTHWISE_CONV_2D": ("edge_taps", "edge_groups", "ext_taps", "run_groups", "run_calls", "run_setup",
                              "run_pixels", "run_clamp", "m1_taps", "tail_macs", "m4_taps", "rows",
                              "px_outputs", "pixels", "planar_copy", "planar_chans", "planar_pairs",
                              "band_pairs", "band_pairs2", "band_odd", "band_clamp", "band_rows", "band_chans",
                              "band_copy", "band_copy_rows", "band_copy1", "band_calls", "band_fill", "band_buf",
                              "band_layers", CONST),  # fmt: skip
        # two output features per inner loop; an odd last feature runs alone (odd_macs)
        "FULLY_CONNECTED": ("macs", "odd_macs", "outputs", CONST),
        # dense inputs with the TFLM shift ranges (see _dsp_add): >= 256 elements with output shift >= -23 run the
        # table loop (table_outputs; clamp_outputs: the same when the activation clamp is narrower than int8;
        # tables: 1 or 2 input tables built), the others the SMMLAR loop (loop_outputs; loop_rq: loop_outputs x inputs
        # with a shift != 0, which round and shift after their SMMLAR)
        "ADD": ("table_outputs", "clamp_outputs", "tables", "loop_outputs", "loop_rq", CONST),
    },
    "riscv": {
        # register-blocked scalar code (2 pixels × 4 channels): still MAC-bound, the reference loop features
        # with the variant's own coefficients
        "CONV_2D": FEATURES["CONV_2D"],
        # 3x3, dilation 1, stride_w 1 or 2: depth multiplier 1 runs 4 horizontally adjacent pixels at a time where
        # all 4 windows are inside the input horizontally, or clip exactly one column at the left or right edge
        # (group_*: 3 columns × valid rows per pixel, each loaded input column feeds every pixel holding it);
        # C == 1 with multiplier 8 runs the interior groups only (m8_macs, m8_outputs); the other pixels of
        # multiplier 1 run straight-line taps one pixel at a time (edge_*); any other pixel runs a generic per-pixel
        # loop (generic_*) that loads one input per (pixel, input channel, block of 8, 4 or 1 of its M outputs,
        # valid tap): loads, and sets up a filter row per (pixel, input channel, block, valid row): generic_rows
        "DEPTHWISE_CONV_2D": (
            "group_macs",
            "group_outputs",
            "m8_macs",
            "m8_outputs",
            "edge_macs",
            "edge_outputs",
            "generic_macs",
            "generic_outputs",
            "loads",
            "generic_rows",
            CONST,
        ),
        # block_macs: MACs of the 4-output blocks (one input load feeds 4 rows); tail_macs: the C_out % 4 rest
        "FULLY_CONNECTED": ("block_macs", "tail_macs", "outputs", CONST),
        # >= 512 elements (see _rv_add): left shift <= 20, input shifts <= 0, output shift in [-21, -1] take the
        # fast table form, whose cost depends on whether the activation clamps an output (in_range / clamped:
        # expected counts for uniformly distributed int8 inputs); other parameters the exact requantization
        # (slow_outputs, slow_calls: its mf_requantize table fill); broadcast inputs run a loop nest instead of the
        # flat loop (bcast_outputs: their outputs, bcast_rows: (n, h, w) rows)
        "ADD": ("in_range", "clamped", "slow_outputs", "slow_calls", "bcast_outputs", "bcast_rows", CONST),
    },
}


@dataclass
class LayerCost:
    index: int
    op: str
    name: str
    macs: int  # the op's MAC count (as in the report); features["macs"] counts executed ones
    features: dict[str, float]
    key: str  # the node's model key: "OP" (int8) or "OP/<in>_<out>"
    instructions: float
    cycles: float
    ms: float
    model: str  # coefficients used: "<variant>.<key>", "<variant>.<OP>" (int8 fit), "<variant>.*" (generic), "alias"
    path: str = "reference"  # the code the layer runs: a variant's specialised kernel or "reference" (kernel_path)

    @property
    def fallback(self) -> bool:
        """True when the coefficients are not the node's own (another dtype's fit or the generic one)."""
        return self.model != "alias" and self.model.split(".", 1)[1] != self.key


@dataclass
class CostEstimate:
    """Estimated latency of one inference on a target. Cycles and ms are always estimates."""

    target: str
    core: str
    clock_hz: int
    kernels: str
    cycles_per_instruction: float
    measured: bool  # instruction coefficients fitted to QEMU counts on this core (False: derived)
    basis: str  # where the coefficients come from
    layers: list[LayerCost] = field(default_factory=list)

    @property
    def instructions(self) -> float:
        return sum(layer.instructions for layer in self.layers)

    @property
    def cycles(self) -> float:
        return sum(layer.cycles for layer in self.layers)

    @property
    def ms(self) -> float:
        return sum(layer.ms for layer in self.layers)

    @property
    def label(self) -> str:
        if self.measured:
            text = (f"estimate: instructions from a model fitted to exact QEMU counts, cycles = instructions × "
                    f"{self.cycles_per_instruction:g} (CPI estimate) at {self.clock_hz / 1e6:g} MHz")  # fmt: skip
        else:
            text = f"estimate, not measured: {self.basis}"
        if any(c.path != "reference" and c.model.startswith("reference.") for c in self.layers):
            text += (f"; the {self.kernels} kernels have no fit of their own for some layers, which use the reference "
                     "kernels' coefficients and are over-estimated")  # fmt: skip
        return text

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "core": self.core,
            "clock_hz": self.clock_hz,
            "kernels": self.kernels,
            "cycles_per_instruction": self.cycles_per_instruction,
            "measured": self.measured,
            "basis": self.basis,
            "label": self.label,
            "instructions": round(self.instructions),
            "cycles": round(self.cycles),
            "ms": self.ms,
            "layers": [
                {
                    "index": c.index,
                    "op": c.op,
                    "macs": c.macs,
                    "instructions": round(c.instructions),
                    "cycles": round(c.cycles),
                    "ms": c.ms,
                    "model": c.model,
                    "path": c.path,
                    "fallback": c.fallback,
                }  # fmt: skip
                for c in self.layers
            ],
        }

    def table(self) -> str:
        lines = [f"{self.target} ({self.core} @ {self.clock_hz / 1e6:g} MHz, {self.kernels} kernels) — {self.label}",
                 f"{'#':>3} {'op':<20} {'MACs':>10} {'est. instr':>12} {'est. cycles':>12} {'est. ms':>9}"]  # fmt: skip
        for c in self.layers:
            lines.append(
                f"{c.index:>3} {c.op:<20} {c.macs:>10,} {c.instructions:>12,.0f} {c.cycles:>12,.0f} "
                f"{c.ms:>9.3f}" + (f"  ({c.key}: {c.model} coefficients)" if c.fallback else "")
            )
        lines.append(f"{'':>3} {'total':<20} {sum(c.macs for c in self.layers):>10,} {self.instructions:>12,.0f} "
                     f"{self.cycles:>12,.0f} {self.ms:>9.3f}")  # fmt: skip
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- features


def _valid(out: int, stride: int, pad: int, k: int, dilation: int, size: int) -> np.ndarray:
    """For each output position along one axis: how many filter taps land inside the input."""
    pos = np.arange(out)[:, None] * stride - pad + np.arange(k)[None, :] * dilation
    return ((pos >= 0) & (pos < size)).sum(axis=1)


def _conv_counts(node: Node, graph: Graph, depthwise: bool) -> dict[str, float]:
    from ..ops._conv_util import window  # the geometry the kernels use (TFLM's padding rule)

    x, f, y = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
    n, h, w, _ = x.shape
    _, kh, kw, fc = f.shape
    win = window(node.attrs, h, w, kh, kw)
    vy = _valid(win.out_h, win.stride_h, win.pad_h, kh, win.dilation_h, h)
    vx = _valid(win.out_w, win.stride_w, win.pad_w, kw, win.dilation_w, w)
    oc = y.shape[-1]
    outputs = n * win.out_h * win.out_w * oc
    taps = n * oc * int(vy.sum()) * int(vx.sum())  # (output, tap) pairs inside the image
    return {
        "macs": taps if depthwise else taps * fc,
        "taps": taps,
        "rows": outputs * kh,
        "outputs": outputs,
    }


def _pool_counts(node: Node, graph: Graph) -> dict[str, float]:
    from ..ops import _pool_util as pu

    p = pu.prepare(node, graph)
    vy = _valid(p.out_h, p.stride_h, p.pad_h, p.filter_h, 1, p.in_h)
    vx = _valid(p.out_w, p.stride_w, p.pad_w, p.filter_w, 1, p.in_w)
    return {"macs": p.batches * p.channels * int(vy.sum()) * int(vx.sum()),
            "outputs": p.batches * p.out_h * p.out_w * p.channels}  # fmt: skip


def _avgpool_counts(node: Node, graph: Graph) -> dict[str, float]:
    """The int8 kernel's two paths: C >= 4 sums 4 window taps per pass over 256-channel chunks; C < 4 one window
    sum per output element."""
    from ..ops import _pool_util as pu

    p = pu.prepare(node, graph)
    vy = _valid(p.out_h, p.stride_h, p.pad_h, p.filter_h, 1, p.in_h)
    vx = _valid(p.out_w, p.stride_w, p.pad_w, p.filter_w, 1, p.in_w)
    c, n = p.channels, p.batches
    macs = n * c * int(vy.sum()) * int(vx.sum())
    outputs = n * p.out_h * p.out_w * c
    d = dict.fromkeys(("wide_macs", "passes", "pixels", "wide_outputs", "narrow_macs", "narrow_rows",
                       "narrow_outputs"), 0)  # fmt: skip
    if c >= 4:
        quads = int(_ceil(np.outer(vy, vx), 4).sum())  # passes per channel chunk, summed over the pixels
        d.update(wide_macs=macs, wide_outputs=outputs, passes=n * _ceil(c, 256) * quads, pixels=n * p.out_h * p.out_w)
    else:
        d.update(narrow_macs=macs, narrow_outputs=outputs, narrow_rows=n * c * int(vy.sum()) * p.out_w)
    return {"macs": macs, "outputs": outputs, **d}


def _mean_shape(node: Node, graph: Graph) -> tuple[bool, int, int, int]:
    """(contiguous, outer, red, inner) as the MEAN kernels classify the rank-4 dims: kept* reduced* kept*
    (extent-1 dims ignored) is the contiguous case, input [outer][red][inner]."""
    from ..ops.mean import geometry

    out_ext, red_ext, _, _ = geometry(node, graph)
    outer = red = inner = 1
    stage, contiguous = 0, True
    for e, r in zip(out_ext, red_ext):
        if r > 1:
            contiguous = contiguous and stage != 2
            stage, red = 1, red * r
        elif e > 1:
            if stage == 0:
                outer *= e
            else:
                stage, inner = 2, inner * e
    return contiguous, outer, red, inner


def _mean_counts(node: Node, graph: Graph) -> dict[str, float]:
    from ..ops.mean import geometry

    contiguous, outer, red, inner = _mean_shape(node, graph)
    elems = outer * red * inner
    d = dict.fromkeys(("cont_elems", "cont_passes", "last_elems", "last_outputs", "gen_elems", "gen_rows"), 0)
    if not contiguous:
        out_ext, red_ext, _, _ = geometry(node, graph)
        outputs = int(np.prod(out_ext))
        d.update(gen_elems=elems, gen_rows=outputs * int(np.prod(red_ext[:3])))
    elif inner == 1:
        d.update(last_elems=elems, last_outputs=outer)
    else:
        first = 2 if red >= 2 else 0  # the first pass adds 2 rows (or zeroes the sums), then 4 rows per pass
        passes = 1 + (red - first) // 4 + (red - first) % 4
        d.update(cont_elems=elems, cont_passes=outer * _ceil(inner, 256) * passes)
    return d


def _pad_counts(node: Node, graph: Graph) -> dict[str, float]:
    """Copy runs and fills of the int8 kernel, split by the loop that moves their bytes: 16-byte blocks, words or
    single bytes, and whether a copy's source and destination share their alignment mod 4 (the arena places every
    tensor on a word boundary). Fills as on cores with unaligned access (short fills by words)."""
    from ..ops.pad import prepare

    p = prepare(node, graph)
    xin, out, before = p.input_dims, p.output_dims, p.pad_before
    total = int(np.prod(out))
    moved = [j for j in range(4) if out[j] != xin[j]]
    k = moved[-1] if moved else 0
    blk = [int(np.prod(out[j + 1 :])) for j in range(4)]
    run = xin[k] * blk[k]
    # destination offset of every run: the in-range positions of dims 0..k-1, in order
    dst = np.full(1, before[k] * blk[k], np.int64)
    for j in range(k):
        dst = (dst[:, None] + (before[j] + np.arange(xin[j], dtype=np.int64))[None, :] * blk[j]).reshape(-1)
    src = np.arange(len(dst), dtype=np.int64) * run
    aligned = (dst - src) % 4 == 0
    pro = np.minimum((-dst) % 4, run)  # the aligned path's byte prologue
    body = run - pro
    a_blocks = body[aligned] // 16 * 16
    m_blocks = run // 16 * 16
    words = int(((body[aligned] & 12) // 4).sum())
    def pieces(n):  # the tail's 2-byte and 1-byte steps
        return (n & 2) // 2 + (n & 1)

    tails = int((pro[aligned] + pieces(body[aligned])).sum())
    if moved:  # the fills: before each run (the gap after the previous one) and after the last
        fill_at = np.concatenate(([0], dst + run))
        fill = np.concatenate((dst, [total])) - fill_at
        short = fill < 32
        fpro = np.minimum((-fill_at) % 4, fill) * ~short
        fbody = fill - fpro
        words += int(np.where(short, fill // 4, (fbody & 12) // 4).sum())
        tails += int((fpro + pieces(fbody)).sum())
        fill_blocks = int((fbody[~short] // 16 * 16).sum())
    else:
        fill_blocks = 0
    n_mis = int((~aligned).sum())
    tails += n_mis * pieces(run)
    n_in = [xin[j] if j < k else 1 for j in range(3)]
    rows = n_in[0] + n_in[0] * n_in[1] if moved else 0  # iterations of the two outer loop levels
    return {"runs": len(dst) if moved else 0, "rows": rows, "aligned_bytes": int(a_blocks.sum()),
            "misaligned_bytes": n_mis * m_blocks, "misaligned_rest": n_mis * (run & 12), "words": words, "tails": tails,
            "fill_bytes": fill_blocks}  # fmt: skip


def _activation_inputs(node: Node, graph: Graph) -> list:
    return [graph.tensor(n) for n in node.inputs if n is not None and not graph.tensor(n).is_const]


def model_key(node: Node, graph: Graph) -> str:
    """The coefficient table of a node: its op for int8 kernels, op/<in>_<out> dtypes otherwise."""
    dtypes = {t.dtype for t in _activation_inputs(node, graph)} | {graph.tensor(n).dtype for n in node.outputs}
    if dtypes <= {"int8"}:
        return node.op
    ins = "_".join(sorted({t.dtype for t in _activation_inputs(node, graph)})) or "none"
    return f"{node.op}/{ins}_{graph.out(node).dtype}"


def _reference_features(node: Node, graph: Graph) -> dict[str, float]:
    """Loop trip counts of the node's reference kernel, plus 'const' = 1."""
    opdef = ops.get(node.op)
    out = graph.out(node)
    acts = _activation_inputs(node, graph)
    d: dict[str, float] = {
        "macs": opdef.macs(node, graph),
        "outputs": sum(graph.tensor(n).size for n in node.outputs),
        "inputs": sum(t.size for t in acts),
        CONST: 1,
    }
    if opdef.alias:
        return d
    if node.op in ("CONV_2D", "DEPTHWISE_CONV_2D") and len(out.shape) == 4:
        d.update(_conv_counts(node, graph, node.op == "DEPTHWISE_CONV_2D"))
    elif node.op == "AVERAGE_POOL_2D":
        d.update(_avgpool_counts(node, graph))
    elif node.op == "MAX_POOL_2D":
        d.update(_pool_counts(node, graph))
    elif node.op == "MEAN":
        d["macs"] = d["inputs"]
        d.update(_mean_counts(node, graph))
    elif node.op == "SOFTMAX":
        d["rows"] = out.size // max(int(out.shape[-1]), 1) if out.shape else 1
    elif node.op == "PAD":
        d.update(_pad_counts(node, graph))
    elif node.op == "CONCATENATION":
        axis = node.attrs.axis % max(len(out.shape), 1)
        d["rows"] = int(np.prod(out.shape[:axis], dtype=np.int64)) * len(acts)
    return d


def features(node: Node, graph: Graph, variant: str = "reference") -> dict[str, float]:
    """Loop trip counts of the node's kernel: every feature any model might use, plus 'const' = 1; with a
    kernel variant whose specialised code runs the node (kernel_path), also that code's features."""
    d = _reference_features(node, graph)
    if variant != "reference" and kernel_path(node, graph, variant) == variant:
        extra = _VARIANT_COUNTS.get((variant, node.op))
        if extra is not None:
            d.update(extra(node, graph, d))
    return d


def _ceil(a, b: int):
    return -(-a // b)


def _axes(node: Node, graph: Graph):
    """Per output row and column: valid filter taps along that axis, and the window geometry."""
    from ..ops._conv_util import window

    x, f = graph.inp(node, 0), graph.inp(node, 1)
    _, h, w, _ = x.shape
    _, kh, kw, _ = f.shape
    win = window(node.attrs, h, w, kh, kw)
    vy = _valid(win.out_h, win.stride_h, win.pad_h, kh, win.dilation_h, h)
    vx = _valid(win.out_w, win.stride_w, win.pad_w, kw, win.dilation_w, w)
    return vy, vx, win


def _mve_small_window(node: Node, graph: Graph) -> bool:
    """The MVE conv's gather path (win_fits): a whole window of <= 32 bytes within 256 input bytes, C_out <= 64
    (<= 56 for windows of 17..32 bytes: corr and the filter copy, 16 or 32 bytes per channel, fill the scratch)."""
    _, _, w, cin = graph.inp(node, 0).shape
    cout, kh, kw, fc = graph.inp(node, 1).shape
    a = node.attrs
    span = (kh - 1) * a.dilation_h * w * cin + (kw - 1) * a.dilation_w * cin + cin - 1
    wb = 16 if kh * kw * cin <= 16 else 32
    return (fc == cin and kh * kw > 1 and kh * kw * cin <= 32 and 4 <= cout <= 64 and span <= 255
            and cout + cout * wb // 4 <= _MVE_SCRATCH_WORDS)  # fmt: skip


_MVE_SCRATCH_WORDS = 512  # the arm_mve conv / depthwise kernels' 2 KB stack scratch


def _mve_left(node: Node, graph: Graph) -> bool:
    """Some per-channel shift > 0 (a left shift before the multiplier): the MVE asm paths do not take it."""
    if node.op == "CONV_2D":
        from ..ops.conv2d import prepare
    else:
        from ..ops.depthwise_conv2d import prepare
    return bool((np.asarray(prepare(node, graph).shifts) > 0).any())


def _mve_patch_fits(node: Node, graph: Graph) -> bool:
    """The MVE conv's im2col patch path (patch_fits): KH·KW > 1, dilation_w 1, L = KH·KW·C_in > 16 bytes and
    either <= 64 or a multiple of 16 whose per-channel blocks fit the scratch; C_out 4..256."""
    cin = graph.inp(node, 0).shape[-1]
    cout, kh, kw, fc = graph.inp(node, 1).shape
    big = kh * kw * fc
    return (fc == cin and node.attrs.dilation_w == 1 and kh * kw > 1 and big > 16 and 4 <= cout <= 256
            and (big <= 64 or (big % 16 == 0 and 12 * cout + big + 48 <= 4 * _MVE_SCRATCH_WORDS)))  # fmt: skip


def _mve_conv(node: Node, graph: Graph, ref: dict[str, float]) -> dict[str, float]:
    n, _, _, cin = graph.inp(node, 0).shape
    _, kh, kw, _ = graph.inp(node, 1).shape
    cout = graph.out(node).shape[-1]
    vy, vx, _ = _axes(node, graph)
    g4 = _ceil(cout, 4)
    big = kh * kw * cin  # L: one output channel's filter bytes
    pixels = n * len(vy) * len(vx)
    names = VARIANT_FEATURES["arm_mve"]["CONV_2D"]
    d: dict[str, float] = dict.fromkeys((f for f in names if f != CONST), 0)
    d["wsteps"] = min(cout, 256) * _ceil(big, 16)
    left = _mve_left(node, graph)
    groups = pixels * g4
    blocks_fit = cout % 4 == 0 and not left

    def patch_run(nbytes: int) -> None:  # patch_run per pixel over a patch of nbytes (<= 64)
        nv = _ceil(nbytes, 16)
        d.update(pa_steps=groups * nv, pa_groups=groups, pa_rgroups=groups if nbytes % 16 else 0, pa_pixels=pixels)

    def patch_mem(nbytes: int) -> None:  # patch_mem_run per pixel (nbytes % 16 == 0)
        d.update(pm_steps=groups * nbytes // 16, pm_groups=groups, pm_pixels=pixels)

    def dot(nbytes: int) -> None:  # one mve_dot4 per pixel and group over nbytes contiguous bytes
        d.update(vsteps=groups * _ceil(nbytes, 16), dot_groups=groups, pixels=pixels)

    if _mve_small_window(node, graph):  # two byte gathers per pixel, 1 or 2 VMLADAVA per output channel
        iy, ix = _interior(vy, vx, kh, kw)
        wb = 16 if big <= 16 else 32
        return {**d, "win_groups": groups, "win32_groups": groups if wb == 32 else 0,
                "win_border": pixels - n * iy * ix, "win_pixels": pixels, "win_setup": cout * wb}  # fmt: skip
    if _mve_patch_fits(node, graph):
        iy, ix = _interior(vy, vx, kh, kw)
        inner = n * iy * ix
        row = kw * cin
        # every pixel: the interior ones copy kh whole rows, the border ones fill the patch with the zero point
        # and copy the valid part of each valid row
        all_copies = n * int(vy.sum()) * int(_ceil(vx * cin, 16).sum())
        all_rows = n * int(vy.sum()) * int((vx > 0).sum())
        inner_copies = inner * kh * _ceil(row, 16)
        simple = row <= 16 or row % 16 == 0  # interior rows copied by plain vector loads and stores
        d.update(p_vcopies=inner_copies if simple else 0,
                 p_copies=(0 if simple else inner_copies) + (all_copies - inner_copies) + (pixels - inner) * _ceil(big, 16),
                 p_rows=all_rows, p_pixels=pixels, p_border=pixels - inner)  # fmt: skip
        if blocks_fit and big <= 64 and 3 * cout + _ceil(big + 32, 16) * 4 <= _MVE_SCRATCH_WORDS:
            patch_run(big)
        elif blocks_fit and big > 64 and big % 16 == 0 and 3 * cout + _ceil(big + 32, 16) * 4 <= _MVE_SCRATCH_WORDS:
            patch_mem(big)
        else:
            dot(big)
        return d
    a = node.attrs
    pointwise = (kh, kw) == (1, 1) and bool((vy == 1).all() and (vx == 1).all()) and cout <= 256
    if pointwise:
        same_size = graph.out(node).shape[1:3] == graph.inp(node, 0).shape[1:3]
        if blocks_fit and cin == 8 and cout <= 64 and (a.stride_h, a.stride_w) == (1, 1) and same_size:
            d.update(pw8_groups=groups, pw8_pixels=pixels, pw8_setup=g4)
        elif blocks_fit and cin in (8, 16, 32):
            d.update(pw_groups=groups, pw_steps=groups * _ceil(cin, 16), pixels=pixels)
        elif blocks_fit and 16 < cin <= 64 and 3 * cout + 4 <= _MVE_SCRATCH_WORDS:
            patch_run(cin)
        elif blocks_fit and cin > 64 and cin % 16 == 0 and 3 * cout <= _MVE_SCRATCH_WORDS:
            patch_mem(cin)
        else:
            dot(cin)
        return d
    steps = np.outer(vy, _ceil(vx * cin, 16)) * (vx > 0)[None, :]  # per pixel: Σ rows ceil(span / 16)
    dots = np.outer(vy, (vx > 0).astype(np.int64))
    clipped = ~np.outer(vy == kh, vx == kw)
    beyond = max(g4 - 64, 0)  # groups past the 256 channels of corr[] sum their weights in every window
    return {
        **d,
        "vsteps": n * g4 * int(steps.sum()),
        "dots": n * g4 * int(dots.sum()),
        "edge_steps": n * (g4 * int(steps[clipped].sum()) + beyond * int(steps[~clipped].sum())),
        "edge_dots": n * (g4 * int(dots[clipped].sum()) + beyond * int(dots[~clipped].sum())),
        "blocks": groups,
        "pixels": pixels,
    }


def _interior(vy: np.ndarray, vx: np.ndarray, kh: int, kw: int) -> tuple[int, int]:
    """(output rows whose window is whole vertically, output columns whose window is whole horizontally)."""
    return int((vy == kh).sum()), int((vx == kw).sum())


def _mve_depthwise(node: Node, graph: Graph, ref: dict[str, float]) -> dict[str, float]:
    n, _, _, c = graph.inp(node, 0).shape
    _, kh, kw, oc = graph.inp(node, 1).shape
    m = node.attrs.depth_multiplier
    vy, vx, win = _axes(node, graph)
    pixels = n * len(vy) * len(vx)
    valid = n * int(vy.sum()) * int(vx.sum())
    iy, ix = _interior(vy, vx, kh, kw)
    inner = n * iy * ix  # pixels whose window is wholly inside the input
    inner_taps = inner * kh * kw
    names = VARIANT_FEATURES["arm_mve"]["DEPTHWISE_CONV_2D"]
    d: dict[str, float] = dict.fromkeys((f for f in names if f != CONST), 0)
    left = _mve_left(node, graph)
    span = (kh - 1) * win.dilation_h * graph.inp(node, 0).shape[2] + (kw - 1) * win.dilation_w
    taps = kh * kw
    lp = 16 * _ceil(taps, 16)
    if c == 1 and taps <= 16 and span <= 255 and oc % 4 == 0 and oc <= 64:
        g4 = oc // 4
        asm = oc <= 16 and not left
        d.update(c1_groups=inner * g4 if asm else 0, c1_cgroups=0 if asm else inner * g4,
                 c1_bgroups=(pixels - inner) * g4, c1_btaps=valid - inner_taps, c1_setup=oc, c1_runs=n * iy if ix else 0,
                 pixels=pixels - inner)  # fmt: skip
    elif c == 1 and oc >= 4 and win.dilation_w == 1 and taps > 16 and oc * (lp + 4) + lp + 16 <= 4 * _MVE_SCRATCH_WORDS:
        g4 = _ceil(oc, 4)
        vrows = inner * kh if kw <= 16 else 0  # interior rows: one predicated load and a full store each
        d.update(c1b_steps=pixels * g4 * lp // 16, c1b_groups=pixels * g4, c1b_vrows=vrows,
                 c1b_rows=n * int(vy.sum()) * int((vx > 0).sum()) - vrows, c1b_border=pixels - inner,
                 c1b_pixels=pixels, c1b_setup=oc * lp)  # fmt: skip
    elif m == 1 and (kh, kw) == (3, 3) and c % 16 == 0 and c <= 144 and not left:
        nch = c // 16
        d.update(d3_chunks=pixels * nch, d3_fchunks=pixels * nch if c > 64 else 0, d3_bchunks=(pixels - inner) * nch,
                 d3_border=pixels - inner, d3_run_pixels=inner, d3_runs=n * iy if ix else 0, d3_setup=nch)  # fmt: skip
    elif m == 1:
        chunks8 = _ceil(c, 8)
        asm = c % 8 == 0 and c <= 128 and win.dilation_w == 1 and not left and pixels >= 4 * kh * kw
        run = inner if asm else 0
        c8 = run if (c, kh, kw) == (8, 3, 3) else 0  # the dedicated C == 8 3x3 block
        run_macs = (run - c8) * kh * kw * c
        d.update(c8_run_pixels=c8, run_macs=0 if c % 16 == 0 else run_macs, run16_macs=run_macs if c % 16 == 0 else 0,
                 run_chunks=(run - c8) * (c // 16 if c % 16 == 0 else c // 8),
                 run_pixels=run - c8, run_calls=n * iy if asm and ix else 0,
                 run_setup=c * kh * kw if asm else 0, m1_taps=(valid - run * kh * kw) * chunks8,
                 m1_tail_taps=(valid - run * kh * kw) * (c % 8 != 0), m1_chunks=(pixels - run) * chunks8,
                 pixels=pixels - run)  # fmt: skip
    elif m % 4 == 0:
        lanes = 8 if m % 8 == 0 else 4
        rows = n * int(vy.sum()) * int((vx > 0).sum())
        d.update(m4_taps=valid * oc // lanes, m4_rows=rows * oc // lanes, m4_blocks=pixels * oc // 4, pixels=pixels)
    else:
        d.update(mn_taps=pixels * kh * kw * _ceil(oc, 4), mn_blocks=pixels * _ceil(oc, 4), pixels=pixels)
    return d


def _mve_fc(node: Node, graph: Graph, ref: dict[str, float]) -> dict[str, float]:
    depth, units = graph.inp(node, 1).shape[-1], graph.out(node).shape[-1]
    batches = graph.out(node).size // max(units, 1)
    return {"vsteps": batches * _ceil(units, 4) * _ceil(depth, 16), "blocks": batches * _ceil(units, 4)}


def _rv_depthwise(node: Node, graph: Graph, ref: dict[str, float]) -> dict[str, float]:
    """Which code runs each output column (the kernel's per-row dispatch, the same in every row): 4-pixel groups
    whose windows are inside the input horizontally, or (multiplier 1) clip one column at one edge; single
    multiplier-1 pixels; the generic loop for the rest."""
    a = node.attrs
    n, _, w, c = graph.inp(node, 0).shape
    _, kh, kw, _ = graph.inp(node, 1).shape
    m = a.depth_multiplier
    oc = c * m
    vy, vx, win = _axes(node, graph)
    shape3x3 = (kh, kw) == (3, 3) and (win.dilation_h, win.dilation_w) == (1, 1) and win.stride_w in (1, 2)
    fast = shape3x3 and m == 1
    fast_m8 = shape3x3 and c == 1 and m == 8
    sw = win.stride_w
    kind = np.zeros(win.out_w, np.int8)  # 0 generic, 1 group, 2 single (multiplier 1)
    x = 0
    while x < win.out_w:
        x0 = x * sw - win.pad_w
        last = x0 + 3 * sw + 2
        if (fast or fast_m8) and x + 4 <= win.out_w and (
            (x0 >= 0 and last < w) or (fast and x0 >= -1 and last <= w and (x0 < 0) != (last == w))
        ):
            kind[x : x + 4] = 1
            x += 4
            continue
        kind[x] = 2 if fast else 0
        x += 1
    rows = n * int(vy.sum())  # Σ valid filter rows over output rows
    grouped = int((kind == 1).sum())
    group_macs = rows * 3 * grouped * oc  # edge groups multiply the padding column too
    group_outputs = n * win.out_h * grouped * oc
    single = kind == 2
    edge_macs = rows * int(vx[single].sum()) * oc
    edge_outputs = n * win.out_h * int(single.sum()) * oc
    gen = kind == 0
    generic_macs = rows * int(vx[gen].sum()) * oc
    generic_outputs = n * win.out_h * int(gen.sum()) * oc
    blocks = m // 8 + m % 8 // 4 + m % 4  # blocks of 8, 4 or 1 of an input channel's M outputs
    d = {"group_macs": 0, "group_outputs": 0, "m8_macs": 0, "m8_outputs": 0,
         "edge_macs": edge_macs, "edge_outputs": edge_outputs,
         "generic_macs": generic_macs, "generic_outputs": generic_outputs,
         "loads": rows * int(vx[gen].sum()) * c * blocks, "generic_rows": rows * int(gen.sum()) * c * blocks}  # fmt: skip
    if fast_m8:
        d.update(m8_macs=group_macs, m8_outputs=group_outputs)
    else:
        d.update(group_macs=group_macs, group_outputs=group_outputs)
    return d


def _rv_fc(node: Node, graph: Graph, ref: dict[str, float]) -> dict[str, float]:
    depth, units = graph.inp(node, 1).shape[-1], graph.out(node).shape[-1]
    batches = graph.out(node).size // max(units, 1)
    return {"block_macs": batches * depth * (units - units % 4), "tail_macs": batches * depth * (units % 4)}


def _dsp_taps_per_chunk(taps: int, cin: int, cout: int, np_: int) -> int:
    if arm_dsp_lanes(taps * cin, cin, np_) <= ARM_DSP_CONV_SCRATCH:
        return taps
    room = ARM_DSP_CONV_SCRATCH - 4 * np_ * cout
    if room < 64:
        return 0
    t = room // (2 * np_ * cin)
    while t > 0 and arm_dsp_lanes(t * cin, cin, np_) > room:
        t -= 1
    return t


def _dsp_quant(node: Node, graph: Graph) -> tuple[np.ndarray, np.ndarray, bool]:
    """(multipliers, shifts, has bias) of a conv as the kernel receives them."""
    from ..quant import per_channel_multipliers

    x, w, y = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
    mults, shifts = per_channel_multipliers(x.quant.s, w.quant.scale, y.quant.s, w.shape[0])
    return mults, shifts, graph.inp(node, 2) is not None


def _dsp_conv_fast(node: Node, graph: Graph) -> bool:
    """rq_fast_ok: every multiplier a right shift (or zero) and accumulators below 2^30; else the reference loop."""
    mults, shifts, _ = _dsp_quant(node, graph)
    b = graph.inp(node, 2)
    max_bias = int(np.max(np.where(b.data < 0, -(b.data.astype(np.int64) + 1), b.data))) if (
        b is not None and b.data is not None and b.size) else 0  # fmt: skip
    patch = int(np.prod(graph.inp(node, 1).shape[1:]))
    return bool(np.all((shifts < 0) | (mults == 0))) and patch * 255 * 128 + max_bias + 1 < 1 << 30


def _dsp_im2col(d: dict[str, float], g: dict, np_: int, start: int, count: int) -> int:
    """conv_im2col's blocks of np_ pixels over flat output pixels [start, start + count): adds their features to
    d, returns the pixels done (count, or 0 when the kernel declines: no room, or 6-pixel blocks not eligible)."""
    n, h, w, cin, cout, kh, kw = g["n"], g["h"], g["w"], g["cin"], g["cout"], g["kh"], g["kw"]
    win, oh, ow = g["win"], g["win"].out_h, g["win"].out_w
    taps, patch = kh * kw, kh * kw * cin
    tpc = _dsp_taps_per_chunk(taps, cin, cout, np_) if count > 0 else 0
    if tpc == 0:
        return 0
    chunked, staged = tpc < taps, cin % 4 != 0
    used = (4 * np_ * cout if chunked else 0) + arm_dsp_lanes(tpc * cin, cin, np_)
    tab = not chunked and used + 16 * cout <= ARM_DSP_CONV_SCRATCH
    patch4 = (patch + 3) & ~3
    wpad = not chunked and patch4 != patch and used + (16 * cout if tab else 0) + cout * patch4 <= ARM_DSP_CONV_SCRATCH
    idx_ok, has_bias = g["idx_ok"], g["has_bias"]
    if np_ == 6:  # the kernel's 6-vs-4 chunk estimate, and every chunk in the assembly loop
        last = (taps - (taps - 1) // tpc * tpc) * cin
        tpc4 = _dsp_taps_per_chunk(taps, cin, cout, 4)
        ch6, ch4 = _ceil(taps, tpc), _ceil(taps, tpc4) if tpc4 else 0
        if ch4 > 0 and 875 * patch + 6667 * ch6 > 940 * patch + 10000 * ch4:
            return 0
        if not (tab or (idx_ok and (chunked or has_bias))) or last < 5 or tpc * cin < 5 or (
            ((tpc * cin) & 3 or last & 3) and not wpad
        ):
            return 0
    d["im2col_calls"] += 1
    d["im2col_setup"] += cout * (1 + 2 * tab) + (cout * patch4 // 4 if wpad else 0)
    sh, sw, ph, pw = win.stride_h, win.stride_w, win.pad_h, win.pad_w
    dh, dw = win.dilation_h, win.dilation_w
    same_px = taps == 1 and not staged and not chunked and (sh, sw) == (1, 1) and (oh, ow) == (h, w) and (
        (ph, pw) == (0, 0))  # fmt: skip
    rows_ok = not chunked and dw == 1
    row_bytes, span_h, span_w = kw * cin, (kh - 1) * dh, kw - 1
    last_row = (kh - 1) * dh * w * cin + ((row_bytes + 3) & ~3)  # bytes the staged row gather may read
    in_bytes = n * h * w * cin
    chunks = [(t0, min(t0 + tpc, taps)) for t0 in range(0, taps, tpc)]
    lo_on, hi_on = g["lo_on"], g["hi_on"]
    bounds = (2 if hi_on else int(lo_on)) if np_ == 6 and tab else 2 * (lo_on or hi_on)

    def rows_fill(k: int) -> None:  # k whole windows inside the image, contiguous rows
        if staged:
            d["stage_words"] += k * kh * _ceil(row_bytes, 4)
            d["fill_rows"] += k * (kh + 1)
            d["fill_groups"] += k * _ceil(patch, 4)
        else:
            d["fill_rows"] += k * kh
            d["fill_groups"] += k * kh * (row_bytes >> 2)

    for pix in range(start, start + count, np_):
        if chunked:
            d["part_resets"] += cout * np_
        pxs = [(p // (oh * ow), p // ow % oh, p % ow) for p in range(pix, pix + np_)]
        for t0, t1 in chunks:
            elems = (t1 - t0) * cin
            segs = (t1 - 1) // kw - t0 // kw + 1  # window rows the chunk touches
            d["blocks"] += 1
            b, y, x = pxs[0]
            iy, ix = y * sh - ph, x * sw - pw
            if same_px:
                d["fill_rows"] += np_
                d["fill_groups"] += np_ * (cin >> 2)
            elif (rows_ok and x + np_ <= ow and iy >= 0 and iy + span_h < h and ix >= 0
                  and ix + (np_ - 1) * sw + span_w < w
                  and (not staged or last_row <= in_bytes - (((b * h + iy) * w + ix) + (np_ - 1) * sw) * cin)):  # fmt: skip
                rows_fill(np_)
            else:
                d["px_loop"] += np_
                for _, y, x in pxs:
                    iy, ix = y * sh - ph, x * sw - pw
                    inside = dw == 1 and iy >= 0 and iy + span_h < h and ix >= 0 and ix + span_w < w
                    if inside and chunked and not staged:
                        d["fill_rows"] += segs
                        d["fill_groups"] += elems >> 2
                    elif inside and not chunked:
                        rows_fill(1)
                    else:  # borders, dilation, staged chunks: im2col4_fill, row by row with clipping
                        d["slow_px"] += 1
                        d["slow_rows"] += segs
                        d["slow_elems"] += elems
                        if staged:  # bytes gathered in C, then converted by the asm words loop
                            d["slow_stage"] += elems
                            d["fill_groups"] += _ceil(elems, 4)
            # the channel loop
            tail, groups = elems & 3, _ceil(elems, 4)
            fast = cout if not tail or wpad else cout - 1
            first, last_chunk = t0 == 0, t1 == taps
            if groups < 2 or not ((np_ == 6 and tab) or (idx_ok and (chunked or has_bias))) or (
                tail and not (first and last_chunk)
            ):
                fast = 0
            if fast:
                pre = "b6" if np_ == 6 else "b4"
                d[pre + "_groups"] += fast * groups
                d[pre + "_chans"] += fast
                if last_chunk:
                    d[pre + "_outputs"] += np_ * fast
                    d["blk_clamps"] += np_ * fast * bounds
                    if np_ == 6 and not tab:
                        d["b6_idx"] += fast
            if fast < cout:  # the C loop (block4_loop): the whole groups through dot4px, the tail elements in C
                d["c4_chans"] += cout - fast
                d["b4_groups"] += (cout - fast) * (elems >> 2)
                d["c4_macs"] += np_ * (cout - fast) * tail
    return count


def _dsp_conv(node: Node, graph: Graph, ref: dict[str, float]) -> dict[str, float]:
    """Mirrors mf_conv2d_s8 (arm_dsp) dispatch: the whole-layer 1x1 C_in 8/16 loop, else 6-pixel then 4-pixel
    im2col blocks (conv_im2col, block by block and chunk by chunk: fill type, channel loop), and the leftover
    pixels (or every pixel when the blocks do not fit) on the 2x2 / single-pixel paths."""
    x, f, y = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
    n, h, w, cin = x.shape
    cout, kh, kw, _ = f.shape
    vy, vx, win = _axes(node, graph)
    total = n * win.out_h * win.out_w
    mults, shifts, has_bias = _dsp_quant(node, graph)
    lo, hi = output_clamp(node.attrs.activation, y)
    d: dict[str, float] = dict.fromkeys((k for k in VARIANT_FEATURES["arm_dsp"]["CONV_2D"] if k != CONST), 0)
    zp_ok = bool(np.all(shifts >= -22))
    if zp_ok and (kh, kw, win.stride_h, win.stride_w, win.pad_h, win.pad_w) == (1, 1, 1, 1, 0, 0) and (
        (win.out_h, win.out_w) == (h, w) and cin in (8, 16) and arm_dsp_pw_table(cin, cout) <= ARM_DSP_CONV_SCRATCH
    ):
        clamped = lo > -128 or hi < 127
        d.update(pw_pixels=total, pw_setup=cout * (cin // 2 + 10))
        asm = total - total % 2 if cin == 8 and clamped else (0 if clamped else total)
        d.update(pw_outputs=asm * cout, pw_macs=asm * cout * cin, pw_c_macs=(total - asm) * cout * cin,
                 pw_clamp_outputs=asm * cout if clamped else 0)  # fmt: skip
        return d
    done = 0
    if zp_ok:
        g = {"n": n, "h": h, "w": w, "cin": cin, "cout": cout, "kh": kh, "kw": kw, "win": win,
             "idx_ok": bool(np.all(shifts < 0)), "has_bias": has_bias, "lo_on": lo > -128, "hi_on": hi < 127}  # fmt: skip
        done = _dsp_im2col(d, g, 6, 0, total - total % 6)
        done += _dsp_im2col(d, g, 4, done, (total - done) & ~3)
    rest = np.arange(done, total)
    ry, rx = vy[rest // win.out_w % win.out_h], vx[rest % win.out_w]
    d.update(row_macs=int((ry * rx).sum()) * cin * cout, dots=int((ry * (rx > 0)).sum()) * _ceil(cout, 2),
             pixels=len(rest))  # fmt: skip
    return d


_PLANS: dict[int, tuple[Graph, tuple, object]] = {}


def _arena_plan(graph: Graph):
    """The graph's arena plan with the arm_dsp kernels' scratch (plan/memory.py, as emit_c makes it for that variant
    when no scratch is refused), cached per graph while its tensors are the same: the arm_dsp depthwise kernel picks
    its path by whether its output overlaps its input."""
    from ..analysis import scratch_wanted
    from .memory import plan_memory

    sig = (tuple((nd.op, tuple(nd.inputs), tuple(nd.outputs)) for nd in graph.nodes),
           tuple((k, t.shape, t.dtype) for k, t in graph.tensors.items() if not t.is_const))  # fmt: skip
    hit = _PLANS.get(id(graph))
    if hit is not None and hit[0] is graph and hit[1] == sig:
        return hit[2]
    plan = plan_memory(graph, scratch=scratch_wanted(graph, "arm_dsp"))
    if len(_PLANS) > 8:
        _PLANS.clear()
    _PLANS[id(graph)] = (graph, sig, plan)
    return plan


def _dw_overlap(node: Node, graph: Graph) -> tuple[bool, int]:
    """(disjoint, input offset - output offset) of a depthwise node's input and output in the arena."""
    x, y = node.inputs[0], node.outputs[0]
    offs = _arena_plan(graph).tensor_offset
    if x not in offs or y not in offs:
        return True, 0
    xi, yo = offs[x], offs[y]
    disjoint = yo + graph.tensor(y).nbytes <= xi or yo >= xi + graph.tensor(x).nbytes
    return disjoint, xi - yo


def _dsp_dw_quant(node: Node, graph: Graph) -> tuple[bool, bool]:
    """(rq_fast_ok, fold_ok) of the arm_dsp depthwise kernel: every shift < 0 and the accumulator bound; every shift
    >= -22."""
    from ..ops.depthwise_conv2d import prepare

    p = prepare(node, graph)
    shifts = np.asarray(p.shifts)
    _, kh, kw, _ = graph.inp(node, 1).shape
    bias = graph.inp(node, 2) if len(node.inputs) > 2 and node.inputs[2] is not None else None
    max_bias = 0
    if bias is not None and bias.data is not None:
        b = np.asarray(bias.data, np.int64).reshape(-1)
        max_bias = int(np.max(np.where(b < 0, -(b + 1), b))) if b.size else 0
    fast = bool((shifts < 0).all()) and kh * kw * 255 * 128 + max_bias + 1 < (1 << 30)
    return fast, fast and bool((shifts >= -22).all())


@dataclass
class _Band:
    """dwb_ctx's geometry (rows along the planes' rows; transposed for the columns orientation) and dwb_plan's choice."""

    n: int
    in_h: int
    in_w: int
    out_h: int
    out_w: int
    sh: int
    sw: int
    ph: int
    pw: int
    C: int
    M: int
    clamp: bool
    wpp: int = 0
    rs: int = 0
    R: int = 0
    cc: int = 0
    bufout: bool = False


_DWB_CAP = 2048  # the kernel's stack union (bytes)


def _dwb_geometry(x_shape, win, m: int, clamp: bool, transpose: bool) -> _Band:
    n, h, w, c = x_shape
    if transpose:
        g = _Band(n, w, h, win.out_w, win.out_h, win.stride_w, win.stride_h, win.pad_w, win.pad_h, c, m, clamp)
    else:
        g = _Band(n, h, w, win.out_h, win.out_w, win.stride_h, win.stride_w, win.pad_h, win.pad_w, c, m, clamp)
    wpp = (g.out_w + (g.out_w & 1) - 1) * g.sw + 4
    g.wpp = wpp + (wpp & 1)
    return g


def _dwb_plan(g: _Band, direct: bool, one_band: bool) -> int:
    """dwb_plan: picks R, cc, bufout; returns the estimate per output in hundredths (0: the bands cannot run)."""
    rowb, cm = g.out_w * g.C * g.M, g.C * g.M
    rs = 16
    while rs < 2 * g.wpp:
        rs *= 2
    if rs > 256 or g.out_w < 2:
        return 0
    g.rs = rs
    best_cost, best_outs = 0, 1
    ncopy = min(g.in_w, g.wpp)
    per_out = (1700 if g.sw == 1 else 1900) + (650 if g.clamp else 0)
    per_row = 1500 + (g.out_w & 1) * (2200 + (800 if g.clamp else 0) - per_out)
    for r in range(g.out_h if one_band else 1, g.out_h + 1):
        rows = (r - 1) * g.sh + 3
        per_ch = rows * rs
        if rows > 128 or per_ch > _DWB_CAP:
            break
        for buffered in (0, 1):
            room = _DWB_CAP - (((r * rowb + 3) & ~3) if buffered else 0)
            if room < per_ch:
                continue
            cc = room // per_ch
            cc = g.C if cc > g.C else (cc & ~3 if cc >= 4 else cc)
            if not buffered and not direct and cc < g.C:
                continue
            outs = r * g.out_w * cm
            chunks = _ceil(g.C, cc)
            copy = 220 if cc % 4 == 0 else 500
            cost = (copy * rows * ncopy * g.C + 8500 * cm + per_row * cm * r + per_out * outs + 4000 * chunks * rows
                    + (60 * r * rowb if buffered else 0))  # fmt: skip
            if best_cost == 0 or cost * best_outs < best_cost * outs:
                best_cost, best_outs = cost, outs
                g.R, g.cc, g.bufout = r, cc, bool(buffered)
    return 0 if best_cost == 0 else best_cost // best_outs + 1


def _dsp_dw_band(node: Node, graph: Graph) -> _Band | None:
    """The band plan the arm_dsp depthwise kernel runs (mf_depthwise_conv2d_s8's choice between the bands and the
    older paths, its cost thresholds included), or None."""
    x = graph.inp(node, 0)
    _, kh, kw, _ = graph.inp(node, 1).shape
    m = node.attrs.depth_multiplier
    _, _, win = _axes(node, graph)
    fast, fold = _dsp_dw_quant(node, graph)
    if not (fast and fold and (m == 1 or m % 4 == 0) and (kh, kw) == (3, 3) and win.dilation_h == win.dilation_w == 1):
        return None
    if not (win.stride_w in (1, 2) or win.stride_h in (1, 2)):
        return None
    c = x.shape[-1]
    lo, hi = output_clamp(node.attrs.activation, graph.out(node))
    clamp = lo > -128 or hi < 127
    disjoint, gap = _dw_overlap(node, graph)
    direct = disjoint or (m == 1 and gap >= 0 and gap % c == 0)
    rows = _dwb_geometry(x.shape, win, m, clamp, False)
    est = _dwb_plan(rows, direct, False) if win.stride_w <= 2 else 0
    chosen = rows
    if direct and win.out_h > win.out_w and win.stride_h in (1, 2):
        cols = _dwb_geometry(x.shape, win, m, clamp, True)
        est_t = _dwb_plan(cols, True, not disjoint)
        if est_t > 0 and not cols.bufout and (est == 0 or est_t < est):
            chosen, est = cols, est_t
    if est > 0 and (est < (3300 if c <= 128 else 5500) or m != 1 or c % 4 != 0):
        return chosen
    return None


_BAND_FEATURES = ("band_pairs", "band_pairs2", "band_odd", "band_clamp", "band_rows", "band_chans", "band_copy",
                  "band_copy_rows", "band_copy1", "band_calls", "band_fill", "band_buf", "band_layers")  # fmt: skip


def _dwb_counts(g: _Band) -> dict[str, float]:
    """Loop counts of dwb_run for a plan."""
    oc = g.C * g.M
    xa, xb = min(g.pw, g.wpp), min(g.in_w + g.pw, g.wpp)
    ncols = max(xb - xa, 0)
    d = dict.fromkeys(_BAND_FEATURES, 0)
    pairs = g.n * g.out_h * (g.out_w // 2) * oc
    odd = g.n * g.out_h * (g.out_w & 1) * oc
    d["band_pairs" if g.sw == 1 else "band_pairs2"] = pairs
    d.update(band_odd=odd, band_clamp=(2 * pairs + odd) if g.clamp else 0, band_rows=g.n * g.out_h * oc,
             band_buf=g.n * g.out_h * g.out_w * oc if g.bufout else 0, band_layers=1)  # fmt: skip
    dirty = np.zeros((g.out_h - 1) * g.sh + 3, bool)
    for _ in range(g.n):
        for y in range(0, g.out_h, g.R):
            r = min(g.R, g.out_h - y)
            rows = (r - 1) * g.sh + 3
            iy0 = y * g.sh - g.ph
            d["band_chans"] += oc
            for c0 in range(0, g.C, g.cc):
                nch = min(g.cc, g.C - c0)
                d["band_calls"] += 1
                if ncols == 0:
                    continue
                ra = min(-iy0, rows) if iy0 < 0 else 0
                rb = max(min(g.in_h - iy0, rows), ra)
                inside = np.zeros(rows, bool)
                inside[ra:rb] = True
                refill = ~inside & dirty[:rows]
                d["band_fill"] += int(refill.sum()) * g.cc * ncols
                dirty[:rows] = inside  # rows outside the image were refilled, or were clean
                groups = nch // 4 if ncols >= 2 else 0
                nrows = rb - ra
                d["band_copy"] += nrows * ncols * 4 * groups
                d["band_copy_rows"] += nrows * groups
                d["band_copy1"] += nrows * ncols * (nch - 4 * groups)
    return d


def _dsp_depthwise(node: Node, graph: Graph, ref: dict[str, float]) -> dict[str, float]:
    n, c = graph.inp(node, 0).shape[0], graph.inp(node, 0).shape[-1]
    _, kh, kw, oc = graph.inp(node, 1).shape
    m = node.attrs.depth_multiplier
    vy, vx, win = _axes(node, graph)
    old = ("edge_taps", "edge_groups", "ext_taps", "run_groups", "run_calls", "run_setup", "run_pixels", "run_clamp",
           "m1_taps", "tail_macs", "m4_taps", "rows", "px_outputs", "pixels", "planar_copy", "planar_chans",
           "planar_pairs")  # fmt: skip
    band = _dsp_dw_band(node, graph)
    if band is not None:
        return {**dict.fromkeys(old, 0), **_dwb_counts(band)}
    _, fold = _dsp_dw_quant(node, graph)
    valid = n * int(vy.sum()) * int(vx.sum())
    run = fold and m == 1 and c % 4 == 0 and c <= 128 and (kh, kw) == (3, 3) and win.dilation_w == 1
    iy, ix = _interior(vy, vx, kh, kw) if run else (0, 0)
    inner = n * iy * ix
    vrows = n * int(vy.sum()) * len(vx) - inner * kh  # valid (pixel, filter row) pairs outside the runs
    px = n * len(vy) * len(vx) - inner
    d = {"run_groups": inner * c // 4, "run_calls": n * iy if ix else 0, "run_setup": c if run else 0,
         "rows": vrows * _ceil(oc, 4), "px_outputs": px * oc, "pixels": px,
         "planar_copy": 0, "planar_chans": 0, "planar_pairs": 0, "edge_taps": 0, "edge_groups": 0, "ext_taps": 0,
         "run_pixels": 0, "run_clamp": 0, **dict.fromkeys(_BAND_FEATURES, 0)}  # fmt: skip
    if run and ix:  # border pixels of run layers: the same table, 3/2/1-tap rows
        border_taps = valid - inner * kh * kw
        lo, hi = output_clamp(node.attrs.activation, graph.out(node))
        d.update(edge_taps=border_taps * c // 4, edge_groups=px * c // 4, ext_taps=valid * c // 4 if c <= 60 else 0,
                 rows=0, px_outputs=0, pixels=0, run_pixels=inner,
                 run_clamp=(inner + px) * c // 4 if lo > -128 or hi < 127 else 0)  # fmt: skip
        return {**d, "m1_taps": 0, "tail_macs": 0, "m4_taps": 0}
    wp = (win.out_w - 1) * win.stride_w + 4
    if fold and m > 1 and (kh, kw) == (3, 3) and (win.dilation_h, win.dilation_w) == (1, 1) and (
        win.stride_w in (1, 2)
    ) and 3 * wp <= 1024:
        out_rows = n * win.out_h
        zero = dict.fromkeys(("run_groups", "run_calls", "run_setup", "m1_taps", "tail_macs", "m4_taps", "rows",
                              "px_outputs", "pixels"), 0)  # fmt: skip
        return {**d, **zero, "planar_copy": out_rows * 3 * wp * c, "planar_chans": out_rows * oc,
                "planar_pairs": out_rows * oc * _ceil(win.out_w, 2)}  # fmt: skip
    rest = valid - inner * kh * kw
    if m == 1:
        return {**d, "m1_taps": rest * (c // 4), "tail_macs": rest * (c % 4), "m4_taps": 0}
    return {**d, "m1_taps": 0, "tail_macs": 0, "m4_taps": valid * oc // 4}


def _dsp_fc(node: Node, graph: Graph, ref: dict[str, float]) -> dict[str, float]:
    depth, units = graph.inp(node, 1).shape[-1], graph.out(node).shape[-1]
    return {"odd_macs": graph.out(node).size // max(units, 1) * depth * (units % 2)}


def _add_params(node: Node, graph: Graph):
    from ..ops.add import prepare

    return prepare(node, graph)


def _add_tables(p) -> int:
    """Input tables a table path builds: one when both inputs share offset, multiplier and shift."""
    same = (p.input1_offset, p.input1_multiplier, p.input1_shift) == (p.input2_offset, p.input2_multiplier,
                                                                       p.input2_shift)  # fmt: skip
    return 1 if same else 2


def _add_dense(p) -> bool:
    """Both inputs row-major over the output's dims (extent-1 dims ignored)."""
    d = p.dims
    dense = (d[1] * d[2] * d[3], d[2] * d[3], d[3], 1)
    return all(d[k] == 1 or (p.in1_strides[k] == dense[k] and p.in2_strides[k] == dense[k]) for k in range(4))


def _dsp_add_ok(p) -> bool:
    """arm_dsp add_fast_ok: dense inputs, left shift <= 20, input shifts in [-31, 0], output shift in [-31, -1]."""
    shifts = -31 <= p.input1_shift <= 0 and -31 <= p.input2_shift <= 0 and -31 <= p.output_shift <= -1
    return _add_dense(p) and shifts and 0 <= p.left_shift <= 20


def _dsp_add(node: Node, graph: Graph, ref: dict[str, float]) -> dict[str, float]:
    p = _add_params(node, graph)
    count = int(np.prod(p.dims))
    d = dict.fromkeys(("table_outputs", "clamp_outputs", "tables", "loop_outputs", "loop_rq"), 0)
    if count >= 256 and p.output_shift >= -23:
        clamped = p.act_min > -128 or p.act_max < 127
        d["clamp_outputs" if clamped else "table_outputs"] = count
        d["tables"] = _add_tables(p)
    else:
        d.update(loop_outputs=count, loop_rq=count * ((p.input1_shift != 0) + (p.input2_shift != 0)))
    return d


def _mve_add_ok(p) -> bool:
    """arm_mve's vector paths: every shift a right shift, both inputs with channel stride 1."""
    shifts = p.input1_shift <= 0 and p.input2_shift <= 0 and p.output_shift <= 0 and 0 <= p.left_shift < 32
    return shifts and p.in1_strides[3] == 1 and p.in2_strides[3] == 1


def _mve_add(node: Node, graph: Graph, ref: dict[str, float]) -> dict[str, float]:
    p = _add_params(node, graph)
    d4 = p.dims
    count = int(np.prod(d4))
    plane = d4[2] * d4[3]
    contiguous = (
        (d4[2] == 1 or (p.in1_strides[2] == d4[3] and p.in2_strides[2] == d4[3]))
        and (d4[1] == 1 or (p.in1_strides[1] == plane and p.in2_strides[1] == plane))
        and (d4[0] == 1 or (p.in1_strides[0] == d4[1] * plane and p.in2_strides[0] == d4[1] * plane))
    )
    runs, n = (1, count) if contiguous else (d4[0] * d4[1] * d4[2], d4[3])
    table = (count >= 128 and -23 <= p.output_shift <= -1 and p.input1_shift >= -31 and p.input2_shift >= -31
             and p.left_shift <= 20)  # fmt: skip
    d = dict.fromkeys(("table_steps", "table_runs", "tables", "run_steps", "runs"), 0)
    if table:
        d.update(table_steps=runs * _ceil(n, 8), table_runs=runs, tables=_add_tables(p))
    else:
        d.update(run_steps=runs * _ceil(n, 4), runs=runs)
    return d


def _rv_add_clamped(p) -> float:
    """The fraction of outputs the activation clamps, for uniformly distributed int8 inputs (every pair of input
    values once; both inputs' values are independent)."""
    from ..quant import multiply_by_quantized_multiplier as mbqm

    v = np.arange(-128, 128, dtype=np.int64)
    s1 = mbqm((v + p.input1_offset) << p.left_shift, p.input1_multiplier, p.input1_shift)
    s2 = mbqm((v + p.input2_offset) << p.left_shift, p.input2_multiplier, p.input2_shift)
    raw = mbqm((s1[:, None] + s2[None, :]).reshape(-1), p.output_multiplier, p.output_shift) + p.output_offset
    return float(((raw < p.act_min) | (raw > p.act_max)).mean())


def _rv_add(node: Node, graph: Graph, ref: dict[str, float]) -> dict[str, float]:
    p = _add_params(node, graph)
    count = int(np.prod(p.dims))
    d = dict.fromkeys(("in_range", "clamped", "slow_outputs", "slow_calls", "bcast_outputs", "bcast_rows"), 0.0)
    if not _add_dense(p):
        d.update(bcast_outputs=count, bcast_rows=p.dims[0] * p.dims[1] * p.dims[2])
    fast = 0 <= p.left_shift <= 20 and p.input1_shift <= 0 and p.input2_shift <= 0 and -21 <= p.output_shift <= -1
    if fast:
        clamped = count * _rv_add_clamped(p)
        d.update(in_range=count - clamped, clamped=clamped)
    else:
        d.update(slow_outputs=count, slow_calls=1)
    return d


def _mve_mean(node: Node, graph: Graph, ref: dict[str, float]) -> dict[str, float]:
    _, outer, red, inner = _mean_shape(node, graph)
    d = dict.fromkeys(("rows16", "blocks16", "tail_rows", "last_steps", "last_outputs"), 0)
    if inner == 1:
        d.update(last_steps=outer * _ceil(red, 16), last_outputs=outer)
    else:
        d.update(rows16=outer * (inner // 16) * red, blocks16=outer * (inner // 16) * _ceil(red, 256),
                 tail_rows=outer * _ceil(inner % 16, 4) * red)  # fmt: skip
    return d


_VARIANT_COUNTS = {
    ("arm_dsp", "ADD"): _dsp_add,
    ("arm_mve", "ADD"): _mve_add,
    ("arm_mve", "MEAN"): _mve_mean,
    ("riscv", "ADD"): _rv_add,
    ("arm_dsp", "CONV_2D"): _dsp_conv,
    ("arm_dsp", "DEPTHWISE_CONV_2D"): _dsp_depthwise,
    ("arm_dsp", "FULLY_CONNECTED"): _dsp_fc,
    ("arm_mve", "CONV_2D"): _mve_conv,
    ("arm_mve", "DEPTHWISE_CONV_2D"): _mve_depthwise,
    ("arm_mve", "FULLY_CONNECTED"): _mve_fc,
    ("riscv", "DEPTHWISE_CONV_2D"): _rv_depthwise,
    ("riscv", "FULLY_CONNECTED"): _rv_fc,
}


def variant_kernels(variant: str) -> frozenset[str]:
    """Kernel stems the variant has its own source for (runtime_c/kernels/<variant>/<kernel>.c)."""
    from ..resources import runtime_dir

    folder = runtime_dir() / "kernels" / variant
    return frozenset(p.stem for p in folder.glob("*.c")) if variant != "reference" and folder.is_dir() else frozenset()


def _specialised(node: Node, graph: Graph, variant: str) -> bool:
    """False for the shapes a variant kernel hands to its copy of the reference loop."""
    if node.op == "CONV_2D":
        x, f, y = graph.inp(node, 0), graph.inp(node, 1), graph.out(node)
        grouped = f.shape[-1] != x.shape[-1]
        if variant == "arm_mve":
            return not grouped and y.shape[-1] >= 4 and (node.attrs.dilation_w == 1 or _mve_small_window(node, graph))
        if variant == "arm_dsp":  # rq_fast_ok: else the variant's reference loop
            return not grouped and _dsp_conv_fast(node, graph)
        return not grouped
    if node.op == "FULLY_CONNECTED" and variant == "arm_mve":
        return graph.out(node).shape[-1] >= 4
    if node.op == "ADD":
        p = _add_params(node, graph)
        if variant == "arm_dsp":
            return _dsp_add_ok(p)
        if variant == "arm_mve":
            return _mve_add_ok(p)
        if variant == "riscv":  # smaller tensors run a copy of the reference loop
            return int(np.prod(p.dims)) >= 512
    if node.op == "MEAN" and variant == "arm_mve":  # other axis sets: the reference loop
        return _mean_shape(node, graph)[0]
    if node.op == "DEPTHWISE_CONV_2D" and variant == "arm_dsp":
        # other multipliers, and multipliers needing a left shift or accumulators that may reach 2^30 (rq_fast_ok):
        # the reference loop
        m = node.attrs.depth_multiplier
        return (m == 1 or m % 4 == 0) and _dsp_dw_quant(node, graph)[0]
    return True


def kernel_path(node: Node, graph: Graph, variant: str) -> str:
    """The code a node runs with a kernel variant: the variant's name when its specialised kernel runs the
    node, "reference" when the reference kernel (or the variant's copy of the reference loop) does."""
    if variant == "reference" or ops.get(node.op).alias or model_key(node, graph) != node.op:
        return "reference"
    if not set(ops.get(node.op).c_kernels(node, graph)) & variant_kernels(variant):
        return "reference"
    return variant if _specialised(node, graph, variant) else "reference"


def feature_names(variant: str, key: str) -> tuple[str, ...]:
    """The features of a coefficient table: [cost.<variant>.<key>]."""
    op = key.split("/")[0]
    if key == GENERIC or op not in FEATURES:
        return GENERIC_FEATURES
    return VARIANT_FEATURES.get(variant, {}).get(op, FEATURES[op]) if variant != "reference" else FEATURES[op]


# ---------------------------------------------------------------------------------------------- estimate


def coefficients_for(target: Target, key: str, path: str | None = None) -> tuple[str, dict[str, float]] | None:
    """(model name, coefficients) for a node's model key ("OP" or "OP/<in>_<out>") on a target, for a node
    running `path` (kernel_path; default: the target's variant).

    Tried in order: the key, then the op's int8 fit (same loop nest, e.g. for a float kernel), then the
    generic fallback; each in the path's table first, then in the reference kernels' table (a variant
    kernel without a fit of its own is then over-estimated)."""
    tables = target.cost_coefficients
    variants = list(dict.fromkeys((target.kernels if path is None else path, "reference")))
    for k in dict.fromkeys((key, key.split("/")[0], GENERIC)):
        for variant in variants:
            if k in tables.get(variant, {}):
                return f"{variant}.{k}", tables[variant][k]
    return None


def layer_instructions(coeffs: dict[str, float], feats: dict[str, float]) -> float:
    return max(sum(c * feats.get(name, 0.0) for name, c in coeffs.items()), 0.0)


def estimate(summary_or_graph, target: Target) -> CostEstimate:
    """Estimated instructions, cycles and ms per layer and in total of one inference on `target`.

    Accepts a Graph or an analysis.ModelSummary (its graph is used, and the layers whose scratch the planner
    refused run the reference loop: a variant kernel given no scratch runs its copy of it)."""
    graph: Graph = getattr(summary_or_graph, "graph", summary_or_graph)
    refused = set(getattr(summary_or_graph, "scratch_refused", ()))
    est = CostEstimate(
        target=target.name,
        core=target.core,
        clock_hz=target.clock_hz,
        kernels=target.kernels,
        cycles_per_instruction=target.cycles_per_instruction,
        measured=target.cost_measured,
        basis=target.cost_basis or "no calibration recorded for this target",
    )
    for i, node in enumerate(graph.nodes):
        opdef = ops.get(node.op)
        path = "reference" if i in refused else kernel_path(node, graph, target.kernels)
        feats = features(node, graph, path)
        key = model_key(node, graph)
        if opdef.alias:
            instr, model = 0.0, "alias"
        else:
            found = coefficients_for(target, key, path)
            if found is None:
                raise ValueError(f"target {target.name!r} has no cost coefficients (a [cost.reference] table)")
            model, coeffs = found
            instr = layer_instructions(coeffs, feats)
        cycles = instr * target.cycles_per_instruction
        ms = cycles / target.clock_hz * 1e3
        macs = int(opdef.macs(node, graph))
        est.layers.append(LayerCost(i, node.op, node.name, macs, feats, key, instr, cycles, ms, model, path))
    return est
