"""Hard negatives: tonal everyday sounds that are not music.

Beeps, alarm clocks, smoke and reversing alarms, sirens (wail, yelp, two-tone), single
sustained tones (sine, square, sawtooth, with or without harmonics and slow drift), telephone
ring, busy and dial tones, DTMF dialling, microwave and appliance beeps, single bell and chime
strikes, clinking dishes and cutlery, bird chirps, a whistling kettle, motors and engine whine,
Morse code, combustion engines, frequency sweeps and glides, buzzers, animal calls.  Each
generator is ``f(rng, n) -> float (n,)`` (peak about 0.5); :data:`KINDS` maps the category
name (``tonal/<kind>``) to it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import fftconvolve, lfilter

from train.sounds import F64, RATE, normalize
from train.sounds.noise import bandpass, coloured, slow_envelope

DTMF_LOW = (697, 770, 852, 941)
DTMF_HIGH = (1209, 1336, 1477, 1633)


def _t(n: int) -> F64:
    return np.arange(n) / RATE


def _wave(rng: np.random.Generator, phase: F64) -> F64:
    """A seeded waveform of a phase track: sine, square-ish, sawtooth-ish or a few harmonics."""
    kind = int(rng.integers(4))
    if kind == 0:
        return np.sin(phase)
    if kind == 1:
        return np.tanh(float(rng.uniform(2, 20)) * np.sin(phase))
    if kind == 2:
        return sum(np.sin(k * phase) / k for k in range(1, 12))
    return sum(rng.uniform(0, 1) * np.sin(k * phase) for k in range(1, int(rng.integers(2, 6))))


def _gate(n: int, on: float, off: float, start: float = 0.0, ramp: float = 0.004) -> F64:
    """1 during ``on`` seconds, 0 during ``off`` seconds, repeating, with short ramps."""
    t = _t(n) + start
    period = on + off
    ph = np.mod(t, period)
    g = (ph < on).astype(np.float64)
    k = max(1, int(ramp * RATE))
    return np.convolve(g, np.ones(k) / k, mode="same")


def beeps(rng, n):
    """Beeps: one frequency, a regular or irregular on/off pattern."""
    f = rng.uniform(400, 4000)
    on, off = rng.uniform(0.03, 0.4), rng.uniform(0.05, 0.8)
    x = _wave(rng, 2 * np.pi * f * _t(n)) * _gate(n, on, off, rng.uniform(0, on + off))
    return normalize(x)


def alarm(rng, n):
    """Alarm clock / smoke alarm / reversing alarm: fast repeated beeps, groups of beeps."""
    f = rng.uniform(800, 3500)
    on = rng.uniform(0.04, 0.25)
    group = int(rng.integers(1, 5))
    g = _gate(n, on, on * rng.uniform(0.5, 1.5))
    g *= _gate(n, group * on * 2.0, rng.uniform(0.2, 1.0))
    x = _wave(rng, 2 * np.pi * f * _t(n))
    if rng.random() < 0.4:  # warble
        x = np.sin(2 * np.pi * f * _t(n) + 3 * np.sin(2 * np.pi * rng.uniform(5, 30) * _t(n)))
    return normalize(x * g)


def siren(rng, n):
    """Sirens: wail (slow sweep), yelp (fast sweep) or two-tone (hi-lo)."""
    t = _t(n)
    kind = int(rng.integers(3))
    lo, hi = rng.uniform(400, 800), rng.uniform(900, 1800)
    if kind == 0:
        f = lo + (hi - lo) * (0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t))
    elif kind == 1:
        f = lo + (hi - lo) * np.mod(t * rng.uniform(2, 6), 1.0)
    else:
        f = np.where(
            np.mod(t, 2 * (p := rng.uniform(0.3, 0.8))) < p, lo, lo * rng.uniform(1.2, 1.5)
        )
    phase = 2 * np.pi * np.cumsum(f) / RATE
    return normalize(_wave(rng, phase))


def sustained(rng, n):
    """A single sustained tone (test tone, hum of a transformer, tuning fork, feedback),
    possibly drifting slowly or fading in/out."""
    f0 = float(np.exp(rng.uniform(np.log(80), np.log(5000))))
    drift = 1 + rng.uniform(-0.03, 0.03) * _t(n) / (n / RATE)
    phase = 2 * np.pi * np.cumsum(f0 * drift) / RATE
    env = np.ones(n)
    if rng.random() < 0.4:
        a, b = sorted(rng.integers(0, n, 2))
        env[:a] = 0
        env[b:] *= np.exp(-np.arange(n - b) / (rng.uniform(0.05, 0.5) * RATE))
    return normalize(_wave(rng, phase) * env)


def ringtone(rng, n):
    """Telephone tones: ring (two frequencies, national cadences), busy, dial tone, or the
    old electromechanical bell."""
    t = _t(n)
    kind = int(rng.integers(5))
    if kind == 0:  # North America ring 440+480, 2 s on 4 s off
        x = (np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 480 * t)) * _gate(
            n, 2.0, 4.0, rng.uniform(0, 6)
        )
    elif kind == 1:  # UK double ring 400+450
        x = np.sin(2 * np.pi * 400 * t) + np.sin(2 * np.pi * 450 * t)
        x *= _gate(n, 0.4, 0.2) * _gate(n, 1.0, 2.0, rng.uniform(0, 3))
    elif kind == 2:  # busy 480+620
        x = (np.sin(2 * np.pi * 480 * t) + np.sin(2 * np.pi * 620 * t)) * _gate(n, 0.5, 0.5)
    elif kind == 3:  # European ring / dial tone 425
        x = np.sin(2 * np.pi * 425 * t) * (
            _gate(n, 1.0, 4.0, rng.uniform(0, 5)) if rng.random() < 0.6 else 1
        )
    else:  # bell: struck at ~20 Hz, inharmonic partials
        f = rng.uniform(600, 1500)
        strike = np.zeros(n)
        strike[:: int(RATE / rng.uniform(15, 25))] = 1.0
        strike *= _gate(n, rng.uniform(0.8, 2.0), rng.uniform(1.0, 3.0))
        m = int(0.3 * RATE)
        tt = np.arange(m) / RATE
        ir = sum(np.sin(2 * np.pi * f * r * tt) * np.exp(-tt / 0.08) for r in (1.0, 2.76, 5.4))
        x = fftconvolve(strike, ir)[:n]
    return normalize(x)


def dtmf(rng, n):
    """DTMF dialling: random key presses of 40-200 ms with 40-300 ms gaps."""
    x = np.zeros(n)
    s = int(rng.uniform(0, 0.3) * RATE)
    while s < n:
        m = int(rng.uniform(0.04, 0.2) * RATE)
        tt = np.arange(min(m, n - s)) / RATE
        lo, hi = rng.choice(DTMF_LOW), rng.choice(DTMF_HIGH)
        x[s : s + len(tt)] = np.sin(2 * np.pi * lo * tt) + 0.8 * np.sin(2 * np.pi * hi * tt)
        s += m + int(rng.uniform(0.04, 0.3) * RATE)
    return normalize(x)


def appliance(rng, n):
    """Microwave, washing machine, oven, card reader: a few equal beeps, or one long one."""
    f = rng.uniform(1000, 4000)
    x = np.zeros(n)
    count = int(rng.integers(1, 6))
    on, off = rng.uniform(0.08, 0.8), rng.uniform(0.08, 0.5)
    s = int(rng.uniform(0, 0.8) * RATE)
    for _ in range(count):
        m = int(on * RATE)
        tt = np.arange(min(m, max(0, n - s))) / RATE
        x[s : s + len(tt)] = _wave(rng, 2 * np.pi * f * tt)
        s += m + int(off * RATE)
    return normalize(x)


def _strike(rng: np.random.Generator, partials: list[float], decay: float, m: int) -> F64:
    tt = np.arange(m) / RATE
    return sum(
        rng.uniform(0.2, 1)
        * np.sin(2 * np.pi * f * tt + rng.uniform(0, 6.3))
        * np.exp(-tt / (decay / (1 + i * 0.5)))
        for i, f in enumerate(partials)
    )


def bell(rng, n):
    """One or two strikes of a bell, chime, triangle or glass (inharmonic partials)."""
    x = np.zeros(n)
    for _ in range(int(rng.integers(1, 3))):
        f = rng.uniform(300, 3000)
        ratios = [1.0, rng.uniform(2.0, 2.9), rng.uniform(3.0, 4.5), rng.uniform(5.0, 6.8)]
        s = int(rng.integers(0, n // 2))
        m = n - s
        x[s:] += _strike(rng, [f * r for r in ratios], rng.uniform(0.2, 1.5), m)
    return normalize(x)


def dishes(rng, n):
    """Clinking dishes, cutlery and glasses: many short inharmonic strikes plus clatter."""
    x = np.zeros(n)
    for _ in range(int(rng.integers(3, 25))):
        f = rng.uniform(800, 6000)
        m = int(rng.uniform(0.05, 0.4) * RATE)
        s = int(rng.integers(0, n - m))
        x[s : s + m] += rng.uniform(0.2, 1) * _strike(
            rng, [f, f * rng.uniform(1.4, 2.9), f * rng.uniform(3, 5)], rng.uniform(0.01, 0.1), m
        )
        x[s : s + 80] += rng.standard_normal(80) * rng.uniform(0.1, 0.5)
    return normalize(x)


def birds(rng, n):
    """Bird calls: chirps and trills (fast frequency sweeps), irregularly spaced."""
    x = np.zeros(n)
    s = int(rng.uniform(0, 0.5) * RATE)
    while s < n:
        m = int(rng.uniform(0.03, 0.25) * RATE)
        tt = np.arange(min(m, n - s)) / RATE
        f0, f1 = rng.uniform(1500, 7000, 2)
        f = (
            f0
            + (f1 - f0) * tt / max(tt[-1], 1e-3)
            + rng.uniform(0, 800) * np.sin(2 * np.pi * rng.uniform(20, 80) * tt)
        )
        ph = 2 * np.pi * np.cumsum(f) / RATE
        x[s : s + len(tt)] += np.sin(ph) * np.hanning(len(tt))
        s += m + int(rng.exponential(0.15) * RATE)
    return normalize(x)


def kettle(rng, n):
    """Whistling kettle or steam: a breathy tone gliding slowly, noise around it."""
    t = _t(n)
    f = rng.uniform(1200, 3500) * (1 + rng.uniform(-0.1, 0.15) * t / t[-1])
    ph = 2 * np.pi * np.cumsum(f) / RATE
    tone = np.sin(ph) * (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(3, 9) * t))
    hiss = normalize(bandpass(coloured(rng, n, 0.0), 1000, 7000))
    return normalize(tone * rng.uniform(0.3, 1.0) + hiss * rng.uniform(0.1, 0.6))


def motor(rng, n):
    """Motors, drills, hair dryers, vacuum cleaners, engines: harmonic whine with a
    changing speed, over broadband noise."""
    t = _t(n)
    f0 = rng.uniform(40, 600)
    speed = 1 + rng.uniform(-0.3, 0.3) * np.clip(t / rng.uniform(0.3, 2.0), 0, 1)
    ph = 2 * np.pi * np.cumsum(f0 * speed) / RATE
    x = sum(rng.uniform(0, 1) / k**0.7 * np.sin(k * ph) for k in range(1, int(rng.integers(3, 20))))
    noise = normalize(bandpass(coloured(rng, n, rng.uniform(0, 1.5)), 100, 7000))
    return normalize(normalize(x) + noise * rng.uniform(0.1, 1.0))


def morse(rng, n):
    """Morse code at 10-30 words per minute."""
    unit = 1.2 / rng.uniform(10, 30)
    x = np.zeros(n)
    f = rng.uniform(500, 1000)
    s = 0
    while s < n:
        m = int(unit * RATE * (1 if rng.random() < 0.55 else 3))
        tt = np.arange(min(m, n - s)) / RATE
        x[s : s + len(tt)] = np.sin(2 * np.pi * f * tt)
        s += m + int(unit * RATE * rng.choice([1, 1, 1, 3, 7]))
    return normalize(x)


def engine(rng, n):
    """Combustion engines (a car idling or revving, a motorbike, a lawn mower, a truck passing
    by): a thump at every firing, at a changing engine speed, over exhaust rumble."""
    t = _t(n)
    rate = rng.uniform(12, 120)  # firings per second: idling car ~25, revving motorbike ~120
    kind = int(rng.integers(3))
    if kind == 0:  # steady, a little unsteady
        speed = slow_envelope(rng, n, rng.uniform(0.5, 3), rng.uniform(0.01, 0.06))
        env = np.ones(n)
    elif kind == 1:  # revving up or down over part of the window
        a, b = sorted(rng.uniform(0, t[-1], 2))
        speed = 1 + rng.uniform(-0.5, 1.5) * np.clip((t - a) / max(b - a, 0.05), 0, 1)
        env = 0.6 + 0.4 * speed / speed.max()
    else:  # passing by: Doppler drop of speed, level swelling and fading
        t0, tau = rng.uniform(0.2, 0.8) * t[-1], rng.uniform(0.3, 1.5)
        speed = 1 + rng.uniform(0.03, 0.12) * np.tanh((t0 - t) / tau)
        env = 1 / (1 + ((t - t0) / tau) ** 2)
    phase = np.cumsum(rate * speed) / RATE
    fire = np.flatnonzero(np.diff(np.floor(phase), prepend=0.0) > 0)
    pulses = np.zeros(n)
    pulses[fire] = rng.uniform(0.6, 1.0, len(fire))  # uneven firings
    m = int(0.04 * RATE)
    tt = np.arange(m) / RATE
    thump = np.exp(-tt / rng.uniform(0.004, 0.015)) * (
        np.sin(2 * np.pi * rng.uniform(60, 300) * tt) + rng.uniform(0.2, 1) * rng.standard_normal(m)
    )
    x = fftconvolve(pulses, thump)[:n]
    rumble = bandpass(coloured(rng, n, 2.0), 20, rng.uniform(300, 1500))
    x = normalize(x) + rng.uniform(0.1, 0.6) * normalize(rumble)
    if rng.random() < 0.3:  # gearbox or turbo whine, locked to the engine speed
        x += rng.uniform(0.05, 0.3) * np.sin(2 * np.pi * rng.uniform(8, 30) * phase)
    return normalize(x * env)


def sweep(rng, n):
    """Frequency sweeps and glides that are not melodies: test-signal sweeps (linear or
    logarithmic, once or repeated), smooth random glides (a slide whistle, a theremin being
    tried), short notification chirps, a car alarm's repeated whoop."""
    t = _t(n)
    kind = int(rng.integers(4))
    gate = np.ones(n)
    if kind == 0:
        period = rng.uniform(0.5, 4.0)
        u = np.mod(t + rng.uniform(0, period), period) / period
        f0, f1 = rng.uniform(20, 300), rng.uniform(2000, 7500)
        f = f0 * (f1 / f0) ** u if rng.random() < 0.5 else f0 + (f1 - f0) * u
    elif kind == 1:
        k = int(t[-1] / rng.uniform(0.15, 0.6)) + 2
        knots = np.cumsum(rng.normal(0, 0.35, k)) + np.log(rng.uniform(400, 1500))
        f = np.exp(np.clip(np.interp(np.linspace(0, k - 1, n), np.arange(k), knots),
                           np.log(150), np.log(5000)))
        if rng.random() < 0.5:
            gate = _gate(n, rng.uniform(0.3, 1.5), rng.uniform(0.1, 0.6), ramp=0.03)
    elif kind == 2:
        on = rng.uniform(0.05, 0.3)
        u = np.mod(t, on + (off := rng.uniform(0.1, 1.0))) / on
        f0, f1 = rng.uniform(300, 3000, 2)
        f = f0 + (f1 - f0) * np.clip(u, 0, 1)
        gate = _gate(n, on, off)
    else:
        period = rng.uniform(0.4, 1.2)
        u = np.mod(t, period) / period
        f = rng.uniform(300, 700) + rng.uniform(500, 1500) * u
    return normalize(_wave(rng, 2 * np.pi * np.cumsum(f) / RATE) * gate)


