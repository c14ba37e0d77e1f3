"""Float golden of the mel front end (float64 numpy): the formulas of SPEC.md section 2.

Public names are re-exported by :mod:`refmodel.mel.frontend`; the fixed-point stages take their
constant tables (window, mel weights) from the float definitions here, so both models share
one definition of the window and of the filterbank.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from refmodel.mel.config import FrontendConfig, resolve
from refmodel.mel.framer import as_samples, frame_view


def hz_to_mel(f_hz: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """HTK mel scale: ``2595 log10(1 + f / 700)``."""
    return 2595.0 * np.log10(1.0 + np.asarray(f_hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Inverse of :func:`hz_to_mel`: ``700 (10**(m / 2595) - 1)``."""
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_edges_hz(cfg: FrontendConfig | None = None) -> npt.NDArray[np.float64]:
    """The ``n_mels + 2`` triangle corner frequencies in Hz, float64 ``(n_mels + 2,)``.

    Band ``b`` rises from edge ``b`` to edge ``b+1`` (its centre) and falls to edge ``b+2``.
    """
    cfg = resolve(cfg)
    mels = np.linspace(hz_to_mel(cfg.f_min), hz_to_mel(cfg.f_max), cfg.n_mels + 2)
    return mel_to_hz(mels)


def mel_centers_hz(cfg: FrontendConfig | None = None) -> npt.NDArray[np.float64]:
    """Centre frequency of each band in Hz, float64 ``(n_mels,)``."""
    return mel_edges_hz(cfg)[1:-1]


def mel_matrix(cfg: FrontendConfig | None = None) -> npt.NDArray[np.float64]:
    """Mel filterbank, float64 ``(n_mels, n_bins)`` = ``(32, 257)``.

    HTK mel scale, triangles evaluated at the continuous bin frequencies ``k * sr / n_fft``,
    no area normalisation: the same matrix as ``librosa.filters.mel(sr=16000, n_fft=512,
    n_mels=32, fmin=60, fmax=3800, htk=True, norm=None)`` (built without librosa).
    """
    cfg = resolve(cfg)
    fft_hz = np.linspace(0.0, cfg.sample_rate / 2, cfg.n_bins)
    edges = mel_edges_hz(cfg)
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    weights = np.zeros((cfg.n_mels, cfg.n_bins), dtype=np.float64)
    for b in range(cfg.n_mels):
        rising = -ramps[b] / widths[b]
        falling = ramps[b + 2] / widths[b + 1]
        weights[b] = np.maximum(0.0, np.minimum(rising, falling))
    return weights


def hamming_window(cfg: FrontendConfig | None = None) -> npt.NDArray[np.float64]:
    """Symmetric Hamming window, float64 ``(frame_len,)``: ``0.54 - 0.46 cos(2 pi n / 399)``."""
    cfg = resolve(cfg)
    n = np.arange(cfg.frame_len, dtype=np.float64)
    a = cfg.window_alpha
    return a - (1.0 - a) * np.cos(2.0 * np.pi * n / (cfg.frame_len - 1))






def mel_power(samples: npt.ArrayLike, cfg: FrontendConfig | None = None
              ) -> npt.NDArray[np.float64]:
    """Float mel power (before the log), float64 ``(n_frames, n_mels)``; samples / 32768."""
    cfg = resolve(cfg)
    x = as_samples(samples)
    frames = frame_view(x, cfg).astype(np.float64) / float(1 << (cfg.sample_bits - 1))
    spec = np.fft.rfft(frames * hamming_window(cfg), n=cfg.n_fft, axis=-1)
    power = spec.real ** 2 + spec.imag ** 2
    return power @ mel_matrix(cfg).T


def logmel_db(samples: npt.ArrayLike, cfg: FrontendConfig | None = None
              ) -> npt.NDArray[np.float64]:
    """Float golden log-mel in dB, float64 ``(n_frames, n_mels)``.

    ``samples`` is 1-D int16 PCM at ``sample_rate``; ``dB = 10 log10(max(mel, 1e-10))``.
    """
    cfg = resolve(cfg)
    return 10.0 * np.log10(np.maximum(mel_power(samples, cfg), cfg.power_floor))


def db_to_codes(db: npt.ArrayLike, cfg: FrontendConfig | None = None) -> npt.NDArray[np.uint8]:
    """Quantise dB to codes: ``clip(round((dB - db_floor) * 255 / db_span), 0, 255)``, uint8.

    ``round`` is numpy's (half to even); ties have probability zero for real audio.
    """
    cfg = resolve(cfg)
    v = np.round((np.asarray(db, dtype=np.float64) - cfg.db_floor) * cfg.codes_per_db)
    return np.clip(v, 0, cfg.code_max).astype(np.uint8)


def ideal_codes(samples: npt.ArrayLike, cfg: FrontendConfig | None = None
                ) -> npt.NDArray[np.uint8]:
    """Float golden quantised to the 8-bit feature, uint8 ``(n_frames, n_mels)``."""
    return db_to_codes(logmel_db(samples, cfg), cfg)
