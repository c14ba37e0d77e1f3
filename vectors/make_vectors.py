"""Make the short recordings in vectors/ (see vectors/README.md).  Needs espeak-ng and sox.

    /work/main/.venv/bin/python vectors/make_vectors.py

Deterministic given the same espeak-ng and sox versions (noise is seeded numpy).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from refmodel import audio

HERE = Path(__file__).resolve().parent


def espeak(text: str, path: Path, *, voice: str = "en-us", speed: int = 150) -> None:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text],
                   check=True)


def sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True)


def fit(x: np.ndarray, seconds: float, rate: int) -> np.ndarray:
    """Pad with zeros / cut to exactly ``seconds``."""
    n = int(round(seconds * rate))
    out = np.zeros((n,) + x.shape[1:], dtype=x.dtype)
    out[: min(n, len(x))] = x[:n]
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        # 1. speech + pink noise at 10 dB SNR, 16 kHz mono 16-bit, 3 s
        espeak("Turn on the kitchen lights, please.", raw)
        sox(str(raw), "-D", "-r", "16000", "-b", "16", "-c", "1", str(Path(tmp) / "s16.wav"))
        speech = fit(audio.load_wav(Path(tmp) / "s16.wav"), 3.0, 16000).astype(np.float64)
        noise = audio.pink_noise(3.0, 1.0, seed=2024).astype(np.float64)
        rms = np.sqrt(np.mean(speech ** 2))
        noise *= rms / np.sqrt(np.mean(noise ** 2)) / 10 ** (10 / 20)
        mix = speech * 0.6 + noise * 0.6
        audio.write_wav(HERE / "speech_noise_16k.wav", audio.to_int16(mix))
        # 2. quiet speech, 44.1 kHz stereo 16-bit (sox resample, no dither), 2 s
        espeak("Hello detector, are you listening?", raw, voice="en-gb", speed=170)
        sox(str(raw), "-D", "-r", "44100", "-b", "16", "-c", "2", str(Path(tmp) / "st.wav"),
            "remix", "1v0.3", "1v0.15")
        rate, stereo = wavfile.read(Path(tmp) / "st.wav")
        (HERE / "speech_44k1_stereo.wav").write_bytes(
            audio.wav_bytes(fit(stereo, 2.0, rate), rate, bits=16))
    # 3. logarithmic tone sweep 50 Hz -> 7.9 kHz at -12 dBFS, 16 kHz mono, 3 s
    audio.write_wav(HERE / "sweep_16k.wav", audio.chirp(3.0, 50.0, 7900.0, 0.25,
                                                        method="logarithmic"))
    # 4. tone bursts + noise, 8 kHz mono 8-bit unsigned (exercises 8-bit and upsampling), 2 s
    t = np.arange(16000) / 8000.0
    gate = (np.floor(t / 0.25) % 2 == 0).astype(np.float64)
    burst = 0.5 * np.sin(2 * np.pi * 700.0 * t) * gate
    burst += np.random.default_rng(7).uniform(-0.02, 0.02, len(t))
    (HERE / "bursts_8k_u8.wav").write_bytes(
        audio.wav_bytes(np.round(burst * 127).astype(np.int16), 8000, bits=8))


if __name__ == "__main__":
    main()
