"""Bit-accurate model of ``mel_framer`` (``rtl/mel/mel_framer.sv``): samples into frames.

The chip's input is int16 PCM; frame ``k`` is ``samples[hop*k : hop*k + frame_len]``
(``[160k, 160k + 400)`` by default), so ``n_frames = floor((N - 400) / 160) + 1`` (0 when
``N < 400``).  The RTL hands each frame on as ``frame_len / 2`` pairs of samples; the link
word is in :mod:`refmodel.mel.stages`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from refmodel.mel.config import FrontendConfig, resolve

I64 = npt.NDArray[np.int64]


def as_samples(samples: npt.ArrayLike, name: str = "samples") -> npt.NDArray[np.int16]:
    """Check and return 1-D int16 PCM (any integer dtype whose values fit int16 is accepted)."""
    x = np.asarray(samples)
    if x.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of int16 samples, got shape {x.shape}")
    if x.dtype == np.int16:
        return x
    if not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"{name}: expected int16 samples, got dtype {x.dtype}")
    if x.size and (x.min() < -32768 or x.max() > 32767):
        raise ValueError(f"{name}: values outside the int16 range")
    return x.astype(np.int16)


def frame_view(samples: npt.NDArray, cfg: FrontendConfig | None = None) -> npt.NDArray:
    """Read-only strided view ``(n_frames, frame_len)``: frame k = ``samples[160k:160k+400]``."""
    cfg = resolve(cfg)
    n = cfg.n_frames(len(samples))
    if n == 0:
        return np.zeros((0, cfg.frame_len), dtype=samples.dtype)
    view = np.lib.stride_tricks.sliding_window_view(samples, cfg.frame_len)
    return view[: (n - 1) * cfg.hop + 1 : cfg.hop]


def frame_stage(samples: npt.ArrayLike, cfg: FrontendConfig | None = None
                ) -> npt.NDArray[np.int16]:
    """Framing: int16 ``(N,)`` -> int16 ``(n_frames, frame_len)``, frame k = ``[160k, 160k+400)``.

    ``n_frames = floor((N - 400) / 160) + 1`` (0 when ``N < 400``).  Returns a copy.
    """
    cfg = resolve(cfg)
    return np.array(frame_view(as_samples(samples), cfg), dtype=np.int16)
