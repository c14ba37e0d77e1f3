"""Hard negatives: tonal everyday sounds that are not music.

Beeps, alarm clocks, smoke and reversing alarms, sirens (wail, yelp, two-tone), single
sustained tones (sine, square, sawtooth, with or without harmonics and slow drift), telephone
ring, busy and dial tones, DTMF dialling, microwave and appliance beeps, single bell and chime
strikes, clinking dishes and cutlery, bird chirps, a whistling kettle, motors and engine whine,
Morse code.  Each generator is ``f(rng, n) -> float (n,)`` (peak about 0.5); :data:`KINDS`
maps the category name (``tonal/<kind>``) to it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import fftconvolve

from train.sounds import F64, RATE, normalize
from train.sounds.noise import bandpass, coloured

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
}
