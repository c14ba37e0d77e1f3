"""The processing chain every clip goes through, music or not, with the same random draws:
dynamics, band limits, EQ, room reverb, level, clipping and a noise floor.

    dynamics    a mastering or broadcast compressor (what nearly every recording and
                broadcast has, music and speech alike): an RMS detector of 5-80 ms, threshold
                -12..+6 dB about the clip's RMS, ratio 2-10
    band limit  telephone band (300-3400 Hz at 8 kHz), or the source at 8 or 11.025 kHz
                resampled back to 16 kHz (anti-aliased both ways)
    EQ          a spectral tilt and peaking / shelving biquads (+-12 dB)
    reverb      synthetic room impulse response: early reflections plus exponentially
                decaying noise (RT60 0.1-1.5 s, frequency-dependent decay), wet/dry mix
    level       RMS set to -45..-6 dBFS (the peak kept below full scale unless clipped)
    clipping    occasionally driven 3-15 dB into hard or soft (tanh) clipping
    noise floor a low hiss or hum added after everything (-80..-50 dBFS)

:func:`chain` draws the settings from ``rng`` and returns the processed audio and a short
description of what it did.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve, lfilter

from train.sounds import F64, RATE, resample, rms
from train.sounds.noise import bandpass, coloured, hum

LEVEL_DBFS = (-45.0, -6.0)


def band_limit(x: F64, rng: np.random.Generator) -> tuple[F64, str]:
    """Telephone band, or an 8 kHz / 11.025 kHz source, back at 16 kHz."""
    kind = str(rng.choice(["phone", "8k", "11k"]))
    if kind == "phone":
        y = resample(resample(x, RATE, 8000), 8000, RATE)[: len(x)]
        return bandpass(y, 300, 3400, order=4), "phone"
    low = 8000 if kind == "8k" else 11025
    return resample(resample(x, RATE, low), low, RATE)[: len(x)], kind


def _peaking(f0: float, gain_db: float, q: float) -> tuple[F64, F64]:
    """RBJ peaking-EQ biquad coefficients (b, a)."""
    a_ = 10 ** (gain_db / 40)
    w = 2 * np.pi * f0 / RATE
    alpha = np.sin(w) / (2 * q)
    b = np.array([1 + alpha * a_, -2 * np.cos(w), 1 - alpha * a_])
    a = np.array([1 + alpha / a_, -2 * np.cos(w), 1 - alpha / a_])
    return b / a[0], a / a[0]


def eq(x: F64, rng: np.random.Generator) -> tuple[F64, str]:
    """A tilt (first-order) and one to three peaking bands."""
    y = x
    tilt = float(rng.uniform(-0.6, 0.6))
    y = lfilter([1.0, -tilt], [1.0], y) if abs(tilt) > 0.05 else y
    bands = int(rng.integers(1, 4))
    for _ in range(bands):
        f0 = float(np.exp(rng.uniform(np.log(80), np.log(6000))))
        b, a = _peaking(f0, float(rng.uniform(-12, 12)), float(rng.uniform(0.5, 4)))
        y = lfilter(b, a, y)
    if rng.random() < 0.3:  # small-speaker low cut
        y = bandpass(y, float(rng.uniform(150, 500)), RATE, order=2)
    return y, f"eq{bands}"


def room_ir(rng: np.random.Generator) -> F64:
    """A synthetic room impulse response (RT60 0.1-1.5 s), unit energy."""
    rt60 = float(np.exp(rng.uniform(np.log(0.1), np.log(1.5))))
    m = int(min(rt60, 1.2) * RATE)
    t = np.arange(m) / RATE
    tail = rng.standard_normal(m) * np.exp(-6.9 * t / rt60)
    # high frequencies decay faster: blend with a low-passed copy as time goes on
    lp = lfilter([0.3], [1.0, -0.7], tail)
    w = np.clip(t / rt60, 0, 1)
    tail = (1 - w) * tail + w * lp
    pre = int(rng.uniform(0.002, 0.02) * RATE)
    ir = np.zeros(m + pre)
    ir[0] = 1.0
    for _ in range(int(rng.integers(3, 10))):  # early reflections
        d = int(rng.uniform(0.002, 0.05) * RATE)
        ir[d] += rng.uniform(-0.7, 0.7)
    ir[pre:] += tail * rng.uniform(0.05, 0.4)
    return ir / np.sqrt(np.sum(ir * ir))


def reverb(x: F64, rng: np.random.Generator) -> tuple[F64, str]:
    ir = room_ir(rng)
    wet = fftconvolve(x, ir)[: len(x)]
    mix = float(rng.uniform(0.3, 1.0))
    return (1 - mix) * x + mix * wet, f"rev{len(ir) / RATE:.2f}s"


def compress(x: F64, rng: np.random.Generator) -> tuple[F64, str]:
    """An RMS compressor: the level above a threshold is divided by the ratio (feed-forward,
    one smoothing time constant for attack and release)."""
    tau = float(rng.uniform(0.005, 0.08))
    thr_db = float(rng.uniform(-12, 6))
    ratio = float(rng.uniform(2, 10))
    a = np.exp(-1.0 / (tau * RATE))
    env = np.sqrt(np.maximum(lfilter([1 - a], [1, -a], x * x), 0.0))
    thr = rms(x) * 10 ** (thr_db / 20)
    if thr <= 0:
        return x, "comp"
    gain = np.minimum(1.0, (np.maximum(env, 1e-12) / thr) ** (1.0 / ratio - 1.0))
    return x * gain, f"comp{ratio:.0f}"


def set_level(x: F64, level_dbfs: float) -> F64:
    r = rms(x)
    return x * (10 ** (level_dbfs / 20) / r) if r > 0 else x


def chain(x: F64, rng: np.random.Generator, *, keep_level: bool = False) -> tuple[F64, float, str]:
    """Process ``x`` (float, any level) -> (float audio in [-1, 1], target level dBFS, notes).

    ``keep_level`` leaves the level as it is (silence stays near zero); otherwise its RMS is
    set to a level drawn from :data:`LEVEL_DBFS`, the peak kept below full scale unless
    clipping is drawn.
    """
    notes = []
    y = np.asarray(x, dtype=np.float64)
    if rng.random() < 0.3:
        y, n = compress(y, rng)
        notes.append(n)
    if rng.random() < 0.25:
        y, n = band_limit(y, rng)
        notes.append(n)
    if rng.random() < 0.6:
        y, n = eq(y, rng)
        notes.append(n)
    if rng.random() < 0.5:
        y, n = reverb(y, rng)
        notes.append(n)
    level = float(rng.uniform(*LEVEL_DBFS))
    clip = rng.random() < 0.06
    drive = float(rng.uniform(3, 15))
    soft = rng.random() < 0.5
    if not keep_level:
        y = set_level(y, level)
        peak = float(np.max(np.abs(y))) if len(y) else 0.0
        if clip and peak > 0:
            y = y * (10 ** (drive / 20) / peak)
            y = np.tanh(y) if soft else np.clip(y, -1.0, 1.0)
            notes.append("clip")
        elif peak > 0.98:
            y = y * (0.98 / peak)
    if rng.random() < 0.5:
        floor_db = float(rng.uniform(-80, -50))
        n = (
            coloured(rng, len(y), float(rng.uniform(0, 2)))
            if rng.random() < 0.7
            else hum(rng, len(y))
        )
        y = y + set_level(n, floor_db)
        notes.append(f"floor{floor_db:.0f}")
    return np.clip(y, -1.0, 1.0), level, "+".join(notes)


def to_int16(x: F64) -> np.ndarray:
    """Float in [-1, 1] -> int16 (round half to even, saturating)."""
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


__all__ = ["LEVEL_DBFS", "band_limit", "chain", "compress", "eq", "reverb", "room_ir",
           "set_level", "to_int16"]
