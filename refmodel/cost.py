"""Cost model of the chip: what one 10 ms hop and one detection cost, block by block.

Every count is a formula (a string in the RTL's parameter names, evaluated with
:func:`refmodel.rate.evaluate`) of the numbers the RTL is built with: ``mel_pkg``
(:func:`refmodel.mel.rtl.package_params` of a :class:`~refmodel.mel.config.FrontendConfig`),
``lstm_pkg`` (:func:`refmodel.lstm.rtl.package_params` of a
:class:`~refmodel.lstm.config.DetectorConfig`) and the H/P/Window parameters
(:func:`refmodel.lstm.stages.dims`).  Nothing is counted from a simulation here;
``make cost`` (``tb/flow/cost.py``) checks these counts against counters in the RTL.

The model, per block of the stage tables:

* **events**: things the block does, each counted per *unit* of work: per input ``sample``,
  per ``frame`` (one hop of the front end), per LSTM ``step`` (one feature vector) or per
  ``window`` (one detection).  An event is a handshake, a butterfly issue, a MAC cycle, a
  memory port enable, or a busy cycle; each is a signal the simulation can count.
* **cost of an event** (:class:`Op`): the multiplications (with their operand widths, as the
  RTL declares them: ``24s`` a signed 24-bit operand, ``16u`` unsigned), additions and
  subtractions (an accumulate, a rounding ``round_sat`` and a sign flip by subtraction each
  count as one; comparisons, shifts, muxes and counter/address arithmetic are not counted),
  memory reads and writes by memory, and busy cycles.
* **memories** (:class:`Memory`): every RAM, ROM and register array of the block, with its
  words and width.

A hop is ``Run(samples=Hop, frames=1, steps=1)`` (the steady state: one frame, one LSTM step);
a detection is ``Window`` hops plus the head (``windows=1``).  The first window after reset
reads ``FrameLen - Hop`` more samples (its first frame); the report uses the steady state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from refmodel.lstm.config import DetectorConfig
from refmodel.mel.config import DEFAULT as FE_DEFAULT
from refmodel.mel.config import FrontendConfig
from refmodel.rate import evaluate

UNITS = ("sample", "frame", "step", "window", "load")


@dataclass(frozen=True)
class Run:
    """How much work: input samples, front-end frames, LSTM steps, detection windows, loads
    of the whole weight set through the load port."""

    samples: int = 0
    frames: int = 0
    steps: int = 0
    windows: int = 0
    loads: int = 0

    def of(self, unit: str) -> int:
        if unit not in UNITS:
            raise ValueError(f"unit {unit!r} is not one of {', '.join(UNITS)}")
        return getattr(self, unit + "s")


@dataclass(frozen=True)
class Memory:
    """A memory of a block: ``kind`` ``RAM``, ``ROM`` or ``REG`` (a register array),
    ``copies`` identical instances (lanes, banks, the two read ports of a ROM)."""

    name: str
    kind: str
    words: int
    width: int
    copies: int = 1
    note: str = ""

    @property
    def bits(self) -> int:
        return self.words * self.width * self.copies


@dataclass(frozen=True)
class Op:
    """The cost of one event: multiplications ``{"24s x 18s": n}``, additions, memory reads and
    writes ``{memory name: n}``, busy cycles."""

    muls: Mapping[str, int] = field(default_factory=dict)
    adds: int = 0
    reads: Mapping[str, int] = field(default_factory=dict)
    writes: Mapping[str, int] = field(default_factory=dict)
    cycles: int = 0


@dataclass(frozen=True)
class Event:
    """``formula`` events per ``unit`` (a string in RTL parameter names), each costing
    ``op``; ``what`` says which signal it is (the simulation counts that signal)."""

    name: str
    formula: str
    unit: str
    what: str
    op: Op = Op()


@dataclass(frozen=True)
class Multiplier:
    """A hardware multiplier of a block (what synthesis should find)."""

    a: str
    b: str
    constant: bool = False

    @property
    def label(self) -> str:
        return f"{self.a} x {self.b}{' (constant)' if self.constant else ''}"


@dataclass(frozen=True)
class BlockModel:
    block: str
    inst: str
    events: tuple[Event, ...]
    memories: tuple[Memory, ...] = ()
    multipliers: tuple[Multiplier, ...] = ()
    note: str = ""


@dataclass
class Counts:
    """Totals of a block over a :class:`Run`."""

    block: str
    events: dict[str, int] = field(default_factory=dict)
    muls: dict[str, int] = field(default_factory=dict)
    adds: int = 0
    reads: dict[str, int] = field(default_factory=dict)
    writes: dict[str, int] = field(default_factory=dict)
    cycles: int = 0

    @property
    def mul_total(self) -> int:
        return sum(self.muls.values())


def _add(d: dict[str, int], more: Mapping[str, int], times: int) -> None:
    for k, v in more.items():
        d[k] = d.get(k, 0) + v * times


@dataclass(frozen=True)
class Chip:
    """The cost model of one chip configuration."""

    fe: FrontendConfig
    det: DetectorConfig
    lanes: int
    params: Mapping[str, int]
    blocks: tuple[BlockModel, ...]

    @property
    def hidden(self) -> int:
        return self.det.hidden

    @property
    def window(self) -> int:
        return self.det.window

    @property
    def label(self) -> str:
        return f"H={self.hidden} P={self.lanes} Window={self.window}"

    def hop(self) -> Run:
        """One 10 ms hop in the steady state: Hop samples, one frame, one LSTM step."""
        return Run(samples=self.params["Hop"], frames=1, steps=1)

    def detection(self) -> Run:
        """One detection in the steady state: Window hops and the head."""
        w = self.window
        return Run(samples=w * self.params["Hop"], frames=w, steps=w, windows=1)

    def first_window(self) -> Run:
        """What a simulation of the first window after reset does: one weight load, then
        FrameLen + Hop (Window - 1) samples, Window frames and steps, one detection."""
        w = self.window
        return Run(samples=self.params["FrameLen"] + self.params["Hop"] * (w - 1), frames=w,
                   steps=w, windows=1, loads=1)

    def block(self, name: str) -> BlockModel:
        for b in self.blocks:
            if b.block == name:
                return b
        raise KeyError(f"{name!r} is not a block of the cost model "
                       f"({', '.join(b.block for b in self.blocks)})")

    def event_count(self, ev: Event, run: Run) -> int:
        return evaluate(ev.formula, self.params) * run.of(ev.unit)

    def counts(self, run: Run) -> list[Counts]:
        """Every block's totals over ``run``."""
        out = []
        for b in self.blocks:
            c = Counts(b.block)
            for ev in b.events:
                n = self.event_count(ev, run)
                c.events[ev.name] = n
                _add(c.muls, ev.op.muls, n)
                _add(c.reads, ev.op.reads, n)
                _add(c.writes, ev.op.writes, n)
                c.adds += ev.op.adds * n
                c.cycles += ev.op.cycles * n
            out.append(c)
        return out

    def memory(self, name: str) -> Memory:
        for b in self.blocks:
            for m in b.memories:
                if m.name == name:
                    return m
        raise KeyError(f"no memory {name!r}")

    def flat(self, run: Run) -> dict[str, int]:
        """``{key: count}`` over ``run``: ``<block>.<event>``, ``<block>.read.<memory>``,
        ``<block>.write.<memory>``, ``<block>.cycles`` (what the simulation counters name)."""
        out: dict[str, int] = {}
        for c in self.counts(run):
            out.update({f"{c.block}.{k}": v for k, v in c.events.items()})
            out.update({f"{c.block}.read.{k}": v for k, v in c.reads.items()})
            out.update({f"{c.block}.write.{k}": v for k, v in c.writes.items()})
            out[f"{c.block}.cycles"] = c.cycles
        return out


