"""Mel front end: public API of the float golden and of the bit-accurate model.

Float golden (float64):
    :func:`mel_matrix`   (32, 257) HTK filterbank, no normalisation
    :func:`logmel_db`    (n_frames, 32) dB
    :func:`ideal_codes`  (n_frames, 32) uint8, the golden quantised

Bit-accurate model of the RTL (integer numpy, ``docs/fixed_point_frontend.md``): one module
per RTL block (``refmodel/mel/<block>.py``), chained in the order of the stage table
:mod:`refmodel.mel.stages` (``docs/stages.md``), each stage callable on its own by a block test.

:func:`features` runs the stage table (in cache-sized chunks of frames); :class:`FrontendStream`
is the streaming form, fed arbitrary chunks of samples, emitting exactly what :func:`features`
emits for the concatenated input.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from refmodel.mel import stages
from refmodel.mel.config import DEFAULT, FrontendConfig, resolve
from refmodel.mel.framer import as_samples
from refmodel.mel.golden import (
    db_to_codes,
    hamming_window,
    ideal_codes,
    logmel_db,
    mel_centers_hz,
    mel_edges_hz,
    mel_matrix,
)

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
    return stages.run(frames, cfg, start="mel_window")


def features(samples: npt.ArrayLike, cfg: FrontendConfig | None = None,
             *, chunk_frames: int = CHUNK_FRAMES) -> npt.NDArray[np.uint8]:
    """Bit-accurate model of the RTL: int16 ``(N,)`` -> uint8 ``(n_frames, 32)``.

    ``n_frames = floor((N - 400) / 160) + 1`` (0 if ``N < 400``).  ``chunk_frames`` only
    changes speed, never the result.
    """
    cfg = resolve(cfg)
    if chunk_frames < 1:
        raise ValueError(f"chunk_frames={chunk_frames} must be >= 1")
    frames = stages.run(as_samples(samples), cfg, upto="mel_framer")
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

    :meth:`expect` announces samples that will probably be pushed next: their frames are
    computed in one batch, and a later push whose samples are the announced ones, in order,
    takes its frames from that batch (small pushes cost a stage-table run each).  Any other
    push drops the batch and is computed from its own samples, so the outputs never depend
    on the announcement.
    """

    def __init__(self, cfg: FrontendConfig | None = None) -> None:
        self.cfg = resolve(cfg)
        self.reset()

    def push(self, chunk: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """Append int16 samples ``(n,)``; return uint8 ``(k, 32)`` for the new frames."""
        x = as_samples(chunk, name="chunk")
        self.samples_in += len(x)
        buf = np.concatenate([self._buf, x]) if len(self._buf) else x
        n = self.cfg.n_frames(len(buf))
        codes = self._from_batch(x, n)
        if codes is None:
            codes = features(buf, self.cfg) if n else np.zeros((0, self.cfg.n_mels), np.uint8)
        self._buf = np.array(buf[n * self.cfg.hop:], dtype=np.int16)
        self.frames_out += n
        return codes

    def expect(self, upcoming: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """Announce int16 samples ``(n,)`` to be pushed next; returns (read-only) uint8
        ``(k, 32)``: the frames they complete if they are pushed, in any chunks."""
        x = np.array(as_samples(upcoming, name="upcoming"), dtype=np.int16)
        codes = features(np.concatenate([self._buf, x]), self.cfg)
        codes.flags.writeable = False
        x.flags.writeable = False
        self._batch = (x, codes)
        self._taken = (0, 0)
        return codes

    def _from_batch(self, x: npt.NDArray[np.int16], n: int) -> npt.NDArray[np.uint8] | None:
        """The next ``n`` frames from the announced batch when ``x`` continues its samples
        (None otherwise, and the batch is dropped)."""
        if self._batch is None:
            return None
        samples, codes = self._batch
        at, frames = self._taken
        if not np.array_equal(samples[at:at + len(x)], x):
            self._batch = None
            return None
        self._taken = (at + len(x), frames + n)
        return codes[frames:frames + n].copy()

    def reset(self) -> None:
        """Forget all state (as after the chip's reset)."""
        self._buf = np.zeros(0, dtype=np.int16)
        self.frames_out = 0  # frames emitted so far (the next frame's index)
        self.samples_in = 0  # samples pushed so far
        self._batch: tuple[npt.NDArray[np.int16], npt.NDArray[np.uint8]] | None = None
        self._taken = (0, 0)  # samples and frames of the batch pushed so far
