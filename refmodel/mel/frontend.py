"""Mel front end: public API of the float golden and of the bit-accurate model.

Float golden (float64):
    :func:`mel_matrix`   (32, 257) HTK filterbank, no normalisation
    :func:`logmel_db`    (n_frames, 32) dB
    :func:`ideal_codes`  (n_frames, 32) uint8, the golden quantised

Bit-accurate model of the RTL (integer numpy, ``docs/fixed_point_frontend.md``), stage by
stage, each stage callable on its own by a block test:

=====================  ==============================  =======================================
stage                  function                        in -> out
=====================  ==============================  =======================================
framing buffer         ``fe_window.frame_stage``       int16 (N,) -> int16 (F, 400)
window                 ``fe_window.window_stage``      int16 (F, 400) -> int64 (F, 400) Q16.4
FFT load + 8 stages    ``fe_fft.fft_stage``            (F, 400) -> 2x int64 (F, 256) 24-bit
  one FFT stage        ``fe_fft.fft_butterfly_stage``  2x (F, 256) -> 2x (F, 256)
real split             ``fe_fft.split_stage``          2x (F, 256) -> 2x int64 (F, 257) 24-bit
power                  ``fe_mel.power_stage``          2x (F, 257) -> int64 (F, 257) u40
mel                    ``fe_mel.mel_stage``            (F, 257) u40 -> int64 (F, 32) u58
log2                   ``fe_log.log2_stage``           (F, 32) u58 -> int64 (F, 32) UQ6.16
quantiser              ``fe_log.quantise_stage``       (F, 32) -> uint8 (F, 32)
=====================  ==============================  =======================================

:func:`features` chains them (in cache-sized chunks of frames); :class:`FrontendStream` is
the streaming form, fed arbitrary chunks of samples, emitting exactly what :func:`features`
emits for the concatenated input.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from refmodel.mel.config import DEFAULT, FrontendConfig, resolve
from refmodel.mel.fft import fft_stage
from refmodel.mel.filterbank import mel_stage
from refmodel.mel.golden import (
    as_samples,
    db_to_codes,
    frame_view,
    hamming_window,
    ideal_codes,
    logmel_db,
    mel_centers_hz,
    mel_edges_hz,
    mel_matrix,
)
from refmodel.mel.log2 import log2_stage
from refmodel.mel.power import power_stage
from refmodel.mel.quant import quantise_stage
from refmodel.mel.split import split_stage
from refmodel.mel.window import window_stage

__all__ = [
    "DEFAULT",
    "FrontendConfig",
    "FrontendStream",
    "db_to_codes",
    "features",
    "features_from_frames",
    "hamming_window",
    "ideal_codes",
    "logmel_db",
    "mel_centers_hz",
    "mel_edges_hz",
    "mel_matrix",
]

CHUNK_FRAMES = 128  # frames per vectorised block: the int64 working set stays in L2


def features_from_frames(frames: npt.ArrayLike, cfg: FrontendConfig | None = None
                         ) -> npt.NDArray[np.uint8]:
    """Bit-accurate front end on frames: int16 ``(F, 400)`` -> uint8 ``(F, 32)``."""
    cfg = resolve(cfg)
    v = window_stage(frames, cfg)
    zr, zi = fft_stage(v, cfg)
    xr, xi = split_stage(zr, zi, cfg)
    m = mel_stage(power_stage(xr, xi, cfg), cfg)
    return quantise_stage(log2_stage(m, cfg), cfg)


def features(samples: npt.ArrayLike, cfg: FrontendConfig | None = None,
             *, chunk_frames: int = CHUNK_FRAMES) -> npt.NDArray[np.uint8]:
    """Bit-accurate model of the RTL: int16 ``(N,)`` -> uint8 ``(n_frames, 32)``.

    ``n_frames = floor((N - 400) / 160) + 1`` (0 if ``N < 400``).  ``chunk_frames`` only
    changes speed, never the result.
    """
    cfg = resolve(cfg)
    if chunk_frames < 1:
        raise ValueError(f"chunk_frames={chunk_frames} must be >= 1")
    frames = frame_view(as_samples(samples), cfg)
    out = np.empty((frames.shape[0], cfg.n_mels), dtype=np.uint8)
    for start in range(0, frames.shape[0], chunk_frames):
        stop = min(start + chunk_frames, frames.shape[0])
        out[start:stop] = features_from_frames(frames[start:stop], cfg)
    return out


class FrontendStream:
    """Streaming bit-accurate front end: feed any chunks, get every finished frame's codes.

    ``push(chunk)`` returns uint8 ``(k, 32)`` for the ``k`` frames completed by this chunk
    (possibly 0).  The concatenation of all outputs equals ``features(all_samples)``.
    State: the last ``frame_len - 1`` or fewer samples not yet consumed and the frame count.
    """

    def __init__(self, cfg: FrontendConfig | None = None) -> None:
        self.cfg = resolve(cfg)
        self._buf = np.zeros(0, dtype=np.int16)
        self.frames_out = 0  # frames emitted so far (the next frame's index)
        self.samples_in = 0  # samples pushed so far

    def push(self, chunk: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """Append int16 samples ``(n,)``; return uint8 ``(k, 32)`` for the new frames."""
        x = as_samples(chunk, name="chunk")
        self.samples_in += len(x)
        buf = np.concatenate([self._buf, x]) if len(self._buf) else x
        n = self.cfg.n_frames(len(buf))
        codes = features(buf, self.cfg) if n else np.zeros((0, self.cfg.n_mels), np.uint8)
        self._buf = np.array(buf[n * self.cfg.hop:], dtype=np.int16)
        self.frames_out += n
        return codes

    def reset(self) -> None:
        """Forget all state (as after the chip's reset)."""
        self._buf = np.zeros(0, dtype=np.int16)
        self.frames_out = 0
        self.samples_in = 0