def _mel_params(fe: FrontendConfig) -> dict[str, int]:
    from refmodel.mel.rtl import package_params
    from refmodel.mel.tables import rom_tables

    p = {k: v for k, (v, _) in package_params(fe)[0].items()}
    t = rom_tables(fe)
    seg = np.asarray(t["mel_segment"].values)
    # Bins of MelFirstBin..MelLastBin where the triangle segment steps (mel_filterbank closes
    # a band there, one accumulation instead of two).
    p["MelSegSteps"] = int(np.count_nonzero(np.diff(seg)))
    p["TwiddleWords"] = len(t["twiddle_re"].values)
    p["LogTableWords"] = len(t["log2_table"].values)
    return p


def _lstm_params(det: DetectorConfig, lanes: int) -> dict[str, int]:
    from refmodel.lstm.rtl import package_params
    from refmodel.lstm.stages import dims

    p = {k: v for k, (v, _) in package_params(det).items()}
    d = dims(det.hidden, lanes, det)
    p.update(Hidden=det.hidden, Lanes=lanes, Window=det.window, NPass=d.passes, Cols=d.cols,
             WDepth=d.w_depth, UnitsPerPass=d.units_per_pass)
    return p


def _w(bits: int, signed: bool) -> str:
    return f"{bits}{'s' if signed else 'u'}"


