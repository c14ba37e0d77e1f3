"""Where a scoreboard mismatch starts: passive probes on the chip's internal streams, and the
stage-by-stage comparison with the refmodel that names the first stage whose output differs.

Probes (:class:`ProbeSet`, started by the scoreboard when ``WAVES=1`` or ``MELSTM_PROBES=1``;
on Verilator the ``WAVES=1`` build makes every signal public, see ``tb/kit/runner.py``):

- the chip's audio input handshake (the samples of each frame, since the last reset);
- every front-end link of the stage table ``refmodel.mel.stages`` (``mel_framer ->
  mel_window -> ... -> mel_quant ->``; the items of the last :data:`KEEP_FRAMES` frames of
  each, cut into frames by their fixed count per frame, decoded by the table's links);
- each LSTM step (``u_seq.step_done_o``: the h and c of ``u_update`` after the step).

A hard reset (``rst_ni`` low) or a soft reset (``CTRL.SOFT_RESET``'s ``clear`` pulse) empties
them all, as it empties the chip.  Memory stays bounded: a few frames of items per link, a
few frames of samples, two windows of steps.

Localising (pure functions, unit-tested without a simulator):

- a feature mismatch of frame ``f``: the stage table's models (``refmodel.mel.stages``) run
  in order on the 400 samples the chip took for frame ``f``; each link's
  recorded items are compared with that stage's model output, in chain order.  The first
  stage whose items differ is where the values diverge (every stage before it was handed,
  and produced, exactly the model's values).  If every stage matches, the RTL computed what
  the model computes from the chip's own input, and the expectation is what differs.
- a detection mismatch of window ``w`` (its features all matched): ``refmodel.lstm.detector
  .run_fixed(trace=True)`` on the window's codes and the loaded weights gives h and c after
  every step; the first step whose h or c differs points at the step datapath (sequencer,
  PE array, gate/cell update); if every step matches, the head (score, threshold compare) or
  the window counter is what differs.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from refmodel.lstm import stages as lstm_stages
from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.detector import run_fixed
from refmodel.mel import stages as mel_stages
from refmodel.mel.config import DEFAULT as FE_CFG
from tb.kit.runner import waves_requested

KEEP_FRAMES = 8  # frames of items kept per front-end link
KEEP_SAMPLES = 4096  # input samples kept (the framer holds at most 512 ahead of a frame)


def probes_requested() -> bool:
    """Probes run in ``WAVES=1`` reruns, or when ``MELSTM_PROBES=1`` asks for them."""
    return waves_requested() or os.environ.get("MELSTM_PROBES") == "1"


# ------------------------------------------------------------------------- the stages
@dataclass(frozen=True)
class Probe:
    """One front-end stage as the probes see it: the stage table's block, instance, link
    signals (``wire``: valid, ready, then one per field, in ``mel_frontend``), items per frame
    and value labels, plus the rows of its waveform group (signal under the instance, format)."""

    name: str
    inst: str
    valid: str
    ready: str
    fields: tuple[str, ...]
    per_frame: int
    labels: tuple[str, ...]
    rows: tuple[tuple[str, str], ...]


_IO = (("in_valid_i", "bin"), ("in_ready_o", "bin"))
_OUT = (("out_valid_o", "bin"), ("out_ready_i", "bin"))
# What a waveform group shows of each stage besides its ports: the state worth seeing.
_STATE: dict[str, tuple[tuple[str, str], ...]] = {
    "mel_framer": (("idx_q", "dec"), ("avail_q", "dec")),
    "mel_window": (("idx_q", "dec"),),
    "mel_fft": (("state_q", "dec"), ("stage_q", "dec"), ("cnt_q", "dec")),
    "mel_split": (),
    "mel_power": (),
    "mel_filterbank": (("seg_q", "dec"),),
    "mel_log2": (),
    "mel_quant": (("band_q", "dec"),),
}


def _fmt(field) -> str:
    return "hex" if field.count > 1 else ("sdec" if field.signed else "dec")


def _probe(st: mel_stages.Stage) -> Probe:
    ins = tuple((f"in_{f.port}_i", _fmt(f)) for f in st.inp.fields)
    outs = tuple((f"out_{f.port}_o", _fmt(f)) for f in st.out.fields)
    return Probe(st.block, st.inst, st.wire[0], st.wire[1], st.wire[2:], st.per_frame,
                 st.out.labels, _IO + ins + _STATE[st.block] + _OUT + outs)


FRONTEND: tuple[Probe, ...] = tuple(_probe(st) for st in mel_stages.stages(FE_CFG))
STAGE_NAMES = tuple(s.name for s in FRONTEND)

# The detector's parts (instances under u_top.u_detector, from the stage table) and their
# waveform rows.
_LSTM_ROWS: dict[str, tuple[tuple[str, str], ...]] = {
    "lstm_seq": (
        ("in_valid_i", "bin"), ("in_ready_o", "bin"), ("state_q", "dec"), ("frame_q", "dec"),
        ("window_o", "dec"), ("mac_valid_o", "bin"), ("mac_first_o", "bin"),
        ("mac_last_o", "bin"), ("mac_tag_o", "dec"), ("v_o", "sdec"), ("step_done_o", "bin"),
        ("head_start_o", "bin")),
    "lstm_pe_array": (
        ("mac_valid_i", "bin"), ("mac_tag_i", "dec"), ("v_i", "sdec"), ("w_i", "hex"),
        ("res_valid_o", "bin"), ("res_tag_o", "dec"), ("res_o", "hex")),
    "lstm_update": (
        ("res_valid_i", "bin"), ("res_tag_i", "dec"), ("busy_o", "bin"), ("ph_q", "dec"),
        ("z", "sdec"), ("act", "sdec"), ("c_new", "sdec"), ("h_new", "sdec"),
        ("h_o", "hex"), ("c_o", "hex")),
    "lstm_head": (
        ("start_i", "bin"), ("ready_o", "bin"), ("busy_o", "bin"), ("window_i", "dec"),
        ("threshold_i", "dec"), ("acc_q", "sdec"), ("logit", "sdec"), ("score", "dec"),
        ("det_valid_o", "bin"), ("det_ready_i", "bin"), ("det_score_o", "dec"),
        ("det_flag_o", "bin")),
}
LSTM: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    name: (lstm_stages.stage(name).inst, rows) for name, rows in _LSTM_ROWS.items()}
LSTM_STEP = ("lstm_seq", "lstm_pe_array", "lstm_update")


def decode(stage: str, raw: Sequence[int]) -> tuple[int, ...]:
    """A link's raw field values (port order) as the stage's numbers (labels order)."""
    return mel_stages.stage(stage, FE_CFG).out.decode(raw)


def encode(stage: str, item: Sequence[int]) -> tuple[int, ...]:
    """The inverse of :func:`decode` (a link's raw field values for given numbers)."""
    return tuple(mel_stages.stage(stage, FE_CFG).out.encode(item).values())


def expected_items(samples: np.ndarray) -> dict[str, list[tuple[int, ...]]]:
    """The refmodel's output items of every front-end stage for one frame of 400 samples."""
    return mel_stages.frame_items(samples, FE_CFG)


@dataclass(frozen=True)
class StageCheck:
    """One stage's items for one frame against the model: ``bad`` items differ, the first at
    index ``first`` (moved at ``time``, simulator steps); ``missing``: fewer items recorded."""

    stage: str
    n_expected: int
    n_actual: int
    bad: int = 0
    first: int | None = None
    expected: tuple[int, ...] | None = None
    actual: tuple[int, ...] | None = None
    time: int | None = None

    @property
    def ok(self) -> bool:
        return self.bad == 0 and self.n_actual == self.n_expected

    def describe(self) -> str:
        """The first difference in words (the stage's name not included)."""
        if self.bad == 0:
            return f"{self.n_actual} of {self.n_expected} items recorded, all equal the model"
        labels = next(s.labels for s in FRONTEND if s.name == self.stage)
        diff = [f"{lab} expected {e}, actual {a}" for lab, e, a in
                zip(labels, self.expected, self.actual, strict=False) if e != a]
        if self.stage == "mel_quant":
            return "; ".join(diff[:4]) + (f" (+{len(diff) - 4} more bands)"
                                          if len(diff) > 4 else "")
        where = f"k = {self.actual[0]}" if labels[0] == "k" else (
            f"band {self.first}" if self.n_expected == FE_CFG.n_mels else "")
        return (f"item {self.first} of {self.n_expected}{f' ({where})' if where else ''} "
                f"differs first: {'; '.join(diff)}; {self.bad} of {self.n_expected} items "
                f"differ")


def compare_frontend(samples: np.ndarray,
                     recorded: dict[str, list[tuple[int, tuple[int, ...]]]]
                     ) -> list[StageCheck]:
    """Every stage's recorded items of one frame (``{stage: [(time, raw fields)]}``) against
    the model's, in chain order."""
    want = expected_items(samples)
    checks = []
    for st in FRONTEND:
        got = recorded.get(st.name, [])
        exp = want[st.name]
        bad, first, e1, a1, t1 = 0, None, None, None, None
        for i, (t, raw) in enumerate(got[:len(exp)]):
            item = decode(st.name, raw)
            if item != tuple(exp[i]):
                bad += 1
                if first is None:
                    first, e1, a1, t1 = i, tuple(exp[i]), item, t
        checks.append(StageCheck(st.name, len(exp), len(got), bad, first, e1, a1, t1))
    return checks


@dataclass
class Divergence:
    """Where the values first differ: ``stage`` ("" if nowhere in the RTL), a one-line
    ``detail``, the time of the first differing item (simulator steps), the stages found to
    match, and the waveform groups to open first."""

    stage: str
    detail: str
    time: int | None = None
    matched: list[str] = field(default_factory=list)
    open_groups: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


def localise_frame(frame: int, samples: np.ndarray | None,
                   recorded: dict[str, list[tuple[int, tuple[int, ...]]]],
                   expected_codes: np.ndarray | None = None) -> Divergence:
    """The first front-end stage whose output for ``frame`` differs from the model."""
    if samples is None:
        return Divergence("", f"frame {frame}: its input samples were not recorded "
                          f"(only the last {KEEP_SAMPLES} since the reset are kept)")
    checks = compare_frontend(samples, recorded)
    matched: list[str] = []
    notes: list[str] = []
    for c in checks:
        if c.bad:
            return Divergence(c.stage, f"frame {frame}: {c.describe()}", c.time, matched,
                              (c.stage,), notes)
        if c.n_actual == 0:
            return Divergence("", f"frame {frame}: nothing recorded on {c.stage}'s output; "
                              f"cannot say past it", None, matched, notes=notes)
        matched.append(c.stage)
        if c.n_actual < c.n_expected:
            # bins past the last mel band may still be on their way when the vector is out
            notes.append(f"{c.stage}: {c.n_actual} of {c.n_expected} items had moved")
    model = np.array(expected_items(samples)["mel_quant"][0], dtype=np.uint8)
    why = ("every stage computed exactly what the refmodel computes from the samples the "
           "chip took")
    if expected_codes is not None and not np.array_equal(model, expected_codes):
        why += ("; the scoreboard's expected codes differ from that model output: the "
                "expectation (predictor or its input samples) is what differs")
    return Divergence("", f"frame {frame}: no RTL stage diverges: {why}", None, matched,
                      notes=notes)


def localise_window(window: int, codes: np.ndarray | None, weights,
                    steps: list[tuple[int, int, int]], *, expected: tuple[int, int, bool],
                    actual: tuple[int, int, bool], threshold: int | None,
                    hidden: int) -> Divergence:
    """The first detector step (h, c), or the head, whose values for ``window`` differ.

    ``codes``: uint8 (W, 32) of the window (all matched on the feature tap); ``steps``:
    ``(time, h raw, c raw)`` of its steps in order; ``expected``/``actual``: (window, score,
    flag) of the detection."""
    cfg = DetectorConfig(hidden=hidden)
    if codes is None or weights is None:
        return Divergence("", f"window {window}: its feature codes or the weights are not "
                          f"at hand (history too short)", open_groups=LSTM_STEP)
    n = codes.shape[0]
    run = run_fixed(codes, weights, n, trace=True)
    update = lstm_stages.stage("lstm_update", hidden, config=cfg)
    h_field, c_field = update.field("h_o"), update.field("c_o")
    matched: list[str] = []
    for t, (time, h_raw, c_raw) in enumerate(steps[:n]):
        h = np.array(h_field.decode(h_raw), np.int64)
        c = np.array(c_field.decode(c_raw), np.int64)
        for name, got, want in (("h", h, run.h[0, t]), ("c", c, run.c[0, t])):
            bad = np.flatnonzero(got != want)
            if bad.size:
                j = int(bad[0])
                before = f"steps 0..{t - 1} match" if t else "it is the window's first step"
                return Divergence(
                    "lstm_detector step",
                    f"window {window}, step {t} of {n}: {name}[{j}] expected {int(want[j])}, "
                    f"actual {int(got[j])} ({bad.size} of {hidden} units differ); {before}; "
                    f"look in the sequencer, PE array or gate/cell update",
                    time, [f"steps 0..{t - 1}"] if t else [], LSTM_STEP)
    if len(steps) < n:
        return Divergence("", f"window {window}: only {len(steps)} of {n} steps recorded, "
                          f"all equal to the model", open_groups=LSTM_STEP)
    matched.append(f"all {n} steps (h, c)")
    score = int(run.score_int[0])
    flag = None if threshold is None else score >= threshold
    a_win, a_score, a_flag = actual
    if a_score != score:
        return Divergence("lstm_head", f"window {window}: every step's h and c match; the "
                          f"head's score is {a_score}, the model's {score}", None, matched,
                          ("lstm_head",))
    if flag is not None and bool(a_flag) != flag:
        return Divergence("lstm_head", f"window {window}: the score {score} matches; the "
                          f"flag is {int(a_flag)}, score >= threshold {threshold} gives "
                          f"{int(flag)}", None, matched, ("lstm_head",))
    if a_win != window:
        return Divergence("lstm_seq", f"window index {a_win} where {window} was due: the "
                          f"values match, the window counter does not", None, matched,
                          ("lstm_seq", "lstm_head"))
    return Divergence("", f"window {window}: the RTL's steps, score and flag equal the "
                      f"refmodel's on these codes and weights; the expectation "
                      f"{expected} is what differs", None, matched, ())


# ------------------------------------------------------------------------ simulator side
class _Link:
    """Bounded record of one link: the items of its last frames."""

    def __init__(self, per_frame: int):
        self.per_frame = per_frame
        self.frames: deque[tuple[int, list]] = deque(maxlen=KEEP_FRAMES)
        self.clear()

    def clear(self) -> None:
        self.frames.clear()
        self.current: list = []
        self.count = 0  # frames completed since the reset

    def add(self, time: int, raw: tuple[int, ...]) -> None:
        self.current.append((time, raw))
        if len(self.current) == self.per_frame:
            self.frames.append((self.count, self.current))
            self.current = []
            self.count += 1

    def frame(self, index: int) -> list:
        for k, items in self.frames:
            if k == index:
                return items
        return list(self.current) if index == self.count else []


class ProbeSet:
    """The probes of one ``chip_tb`` run (see the module docstring); :meth:`run` forever."""

    def __init__(self, dut, *, hidden: int, window: int):
        top = dut.u_top
        fe = top.u_frontend
        self.dut, self.hidden, self.window = dut, hidden, window
        self.clk, self.rst_n, self.clear_pulse = dut.clk_i, dut.rst_ni, top.u_regs.clear_o
        self.audio = (top.audio_valid_i, top.audio_ready_o, top.audio_sample_i)
        self.links = {st.name: (getattr(fe, st.valid), getattr(fe, st.ready),
                                tuple(getattr(fe, f) for f in st.fields))
                      for st in FRONTEND}
        det = top.u_detector
        self.step_done, self.h, self.c = det.u_seq.step_done_o, det.u_update.h_o, \
            det.u_update.c_o
        self.generation = 0  # counts resets: an item sampled before one is dropped
        self.samples: deque[int] = deque(maxlen=KEEP_SAMPLES)
        self.sample_times: deque[int] = deque(maxlen=KEEP_SAMPLES)
        self.n_samples = 0  # since the reset
        self.recs = {st.name: _Link(st.per_frame) for st in FRONTEND}
        self.steps: deque[tuple[int, int, int, int]] = deque(maxlen=2 * window)
        self.n_steps = 0

    # ---- reset
    def _reset(self) -> None:
        self.generation += 1
        self.samples.clear()
        self.sample_times.clear()
        self.n_samples = 0
        for r in self.recs.values():
            r.clear()
        self.steps.clear()
        self.n_steps = 0

    def _in_reset(self) -> bool:
        return self.rst_n.value != 1 or self.clear_pulse.value == 1

    async def _watch_resets(self) -> None:
        import cocotb
        from cocotb.triggers import FallingEdge, RisingEdge

        async def watch(edge):
            while True:
                await edge()
                self._reset()

        cocotb.start_soon(watch(lambda: FallingEdge(self.rst_n)))
        await watch(lambda: RisingEdge(self.clear_pulse))

    # ---- links
    async def _link(self, valid, ready, data, add) -> None:
        from cocotb.triggers import ReadOnly, RisingEdge
        from cocotb.utils import get_sim_time

        clk = self.clk
        while True:
            await ReadOnly()
            if valid.value != 1:
                await RisingEdge(valid)
                continue
            if ready.value != 1:
                await RisingEdge(ready)
                continue
            gen = self.generation
            keep = not self._in_reset()
            raw = tuple(int(h.value) if h.value.is_resolvable else -1 for h in data)
            t = get_sim_time("step")
            await RisingEdge(clk)  # the transfer edge
            if keep and gen == self.generation:
                add(t, raw)

    def _add_sample(self, t: int, raw: tuple[int, ...]) -> None:
        v = raw[0]
        self.samples.append(v - (1 << 16) if v >> 15 else v)
        self.sample_times.append(t)
        self.n_samples += 1

    async def _watch_steps(self) -> None:
        from cocotb.triggers import ReadOnly, RisingEdge
        from cocotb.utils import get_sim_time

        while True:
            await RisingEdge(self.step_done)
            await ReadOnly()
            if self._in_reset():
                continue
            h, c = self.h.value, self.c.value
            self.steps.append((self.n_steps, get_sim_time("step"),
                               int(h) if h.is_resolvable else -1,
                               int(c) if c.is_resolvable else -1))
            self.n_steps += 1

    async def run(self) -> None:
        import cocotb

        valid, ready, sample = self.audio
        cocotb.start_soon(self._link(valid, ready, (sample,), self._add_sample))
        for name, (v, r, data) in self.links.items():
            cocotb.start_soon(self._link(v, r, data, self.recs[name].add))
        cocotb.start_soon(self._watch_steps())
        await self._watch_resets()

    # ---- queries
    def frame_samples(self, frame: int) -> tuple[np.ndarray | None, int | None]:
        """The 400 samples of ``frame`` (since the reset) and when its last one was taken."""
        lo = frame * FE_CFG.hop
        first = self.n_samples - len(self.samples)  # index of the oldest sample kept
        if lo < first or lo + FE_CFG.frame_len > self.n_samples:
            return None, None
        sl = range(lo - first, lo - first + FE_CFG.frame_len)
        x = np.array([self.samples[i] for i in sl], dtype=np.int16)
        return x, self.sample_times[sl[-1]]

    def frame_items(self, frame: int) -> dict[str, list]:
        return {name: rec.frame(frame) for name, rec in self.recs.items()}

    def window_steps(self, window: int) -> list[tuple[int, int, int]]:
        lo = window * self.window
        return [(t, h, c) for k, t, h, c in self.steps if lo <= k < lo + self.window]


def start_probes(dut, *, hidden: int, window: int, log: logging.Logger) -> ProbeSet | None:
    """A :class:`ProbeSet` on ``dut``, or None (logged) when the internal signals cannot be
    reached (a Verilator build without them public: only ``WAVES=1`` builds have them)."""
    try:
        return ProbeSet(dut, hidden=hidden, window=window)
    except AttributeError as exc:
        log.warning("stage probes unavailable (%s): this build does not expose the internal "
                    "signals; a WAVES=1 rerun does", exc)
        return None
