"""What a scoreboard mismatch leaves behind in the test's run folder, to debug it from.

The top-level scoreboard (``tb/chip/env/scoreboard.py``) only compares; it notifies a
:class:`MismatchDebug` of every compared pair, reset and its first mismatch, and that object
holds the debug policy: the bounded :class:`History` of compared pairs, the probes of
``WAVES=1`` reruns, and the report.  On a mismatch it calls :func:`on_mismatch`, which writes
into the run folder (``sim_build/<sim>/<test id>/``, the simulator's working directory):

- ``mismatch_features.png``: expected vs actual feature codes (frames x 32 bands) up to the
  mismatch, the cells that differ marked (always: it is cheap);
- ``mismatch_detections.png``: expected vs actual score per window, the threshold, the flags,
  the windows that differ marked (always);
- ``mismatch.gtkw`` (``WAVES=1`` runs): a GTKWave view of the run's FST with the signals
  grouped (clock and reset, audio in, the stage where the values diverge, feature tap,
  detection, then every other stage collapsed), the primary marker at the mismatch, named
  markers where the diverging stage's first wrong value moved and where the frame's last
  sample went in (or the window's last step), and the view starting shortly before them;
- ``mismatch.txt``: the whole report.

and returns the report lines that the failure message adds: the diverging stage (from the
probes of ``tb/debug/stage_probe.py``, which run in ``WAVES=1`` reruns) and the paths above.
Every part is guarded: a failure here is reported in a line and never hides the mismatch.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from refmodel.chip.top import ChipModel, Feature
from refmodel.lstm.detector import Detection
from tb.debug import gtkw, stage_probe
from tb.debug.stage_probe import Divergence
from tb.kit.runner import waves_requested

MAX_FRAMES = 400  # feature pairs kept (two 198-frame windows)
MAX_WINDOWS = 200  # detection pairs kept
PLOT_FRAMES = 120  # frames shown before the mismatch
MARK = "#00ff00"  # colour of the marks on differing cells (in no colour map used here)
MAX_BOXES = 400  # differing cells boxed; more get a dot
SHADE = "#ffd27f"  # shade of the windows that differ
FILES = ("mismatch_features.png", "mismatch_detections.png", "mismatch.gtkw", "mismatch.txt")


# ------------------------------------------------------------------------------ history
@dataclass(frozen=True)
class FeaturePair:
    stream: int  # counts resets: frame indices restart in every stream
    frame: int  # expected frame index
    expected: np.ndarray  # uint8 (32,)
    actual: np.ndarray  # uint8 (32,)
    actual_frame: int
    time_ns: float  # when the actual vector moved


@dataclass(frozen=True)
class DetectionPair:
    stream: int
    window: int  # expected window index
    exp_score: int
    exp_flag: bool
    act_window: int
    act_score: int
    act_flag: bool
    threshold: int | None  # the predictor's THRESHOLD when compared (UQ1.16)
    time_ns: float

    @property
    def differs(self) -> bool:
        return (self.window, self.exp_score, self.exp_flag) != \
            (self.act_window, self.act_score, self.act_flag)


class History:
    """The last compared expected/actual pairs, bounded (``MAX_FRAMES``, ``MAX_WINDOWS``)."""

    def __init__(self, max_frames: int = MAX_FRAMES, max_windows: int = MAX_WINDOWS):
        self.features: deque[FeaturePair] = deque(maxlen=max_frames)
        self.detections: deque[DetectionPair] = deque(maxlen=max_windows)
        self.stream = 0

    def new_stream(self) -> None:
        """A reset: frame and window indices start again at 0."""
        self.stream += 1

    def add_feature(self, frame: int, expected: np.ndarray, actual_frame: int,
                    actual: np.ndarray, time_ns: float) -> None:
        self.features.append(FeaturePair(self.stream, int(frame), np.array(expected, np.uint8),
                                         np.array(actual, np.uint8), int(actual_frame),
                                         float(time_ns)))

    def add_detection(self, window: int, exp_score: int, exp_flag: bool, act_window: int,
                      act_score: int, act_flag: bool, threshold: int | None,
                      time_ns: float) -> None:
        self.detections.append(DetectionPair(self.stream, int(window), int(exp_score),
                                             bool(exp_flag), int(act_window), int(act_score),
                                             bool(act_flag), threshold, float(time_ns)))

    def stream_features(self) -> list[FeaturePair]:
        """The pairs of the latest stream that has any (the current one, usually)."""
        if not self.features:
            return []
        s = self.features[-1].stream
        return [p for p in self.features if p.stream == s]

    def window_codes(self, window: int, size: int) -> np.ndarray | None:
        """uint8 (size, 32): the actual codes of ``window`` of the current stream, if kept."""
        lo = window * size
        got = {p.frame: p.actual for p in self.features if p.stream == self.stream
               and lo <= p.frame < lo + size}
        if len(got) != size:
            return None
        return np.stack([got[f] for f in range(lo, lo + size)])


# ------------------------------------------------------------------------------ pictures
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@dataclass(frozen=True)
class Picture:
    """A written picture and what it marks: (frame, band) cells or windows."""

    path: Path
    marked: list


def plot_features(pairs: list[FeaturePair], path: str | Path, *, title: str = "",
                  max_frames: int = PLOT_FRAMES) -> Picture:
    """Expected, actual and actual - expected codes (bands x frames) of the last
    ``max_frames`` pairs, every cell that differs boxed (colour :data:`MARK`) in all three;
    below, the 32 codes of the last frame that differs (else the last frame)."""
    plt = _pyplot()
    from matplotlib.patches import Rectangle

    pairs = pairs[-max_frames:]
    marked: list[tuple[int, int]] = []
    fig = plt.figure(figsize=(10, 9.6), constrained_layout=True)
    grid = fig.add_gridspec(4, 1, height_ratios=[1, 1, 1, 0.9])
    axes = [fig.add_subplot(grid[0])]
    axes += [fig.add_subplot(grid[k], sharex=axes[0]) for k in (1, 2)]
    band_ax = fig.add_subplot(grid[3])
    if not pairs:
        for ax in (*axes, band_ax):
            ax.set_axis_off()
        axes[0].text(0.5, 0.5, "no feature vectors compared yet", ha="center",
                     transform=axes[0].transAxes)
    else:
        frames = np.array([p.frame for p in pairs])
        exp = np.stack([p.expected for p in pairs]).astype(np.int64).T  # (32, n)
        act = np.stack([p.actual for p in pairs]).astype(np.int64).T
        diff = act - exp
        x0, x1 = frames[0] - 0.5, frames[-1] + 0.5
        extent = (x0, x1, -0.5, exp.shape[0] - 0.5)
        bands, cols = np.nonzero(diff)
        marked = sorted(zip(frames[cols].tolist(), bands.tolist(), strict=True))
        lim = max(1, int(np.abs(diff).max()))
        label = f"{len(marked)} cell{'s' if len(marked) != 1 else ''} differ" + \
            ("s" if len(marked) == 1 else "")
        for ax, data, name, kw in (
                (axes[0], exp, "expected codes", {"cmap": "magma", "vmin": 0, "vmax": 255}),
                (axes[1], act, "actual codes", {"cmap": "magma", "vmin": 0, "vmax": 255}),
                (axes[2], diff, "actual - expected",
                 {"cmap": "coolwarm", "vmin": -lim, "vmax": lim})):
            im = ax.imshow(data, origin="lower", aspect="auto", interpolation="nearest",
                           extent=extent, **kw)
            fig.colorbar(im, ax=ax, pad=0.01, fraction=0.03)
            for k, (fr, b) in enumerate(marked[:MAX_BOXES]):
                ax.add_patch(Rectangle((fr - 0.5, b - 0.5), 1, 1, fill=False, lw=1.5,
                                       edgecolor=MARK, label=label if k == 0 else None))
            if len(marked) > MAX_BOXES:  # too many for boxes: dots on the rest
                rest = np.array(marked[MAX_BOXES:])
                ax.scatter(rest[:, 0], rest[:, 1], s=6, color=MARK)
            ax.set_ylabel("band")
            ax.set_title(name, fontsize=10, loc="left")
            if ax is not axes[2]:
                ax.tick_params(labelbottom=False)
        if marked:
            axes[0].legend(loc="upper left", fontsize=8, framealpha=0.8)
        axes[2].set_xlabel("frame (since reset)")
        axes[2].set_xlim(x0, x1)
        # the codes of one frame: the last that differs
        col = int(cols.max()) if cols.size else len(frames) - 1
        b = np.arange(exp.shape[0])
        band_ax.plot(b, exp[:, col], "o-", color="tab:blue", ms=4, label="expected")
        band_ax.plot(b, act[:, col], "x", color="tab:red", ms=8, mew=2, label="actual")
        for k in np.flatnonzero(diff[:, col]):
            band_ax.annotate(f"{exp[k, col]} -> {act[k, col]}", (k, act[k, col]),
                             textcoords="offset points", xytext=(6, 6), fontsize=8,
                             color="tab:red")
        band_ax.set_xlim(-0.5, exp.shape[0] - 0.5)
        band_ax.set_ylim(-8, 263)
        band_ax.set_xlabel("band")
        band_ax.set_ylabel("code")
        band_ax.set_title(f"frame {frames[col]}: codes per band", fontsize=10, loc="left")
        band_ax.legend(loc="upper right", fontsize=8)
    fig.suptitle(title or "features: expected vs actual", fontsize=10)
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return Picture(path, marked)


def plot_detections(pairs: list[DetectionPair], path: str | Path, *, title: str = "",
                    note: str = "") -> Picture:
    """Expected and actual score per window with the threshold, the flags below; every
    window that differs is shaded (colour :data:`SHADE`)."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    marked: list[int] = []
    fig, (ax, axf) = plt.subplots(2, 1, figsize=(10, 5.2), sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1]},
                                  constrained_layout=True)
    if pairs:
        s = pairs[-1].stream
        pairs = [p for p in pairs if p.stream == s]
        w = np.array([p.window for p in pairs])
        es = np.array([p.exp_score for p in pairs]) / 65536
        as_ = np.array([p.act_score for p in pairs]) / 65536
        ax.plot(w, es, "o-", color="tab:blue", ms=5, label="expected score")
        ax.plot(w, as_, "x", color="tab:red", ms=9, mew=2, label="actual score")
        thr = [p.threshold for p in pairs]
        if all(t is not None for t in thr):  # per window: it may change between windows
            ax.hlines(np.array(thr) / 65536, w - 0.5, w + 0.5, ls="--", color="gray",
                      label="threshold")
        axf.plot(w, [int(p.exp_flag) for p in pairs], "o-", color="tab:blue", ms=5,
                 label="expected flag")
        axf.plot(w, [int(p.act_flag) for p in pairs], "x", color="tab:red", ms=9, mew=2,
                 label="actual flag")
        bad = [p for p in pairs if p.differs]
        marked = [p.window for p in bad]
        for k, p in enumerate(bad):
            for a in (ax, axf):
                a.axvspan(p.window - 0.45, p.window + 0.45, color=SHADE, zorder=0,
                          label="differs" if (k == 0 and a is ax) else None)
            ax.annotate(f"window {p.window}\nexp {p.exp_score} flag {int(p.exp_flag)}\n"
                        f"act {p.act_score} flag {int(p.act_flag)}",
                        (p.window, max(p.exp_score, p.act_score) / 65536),
                        textcoords="offset points", xytext=(8, -30), fontsize=8)
        ax.set_xlim(w.min() - 1, w.max() + 1)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.text(0.5, 0.5, "no detections compared yet" + (f"\n{note}" if note else ""),
                ha="center", va="center", transform=ax.transAxes)
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("score")
    axf.set_ylim(-0.3, 1.3)
    axf.set_yticks([0, 1])
    axf.set_ylabel("flag")
    axf.set_xlabel("window (since reset)")
    if pairs:
        ax.legend(loc="upper left", fontsize=8)
        axf.legend(loc="upper left", fontsize=8)
    fig.suptitle(title or "detections: expected vs actual", fontsize=10)
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return Picture(path, marked)


