"""Command line of the reference model.

    python -m refmodel features IN.wav -o OUT.npy    bit-accurate codes, uint8 (n_frames, 32)
    python -m refmodel plot IN.wav -o OUT.png        log-mel spectrogram of the codes

Bad input (missing or corrupt file, bad option) prints one line on stderr naming the file or
option and the problem, and exits non-zero (1 for bad data, 2 for bad usage) without a stack
trace.  New subcommands: write ``_cmd_<name>(args) -> int`` and register it in
:func:`build_parser`.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

from refmodel import audio, frontend


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
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    img = ax.imshow(codes.T, origin="lower", aspect="auto", interpolation="nearest",
                    cmap="magma", vmin=0, vmax=cfg.code_max,
                    extent=(t0, t1, -0.5, cfg.n_mels - 0.5))
    ticks = np.arange(0, cfg.n_mels, 4)
    ax.set_yticks(ticks, [f"{centres[i]:.0f}" for i in ticks])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel band centre frequency (Hz)")
    ax.set_title(f"{Path(args.input).name}: bit-accurate log-mel features ({n} frames)")
    bar = fig.colorbar(img, ax=ax)
    lo, hi = cfg.db_floor, cfg.db_floor + cfg.db_span
    bar.set_label(f"code (0 = {lo:.0f} dB, {cfg.code_max} = {hi:+.0f} dB)")
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"{args.input}: {n} frames -> {out}")
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


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
    p.set_defaults(func=_cmd_plot)
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