def _mul(a: str, b: str) -> str:
    return f"{a} x {b}"


def _frontend(p: Mapping[str, int]) -> tuple[BlockModel, ...]:
    fb, tw = p["FftBits"], p["TwiddleBits"]
    bfly_mul = _mul(_w(fb, True), _w(tw, True))
    split_mul = _mul(_w(fb + 1, True), _w(tw, True))
    win_mul = _mul(_w(p["SampleBits"], True), _w(p["WindowBits"], False))
    pow_mul = _mul(_w(fb, True), _w(fb, True))
    mel_mul = _mul(_w(p["MelWeightBits"], False), _w(p["PowerBits"], False))
    log_mul = _mul(_w(p["LogTableBits"], False), _w(p["LogMantBits"] - p["LogIndexBits"], False))
    q_mul = _mul(_w(p["LogBits"], False), _w(p["QuantGainBits"], False))
    twiddle = (Memory("twiddle_re_rom", "ROM", p["TwiddleWords"], tw),
               Memory("twiddle_im_rom", "ROM", p["TwiddleWords"], tw))
    return (
        BlockModel("mel_framer", "u_frontend.u_framer", (
            Event("write", "1", "sample", "in_fire: a sample written to the sample RAM",
                  Op(writes={"sample_ram": 1})),
            Event("pair", "FramePairs", "frame",
                  "out_fire: a pair {x[2m+1], x[2m]} handed out (one word from each bank)",
                  Op(reads={"sample_ram": 2}, cycles=1)),
        ), (Memory("sample_ram", "RAM", p["SampleRamDepth"] // 2, p["SampleBits"], 2,
                   "two banks by address parity"),),
            note="the pair register reads both banks on every clock cycle (no read enable); "
                 "the table counts the reads whose words are used"),
        BlockModel("mel_window", "u_frontend.u_window", (
            Event("item", "FramePairs", "frame", "in_fire: a pair windowed",
                  Op(muls={win_mul: 2}, adds=2,
                     reads={"window_even_rom": 1, "window_odd_rom": 1}, cycles=1)),
        ), (Memory("window_even_rom", "ROM", p["FramePairs"], p["WindowBits"]),
            Memory("window_odd_rom", "ROM", p["FramePairs"], p["WindowBits"])),
            (Multiplier(_w(p["SampleBits"], True), _w(p["WindowBits"], False)),) * 2),
        BlockModel("mel_fft", "u_frontend.u_fft", (
            Event("load", "FramePairs", "frame", "in_fire: z[m] written at bitrev(m)",
                  Op(writes={"fft_banks": 1})),
            # t = W*b: 4 products, t_re and t_im (2 adds), a +/- t (4), 4 roundings.
            Event("butterfly", "FftStages * FftPoints / 2", "frame",
                  "issue: a butterfly reads a and b, its results are written two cycles later",
                  Op(muls={bfly_mul: 4}, adds=10,
                     reads={"twiddle_re_rom": 1, "twiddle_im_rom": 1},
                     writes={"fft_banks": 2})),
            Event("bank_read", "FftStages * FftPoints / 2 + 2 * SplitItems", "frame",
                  "rd_en: both banks read (a butterfly's a and b; an output phase's word)",
                  Op(reads={"fft_banks": 2})),
            Event("busy", "FramePairs + FftStages * (FftPoints / 2 + 2) + 2 * SplitItems",
                  "frame", "a load, a butterfly-stage cycle (issue or pipeline drain) or an "
                  "output read", Op(cycles=1)),
            Event("out", "SplitItems", "frame", "out_fire: (k, Z[k], Z[-k]) handed out"),
        ), (Memory("fft_banks", "RAM", p["FftPoints"] // 2, 2 * fb, 2,
                   "two banks by address parity, {im, re} words"), *twiddle),
            (Multiplier(_w(fb, True), _w(tw, True)),) * 4),
        BlockModel("mel_split", "u_frontend.u_split", (
            # SA, SB (4 adds), T (2), (SA << 16) +/- T (4), 4 roundings.
            Event("item", "SplitItems", "frame", "in_fire: X[k], X[N-k] from Z[k], Z[-k]",
                  Op(muls={split_mul: 4}, adds=14,
                     reads={"twiddle_re_rom": 1, "twiddle_im_rom": 1}, cycles=1)),
        ), twiddle, (Multiplier(_w(fb + 1, True), _w(tw, True)),) * 4,
            note="its own copy of the twiddle ROMs"),
        BlockModel("mel_power", "u_frontend.u_power", (
            Event("item", "SplitItems", "frame", "in_fire: P'[k] = round(Xr^2 + Xi^2)",
                  Op(muls={pow_mul: 2}, adds=2, cycles=1)),
        ), (), (Multiplier(_w(fb, True), _w(fb, True)),) * 2),
        BlockModel("mel_filterbank", "u_frontend.u_filterbank", (
            Event("bin", "SplitItems", "frame", "in_fire: a bin taken (outside the mel "
                  "range it is ignored)", Op(cycles=1)),
            Event("weighted", "MelRomDepth", "frame",
                  "in_fire of a bin in MelFirstBin..MelLastBin: two weighted powers",
                  Op(muls={mel_mul: 2},
                     reads={"mel_seg_rom": 1, "mel_w_rise_rom": 1, "mel_w_fall_rom": 1})),
            Event("accumulate", "MelRomDepth - 1 - MelSegSteps", "frame",
                  "a bin in the same segment as the previous one: two accumulates",
                  Op(adds=2)),
            Event("seg_step", "MelSegSteps", "frame",
                  "a bin that steps the segment: a band closes, one accumulate", Op(adds=1)),
            Event("flush", "1", "frame", "the cycle that hands out the last band",
                  Op(cycles=1)),
            Event("out", "NMels", "frame", "out_fire: a band M[b] handed out"),
        ), (Memory("mel_seg_rom", "ROM", p["MelRomDepth"], p["MelSegBits"]),
            Memory("mel_w_rise_rom", "ROM", p["MelRomDepth"], p["MelWeightBits"]),
            Memory("mel_w_fall_rom", "ROM", p["MelRomDepth"], p["MelWeightBits"])),
            (Multiplier(_w(p["MelWeightBits"], False), _w(p["PowerBits"], False)),) * 2),
        BlockModel("mel_log2", "u_frontend.u_log2", (
            # L[i+1] - L[i], the rounding, (e << 16) + L[i] + interp (2).
            Event("item", "NMels", "frame", "in_fire: y = log2(M)",
                  Op(muls={log_mul: 1}, adds=4, reads={"log2_rom": 2}, cycles=1)),
        ), (Memory("log2_rom", "ROM", p["LogTableWords"], p["LogTableBits"], 2,
                   "two read ports (L[i], L[i+1]): two copies"),),
            (Multiplier(_w(p["LogTableBits"], False),
                        _w(p["LogMantBits"] - p["LogIndexBits"], False)),)),
        BlockModel("mel_quant", "u_frontend.u_quant", (
            Event("item", "NMels", "frame", "in_fire: code = round_sat(y G + O) + 128",
                  Op(muls={q_mul: 1}, adds=2, cycles=1)),
            Event("vector", "1", "frame", "out_fire: a feature vector handed to the detector"),
        ), (), (Multiplier(_w(p["LogBits"], False), _w(p["QuantGainBits"], False), True),),
            note="its multiplier has a constant operand (QuantGain)"),
    )


