"""RTL view of the LSTM detector: generated constants and the weight load port's address map.

``python -m refmodel.rtlgen`` writes, from :class:`DetectorConfig` defaults (never hand-typed):

* ``rtl/lstm/gen/lstm_pkg.sv``: every width, fraction length, shift and table size of the
  datapath as ``localparam int``.  ``Hidden``, ``Lanes`` and ``Window`` are *not* in it: they
  are module parameters of ``lstm_detector`` (none of the numbers in the package depends on them).
* ``rtl/lstm/gen/lstm_act_rom.sv``: the sigmoid knot ROM of ``refmodel.lstm.act.act_table``.

Weight load port (``lstm_detector.wl_*``, ``docs/fixed_point_detector.md`` section 12): one flat
word address space, independent of the lane count P so that software never needs to know P::

    [0, NW)               W[gate*H + unit, col] at col*4H + 4*unit + gate   (NW = 4H*(32+H))
                          col 0..31 = W_ih, 32..32+H-1 = W_hh; data bits [7:0], int8
    [NW, NW+4H)           gate bias b[gate*H + unit] at NW + 4*unit + gate; data int16
    [NW+4H, NW+5H)        w_out[unit] at NW + 4H + unit; data bits [7:0], int8
    NW+5H                 b_out; data int16
    >= NW+5H+1            out of range: refused (wl_err_o), nothing changes

``4*unit + gate`` is the hardware row order of ``refmodel.lstm.mem``, so the hardware
decodes a weight address with shifts only: ``r_hw = addr mod 4H`` (lane ``r_hw mod P``, pass
``r_hw div P``), ``col = addr div 4H``; lane RAM address ``pass*(32+H) + col``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from refmodel import rtlgen
from refmodel.chip import regs
from refmodel.fixed import to_signed, to_unsigned
from refmodel.lstm.act import act_table
from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.mem import (
    GATES,
    KIND_B,
    KIND_BOUT,
    KIND_W,
    KIND_WOUT,
    check_lanes,
    layout,
)
from refmodel.lstm.weights import DetectorWeights

SOURCE = "refmodel/lstm/rtl.py"

# DetectorConfig fields that are module parameters of the RTL, not package constants.
_MODULE_PARAMS = ("hidden", "window")
_DERIVED = {
    "code_offset": "x_int = q - CodeOffset",
    "vec_frac": "fraction bits of the PE vector word [x ; h]",
    "x_shift": "x_int << XShift is the vector word of x",
    "acc_frac": "fraction bits of the gate accumulator",
    "bias_shift": "gate bias << BiasShift = accumulator initial value",
    "z_shift": "z = round_sat(acc, ZShift, ZBits)",
    "act_segments": "interpolation segments of the activation table",
    "act_frac_bits": "in-segment offset width (interpolation multiplier)",
    "act_sat": "|u| >= ActSat saturates the sigmoid",
    "sig_one": "1.0 in UQ0.ActOutBits (not representable)",
    "sig_max": "largest sigmoid code",
    "tanh_frac": "tanh code = sigmoid(2u) - 2**TanhFrac, Q0.TanhFrac",
    "cell_frac": "fraction bits of the exact cell sum",
    "fc_align": "f*c << FcAlign aligns to the cell sum",
    "ig_align": "i*g << IgAlign aligns to the cell sum",
    "c_shift": "c = round_sat(sum, CShift, CBits)",
    "tanh_in_shift": "tanh input = round_sat(c, TanhInShift, ZBits)",
    "h_shift": "h = round_sat(o*t, HShift, HBits)",
    "head_acc_frac": "fraction bits of the head accumulator",
    "bout_shift": "b_out << BoutShift = head accumulator initial value",
    "head_z_shift": "logit = round_sat(acc, HeadZShift, ZBits)",
    "score_bits": "score width, UQ0.ScoreBits",
}


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


def package_params(config: DetectorConfig | None = None) -> dict[str, tuple[int, str]]:
    """``{Name: (value, comment)}`` of ``lstm_pkg``: config fields (minus H, window), derived."""
    cfg = config or DetectorConfig()
    out: dict[str, tuple[int, str]] = {}
    for key, value in cfg.__dict__.items():
        if key not in _MODULE_PARAMS:
            out[_camel(key)] = (int(value), f"DetectorConfig.{key}")
    for key, doc in _DERIVED.items():
        out[_camel(key)] = (int(getattr(cfg, key)), doc)
    depth = cfg.act_segments + 1
    out["ActRomDepth"] = (depth, "sigmoid knot ROM words (lstm_act_rom)")
    out["ActRomAddrBits"] = (max(1, (depth - 1).bit_length()), "lstm_act_rom address width")
    out["WlAddrBits"] = (regs.field("WLOAD_ADDR", "ADDR").width,
                         "weight load port address width (regmap WLOAD_ADDR.ADDR)")
    out["WlDataBits"] = (regs.field("WLOAD_DATA", "DATA").width,
                         "weight load port data width (regmap WLOAD_DATA.DATA)")
    return out


# The sizes that depend on the module parameters H and P (refmodel.lstm.mem.check_lanes and
# the memory layout of docs/fixed_point_detector.md section 8), computed once for every module.
PACKAGE_FUNCTIONS = f"""\
  // PE-array passes per LSTM step: {GATES} gate rows per unit, `lanes` rows per pass.
  function automatic int unsigned n_pass(int unsigned hidden, int unsigned lanes);
    return {GATES} * hidden / lanes;
  endfunction
  // Words of one lane's weight RAM: a column of [W_ih | W_hh] per pass.
  function automatic int unsigned w_depth(int unsigned hidden, int unsigned lanes);
    return n_pass(hidden, lanes) * (Inputs + hidden);
  endfunction
