"""Noise and textured everyday sounds (not music): coloured noise, hums, clicks, rain, wind,
traffic, fan, water, typing, footsteps, applause, room tone, silence, and periodic everyday
sounds (a clock, a heartbeat, hammering: a beat without music).

Each generator is ``f(rng, n) -> float (n,)``, peak around 0.5; :data:`KINDS` maps the
category name (``noise/<kind>``) to it.  Everything is seeded numpy: spectrally shaped
noise, envelopes and filtered impulse trains.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import butter, lfilter, sosfilt

from train.sounds import F64, RATE, normalize


def coloured(rng: np.random.Generator, n: int, exponent: float) -> F64:
    """Noise with power spectrum ~ 1/f^exponent (0 white, 1 pink, 2 brown)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / RATE)
    f[0] = f[1]
    spec *= f ** (-exponent / 2.0)
    return normalize(np.fft.irfft(spec, n))


def bandpass(x: F64, lo: float, hi: float, order: int = 2) -> F64:
    """Butterworth band-pass ``lo``..``hi`` Hz (either may be None-like: <=0 / >=Nyquist)."""
    nyq = RATE / 2
    if lo <= 0:
        sos = butter(order, min(hi, nyq * 0.99) / nyq, "lowpass", output="sos")
    elif hi >= nyq:
        sos = butter(order, lo / nyq, "highpass", output="sos")
    else:
        sos = butter(order, [lo / nyq, min(hi, nyq * 0.99) / nyq], "bandpass", output="sos")
    return sosfilt(sos, x)


def slow_envelope(rng: np.random.Generator, n: int, rate_hz: float, depth: float) -> F64:
    """A smooth random envelope around 1 (+-``depth``) changing at about ``rate_hz``."""
    k = max(2, int(n / RATE * rate_hz) + 2)
    pts = rng.uniform(-1, 1, k)
    env = np.interp(np.linspace(0, k - 1, n), np.arange(k), pts)
    return np.clip(1.0 + depth * env, 0.0, None)


def _impulses(
    rng: np.random.Generator,
    n: int,
    rate_hz: float,
    decay_s: tuple[float, float],
    band: tuple[float, float],
) -> F64:
    """Random short noise bursts at ``rate_hz`` (Poisson), each filtered and decaying."""
    out = np.zeros(n)
    count = rng.poisson(rate_hz * n / RATE)
    for _ in range(count):
        t = int(rng.integers(0, n))
        d = float(rng.uniform(*decay_s))
        m = min(n - t, int(d * RATE * 5) + 1)
        burst = rng.standard_normal(m) * np.exp(-np.arange(m) / (d * RATE))
        out[t : t + m] += burst * rng.uniform(0.2, 1.0)
    lo, hi = band
    return normalize(bandpass(out, lo, hi))


def white(rng, n):
    return coloured(rng, n, 0.0)


def pink(rng, n):
    return coloured(rng, n, float(rng.uniform(0.8, 1.2)))


def brown(rng, n):
    return coloured(rng, n, float(rng.uniform(1.7, 2.2)))


def hum(rng, n):
    """Mains hum/buzz: 50 or 60 Hz and harmonics, sometimes a rectified buzz."""
    f0 = float(rng.choice([50.0, 60.0])) * rng.uniform(0.995, 1.005)
    t = np.arange(n) / RATE
    x = np.zeros(n)
    for k in range(1, int(rng.integers(3, 40))):
        x += (
            rng.uniform(0, 1)
            / k ** rng.uniform(0.3, 1.5)
            * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.3))
        )
    return normalize(x + 0.05 * coloured(rng, n, 1.0))


def clicks(rng, n):
    """Irregular clicks and crackle (vinyl-free: electrical, mechanical)."""
    return _impulses(rng, n, float(rng.uniform(2, 60)), (0.0002, 0.003), (200, 8000))