def _act_op(p: Mapping[str, int]) -> Op:
    """One use of lstm_act: |u| (1 subtraction), T[k+1] - T[k], the product, its rounding,
    T[k] + step, 2^16 - s for u < 0: 5 additions; the knot ROM read twice."""
    return Op(muls={_mul(_w(p["ActOutBits"] + 1, True), _w(p["ActFracBits"] + 1, True)): 1},
              adds=5, reads={"act_rom": 2})


def _detector(p: Mapping[str, int]) -> tuple[BlockModel, ...]:
    gw = p["ActOutBits"] + 1  # unsigned gate codes zero-extended to signed
    act = _act_op(p)
    act_mem = Memory("act_rom", "ROM", p["ActRomDepth"], p["ActOutBits"], 2,
                     "two read ports (T[k], T[k+1]): two copies")
    act_mul = Multiplier(_w(p["ActOutBits"] + 1, True), _w(p["ActFracBits"] + 1, True))
    lanes = p["Lanes"]
    return (
        BlockModel("lstm_seq", "u_detector.u_seq", (
            Event("accept", "1", "step", "accept: a feature vector taken"),
            Event("busy", "NPass * Cols + 5 * Lanes / 4 + 2", "step",
                  "state not idle: the step's passes, then the drain until the last pass is "
                  "updated", Op(cycles=1)),
            Event("head_busy", "Hidden + 2", "window",
                  "state not idle: starting the head and waiting while it reads h",
                  Op(cycles=1)),
        ), note="pure control: counters and the vector-word mux"),
        BlockModel("lstm_mem", "u_detector.u_mem", (
            Event("read", "NPass * Cols", "step",
                  "rd_en: every lane's weight RAM and bias RAM read",
                  Op(reads={"weight_ram": lanes, "bias_ram": lanes}, cycles=1)),
            Event("load_weight", "4 * Hidden * Cols", "load", "a load-port write to a lane's "
                  "weight RAM", Op(writes={"weight_ram": 1})),
            Event("load_bias", "4 * Hidden", "load", "a load-port write to a lane's bias RAM",
                  Op(writes={"bias_ram": 1})),
            Event("load_head", "Hidden", "load", "a load-port write of w_out[j]",
                  Op(writes={"head_weights": 1})),
            Event("load_head_bias", "1", "load", "the load-port write of b_out",
                  Op(writes={"head_bias": 1})),
        ), (Memory("weight_ram", "RAM", p["WDepth"], p["WBits"], lanes, "one per lane"),
            Memory("bias_ram", "RAM", p["NPass"], p["BBits"], lanes, "one per lane"),
            Memory("head_weights", "REG", p["Hidden"], p["WoutBits"], 1,
                   "w_out in flip-flops (all read at once); b_out beside it"),
            Memory("head_bias", "REG", 1, p["BoutBits"])),
            note="the bias RAMs are read with every weight (rd_en), used once per pass"),
        BlockModel("lstm_pe_array", "u_detector.u_pe", (
            Event("mac", "NPass * Cols", "step",
                  "mac_valid: every lane multiplies and accumulates",
                  Op(muls={_mul(_w(p["WBits"], True), _w(p["HBits"], True)): lanes},
                     adds=lanes, cycles=1)),
            Event("first", "NPass", "step", "mac_valid with mac_first: sums start from the bias"),
            Event("result", "NPass", "step", "res_valid: a pass's P sums handed to the update"),
        ), (), (Multiplier(_w(p["WBits"], True), _w(p["HBits"], True)),) * lanes),
        BlockModel("lstm_update", "u_detector.u_update", (
            # Every busy cycle uses the activation unit once (i, f, g, o, tanh(c)); phases 0-3
            # round a gate sum to z.
            Event("busy", "5 * Hidden", "step",
                  "active: one activation (sigmoid or tanh) per cycle, 5 per unit",
                  replace(act, cycles=1)),
            # c = round(f c + i g), its tanh input rounded: 2 products, 1 add, 2 roundings;
            # plus the four z roundings of the unit's gates.
            Event("cell", "Hidden", "step", "phase 3: c = f*c + i*g written",
                  Op(muls={_mul(_w(gw, True), _w(p["CBits"], True)): 1,
                           _mul(_w(gw, True), _w(p["ActOutBits"], True)): 1}, adds=3 + 4,
                     reads={"c_state": 1}, writes={"c_state": 1})),
            Event("hidden", "Hidden", "step", "phase 4: h = round(o * tanh(c)) written",
                  Op(muls={_mul(_w(gw, True), _w(p["ActOutBits"], True)): 1}, adds=1,
                     writes={"h_state": 1})),
        ), (act_mem, Memory("c_state", "REG", p["Hidden"], p["CBits"]),
            Memory("h_state", "REG", p["Hidden"], p["HBits"], 2, "two banks, swapped per step")),
            (act_mul, Multiplier(_w(gw, True), _w(p["CBits"], True)),
             Multiplier(_w(gw, True), _w(p["ActOutBits"], True)),
             Multiplier(_w(gw, True), _w(p["ActOutBits"], True))),
            note="includes lstm_act (u_update.u_act) and lstm_cell (u_update.u_cell)"),
        BlockModel("lstm_head", "u_detector.u_head", (
            Event("start", "1", "window", "start: the sum starts at b_out << BoutShift"),
            Event("term", "Hidden", "window", "run: w_out[j] * h[j] accumulated",
                  Op(muls={_mul(_w(p["WoutBits"], True), _w(p["HBits"], True)): 1}, adds=1,
                     cycles=1)),
            # logit rounding, then the sigmoid.
            Event("score", "1", "window", "fin: logit rounded, score = sigmoid(logit)",
                  replace(act, adds=act.adds + 1, cycles=1)),
        ), (act_mem,), (Multiplier(_w(p["WoutBits"], True), _w(p["HBits"], True)), act_mul),
            note="includes its own lstm_act (u_head.u_act)"),
    )


