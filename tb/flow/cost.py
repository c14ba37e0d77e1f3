"""`make cost`: the cost of a hop and of a detection, per block, from the cost model
(:mod:`refmodel.cost`), checked against counters in the RTL, with switching activity.

    python -m tb.flow.cost [--configs 32x8,32x4,16x4] [--window 198] [--no-toggles]
                           [--audio vectors/speech_noise_16k.wav] [--out docs/cost.md]
    (SIM=icarus|verilator: the simulator of the counter runs; the toggle run is Verilator's)

1. **Model**: :func:`refmodel.cost.chip` for every configuration ``HxP``.
2. **Counters**: ``tb/flow/cost/cost_tb.sv`` runs ``chip_top`` (weights loaded through the
   configuration port, then one whole window of audio, samples offered every cycle) and counts
   every event the model predicts from the design's own signals (handshakes, the FFT's
   butterfly issue, memory enables, the PE array's MAC enable, the update unit's activation
   cycles, busy states).  Each counter must equal the model's count for that run
   (:meth:`refmodel.cost.Chip.first_window`); any difference fails the run (exit status 1).
3. **Toggles**: the default configuration built with Verilator toggle coverage (every bit of
   every design signal, no width limit, one instance at a time) over one detection window of
   a real recording; the toggles are summed per block instance.
4. **Report**: ``docs/cost.md`` (generated, committed), with ``results/synth/report.json``
   (multipliers per block, cells) and ``results/clock/clock.json`` (lowest real-time clock)
   when they exist; otherwise it names the command that makes them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from refmodel import audio as audio_io
from refmodel import cost
from refmodel.chip import regs
from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.rtl import load_words
from refmodel.lstm.weights import DetectorWeights
from tb.kit import runner
from tb.kit.runner import ROOT

HARNESS = "tb/flow/cost/cost_tb.sv"
RESULTS = runner.RESULTS / "cost"
DOC = ROOT / "docs" / "cost.md"
SYNTH_JSON = runner.RESULTS / "synth" / "report.json"
CLOCK_JSON = runner.RESULTS / "clock" / "clock.json"
DEFAULT_AUDIO = ROOT / "vectors" / "speech_noise_16k.wav"
MUSIC_WEIGHTS = ROOT / "vectors" / "detector_weights_music_h32.npz"
# Simulation-only RTL (stream protocol checkers) is not counted for switching activity.
SIM_ONLY = ("prim/prim_stream_check.sv",)


class CostError(RuntimeError):
    """The model and the counters disagree, or an input is unusable."""


# ---------------------------------------------------------------------------- simulation
def _weights(hidden: int) -> tuple[DetectorWeights, str]:
    if hidden == 32 and MUSIC_WEIGHTS.is_file():
        return DetectorWeights.load(MUSIC_WEIGHTS), MUSIC_WEIGHTS.relative_to(ROOT).as_posix()
    return (DetectorWeights.random(seed=0, hidden=hidden),
            f"DetectorWeights.random(seed=0, hidden={hidden})")


def _hex(path: Path, words: Sequence[int]) -> Path:
    path.write_text("".join(f"{w & 0xFFFF:04x}\n" for w in words))
    return path


def simulate(model: cost.Chip, samples: np.ndarray, *, tag: str,
             toggles: bool = False) -> tuple[dict[str, int], Path | None]:
    """Run the counting harness on ``samples`` (int16, one first window) with the model's
    configuration; returns the counters ``{model key: count}`` and, with ``toggles``, the
    ``coverage.dat`` of a Verilator toggle-coverage build."""
    run = model.first_window()
    if len(samples) != run.samples:
        raise CostError(f"{tag}: {len(samples)} samples, the first window needs {run.samples}")
    out = RESULTS / tag
    out.mkdir(parents=True, exist_ok=True)
    weights, _ = _weights(model.hidden)
    words = load_words(weights.with_config(model.det))
    wfile = _hex(out / "weights.hex", words)
    afile = _hex(out / "audio.hex", [int(s) for s in samples])
    counts_file = out / "counts.json"
    counts_file.unlink(missing_ok=True)
    det = model.counts(model.detection())
    bound = 4 * (len(words) + run.samples + sum(c.cycles for c in det) + 10_000)
    params = {"Hidden": model.hidden, "Lanes": model.lanes, "Window": model.window,
              "MaxWords": max(len(words), 1), "MaxSamples": run.samples,
              "CtrlAddr": regs.offset("CTRL"), "WdataAddr": regs.offset("WLOAD_DATA")}
    vargs: list[str] = []
    plusargs = [f"+weights={wfile}", f"+audio={afile}"]
    if toggles:
        off = [ROOT / HARNESS, *runner.rtl_sources(SIM_ONLY)]
        vlt = out / "toggle-off.vlt"
        vlt.write_text("`verilator_config\n" + "".join(f'coverage_off -file "{f}"\n' for f in off))
        vargs = ["--coverage-toggle", "--coverage-max-width", "100000", str(vlt)]
        plusargs.append("--coverage-per-instance")  # cocotb's Verilator main: per instance
        params["Toggles"] = 1  # a parameter the harness ignores: the coverage build's own folder
    saved = os.environ.get("PYTEST_CURRENT_TEST")
    os.environ["PYTEST_CURRENT_TEST"] = f"cost_{tag} (call)"  # the run folder's name
    try:
        runner.run_block(
            toplevel="cost_tb", test_module="tb.flow.cost_counters", parameters=params,
            extra_sources=[HARNESS], verilator_args=vargs, plusargs=plusargs,
            extra_env={"COST_WORDS": str(len(words)), "COST_SAMPLES": str(run.samples),
                       "COST_WINDOWS": str(run.windows), "COST_MAX_CYCLES": str(bound),
                       "COST_OUT": str(counts_file)})
    finally:
        if saved is None:
            os.environ.pop("PYTEST_CURRENT_TEST", None)
        else:
            os.environ["PYTEST_CURRENT_TEST"] = saved
    if not counts_file.is_file():
        raise CostError(f"{tag}: the simulation wrote no counters ({counts_file})")
    counts = json.loads(counts_file.read_text())
    dat = None
    if toggles:
        dat = runner.BUILD / runner.selected_sim() / f"cost_{tag}" / "coverage.dat"
        if not dat.is_file():
            raise CostError(f"{tag}: the toggle run wrote no {dat}")
    return counts, dat


def compare(model: cost.Chip, counts: Mapping[str, int]) -> list[str]:
    """Every difference between the counters and the model's counts for the first window
    (a counter the model does not know is one too)."""
    expected = model.flat(model.first_window())
    bad = []
    for key, got in sorted(counts.items()):
        if key not in expected:
            bad.append(f"{key}: counted {got}, not in the cost model")
        elif expected[key] != got:
            bad.append(f"{key}: model {expected[key]}, counted {got}")
    return bad


def check_config(hidden: int, lanes: int, window: int, samples: np.ndarray | None = None, *,
                 seed: int = 1) -> tuple[cost.Chip, dict[str, int]]:
    """Model and counters of one configuration; raises :class:`CostError` on a difference."""
    model = cost.chip(hidden, lanes, window)
    n = model.first_window().samples
    if samples is None:
        samples = audio_io.white_noise(n / audio_io.SAMPLE_RATE, 0.3, seed=seed)[:n]
    counts, _ = simulate(model, samples, tag=f"h{hidden}p{lanes}w{window}")
    bad = compare(model, counts)
    if bad:
        raise CostError(f"{model.label}: the cost model and the RTL counters disagree:\n  "
                        + "\n  ".join(bad))
    return model, counts


# ---------------------------------------------------------------------------- toggles
_POINT = re.compile(r"^C '(.*)' (\d+)\s*$")


def toggles_per_instance(dat: Path) -> dict[str, int]:
    """Toggle counts (both directions, every bit) summed per hierarchy instance, leaving out
    input ports (``*_i``, ``*_ni``: counted where they are driven) and the clock."""
    per: dict[str, int] = defaultdict(int)
    with open(dat, encoding="latin-1") as fh:
        for raw in fh:
            m = _POINT.match(raw)
            if not m:
                continue
            keys = dict(kv.split("\x02", 1) for kv in m.group(1).split("\x01")[1:])
            if not keys.get("page", "").startswith("v_toggle/"):
                continue
            sig = re.sub(r"\[.*", "", keys.get("o", "").split(":")[0])
            if sig.endswith(("_i", "_ni")):
                continue
            per[keys.get("h", "?")] += int(m.group(2))
    return dict(per)


def toggles_per_block(model: cost.Chip, per_inst: Mapping[str, int]) -> dict[str, int]:
    """Instance toggles folded into the cost model's blocks (an instance goes to the block
    whose instance path is the longest prefix of its own); the rest under the enclosing
    level's module (``mel_frontend``, ``lstm_detector``, ``chip_top``, ``chip_regs``)."""
    paths = {b.inst: b.block for b in model.blocks}
    paths.update({"u_frontend": "mel_frontend (links)", "u_detector": "lstm_detector (links)",
                  "u_regs": "chip_regs", "": "chip_top (links)"})
    out: dict[str, int] = defaultdict(int)
    for hier, n in per_inst.items():
        rel = hier.split("u_dut", 1)[1].lstrip(".") if "u_dut" in hier else None
        if rel is None:
            continue
        best = max((p for p in paths if p == "" or rel == p or rel.startswith(p + ".")),
                   key=len)
        out[paths[best]] += n
    return dict(out)


