"""The plain harness's input files (``tb/flow/plain_bench.py``), checked without a build:
what ``BenchTest`` saves comes back as the register writes, samples and the refmodel's
expectations, in the layouts ``tb/flow/harness/chip_bench.cpp`` reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from refmodel import audio
from refmodel.chip import regs
from refmodel.chip.top import ChipModel, TopConfig
from refmodel.lstm import detector
from refmodel.lstm import rtl as lstm_rtl
from refmodel.mel import frontend
from tb.flow import plain_bench


def test_workload_round_trip(tmp_path: Path) -> None:
    hidden, window = 16, 4
    model = ChipModel(TopConfig(hidden=hidden, window=window))
    words = lstm_rtl.load_words(detector.DetectorWeights.random(3, hidden=hidden))
    model.access(addr=regs.offset("WLOAD_ADDR"), write=True, data=0)
    for w in words:
        model.access(addr=regs.offset("WLOAD_DATA"), write=True, data=int(w))
    model.access(addr=regs.offset("THRESHOLD"), write=True, data=12345)
    x = audio.white_noise(0.2, 0.3, seed=np.random.default_rng(5))
    workload = plain_bench.save_workload(
        tmp_path / "w.npz", samples=x, model=model,
        params={"Hidden": hidden, "Lanes": 4, "Window": window}, cycles=777, block_len=64)

    params, cycles, block_len, n = plain_bench.write_stimulus(workload, tmp_path / "plain")
    assert (params, cycles, block_len, n) == ({"Hidden": hidden, "Lanes": 4, "Window": window},
                                              777, 64, len(x))
    writes = np.fromfile(tmp_path / "plain" / "regs.bin", "<u4").reshape(-1, 2)
    assert writes[0].tolist() == [regs.offset("WLOAD_ADDR"), 0]
    assert writes[1:-2, 1].tolist() == [int(w) for w in words[:model.load_size]]
    assert writes[-2].tolist() == [regs.offset("THRESHOLD"), 12345]
    assert writes[-1].tolist() == [regs.offset("CTRL"), 1]
    assert np.array_equal(np.fromfile(tmp_path / "plain" / "samples.bin", "<i2"), x)

    codes = frontend.features(x)
    feats = np.fromfile(tmp_path / "plain" / "features.bin", plain_bench.FEAT_DTYPE)
    assert feats["frame"].tolist() == list(range(len(codes)))
    assert np.array_equal(feats["word"], codes)  # band b in byte b of tap_feat_o
    dets = np.fromfile(tmp_path / "plain" / "detections.bin", plain_bench.DET_DTYPE)
    assert dets["window"].tolist() == list(range(len(codes) // window))
    w = detector.DetectorWeights.random(3, hidden=hidden)
    first = detector.run_fixed(codes[:window], w, window).score_int[0]
    assert dets["score"][0] == first and dets["flag"][0] == int(first >= 12345)