@lru_cache(maxsize=16)
def chip(hidden: int = 32, lanes: int = 8, window: int = 198,
         fe: FrontendConfig = FE_DEFAULT, det: DetectorConfig | None = None) -> Chip:
    """The cost model for ``Hidden = hidden``, ``Lanes = lanes``, ``Window = window``."""
    det = replace(det or DetectorConfig(), hidden=hidden, window=window)
    params = _mel_params(fe)
    for k, v in _lstm_params(det, lanes).items():
        if k in params and params[k] != v:
            raise ValueError(f"cost model: {k} is {params[k]} in mel_pkg, {v} in lstm_pkg")
        params[k] = v
    return Chip(fe, det, lanes, params, _frontend(params) + _detector(params))


# ---------------------------------------------------------------------------- references
@dataclass(frozen=True)
class Reference:
    """Operation counts of a reference computation per hop (one frame)."""

    name: str
    muls: int
    adds: int
    other: int  # element-wise non-arithmetic ops (log, clip, round, cast, max)
    weight_reads: int
    weight_bits: int
    rows: tuple[tuple[str, int, int, int], ...]  # (what, muls, adds, other)


def direct_dft(fe: FrontendConfig = FE_DEFAULT) -> Reference:
    """A direct DFT of the n_fft-point frame per hop: n_fft^2 complex MACs (a complex product
    is 4 real multiplications and 2 additions, the accumulate 2 more), twiddles from a table
    of n_fft complex words."""
    n = fe.n_fft
    macs = n * n
    return Reference(f"direct DFT ({n}^2 complex MACs)", 4 * macs, 4 * macs, 0, macs,
                     2 * n * 32, ((f"{n} x {n} complex MACs", 4 * macs, 4 * macs, 0),))