"""


@rtlgen.register
def _generated() -> dict[str, str]:
    cfg = DetectorConfig()
    pkg = rtlgen.sv_package(name="lstm_pkg", params=package_params(cfg), source=SOURCE,
                            purpose="fixed-point widths, shifts and table sizes of the LSTM "
                                    "detector (DetectorConfig; H, P, window are module "
                                    "parameters)", functions=PACKAGE_FUNCTIONS)
    rom = rtlgen.sv_rom(name="lstm_act_rom", values=act_table(cfg), width=cfg.act_out_bits,
                        purpose=f"sigmoid knots T[k] = sigmoid(k*2^{cfg.act_range_log2}/"
                                f"{cfg.act_segments}) for the activation unit lstm_act",
                        source=SOURCE, value_format=f"unsigned UQ0.{cfg.act_out_bits}")
    return {"lstm_pkg.sv": pkg, "lstm_act_rom.sv": rom}


# ---------------------------------------------------------------------- load port map
@dataclass(frozen=True)
class LoadMap:
    """Region bases of the weight load port's flat word address space (P-independent).

    Attributes:
        w_base: 0, gate weights (``n_w = 4H*(32+H)`` words).
        b_base: gate biases (4H words).
        wout_base: head weights (H words).
        bout_addr: head bias (one word).
        size: number of valid addresses (``bout_addr + 1``).
    """

    w_base: int
    b_base: int
    wout_base: int
    bout_addr: int
    size: int


def load_map(config: DetectorConfig) -> LoadMap:
    """The load port's address regions for ``config`` (H from ``config.hidden``)."""
    n_w = config.gates * config.cols
    b_base = n_w
    wout_base = b_base + config.gates
    bout = wout_base + config.hidden
    size = bout + 1
    if size > 1 << regs.field("WLOAD_ADDR", "ADDR").width:
        raise ValueError(f"load map of H={config.hidden} needs {size} words, more than the "
                         f"load port address holds")
    return LoadMap(w_base=0, b_base=b_base, wout_base=wout_base, bout_addr=bout, size=size)


