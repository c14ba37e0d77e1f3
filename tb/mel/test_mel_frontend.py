"""Front-end test: audio through ``mel_frontend``, every feature vector and frame index checked
bit-exactly and in order against ``refmodel.mel.frontend.features`` on exactly the audio sent.

Stimulus variants (``cocotb.parametrize``): each recording in ``vectors/*.wav`` (trimmed to
WAV_SECONDS), every seeded synthetic generator of ``refmodel.audio.synthetic_suite`` (short
clips), random input gaps with random output backpressure, paced input (about one sample per
20 cycles, where every frame finds the chain idle), fixed pacing periods of 1..MAX_PACE
cycles per sample (PACES_PER_SEED drawn per seed; all of them with PACING=all, the sign-off
run) and a seeded random period per piece, bursts whose first sample arrives in the very
cycle the framer releases a frame (``u_framer.frame_end``), and a soft reset (``clear_i``) or hard
reset (``rst_ni``) at a random point of a frame; after it the output must restart exactly as
for a fresh stream (frame index 0, features of the audio sent after the reset).

``AUDIO=path.wav`` runs only that whole file (a bad file fails with the AudioError message);
``FE_LONG=1`` (the ``slow`` pytest case) runs the four recordings back to back (10 s).

Cycles per hop: from the handshake of the sample that completes a frame (the 160th new
sample of a hop) to that frame's vector handshake, measured from callbacks (driver
``on_sent``, sink callback) with the simulation time, never by polling clocks.  The figure
recorded is the worst case over frames that found the chain idle (the previous vector
already delivered); a frame that completes while the previous one is still being
transformed waits for it, which the raw worst case (also logged) includes.

Throughput: the runs without gaps or stalls (recordings, synthetic clips: samples offered
every cycle) check that consecutive vectors leave exactly the documented frame time apart
(``refmodel.mel.stages.frontend_rate``: mel_fft's frame, the header's Throughput line).
Output stalls start when a vector is offered, so every stall holds a valid vector.
"""

from __future__ import annotations

import os
from pathlib import Path

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, Timer, with_timeout
from cocotb.utils import get_sim_time

from refmodel import audio
from refmodel.mel.config import DEFAULT as CFG
from refmodel.mel.frontend import features
from refmodel.mel.stages import FEATURES, frontend_rate
from tb.kit import linkcov
from tb.kit.blocktb import check_rate
from tb.kit.runner import ROOT, run_block
from tb.kit.stream import GapModel, StreamDriver, StreamSink
from tb.kit.testkit import make_rng, record, rerun_hint, reset, start_clock

WAVS = sorted(p.name for p in (ROOT / "vectors").glob("*.wav"))
WAV_SECONDS = 0.5           # per recording in the default run
SYNTH_SECONDS = 0.08        # per synthetic clip: 1280 samples, 6 frames
SYNTH_NAMES = list(audio.synthetic_suite(0, 0.01))
AUDIO_ENV = os.environ.get("AUDIO", "")
LONG = os.environ.get("FE_LONG", "") == "1"
DEFAULT_RUN = not AUDIO_ENV and not LONG
PERIOD_NS = 10
MAX_PACE = 40  # pacing periods 1..MAX_PACE cycles per sample
PACES_PER_SEED = 3
PACING_ALL = os.environ.get("PACING") == "all"