def buzzer(rng, n):
    """Buzzers and electrical buzz: a door or game-show buzzer, a fluorescent tube or
    transformer, an electric shaver or toothbrush: a harsh low tone (square or narrow pulse,
    50-400 Hz, every harmonic), steady or in bursts, sometimes rattling."""
    t = _t(n)
    f0 = float(rng.choice([100.0, 120.0])) if rng.random() < 0.3 else rng.uniform(50, 400)
    ph = np.mod(f0 * t * (1 + rng.uniform(-0.01, 0.01) * t / t[-1]), 1.0)
    duty = rng.uniform(0.05, 0.5)
    x = np.where(ph < duty, 1.0, -duty / (1 - duty))
    if rng.random() < 0.4:  # rattle: the level flutters
        x *= 1 + 0.5 * np.sin(2 * np.pi * rng.uniform(10, 40) * t)
    if rng.random() < 0.5:
        x *= _gate(n, rng.uniform(0.2, 2.0), rng.uniform(0.2, 1.5), rng.uniform(0, 1), ramp=0.01)
    return normalize(bandpass(x, 40, rng.uniform(2500, 7500)))


def _resonate(x: F64, formants: list[tuple[float, float]]) -> F64:
    """``x`` through parallel two-pole resonators (centre Hz, bandwidth Hz): a vocal tract."""
    out = np.zeros_like(x)
    for f, bw in formants:
        r = np.exp(-np.pi * bw / RATE)
        a = [1.0, -2 * r * np.cos(2 * np.pi * f / RATE), r * r]
        out += lfilter([1 - r], a, x)
    return out


