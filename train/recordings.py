"""The detector on real recordings: how much of a folder of music it flags, and how much of a
folder of other sounds (``docs/dataset.md``, "Real recordings").

    python -m train.recordings score DIR [--weights W.npz] [--threshold T] [--out DIR]
    python -m train.recordings debian [--out data/recordings]

``score`` reads ``DIR/music/*.wav`` and ``DIR/not_music/*.wav`` (any WAV: mixed to mono and
resampled to 16 kHz by ``refmodel.audio.load_wav``), runs the bit-accurate model over every
complete 198-frame window of each file (what ``python -m refmodel detect`` reports, and what
the chip flags), and prints a table per file and per folder: windows flagged, mean score.  On
``music/`` the share flagged is the true-positive rate, on ``not_music/`` the false-positive
rate.  The report is also written to ``<out>/report.md``.  A file shorter than one window is
listed as skipped, never silently dropped.

``debian`` fills ``--out`` with the real recordings that Debian packages ship, to have a first
measurement on recorded sound that was never in the training data (they are used only here,
never for training: the corpus is generated, ``train.corpus``):

- music: the 31 tracks of ``drascula-music`` (a game's recorded soundtrack, about 47 minutes)
  and the 3 of ``lincity-ng-data`` (about 11 minutes);
- not music: real voices: the words of ``ktuberling-data`` (a children's game that names its
  pieces aloud: one file per language with at least 10 words, its words joined with 0.3 s
  pauses, about 25 languages and speakers), the spoken channel names of ``alsa-utils`` and
  ``sound-theme-freedesktop`` (one file per voice); recorded everyday sounds: the 2 s or
  longer ambiences of ``lincity-ng-data`` (traffic, trains, farms, mines, building sites,
  crowds, water, wind mills ...), and the freedesktop theme's alarm clock, phone rings and
  busy tone, camera shutter, trash sound and test signal, each repeated to 6-10 s as such
  sounds repeat.  The theme's short melodic jingles (login, message, complete) are left out:
  they are neither clearly music nor not.  The labels follow the packages' file names; nobody
  listened to every file.

The recordings are not in the repository; this command downloads the packages (``apt-get
download``, no root needed), unpacks them (``dpkg-deb``) and converts with ``sox`` without
dither (``-D``), so two fetches give the same samples and the same figures.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from refmodel import audio
from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.detector import detect
from refmodel.lstm.weights import TRAINED, DetectorWeights, record_threshold
from refmodel.mel.config import DEFAULT as FRONTEND
from refmodel.mel.frontend import features
from train import metrics

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("music", "not_music")
GOAL_MUSIC, GOAL_OTHER = metrics.SPEC_MUSIC_FLAGGED, metrics.SPEC_OTHER_FLAGGED
DEFAULT_DIR = ROOT / "data" / "recordings"
DEFAULT_OUT = ROOT / "results" / "recordings"
# one detector window, 1.995 s: its first frame and a hop for each further one
WINDOW_S = (FRONTEND.frame_len + (DetectorConfig().window - 1) * FRONTEND.hop) / audio.SAMPLE_RATE


class RecordingsError(ValueError):
    """A folder, file or tool problem (one line naming it)."""


@dataclass(frozen=True)
class FileResult:
    name: str
    seconds: float
    scores: np.ndarray  # one float per complete window (bit-accurate model)
    flags: np.ndarray

    @property
    def windows(self) -> int:
        return len(self.scores)


def score_file(path: Path, weights: DetectorWeights, threshold: float) -> FileResult:
    """The bit-accurate detections of every complete window of one WAV file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", audio.ClippingWarning)
        x = audio.load_wav(path)
    dets = detect(features(x), weights, threshold)
    return FileResult(path.name, len(x) / audio.SAMPLE_RATE, np.array([d.score for d in dets]),
                      np.array([d.flag for d in dets], dtype=bool))


def score(folder: Path, weights: DetectorWeights, threshold: float) -> dict[str, list[FileResult]]:
    """Every WAV file of ``folder/music`` and ``folder/not_music``."""
    if not folder.is_dir():
        raise RecordingsError(f"{folder}: no such folder")
    found = {c: sorted((folder / c).glob("*.wav")) for c in CLASSES}
    if not any(found.values()):
        raise RecordingsError(f"{folder}: no WAV files in {folder}/music or {folder}/not_music "
                              "(make recordings fetches a set from Debian packages)")
    return {c: [score_file(p, weights, threshold) for p in found[c]] for c in CLASSES}