def load_writes(weights: DetectorWeights) -> list[tuple[int, int]]:
    """Every (address, data) write of the load port for ``weights``, from ``detector_mem.layout``.

    Data words are 16-bit two's-complement patterns (int8 values sign-extended); the order is
    the layout's (weights, gate biases, w_out, b_out).
    """
    cfg = weights.config
    m = load_map(cfg)
    lay = layout(weights, 4)  # the load map does not depend on P; any legal P gives it
    kind = lay["kind"].astype(np.int64)
    gate = lay["gate"].astype(np.int64)
    unit = lay["unit"].astype(np.int64)
    col = lay["col"].astype(np.int64)
    r_hw = 4 * unit + gate
    addr = np.select(
        [kind == KIND_W, kind == KIND_B, kind == KIND_WOUT, kind == KIND_BOUT],
        [m.w_base + col * cfg.gates + r_hw, m.b_base + r_hw, m.wout_base + unit,
         np.full_like(kind, m.bout_addr)])
    data = to_unsigned(lay["value"].astype(np.int64), regs.field("WLOAD_DATA", "DATA").width)
    return list(zip(addr.tolist(), data.tolist(), strict=True))


def decode_load_addr(addr: int, lanes: int, config: DetectorConfig) -> tuple[str, int, int]:
    """What the RTL does with a load-port address: ``(target, lane, address in that memory)``.

    ``target`` is ``"w"`` (lane weight RAM), ``"b"`` (lane bias RAM), ``"w_out"``, ``"b_out"``
    or ``"error"`` (out of range; lane and address are -1).  Head targets have lane -1.
    """
    lanes = check_lanes(lanes, config)
    m = load_map(config)
    g = config.gates
    if 0 <= addr < m.b_base:
        r_hw, col = addr % g, addr // g
        return "w", r_hw % lanes, (r_hw // lanes) * config.cols + col
    if m.b_base <= addr < m.wout_base:
        r_hw = addr - m.b_base
        return "b", r_hw % lanes, r_hw // lanes
    if m.wout_base <= addr < m.bout_addr:
        return "w_out", -1, addr - m.wout_base
    if addr == m.bout_addr:
        return "b_out", -1, 0
    return "error", -1, -1


def load_words(weights: DetectorWeights) -> list[int]:
    """The load port's words in address order 0..size-1 (for WLOAD_ADDR=0 + auto-increment)."""
    m = load_map(weights.config)
    words = [-1] * m.size
    for addr, data in load_writes(weights):
        words[addr] = data
    if -1 in words:
        raise AssertionError(f"load map hole at address {words.index(-1)}")
    return words


def weights_from_load_image(image: dict[int, int], *, hidden: int,
                            config: DetectorConfig | None = None) -> DetectorWeights:
    """The weights a detector holds after the load-port writes ``image`` (address -> word).

    The inverse of :func:`load_writes`: what the predictor of the top-level test bench uses to
    follow weight reprogramming through the register interface.  Raises ``ValueError`` naming
    the first address never written (the chip would compute with unknown weights).
    """
    cfg = config or DetectorConfig(hidden=hidden)
    if cfg.hidden != hidden:
        cfg = DetectorConfig(**{**asdict(cfg), "hidden": hidden})
    m = load_map(cfg)
    missing = next((a for a in range(m.size) if a not in image), None)
    if missing is not None:
        raise ValueError(f"weight load image has no word at address {missing} "
                         f"(of {m.size}): weights incomplete")
    words = np.array([image[a] for a in range(m.size)], dtype=np.int64)
    g, n, h = cfg.gates, cfg.inputs, cfg.hidden

    def signed(x: np.ndarray, bits: int) -> np.ndarray:
        return to_signed(x, 16) if bits > 8 else to_signed(x & 0xFF, 8)

    w_hw = signed(words[m.w_base:m.b_base], 8).reshape(cfg.cols, g)  # [col, r_hw]
    r_hw = np.arange(g)
    row = (r_hw % 4) * h + r_hw // 4  # r_hw = 4*unit + gate -> gate*H + unit
    w = np.empty((g, cfg.cols), dtype=np.int64)
    w[row, :] = w_hw.T
    b = np.empty(g, dtype=np.int64)
    b[row] = signed(words[m.b_base:m.wout_base], 16)
    return DetectorWeights(
        config=cfg,
        w_ih_q=w[:, :n].astype(np.int8), w_hh_q=w[:, n:].astype(np.int8),
        b_q=b.astype(np.int16),
        w_out_q=signed(words[m.wout_base:m.bout_addr], 8).astype(np.int8),
        b_out_q=np.array(signed(words[m.bout_addr:m.bout_addr + 1], 16)[0], dtype=np.int16),
        note="decoded from a load-port image")