class FrontendTB:
    """Driver, sink, scoreboard and hop timer around one ``mel_frontend``."""

    def __init__(self, dut, rng: np.random.Generator, *, gap: GapModel, stall: GapModel,
                 label: str):
        self.dut, self.rng, self.label = dut, rng, label
        self.driver = StreamDriver(dut.clk_i, dut.in_valid_i, dut.in_ready_o,
                                   {"s": dut.in_sample_i}, period_ns=PERIOD_NS, gaps=gap,
                                   name="frontend.in")
        self.sink = StreamSink(dut.clk_i, dut.out_valid_o, dut.out_ready_i,
                               {"feat": dut.out_feat_o, "frame": dut.out_frame_o},
                               period_ns=PERIOD_NS, stalls=stall, stall_on_valid=True,
                               name="frontend.out")
        self.driver.on_sent.append(self._on_sample)
        self.sink.callbacks.append(self._on_vector)
        # per segment (a reset starts a new one): sample count, completion times, vectors
        self.segments: list[dict] = []
        self.checked = 0
        self.samples_sent = 0
        self.worst_idle = 0
        self.worst_raw = 0

    async def start(self) -> None:
        await start_clock(self.dut.clk_i, PERIOD_NS)
        self.dut.in_valid_i.value = 0
        self.dut.out_ready_i.value = 0
        self.dut.clear_i.value = 0
        await reset(self.dut.clk_i, self.dut.rst_ni)
        cocotb.start_soon(self.sink.run())

    def _on_sample(self, _item) -> None:
        seg = self.segments[-1]
        seg["n"] += 1
        self.samples_sent += 1
        n = seg["n"]
        if n >= CFG.frame_len and (n - CFG.frame_len) % CFG.hop == 0:
            seg["complete"].append(get_sim_time("ns"))

    def _on_vector(self, item) -> None:
        self.segments[-1]["out"].append((get_sim_time("ns"), item))

    async def send(self, samples: np.ndarray) -> None:
        """Start a new segment (stream from reset) and send ``samples``; returns when sent."""
        self.segments.append({"audio": samples, "n": 0, "complete": [], "out": [],
                              "final": True})
        budget = (len(samples) * 60 + 20 * CFG.n_frames(len(samples)) * 2500 + 10_000)
        await with_timeout(self.driver.send({"s": int(x) & 0xFFFF} for x in samples),
                           budget * PERIOD_NS, "ns")

    async def more(self, samples: np.ndarray, pace: int | None = None) -> None:
        """Send ``samples`` as a continuation of the current segment (one stream), paced at
        ``pace`` cycles per sample (None: gaps only)."""
        seg = self.segments[-1]
        seg["audio"] = np.concatenate([seg["audio"], samples])
        self.driver.pace = pace
        budget = len(samples) * (60 + (pace or 0)) + 20 * 2500 + 10_000
        await with_timeout(self.driver.send({"s": int(x) & 0xFFFF} for x in samples),
                           budget * PERIOD_NS, "ns")
        self.driver.pace = None

    async def on_frame_release(self, sample: int) -> bool:
        """Offer ``sample`` in the next cycle where the framer releases a frame (it arrives in
        that very cycle); returns whether it was taken there."""
        dut, seg = self.dut, self.segments[-1]
        await with_timeout(RisingEdge(dut.u_framer.frame_end), 20_000 * PERIOD_NS, "ns")
        dut.in_sample_i.value = sample & 0xFFFF
        dut.in_valid_i.value = 1
        await ReadOnly()
        hit = int(dut.in_ready_o.value) == 1 and int(dut.u_framer.frame_end.value) == 1
        seg["audio"] = np.append(seg["audio"], np.int16(sample))
        while int(dut.in_ready_o.value) != 1:
            await RisingEdge(dut.in_ready_o)
            await ReadOnly()
        await RisingEdge(dut.clk_i)  # the transfer edge
        dut.in_valid_i.value = 0
        self._on_sample(None)
        return hit

    async def reset_mid_stream(self, kind: str) -> None:
        """Soft (clear_i) or hard (rst_ni) reset now; vectors after it start a new segment."""
        self.segments[-1]["final"] = False
        await RisingEdge(self.dut.clk_i)
        if kind == "clear":
            self.dut.clear_i.value = 1
            await RisingEdge(self.dut.clk_i)
            self.dut.clear_i.value = 0
        else:
            await reset(self.dut.clk_i, self.dut.rst_ni)
        t_reset = get_sim_time("ns")
        # vectors handed over at the reset edge or earlier belong to the old stream
        old = self.segments[-1]
        late = [o for o in old["out"] if o[0] > t_reset]
        assert not late, f"frontend: vector after the {kind} edge counted before it"

    async def finish(self) -> None:
        """Wait for every expected vector of the last segment, then check nothing more comes."""
        seg = self.segments[-1]
        n_want = CFG.n_frames(len(seg["audio"]))
        await with_timeout(self._wait_out(seg, n_want), (n_want + 4) * 4000 * PERIOD_NS, "ns")
        await Timer(4000 * PERIOD_NS, unit="ns")
        self.check()

    async def _wait_out(self, seg: dict, n: int) -> None:
        while len(seg["out"]) < n:
            await self.sink.wait_count(len(self.sink.items) + 1)

    def check(self) -> None:
        name = f"frontend[{self.label}]"
        for si, seg in enumerate(self.segments):
            want = features(seg["audio"], CFG)
            got = seg["out"]
            if seg["final"]:
                assert len(got) == len(want), (
                    f"{name} seed {cocotb.RANDOM_SEED}: segment {si}: {len(got)} feature vectors "
                    f"out, {len(want)} expected ({'missing' if len(got) < len(want) else 'extra'}"
                    f"); rerun: {rerun_hint()}")
            else:
                assert len(got) <= len(want), (
                    f"{name}: segment {si} (before a reset): {len(got)} vectors for "
                    f"{len(want)} frames of audio sent; rerun: {rerun_hint()}")
            for k, (t, item) in enumerate(got):
                assert item["frame"] == k, (
                    f"{name} seed {cocotb.RANDOM_SEED}: segment {si} vector {k}: frame index "
                    f"expected {k}, got {item['frame']} at {t} ns; rerun: {rerun_hint()}")
                codes = list(FEATURES.decode(item))
                for b, (g, w) in enumerate(zip(codes, want[k].tolist(), strict=True)):
                    assert g == w, (
                        f"{name} seed {cocotb.RANDOM_SEED}: segment {si} frame {k} band {b}: "
                        f"expected code {w}, got {g} (vector handed over at {t} ns); all "
                        f"expected {want[k].tolist()} got {codes}; rerun: {rerun_hint()}")
                self.checked += 1
            # cycles per hop
            prev_out = -1.0
            for k, (t, _item) in enumerate(got):
                if k >= len(seg["complete"]):
                    break
                lat = int(round((t - seg["complete"][k]) / PERIOD_NS))
                self.worst_raw = max(self.worst_raw, lat)
                if seg["complete"][k] >= prev_out:
                    self.worst_idle = max(self.worst_idle, lat)
                prev_out = t

    def report(self) -> None:
        secs = self.samples_sent / CFG.sample_rate
        log = self.dut._log
        log.info("%s: %d feature vectors checked", self.label, self.checked)
        log.info("front end: %d cycles per hop (worst, chain idle at frame completion; raw "
                 "worst incl. waiting for the previous frame: %d)", self.worst_idle,
                 self.worst_raw)
        record("frontend", features=self.checked, audio_seconds=secs,
               fe_cycles_per_hop=self.worst_idle)
        linkcov.sample_link("mel_frontend", "in", gaps=self.driver.gaps.history,
                            held=self.driver.held)
        linkcov.sample_link("mel_frontend", "out", held=self.sink.stalled)
        linkcov.export()


