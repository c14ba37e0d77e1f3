"""Audio input for the reference model: a strict WAV reader and seeded synthetic generators.

Everything returns **int16 mono PCM at 16 kHz** (``numpy.int16``, shape ``(N,)``), the chip's
input format.

:func:`load_wav` reads any RIFF/WAVE file: PCM 8 (unsigned), 16, 24, 32-bit integer, IEEE
float 32/64-bit, plain or ``WAVE_FORMAT_EXTENSIBLE``, any channel count and sample rate.
Channels are averaged; other rates are resampled with ``scipy.signal.resample_poly`` (a
polyphase FIR with a Kaiser-windowed anti-aliasing filter).  A 16 kHz mono 16-bit file comes
back verbatim.  Problems raise :class:`AudioError` (a ``ValueError``) naming the file.

Clipping policy: **warn, never hide**.  If a conversion (24/32-bit or float to int16, channel
mixing, resampling overshoot) produces values outside int16, they are clipped and a
:class:`ClippingWarning` names the file, the number of clipped samples and the peak.
Float files with NaN or infinity are an error.
"""

from __future__ import annotations

import math
import struct
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
I16 = npt.NDArray[np.int16]

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
_TAG_NAMES = {0x0002: "MS ADPCM", 0x0006: "A-law", 0x0007: "mu-law", 0x0011: "IMA ADPCM",
              0x0055: "MPEG layer 3"}


class AudioError(ValueError):
    """A WAV file (or generator argument) that cannot be turned into 16 kHz int16 audio."""


class ClippingWarning(UserWarning):
    """Samples were clipped to the int16 range while converting a file."""


# ---------------------------------------------------------------------------- WAV reading

def _fail(path: Path | str, problem: str) -> AudioError:
    return AudioError(f"{path}: {problem}")


def _parse_fmt(path: Path, body: bytes) -> tuple[int, int, int, int]:
    """(format tag resolved through EXTENSIBLE, channels, rate, bits per sample)."""
    if len(body) < 16:
        raise _fail(path, f"fmt chunk is {len(body)} bytes, needs at least 16 (corrupt)")
    tag, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", body, 0)
    if tag == WAVE_FORMAT_EXTENSIBLE:
        if len(body) < 40:
            raise _fail(path, "WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes (corrupt)")
        # valid-bits (offset 18) is not needed: samples sit MSB-aligned in `bits` containers
        guid = body[24:40]
        if guid[2:] != _GUID_TAIL:
            raise _fail(path, "unsupported WAVE_FORMAT_EXTENSIBLE sub-format GUID")
        tag = struct.unpack_from("<H", guid, 0)[0]
    if channels < 1:
        raise _fail(path, "fmt chunk says 0 channels (corrupt)")
    if rate < 1:
        raise _fail(path, "fmt chunk says sample rate 0 (corrupt)")
    if tag == WAVE_FORMAT_PCM and bits not in (8, 16, 24, 32):
        raise _fail(path, f"unsupported PCM sample width {bits} bits (8/16/24/32 supported)")
    if tag == WAVE_FORMAT_IEEE_FLOAT and bits not in (32, 64):
        raise _fail(path, f"unsupported float sample width {bits} bits (32/64 supported)")
    if tag not in (WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT):
        name = _TAG_NAMES.get(tag, "unknown")
        raise _fail(path, f"unsupported WAV encoding: format tag 0x{tag:04x} ({name}); "
                    "only integer PCM and IEEE float are supported")
    if block_align != channels * bits // 8:
        raise _fail(path, f"block align {block_align} != channels x bytes per sample "
                    f"({channels} x {bits // 8}) (corrupt)")
    return tag, channels, rate, bits


