"""The functional coverage model of the chip: cover groups, their bins, sampling and export.

Library: cocotb-coverage (2.0).  Chosen over pyvsc because it is pure Python on top of
cocotb 2.x (pyvsc drags in a native SMT solver for its randomisation, which this environment
does not use), its cover points are plain decorated functions a pyuvm subscriber can call,
and it exports and merges its database as YAML (``export_to_yaml`` / ``merge_coverage``),
which the sign-off report reads.

Groups (names are the keys of the merged database and of ``docs/testplan.yml``):

``melstm.features.bandNN``   code of mel band NN in every feature vector: 0, low (1..84),
                             mid (85..169), high (170..254), 255
``melstm.detection.*``       score quartile, flag, their cross, and the score's margin to the
                             threshold in force (far/near below, equal, near/far above)
``melstm.stimulus.*``        input gap lengths (idle cycles before a sample) and output
                             backpressure runs (cycles a detection waited for ready)
``melstm.reset.kind_phase``  hard or soft reset while idle, mid-frame or mid-window
``melstm.registers.access``  every register read and written, legal and refused
``melstm.config.lanes_hidden`` every (P, H) configuration of the LSTM array that ran
``melstm.timing.*``          samples arriving in the cycle of each chip event (a frame
                             released, a window ended, the soft-reset clear, a register write)
                             and a window ending while a detection is held off; every input
                             pacing period bucket (cycles per sample)
``melstm.links.stalled``     each link of the chip (audio in, every front-end stage output,
                             the features into the detector, the detections out) seen with
                             valid high and ready low (chip-level view; the block tests have
                             their own)
``melstm.block_links.*``     the block tests' links: each output stalled while valid, each
                             input fed after gaps and held by its block (``tb/kit/linkcov.py``)

Each simulation process exports its database to ``$MELSTM_FUNCOV_FILE`` (set by the runner
when ``COV=1``); ``tb.flow.signoff.report`` merges them.  Importing this module defines every
item, so every export lists every bin (unhit ones with 0 hits) and holes are visible.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from cocotb_coverage import coverage as cv

from refmodel.chip import regs
from refmodel.mel.config import DEFAULT as FE_CFG

ROOT_NAME = "melstm"
BANDS = FE_CFG.n_mels
CODE_MAX = FE_CFG.code_max

# ------------------------------------------------------------------------ bin definitions
# events of the chip harness (tb/chip/chip_tb.sv, Events), in its order
EVENT_BINS = ("frame release", "window end", "soft-reset clear", "register write")
PACE_BINS = {"1": (1, 1), "2-3": (2, 3), "4-7": (4, 7), "8-15": (8, 15), "16-31": (16, 31),
             "32-40": (32, 40)}


def link_bins() -> tuple[str, ...]:
    """The chip's links in data order, ``<from> -> <to>`` (the front end's from its stage
    table; the order of ``stalled_o`` in tb/chip/chip_tb.sv)."""
    from refmodel.mel.stages import stages

    names = ["audio in"] + [s.block for s in stages()] + ["lstm_detector", "detection out"]
    return tuple(f"{a} -> {b}" for a, b in zip(names, names[1:], strict=False))


LINK_BINS = link_bins()
CODE_BINS = {"0": (0, 0), "low": (1, 84), "mid": (85, 169), "high": (170, CODE_MAX - 1),
             str(CODE_MAX): (CODE_MAX, CODE_MAX)}
SCORE_BINS = ("q0 [0, 0.25)", "q1 [0.25, 0.5)", "q2 [0.5, 0.75)", "q3 [0.75, 1)")
NEAR = 256  # "near" the threshold: within 256 LSB of UQ0.16 (1/256)
MARGIN_BINS = ("far below", "near below", "equal", "near above", "far above")
GAP_BINS = {"0": (0, 0), "1": (1, 1), "2-3": (2, 3), "4-7": (4, 7), "8-15": (8, 15)}
STALL_BINS = {"0": (0, 0), "1-15": (1, 15), "16-255": (16, 255), "256-4095": (256, 4095),
              ">=4096": (4096, 1 << 62)}
RESET_KINDS = ("hard", "soft")
RESET_PHASES = ("idle", "mid-frame", "mid-window")
# The LSTM configurations the chip is specified for (SPEC: P in 4..16, H in 16..64).
LANES = (4, 8, 16)
HIDDEN = (16, 32, 64)


def register_bins() -> list[str]:
    """Every register access the map allows or refuses, named ``<REG> <access> <outcome>``."""
    out = []
    for r in regs.REGISTERS:
        out.append(f"{r.name} read ok")
        if r.access == "ro":
            out.append(f"{r.name} write refused (RO_WRITE)")
        else:
            out.append(f"{r.name} write ok")
    out += ["WLOAD_DATA write refused (WLOAD_BUSY)", "WLOAD_DATA write refused (WLOAD_RANGE)"]
    out += [f"{where} {rw} refused (BAD_ADDR)" for where in ("unmapped", "misaligned")
            for rw in ("read", "write")]
    return out


REGISTER_BINS = tuple(register_bins())


# ------------------------------------------------------------------------ cover items
def _band_point(b: int):
    @cv.CoverPoint(f"{ROOT_NAME}.features.band{b:02d}", xf=lambda codes: int(codes[b]),
                   bins=list(CODE_BINS), rel=lambda v, name: CODE_BINS[name][0] <= v
                   <= CODE_BINS[name][1])
    def sample(codes):
        pass

    return sample


_BAND_SAMPLERS = [_band_point(b) for b in range(BANDS)]


@cv.CoverPoint(f"{ROOT_NAME}.detection.score", xf=lambda s, f, t: min(s >> 14, 3),
               bins=list(range(4)), bins_labels=list(SCORE_BINS))
@cv.CoverPoint(f"{ROOT_NAME}.detection.flag", xf=lambda s, f, t: int(f), bins=[0, 1])
@cv.CoverCross(f"{ROOT_NAME}.detection.score_x_flag",
               items=[f"{ROOT_NAME}.detection.score", f"{ROOT_NAME}.detection.flag"])
@cv.CoverPoint(f"{ROOT_NAME}.detection.margin", xf=lambda s, f, t: margin_bin(s - t),
               bins=list(MARGIN_BINS))
def _sample_detection(score: int, flag: bool, threshold: int):
    pass


def margin_bin(diff: int) -> str:
    """score - threshold (UQ0.16 LSB) as a margin bin name."""
    if diff == 0:
        return "equal"
    if abs(diff) <= NEAR:
        return "near above" if diff > 0 else "near below"
    return "far above" if diff > 0 else "far below"


@cv.CoverPoint(f"{ROOT_NAME}.stimulus.input_gap", xf=lambda g: g, bins=list(GAP_BINS),
               rel=lambda g, name: GAP_BINS[name][0] <= g <= GAP_BINS[name][1])
def _sample_gap(gap: int):
    pass


@cv.CoverPoint(f"{ROOT_NAME}.stimulus.output_backpressure", xf=lambda n: n,
               bins=list(STALL_BINS),
               rel=lambda n, name: STALL_BINS[name][0] <= n <= STALL_BINS[name][1])
def _sample_stall(cycles: int):
    pass


# one reset may be both mid-frame and mid-window: every phase it is in is a hit (inj=False)
@cv.CoverPoint(f"{ROOT_NAME}.reset.kind_phase", xf=lambda kind, phases: (kind, phases),
               bins=[f"{k} {p}" for k in RESET_KINDS for p in RESET_PHASES],
               rel=lambda v, name: name == f"{v[0]} {name.split(' ', 1)[1]}"
               and name.split(" ", 1)[1] in v[1], inj=False)
def _sample_reset(kind: str, phases: frozenset[str]):
    pass


@cv.CoverPoint(f"{ROOT_NAME}.registers.access", xf=lambda name: name, bins=list(REGISTER_BINS))
def _sample_register(name: str):
    pass


@cv.CoverPoint(f"{ROOT_NAME}.config.lanes_hidden", xf=lambda p, h: f"P={p} H={h}",
               bins=[f"P={p} H={h}" for p in LANES for h in HIDDEN])
def _sample_config(lanes: int, hidden: int):
    pass


@cv.CoverPoint(f"{ROOT_NAME}.timing.sample_in_event_cycle", xf=lambda name: name,
               bins=list(EVENT_BINS))
def _sample_event(name: str):
    pass


@cv.CoverPoint(f"{ROOT_NAME}.timing.det_held_window_end", xf=lambda hit: hit,
               bins=["window ended while a detection was held off"])
def _sample_held(name: str):
    pass


@cv.CoverPoint(f"{ROOT_NAME}.timing.pacing", xf=lambda p: p, bins=list(PACE_BINS),
               rel=lambda p, name: PACE_BINS[name][0] <= p <= PACE_BINS[name][1])
def _sample_pace(pace: int):
    pass


@cv.CoverPoint(f"{ROOT_NAME}.links.stalled", xf=lambda name: name, bins=list(LINK_BINS))
def _sample_link(name: str):
    pass


# ------------------------------------------------------------------------ sampling API
def sample_feature_block(codes: np.ndarray) -> None:
    """A block of feature vectors (uint8 (n, BANDS)): one hit per band and code bin present
    in the block (32 cover points per block, not per vector)."""
    codes = np.asarray(codes)
    if codes.size == 0:
        return
    bins = list(CODE_BINS.values())
    # present[k, b]: some vector of the block has band b's code in bin k (one numpy pass)
    which = np.searchsorted([lo for lo, _ in bins], codes, side="right") - 1  # (n, BANDS)
    present = np.zeros((len(bins), codes.shape[1]), dtype=bool)
    present[which, np.arange(codes.shape[1])] = True
    for k, b in zip(*np.nonzero(present), strict=True):
        values = [0] * BANDS
        values[b] = bins[k][0]
        _BAND_SAMPLERS[b](tuple(values))


def sample_detection(score: int, flag: bool, threshold: int) -> None:
    """One detection and the threshold it was compared with (both UQ0.16 / UQ1.16 LSB)."""
    _sample_detection(int(score), bool(flag), int(threshold))


def sample_gaps(gaps: np.ndarray) -> None:
    """The idle gaps of one block of samples: one hit per gap bin present in the block."""
    values = np.asarray(gaps, dtype=np.int64)
    if values.size == 0:
        return
    for lo, hi in GAP_BINS.values():
        if np.any((values >= lo) & (values <= hi)):
            _sample_gap(lo)
    if np.any(values > max(hi for _, hi in GAP_BINS.values())):
        raise ValueError(f"input gap {int(values.max())} is outside every gap bin")


def sample_backpressure(cycles: int) -> None:
    """Cycles one detection was valid with ready low before it was taken."""
    _sample_stall(int(cycles))


def sample_reset(kind: str, phases: frozenset[str]) -> None:
    """A reset of ``kind`` (hard/soft) that found the chip in ``phases`` (empty: idle)."""
    if kind not in RESET_KINDS:
        raise ValueError(f"reset kind {kind!r} is not one of {RESET_KINDS}")
    _sample_reset(kind, frozenset(phases) or frozenset({"idle"}))


def sample_register(name: str) -> None:
    """One register access, named as in :data:`REGISTER_BINS`."""
    if name not in REGISTER_BINS:
        raise ValueError(f"register access {name!r} has no coverage bin")
    _sample_register(name)


def sample_config(lanes: int, hidden: int) -> None:
    _sample_config(int(lanes), int(hidden))


def sample_timing(*, event_hits: dict[str, int], held: bool, paces: list[int]) -> None:
    """A top-level run's timing corners: samples taken in each event's cycle
    (:data:`EVENT_BINS` -> count), whether a window ended while a detection was held off,
    and the pacing (cycles per sample) of every paced block."""
    for name, hits in event_hits.items():
        if name not in EVENT_BINS:
            raise ValueError(f"event {name!r} has no coverage bin")
        if hits:
            _sample_event(name)
    if held:
        _sample_held("window ended while a detection was held off")
    for p in sorted(set(paces)):
        if not any(lo <= p <= hi for lo, hi in PACE_BINS.values()):
            raise ValueError(f"pacing {p} cycles per sample is outside every pacing bin")
        _sample_pace(int(p))


def sample_links(stalled: list[str]) -> None:
    """The links (:data:`LINK_BINS`) seen stalled while valid in a run."""
    for name in stalled:
        if name not in LINK_BINS:
            raise ValueError(f"link {name!r} has no coverage bin")
        _sample_link(name)


def export(path: str | Path | None = None) -> Path | None:
    """Write this process's coverage database (YAML) to ``path`` or ``$MELSTM_FUNCOV_FILE``;
    nothing when neither is set (coverage off)."""
    target = path or os.environ.get("MELSTM_FUNCOV_FILE")
    if not target:
        return None
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    cv.coverage_db.export_to_yaml(str(target))
    return target


# The block tests' flow-control groups, defined here too so that every export lists their bins.
from tb.kit import linkcov  # noqa: E402, F401
