"""Sound generators for the training corpus, one module per family.

Every generator is a pure function of its arguments and a ``numpy.random.Generator``; the
ones that call a synthesizer binary (FluidSynth, espeak-ng, flite, festival) name the Debian
package to install when the binary or its data is missing (:func:`require`).

All audio here is float64 mono at :data:`RATE` (16 kHz), nominally within [-1, 1].

    music     MIDI songs generated with mido, rendered by FluidSynth (two GM soundfonts)
    speech    espeak-ng, flite and festival voices; babble
    noise     coloured noise, hums, clicks and textures (rain, wind, traffic, fan, water ...)
    tonal     hard negatives: beeps, alarms, sirens, sustained tones, ring tones, DTMF ...
    effects   the processing chain applied alike to every clip: reverb, EQ, band limits,
              noise floor, level, clipping
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

RATE = 16000
F64 = npt.NDArray[np.float64]


class ToolMissing(RuntimeError):
    """A synthesizer binary or data file is missing; the message names the Debian package."""


def require(binary: str, package: str) -> str:
    """Path of ``binary`` on PATH, or :class:`ToolMissing` naming the Debian ``package``."""
    path = shutil.which(binary)
    if path is None:
        raise ToolMissing(
            f"'{binary}' not found on PATH: install the Debian package "
            f"'{package}' (apt-get install -y {package})"
        )
    return path


def require_file(path: str | Path, package: str) -> Path:
    """``path`` if it exists, or :class:`ToolMissing` naming the Debian ``package``."""
    p = Path(path)
    if not p.is_file():
        raise ToolMissing(
            f"{p} not found: install the Debian package '{package}' (apt-get install -y {package})"
        )
    return p


def resample(x: npt.ArrayLike, rate_in: int, rate_out: int = RATE) -> F64:
    """Polyphase (anti-aliased) resampling of float audio ``(n,)`` from ``rate_in``."""
    x = np.asarray(x, dtype=np.float64)
    if rate_in == rate_out:
        return x
    g = np.gcd(int(rate_in), int(rate_out))
    return resample_poly(x, rate_out // g, rate_in // g)


def rms(x: npt.ArrayLike) -> float:
    """Root mean square of ``x`` (0 for silence)."""
    x = np.asarray(x, dtype=np.float64)
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


def normalize(x: npt.ArrayLike, peak: float = 0.5) -> F64:
    """``x`` scaled to the given peak (silence stays silence)."""
    x = np.asarray(x, dtype=np.float64)
    m = float(np.max(np.abs(x))) if x.size else 0.0
    return x * (peak / m) if m > 0 else x


def fit(x: npt.ArrayLike, n: int, rng: np.random.Generator | None = None) -> F64:
    """``x`` cut to ``n`` samples at a random offset (or padded with zeros around it)."""
    x = np.asarray(x)  # converted to float64 after cutting: a long float32 source stays put
    if len(x) >= n:
        start = int(rng.integers(0, len(x) - n + 1)) if rng is not None else 0
        return x[start : start + n].astype(np.float64)
    out = np.zeros(n)
    start = int(rng.integers(0, n - len(x) + 1)) if rng is not None else 0
    out[start : start + len(x)] = x
    return out
