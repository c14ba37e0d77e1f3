"""Music: MIDI songs generated from a seed (mido), rendered by FluidSynth with a GM soundfont.

A :class:`Song` is a list of notes on up to 16 MIDI channels with their GM programs, made by
:func:`compose` from a style (:data:`STYLES`: sparse solos to dense band mixes, drums alone,
choirs, synths ...), a key, a mode, a meter, a tempo and a seed: a chord progression in the
mode, a melody built from repeated and varied motifs, accompaniment patterns (block chords,
arpeggios, Alberti bass, strums, pads, waltz), bass lines (root, root-fifth, octave, walking),
drum grooves from eight GM kits with fills, humanized timing and velocities, and controller
motion (expression swells, vibrato, pitch bends, sustain pedal).

:func:`render` writes many songs into one MIDI file, each in its own time slot with every
channel reset between slots, and renders it in one FluidSynth run (loading a soundfont costs
up to a second; the songs of a batch share it), FluidSynth's own reverb and chorus off (the
corpus applies one processing chain to every clip, music or not).
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

from train.sounds import F64, RATE, require, require_file

# name -> (path, Debian package)
SOUNDFONTS = {
    "fluidr3": ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "fluid-soundfont-gm"),
    "timgm6mb": ("/usr/share/sounds/sf2/TimGM6mb.sf2", "timgm6mb-soundfont"),
}
DRUM_CHANNEL = 9
DRUM_KITS = (
    0,
    8,
    16,
    24,
    25,
    32,
    40,
    48,
)  # standard, room, power, electronic, 808, jazz, brush, orchestra

MODES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
}
# progressions as scale degrees (0-based); the mode decides the chord qualities
PROGRESSIONS = (
    (0, 4, 5, 3),
    (0, 5, 3, 4),
    (1, 4, 0, 0),
    (0, 3, 4, 4),
    (0, 3, 0, 4),
    (5, 3, 0, 4),
    (0, 6, 5, 4),
    (0, 0, 3, 3, 0, 0, 4, 3),
    (0, 2, 5, 4),
    (0, 3, 6, 2, 5, 1, 4, 0),
    (0, 5, 1, 4),
    (0, 0, 0, 0, 3, 3, 0, 0, 4, 3, 0, 4),
)

# GM program families (0-based program numbers)
PIANO = tuple(range(0, 8))
MALLET = tuple(range(8, 16))
ORGAN = tuple(range(16, 24))
GUITAR = tuple(range(24, 32))
BASS = tuple(range(32, 40))
STRINGS_SOLO = (40, 41, 42, 43, 45, 46)
ENSEMBLE = (48, 49, 50, 51)
CHOIR = (52, 53, 54)
BRASS = tuple(range(56, 64))
REED = tuple(range(64, 72))
PIPE = tuple(range(72, 80))
LEAD = tuple(range(80, 88))
PAD = tuple(range(88, 96))
SYNTH_FX = (96, 98, 99, 100, 101, 102)
ETHNIC = tuple(range(104, 112))
CHORDAL = PIANO + ORGAN + GUITAR[:6] + ENSEMBLE + PAD + (11, 12, 46)
MELODIC = (
    PIANO
    + MALLET
    + ORGAN
    + GUITAR
    + STRINGS_SOLO
    + CHOIR
    + BRASS
    + REED
    + PIPE
    + LEAD
    + ETHNIC
    + (54, 55)
)

# style -> (tempo range bpm, parts); every part: (role, program pool)
STYLES: dict[str, tuple[tuple[int, int], tuple[tuple[str, tuple[int, ...]], ...]]] = {
    "piano_solo": ((50, 150), (("melody", PIANO), ("keys", PIANO))),
    "keys_solo": ((50, 140), (("keys", PIANO + ORGAN + MALLET),)),
    "guitar_solo": ((60, 150), (("strum", GUITAR[:6]), ("melody", GUITAR))),
    "strings": (
        (50, 130),
        (("pad", ENSEMBLE + (48, 49)), ("melody", STRINGS_SOLO), ("bass", (42, 43, 32))),
    ),
    "brass_winds": (
        (70, 160),
        (
            ("melody", BRASS + REED + PIPE),
            ("pad", BRASS + REED + ENSEMBLE),
            ("bass", (58, 43, 70, 32)),
        ),
    ),
    "organ": ((60, 140), (("keys", ORGAN), ("bass", (19, 20, 32, 33)))),
    "synth": (
        (80, 170),
        (("pad", PAD), ("melody", LEAD), ("arp", LEAD + MALLET + (81, 84)), ("bass", (38, 39, 87))),
    ),
    "ambient": (
        (50, 90),
        (("pad", PAD + ENSEMBLE + CHOIR), ("sparse", MALLET + PIPE + (46, 108, 88, 89))),
    ),
    "choir": ((50, 110), (("pad", CHOIR), ("melody", CHOIR + (52, 53)))),
    "mallets_ethnic": (
        (70, 160),
        (("melody", MALLET + ETHNIC), ("arp", MALLET + ETHNIC + (46, 24))),
    ),
    "solo_melody": ((60, 170), (("melody", MELODIC),)),
    "drums_only": ((70, 180), (("drums", ()),)),
    "percussion": ((80, 170), (("perc", ()),)),
    "bass_drums": ((80, 140), (("bass", BASS), ("drums", ()))),
    "band": ((80, 175), (("drums", ()), ("bass", BASS), ("strum", CHORDAL), ("melody", MELODIC))),
    "pop": (
        (90, 130),
        (
            ("drums", ()),
            ("bass", BASS),
            ("keys", PIANO + PAD),
            ("melody", LEAD + CHOIR + REED + GUITAR),
            ("pad", PAD + ENSEMBLE),
        ),
    ),
    "rock": (
        (100, 180),
        (
            ("drums", ()),
            ("bass", (33, 34, 35, 36, 37)),
            ("strum", (29, 30, 27, 26)),
            ("melody", (29, 30, 81, 16, 18, 65, 56)),
        ),
    ),
    "jazz": (
        (70, 200),
        (
            ("drums", ()),
            ("walking", (32, 35)),
            ("keys", (0, 1, 4, 11, 16)),
            ("melody", (65, 66, 56, 59, 26, 11, 73, 57)),
        ),
    ),
    "orchestral": (
        (50, 140),
        (
            ("pad", ENSEMBLE),
            ("melody", STRINGS_SOLO + BRASS[:5] + PIPE[:4] + REED[4:]),
            ("bass", (42, 43, 58, 70)),
            ("timpani", (47,)),
            ("arp", (46, 48, 8, 9)),
        ),
    ),
    "electronic": (
        (110, 150),
        (
            ("drums", ()),
            ("bass", (38, 39, 87, 81)),
            ("arp", LEAD + (81, 84, 98)),
            ("pad", PAD + SYNTH_FX),
        ),
    ),
    "latin_folk": (
        (80, 160),
        (
            ("perc", ()),
            ("strum", (24, 25, 105, 106, 21, 23)),
            ("melody", (73, 75, 22, 40, 105, 110, 109, 71)),
            ("bass", (32, 43)),
        ),
    ),
}

# drum patterns: 16 steps per bar of 4/4 (12 for 3/4 and 6/8); strings of per-step hits
GROOVES_44 = (
    {36: "x.......x.......", 38: "....x.......x...", 42: "x.x.x.x.x.x.x.x."},
    {36: "x.....x...x.....", 38: "....x.......x...", 42: "xxxxxxxxxxxxxxxx"},
    {
        36: "x...x...x...x...",
        39: "....x.......x...",
        46: "..x...x...x...x.",
        42: "x...x...x...x...",
    },
    {36: "x..x..x...x.....", 38: "....x..x....x...", 42: "x.x.x.x.x.x.x.x."},
    {36: "x.......x.x.....", 38: "........x.......", 51: "x.x.x.x.x.x.x.x."},
    {36: "x..x....x..x....", 37: "..x..x....x..x..", 42: "x.x.x.x.x.x.x.x."},
    {
        36: "x.........x.....",
        38: "....x.......x..x",
        42: "x.xxx.xxx.xxx.xx",
        46: "...............x",
    },
    {36: "x...............", 51: "x..x.xx..x.xx..x", 44: "....x.......x..."},
    {
        35: "x.......x.......",
        40: "....x.......x...",
        42: "x.x.x.x.x.x.x.x.",
        54: "..x...x...x...x.",
    },
)
GROOVES_34 = (
    {36: "x...........", 38: "....x...x...", 42: "x.x.x.x.x.x."},
    {36: "x.....x.....", 38: "...x.....x..", 51: "x..x..x..x.."},
    {36: "x...........", 44: "....x...x...", 51: "x.....x.xx.x"},
)
PERC_PATTERNS = (
    {
        62: "x..x..x...x.x...",
        63: "..x...x...x..x..",
        64: "x.......x.......",
        70: "xxxxxxxxxxxxxxxx",
    },
    {60: "x.x...x.x.x...x.", 61: "...x.x.....x.x..", 75: "x..x..x...x.x..."},
    {
        76: "x..x..x.x..x..x.",
        77: "..x.x.....x.x...",
        82: "x.x.x.x.x.x.x.x.",
        56: "x...x...x...x...",
    },
    {
        41: "x.....x.....x...",
        43: "...x.....x....x.",
        45: "......x......x..",
        54: "x.x.x.x.x.x.x.x.",
    },
)
FILL_TOMS = (50, 48, 47, 45, 43, 41)


@dataclass(frozen=True)
class Song:
    """A generated song: its identity, its parts and its notes.

    ``notes`` rows: (start s, duration s, channel, pitch, velocity); ``programs`` maps
    channel -> GM program (the drum channel 9 -> kit number); ``controls`` rows:
    (time s, channel, controller or -1 for pitch bend, value).
    """

    seed: int
    style: str
    soundfont: str
    seconds: float
    tempo: float
    key: int
    mode: str
    meter: int
    programs: tuple[tuple[int, int], ...]
    notes: tuple[tuple[float, float, int, int, int], ...]
    controls: tuple[tuple[float, int, int, int], ...]

    @property
    def group(self) -> str:
        """Source id: one song seed, never in two splits."""
        return f"song{self.seed}"


class _Composer:
    """Builds one song's notes from the harmonic frame (private to :func:`compose`)."""

    def __init__(
        self,
        rng: np.random.Generator,
        seconds: float,
        tempo: float,
        key: int,
        mode: str,
        meter: int,
        progression: tuple[int, ...],
    ) -> None:
        self.rng = rng
        self.seconds = seconds
        self.beat = 60.0 / tempo
        self.meter = meter  # beats per bar: 4, 3, or 2 compound beats (6/8, triplet feel)
        self.triplet = meter == 2
        self.steps = 12 if meter in (2, 3) else 16
        self.bar = self.beat * (meter if meter != 2 else 2)
        self.scale = MODES[mode]
        self.key = key
        self.prog = progression
        self.swing = float(rng.choice([0.0, 0.0, 0.0, 0.12, 0.2]))
        self.jitter = float(rng.uniform(0.0, 0.015))
        self.notes: list[tuple[float, float, int, int, int]] = []
        self.controls: list[tuple[float, int, int, int]] = []
        self.n_bars = int(np.ceil(seconds / self.bar)) + 1
        self.bars_per_chord = int(rng.choice([1, 1, 2])) if len(progression) <= 4 else 1

    # ---- harmony
    def chord_at(self, bar: int) -> int:
        return self.prog[(bar // self.bars_per_chord) % len(self.prog)]

    def pitch(self, degree: int, octave: int) -> int:
        d, o = degree % 7, degree // 7
        return 12 * (octave + o + 1) + self.key + self.scale[d]

    def chord_pitches(self, bar: int, octave: int, size: int = 3) -> list[int]:
        root = self.chord_at(bar)
        return [self.pitch(root + 2 * i, octave) for i in range(size)]

    # ---- note helpers
    def add(self, t: float, dur: float, ch: int, pitch: int, vel: float) -> None:
        t = max(0.0, t + float(self.rng.normal(0.0, self.jitter)))
        if t >= self.seconds or not 0 <= pitch <= 127:
            return
        dur = min(max(dur, 0.03), self.seconds - t)
        v = int(np.clip(vel + self.rng.normal(0.0, 6.0), 15, 127))
        self.notes.append((t, dur, ch, int(pitch), v))

    def step_time(self, bar: int, step: int) -> float:
        per = self.bar / self.steps
        t = bar * self.bar + step * per
        if self.swing and not self.triplet and step % 2 == 1:
            t += self.swing * per
        return t

    # ---- parts
    def melody(self, ch: int, octave: int, vel: float, sparse: bool = False) -> None:
        rng = self.rng
        rhythms = (
            (4, 4, 4, 4),
            (2, 2, 4, 4, 4),
            (6, 2, 4, 4),
            (8, 8),
            (4, 2, 2, 8),
            (2, 2, 2, 2, 4, 4),
            (12, 4),
            (3, 3, 2, 4, 4),
            (16,),
            (4, 4, 8),
        )
        if self.steps == 12:
            rhythms = ((4, 4, 4), (6, 6), (2, 2, 2, 6), (12,), (3, 3, 6), (4, 2, 6))
        rest_p = 0.35 if sparse else float(rng.uniform(0.0, 0.2))
        motif_len = int(rng.choice([1, 2]))
        motifs: list[list[tuple[int, int]]] = []  # per bar: (steps, degree offset)
        degree = int(rng.integers(0, 7))
        for _ in range(motif_len):
            r = rhythms[int(rng.integers(len(rhythms)))]
            bar_notes = []
            for length in r:
                degree += int(rng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3]))
                degree = int(np.clip(degree, -3, 10))
                bar_notes.append((length, degree if rng.random() > rest_p else -99))
            motifs.append(bar_notes)
        legato = float(rng.uniform(0.6, 1.0))
        for bar in range(self.n_bars):
            motif = motifs[bar % motif_len]
            shift = self.chord_at(bar) if rng.random() < 0.5 else 0
            vary = rng.random() < 0.3
            step = 0
            for length, deg in motif:
                if deg != -99:
                    d = (
                        deg
                        + shift
                        + (int(rng.choice([-1, 1])) if vary and rng.random() < 0.4 else 0)
                    )
                    t = self.step_time(bar, step)
                    self.add(
                        t, length * self.bar / self.steps * legato, ch, self.pitch(d, octave), vel
                    )
                step += length

    def keys(self, ch: int, octave: int, vel: float) -> None:
        style = int(self.rng.integers(4))
        size = int(self.rng.choice([3, 3, 4]))
        for bar in range(self.n_bars):
            chord = self.chord_pitches(bar, octave, size)
            bass = self.pitch(self.chord_at(bar), octave - 1)
            if style == 0:  # block chords on beats
                for b in range(self.meter if self.meter != 2 else 2):
                    t = bar * self.bar + b * self.beat
                    for p in chord:
                        self.add(t, self.beat * 0.9, ch, p, vel)
            elif style == 1:  # arpeggio up and down
                seq = chord + chord[-2:0:-1]
                for s in range(self.steps // 2):
                    self.add(
                        self.step_time(bar, 2 * s),
                        2 * self.bar / self.steps * 1.5,
                        ch,
                        seq[s % len(seq)] + 12 * (s // len(seq) % 2),
                        vel * 0.85,
                    )
            elif style == 2:  # Alberti / stride: bass then chord
                for s in range(0, self.steps, 4):
                    self.add(self.step_time(bar, s), self.beat * 0.5, ch, bass, vel)
                    for p in chord:
                        self.add(self.step_time(bar, s + 2), self.beat * 0.4, ch, p, vel * 0.8)
            else:  # held chords with a bass note
                self.add(bar * self.bar, self.bar, ch, bass, vel)
                for p in chord:
                    self.add(bar * self.bar + 0.01, self.bar * 0.95, ch, p, vel * 0.8)
        if ch != DRUM_CHANNEL and self.rng.random() < 0.5:  # sustain pedal per bar
            for bar in range(self.n_bars):
                self.controls.append((bar * self.bar + 0.02, ch, 64, 100))
                self.controls.append(((bar + 1) * self.bar - 0.03, ch, 64, 0))

    def strum(self, ch: int, octave: int, vel: float) -> None:
        patterns = (
            "x.x.x.x.x.x.x.x.",
            "x...x.x...x.x.x.",
            "x..x..x...x..x..",
            "x.......x.......",
            "x.xxx.xxx.xxx.xx",
            "x...x...x...x...",
        )
        if self.steps == 12:
            patterns = ("x..x..x..x..", "x.....x.....", "x.xx.xx.xx.x", "x...x...x...")
        pat = patterns[int(self.rng.integers(len(patterns)))]
        spread = float(self.rng.uniform(0.005, 0.03))
        for bar in range(self.n_bars):
            chord = self.chord_pitches(bar, octave, 4) + [
                self.pitch(self.chord_at(bar), octave - 1)
            ]
            for s, c in enumerate(pat):
                if c == "x":
                    down = s % 4 == 0 or self.rng.random() < 0.6
                    order = sorted(chord) if down else sorted(chord, reverse=True)
                    for i, p in enumerate(order):
                        self.add(
                            self.step_time(bar, s) + i * spread,
                            self.beat * 0.8,
                            ch,
                            p,
                            vel * (1.0 if s % 4 == 0 else 0.8),
                        )

    def arp(self, ch: int, octave: int, vel: float) -> None:
        rate = int(self.rng.choice([1, 2]))
        shape = int(self.rng.integers(3))
        for bar in range(self.n_bars):
            chord = self.chord_pitches(bar, octave, 3)
            seq = {
                0: chord + [chord[0] + 12],
                1: chord[::-1] + [chord[0] - 12],
                2: [chord[0], chord[2], chord[1], chord[2]],
            }[shape]
            for i, s in enumerate(range(0, self.steps, rate)):
                self.add(
                    self.step_time(bar, s),
                    rate * self.bar / self.steps * 0.9,
                    ch,
                    seq[i % len(seq)],
                    vel * (1.0 if s % 4 == 0 else 0.75),
                )

    def pad(self, ch: int, octave: int, vel: float) -> None:
        for bar in range(0, self.n_bars):
            if bar % self.bars_per_chord:
                continue
            for p in self.chord_pitches(bar, octave, int(self.rng.choice([3, 4]))):
                self.add(bar * self.bar, self.bar * self.bars_per_chord, ch, p, vel)
        swell = float(self.rng.uniform(0.5, 3.0))
        t = 0.0
        while t < self.seconds:  # expression swells
            v = int(70 + 50 * (0.5 + 0.5 * np.sin(2 * np.pi * t / (swell * self.bar))))
            self.controls.append((t, ch, 11, v))
            t += 0.1

    def sparse(self, ch: int, octave: int, vel: float) -> None:
        t = float(self.rng.uniform(0, self.beat))
        while t < self.seconds:
            bar = int(t / self.bar)
            self.add(
                t,
                self.beat * 2,
                ch,
                self.pitch(self.chord_at(bar) + int(self.rng.choice([0, 2, 4, 7])), octave),
                vel,
            )
            t += self.beat * float(self.rng.choice([1, 1.5, 2, 3]))

    def bass(self, ch: int, octave: int, vel: float) -> None:
        style = int(self.rng.integers(4))
        for bar in range(self.n_bars):
            root = self.pitch(self.chord_at(bar), octave)
            if style == 0:
                hits = [(0, root, 4), (8, root, 4)] if self.steps == 16 else [(0, root, 6)]
            elif style == 1:
                hits = [
                    (s, root if i % 2 == 0 else root + 7, 3)
                    for i, s in enumerate(range(0, self.steps, 4))
                ]
            elif style == 2:
                hits = [(s, root + (12 if (s // 2) % 2 else 0), 2) for s in range(0, self.steps, 2)]
            else:
                hits = [
                    (0, root, 3),
                    (3, root, 1),
                    (6, root + 7, 2),
                    (10, root, 2),
                    (12, root + 12, 2),
                ]
                hits = [h for h in hits if h[0] < self.steps]
            for s, p, length in hits:
                self.add(self.step_time(bar, s), length * self.bar / self.steps, ch, p, vel)

    def walking(self, ch: int, octave: int, vel: float) -> None:
        p = self.pitch(self.chord_at(0), octave)
        for bar in range(self.n_bars):
            target = self.pitch(self.chord_at(bar), octave)
            for b in range(self.meter if self.meter != 2 else 2):
                if b == 0:
                    p = target
                else:
                    p += int(self.rng.choice([-2, -1, 1, 2, 3, 5]))
                    p = int(np.clip(p, 28, 55))
                self.add(bar * self.bar + b * self.beat, self.beat * 0.95, ch, p, vel)

    def drums(self, vel: float, perc: bool = False) -> None:
        rng = self.rng
        if perc:
            groove = PERC_PATTERNS[int(rng.integers(len(PERC_PATTERNS)))]
        elif self.steps == 12:
            groove = GROOVES_34[int(rng.integers(len(GROOVES_34)))]
        else:
            groove = GROOVES_44[int(rng.integers(len(GROOVES_44)))]
        fill_every = int(rng.choice([2, 4, 8]))
        for bar in range(self.n_bars):
            fill = not perc and bar % fill_every == fill_every - 1 and rng.random() < 0.7
            for note, pat in groove.items():
                pat = pat[: self.steps].ljust(self.steps, ".")
                for s, c in enumerate(pat):
                    if fill and s >= self.steps // 2:
                        continue
                    hit = c == "x" or (rng.random() < 0.04 and note in (36, 38, 42))
                    if hit and rng.random() > 0.03:
                        accent = 1.0 if s % 4 == 0 else 0.8
                        self.add(self.step_time(bar, s), 0.1, DRUM_CHANNEL, note, vel * accent)
            if fill:
                for i, s in enumerate(range(self.steps // 2, self.steps, int(rng.choice([1, 2])))):
                    self.add(
                        self.step_time(bar, s),
                        0.1,
                        DRUM_CHANNEL,
                        FILL_TOMS[min(i * len(FILL_TOMS) // 8, 5)] if rng.random() < 0.8 else 38,
                        vel * 0.9,
                    )
            if not perc and bar % 4 == 0 and rng.random() < 0.5:
                self.add(bar * self.bar, 1.0, DRUM_CHANNEL, int(rng.choice([49, 57, 55])), vel)


def compose(
    seed: int,
    *,
    style: str,
    soundfont: str,
    seconds: float = 10.0,
    programs: tuple[int, ...] | None = None,
) -> Song:
    """The song of ``seed`` in ``style``, ``seconds`` long.

    ``programs`` (one GM program per melodic part of the style, in order) overrides the
    seeded choice, e.g. to keep some instrument combinations for one split.
    """
    if style not in STYLES:
        raise ValueError(f"style {style!r} is not one of {sorted(STYLES)}")
    if soundfont not in SOUNDFONTS:
        raise ValueError(f"soundfont {soundfont!r} is not one of {sorted(SOUNDFONTS)}")
    rng = np.random.default_rng(seed)
    (t_lo, t_hi), parts = STYLES[style]
    tempo = float(rng.uniform(t_lo, t_hi))
    mode = str(rng.choice(list(MODES)))
    key = int(rng.integers(12))
    meter = int(rng.choice([4, 4, 4, 4, 3, 2]))
    progression = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    c = _Composer(rng, seconds, tempo, key, mode, meter, progression)
    prog_map: list[tuple[int, int]] = []
    ch = 0
    chosen = list(programs) if programs is not None else None
    density = float(rng.uniform(0.6, 1.0))  # overall loudness balance of accompaniment
    for role, pool in parts:
        if role in ("drums", "perc"):
            kit = int(rng.choice(DRUM_KITS)) if role == "drums" else int(rng.choice([0, 8, 48]))
            prog_map.append((DRUM_CHANNEL, kit))
            c.drums(float(rng.uniform(70, 115)), perc=role == "perc")
            continue
        if ch == DRUM_CHANNEL:
            ch += 1
        program = chosen.pop(0) if chosen else int(rng.choice(pool))
        prog_map.append((ch, program))
        vel = float(rng.uniform(60, 110))
        if role == "melody":
            c.melody(ch, int(rng.choice([4, 5, 5])), vel, sparse=rng.random() < 0.3)
        elif role == "sparse":
            c.sparse(ch, int(rng.choice([4, 5])), vel)
        elif role == "keys":
            c.keys(ch, int(rng.choice([3, 4])), vel * density)
        elif role == "strum":
            c.strum(ch, 3, vel * density)
        elif role == "arp":
            c.arp(ch, int(rng.choice([4, 5])), vel * density)
        elif role == "pad":
            c.pad(ch, int(rng.choice([3, 4])), vel * density * 0.9)
        elif role == "bass":
            c.bass(ch, 2, vel)
        elif role == "walking":
            c.walking(ch, 2, vel)
        elif role == "timpani":
            c.bass(ch, 2, vel * 0.8)
        if role in ("melody", "sparse") and rng.random() < 0.4:  # vibrato / bends on leads
            c.controls.append((0.0, ch, 1, int(rng.integers(20, 90))))
            if rng.random() < 0.3:
                for t in np.arange(0.0, seconds, float(rng.uniform(0.5, 2.0))):
                    c.controls.append((float(t), ch, -1, int(rng.integers(6000, 10400))))
                    c.controls.append((float(t) + 0.15, ch, -1, 8192))
        ch += 1
    notes = tuple(sorted(c.notes))
    return Song(
        seed=seed,
        style=style,
        soundfont=soundfont,
        seconds=seconds,
        tempo=tempo,
        key=key,
        mode=mode,
        meter=meter,
        programs=tuple(prog_map),
        notes=notes,
        controls=tuple(sorted(c.controls)),
    )


def _midi(songs: list[Song], slot: float) -> mido.MidiFile:
    """One MIDI file holding ``songs`` at ``slot``-second intervals (960 ticks per second)."""
    tps = 960  # ticks per beat 480 at the default 120 bpm
    # (tick, order, message type, fields): each message is built once, with its delta time
    events: list[tuple[int, int, str, dict[str, int]]] = []

    def at(t: float, order: int, kind: str, **msg: int) -> None:
        events.append((int(round(t * tps)), order, kind, msg))

    for i, song in enumerate(songs):
        t0 = i * slot
        for ch in range(16):
            at(t0, 0, "control_change", channel=ch, control=121, value=0)
            at(t0, 1, "control_change", channel=ch, control=91, value=0)
            at(t0, 1, "control_change", channel=ch, control=93, value=0)
        for ch, program in song.programs:
            at(t0, 2, "program_change", channel=ch, program=program)
            vol = 100 if ch == DRUM_CHANNEL else 90 + (ch * 7) % 30
            at(t0, 3, "control_change", channel=ch, control=7, value=min(vol, 127))
        for t, ch, ctl, val in song.controls:
            if ctl < 0:
                at(t0 + t, 4, "pitchwheel", channel=ch, pitch=val - 8192)
            else:
                at(t0 + t, 4, "control_change", channel=ch, control=ctl, value=val)
        for t, dur, ch, pitch, vel in song.notes:
            at(t0 + t, 6, "note_on", channel=ch, note=pitch, velocity=vel)
            at(t0 + min(t + dur, song.seconds), 5, "note_off", channel=ch, note=pitch, velocity=0)
        for ch in range(16):  # silence everything before the next slot
            at(t0 + song.seconds + 0.05, 7, "control_change", channel=ch, control=123, value=0)
            at(t0 + slot - 0.3, 8, "control_change", channel=ch, control=120, value=0)
    events.sort(key=lambda e: (e[0], e[1]))
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    last = 0
    for tick, _, kind, msg in events:
        track.append(mido.Message(kind, time=tick - last, **msg))
        last = tick
    return mid


def render(songs: list[Song], *, gain: float = 0.25) -> list[F64]:
    """Render songs (all with the same soundfont) by one FluidSynth run; float (n,) each.

    Each song comes back exactly ``round(song.seconds * RATE)`` samples long, stereo mixed
    to mono.  Raises :class:`train.sounds.ToolMissing` naming the Debian package when
    FluidSynth or the soundfont is missing.
    """
    if not songs:
        return []
    fonts = {s.soundfont for s in songs}
    if len(fonts) != 1:
        raise ValueError(f"render: one soundfont per batch, got {sorted(fonts)}")
    path, package = SOUNDFONTS[fonts.pop()]
    exe = require("fluidsynth", "fluidsynth")
    sf2 = require_file(path, package)
    slot = max(s.seconds for s in songs) + 1.5
    with tempfile.TemporaryDirectory() as tmp:
        mid_path, raw_path = Path(tmp) / "songs.mid", Path(tmp) / "songs.raw"
        _midi(songs, slot).save(mid_path)
        cmd = [
            exe,
            "-n",
            "-i",
            "-q",
            "-R",
            "0",
            "-C",
            "0",
            "-g",
            str(gain),
            "-r",
            str(RATE),
            "-T",
            "raw",
            "-O",
            "float",
            "-o",
            "synth.cpu-cores=1",
            "-F",
            str(raw_path),
            str(sf2),
            str(mid_path),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not raw_path.exists():
            raise RuntimeError(
                f"fluidsynth failed ({done.returncode}): {done.stderr.strip()[-400:]}"
            )
        stereo = np.fromfile(raw_path, dtype="<f4").astype(np.float64)
    mono = stereo[: len(stereo) // 2 * 2].reshape(-1, 2).mean(axis=1)
    out = []
    for i, s in enumerate(songs):
        start, n = int(round(i * slot * RATE)), int(round(s.seconds * RATE))
        seg = np.zeros(n)
        part = mono[start : start + n]
        seg[: len(part)] = part
        out.append(seg)
    return out