# animal -> (f0 range Hz, call length s, f0 contour, formant sets, harshness 0..1, calls)
ANIMALS: dict[str, tuple] = {
    "cow": ((70, 160), (0.8, 2.5), "arch", ((250, 700, 2300), (350, 900, 2500)), 0.3, (1, 2)),
    "sheep": ((180, 420), (0.4, 1.2), "flat", ((600, 1200, 2800), (800, 1500, 3000)), 0.4,
              (1, 4)),
    "dog": ((250, 800), (0.08, 0.3), "fall", ((500, 1300, 2800), (700, 1600, 3200)), 0.7,
            (2, 8)),
    "cat": ((350, 900), (0.4, 1.2), "arch", ((700, 1800, 3500), (900, 2200, 4000)), 0.2,
            (1, 3)),
    "rooster": ((350, 750), (0.9, 2.0), "glide", ((600, 1500, 3000), (800, 1900, 3600)), 0.6,
                (1, 1)),
    "duck": ((180, 350), (0.1, 0.3), "flat", ((900, 1400, 2600), (1100, 1700, 3000)), 0.8,
             (2, 8)),
    "frog": ((80, 250), (0.1, 0.5), "flat", ((400, 1100, 2500), (500, 1300, 2800)), 0.5,
             (3, 10)),
    "crow": ((350, 700), (0.15, 0.5), "fall", ((1000, 1700, 3000), (1200, 2000, 3400)), 0.9,
             (2, 6)),
}