def rain(rng, n):
    """Rain: many tiny drops over a broadband bed."""
    drops = _impulses(rng, n, float(rng.uniform(200, 2000)), (0.0005, 0.004), (800, 8000))
    bed = bandpass(coloured(rng, n, 0.5), 300, 7000)
    return normalize(drops + rng.uniform(0.2, 1.0) * normalize(bed))


def wind(rng, n):
    """Wind: low-passed noise with slow gusts and a moving band."""
    x = coloured(rng, n, float(rng.uniform(1.2, 2.0)))
    x = bandpass(x, 20, float(rng.uniform(300, 2000)))
    return normalize(x * slow_envelope(rng, n, float(rng.uniform(0.3, 2.0)), 0.8))


def traffic(rng, n):
    """Traffic: rumble, passing vehicles (swelling band noise with Doppler-shifted engine
    harmonics) and the odd tyre hiss."""
    t = np.arange(n) / RATE
    x = 0.5 * bandpass(coloured(rng, n, 2.0), 20, 400)
    for _ in range(int(rng.integers(1, 4))):
        centre = rng.uniform(0, n / RATE)
        width = rng.uniform(0.5, 2.0)
        env = np.exp(-(((t - centre) / width) ** 2))
        f0 = rng.uniform(25, 90) * (1 + 0.05 * np.tanh(-(t - centre) / width * 3))
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        eng = sum(np.sin(k * phase) / k for k in range(1, 8))
        hiss = bandpass(rng.standard_normal(n), 500, 5000)
        x += env * (0.3 * eng + normalize(hiss) * rng.uniform(0.2, 0.8))
    return normalize(x)


def fan(rng, n):
    """Fan or air conditioner: broadband whoosh with a blade-pass tone and harmonics."""
    t = np.arange(n) / RATE
    x = normalize(bandpass(coloured(rng, n, 1.0), 50, float(rng.uniform(1500, 6000))))
    bp = rng.uniform(30, 200)
    for k in range(1, 5):
        x += rng.uniform(0, 0.3) / k * np.sin(2 * np.pi * bp * k * t)
    return normalize(x * slow_envelope(rng, n, 4.0, 0.05))


def water(rng, n):
    """Running water / stream: band noise with fast random modulation and bubble chirps."""
    x = bandpass(
        coloured(rng, n, 0.7), float(rng.uniform(200, 800)), float(rng.uniform(3000, 7900))
    )
    x = normalize(x) * slow_envelope(rng, n, float(rng.uniform(8, 30)), 0.6)
    t = np.arange(int(0.03 * RATE)) / RATE
    for _ in range(int(rng.integers(5, 60))):  # bubbles: short rising sinusoids
        f = rng.uniform(300, 2500)
        b = np.sin(2 * np.pi * f * (1 + 20 * t) * t) * np.exp(-t / 0.006)
        s = int(rng.integers(0, n - len(t)))
        x[s : s + len(t)] += b * rng.uniform(0.1, 0.6)
    return normalize(x)