async def run_audio(dut, samples: np.ndarray, label: str, *, gap_p: float = 0.0,
                    stall_p: float = 0.0, gap_len: int = 6, stall_len: int = 40) -> FrontendTB:
    rng = make_rng(dut._log)
    tb = FrontendTB(dut, rng, gap=GapModel(rng, gap_p, gap_len),
                    stall=GapModel(rng, stall_p, stall_len), label=label)
    await tb.start()
    await tb.send(samples)
    await tb.finish()
    if gap_p == 0 and stall_p == 0 and len(tb.sink.times) > 1:
        check_rate("mel_frontend", tb.sink.times, frontend_rate(CFG), PERIOD_NS, log=dut._log)
    tb.report()
    return tb


def _wav(name: str, seconds: float | None) -> np.ndarray:
    x = audio.load_wav(ROOT / "vectors" / name)
    return x if seconds is None else x[: int(seconds * CFG.sample_rate)]


@cocotb.test(skip=not DEFAULT_RUN)
@cocotb.parametrize(wav=WAVS)
async def recording(dut, wav):
    """A recording from vectors/, trimmed, streamed back to back (no gaps, no stalls)."""
    await run_audio(dut, _wav(wav, WAV_SECONDS), wav)


@cocotb.test(skip=not DEFAULT_RUN)
@cocotb.parametrize(signal=SYNTH_NAMES)
async def synthetic(dut, signal):
    """A seeded synthetic clip (tones, chirps, noise, square, impulses, DC, silence, bursts)."""
    suite = audio.synthetic_suite(cocotb.RANDOM_SEED % (1 << 32), SYNTH_SECONDS)
    await run_audio(dut, suite[signal], signal)


@cocotb.test(skip=not DEFAULT_RUN)
async def gaps_and_backpressure(dut):
    """Random input gaps and random output stalls (long ones) on noise of random level."""
    rng = np.random.default_rng(cocotb.RANDOM_SEED % (1 << 32))
    x = audio.white_noise(0.12, float(rng.uniform(0.001, 1.0)), seed=rng)
    await run_audio(dut, x, "gaps_and_backpressure", gap_p=0.3, stall_p=0.3, stall_len=300)


@cocotb.test(skip=not DEFAULT_RUN)
async def paced_input(dut):
    """About one sample per 20 cycles (real-time-like): every frame finds the chain idle."""
    x = _wav(WAVS[0], 0.1) if WAVS else audio.white_noise(0.1, 0.5, seed=1)
    await run_audio(dut, x, "paced_input", gap_p=1.0, gap_len=38)


