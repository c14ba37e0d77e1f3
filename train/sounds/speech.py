"""Speech: espeak-ng (many languages, variants, rates, pitches, SSML prosody), flite and
festival voices, and babble (several talkers at once).

A :class:`Voice` is one voice setting: the synthesizer, the voice, and for flite and festival
a rate/pitch combination; :func:`voices` lists every setting and which split owns it (by a
hash of its name, so train, validation and test never share a voice setting).  Texts are
seeded: English words and sentence frames, digits that the synthesizers read as numbers, and
pseudo-words from a syllable inventory that every language's rules pronounce their own way.
Each synthesizer's output is resampled to 16 kHz with an anti-aliasing filter, and a
resampling factor (vocal-tract and pitch shift together) makes the speaker vary further.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.io import wavfile
from scipy.signal import resample_poly

from train.sounds import F64, RATE, require, resample

# Arabic ("ar") is left out: espeak-ng 1.51 reads Latin-script text in it differently from
# run to run (uninitialised state), which would break the corpus's reproducibility.
ESPEAK_LANGS = (
    "af am bg bn bs ca cmn cs cy da de el en en-029 en-gb-scotland en-gb-x-rp en-us "
    "en-us-nyc eo es es-419 et eu fa fi fr-fr fr-be ga gu hi hr hu hy id is it ja ka kn ko "
    "la lv mk ml mr ms mt my nb ne nl pa pl pt pt-br ro ru sk sl sq sr sv sw ta te th tr uk "
    "ur vi yue"
).split()
ESPEAK_VARIANTS = (
    "m1 m2 m3 m4 m5 m6 m7 f1 f2 f3 f4 f5 Andy Annie Alex Alicia Antonio Auntie Boris Caleb "
    "David Denis Ed Edward Gene Hugo Iven Jacky John Linda Marco Michael Mike Paul Pedro Rob "
    "Robert Steph Zac anika grandpa klatt klatt2 klatt3 female2 female3 female4 croak "
    "whisper female_whisper"
).split()
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
FESTIVAL_VOICES = {"slt_hts": "voice_cmu_us_slt_arctic_hts", "kal": "voice_kal_diphone"}
STRETCHES = (0.8, 0.9, 1.0, 1.15, 1.3)  # duration stretch (flite, festival)
SHIFTS = (0.86, 0.93, 1.0, 1.07, 1.14)  # resampling factor: pitch and formants together

WORDS = (
    "the a to and of in is it you that he was for on are with as I his they be at one have "
    "this from or had by hot word but what some we can out other were all there when up use "
    "your how said an each she which do their time if will way about many then them write "
    "would like so these her long make thing see him two has look more day could go come did "
    "number sound no most people my over know water than call first who may down side been "
    "now find any new work part take get place made live where after back little only round "
    "man year came show every good me give our under name very through just form sentence "
    "great think say help low line differ turn cause much mean before move right boy old too "
    "same tell does set three want air well also play small end put home read hand port large "
    "spell add even land here must big high such follow act why ask men change went light "
    "kind off need house picture try us again animal point mother world near build self earth "
    "father head stand own page should country found answer school grow study still learn "
    "plant cover food sun four between state keep eye never last let thought city tree cross "
    "farm hard start might story saw far sea draw left late run don't while press close night "
    "real life few north open seem together next white children begin got walk example ease "
    "paper group always music those both mark often letter until mile river car feet care "
    "second book carry took science eat room friend began idea fish mountain stop once base "
    "hear horse cut sure watch color face wood main enough plain girl usual young ready above "
    "ever red list though feel talk bird soon body dog family direct pose leave song measure "
    "door product black short numeral class wind question happen complete ship area half rock "
    "order fire south problem piece told knew pass since top whole king space heard best hour "
    "better true during hundred five remember step early hold west ground interest reach fast "
    "verb sing listen six table travel less morning ten simple several vowel toward war lay "
    "against pattern slow center love person money serve appear road map rain rule govern "
    "pull cold notice voice unit power town fine certain fly fall lead cry dark machine note "
    "wait plan figure star box noun field rest correct able pound done beauty drive stood "
    "contain front teach week final gave green oh quick develop ocean warm free minute strong "
    "special mind behind clear tail produce fact street inch multiply nothing course stay "
    "wheel full force blue object decide surface deep moon island foot system busy test record"
).split()
FRAMES = (
    "{w} {w} {w} {w}.",
    "{W} {w} {w} {w} {w} {w}, {w} {w} {w}.",
    "Did {w} {w} the {w} {w}?",
    "{W} {w}! {W} {w} {w} {w}.",
    "The {w} {w} {n} {w} and {w} {w} {w}.",
    "{W} {w} {w}, {w} {w}, and {w} {w} {w} {w}.",
    "Please {w} the {w} {w} at {n} {w}.",
    "Why {w} {w} {w} {w} {w}? {W} {w} {w}.",
    "{W} {w} {w} {w} {w} {w} {w} {w} {w} {w}.",
    "{n}, {n}, {n}. {W} {w} {w}.",
    "Well, {w} {w} {w} {w}... {w} {w} {w}.",
)
SYLLABLES_C = "b d f g h j k l m n p r s t v w z ch sh th kr st pl tr gr br".split()
SYLLABLES_V = "a e i o u ai ei ou oo ee ia".split()


@dataclass(frozen=True)
class Voice:
    """One voice setting; ``name`` is its group id (the source id kept within one split)."""

    synth: str  # espeak | flite | festival
    voice: str  # espeak "<lang>+<variant>", flite voice, festival key
    stretch: float = 1.0
    shift: float = 1.0

    @property
    def name(self) -> str:
        if self.synth == "espeak":
            return f"espeak:{self.voice}"
        return f"{self.synth}:{self.voice}:x{self.stretch:g}:p{self.shift:g}"

    @property
    def split(self) -> str:
        """The split that owns this setting: 70 % train, 15 % val, 15 % test by hash."""
        h = int(hashlib.sha256(self.name.encode()).hexdigest()[:8], 16) % 100
        return "train" if h < 70 else "val" if h < 85 else "test"


def voices(synth: str) -> list[Voice]:
    """Every voice setting of one synthesizer."""
    if synth == "espeak":
        return [
            Voice("espeak", f"{lang}+{var}") for lang in ESPEAK_LANGS for var in ESPEAK_VARIANTS
        ]
    if synth == "flite":
        return [Voice("flite", v, x, p) for v in FLITE_VOICES for x in STRETCHES for p in SHIFTS]
    if synth == "festival":
        return [
            Voice("festival", v, x, p) for v in FESTIVAL_VOICES for x in STRETCHES for p in SHIFTS
        ]
    raise ValueError(f"unknown synthesizer {synth!r}")


def text(rng: np.random.Generator, *, english: bool = True) -> str:
    """A seeded utterance of one to three sentences."""

    def word() -> str:
        if english and rng.random() < 0.85:
            return str(rng.choice(WORDS))
        return "".join(
            str(rng.choice(SYLLABLES_C)) + str(rng.choice(SYLLABLES_V))
            for _ in range(int(rng.integers(1, 4)))
        )

    out = []
    for _ in range(int(rng.integers(1, 4))):
        frame = str(rng.choice(FRAMES))
        s = ""
        i = 0
        while i < len(frame):
            if frame.startswith("{w}", i):
                s += word()
                i += 3
            elif frame.startswith("{W}", i):
                s += word().capitalize()
                i += 3
            elif frame.startswith("{n}", i):
                s += str(int(rng.integers(0, 2000)))
                i += 3
            else:
                s += frame[i]
                i += 1
        out.append(s)
    return " ".join(out)


def _read(path: Path) -> F64:
    rate, data = wavfile.read(path)
    x = data.astype(np.float64)
    if data.dtype == np.int16:
        x /= 32768.0
    if x.ndim == 2:
        x = x.mean(axis=1)
    return resample(x, rate)


def _shift(x: F64, factor: float) -> F64:
    """Play ``x`` ``factor`` times faster (pitch and formants up by ``factor``)."""
    if factor == 1.0:
        return x
    up, down = int(round(100 / factor)), 100
    g = np.gcd(up, down)
    return resample_poly(x, up // g, down // g)


def espeak(voice: Voice, utterance: str, rng: np.random.Generator) -> F64:
    """espeak-ng speaking ``utterance`` with seeded rate, pitch, range and word gaps."""
    exe = require("espeak-ng", "espeak-ng")
    rate = int(rng.integers(95, 260))
    pitch = int(rng.integers(15, 85))
    gap = int(rng.choice([0, 0, 1, 3, 8]))
    # SSML prosody per sentence: pitch level and range vary along the utterance
    parts = []
    for sentence in (
        utterance.replace("? ", "?|").replace(". ", ".|").replace("! ", "!|").split("|")
    ):
        p = int(rng.integers(-30, 40))
        rg = str(rng.choice(["x-low", "low", "medium", "high", "x-high"]))
        parts.append(f'<prosody pitch="{p:+d}%" range="{rg}">{sentence}</prosody>')
    ssml = "<speak>" + " ".join(parts) + "</speak>"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "e.wav"
        done = subprocess.run(
            [
                exe,
                "-m",
                "-v",
                voice.voice,
                "-s",
                str(rate),
                "-p",
                str(pitch),
                "-g",
                str(gap),
                "-w",
                str(out),
                ssml,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"espeak-ng -v {voice.voice} failed: {done.stderr.strip()[-300:]}")
        return _read(out)


def flite(voice: Voice, utterance: str, rng: np.random.Generator) -> F64:
    """flite speaking ``utterance`` (seeded mean pitch), stretched and shifted per setting."""
    exe = require("flite", "flite")
    f0 = float(rng.uniform(80, 200))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "f.wav"
        done = subprocess.run(
            [
                exe,
                "-voice",
                voice.voice,
                "--setf",
                f"duration_stretch={voice.stretch}",
                "--setf",
                f"int_f0_target_mean={f0:.1f}",
                "-t",
                utterance,
                "-o",
                str(out),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"flite -voice {voice.voice} failed: {done.stderr.strip()[-300:]}")
        return _shift(_read(out), voice.shift)


def festival(jobs: list[tuple[Voice, str]]) -> list[F64]:
    """festival speaking each (voice, utterance), all in one festival run (its start-up is
    a second)."""
    exe = require("festival", "festival")
    if not jobs:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        lines = []
        for i, (voice, utt) in enumerate(jobs):
            safe = utt.replace("\\", " ").replace('"', " ")
            lines.append(f"({FESTIVAL_VOICES[voice.voice]})")
            lines.append(f"(Parameter.set 'Duration_Stretch {voice.stretch})")
            lines.append(
                f'(utt.save.wave (utt.synth (Utterance Text "{safe}")) "{tmp}/{i}.wav" \'riff)'
            )
        script = Path(tmp) / "run.scm"
        script.write_text("\n".join(lines) + "\n")
        done = subprocess.run([exe, "-b", str(script)], capture_output=True, text=True, check=False)
        outs = []
        for i, (voice, _) in enumerate(jobs):
            p = Path(tmp) / f"{i}.wav"
            if done.returncode != 0 or not p.exists():
                hint = ""
                if "voice_" in done.stderr or "unbound" in done.stderr:
                    hint = (
                        " (install the Debian packages 'festvox-us-slt-hts' and "
                        "'festvox-kallpc16k')"
                    )
                raise RuntimeError(f"festival failed{hint}: {done.stderr.strip()[-300:]}")
            outs.append(_shift(_read(p), voice.shift))
        return outs


def babble(talkers: list[F64], rng: np.random.Generator, n: int) -> F64:
    """Several talkers at once: each at a random offset and level within 6 dB, ``n`` samples."""
    out = np.zeros(n)
    for x in talkers:
        x = np.asarray(x, dtype=np.float64)
        r = np.sqrt(np.mean(x * x)) or 1.0
        start = int(rng.integers(-len(x) // 2, n // 2)) if len(x) else 0
        seg = np.zeros(n)
        lo, hi = max(0, start), min(n, start + len(x))
        if hi > lo:
            seg[lo:hi] = x[lo - start : hi - start]
        out += seg / r * 10 ** (rng.uniform(-6, 0) / 20)
    return out


def spaced(x: F64, rng: np.random.Generator, n: int) -> F64:
    """Speech read as a word list or dictated: the utterance cut where its level dips (between
    words and syllables, 10 ms frames 26 dB under its loudest) into its spoken pieces, with
    0.15-1.0 s of silence put between them, ``n`` samples from a random piece on."""
    x = np.asarray(x, dtype=np.float64)
    k = len(x) // 160
    out = np.zeros(n)
    if k == 0:
        return out
    e = np.sqrt(np.mean(x[: k * 160].reshape(k, 160) ** 2, axis=1))
    loud = np.concatenate([[False], e > 0.05 * e.max(), [False]])
    edges = np.flatnonzero(np.diff(loud.astype(np.int8)))
    pieces = [x[a * 160 : b * 160] for a, b in zip(edges[::2], edges[1::2], strict=True)]
    if not pieces:  # a silent utterance
        return out
    at = int(rng.uniform(0, 0.5) * RATE)
    i = int(rng.integers(len(pieces)))
    while at < n and i < len(pieces):
        seg = pieces[i][: n - at]
        out[at : at + len(seg)] = seg
        at += len(seg) + int(rng.uniform(0.15, 1.0) * RATE)
        i += 1
    return out


__all__ = ["RATE", "Voice", "babble", "espeak", "festival", "flite", "spaced", "text",
           "voices"]