# ---------------------------------------------------------------------------- report
def _fmt(n: int | float) -> str:
    return f"{n:,}".replace(",", " ") if isinstance(n, int) else f"{n:,.1f}".replace(",", " ")


def _muls(c: cost.Counts) -> str:
    return "; ".join(f"{_fmt(n)} x ({w})" for w, n in c.muls.items() if n) or "0"


def _kind_total(model: cost.Chip, b: cost.BlockModel, d: Mapping[str, int], kind: str) -> int:
    names = {m.name for m in b.memories if m.kind == kind}
    return sum(n for k, n in d.items() if k in names)


def _table(model: cost.Chip, run: cost.Run) -> list[str]:
    rows = ["| block | multiplications (operand widths) | add/sub | RAM reads | RAM writes | "
            "ROM reads | REG writes | busy cycles | RAM bits | ROM bits | REG bits |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    tot = defaultdict(int)
    for b, c in zip(model.blocks, model.counts(run), strict=True):
        vals = {"mul": c.mul_total, "add": c.adds,
                "ram_r": _kind_total(model, b, c.reads, "RAM"),
                "ram_w": _kind_total(model, b, c.writes, "RAM"),
                "rom_r": _kind_total(model, b, c.reads, "ROM"),
                "reg_w": _kind_total(model, b, c.writes, "REG"), "cyc": c.cycles}
        bits = {k: sum(m.bits for m in b.memories if m.kind == k) for k in ("RAM", "ROM", "REG")}
        for k, v in {**vals, **bits}.items():
            tot[k] += v
        rows.append(f"| `{b.block}` | {_muls(c)} | {_fmt(c.adds)} | {_fmt(vals['ram_r'])} | "
                    f"{_fmt(vals['ram_w'])} | {_fmt(vals['rom_r'])} | {_fmt(vals['reg_w'])} | "
                    f"{_fmt(c.cycles)} | {_fmt(bits['RAM'])} | {_fmt(bits['ROM'])} | "
                    f"{_fmt(bits['REG'])} |")
    rows.append(f"| **total** | {_fmt(tot['mul'])} | {_fmt(tot['add'])} | {_fmt(tot['ram_r'])} | "
                f"{_fmt(tot['ram_w'])} | {_fmt(tot['rom_r'])} | {_fmt(tot['reg_w'])} | "
                f"{_fmt(tot['cyc'])} | {_fmt(tot['RAM'])} | {_fmt(tot['ROM'])} | "
                f"{_fmt(tot['REG'])} |")
    return rows


def _events_table(model: cost.Chip) -> list[str]:
    rows = ["| block | event (the signal counted) | formula | per | per hop | per detection |",
            "| --- | --- | --- | --- | ---: | ---: |"]
    hop, det = model.hop(), model.detection()
    for b in model.blocks:
        for ev in b.events:
            if ev.unit == "load":
                continue
            rows.append(f"| `{b.block}` | {ev.name}: {ev.what} | `{ev.formula}` | {ev.unit} | "
                        f"{_fmt(model.event_count(ev, hop))} | "
                        f"{_fmt(model.event_count(ev, det))} |")
    return rows


def _memory_table(model: cost.Chip) -> list[str]:
    rows = ["| block | memory | kind | words x width x copies | bits | reads per hop | "
            "writes per hop | note |", "| --- | --- | --- | --- | ---: | ---: | ---: | --- |"]
    for b, c in zip(model.blocks, model.counts(model.hop()), strict=True):
        for m in b.memories:
            rows.append(f"| `{b.block}` | {m.name} | {m.kind} | {m.words} x {m.width} x "
                        f"{m.copies} | {_fmt(m.bits)} | {_fmt(c.reads.get(m.name, 0))} | "
                        f"{_fmt(c.writes.get(m.name, 0))} | {m.note} |")
    return rows


def _synth_section(model: cost.Chip) -> tuple[list[str], dict[str, dict]]:
    if not SYNTH_JSON.is_file():
        return ([f"`{SYNTH_JSON.relative_to(ROOT)}` does not exist: `make synth` (or "
                 "`make synth-asic`) makes it; then rerun `make cost`."], {})
    data = {b["top"]: b for b in json.loads(SYNTH_JSON.read_text())["blocks"]}
    rows = ["Hardware multipliers per block: the model's (declared operand widths) against "
            f"Yosys's `$mul` cells in `{SYNTH_JSON.relative_to(ROOT)}` (operand widths after "
            "`wreduce`; each block synthesized alone with the chip's default parameters, "
            "so this compares the default configuration).", "",
            "| block | model | synthesis | agree |", "| --- | --- | --- | --- |"]
    for b in model.blocks:
        syn = data.get(b.block)
        if syn is None:
            rows.append(f"| `{b.block}` | {len(b.multipliers)} | not synthesized | - |")
            continue
        smuls = syn.get("multipliers", [])
        mine = sum(not m.constant for m in b.multipliers)
        theirs = sum(not m["constant"] for m in smuls)
        widths = ", ".join(f"{m['a_width']}x{m['b_width']}{'s' if m['signed'] else 'u'}"
                           + (" const" if m["constant"] else "") for m in smuls) or "none"
        rows.append(f"| `{b.block}` | {mine} ({', '.join(m.label for m in b.multipliers) or '-'})"
                    f" | {theirs} ({widths}) | {'yes' if mine == theirs else '**NO**'} |")
    return rows, data


def _clock_section() -> list[str]:
    if not CLOCK_JSON.is_file():
        return [f"`{CLOCK_JSON.relative_to(ROOT)}` does not exist: the lowest real-time clock "
                "sweep (`python -m tb.flow.clock`, issue 17 item 4) makes it; then rerun "
                "`make cost`."]
    rows = json.loads(CLOCK_JSON.read_text())  # tb.flow.clock's list of Sweep records
    out = [f"From `{CLOCK_JSON.relative_to(ROOT)}` (made by `make clock`, `tb/flow/clock.py`): "
           "the top-level RealTimeTest with the scoreboard on, one sample every N cycles, N "
           "found by bisection; a pace passes with zero overruns and bit-exact output.", "",
           "| configuration | fewest cycles per sample | lowest real-time clock | "
           "overruns one cycle below | paces tried |",
           "| --- | ---: | ---: | ---: | --- |"]
    for r in rows:
        below = [o["overruns"] for o in r["runs"] if o["pace"] == r["min_pace"] - 1]
        tried = ", ".join(f"{o['pace']} {'pass' if o['passed'] else 'overrun'}"
                          for o in r["runs"])
        out.append(f"| {r['name']} | {r['min_pace']} | {r['clock_mhz']:.3f} MHz | "
                   f"{below[0] if below else '-'} | {tried} |")
    return out


def _rate_rows(model: cost.Chip) -> list[str]:
    """The stage tables' documented frame times beside the busy cycles, where they exist."""
    from refmodel.mel import stages as mel_stages

    out = []
    c = {x.block: x for x in model.counts(model.hop())}
    for st in mel_stages.stages(model.fe):
        r = getattr(st, "rate", None)
        if r is None:
            return []
        per_frame = r.cycles * st.per_frame // r.items
        out.append(f"| `{st.block}` | {_fmt(c[st.block].cycles)} | `{r.formula}` per {r.unit} | "
                   f"{_fmt(per_frame)} |")
    return ["| block | busy cycles per hop (model = counters) | stage-table throughput | "
            "cycles per frame at full rate |", "| --- | ---: | --- | ---: |", *out]


def write_doc(*, models: Sequence[cost.Chip], checked: Mapping[str, dict[str, int]],
              toggles: Mapping[str, int] | None, toggle_src: str, weights_src: str,
              sim: str, out: Path = DOC) -> str:
    m = models[0]
    p = m.params
    hop, det = m.hop(), m.detection()
    load = next(c for c in m.counts(cost.Run(loads=1)) if c.block == "lstm_mem").writes
    rom_bits = {b.block: sum(x.bits for x in b.memories if x.kind == "ROM") for b in m.blocks}
    L: list[str] = [
        "<!-- generated by make cost, do not edit -->",
        "# The cost of a detection",
        "",
        "Generated by `make cost` (`tb/flow/cost.py`) from the cost model `refmodel/cost.py`, "
        "checked against counters in the RTL; do not edit.  Every number below is computed "
        "from `FrontendConfig`, `DetectorConfig` and the H/P/Window parameters, or measured.",
        "",
        f"Configuration of the tables: **{m.label}** (the chip's defaults).  A hop is "
        f"{p['Hop']} samples (10 ms): one frame through the front end and one LSTM step.  A "
        f"detection is {m.window} hops plus the head (2 s of audio; the first window after "
        f"reset reads {p['FrameLen'] - p['Hop']} samples more, its first frame).",
        "",
        "## How each number is computed",
        "",
        "- Each block's work is a list of **events** (a handshake, a butterfly issue, a MAC "
        "cycle, a memory port enable, a busy cycle), each a formula in the RTL's parameter "
        "names per sample, frame, LSTM step or window (table below).  Each event has a "
        "fixed cost read off the RTL: multiplications with their declared operand widths "
        "(`24s` signed 24-bit, `16u` unsigned), additions and subtractions (an accumulate, "
        "a `round_sat` rounding and a negation each count one; comparisons, shifts, muxes "
        "and counter or address arithmetic are not counted), memory reads and writes per "
        "memory, busy cycles.",
        "- **Busy cycles** are the cycles a block works: for the one-item-per-cycle stages "
        "their input handshakes; `mel_fft` its loads, butterfly-stage cycles (issue and "
        "pipeline drain) and output reads; `mel_filterbank` its bins and the flush cycle; "
        "`lstm_seq` every cycle it is not idle (the step and its drain, the head's start); "
        "`lstm_mem` its read enables; `lstm_pe_array` its MAC cycles; `lstm_update` its "
        "activation cycles; `lstm_head` its terms and the score cycle.  Blocks overlap, so "
        "the column does not add up to elapsed time.",
        "- **RAM/ROM/REG**: RAMs are the SRAM macros (one write, one registered read port), "
        "ROMs the generated tables (a ROM with two read ports counts as two copies, as "
        "synthesis builds it), REG the register arrays that hold state (cell state, the two h "
        "banks, the head weights).  A ROM read is counted when its word is used.",
        f"- **Checked in simulation**: `{HARNESS}` runs `chip_top` over one whole window "
        "(weights loaded through the configuration port, samples offered every cycle) and "
        "counts each event from the design's own signals; the counts must equal the model's "
        "for that run (one weight load, FrameLen + Hop (Window - 1) samples, Window frames "
        "and steps, one detection), or `make cost` fails.  ROM reads and arithmetic are not "
        "counted separately: they are fixed per counted event.",
        "",
        "## Per 10 ms hop",
        "",
        *_table(m, hop),
        "",
        "## Per detection",
        "",
        *_table(m, det),
        "",
        f"Loading the weights (once, not per detection): {_fmt(load['weight_ram'])} weight-RAM "
        f"writes, {_fmt(load['bias_ram'])} bias-RAM writes, "
        f"{_fmt(load['head_weights'] + load['head_bias'])} head-register writes through the "
        "configuration port.",
        "",
        "## Events (formulas)",
        "",
        *_events_table(m),
        "",
        "## Memories",
        "",
        *_memory_table(m),
        "",
        "Notes from the model: " + "; ".join(f"`{b.block}`: {b.note}" for b in m.blocks
                                              if b.note) + ".",
        "",
    ]
    rates = _rate_rows(m)
    if rates:
        L += ["## Busy cycles and throughput", "",
              "The front end's busy cycles beside the throughput the stage table "
              "(`refmodel/mel/stages.py`) documents for each block:", "", *rates, ""]
    L += ["## Other configurations (per hop and per detection)", ""]
    for o in models[1:]:
        ch, cd = o.counts(o.hop()), o.counts(o.detection())
        L.append(f"- **{o.label}**: per hop {_fmt(sum(c.mul_total for c in ch))} "
                 f"multiplications, {_fmt(sum(c.adds for c in ch))} add/sub, LSTM step "
                 f"{_fmt(next(c.cycles for c in ch if c.block == 'lstm_seq'))} busy cycles; per "
                 f"detection {_fmt(sum(c.mul_total for c in cd))} multiplications, "
                 f"{_fmt(sum(sum(c.reads.values()) for c in cd))} memory reads; lane RAMs "
                 f"{_fmt(o.memory('weight_ram').bits + o.memory('bias_ram').bits)} bits.")
    L += ["", "## Model against the RTL counters", "",
          f"Simulator: {sim}.  Each configuration ran one whole window; every counter equals "
          "the model:", "",
          "| configuration | counters compared | samples | result |", "| --- | ---: | ---: | --- |"]
    for label, counts in checked.items():
        o = next(x for x in models if x.label == label)
        L.append(f"| {label} | {len(counts)} | {_fmt(o.first_window().samples)} | all equal |")
    first = next(iter(checked.values()), {})
    if first:
        L += ["", f"The counters of {next(iter(checked))} (model = RTL):", "",
              "| counter | count |", "| --- | ---: |"]
        L += [f"| `{k}` | {_fmt(v)} |" for k, v in sorted(first.items())]
    syn_rows, syn = _synth_section(m)
    L += ["", "## Multipliers: model against synthesis", "", *syn_rows, ""]

    # ---- FFT vs direct DFT vs conv-STFT
    fe = {c.block: c for c in m.counts(hop)}
    fft = fe["mel_fft"].mul_total + fe["mel_split"].mul_total
    fft_add = fe["mel_fft"].adds + fe["mel_split"].adds
    front = [c for c in m.counts(hop) if c.block.startswith("mel_")]
    front_mul = sum(c.mul_total for c in front)
    front_add = sum(c.adds for c in front)
    dft, onnx_ref = cost.direct_dft(m.fe), cost.onnx_graph(m.fe)
    conv = sum(r[1] for r in onnx_ref.rows if r[0].startswith("Conv"))
    L += ["## The FFT's saving: chip against a direct DFT and the ONNX conv-STFT graph", "",
          "Per hop (one frame).  Chip: `mel_fft` (a "
          f"{p['FftPoints']}-point complex radix-2 FFT, {p['FftStages']} stages of "
          f"{p['FftPoints'] // 2} butterflies) and `mel_split` (the real-input split to "
          f"{p['SplitItems']} bins of the {m.fe.n_fft}-point DFT).  Direct DFT: "
          f"{m.fe.n_fft}^2 complex multiply-accumulates (4 real multiplications and 4 "
          "additions each).  ONNX: the float golden's graph "
          "(`refmodel/mel/onnx_golden.py`, the background material's conv-STFT with the "
          "fixed dB span) walked node by node with ONNX shape inference on one frame "
          "(Conv: output elements x taps; MatMul: M K N; Pow, Mul: one multiplication per "
          "element; Add, Sub: one addition; Clip, Log, Round, Cast: one other operation).", "",
          "| computation | multiplications | add/sub | other | weights / tables (bits) |",
          "| --- | ---: | ---: | ---: | ---: |",
          f"| chip: FFT + split (`mel_fft`, `mel_split`) | {_fmt(fft)} | {_fmt(fft_add)} | 0 | "
          f"{_fmt(rom_bits['mel_fft'] + rom_bits['mel_split'])} |",
          f"| chip: whole front end (`mel_*`) | {_fmt(front_mul)} | {_fmt(front_add)} | 0 | "
          f"{_fmt(sum(v for k, v in rom_bits.items() if k.startswith('mel_')))} |",
          f"| {dft.name} | {_fmt(dft.muls)} | {_fmt(dft.adds)} | 0 | {_fmt(dft.weight_bits)} |",
          f"| ONNX: the two Conv nodes (STFT) | {_fmt(conv)} | {_fmt(conv)} | 0 | "
          f"{_fmt(2 * m.fe.n_bins * m.fe.n_fft * 32)} |",
          f"| ONNX: whole graph | {_fmt(onnx_ref.muls)} | {_fmt(onnx_ref.adds)} | "
          f"{_fmt(onnx_ref.other)} | {_fmt(onnx_ref.weight_bits)} |", "",
          f"The FFT (with its split) needs **{dft.muls / fft:.0f}x** fewer multiplications than "
          f"a direct DFT and **{conv / fft:.0f}x** fewer than the conv-STFT; the whole chip "
          f"front end needs {onnx_ref.muls / front_mul:.0f}x fewer multiplications than the "
          "whole ONNX graph.  (The chip's words are 16 to 40 bits wide integers, the "
          "graph's float32.)", "",
          "The ONNX graph's nodes on one frame:", "",
          "| node -> output [shape] | multiplications | add/sub | other |",
          "| --- | ---: | ---: | ---: |"]
    L += [f"| {r[0]} | {_fmt(r[1])} | {_fmt(r[2])} | {_fmt(r[3])} |" for r in onnx_ref.rows]
    L += ["", "(The graph scales all of a frame's samples; a streaming front end scales "
          f"each sample once, {p['Hop']} per hop.)", "",
          "## Lowest real-time clock", "", *_clock_section(), ""]

    # ---- toggles
    L += ["## Switching activity per detection", ""]
    if toggles is None:
        L += ["Not measured in this run (`make cost` without `--no-toggles` measures it).", ""]
    else:
        total = sum(toggles.values())
        L += [f"Verilator toggle coverage (`--coverage-toggle`, no width limit, per "
              f"instance) of `chip_top` ({m.label}, weights {weights_src}) over one detection "
              f"window of {toggle_src} ({_fmt(m.first_window().samples)} samples, after the "
              "weight load), samples offered every cycle.  A toggle is one bit of one "
              "signal changing (0->1 or 1->0).  Input ports are left out (each net is "
              "counted where it is driven), and so are the clock and the simulation-only "
              "stream checkers; memory arrays (RAM contents) are not toggle points: their "
              "accesses are in the tables above.  Cells are the generic gates after "
              "techmap of the block synthesized alone (`results/synth/report.json`).  "
              "No energy is claimed: toggles x a cell library's energy per toggle would be "
              "a start.", "",
              "| block | toggles per detection | share | cells | toggles per cell |",
              "| --- | ---: | ---: | ---: | ---: |"]
        for blk, n in sorted(toggles.items(), key=lambda kv: -kv[1]):
            cells = syn.get(blk.split(" ")[0], {}).get("cells") if " " not in blk else None
            per = f"{n / cells:.0f}" if cells else "-"
            L.append(f"| `{blk}` | {_fmt(n)} | {100 * n / total:.1f} % | "
                     f"{_fmt(cells) if cells else '-'} | {per} |")
        L += [f"| **total** | {_fmt(total)} | 100 % | | |", ""]
        if not syn:
            L += ["(Cells: run `make synth-asic` first, then `make cost`.)", ""]
    out.write_text("\n".join(L) + "\n")
    return "\n".join(L)


# ---------------------------------------------------------------------------- main
def _last_counts(model: cost.Chip, tag: str) -> dict[str, int]:
    """The counters of the last simulation of ``tag``, checked against the model again."""
    f = RESULTS / tag / "counts.json"
    if not f.is_file():
        raise CostError(f"--report-only: no {f} (run make cost first)")
    counts = json.loads(f.read_text())
    bad = compare(model, counts)
    if bad:
        raise CostError(f"{model.label} ({f}): counters disagree:\n  " + "\n  ".join(bad))
    return counts


def _configs(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)x(\d+)\s*", part)
        if not m:
            raise CostError(f"--configs: {part!r} is not HxP (e.g. 32x8)")
        out.append((int(m.group(1)), int(m.group(2))))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.flow.cost", description=__doc__.split("\n")[0])
    ap.add_argument("--configs", default="32x8,32x4,16x4",
                    help="HxP configurations, the first is the report's (default 32x8,32x4,16x4)")
    ap.add_argument("--window", type=int, default=DetectorConfig().window)
    ap.add_argument("--audio", type=Path, default=DEFAULT_AUDIO,
                    help="recording for the toggle run (one window from its start)")
    ap.add_argument("--no-toggles", action="store_true", help="skip the toggle-coverage run")
    ap.add_argument("--out", type=Path, default=DOC)
    ap.add_argument("--report-only", action="store_true",
                    help="no simulation: rewrite the report from the last run's counters and "
                         "toggle file in results/cost (e.g. after make synth)")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    try:
        sim = runner.selected_sim()
        configs = _configs(args.configs)
        models, checked = [], {}
        for h, p in configs:
            t = time.monotonic()
            if args.report_only:
                model = cost.chip(h, p, args.window)
                counts = _last_counts(model, f"h{h}p{p}w{args.window}")
            else:
                model, counts = check_config(h, p, args.window)
            models.append(model)
            checked[model.label] = counts
            print(f"cost: {model.label}: {len(counts)} counters equal the model "
                  f"({time.monotonic() - t:.0f} s)", flush=True)
        toggles = None
        m = models[0]
        samples = audio_io.load_wav(args.audio)
        n = m.first_window().samples
        if len(samples) < n:
            raise CostError(f"{args.audio}: {len(samples)} samples, one window needs {n}")
        if args.report_only and not args.no_toggles:
            tag = f"toggles_h{m.hidden}p{m.lanes}"
            _last_counts(m, tag)
            dat = runner.BUILD / "verilator" / f"cost_{tag}" / "coverage.dat"
            if not dat.is_file():
                raise CostError(f"--report-only: no {dat} (run make cost first)")
            toggles = toggles_per_block(m, toggles_per_instance(dat))
        elif not args.no_toggles:
            t = time.monotonic()
            os.environ["SIM"] = "verilator"  # toggle coverage is Verilator's
            try:
                counts, dat = simulate(m, samples[:n], tag=f"toggles_h{m.hidden}p{m.lanes}",
                                       toggles=True)
            finally:
                os.environ["SIM"] = sim
            bad = compare(m, counts)
            if bad:
                raise CostError("toggle run: counters disagree:\n  " + "\n  ".join(bad))
            assert dat is not None
            toggles = toggles_per_block(m, toggles_per_instance(dat))
            print(f"cost: toggles per block over one window ({time.monotonic() - t:.0f} s)",
                  flush=True)
        _, wsrc = _weights(m.hidden)
        rel = args.audio.resolve()
        src = f"`{rel.relative_to(ROOT)}`" if rel.is_relative_to(ROOT) else f"`{args.audio}`"
        write_doc(models=models, checked=checked, toggles=toggles, toggle_src=src,
                  weights_src=f"`{wsrc}`", sim=sim, out=args.out)
    except (CostError, runner.ConfigError, audio_io.AudioError, ValueError) as e:
        print(f"cost: FAIL: {e}", file=sys.stderr)
        return 1
    print(f"cost: wrote {args.out} ({time.monotonic() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
