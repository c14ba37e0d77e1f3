"""The LSTM detector's stage table: its blocks in data order, each with its RTL instance, its
bit-accurate model function (or, for pure control, a note) and the layout of its port words.

    features -> lstm_seq -> lstm_mem -> lstm_pe_array -> lstm_update (lstm_act, lstm_cell)
             -> lstm_head -> detections                       (lstm_detector: the IP top)

Unlike the front end, the detector's blocks are not one chain of streams: a block has
several interfaces (the PE array takes the sequencer's MAC controls and the memories' read
data; the update unit hands h back to the sequencer and on to the head).  So a
:class:`Stage` lists its **input and output interfaces by name**, each a
:class:`refmodel.link.Link` of the ports that move together (on the strobe
:attr:`Stage.strobes` names, if any).  A field's ``port`` is the RTL port name without its
direction suffix (the LSTM blocks name ports by interface, ``mac_tag_i``, ``res_o``,
``wl_addr_i``, rather than ``in_``/``out_``): field ``res`` of an output interface is the port
``res_o``; :meth:`Stage.field` finds a field by its port name, :meth:`Stage.port_name` gives a
field's port name, and :meth:`Stage.encode` / :meth:`Stage.decode` turn an item of an
interface into ``{RTL port name: word}`` and back.  Value ``k`` of a port sits at bits
``[bits*k + bits-1 : bits*k]`` (:mod:`refmodel.link`): ``res_o`` is
``{acc[lane P-1], ..., acc[lane 0]}``.

H (``Hidden``) and P (``Lanes``) are RTL parameters, so the table is a function of
``(hidden, lanes, config)`` (cached).  Widths come from
:func:`refmodel.lstm.rtl.package_params` (the numbers ``lstm_pkg`` gives the RTL) and, for the
H/P-dependent ones, from :func:`dims` (the RTL's derived localparams, same formulas).

Used by the block tests (``tb/lstm/test_lstm_<block>.py``: every port word is encoded and
decoded through this table), the detector test and the mismatch probe (h and c of
``u_update`` after a step: ``stage("lstm_update", H, P).field("h_o").decode(word)``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from types import MappingProxyType
from typing import TypeVar

from refmodel.blocks import Block
from refmodel.link import Field, Link
from refmodel.lstm import act, cell, detector, head, mem, pe_array, update
from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.rtl import decode_load_addr, load_writes, package_params
from refmodel.rate import Rate, rate

# The window index ports (lstm_seq.window_o, lstm_head.window_i / det_window_o,
# lstm_detector.det_window_o) are 32 bits wide in the RTL (`logic [31:0]`, no package number).
WINDOW_BITS = 32

T = TypeVar("T")


@dataclass(frozen=True)
class Dims:
    """The H/P-dependent numbers of the RTL (``lstm_seq`` / ``lstm_mem`` localparams).

    Attributes:
        hidden: H (``Hidden``).
        lanes: P (``Lanes``).
        passes: ``NPass = 4H/P``, passes per step (bias RAM depth).
        cols: ``Cols = 32 + H``, MACs per pass (vector words per pass).
        w_depth: ``WDepth = NPass * Cols``, per-lane weight RAM depth (MAC cycles per step).
        w_addr_bits: ``WAddrW = idx_width(WDepth)`` (``prim_util_pkg``: ``$clog2``, at
            least 1).
        pass_bits: ``PassW = idx_width(NPass)`` (pass tag and bias address; ``TagW`` of the
            PE array and the update unit).
        units_per_pass: ``P/4``, units whose four gates one pass delivers.
        update_cycles: ``5P/4``, cycles ``lstm_update`` is busy per pass.
    """

    hidden: int
    lanes: int
    passes: int
    cols: int
    w_depth: int
    w_addr_bits: int
    pass_bits: int
    units_per_pass: int
    update_cycles: int


def _idx_width(n: int) -> int:
    """``prim_util_pkg::idx_width``: bits to index n items, at least 1."""
    return (n - 1).bit_length() if n > 1 else 1


def _config(hidden: int, config: DetectorConfig | None) -> DetectorConfig:
    cfg = config or DetectorConfig(hidden=hidden)
    return cfg if cfg.hidden == hidden else replace(cfg, hidden=hidden)


def dims(hidden: int = 32, lanes: int = 8, config: DetectorConfig | None = None) -> Dims:
    """The RTL's derived sizes for ``Hidden = hidden``, ``Lanes = lanes``."""
    cfg = _config(hidden, config)
    lanes = mem.check_lanes(lanes, cfg)
    if lanes % 4:
        raise ValueError(f"lanes={lanes} must be a multiple of 4 (a pass delivers whole units)")
    passes = cfg.gates // lanes
    depth = passes * cfg.cols
    return Dims(hidden=hidden, lanes=lanes, passes=passes, cols=cfg.cols, w_depth=depth,
                w_addr_bits=_idx_width(depth), pass_bits=_idx_width(passes),
                units_per_pass=lanes // 4, update_cycles=5 * lanes // 4)


def _ro(items: Mapping[str, T]) -> Mapping[str, T]:
    """A read-only copy (the table is cached and shared)."""
    return MappingProxyType(dict(items))


@dataclass(frozen=True)
class Stage:
    """One block of the detector.

    ``block``: the RTL module (``rtl/lstm/<block>.sv``, model ``refmodel/lstm/<name>.py``);
    ``inst``: its instance path inside ``lstm_detector`` (``""`` for the top itself);
    ``other_insts``: further instances of the same module (``lstm_act`` in the head);
    ``model``: the bit-accurate function of what the block computes, or None for a pure
    control block; ``note``: one line saying what the block does; ``inputs`` / ``outputs``:
    interfaces by name, each the link of the ports that move together (ports
    ``<field.port>_i`` / ``<field.port>_o``); ``strobes``: the one-bit signal that says an
    interface's values are there (``{"res": "res_valid_o"}``), where it has one; ``also``:
    further model functions that the block's other outputs are checked against;
    ``rates``: the documented throughput figures (the RTL header's ``Throughput:`` lines,
    :mod:`refmodel.rate`) by what they time.
    """

    block: str
    inst: str
    model: Callable[..., object] | None
    note: str
    inputs: Mapping[str, Link]
    outputs: Mapping[str, Link]
    strobes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    also: tuple[Callable[..., object], ...] = ()
    other_insts: tuple[str, ...] = ()
    rates: Mapping[str, Rate] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        """The model module's name: the block without its ``lstm_`` prefix."""
        return self.block.removeprefix("lstm_")

    def field(self, port: str) -> Field:
        """The field of RTL port ``port`` (``"res_o"``, ``"w_i"``).

        A port that two output interfaces share (``lstm_act.act_o``: sigmoid or tanh code)
        gives the first; take the others from :attr:`outputs`.
        """
        stem, sep, d = port.rpartition("_")
        side = {"i": self.inputs, "o": self.outputs}.get(d) if sep else None
        for link in (side or {}).values():
            for f in link.fields:
                if f.port == stem:
                    return f
        raise KeyError(f"{self.block} has no port {port!r} in its table (inputs "
                       f"{_ports(self.inputs, 'i')}; outputs {_ports(self.outputs, 'o')})")

    def link(self, name: str) -> Link:
        """Interface ``name`` (input or output; the names of a stage are unique)."""
        if name in self.inputs:
            return self.inputs[name]
        if name in self.outputs:
            return self.outputs[name]
        raise KeyError(f"{self.block} has no interface {name!r} (inputs "
                       f"{', '.join(self.inputs)}; outputs {', '.join(self.outputs)})")

    def signals(self, name: str) -> tuple[str, ...]:
        """The RTL port names of interface ``name`` in field order (``("res_tag_o", "res_o")``)."""
        suffix = "_i" if name in self.inputs else "_o"
        return tuple(p + suffix for p in self.link(name).ports)

    def encode(self, name: str, item: Sequence[int]) -> dict[str, int]:
        """``{RTL port name: word}`` for one item (flat values) of interface ``name``."""
        words = self.link(name).encode(item)
        return dict(zip(self.signals(name), words.values(), strict=True))

    def decode(self, name: str, words: Mapping[str, int]) -> tuple[int, ...]:
        """One item of interface ``name`` from ``{RTL port name: word}``."""
        return self.link(name).decode([words[s] for s in self.signals(name)])

    def port_name(self, f: Field) -> str:
        """The RTL port name of field ``f`` of this stage (``res`` of an output: ``res_o``)."""
        for suffix, side in (("_i", self.inputs), ("_o", self.outputs)):
            if any(f in link.fields for link in side.values()):
                return f.port + suffix
        raise KeyError(f"{self.block}: field {f.port!r} is not one of its ports")


def _ports(side: Mapping[str, Link], d: str) -> str:
    return ", ".join(f"{p}_{d}" for link in side.values() for p in link.ports)


@lru_cache(maxsize=16)
def _table(hidden: int, lanes: int, cfg: DetectorConfig) -> tuple[Stage, ...]:
    p = {k: v for k, (v, _) in package_params(cfg).items()}
    d = dims(hidden, lanes, cfg)
    units, lane_ix = range(hidden), range(lanes)

    def per_lane(port: str, bits: int, what: str) -> Field:
        return Field(port, bits, tuple(f"{what}[lane {k}]" for k in lane_ix))

    def per_unit(port: str, bits: int, what: str) -> Field:
        return Field(port, bits, tuple(f"{what}[{j}]" for j in units))

    def one(port: str, bits: int, label: str, signed: bool = True) -> Field:
        return Field(port, bits, (label,), signed=signed)

    def flag(port: str) -> Field:
        return one(port, 1, port, signed=False)

    feat = Field("in_feat", p["CodeBits"], tuple(f"code[{b}]" for b in range(p["Inputs"])),
                 signed=False)
    h_state = per_unit("h", p["HBits"], "h")
    c_state = per_unit("c", p["CBits"], "c")
    tag = one("mac_tag", d.pass_bits, "pass", signed=False)
    v_word = one("v", p["HBits"], "v[col]")
    mac_ctl = (flag("mac_first"), flag("mac_last"), tag)
    raddr = Link((one("w_raddr", d.w_addr_bits, "pass*(32+H)+col", signed=False),
                  one("b_raddr", d.pass_bits, "pass", signed=False)))
    wl = Link((one("wl_addr", p["WlAddrBits"], "address", signed=False),
               one("wl_data", p["WlDataBits"], "data", signed=False)))
    threshold = one("threshold", p["ThresholdBits"], "threshold (UQ1.16)", signed=False)
    det = Link((one("det_window", WINDOW_BITS, "window", signed=False),
                one("det_score", p["ScoreBits"], "score (UQ0.16)", signed=False),
                flag("det_flag")))
    zb, ab = p["ZBits"], p["ActOutBits"]
    rp = {**p, "Hidden": hidden, "Lanes": lanes}  # the names the formulas use
    return (
        Stage("lstm_seq", "u_seq", None,
              "pure control: accepts one feature vector per step, issues 4H/P passes of 32+H "
              "MACs (lane RAM address pass*(32+H)+col, word [x_int << 8 ; h_prev or 0], "
              "first/last/tag), swaps the h banks and pulses step_done per step, starts the "
              "head per window",
              _ro({"in": Link((feat,)), "h": Link((h_state,))}),
              _ro({"raddr": raddr, "mac": Link((*mac_ctl, v_word)),
                   "window": Link((one("window", WINDOW_BITS, "window", signed=False),))}),
              strobes=_ro({"in": "in_valid_i", "raddr": "rd_en_o", "mac": "mac_valid_o"})),
        Stage("lstm_mem", "u_mem", mem.mem_images,
              "per-lane weight and bias RAMs, head weights; the load port writes them",
              _ro({"wl": wl, "raddr": raddr}),
              _ro({"rdata": Link((per_lane("w_rdata", p["WBits"], "w"),
                                  per_lane("b_rdata", p["BBits"], "b"))),
                   "head": Link((per_unit("wout", p["WoutBits"], "w_out"),
                                 one("bout", p["BoutBits"], "b_out")))}),
              strobes=_ro({"wl": "wl_valid_i", "raddr": "rd_en_i"}),
              also=(load_writes, decode_load_addr)),
        Stage("lstm_pe_array", "u_pe", pe_array.gate_acc,
              "P MAC lanes: lane p sums (b[p] << BiasShift) + sum w[p]*v over a pass, exactly",
              _ro({"mac": Link((*mac_ctl, per_lane("w", p["WBits"], "w"),
                                per_lane("b", p["BBits"], "b"), v_word))}),
              _ro({"res": Link((one("res_tag", d.pass_bits, "pass", signed=False),
                                per_lane("res", p["AccBits"], "acc")))}),
              strobes=_ro({"mac": "mac_valid_i", "res": "res_valid_o"}),
              also=(pe_array.bias_acc, update.to_passes)),
        Stage("lstm_act", "u_update.u_act", act.sigmoid_unit,
              "sigmoid (tanh_i = 0) or tanh (tanh_i = 1) of a Q4.11 argument: table + "
              "interpolation",
              _ro({"z": Link((one("z", zb, "z (Q4.11)"), flag("tanh")))}),
              _ro({"sigmoid": Link((one("act", ab, "sigmoid(z) (UQ0.16)", signed=False),)),
                   "tanh": Link((one("act", ab, "tanh(z) (Q0.15)"),))}),
              also=(act.tanh_unit,), other_insts=("u_head.u_act",)),
        Stage("lstm_cell", "u_update.u_cell", cell.cell_state,
              "c = round_sat(f*c_prev + i*g << 1), its tanh input, h = round_sat(o*tanh(c))",
              _ro({"c_in": Link((one("i", ab, "i", signed=False), one("f", ab, "f", signed=False),
                                 one("g", ab, "g"), one("c_prev", p["CBits"], "c_prev"))),
                   "h_in": Link((one("o", ab, "o", signed=False), one("t", ab, "tanh(c)")))}),
              _ro({"c_out": Link((one("c", p["CBits"], "c (Q8.16)"),
                                  one("tanh_in", zb, "tanh input (Q4.11)"))),
                   "h_out": Link((one("h", p["HBits"], "h (Q0.15)"),))}),
              also=(cell.tanh_input, cell.hidden_state)),
        Stage("lstm_update", "u_update", update.update_state,
              "per pass: z rounding, the four activations and the cell update of P/4 units; "
              "holds h (two banks, swapped per step) and c",
              _ro({"res": Link((one("res_tag", d.pass_bits, "pass", signed=False),
                                per_lane("res", p["AccBits"], "acc")))}),
              _ro({"state": Link((h_state, c_state))}),
              strobes=_ro({"res": "res_valid_i"}),
              also=(update.to_passes, update.from_passes)),
        Stage("lstm_head", "u_head", head.head_score,
              "score = sigmoid(w_out . h + b_out) one term per cycle, flag = score >= threshold",
              _ro({"start": Link((one("window", WINDOW_BITS, "window", signed=False), threshold)),
                   "state": Link((h_state,)),
                   "weights": Link((per_unit("wout", p["WoutBits"], "w_out"),
                                    one("bout", p["BoutBits"], "b_out")))}),
              _ro({"det": det}),
              strobes=_ro({"start": "start_i", "det": "det_valid_o"}),
              also=(head.head_logit, head.flag_compare),
              rates=_ro({"start": rate(HEAD_START, rp, unit="detection")})),
        Stage("lstm_detector", "", detector.run_fixed,
              "the IP top: one LSTM step per feature vector, one detection per window",
              _ro({"in": Link((feat,)), "wl": wl, "threshold": Link((threshold,))}),
              _ro({"det": det}),
              strobes=_ro({"in": "in_valid_i", "wl": "wl_valid_i", "det": "det_valid_o"}),
              also=(detector.detect, detector.lstm_step),
              rates=_ro({"step": rate(STEP, rp, unit="step"),
                         "window": rate(WINDOW_END, rp, unit="window end")})),
    )


# Documented throughput (the RTL headers' Throughput lines), in RTL parameter names.
# lstm_detector: cycles between accepted feature vectors at full input rate: the step's MACs
# (4H/P passes of Inputs + H columns), the last pass's update (5P/4), 3 cycles of pipeline and
# drain; after the last step of a window, the head's run adds WINDOW_END.
STEP = "4 * Hidden / Lanes * (Inputs + Hidden) + 5 * Lanes / 4 + 3"
WINDOW_END = "Hidden + 2"
# lstm_head: cycles between taken starts with a start offered whenever the last one's h may
# change (busy_o low) and det_ready_i high: H terms, the score cycle, the detection's cycle.
HEAD_START = "Hidden + 3"


def stages(hidden: int = 32, lanes: int = 8,
           config: DetectorConfig | None = None) -> tuple[Stage, ...]:
    """The detector's stages in data order for ``Hidden = hidden``, ``Lanes = lanes``.

    ``config`` gives every other width (default ``DetectorConfig()``; its ``hidden`` is
    replaced by ``hidden``).
    """
    return _table(hidden, lanes, _config(hidden, config))


def stage(block: str, hidden: int = 32, lanes: int = 8,
          config: DetectorConfig | None = None) -> Stage:
    """The stage of RTL module ``block`` (``"lstm_update"``)."""
    for st in stages(hidden, lanes, config):
        if st.block == block:
            return st
    raise KeyError(f"{block!r} is not an LSTM stage ({', '.join(names())})")


def names() -> tuple[str, ...]:
    """The blocks in data order (the IP top last)."""
    return tuple(st.block for st in stages())


def words(st: Stage, *, outputs: bool = True, multi_only: bool = False) -> str:
    """A stage's port words for the docs: ``res_o 8x32 s (acc[lane 0] ..)``."""
    side = st.outputs if outputs else st.inputs
    stems = [f.port for link in side.values() for f in link.fields]
    seen: list[str] = []
    for name, link in side.items():
        for f in link.fields:
            if multi_only and f.count == 1:
                continue
            lab = ", ".join(f.labels) if f.count <= 2 else f.labels[0] + " .."
            shared = f" [{name}]" if stems.count(f.port) > 1 else ""  # lstm_act.act_o
            seen.append(f"`{st.port_name(f)}` {f.count}x{f.bits} {'s' if f.signed else 'u'} "
                        f"({lab}){shared}")
    return ", ".join(seen)


def describe(hidden: int = 32, lanes: int = 8, config: DetectorConfig | None = None
             ) -> Sequence[tuple[str, str, str, str, str]]:
    """Rows for the docs: block, instance, model function (or the note), multi-value input
    words, output words."""
    rows = []
    for st in stages(hidden, lanes, config):
        model = (f"{st.model.__module__}.{st.model.__name__}" if st.model is not None
                 else f"none: {st.note}")
        rows.append((st.block, st.inst or "(top)", model,
                     words(st, outputs=False, multi_only=True), words(st)))
    return rows


def blocks(hidden: int = 32, lanes: int = 8) -> tuple[Block, ...]:
    """The detector's blocks for the finding table (:mod:`refmodel.blocks`), its top last.

    Instances are paths inside ``lstm_detector`` (``u_update.u_act``); the top's is its
    instance in ``chip_top``.  Port words at the defaults (H = 32, P = 8).
    """
    rows = []
    for st in stages(hidden, lanes):
        model = None if st.model is None else f"{st.model.__module__}.{st.model.__name__}"
        inst = st.inst or "u_detector"
        note = st.note if st.model is None else ""
        if st.other_insts:
            note = f"also {', '.join(st.other_insts)}"
        if not st.inst:
            note = "the IP's top: the blocks above; H, P, Window are its parameters"
        rows.append(Block("lstm", st.block, inst, model, words(st), note,
                          tuple(st.rates.values())))
    return tuple(rows)