def report(results: dict[str, list[FileResult]], weights_path: Path, threshold: float) -> str:
    lines = ["# The detector on real recordings\n",
             f"Weights `{weights_path.name}`, threshold {threshold:.4f}, bit-accurate model, "
             "one score per complete 198-frame window.\n",
             "| folder | files | windows | flagged | share flagged | |",
             "| --- | ---: | ---: | ---: | ---: | --- |"]
    for c in CLASSES:
        rs = [r for r in results[c] if r.windows]
        n = sum(r.windows for r in rs)
        k = sum(int(r.flags.sum()) for r in rs)
        what = "true-positive rate" if c == "music" else "false-positive rate"
        share = f"{100 * k / n:.1f} %" if n else "-"
        lines.append(f"| `{c}/` | {len(rs)} | {n} | {k} | **{share}** | {what} |")
    lines += ["", *goal_lines(results)]
    for c in CLASSES:
        lines += ["", f"## `{c}/`", "", "| file | seconds | windows | flagged | mean score |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for r in results[c]:
            if not r.windows:
                lines.append(f"| {r.name} | {r.seconds:.1f} | skipped: shorter than one window "
                             f"({WINDOW_S:.3f} s) | | |")
                continue
            lines.append(f"| {r.name} | {r.seconds:.1f} | {r.windows} | {int(r.flags.sum())} | "
                         f"{r.scores.mean():.3f} |")
    return "\n".join(lines)


def goal_lines(results: dict[str, list[FileResult]]) -> list[str]:
    """Where the SPEC's two goals meet the whole score range, whatever the threshold: the most
    music flagged with at most GOAL_OTHER of the other windows, and the fewest other windows
    with at least GOAL_MUSIC of the music."""
    m, o = (np.concatenate([np.zeros(0), *(r.scores for r in results[c])]) for c in CLASSES)
    if not len(m) or not len(o):
        return ["(the goals need windows in both folders)"]
    s, y = np.r_[m, o], np.r_[np.ones(len(m)), np.zeros(len(o))]
    fpr, tpr, thr = metrics.roc(s, y)
    i = int(np.argmax(np.where(fpr <= GOAL_OTHER, tpr, -1)))
    j = int(np.argmax(tpr >= GOAL_MUSIC))
    both = "met" if fpr[j] <= GOAL_OTHER else "not met"
    return [f"Against the goals over every threshold (at least {100 * GOAL_MUSIC:.0f} % of "
            f"music windows flagged, at most {100 * GOAL_OTHER:.0f} % of the others; AUC "
            f"{metrics.auc(s, y):.4f}):",
            f"- the most music with at most {100 * GOAL_OTHER:.0f} % of the others: threshold "
            f"{min(thr[i], 1):.4f} flags {100 * tpr[i]:.1f} % of music, {100 * fpr[i]:.1f} % "
            "of the others",
            f"- the fewest others with at least {100 * GOAL_MUSIC:.0f} % of music: threshold "
            f"{thr[j]:.4f} flags {100 * tpr[j]:.1f} % of music, {100 * fpr[j]:.1f} % of the "
            "others",
            f"- both goals at one threshold: **{both}**"]


# ---------------------------------------------------------------------------- Debian set
PACKAGES = ("drascula-music", "lincity-ng-data", "ktuberling-data", "sound-theme-freedesktop",
            "alsa-utils")
# freedesktop sound -> (times played, pause after each, s)
EVERYDAY = {
    "alarm-clock-elapsed": (1, 0.5),
    "phone-incoming-call": (4, 1.0),
    "phone-outgoing-busy": (2, 0.2),
    "phone-outgoing-calling": (3, 2.0),
    "camera-shutter": (6, 0.8),
    "trash-empty": (4, 1.0),
    "audio-test-signal": (4, 0.5),
}


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RecordingsError(f"'{name}' not found on PATH: install the Debian package "
                              f"'{package}' (apt-get install -y {package})")
    return path


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=cwd)
    if r.returncode:
        last = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise RecordingsError(f"{' '.join(cmd[:3])} ...: failed ({last})")