def _call(rng: np.random.Generator, spec: tuple, m: int) -> F64:
    """One animal call of ``m`` samples: a pulsed voice source (pitch contour, jitter,
    vibrato), breath or rasp noise, a vocal tract gliding between two formant sets."""
    (lo, hi), _, contour, (fa, fb), harsh, _ = spec
    u = np.linspace(0, 1, m)
    f0 = rng.uniform(lo, hi)
    shape = {"arch": 1 + rng.uniform(0.1, 0.5) * np.sin(np.pi * u),
             "fall": 1.3 - rng.uniform(0.2, 0.5) * u,
             "flat": np.ones(m),
             # glides through 5 random points (a crow is a glide, never steps of notes)
             "glide": np.interp(u, np.linspace(0, 1, 5), rng.uniform(0.8, 1.3, 5))}[contour]
    vib = 1 + rng.uniform(0, 0.06) * np.sin(2 * np.pi * rng.uniform(4, 9) * u * m / RATE)
    jitter = 1 + 0.02 * np.cumsum(rng.standard_normal(m)) / np.sqrt(RATE)
    ph = np.cumsum(f0 * shape * vib * jitter) / RATE
    source = 2 * np.mod(ph, 1.0) - 1  # sawtooth: every harmonic
    source = source + harsh * rng.standard_normal(m) * (0.5 + 0.5 * np.sin(2 * np.pi * ph))
    w = rng.uniform(0, 1)
    glide = [(a * (1 - w) + b * w, 80 + 0.1 * a) for a, b in zip(fa, fb, strict=True)]
    tract = _resonate(source, glide)
    att = int(min(0.03, 0.2 * m / RATE) * RATE) + 1
    env = np.minimum(1, np.minimum(np.arange(m), m - 1 - np.arange(m)) / att)
    return tract * env * np.sin(np.pi * u) ** 0.3