# ------------------------------------------------------------------------- waveform view
Resolver = Callable[[str], "str | None"]  # signal path under the top -> GTKWave name

_COMMON = {
    "clock and reset": (("clk_i", "bin"), ("rst_ni", "bin"), ("u_top.u_regs.enable_o", "bin"),
                        ("u_top.u_regs.clear_o", "bin")),
    "audio in": (("u_top.audio_valid_i", "bin"), ("u_top.audio_ready_o", "bin"),
                 ("u_top.audio_sample_i", "sdec"), ("u_top.audio_sample_i", "analog")),
    "feature tap": (("tap_valid_o", "bin"), ("tap_frame_o", "dec"), ("tap_feat_o", "hex")),
    "detection": (("det_valid_o", "bin"), ("det_ready_i", "bin"), ("det_window_o", "dec"),
                  ("det_score_o", "dec"), ("det_flag_o", "bin"), ("det_irq_o", "bin"),
                  ("u_top.u_regs.threshold_o", "dec")),
}


def _group(name: str, rows, resolve: Resolver, *, open_: bool) -> gtkw.Group:
    traces: list = []
    for path, fmt in rows:
        full = resolve(path)
        if full is not None:
            traces.append(gtkw.Trace(full, fmt))
    return gtkw.Group(name, traces, open=open_)