def onnx_graph(fe: FrontendConfig = FE_DEFAULT) -> Reference:
    """The conv-STFT ONNX graph of the float golden (:func:`refmodel.mel.onnx_golden.build_model`,
    the background material's graph with the fixed dB span) on one frame: its nodes walked
    with ONNX shape inference.  Conv: output elements x kernel taps MACs; MatMul: M K N MACs;
    Pow (square), Mul: one multiplication per element; Add, Sub: one addition per element;
    Clip, Log, Round, Cast: one other operation per element; Pad, (Un)squeeze, Transpose: no
    arithmetic.  Weights (initializers with more than one element) are float32."""
    import onnx
    from onnx import shape_inference

    from refmodel.mel.onnx_golden import build_model

    model = build_model(fe, mode="fixed")
    g = model.graph
    for inp in g.input:
        if inp.name == "samples":
            dims = inp.type.tensor_type.shape.dim
            del dims[:]
            dims.add().dim_value = fe.frame_len
    inferred = shape_inference.infer_shapes(model, strict_mode=True)
    shapes: dict[str, list[int]] = {}
    for vi in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]:
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    inits = {i.name: list(i.dims) for i in g.initializer}
    shapes.update(inits)

    def size(name: str) -> int:
        return math.prod(shapes[name]) if shapes.get(name) else 1

    rows = []
    weight_reads = 0
    for node in g.node:
        out = size(node.output[0])
        muls = adds = other = 0
        if node.op_type == "Conv":
            taps = math.prod(inits[node.input[1]][1:])
            muls = adds = out * taps
            weight_reads += out * taps
        elif node.op_type == "MatMul":
            k = shapes[node.input[0]][-1]
            muls = adds = out * k
            weight_reads += out * k
        elif node.op_type in ("Pow", "Mul"):
            muls = out
        elif node.op_type in ("Add", "Sub"):
            adds = out
        elif node.op_type in ("Clip", "Log", "Round", "Cast", "Max", "ReduceMax"):
            other = out
        if muls or adds or other:
            rows.append((f"{node.op_type} -> {node.output[0]} {shapes.get(node.output[0])}",
                         muls, adds, other))
    wbits = sum(32 * math.prod(d) for name, d in inits.items()
                if math.prod(d) > 1 and onnx.helper.tensor_dtype_to_np_dtype(
                    next(i for i in g.initializer if i.name == name).data_type) == np.float32)
    return Reference("ONNX conv-STFT graph", sum(r[1] for r in rows), sum(r[2] for r in rows),
                     sum(r[3] for r in rows), weight_reads, wbits, tuple(rows))
