"""The training corpus: generated sounds mixed into one-window clips, labelled, split, and
stored with a manifest and a content hash (``docs/dataset.md``).

    python -m train.corpus build --out data/corpus --seed 1 --size default|tiny
    python -m train.corpus clips --out vectors        # the real-task clips of vectors/

A clip is exactly :data:`WINDOW_SAMPLES` = 400 + 197 * 160 int16 samples at 16 kHz: one
198-frame detector window.  Each split file ``<split>.npz`` holds

    codes       uint8  (N, 198, 32)  refmodel.mel.frontend.features(clip)
    label       uint8  (N,)          1 = music audible (:func:`label_for`)
    category    str    (N,)          "music/piano_solo", "speech/espeak", "mix/music+speech" ...
    group       str    (N,)          source ids joined by "|" (song seed, voice setting, noise
                                     seed); no source id is in two splits
    snr_db      float32 (N,)         music-to-rest ratio of a mixture with music; foreground-to-
                                     background of other mixtures; NaN for single sources
    level_dbfs  float32 (N,)         RMS level of the clip, dBFS
    audio       int16  (N, 31920)    the clips themselves (test split only)

:func:`build` writes them and ``manifest.json``; :func:`load` reads one split back.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import math
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from refmodel.mel.frontend import features
from train.sounds import (
    RATE,
    ToolMissing,
    effects,
    fit,
    music,
    noise,
    require,
    require_file,
    rms,
    tonal,
)
from train.sounds import speech as sp

FORMAT = "melstm-corpus"
VERSION = 1
FRAMES = 198
WINDOW_SAMPLES = 400 + (FRAMES - 1) * 160  # 31920: exactly one detector window
# samples generated before the window so reverb tails are already there; 4080 makes a clip
# 36000 samples, a length with small prime factors for the noise generators' FFTs
PRE_ROLL = 4080
SPLITS = ("train", "val", "test")
SIZES = {"default": (16000, 1300, 1300), "tiny": (24, 12, 12)}  # clips (train: per shard)
# the train split is this many shards of SIZES[0] clips; shard k is the train split that seed +
# k would generate (its own songs, texts and noise seeds; the training voices): more sources at
# the same size of val and test (a learning curve: docs/dataset.md)
TRAIN_SHARDS = {"default": 2, "tiny": 1}
SONG_SECONDS = 6.0
MUSIC_AUDIBLE_DB = -5.0  # music at or above this music-to-rest ratio: label 1
MUSIC_INAUDIBLE_DB = -30.0  # music at or below it counts as not audible: label 0
LABEL_RULE = (
    "label 1 (music) iff the clip contains generated music whose music-to-rest power ratio "
    f"over the window is >= {MUSIC_AUDIBLE_DB:g} dB (music alone: always 1, at any level "
    "-45..-6 dBFS); label 0 for clips without music and for mixtures whose music is at or "
    f"below {MUSIC_INAUDIBLE_DB:g} dB against the rest (inaudible under speech or noise); "
    f"ratios between {MUSIC_INAUDIBLE_DB:g} and {MUSIC_AUDIBLE_DB:g} dB are ambiguous and never "
    "generated.  The ratio is measured on the dry sources before the shared processing chain."
)
FIELDS = ("codes", "label", "category", "group", "snr_db", "level_dbfs")
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "data" / "corpus"

NOISE_KINDS = tuple(noise.KINDS)
TONAL_KINDS = tuple(tonal.KINDS)
MUSIC_STYLES = tuple(music.STYLES)

# music styles with more windows than the others: single lines and solo keys are the music the
# detector missed most (docs/dataset.md), and the ones most like tonal everyday sounds
MUSIC_BOOST = {"solo_melody": 2.0, "keys_solo": 2.0}
# noise kinds with more windows than the others: the periodic sounds are twelve sources in one
# kind, and a beat is what makes the detector fire on a machine or a heartbeat
NOISE_BOOST = {"periodic": 3.0}
# category -> relative weight in the default size
WEIGHTS: dict[str, float] = {
    **{f"music/{s}": 0.33 / len(MUSIC_STYLES) * MUSIC_BOOST.get(s, 1.0) for s in MUSIC_STYLES},
    "mix/music+speech": 0.05,
    "mix/music+babble": 0.025,
    "mix/music+noise": 0.04,
    "mix/music+tonal": 0.015,
    "mix/music+speech+noise": 0.025,
    "mix/faint_music+speech": 0.012,
    "mix/faint_music+noise": 0.012,
    "speech/espeak": 0.07,
    "speech/flite": 0.035,
    "speech/festival": 0.035,
    "speech/words": 0.03,  # any synthesizer, read as a word list (speech.spaced)
    "babble": 0.04,
    "scene": 0.03,  # an everyday scene: sounds that come and go over a bed (_scene)
    **{f"noise/{k}": 0.14 / len(NOISE_KINDS) * NOISE_BOOST.get(k, 1.0) for k in NOISE_KINDS},
    **{f"tonal/{k}": 0.16 / len(TONAL_KINDS) for k in TONAL_KINDS},
    "mix/speech+noise": 0.05,
    "mix/speech+tonal": 0.02,
    "mix/tonal+noise": 0.02,
    "mix/babble+noise": 0.015,
}
TINY_CATEGORIES = (
    "music/piano_solo",
    "music/drums_only",
    "music/band",
    "speech/espeak",
    "babble",
    "noise/pink",
    "scene",
    "tonal/dtmf",
    "tonal/siren",
    "mix/music+speech",
    "mix/speech+noise",
    "mix/faint_music+noise",
)
# Debian package -> what of it the build uses
DEB_PACKAGES = {
    "default": (
        "fluidsynth",
        "fluid-soundfont-gm",
        "timgm6mb-soundfont",
        "espeak-ng",
        "flite",
        "festival",
        "festvox-us-slt-hts",
        "festvox-kallpc16k",
    ),
    "tiny": ("fluidsynth", "timgm6mb-soundfont", "espeak-ng"),
}
FESTIVAL_VOICE_DIRS = {
    "festvox-us-slt-hts": "/usr/share/festival/voices/us/cmu_us_slt_arctic_hts",
    "festvox-kallpc16k": "/usr/share/festival/voices/english/kal_diphone",
}


class CorpusError(ValueError):
    """A corpus file is missing or malformed (one line naming the file and field)."""


# ---------------------------------------------------------------------------- labels
def label_for(has_music: bool, music_snr_db: float = math.nan) -> int:
    """The label rule (:data:`LABEL_RULE`): 1 if music is present and audible.

    ``music_snr_db`` is the music-to-rest power ratio of a mixture (NaN: music alone).
    Raises ValueError for a ratio in the ambiguous band that the corpus never generates.
    """
    if not has_music:
        return 0
    if math.isnan(music_snr_db) or music_snr_db >= MUSIC_AUDIBLE_DB:
        return 1
    if music_snr_db <= MUSIC_INAUDIBLE_DB:
        return 0
    raise ValueError(
        f"music-to-rest ratio {music_snr_db:.1f} dB is between "
        f"{MUSIC_INAUDIBLE_DB:g} and {MUSIC_AUDIBLE_DB:g} dB: ambiguous, not labelled"
    )


# ---------------------------------------------------------------------------- split file
@dataclass(frozen=True)
class Split:
    """One split: the arrays of ``<split>.npz`` (``audio`` is None outside the test split)."""

    name: str
    codes: npt.NDArray[np.uint8]
    label: npt.NDArray[np.uint8]
    category: npt.NDArray[np.str_]
    group: npt.NDArray[np.str_]
    snr_db: npt.NDArray[np.float32]
    level_dbfs: npt.NDArray[np.float32]
    audio: npt.NDArray[np.int16] | None = None

    def __len__(self) -> int:
        return int(self.label.shape[0])


def load(root: str | Path, split: str) -> Split:
    """Read ``<root>/<split>.npz``; one-line :class:`CorpusError` (a ValueError) naming the
    file and field when it is missing or malformed."""
    if split not in SPLITS:
        raise CorpusError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    path = Path(root) / f"{split}.npz"
    if not path.is_file():
        raise CorpusError(f"{path}: missing (run `make dataset`)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # zip, header or pickle errors: all one message
        raise CorpusError(
            f"{path}: not a readable npz file ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})"
        ) from None
    wanted = FIELDS + (("audio",) if split == "test" else ())
    for f in wanted:
        if f not in arrays:
            raise CorpusError(f"{path}: field '{f}' missing")
    n = arrays["label"].shape[0] if arrays["label"].ndim == 1 else -1
    expect = {
        "codes": (np.uint8, (n, FRAMES, 32)),
        "label": (np.uint8, (n,)),
        "snr_db": (np.float32, (n,)),
        "level_dbfs": (np.float32, (n,)),
        "category": (np.str_, (n,)),
        "group": (np.str_, (n,)),
        "audio": (np.int16, (n, WINDOW_SAMPLES)),
    }
    for f in wanted:
        dtype, shape = expect[f]
        a = arrays[f]
        ok_type = a.dtype.kind == "U" if dtype is np.str_ else a.dtype == dtype
        if not ok_type or a.shape != shape:
            raise CorpusError(
                f"{path}: field '{f}' is {a.dtype}{list(a.shape)}, expected "
                f"{np.dtype(dtype).name}{list(shape)}"
            )
    if n and not np.isin(arrays["label"], (0, 1)).all():
        raise CorpusError(f"{path}: field 'label' has values other than 0 and 1")
    return Split(
        name=split,
        **{f: arrays[f] for f in FIELDS},
        audio=arrays.get("audio") if split == "test" else None,
    )


def content_hash(root: str | Path) -> str:
    """sha256 over every split's arrays (name, dtype, shape, bytes) in a fixed order."""
    h = hashlib.sha256()
    for split in SPLITS:
        s = load(root, split)
        for f in FIELDS + (("audio",) if s.audio is not None else ()):
            a = np.ascontiguousarray(getattr(s, f))
            h.update(f"{split}/{f}/{a.dtype.str}/{a.shape}".encode())
            h.update(a.tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------------------- versions
def _deb_version(package: str) -> str:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return "unknown"
    return out.stdout.strip() or "not installed"


def _sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_tools(size: str) -> None:
    """Every synthesizer and data file the build of ``size`` uses, or :class:`ToolMissing`
    naming the Debian package."""
    require("fluidsynth", "fluidsynth")
    require("espeak-ng", "espeak-ng")
    fonts = ("timgm6mb",) if size == "tiny" else tuple(music.SOUNDFONTS)
    for name in fonts:
        require_file(*music.SOUNDFONTS[name])
    if size != "tiny":
        require("flite", "flite")
        require("festival", "festival")
        for package, d in FESTIVAL_VOICE_DIRS.items():
            if not Path(d).is_dir():
                raise ToolMissing(
                    f"{d} not found: install the Debian package '{package}' "
                    f"(apt-get install -y {package})"
                )


def versions(size: str) -> dict[str, object]:
    """What the corpus depends on: Debian packages, soundfont hashes, Python packages and a
    hash of the generator's own source."""
    import importlib.metadata

    import scipy

    src = hashlib.sha256()
    for p in sorted([HERE / "corpus.py", *(HERE / "sounds").glob("*.py")]):
        # the syntax tree, not the bytes: reformatting or comments do not void a cached build
        src.update(p.name.encode() + ast.dump(ast.parse(p.read_text())).encode())
    fonts = ("timgm6mb",) if size == "tiny" else tuple(music.SOUNDFONTS)
    return {
        "generator_sha256": src.hexdigest(),
        "debian": {p: _deb_version(p) for p in DEB_PACKAGES[size]},
        "soundfonts": {
            Path(music.SOUNDFONTS[f][0]).name: _sha256_file(music.SOUNDFONTS[f][0]) for f in fonts
        },
        "python": {
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "mido": importlib.metadata.version("mido"),
        },
    }


# ---------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class _Clip:
    category: str
    index: int  # clip index within the split
    songs: tuple[int, ...]  # indices into the split's song pool
    utts: tuple[int, ...]  # indices into the split's utterance pool
    snr_db: float  # drawn ratio (NaN for single sources)


def _allowed_program(split: str, soundfont: str, program: int) -> bool:
    """Some (soundfont, program) pairs are heard only in validation or only in test."""
    h = int(hashlib.sha256(f"{soundfont}:{program}".encode()).hexdigest()[:8], 16) % 100
    owner = "val" if h < 10 else "test" if h < 20 else "all"
    return owner in ("all", split)


def _song_specs(seed: int, split: str, count: int, tiny: bool) -> list[music.Song]:
    rng = np.random.default_rng([seed, SPLITS.index(split), 1])
    styles = ("piano_solo", "drums_only", "band") if tiny else MUSIC_STYLES
    out = []
    for k in range(count):
        song_seed = seed * 10_000_000 + SPLITS.index(split) * 1_000_000 + k
        style = styles[k % len(styles)]
        font = "timgm6mb" if tiny else str(rng.choice(list(music.SOUNDFONTS)))
        programs = []
        for role, pool in music.STYLES[style][1]:
            if role in ("drums", "perc"):
                continue
            allowed = [p for p in pool if _allowed_program(split, font, p)] or list(pool)
            # the held-out pairs of this split come up more often, so they are really heard
            held = [
                p
                for p in allowed
                if split != "train" and _allowed_program("train", font, p) is False
            ]
            pick = held if held and rng.random() < 0.5 else allowed
            programs.append(int(rng.choice(pick)))
        out.append(
            music.compose(
                song_seed,
                style=style,
                soundfont=font,
                seconds=SONG_SECONDS,
                programs=tuple(programs),
            )
        )
    return out


def _utt_specs(seed: int, split: str, count: int, tiny: bool) -> list[tuple[sp.Voice, str]]:
    rng = np.random.default_rng([seed, SPLITS.index(split), 2])
    synths = ("espeak",) if tiny else ("espeak", "espeak", "flite", "festival")
    pools = {s: [v for v in sp.voices(s) if v.split == split] for s in set(synths)}
    out = []
    for k in range(count):
        synth = synths[k % len(synths)]
        v = pools[synth][int(rng.integers(len(pools[synth])))]
        english = synth != "espeak" or v.voice.startswith("en")
        out.append((v, sp.text(rng, english=english)))
    return out


def _plan(seed: int, split: str, size: str) -> tuple[list[_Clip], int, int]:
    """The clips of one split, and how many songs and utterances they draw from."""
    n = SIZES[size][SPLITS.index(split)]
    rng = np.random.default_rng([seed, SPLITS.index(split), 0])
    if size == "tiny":
        cats = [TINY_CATEGORIES[i % len(TINY_CATEGORIES)] for i in range(n)]
    else:
        names = sorted(WEIGHTS)
        w = np.array([WEIGHTS[c] for c in names])
        counts = np.floor(w / w.sum() * n).astype(int)
        for i in np.argsort(-(w / w.sum() * n - counts))[: n - counts.sum()]:
            counts[i] += 1
        cats = [c for c, k in zip(names, counts, strict=True) for _ in range(k)]
    n_music = sum(1 for c in cats if "music" in c)
    n_speech = sum(1 for c in cats if "speech" in c or "babble" in c or c == "scene")
    n_songs = max(3, int(math.ceil(n_music / 2)))
    n_utts = max(6, int(math.ceil(n_speech / 1.2)))
    clips = []
    for i, cat in enumerate(cats):
        songs: tuple[int, ...] = ()
        utts: tuple[int, ...] = ()
        snr = math.nan
        if "music" in cat:
            styled = cat.startswith("music/")
            if styled and size != "tiny":
                # a song of the requested style: songs are laid out round-robin by style
                s = MUSIC_STYLES.index(cat.split("/")[1])
                k = int(
                    rng.integers(
                        0, max(1, (n_songs - s + len(MUSIC_STYLES) - 1) // len(MUSIC_STYLES))
                    )
                )
                songs = (min(s + k * len(MUSIC_STYLES), n_songs - 1),)
            elif styled:
                songs = (("piano_solo", "drums_only", "band").index(cat.split("/")[1]) % n_songs,)
            else:
                songs = (int(rng.integers(n_songs)),)
        if "speech" in cat:
            utts = (int(rng.integers(n_utts)),)
        if "babble" in cat or cat == "scene":
            utts = tuple(
                int(u) for u in rng.choice(n_utts, size=int(rng.integers(3, 7)), replace=False)
            )
        if cat.startswith("mix/"):
            if "faint_music" in cat:
                snr = float(rng.uniform(MUSIC_INAUDIBLE_DB - 15.0, MUSIC_INAUDIBLE_DB))
            elif "music" in cat:
                snr = float(rng.uniform(MUSIC_AUDIBLE_DB, 20.0))
            else:
                snr = float(rng.uniform(-5.0, 25.0))
        clips.append(_Clip(cat, i, songs, utts, snr))
    return clips, n_songs, n_utts


# ---------------------------------------------------------------------------- workers
# filled in the parent before the clip workers fork; float32 as rendered (a clip converts only
# the stretch it uses to float64, so the values are those of a float64 pool at half the memory)
_POOL: dict[str, list[np.ndarray]] = {}


def _render_songs(specs: list[music.Song]) -> list[np.ndarray]:
    return [x.astype(np.float32) for x in music.render(specs)]


def _render_utts(args: tuple[int, list[int], list[tuple[sp.Voice, str]]]) -> list[np.ndarray]:
    seed, index, jobs = args
    if jobs and jobs[0][0].synth == "festival":
        return [x.astype(np.float32) for x in sp.festival(jobs)]
    out = []
    for k, (voice, utt) in enumerate(jobs):
        rng = np.random.default_rng([seed, index[k], 3])
        fn = sp.espeak if voice.synth == "espeak" else sp.flite
        out.append(fn(voice, utt, rng).astype(np.float32))
    return out


def _music_window(song: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """A stretch of the song that is not (nearly) silent."""
    best, best_r = None, -1.0
    whole = rms(song)
    for _ in range(6):
        x = fit(song, n, rng)
        r = rms(x)
        if r > 0.25 * whole:
            return x
        if r > best_r:
            best, best_r = x, r
    return best


# the events of a scene (_scene), each at most once
SCENE_EVENTS = ("talker", "babble", "tonal", "periodic", "noise")


def _scene(rng: np.random.Generator, n: int, talkers: list[np.ndarray],
           bed: Callable[[], np.ndarray]) -> np.ndarray:
    """An everyday scene without music, like a recorded ambience (a street, a school yard, a
    farm, a station): a background bed (``bed()``, one of :data:`noise.BACKGROUNDS`) under two
    to four of :data:`SCENE_EVENTS` (a near talker, distant babble of the other talkers, a
    tonal sound, a periodic sound, another noise), each coming and going: on for 0.3 to 1.5
    windows from a random start, with 20-300 ms fades, at -15..+10 dB against the bed."""
    out = bed()
    ref = rms(out) or 1.0
    t = np.arange(n)
    for kind in rng.choice(SCENE_EVENTS, size=int(rng.integers(2, 5)), replace=False):
        if kind == "talker":
            x = fit(talkers[0], n, rng)
        elif kind == "babble":
            x = sp.babble(talkers[1:], rng, n)
        elif kind == "tonal":
            x = tonal.KINDS[str(rng.choice(TONAL_KINDS))](rng, n)
        elif kind == "periodic":
            x = noise.periodic(rng, n)
        else:
            x = noise.KINDS[str(rng.choice(noise.BACKGROUNDS))](rng, n)
        start = rng.uniform(-0.5, 0.8) * n
        stop = start + rng.uniform(0.3, 1.5) * n
        fade = rng.uniform(0.02, 0.3) * RATE
        gate = np.clip(np.minimum(t - start, stop - t) / fade, 0.0, 1.0)
        r = rms(x)
        if r > 0:
            out = out + x * gate * (ref / r) * 10 ** (rng.uniform(-15, 10) / 20)
    return out


def _mix(fg: np.ndarray, bg: np.ndarray, snr_db: float) -> np.ndarray:
    """``fg + bg`` with the fg-to-bg power ratio set to ``snr_db`` (fg keeps its level)."""
    rf, rb = rms(fg), rms(bg)
    if rb == 0 or rf == 0:
        return fg + bg
    return fg + bg * (rf / rb) / 10 ** (snr_db / 20)


def _make_clip(args: tuple[int, str, _Clip]) -> dict[str, object]:
    seed, split, clip = args
    rng = np.random.default_rng([seed, SPLITS.index(split), 100, clip.index])
    n = WINDOW_SAMPLES + PRE_ROLL
    songs, utts = _POOL[f"{split}/songs"], _POOL[f"{split}/utts"]
    groups = _POOL[f"{split}/song_groups"], _POOL[f"{split}/utt_groups"]
    gen_id = f"gen{seed}.{SPLITS.index(split)}.{clip.index}"
    cat = clip.category
    parts: list[str] = []

    def speech_part() -> np.ndarray:
        parts.append(groups[1][clip.utts[0]])
        return fit(utts[clip.utts[0]], n, rng)

    def babble_part() -> np.ndarray:
        parts.extend(groups[1][u] for u in clip.utts)
        return sp.babble([utts[u] for u in clip.utts], rng, n)

    def music_part() -> np.ndarray:
        parts.append(groups[0][clip.songs[0]])
        return _music_window(songs[clip.songs[0]], rng, n)

    def noise_part(kinds: tuple[str, ...] = noise.BACKGROUNDS) -> np.ndarray:
        parts.append(gen_id)
        return noise.KINDS[str(rng.choice(kinds))](rng, n)

    def tonal_part() -> np.ndarray:
        parts.append(gen_id)
        return tonal.KINDS[str(rng.choice(TONAL_KINDS))](rng, n)

    has_music = "music" in cat
    snr = clip.snr_db
    keep_level = False
    if cat.startswith("music/"):
        x = music_part()
    elif cat == "speech/words":
        parts.append(groups[1][clip.utts[0]])
        x = sp.spaced(utts[clip.utts[0]], rng, n)
    elif cat.startswith("speech/"):
        x = speech_part()
    elif cat == "babble":
        x = babble_part()
    elif cat == "scene":
        x = _scene(rng, n, [utts[u] for u in clip.utts], noise_part)
        parts.extend(groups[1][u] for u in clip.utts)
    elif cat.startswith("noise/"):
        x = noise_part((cat.split("/")[1],))
        keep_level = cat == "noise/silence"
    elif cat.startswith("tonal/"):
        parts.append(gen_id)
        x = tonal.KINDS[cat.split("/")[1]](rng, n)
    else:
        fg_name, *rest = cat.split("/")[1].split("+")
        others = []
        for r in rest:
            others.append(
                {
                    "speech": speech_part,
                    "babble": babble_part,
                    "noise": noise_part,
                    "tonal": tonal_part,
                }[r]()
            )
        fg = {
            "music": music_part,
            "faint_music": music_part,
            "speech": speech_part,
            "babble": babble_part,
            "tonal": tonal_part,
        }[fg_name]()
        if len(others) == 2:  # speech + noise under the music: noise 0..15 dB under the speech
            others = [_mix(others[0], others[1], float(rng.uniform(0, 15)))]
        x = _mix(fg, others[0], snr)
    label = label_for(has_music, snr if has_music else math.nan)
    y, _, _ = effects.chain(x, rng, keep_level=keep_level)
    audio = effects.to_int16(y[PRE_ROLL:])
    codes = features(audio)
    level = 20 * math.log10(max(rms(audio / 32768.0), 1e-10))
    return {
        "codes": codes,
        "label": label,
        "category": cat,
        "group": "|".join(parts),
        "snr_db": snr,
        "level_dbfs": level,
        "audio": audio if split == "test" else None,  # only the test split keeps its audio
    }


# ---------------------------------------------------------------------------- build
def _progress(what: str, done: int, total: int, t0: float) -> None:
    """A progress line: rewritten in place on a terminal, every tenth of the way otherwise."""
    line = f"  {what}: {done}/{total}  ({time.time() - t0:5.1f} s)"
    if sys.stdout.isatty():
        print("\r" + line, end="\n" if done == total else "", flush=True)
    elif done == total or done % max(1, total // 10) == 0:
        print(line, flush=True)


def _run(pool, fn, tasks: list, what: str) -> list:
    t0 = time.time()
    out = []
    for i, r in enumerate(pool.imap(fn, tasks) if pool else map(fn, tasks)):
        out.append(r)
        _progress(what, i + 1, len(tasks), t0)
    return out


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _manifest_matches(out: Path, seed: int, size: str, vers: dict[str, object]) -> bool:
    try:
        m = json.loads((out / "manifest.json").read_text())
        same = (
            m.get("format") == FORMAT
            and m.get("version") == VERSION
            and m.get("seed") == seed
            and m.get("size") == size
            and m.get("versions") == vers
        )
        return bool(same and content_hash(out) == m.get("content_sha256"))
    except (OSError, ValueError):
        return False


def _build_part(
    seed: int, splits: tuple[str, ...], size: str, jobs: int
) -> dict[str, tuple[dict[str, np.ndarray], int, int]]:
    """Render the sources of ``splits`` for ``seed`` and make their clips: per split, the
    arrays of its file, and how many songs and utterances it drew from."""
    tiny = size == "tiny"
    ctx = multiprocessing.get_context("fork")
    plans = {s: _plan(seed, s, size) for s in splits}
    # 1. sources: songs (FluidSynth, batched per soundfont) and utterances
    song_specs = {s: _song_specs(seed, s, plans[s][1], tiny) for s in splits}
    utt_specs = {s: _utt_specs(seed, s, plans[s][2], tiny) for s in splits}
    song_tasks, song_index = [], []
    for s in splits:
        for font in music.SOUNDFONTS:
            idx = [i for i, g in enumerate(song_specs[s]) if g.soundfont == font]
            for chunk in _chunks(idx, 48):
                song_tasks.append([song_specs[s][i] for i in chunk])
                song_index.append((s, chunk))
    utt_tasks, utt_index = [], []
    for s in splits:
        for synth, per in (("festival", 20), ("espeak", 40), ("flite", 20)):
            idx = [i for i, (v, _) in enumerate(utt_specs[s]) if v.synth == synth]
            for chunk in _chunks(idx, per):
                utt_tasks.append(
                    (seed * 1000 + SPLITS.index(s), chunk, [utt_specs[s][i] for i in chunk])
                )
                utt_index.append((s, chunk))
    with ctx.Pool(jobs) as pool:
        rendered = _run(pool, _render_songs, song_tasks, "songs (FluidSynth)")
        spoken = _run(pool, _render_utts, utt_tasks, "utterances (espeak-ng, flite, festival)")
    for s in splits:
        _POOL[f"{s}/songs"] = [np.zeros(0)] * len(song_specs[s])
        _POOL[f"{s}/utts"] = [np.zeros(0)] * len(utt_specs[s])
        _POOL[f"{s}/song_groups"] = [g.group for g in song_specs[s]]
        _POOL[f"{s}/utt_groups"] = [v.name for v, _ in utt_specs[s]]
    for (s, chunk), xs in zip(song_index, rendered, strict=True):
        for i, x in zip(chunk, xs, strict=True):
            _POOL[f"{s}/songs"][i] = x
    for (s, chunk), xs in zip(utt_index, spoken, strict=True):
        for i, x in zip(chunk, xs, strict=True):
            _POOL[f"{s}/utts"][i] = x
    del rendered, spoken
    # 2. clips: mix, process, label, features (workers fork with the pools in memory)
    out = {}
    with ctx.Pool(jobs) as pool:
        for s in splits:
            rows = _run(pool, _make_clip, [(seed, s, c) for c in plans[s][0]], f"{s} clips")
            arrays = {
                "codes": np.stack([r["codes"] for r in rows]).astype(np.uint8),
                "label": np.array([r["label"] for r in rows], dtype=np.uint8),
                "category": np.array([r["category"] for r in rows], dtype=np.str_),
                "group": np.array([r["group"] for r in rows], dtype=np.str_),
                "snr_db": np.array([r["snr_db"] for r in rows], dtype=np.float32),
                "level_dbfs": np.array([r["level_dbfs"] for r in rows], dtype=np.float32),
            }
            if s == "test":
                arrays["audio"] = np.stack([r["audio"] for r in rows]).astype(np.int16)
            out[s] = (arrays, len(song_specs[s]), len(utt_specs[s]))
    _POOL.clear()
    return out


def build(
    out: str | Path = DEFAULT_OUT,
    *,
    seed: int = 1,
    size: str = "default",
    jobs: int | None = None,
    force: bool = False,
) -> dict[str, object]:
    """Generate the corpus into ``out`` (split files and ``manifest.json``); return the
    manifest.  Returns at once when ``out`` already holds the same build (cached)."""
    if size not in SIZES:
        raise ValueError(f"size {size!r} is not one of {', '.join(SIZES)}")
    out = Path(out)
    check_tools(size)
    vers = versions(size)
    if not force and _manifest_matches(out, seed, size, vers):
        m = json.loads((out / "manifest.json").read_text())
        print(
            f"dataset: {out} already holds seed {seed}, size {size} "
            f"(content sha256 {m['content_sha256'][:16]}...): cached, nothing to do"
        )
        return m
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)
    jobs = jobs or os.cpu_count() or 1
    t_start = time.time()
    print(f"dataset: building seed {seed}, size {size} into {out} on {jobs} processes")
    parts = [_build_part(seed, SPLITS, size, jobs)]
    for k in range(1, TRAIN_SHARDS[size]):
        print(f"dataset: train shard {k + 1} of {TRAIN_SHARDS[size]} (seed {seed + k})")
        parts.append(_build_part(seed + k, ("train",), size, jobs))
    counts: dict[str, object] = {}
    for s in SPLITS:
        got = [part[s] for part in parts if s in part]
        arrays = {f: np.concatenate([a[f] for a, _, _ in got]) for f in got[0][0]}
        np.savez(out / f"{s}.npz", **arrays)
        cats: dict[str, int] = {}
        for c in arrays["category"]:
            cats[str(c)] = cats.get(str(c), 0) + 1
        counts[s] = {
            "clips": len(arrays["label"]),
            "music": int(arrays["label"].sum()),
            "not_music": int(len(arrays["label"]) - arrays["label"].sum()),
            "songs": sum(n for _, n, _ in got),
            "utterances": sum(n for _, _, n in got),
            "categories": dict(sorted(cats.items())),
        }
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "seed": seed,
        "size": size,
        "train_shard_seeds": [seed + k for k in range(TRAIN_SHARDS[size])],
        "window_samples": WINDOW_SAMPLES,
        "frames": FRAMES,
        "sample_rate": RATE,
        "label_rule": LABEL_RULE,
        "versions": vers,
        "counts": counts,
        "files": [f"{s}.npz" for s in SPLITS],
        "content_sha256": content_hash(out),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(
        f"dataset: {sum(c['clips'] for c in counts.values())} clips in "
        f"{time.time() - t_start:.1f} s; content sha256 {manifest['content_sha256']}"
    )
    for s in SPLITS:
        c = counts[s]
        print(
            f"  {s:5s} {c['clips']:5d} clips  music {c['music']:5d}  not music "
            f"{c['not_music']:5d}  ({c['songs']} songs, {c['utterances']} utterances)"
        )
    return manifest


# ---------------------------------------------------------------------------- real-task clips
TASK_CLIPS = ("music", "speech", "mix")
TASK_SAMPLES = 64000  # 4.0 s: two full detector windows (63 600 samples) and a partial frame


def task_clips(out: str | Path, *, seed: int = 15) -> list[Path]:
    """Write ``task_{music,speech,mix}_16k.wav``: two detector windows each, for the chip's
    regression (vectors/README.md).  Music: a "pop" song (FluidR3); speech: espeak-ng en-us
    (a test-split voice); mix: the song under the speech at +3 dB music-to-speech with a little
    pink noise.  Needs fluidsynth, fluid-soundfont-gm and espeak-ng."""
    from refmodel import audio as ra

    n = TASK_SAMPLES
    rng = np.random.default_rng(seed)
    song = music.render([music.compose(seed, style="pop", soundfont="fluidr3", seconds=6.0)])[0]
    talk = sp.espeak(
        sp.Voice("espeak", "en-us+David"),
        "Turn the lights down in the kitchen, and then call me back at seven "
        "fifteen. Did you hear what I said about the weather tomorrow?",
        rng,
    )
    m = effects.set_level(fit(song, n), -20.0)
    s = effects.set_level(fit(talk, n), -22.0)
    pink = effects.set_level(noise.pink(rng, n), -45.0)
    mix = _mix(m, s, 3.0)
    mix = effects.set_level(mix + pink, -20.0)
    out = Path(out)
    paths = []
    for name, x in (("music", m), ("speech", s), ("mix", mix)):
        p = out / f"task_{name}_16k.wav"
        ra.write_wav(p, effects.to_int16(x))
        paths.append(p)
    return paths


# ---------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.corpus", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="generate the corpus (cached when already built)")
    b.add_argument("--out", default=str(DEFAULT_OUT))
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--size", choices=sorted(SIZES), default="default")
    b.add_argument("-j", "--jobs", type=int, default=None)
    b.add_argument("--force", action="store_true", help="rebuild even when cached")
    c = sub.add_parser("clips", help="write the real-task clips task_*_16k.wav")
    c.add_argument("--out", default=str(HERE.parent / "vectors"))
    c.add_argument("--seed", type=int, default=15)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "build":
            build(args.out, seed=args.seed, size=args.size, jobs=args.jobs, force=args.force)
        else:
            for p in task_clips(args.out, seed=args.seed):
                print(p)
    except ToolMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