def _read_chunks(path: Path, data: bytes) -> tuple[bytes, bytes]:
    """The fmt and data chunk payloads of a RIFF/WAVE byte string."""
    if len(data) == 0:
        raise _fail(path, "empty file")
    if data[:4] == b"RIFX":
        raise _fail(path, "unsupported big-endian (RIFX) WAV")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise _fail(path, "not a RIFF/WAVE file")
    riff_size = struct.unpack_from("<I", data, 4)[0]
    if riff_size + 8 > len(data):
        raise _fail(path, f"truncated: RIFF header announces {riff_size + 8} bytes, file has "
                    f"{len(data)}")
    end = riff_size + 8
    pos = 12
    fmt = payload = None
    while pos + 8 <= end:
        cid = data[pos:pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        body_start = pos + 8
        if body_start + size > end:
            raise _fail(path, f"truncated: chunk {cid!r} announces {size} bytes, only "
                        f"{end - body_start} present")
        if cid == b"fmt ":
            fmt = data[body_start:body_start + size]
        elif cid == b"data":
            if fmt is None:
                raise _fail(path, "data chunk before fmt chunk (corrupt)")
            payload = data[body_start:body_start + size]
            break
        pos = body_start + size + (size & 1)
    if fmt is None:
        raise _fail(path, "no fmt chunk (corrupt)")
    if payload is None:
        raise _fail(path, "no data chunk (corrupt or truncated)")
    return fmt, payload


def _decode(path: Path, tag: int, channels: int, bits: int, payload: bytes
            ) -> npt.NDArray:
    """Frames x channels array: int16 for 16-bit PCM, otherwise float64 in int16 units."""
    frame_bytes = channels * bits // 8
    if len(payload) % frame_bytes:
        raise _fail(path, f"data chunk of {len(payload)} bytes is not a whole number of "
                    f"{frame_bytes}-byte frames (truncated)")
    n = len(payload) // frame_bytes
    if n == 0:
        raise _fail(path, "no samples (empty data chunk)")
    raw = np.frombuffer(payload, dtype=np.uint8)
    if tag == WAVE_FORMAT_IEEE_FLOAT:
        x = np.frombuffer(payload, dtype="<f4" if bits == 32 else "<f8").astype(np.float64)
        if not np.all(np.isfinite(x)):
            raise _fail(path, "float samples contain NaN or infinity")
        return (x * 32768.0).reshape(n, channels)
    if bits == 8:
        return ((raw.astype(np.float64) - 128.0) * 256.0).reshape(n, channels)
    if bits == 16:
        return np.frombuffer(payload, dtype="<i2").reshape(n, channels)
    if bits == 24:
        b = raw.reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        return (v.astype(np.float64) / 256.0).reshape(n, channels)
    v = np.frombuffer(payload, dtype="<i4").astype(np.float64)
    return (v / 65536.0).reshape(n, channels)


def to_int16(x: npt.ArrayLike, *, what: str = "audio") -> I16:
    """Round float samples in int16 units to int16; clip with a :class:`ClippingWarning`."""
    r = np.round(np.asarray(x, dtype=np.float64))
    over = (r > 32767) | (r < -32768)
    if over.any():
        peak = float(np.max(np.abs(r)))
        warnings.warn(f"{what}: {int(over.sum())} samples clipped to the int16 range "
                      f"(peak {peak:.0f} = {20 * math.log10(peak / 32768):+.2f} dBFS)",
                      ClippingWarning, stacklevel=3)
        r = np.clip(r, -32768, 32767)
    return r.astype(np.int16)


def load_wav(path: str | Path) -> I16:
    """Read a WAV file as int16 mono 16 kHz samples, shape ``(N,)``.

    Raises :class:`AudioError` for missing, empty, truncated, corrupt or unsupported files;
    warns :class:`ClippingWarning` if conversion had to clip (see module docstring).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot read file ({exc.strerror or exc})") from None
    fmt, payload = _read_chunks(path, data)
    tag, channels, rate, bits = _parse_fmt(path, fmt)
    x = _decode(path, tag, channels, bits, payload)
    if x.dtype == np.int16 and channels == 1 and rate == SAMPLE_RATE:
        return x[:, 0].copy()
    mono = x.astype(np.float64).mean(axis=1)
    if rate != SAMPLE_RATE:
        # imported here: scipy.signal takes seconds to import, and only resampling needs it
        from scipy import signal

        g = math.gcd(rate, SAMPLE_RATE)
        mono = signal.resample_poly(mono, SAMPLE_RATE // g, rate // g)
    return to_int16(mono, what=str(path))


def wav_bytes(data: npt.ArrayLike, rate: int, *, bits: int = 16, is_float: bool = False,
              extensible: bool = False) -> bytes:
    """Encode samples as a WAV file image (used by tests and ``vectors/make_vectors.py``).

    ``data``: ``(N,)`` or ``(N, channels)``; integer PCM values are taken as already in the
    target width (8-bit given signed -128..127 and stored offset-binary), float values as is.
    """
    x = np.asarray(data)
    if x.ndim == 1:
        x = x[:, None]
    n, channels = x.shape
    if is_float:
        tag, payload = WAVE_FORMAT_IEEE_FLOAT, x.astype("<f4" if bits == 32 else "<f8")
        payload = payload.tobytes()
    elif bits == 8:
        tag, payload = WAVE_FORMAT_PCM, (x.astype(np.int16) + 128).astype(np.uint8).tobytes()
    elif bits == 24:
        v = x.astype(np.int64).reshape(-1) & 0xFFFFFF
        b = np.stack([v & 0xFF, (v >> 8) & 0xFF, v >> 16], axis=1).astype(np.uint8)
        tag, payload = WAVE_FORMAT_PCM, b.tobytes()
    elif bits in (16, 32):
        tag, payload = WAVE_FORMAT_PCM, x.astype(f"<i{bits // 8}").tobytes()
    else:
        raise ValueError(f"bits={bits} not supported")
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", WAVE_FORMAT_EXTENSIBLE if extensible else tag, channels,
                      rate, rate * block, block, bits)
    if extensible:
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", tag) + _GUID_TAIL
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    chunks += b"data" + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) & 1)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def write_wav(path: str | Path, samples: npt.ArrayLike, rate: int = SAMPLE_RATE) -> None:
    """Write int16 samples ``(N,)`` or ``(N, channels)`` as a 16-bit PCM WAV file."""
    x = np.asarray(samples)
    if x.dtype != np.int16:
        raise ValueError(f"write_wav: samples must be int16, got {x.dtype}")
    Path(path).write_bytes(wav_bytes(x, rate, bits=16))


# ---------------------------------------------------------------------------- generators

def _n(seconds: float, sample_rate: int) -> int:
    if not (seconds >= 0 and math.isfinite(seconds)):
        raise AudioError(f"seconds={seconds} must be a finite number >= 0")
    if sample_rate < 1:
        raise AudioError(f"sample_rate={sample_rate} must be >= 1")
    return int(round(seconds * sample_rate))


def _amp(amplitude: float) -> float:
    if not 0.0 <= amplitude <= 1.0:
        raise AudioError(f"amplitude={amplitude} must be in 0..1 (fraction of full scale)")
    return amplitude * 32767.0


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    if seed is None:
        raise AudioError("a seed (int or numpy Generator) is required for random audio")
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def silence(seconds: float, *, sample_rate: int = SAMPLE_RATE) -> I16:
    """Digital silence (all zeros)."""
    return np.zeros(_n(seconds, sample_rate), dtype=np.int16)


def dc(seconds: float, level: float = 0.5, *, sample_rate: int = SAMPLE_RATE) -> I16:
    """Constant ``round(level * 32767)``, ``level`` in -1..1."""
    if not -1.0 <= level <= 1.0:
        raise AudioError(f"level={level} must be in -1..1")
    return np.full(_n(seconds, sample_rate), round(level * 32767), dtype=np.int16)


def tone(seconds: float, freq: float = 1000.0, amplitude: float = 0.5, *,
         phase: float = 0.0, sample_rate: int = SAMPLE_RATE) -> I16:
    """Sine ``amplitude * 32767 * sin(2 pi f t + phase)``, rounded."""
    n = _n(seconds, sample_rate)
    t = np.arange(n) / sample_rate
    return np.round(_amp(amplitude) * np.sin(2 * np.pi * freq * t + phase)).astype(np.int16)


def chirp(seconds: float, f0: float = 50.0, f1: float = 7900.0, amplitude: float = 0.5, *,
          method: str = "linear", sample_rate: int = SAMPLE_RATE) -> I16:
    """Frequency sweep from ``f0`` to ``f1`` Hz: ``method`` "linear" (the frequency moves by
    equal steps) or "logarithmic" (by equal ratios; f0 and f1 > 0).  The phase is the integral
    of the instantaneous frequency, as in ``scipy.signal.chirp`` (not imported here: it takes
    seconds, and every simulation imports this module)."""
    n = _n(seconds, sample_rate)
    t = np.arange(n) / sample_rate
    t1 = max(seconds, 1e-9)
    if method == "linear":
        phase = 2 * np.pi * (f0 * t + 0.5 * ((f1 - f0) / t1) * t * t)
    elif method == "logarithmic":
        if f0 <= 0 or f1 <= 0 or f0 == f1:
            raise AudioError(f"logarithmic chirp from {f0} Hz to {f1} Hz: both frequencies "
                             "must be above 0 and differ")
        beta = t1 / math.log(f1 / f0)
        phase = 2 * np.pi * beta * f0 * (np.power(f1 / f0, t / t1) - 1.0)
    else:
        raise AudioError(f"chirp method {method!r} is not 'linear' or 'logarithmic'")
    y = np.cos(phase)
    return np.round(_amp(amplitude) * y).astype(np.int16)


def white_noise(seconds: float, amplitude: float = 0.5, *, seed: int | np.random.Generator,
                sample_rate: int = SAMPLE_RATE) -> I16:
    """Uniform white noise on ``[-amplitude, amplitude]`` of full scale (1.0: every int16)."""
    rng = _rng(seed)
    n = _n(seconds, sample_rate)
    if amplitude == 1.0:
        return rng.integers(-32768, 32768, n).astype(np.int16)
    return np.round(rng.uniform(-1.0, 1.0, n) * _amp(amplitude)).astype(np.int16)


def pink_noise(seconds: float, amplitude: float = 0.5, *, seed: int | np.random.Generator,
               sample_rate: int = SAMPLE_RATE) -> I16:
    """1/f noise (white Gaussian shaped by 1/sqrt(f) in the frequency domain), peak-normalised
    to ``amplitude`` of full scale (so nothing clips)."""
    rng = _rng(seed)
    n = _n(seconds, sample_rate)
    if n == 0:
        return np.zeros(0, dtype=np.int16)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sample_rate)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0.0
    y = np.fft.irfft(spec, n)
    peak = np.max(np.abs(y))
    y = y / peak if peak > 0 else y
    return np.round(_amp(amplitude) * y).astype(np.int16)


def square(seconds: float, freq: float = 440.0, amplitude: float = 1.0, *,
           sample_rate: int = SAMPLE_RATE) -> I16:
    """Square wave; ``amplitude=1`` is full scale: +32767 / -32768."""
    _amp(amplitude)
    n = _n(seconds, sample_rate)
    t = np.arange(n) / sample_rate
    hi, lo = min(32767, round(amplitude * 32768)), -round(amplitude * 32768)
    return np.where(np.sin(2 * np.pi * freq * t) >= 0, hi, lo).astype(np.int16)


def impulse_train(seconds: float, period: int = 160, amplitude: float = 1.0, *,
                  offset: int = 0, sample_rate: int = SAMPLE_RATE) -> I16:
    """One sample of ``amplitude * 32767`` every ``period`` samples, starting at ``offset``."""
    if period < 1 or offset < 0:
        raise AudioError(f"period={period} must be >= 1 and offset={offset} >= 0")
    x = np.zeros(_n(seconds, sample_rate), dtype=np.int16)
    x[offset::period] = round(_amp(amplitude))
    return x


def bursts(seconds: float, *, on: float = 0.15, off: float = 0.25, amplitude: float = 0.5,
           seed: int | np.random.Generator, sample_rate: int = SAMPLE_RATE) -> I16:
    """Noise bursts: ``on`` s of white noise at a random level (up to ``amplitude``, at least
    -40 dB below it) then ``off`` s of silence, repeated."""
    rng = _rng(seed)
    n = _n(seconds, sample_rate)
    n_on, n_off = _n(on, sample_rate), _n(off, sample_rate)
    if n_on < 1 or n_off < 0:
        raise AudioError(f"on={on} s must give at least one sample, off={off} >= 0")
    x = np.zeros(n, dtype=np.int16)
    for start in range(0, n, n_on + n_off):
        level = amplitude * 10 ** rng.uniform(-2.0, 0.0)
        seg = white_noise(min(n_on, n - start) / sample_rate, level, seed=rng,
                          sample_rate=sample_rate)
        x[start:start + len(seg)] = seg
    return x


def synthetic_suite(seed: int, seconds: float = 2.0, *, sample_rate: int = SAMPLE_RATE
                    ) -> dict[str, I16]:
    """A seeded set of every generator at several levels: name -> int16 ``(N,)``.

    Used by the accuracy tests and the accuracy report; the same seed gives the same set.
    """
    rng = np.random.default_rng(seed)
    s, sr = seconds, sample_rate
    f_tone = float(rng.uniform(100.0, 3700.0))
    return {
        "silence": silence(s, sample_rate=sr),
        "dc_half": dc(s, 0.5, sample_rate=sr),
        "tone_loud": tone(s, f_tone, 0.9, phase=float(rng.uniform(0, 6.28)), sample_rate=sr),
        "tone_mid": tone(s, float(rng.uniform(100.0, 3700.0)), 0.05, sample_rate=sr),
        "tone_quiet": tone(s, float(rng.uniform(100.0, 3700.0)), 0.002, sample_rate=sr),
        "chirp_lin": chirp(s, 30.0, 7900.0, 0.5, sample_rate=sr),
        "chirp_log_quiet": chirp(s, 50.0, 5000.0, 0.01, method="logarithmic", sample_rate=sr),
        "white_full": white_noise(s, 1.0, seed=rng, sample_rate=sr),
        "white_mid": white_noise(s, 0.03, seed=rng, sample_rate=sr),
        "white_quiet": white_noise(s, 0.001, seed=rng, sample_rate=sr),
        "pink_loud": pink_noise(s, 0.9, seed=rng, sample_rate=sr),
        "pink_quiet": pink_noise(s, 0.01, seed=rng, sample_rate=sr),
        "square_full": square(s, float(rng.uniform(60.0, 2000.0)), 1.0, sample_rate=sr),
        "impulses": impulse_train(s, int(rng.integers(50, 400)), 1.0, sample_rate=sr),
        "bursts": bursts(s, seed=rng, sample_rate=sr),
    }
