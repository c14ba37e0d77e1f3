"""Command line of the reference model.

    python -m refmodel features IN.wav -o OUT.npy    bit-accurate codes, uint8 (n_frames, 32)
    python -m refmodel plot IN.wav -o OUT.png        spectrogram and detection timeline
    python -m refmodel detect IN.wav [--weights FILE] [--threshold T] [--json]
                                                     a timeline: one line per 198-frame window
                                                     (time span, score, MUSIC or not) and a
                                                     summary; --json: one JSON object a window

The default detector is the trained music set ``vectors/detector_weights_music_h32.npz``; the
default threshold is the one in the training record beside the weight file (same name,
``.json``, written by ``python -m train.fit``), else 0.5.

Bad input (missing or corrupt file, bad option) prints one line on stderr naming the file or
option and the problem, and exits non-zero (1 for bad data, 2 for bad usage) without a stack
trace.  New subcommands: write ``_cmd_<name>(args) -> int`` and register it in
:func:`build_parser`.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from refmodel import audio
from refmodel.lstm import detector
from refmodel.lstm.weights import TRAINED, record_threshold
from refmodel.mel import frontend

DEFAULT_WEIGHTS = TRAINED
FALLBACK_THRESHOLD = 0.5  # for a weight file without a training record


class CliError(Exception):
    """A problem to report on one line (the message names the file or value)."""


def _load(path: Path) -> np.ndarray:
    x = audio.load_wav(path)
    if len(x) < frontend.DEFAULT.frame_len:
        raise CliError(f"{path}: {len(x)} samples at 16 kHz, fewer than one frame "
                       f"({frontend.DEFAULT.frame_len})")
    return x


def _out_path(path: Path, suffix: str) -> Path:
    if path.suffix.lower() != suffix:
        raise CliError(f"{path}: output file must end in {suffix}")
    if not path.parent.exists():
        raise CliError(f"{path}: directory {path.parent} does not exist")
    return path


def _cmd_features(args: argparse.Namespace) -> int:
    out = _out_path(args.output, ".npy")
    codes = frontend.features(_load(args.input))
    np.save(out, codes)
    print(f"{args.input}: {codes.shape[0]} frames x {codes.shape[1]} bands -> {out}")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    out = _out_path(args.output, ".png")
    x = _load(args.input)
    codes = frontend.features(x)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = frontend.DEFAULT
    centres = frontend.mel_centers_hz(cfg)
    n = codes.shape[0]
    # column k is 10 ms wide, centred on frame k's centre (160k + 200 samples)
    t0 = (cfg.frame_len - cfg.hop) / 2 / cfg.sample_rate
    t1 = t0 + n * cfg.hop / cfg.sample_rate
    weights = _weights(args.weights)
    threshold, _ = _resolve_threshold(args)
    dets = detector.detect(codes, weights, threshold)
    fig, (ax, tax) = plt.subplots(2, 1, figsize=(10, 5.5), layout="constrained", sharex=True,
                                  height_ratios=(3, 1))
    img = ax.imshow(codes.T, origin="lower", aspect="auto", interpolation="nearest",
                    cmap="magma", vmin=0, vmax=cfg.code_max,
                    extent=(t0, t1, -0.5, cfg.n_mels - 0.5))
    ticks = np.arange(0, cfg.n_mels, 4)
    ax.set_yticks(ticks, [f"{centres[i]:.0f}" for i in ticks])
    ax.set_ylabel("mel band centre frequency (Hz)")
    ax.set_title(f"{Path(args.input).name}: bit-accurate log-mel features ({n} frames)")
    bar = fig.colorbar(img, ax=ax)
    lo, hi = cfg.db_floor, cfg.db_floor + cfg.db_span
    bar.set_label(f"code (0 = {lo:.0f} dB, {cfg.code_max} = {hi:+.0f} dB)")
    detector.plot_timeline(tax, dets, threshold, window=weights.config.window,
                           hop_s=cfg.hop / cfg.sample_rate)
    tax.set_xlabel("time (s)")
    n_music = sum(d.flag for d in dets)
    tax.set_title(f"music score per {weights.config.window}-frame window ({args.weights.name}, "
                  f"threshold {threshold:.4f}): MUSIC in {n_music} of {len(dets)} windows")
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"{args.input}: {n} frames -> {out}")
    return 0


def _weights(path: Path) -> detector.DetectorWeights:
    try:
        return detector.DetectorWeights.load(path)
    except FileNotFoundError:
        raise CliError(f"{path}: weight file not found") from None
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"threshold {text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"threshold {value:g} is outside 0..1")
    return value


def _resolve_threshold(args: argparse.Namespace) -> tuple[float, str]:
    """The threshold and where it came from: --threshold, the training record, or 0.5."""
    if args.threshold is not None:
        return args.threshold, "--threshold"
    record = Path(args.weights).with_suffix(".json")
    if not record.is_file():
        return FALLBACK_THRESHOLD, "default, no training record"
    try:
        return record_threshold(args.weights), f"training record {record.name}"
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _window_span(index: int, window: int) -> tuple[float, float]:
    """Seconds of audio window ``index`` covers: its first frame's first sample to its last
    frame's last sample."""
    cfg = frontend.DEFAULT
    first = index * window * cfg.hop
    return first / cfg.sample_rate, (first + (window - 1) * cfg.hop + cfg.frame_len) / \
        cfg.sample_rate


