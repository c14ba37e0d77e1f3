"""Tests of the cost model (``refmodel/cost.py``).

Expected values come from the textbook counts of each algorithm (radix-2 FFT butterflies,
LSTM gate MACs, a conv-STFT's taps), written here as independent arithmetic, never from the
model itself.  Agreement with the RTL is ``tb/flow/test_cost.py`` / ``make cost``.
"""

from __future__ import annotations

import math

import pytest

from refmodel import cost
from refmodel.lstm.config import DetectorConfig
from refmodel.mel.config import DEFAULT as FE

CONFIGS = [(16, 4), (32, 4), (32, 8), (32, 16), (64, 16), (64, 4)]


def _block(model: cost.Chip, run: cost.Run, name: str) -> cost.Counts:
    return next(c for c in model.counts(run) if c.block == name)


def test_front_end_per_hop_defaults():
    m = cost.chip()
    hop = m.hop()
    n = FE.n_fft // 2  # the complex FFT of the real 512-point DFT
    stages = int(math.log2(n))
    fft = _block(m, hop, "mel_fft")
    assert fft.events["butterfly"] == stages * n // 2 == 1024
    assert fft.mul_total == 4 * stages * n // 2  # 4 real products per butterfly
    assert fft.reads["twiddle_re_rom"] == fft.reads["twiddle_im_rom"] == stages * n // 2
    # every butterfly writes two words, every frame loads frame_len/2 complex words
    assert fft.writes["fft_banks"] == 2 * stages * n // 2 + FE.frame_len // 2
    split = _block(m, hop, "mel_split")
    assert split.events["item"] == n // 2 + 1 and split.mul_total == 4 * (n // 2 + 1)
    assert _block(m, hop, "mel_power").mul_total == 2 * (n // 2 + 1)
    assert _block(m, hop, "mel_window").mul_total == FE.frame_len
    framer = _block(m, hop, "mel_framer")
    assert framer.writes["sample_ram"] == FE.hop and framer.reads["sample_ram"] == FE.frame_len
    fb = _block(m, hop, "mel_filterbank")
    # every band closes once: the segment steps n_mels times over the weighted bins
    assert fb.events["seg_step"] == FE.n_mels
    assert fb.events["accumulate"] + fb.events["seg_step"] == fb.events["weighted"] - 1
    assert fb.events["out"] == FE.n_mels and fb.cycles == n // 2 + 2
    assert _block(m, hop, "mel_log2").events["item"] == FE.n_mels
    assert _block(m, hop, "mel_quant").events["vector"] == 1


@pytest.mark.parametrize(("hidden", "lanes"), CONFIGS)
def test_detector_per_step(hidden, lanes):
    m = cost.chip(hidden, lanes)
    step = m.hop()
    gates, cols = 4 * hidden, 32 + hidden
    pe = _block(m, step, "lstm_pe_array")
    assert pe.mul_total == gates * cols == pe.adds  # every weight once per step
    assert pe.cycles == gates * cols // lanes == DetectorConfig(hidden=hidden).mac_cycles(lanes)
    mem = _block(m, step, "lstm_mem")
    assert mem.reads["weight_ram"] == gates * cols
    assert mem.reads["bias_ram"] == gates * cols  # read with every weight (no read enable)
    upd = _block(m, step, "lstm_update")
    assert upd.events["busy"] == 5 * hidden  # i, f, g, o, tanh(c) per unit
    assert upd.mul_total == 5 * hidden + 3 * hidden  # activations + f*c, i*g, o*tanh(c)
    seq = _block(m, step, "lstm_seq")
    # the step: its MAC cycles, then the last pass's update (5 cycles per unit of a pass)
    # and two cycles of pipeline (the RAM read, the PE array's result register)
    assert seq.cycles == gates * cols // lanes + 5 * (lanes // 4) + 2
    assert _block(m, step, "lstm_head").mul_total == 0


@pytest.mark.parametrize(("hidden", "lanes"), CONFIGS)
def test_detection_is_window_hops_plus_head(hidden, lanes):
    m = cost.chip(hidden, lanes, window=198)
    hop, det = m.counts(m.hop()), m.counts(m.detection())
    head = m.counts(cost.Run(windows=1))
    for h, d, x in zip(hop, det, head, strict=True):
        assert d.adds == 198 * h.adds + x.adds
        assert d.mul_total == 198 * h.mul_total + x.mul_total
        assert d.cycles == 198 * h.cycles + x.cycles
    x = {c.block: c for c in head}
    assert x["lstm_head"].events["term"] == hidden
    assert x["lstm_head"].mul_total == hidden + 1  # w.h, then the sigmoid's interpolation
    assert x["lstm_seq"].cycles == hidden + 2


@pytest.mark.parametrize(("hidden", "lanes"), CONFIGS)
def test_memory_bits(hidden, lanes):
    m = cost.chip(hidden, lanes)
    gates, cols = 4 * hidden, 32 + hidden
    assert m.memory("weight_ram").bits == gates * cols * 8  # the same weights, any P
    assert m.memory("bias_ram").bits == gates * 16
    assert m.memory("weight_ram").copies == lanes
    assert m.memory("fft_banks").bits == (FE.n_fft // 2) * 2 * FE.fft_bits
    assert m.memory("sample_ram").bits == 512 * 16  # the power of two above frame_len


def test_load_run():
    m = cost.chip(16, 4)
    w = m.flat(cost.Run(loads=1))
    assert w["lstm_mem.write.weight_ram"] == 64 * 48
    assert w["lstm_mem.write.bias_ram"] == 64
    assert w["lstm_mem.write.head_weights"] == 16 and w["lstm_mem.write.head_bias"] == 1
    assert m.flat(m.hop())["lstm_mem.write.weight_ram"] == 0  # no writes while running


def test_first_window_reads_one_frame_more():
    m = cost.chip(16, 4, window=24)
    first, steady = m.first_window(), m.detection()
    assert first.samples - steady.samples == FE.frame_len - FE.hop
    assert (first.frames, first.steps, first.windows) == (24, 24, 1)


def test_references():
    dft = cost.direct_dft()
    assert dft.muls == 4 * 512 ** 2
    onnx = cost.onnx_graph()
    bins = 512 // 2 + 1
    conv = [r for r in onnx.rows if r[0].startswith("Conv")]
    assert [r[1] for r in conv] == [bins * 512, bins * 512]  # one frame: every kernel once
    matmul = [r for r in onnx.rows if r[0].startswith("MatMul")]
    assert matmul[0][1] == bins * 32
    assert onnx.muls > 2 * bins * 512
    m = cost.chip()
    fft = sum(c.mul_total for c in m.counts(m.hop()) if c.block in ("mel_fft", "mel_split"))
    assert dft.muls / fft > 200  # the FFT's saving


def test_bad_configuration_names_it():
    with pytest.raises(ValueError, match="lanes"):
        cost.chip(32, 3)
    with pytest.raises(ValueError, match="unit"):
        cost.Run().of("hour")
    with pytest.raises(KeyError, match="no_such"):
        cost.chip().block("no_such")