def stage_groups(resolve: Resolver) -> dict[str, gtkw.Group]:
    """One closed group per front-end stage and per detector part, in chain order."""
    out = {}
    for st in stage_probe.FRONTEND:
        rows = [(f"u_top.u_frontend.{st.inst}.{sig}", fmt) for sig, fmt in st.rows]
        out[st.name] = _group(st.name, rows, resolve, open_=False)
    for name, (inst, sigs) in stage_probe.LSTM.items():
        rows = [(f"u_top.u_detector.{inst}.{sig}", fmt) for sig, fmt in sigs]
        out[name] = _group(name, rows, resolve, open_=False)
    return out


def build_view(*, dumpfile: str, resolve: Resolver, divergence: Divergence | None,
               marker: int, named: list[gtkw.Marker], period: int,
               comment: str = "") -> gtkw.SaveFile:
    """The save file of a mismatch: groups in the order of the module docstring, the view
    from shortly before the earliest marker to shortly after the latest."""
    common = {k: _group(k, v, resolve, open_=True) for k, v in _COMMON.items()}
    stages = stage_groups(resolve)
    rows: list = [common["clock and reset"], common["audio in"]]
    first = divergence.open_groups if divergence else ()
    if first:
        label = divergence.stage or first[0]
        inner = []
        for name in first:
            g = stages.pop(name)
            g.open = True
            inner.append(g)
        if len(inner) == 1:
            inner[0].name = f"{label}: values diverge here"
            rows.append(inner[0])
        else:
            rows.append(gtkw.Group(f"{label}: values diverge here", inner, open=True))
    else:
        why = divergence.detail if divergence else "the stage was not localised"
        rows.append(gtkw.Comment(f"no diverging stage: {why}"))
    rows += [common["feature tap"], common["detection"]]
    fe = [stages.pop(s.name) for s in stage_probe.FRONTEND if s.name in stages]
    lstm = [stages.pop(n) for n in stage_probe.LSTM if n in stages]
    if fe:
        rows.append(gtkw.Group("front-end stages", fe, open=True))
    if lstm:
        rows.append(gtkw.Group("detector parts", lstm, open=True))
    times = [marker] + [m.time for m in named]
    lo, hi = min(times), max(times)
    margin = max((hi - lo) // 8, 40 * period)
    # a quarter of the span after the last marker: room for a pane narrower than estimated
    return gtkw.SaveFile(dumpfile=dumpfile, rows=rows, start=max(0, lo - margin),
                         end=hi + 2 * margin, marker=marker, named=named, comment=comment)


def tail_after(view: gtkw.SaveFile, marker: int, period: int) -> int:
    """Simulated time the run needs past the mismatch for GTKWave to honour the view:
    it ignores ``[timestart]`` unless a whole page from there lies inside the dump (30 %
    slack for a waveform pane wider than the save file's estimate)."""
    end = view.end if view.end is not None else marker
    return max(end - marker, 0) + int(0.3 * (end - view.start)) + 20 * period


def handle_resolver(dut) -> Resolver:
    """GTKWave names of signals under ``dut`` (the harness), checked to exist in this
    simulation; ``None`` for a signal it does not have."""
    top = dut._name

    def resolve(path: str) -> str | None:
        h = dut
        try:
            for part in path.split("."):
                h = getattr(h, part)
            width = len(h) if hasattr(h, "range") else 1
        except (AttributeError, TypeError, RuntimeError):
            return None
        if width > 1:
            try:
                return gtkw.signal_name(f"{top}.{path}", width, int(h.left), int(h.right))
            except (AttributeError, RuntimeError):
                pass
        return gtkw.signal_name(f"{top}.{path}", width)

    return resolve


# ------------------------------------------------------------------------------ report
@dataclass
class Context:
    """What :func:`on_mismatch` needs from the test bench (filled by the scoreboard)."""

    what: str  # the scoreboard's whole failure message
    title: str  # test, simulator, seed
    history: History
    run_dir: Path
    waves: bool
    at_ns: float  # the mismatch time (the actual item's, else now)
    steps_per_ns: float  # simulator time steps per ns (the dump's time unit)
    period_ns: float
    frame: int | None = None  # expected frame index of a feature mismatch
    expected_codes: np.ndarray | None = None
    window: int | None = None  # expected window index of a detection mismatch
    expected_det: tuple[int, int, bool] | None = None
    actual_det: tuple[int, int, bool] | None = None
    threshold: int | None = None
    weights: object | None = None
    hidden: int = 32
    window_len: int = 198
    probes: stage_probe.ProbeSet | None = None
    resolve: Resolver | None = None
    dumpfile: Path | None = None
    tail_ns: float | None = None  # set by on_mismatch: how long a WAVES run should go on


def _guard(lines: list[str], what: str, fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception as exc:  # the mismatch report must survive any failure here
        tb = traceback.format_exc(limit=3).strip().splitlines()
        lines.append(f"  ({what} failed: {exc!r}; {tb[-3] if len(tb) >= 3 else ''})")


def clear_old(run_dir: Path) -> None:
    """Remove the files an earlier failing run left in ``run_dir``."""
    for name in FILES:
        (run_dir / name).unlink(missing_ok=True)


def localise(ctx: Context) -> tuple[Divergence | None, list[gtkw.Marker]]:
    """The diverging stage and the named markers (A: first wrong value, B: frame in /
    window's last step), from the probes."""
    p = ctx.probes
    if p is None:
        return None, []
    named: list[gtkw.Marker] = []
    if ctx.frame is not None:
        samples, t_in = p.frame_samples(ctx.frame)
        div = stage_probe.localise_frame(ctx.frame, samples, p.frame_items(ctx.frame),
                                         ctx.expected_codes)
        if div.time is not None:
            named.append(gtkw.Marker(div.time, f"{div.stage}: first wrong value"))
        if t_in is not None:
            named.append(gtkw.Marker(t_in, f"frame {ctx.frame}: last sample in"))
        return div, named
    if ctx.window is not None and ctx.expected_det and ctx.actual_det:
        codes = ctx.history.window_codes(ctx.window, ctx.window_len)
        recorded = p.window_steps(ctx.window)
        div = stage_probe.localise_window(ctx.window, codes, ctx.weights, recorded,
                                          expected=ctx.expected_det, actual=ctx.actual_det,
                                          threshold=ctx.threshold, hidden=ctx.hidden)
        if div.time is not None:
            named.append(gtkw.Marker(div.time, f"{div.stage}: first wrong value"))
        if recorded:
            named.append(gtkw.Marker(recorded[-1][0], f"window {ctx.window}: last step"))
        return div, named
    return None, []


def on_mismatch(ctx: Context) -> list[str]:
    """Write the pictures, the waveform view and ``mismatch.txt``; the report lines."""
    lines: list[str] = []
    run = ctx.run_dir
    feat_png, det_png = run / FILES[0], run / FILES[1]
    div: Divergence | None = None
    named: list[gtkw.Marker] = []

    def do_localise():
        nonlocal div, named
        div, named = localise(ctx)

    _guard(lines, "stage localisation", do_localise)
    if div is not None:
        if div.stage:
            t = "" if div.time is None else f" (at {div.time / ctx.steps_per_ns:.0f} ns)"
            lines.append(f"  diverging stage: {div.stage}: {div.detail}{t}")
        else:
            lines.append(f"  diverging stage: none found: {div.detail}")
        if div.matched:
            lines.append(f"    equal to the refmodel before it: {', '.join(div.matched)}")
        if div.notes:
            lines.append(f"    ({'; '.join(div.notes)})")
    elif ctx.probes is None:
        lines.append("  diverging stage: not localised in this run (a WAVES=1 rerun, the "
                     "command above, attaches probes to the internal streams and names it)")
    _guard(lines, "feature picture", lambda: plot_features(
        ctx.history.stream_features(), feat_png, title=f"{ctx.title}: features"))
    _guard(lines, "detection picture", lambda: plot_detections(
        list(ctx.history.detections), det_png, title=f"{ctx.title}: detections",
        note="" if ctx.frame is None else f"(the mismatch is in frame {ctx.frame}'s "
                                          f"feature vector)"))
    if ctx.waves and ctx.dumpfile is not None and ctx.resolve is not None:
        def do_view():
            marker = int(round(ctx.at_ns * ctx.steps_per_ns))
            period = int(round(ctx.period_ns * ctx.steps_per_ns))
            view = build_view(dumpfile=str(ctx.dumpfile), resolve=ctx.resolve,
                              divergence=div, marker=marker, named=named, period=period,
                              comment=f"{ctx.title}\n{ctx.what.splitlines()[0][:200]}")
            view.write(run / FILES[2])
            ctx.tail_ns = tail_after(view, marker, period) / ctx.steps_per_ns
            groups = [g.name for g in view.rows if isinstance(g, gtkw.Group)]
            lines.append(f"  waveform: {ctx.dumpfile} (complete when the simulation ends)")
            lines.append(f"  gtkwave view: gtkwave {run / FILES[2]}")
            lines.append(f"    groups: {'; '.join(groups)}")
            lines.append(f"    primary marker at the mismatch ({ctx.at_ns:.0f} ns)"
                         + "".join(f"; {k} {m.time / ctx.steps_per_ns:.0f} ns {m.label}"
                                   for k, m in zip("AB", named, strict=False)))
        _guard(lines, "waveform view", do_view)
    for p in (feat_png, det_png):
        if p.is_file():
            lines.append(f"  picture: {p}")
    text = "\n".join(lines)
    _guard(lines, "mismatch.txt", lambda: (run / FILES[3]).write_text(
        f"{ctx.what}\n{text}\n"))
    lines.append(f"  this report: {run / FILES[3]}")
    return lines


def run_dir() -> Path:
    """The test's run folder: the simulator runs in it (``tb/kit/runner.py``)."""
    return Path.cwd()


def dump_path(sim: str, top: str) -> Path:
    """Where the runner's ``WAVES=1`` build writes the FST (see ``tb/kit/runner.py``)."""
    return run_dir() / ("dump.fst" if sim == "verilator" else f"{top}.fst")


class MismatchDebug:
    """The debug side of the top-level scoreboard (``tb/chip/env/scoreboard.py``).

    The scoreboard only compares; it notifies this object of every compared pair
    (:meth:`compared_feature`, :meth:`compared_detection`), of every reset (:meth:`reset`) and
    of its first mismatch (:meth:`mismatch`).  What a mismatch leaves behind is decided here:

    - the compared pairs go into a bounded :class:`History` (the pictures' data);
    - files an earlier failing run left in the run folder are removed when it is made;
    - in ``WAVES=1`` reruns (or with ``MELSTM_PROBES=1``) :meth:`run` watches the internal
      streams (``tb/debug/stage_probe.py``), so that a report names the diverging stage;
    - :meth:`mismatch` writes the report (:func:`on_mismatch`) and says how long a ``WAVES=1``
      run goes on before it fails, so that the waveform also shows what follows.

    ``model``: the chip model (``refmodel.chip.top.ChipModel``) whose loaded weights and
    threshold a detection mismatch is localised with; the env connects the predictor's.
    """

    def __init__(self, *, log: logging.Logger, model: ChipModel | None = None) -> None:
        self.log, self.model = log, model
        self.history = History()
        self.probes: stage_probe.ProbeSet | None = None
        clear_old(run_dir())

    @staticmethod
    def _cfg(name: str):
        from pyuvm import ConfigDB

        return ConfigDB().get(None, "", name)

    async def run(self) -> None:
        """Probes on the internal streams, in runs that ask for them; returns at once else."""
        if not stage_probe.probes_requested():
            return
        self.probes = stage_probe.start_probes(self._cfg("DUT"), hidden=self._cfg("HIDDEN"),
                                               window=self._cfg("WINDOW"), log=self.log)
        if self.probes is not None:
            await self.probes.run()

    def compared_feature(self, expected: Feature, actual: Feature, time_ns: float) -> None:
        self.history.add_feature(expected.frame, expected.codes, actual.frame, actual.codes,
                                 time_ns)

    def compared_detection(self, expected: Detection, actual: Detection,
                           time_ns: float) -> None:
        self.history.add_detection(expected.index, expected.score_int, expected.flag,
                                   actual.index, actual.score_int, actual.flag,
                                   self._threshold(expected), time_ns)

    def _threshold(self, expected: Detection | None) -> int | None:
        """The threshold a detection was compared with: the model's record of it, else the
        threshold in force now."""
        if expected is not None and expected.threshold_int is not None:
            return expected.threshold_int
        return None if self.model is None else self.model.threshold

    def reset(self) -> None:
        """A reset: frame and window indices start again at 0."""
        self.history.new_stream()

    def mismatch(self, msg: str, *, at_ns: float | None = None, final: bool = False,
                 expected: Feature | Detection | None = None,
                 actual: Detection | None = None) -> tuple[str, float | None]:
        """The scoreboard's first mismatch, with its failure message ``msg``: the report.

        ``expected``: the expectation that differs (a feature vector, or a detection with its
        ``actual``), ``None`` for an item missing or unexpected; ``at_ns``: when the actual
        item moved; ``final``: no simulated time is left.  Returns the whole failure message
        (``msg`` and the report lines) and how long (ns) the run should go on before it
        fails, ``None`` to fail at once.  A failure here never hides the mismatch.
        """
        tail_ns = 200 * float(self._cfg("PERIOD_NS"))
        try:
            lines, tail_ns = self._report(msg, at_ns, expected, actual)
            msg += "\n" + "\n".join(lines)
        except Exception as exc:  # the debug helpers never hide the mismatch itself
            msg += f"\n  (debug report failed: {exc!r})"
        return msg, (tail_ns if waves_requested() and not final else None)

    def _report(self, msg: str, at_ns: float | None, expected: Feature | Detection | None,
                actual: Detection | None) -> tuple[list[str], float]:
        import cocotb
        from cocotb.utils import get_sim_time

        dut = cocotb.top
        sim = os.environ.get("MELSTM_SIM", "unknown")
        waves = waves_requested()
        test = os.environ.get("PYTEST_CURRENT_TEST", "top test").split(" ")[0].split("::")[-1]
        ctx = Context(
            what=msg, title=f"{test}, seed {cocotb.RANDOM_SEED}", history=self.history,
            run_dir=run_dir(), waves=waves,
            at_ns=get_sim_time("ns") if at_ns is None else float(at_ns),
            steps_per_ns=10.0 ** (-9 - cocotb.simulator.get_precision()),
            period_ns=float(self._cfg("PERIOD_NS")), probes=self.probes,
            resolve=handle_resolver(dut) if waves else None,
            dumpfile=dump_path(sim, dut._name) if waves else None,
            hidden=int(self._cfg("HIDDEN")), window_len=int(self._cfg("WINDOW")),
            threshold=self._threshold(expected if isinstance(expected, Detection) else None))
        if isinstance(expected, Feature):
            ctx.frame, ctx.expected_codes = expected.frame, expected.codes
        elif isinstance(expected, Detection) and actual is not None:
            ctx.window = expected.index
            ctx.expected_det = (expected.index, expected.score_int, expected.flag)
            ctx.actual_det = (actual.index, actual.score_int, actual.flag)
            if ctx.probes is not None and self.model is not None:
                try:
                    ctx.weights = self.model.current_weights()
                except Exception:  # an incomplete load image: no step-by-step comparison
                    ctx.weights = None
        lines = on_mismatch(ctx)
        return lines, ctx.tail_ns if ctx.tail_ns is not None else 200 * ctx.period_ns