def _sox(inputs: list[Path], dest: Path, *effects: str) -> None:
    """``inputs`` joined, as 16-bit mono at the chip's rate, without dither (repeatable)."""
    _run(["sox", "-q", "-R", "-D", *map(str, inputs), "-r", str(audio.SAMPLE_RATE), "-c", "1",
          "-b", "16", str(dest), *effects])


def fetch_debian(out: Path) -> list[Path]:
    """Download, unpack and convert the Debian set into ``out/{music,not_music}``.  Everything
    is made in a temporary folder first, so a failure leaves ``out`` as it was."""
    for tool, pkg in (("apt-get", "apt"), ("dpkg-deb", "dpkg"), ("sox", "sox")):
        _tool(tool, pkg)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _run(["apt-get", "download", *PACKAGES], cwd=t)
        for deb in t.glob("*.deb"):
            _run(["dpkg-deb", "-x", str(deb), str(t / "x")])
        x, new = t / "x", t / "new"
        for c in CLASSES:
            (new / c).mkdir(parents=True)
        lincity = x / "usr/share/games/lincity-ng"
        music = {"drascula": sorted((x / "usr/share/scummvm/drascula/audio").glob("*.ogg")),
                 "lincity": sorted((lincity / "music/default").glob("*.ogg"))}
        for name, tracks in music.items():
            if not tracks:
                raise RecordingsError(f"{name}: no .ogg tracks in its package")
            for i, p in enumerate(tracks):
                _sox([p], new / "music" / f"{name}_{i + 1:02d}.wav")
        theme = x / "usr/share/sounds/freedesktop/stereo"
        voices = {"alsa_voice": sorted((x / "usr/share/sounds/alsa").glob("*.wav")),
                  "freedesktop_voice": sorted(theme.glob("audio-channel-*.oga"))}
        for lang in sorted((x / "usr/share/ktuberling/sounds").iterdir()):
            words = sorted(lang.glob("*.ogg"))
            if len(words) >= 10:
                voices[f"ktuberling_{lang.name.replace('@', '_')}"] = words[:60]
        for name, files in voices.items():
            padded = [t / f"{name}_{i}.wav" for i in range(len(files))]
            for p, q in zip(files, padded, strict=True):
                _sox([p], q, "pad", "0", "0.3")
            _sox(padded, new / "not_music" / f"{name}.wav")
        for p in sorted((lincity / "sounds").glob("*.wav")):
            r = subprocess.run(["soxi", "-D", str(p)], capture_output=True, text=True)
            if r.returncode == 0 and float(r.stdout) >= 2.0:
                _sox([p], new / "not_music" / f"lincity_{p.stem}.wav")
        for name, (times, pause) in EVERYDAY.items():
            q = t / f"{name}.wav"
            _sox([theme / f"{name}.oga"], q, "pad", "0", str(pause))
            _sox([q] * times, new / "not_music" / f"{name}.wav")
        written = []
        for c in CLASSES:
            (out / c).mkdir(parents=True, exist_ok=True)
            for f in sorted((new / c).iterdir()):
                written.append(Path(shutil.move(f, out / c / f.name)))
    return written


# ---------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.recordings",
                                 description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("score", help="score DIR/music and DIR/not_music")
    s.add_argument("folder", type=Path, nargs="?", default=DEFAULT_DIR)
    s.add_argument("--weights", type=Path, default=TRAINED)
    s.add_argument("--threshold", type=float, default=None,
                   help="default: the weight file's training record")
    s.add_argument("--out", type=Path, default=DEFAULT_OUT)
    d = sub.add_parser("debian", help="fetch the recordings Debian packages ship")
    d.add_argument("--out", type=Path, default=DEFAULT_DIR)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "debian":
            files = fetch_debian(args.out)
            print(f"wrote {len(files)} files into {args.out}/music and {args.out}/not_music")
            return 0
        weights = DetectorWeights.load(args.weights)
        thr = args.threshold if args.threshold is not None else record_threshold(args.weights)
        if not 0.0 <= thr <= 1.0:
            raise RecordingsError(f"--threshold {thr}: must be in 0..1")
        text = report(score(args.folder, weights, thr), args.weights, thr)
    except (RecordingsError, audio.AudioError, ValueError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.md").write_text(text + "\n")
    print(text)
    print(f"\nwrote {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