def typing(rng, n):
    """Keyboard typing: bursts of clicks at typing rhythm."""
    out = np.zeros(n)
    t = int(rng.integers(0, RATE // 4))
    while t < n:
        m = min(n - t, int(0.015 * RATE))
        click = rng.standard_normal(m) * np.exp(-np.arange(m) / (0.002 * RATE))
        out[t : t + m] += click * rng.uniform(0.3, 1.0)
        t += int(rng.exponential(0.12) * RATE) + int(0.04 * RATE)
        if rng.random() < 0.08:
            t += int(rng.uniform(0.3, 1.0) * RATE)
    return normalize(bandpass(out, float(rng.uniform(300, 1500)), 7900))


def footsteps(rng, n):
    """Footsteps: low thuds at a walking pace, with scuffs."""
    out = np.zeros(n)
    step = rng.uniform(0.4, 0.7)
    t = rng.uniform(0, step)
    while t * RATE < n:
        s = int(t * RATE)
        m = min(n - s, int(0.12 * RATE))
        thud = rng.standard_normal(m) * np.exp(-np.arange(m) / (rng.uniform(0.01, 0.04) * RATE))
        out[s : s + m] += thud
        t += step * rng.uniform(0.9, 1.1)
    return normalize(bandpass(out, 40, float(rng.uniform(600, 3000))))


def applause(rng, n):
    """Applause / crowd clapping: many claps per second."""
    x = _impulses(rng, n, float(rng.uniform(40, 300)), (0.002, 0.01), (600, 7000))
    return normalize(x * slow_envelope(rng, n, 0.5, 0.4))


def room_tone(rng, n):
    """Room tone: quiet shaped noise, sometimes a faint hum, and rare small sounds."""
    x = normalize(lfilter([1.0], [1.0, -float(rng.uniform(0.5, 0.98))], rng.standard_normal(n)))
    if rng.random() < 0.5:
        x += 0.2 * hum(rng, n)
    if rng.random() < 0.5:
        x += 0.5 * _impulses(rng, n, 0.5, (0.005, 0.05), (100, 4000))
    return normalize(x)


def _hit(rng: np.random.Generator, band: tuple[float, float], decay_s: float,
         tone_hz: float, glide: float) -> F64:
    """One hit of a periodic sound: a decaying noise burst in ``band``, and, if ``tone_hz``
    > 0, the decaying ring of a body (a damped sinusoid whose pitch moves by ``glide`` octaves
    per second: a drop's plop rises).  Peak about 1."""
    m = int(decay_s * RATE * 6) + 8
    t = np.arange(m) / RATE
    env = np.exp(-t / decay_s) * np.minimum(1.0, t / 0.0005 + 1e-3)
    x = normalize(bandpass(rng.standard_normal(m), *band), 1.0) * env
    if tone_hz > 0:
        f = tone_hz * 2.0 ** (glide * t)
        ring = np.sin(2 * np.pi * np.cumsum(f) / RATE) * np.exp(-t / (decay_s * 1.5))
        x = rng.uniform(0.1, 0.6) * x + ring
    return x


# periodic sources, at least two periods in a window: (period range s, jitter, hits per period
# as (offset share, amplitude), noise band Hz, decay range s, ring pitch range Hz (0: none),
# glide octaves/s, bed)
PERIODIC: dict[str, tuple] = {
    "clock": ((0.5, 1.0), 0.003, ((0.0, 1.0), (0.5, 0.8)), (1500, 7900), (0.001, 0.004),
              (2000, 5000), 0.0, None),
    "turn_signal": ((0.6, 0.9), 0.005, ((0.0, 1.0), (0.5, 0.7)), (500, 6000), (0.002, 0.006),
                    (0, 0), 0.0, None),
    "heartbeat": ((0.6, 1.1), 0.03, ((0.0, 1.0), (0.3, 0.6)), (20, 150), (0.02, 0.06),
                  (30, 70), 0.0, None),
    "hammering": ((0.35, 0.9), 0.08, ((0.0, 1.0),), (200, 6000), (0.005, 0.03),
                  (300, 1500), 0.0, "room"),
    "knocking": ((0.15, 0.35), 0.1, ((0.0, 1.0),), (80, 2000), (0.01, 0.04),
                 (100, 300), 0.0, None),
    "dripping": ((0.3, 1.0), 0.05, ((0.0, 1.0),), (500, 4000), (0.003, 0.01),
                 (600, 1800), 3.0, "room"),
    "washer": ((0.7, 1.2), 0.04, ((0.0, 1.0), (0.45, 0.5)), (30, 400), (0.03, 0.1),
               (0, 0), 0.0, "motor"),
    "ping_pong": ((0.4, 0.8), 0.06, ((0.0, 1.0), (0.5, 0.8)), (1000, 7000), (0.002, 0.006),
                  (2500, 4500), 0.0, "room"),
    "rail": ((0.6, 1.2), 0.02, ((0.0, 1.0), (0.12, 0.9), (0.5, 0.8), (0.62, 0.7)),
             (60, 3000), (0.01, 0.03), (0, 0), 0.0, "rumble"),
    "wipers": ((0.8, 1.2), 0.02, ((0.0, 1.0), (0.5, 1.0)), (300, 5000), (0.05, 0.15),
               (0, 0), 0.0, "rumble"),
    "press": ((0.5, 1.2), 0.01, ((0.0, 1.0), (0.2, 0.4)), (40, 3000), (0.02, 0.08),
              (80, 250), 0.0, "motor"),
    "bouncing_ball": ((0.4, 0.8), 0.0, ((0.0, 1.0),), (100, 3000), (0.004, 0.015),
                      (150, 600), 0.0, None),
}


def periodic(rng, n, source: str | None = None):
    """Periodic everyday sounds, a beat that is not music: a clock's tick-tock, a turn
    signal's relay, a heartbeat, hammering, knocking, a dripping tap, a washing machine, table
    tennis, rail joints, windscreen wipers, a machine press, a bouncing ball (its period
    shrinking).  One source (:data:`PERIODIC`) repeats one to four hits per period at a near
    constant rate, each hit varying a little in level, over silence or a bed (room tone, a
    motor's hum, a vehicle's rumble).  ``source`` names one; by default a random one."""
    name = str(rng.choice(list(PERIODIC))) if source is None else source
    (p_lo, p_hi), jitter, hits, band, (d_lo, d_hi), (f_lo, f_hi), glide, bed = PERIODIC[name]
    period = float(rng.uniform(p_lo, p_hi))
    shapes = [_hit(rng, band, float(rng.uniform(d_lo, d_hi)),
                   float(rng.uniform(f_lo, f_hi)) if f_hi else 0.0, glide) for _ in hits]
    out = np.zeros(n + RATE)
    t = float(rng.uniform(0, period))
    bounce = name == "bouncing_ball"
    while t * RATE < n:
        for (offset, amp), shape in zip(hits, shapes, strict=True):
            s = int((t + offset * period) * RATE)
            if s < n:
                m = min(len(shape), len(out) - s)
                out[s:s + m] += amp * rng.uniform(0.8, 1.0) * shape[:m]
        t += period * (1 + jitter * rng.standard_normal())
        if bounce:
            period *= 0.85
            if period < 0.05:
                period = float(rng.uniform(p_lo, p_hi))
                t += period
    x = normalize(out[:n])
    if bed is not None:
        level = float(rng.uniform(0.02, 0.3))
        if bed == "room":
            x += level * room_tone(rng, n)
        elif bed == "motor":
            x += level * normalize(hum(rng, n) + normalize(bandpass(coloured(rng, n, 1.0),
                                                                   40, 2000)))
        else:
            x += level * normalize(bandpass(coloured(rng, n, 2.0), 20, 500))
    return normalize(x)


def silence(rng, n):
    """Silence: digital zero or a dither-level hiss (the level step scales it down)."""
    if rng.random() < 0.3:
        return np.zeros(n)
    return normalize(rng.standard_normal(n)) * 1e-3


KINDS: dict[str, Callable[[np.random.Generator, int], F64]] = {
    "white": white,
    "pink": pink,
    "brown": brown,
    "hum": hum,
    "clicks": clicks,
    "rain": rain,
    "wind": wind,
    "traffic": traffic,
    "fan": fan,
    "water": water,
    "typing": typing,
    "footsteps": footsteps,
    "applause": applause,
    "room_tone": room_tone,
    "silence": silence,
    "periodic": periodic,
}
# backgrounds used under speech, tonal sounds and music in mixtures
BACKGROUNDS = (
    "white",
    "pink",
    "brown",
    "hum",
    "rain",
    "wind",
    "traffic",
    "fan",
    "water",
    "room_tone",
    "applause",
    "typing",
    "periodic",
)