def animal(rng, n):
    """Animal calls: cows, sheep, dogs, cats, roosters, ducks, frogs, crows: voiced calls with
    their own pitch contours and vocal tracts, alone or in series, irregularly spaced."""
    spec = ANIMALS[str(rng.choice(sorted(ANIMALS)))]
    x = np.zeros(n)
    s = int(rng.uniform(0, 0.6) * RATE)
    calls_lo, calls_hi = spec[5]
    for _ in range(int(rng.integers(calls_lo, calls_hi + 1))):
        m = int(rng.uniform(*spec[1]) * RATE)
        if s + m > n:
            break
        x[s : s + m] += _call(rng, spec, m) * rng.uniform(0.5, 1.0)
        s += m + int(rng.uniform(0.05, 0.8) * RATE)
    if not x.any():  # a call longer than what is left: start it at 0
        m = min(n, int(spec[1][0] * RATE))
        x[:m] = _call(rng, spec, m)
    return normalize(x)


KINDS: dict[str, Callable[[np.random.Generator, int], F64]] = {
    "beeps": beeps,
    "alarm": alarm,
    "siren": siren,
    "sustained": sustained,
    "ringtone": ringtone,
    "dtmf": dtmf,
    "appliance": appliance,
    "bell": bell,
    "dishes": dishes,
    "birds": birds,
    "kettle": kettle,
    "motor": motor,
    "morse": morse,
    "engine": engine,
    "sweep": sweep,
    "buzzer": buzzer,
    "animal": animal,
}