@cocotb.test(skip=not DEFAULT_RUN)
async def pacing(dut):
    """Fixed pacing periods (cycles per sample; PACES_PER_SEED drawn per seed, all 1..MAX_PACE
    with PACING=all), then a seeded random period per piece, all one stream."""
    rng = make_rng(dut._log)
    tb = FrontendTB(dut, rng, gap=GapModel(None), stall=GapModel(rng, 0.1, 30),
                    label="pacing")
    await tb.start()
    periods = list(range(1, MAX_PACE + 1)) if PACING_ALL else \
        sorted(int(p) for p in rng.choice(np.arange(1, MAX_PACE + 1), PACES_PER_SEED,
                                          replace=False))
    x = audio.white_noise(0.5 + 0.02 * len(periods), float(rng.uniform(0.01, 0.9)), seed=rng)
    await tb.send(x[:CFG.frame_len])
    pos = CFG.frame_len
    for p in periods + [int(rng.integers(1, MAX_PACE + 1)) for _ in range(3)]:
        n = int(rng.integers(CFG.hop, 2 * CFG.hop))
        await tb.more(x[pos:pos + n], pace=p)
        pos += n
    dut._log.info("paced at %s cycles per sample, then 3 random periods", periods)
    await tb.finish()
    tb.report()


@cocotb.test(skip=not DEFAULT_RUN)
async def frame_release_bursts(dut):
    """Bursts whose first sample arrives in the cycle the framer releases a frame (and frees a
    hop): a sample there must be stored once, neither lost nor counted twice."""
    rng = make_rng(dut._log)
    tb = FrontendTB(dut, rng, gap=GapModel(None), stall=GapModel(rng, 0.2, 40),
                    label="frame_release_bursts")
    await tb.start()
    x = audio.white_noise(0.2, float(rng.uniform(0.01, 0.9)), seed=rng)
    await tb.send(x[:CFG.frame_len])
    pos, hits = CFG.frame_len, 0
    while pos + 2 * CFG.hop < len(x):
        hits += await tb.on_frame_release(int(x[pos]))
        pos += 1
        # on to the sample that completes the next frame and a few more: its release comes
        # after the burst, for the next one to land on
        ends = CFG.frame_len + CFG.hop * ((pos - CFG.frame_len) // CFG.hop + 1)
        n = ends - pos + int(rng.integers(0, CFG.hop // 4))
        await tb.more(x[pos:pos + n])
        pos += n
    dut._log.info("%d samples arrived in a frame-release cycle", hits)
    assert hits > 0, "no sample arrived in a frame-release cycle"
    await tb.finish()
    tb.report()


@cocotb.test(skip=not DEFAULT_RUN)
@cocotb.parametrize(kind=["clear", "rst"])
async def reset_mid_frame(dut, kind):
    """Reset at a random point (framing, FFT, output); afterwards a fresh stream."""
    rng = make_rng(dut._log)
    tb = FrontendTB(dut, rng, gap=GapModel(rng, 0.1, 4), stall=GapModel(rng, 0.5, 15),
                    label=f"reset_mid_frame({kind})")
    await tb.start()
    first = audio.white_noise(0.06, 0.5, seed=rng)[: CFG.frame_len + 2 * CFG.hop
                                                   + int(rng.integers(0, CFG.hop))]
    await tb.send(first)
    await Timer(int(rng.integers(0, 1800)) * PERIOD_NS, unit="ns")
    await tb.reset_mid_stream(kind)
    await tb.send(audio.chirp(0.06, 100.0, 4000.0, 0.3))
    await tb.finish()
    tb.report()


@cocotb.test(skip=not AUDIO_ENV)
async def audio_file(dut):
    """AUDIO=path.wav: the whole file."""
    x = audio.load_wav(AUDIO_ENV)  # AudioError names the file and the problem
    await run_audio(dut, x, Path(AUDIO_ENV).name)


@cocotb.test(skip=not LONG)
async def long_run(dut):
    """All recordings back to back (10 s), streamed without gaps."""
    x = np.concatenate([_wav(w, None) for w in WAVS])
    await run_audio(dut, x, "long_run")


@pytest.mark.sim
def test_frontend() -> None:
    env = {}
    if AUDIO_ENV:
        audio.load_wav(AUDIO_ENV)  # fail here, clearly, on a bad file
        env["AUDIO"] = AUDIO_ENV
    run_block(toplevel="mel_frontend", test_module="tb.mel.test_mel_frontend", extra_env=env)


@pytest.mark.sim
@pytest.mark.slow
def test_frontend_long() -> None:
    run_block(toplevel="mel_frontend", test_module="tb.mel.test_mel_frontend",
              extra_env={"FE_LONG": "1", "AUDIO": ""})