def _cmd_detect(args: argparse.Namespace) -> int:
    weights = _weights(args.weights)
    threshold, source = _resolve_threshold(args)
    x = _load(args.input)
    window = weights.config.window
    seconds = len(x) / frontend.DEFAULT.sample_rate
    need = _window_span(0, window)[1]
    codes = frontend.features(x)
    if codes.shape[0] < window:
        raise CliError(f"{args.input}: {seconds:.2f} s of audio ({codes.shape[0]} frames) is "
                       f"shorter than one detection window ({window} frames = {need:.3f} s)")
    dets = detector.detect(codes, weights, threshold)
    spans = [_window_span(d.index, window) for d in dets]
    if args.json:
        for d, (t0, t1) in zip(dets, spans, strict=True):
            print(json.dumps({"window": d.index, "start_s": round(t0, 6),
                              "end_s": round(t1, 6), "score": d.score, "flag": d.flag}))
        return 0
    print(f"{args.input}: {seconds:.2f} s, {len(dets)} windows of {window} frames "
          f"({need:.3f} s each)")
    print(f"detector {args.weights.name} (H={weights.hidden}), threshold {threshold:.4f} "
          f"({source})")
    print()
    print("window    time span (s)      score   music   score bar (| = threshold)")
    mark = round(threshold * 20)
    for d, (t0, t1) in zip(dets, spans, strict=True):
        bar = "".join("#" if k < round(d.score * 20) else " " for k in range(20))
        bar = bar[:mark] + "|" + bar[mark:]
        print(f"{d.index:6d}  {t0:8.3f} - {t1:8.3f}  {d.score:6.4f}  "
              f"{'MUSIC' if d.flag else '-':6s}  {bar}")
    n_music = sum(d.flag for d in dets)
    covered = spans[-1][1]
    print()
    print(f"summary: MUSIC in {n_music} of {len(dets)} windows ({100 * n_music / len(dets):.0f} "
          f"%); scores {min(d.score for d in dets):.4f} .. {max(d.score for d in dets):.4f}"
          + (f"; the last {seconds - covered:.2f} s do not fill a window and are not scored"
             if seconds - covered >= 0.005 else ""))
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _detector_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS,
                   help="detector weight file (.npz, default: the trained music H=32 set)")
    p.add_argument("--threshold", type=_threshold, default=None,
                   help="flag threshold in 0..1 (default: the weight file's training record, "
                        f"else {FALLBACK_THRESHOLD})")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m refmodel", description="Reference model command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("features", help="bit-accurate feature codes of a WAV file")
    p.add_argument("input", type=Path, help="any WAV file (mixed to mono, resampled to 16 kHz)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .npy file")
    p.set_defaults(func=_cmd_features)
    p = sub.add_parser("plot", help="log-mel spectrogram of a WAV file as PNG")
    p.add_argument("input", type=Path, help="any WAV file")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .png file")
    _detector_options(p)
    p.set_defaults(func=_cmd_plot)
    p = sub.add_parser("detect", help="music timeline of a WAV file: one line per 198-frame "
                                      "window and a summary")
    p.add_argument("input", type=Path, help="any WAV file")
    _detector_options(p)
    p.add_argument("--json", action="store_true",
                   help="one JSON object per window (window, start_s, end_s, score, flag)")
    p.set_defaults(func=_cmd_detect)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", audio.ClippingWarning)
            warnings.showwarning = _one_line_warning
            return args.func(args)
    except (CliError, audio.AudioError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except OSError as exc:
        sys.stderr.write(f"error: {exc.filename or ''}: {exc.strerror or exc}\n")
        return 1


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(f"warning: {message}\n")


if __name__ == "__main__":
    sys.exit(main())
