"""The plain C++ Verilator harness of ``make bench``: the speed limit of the design.

``chip_top`` is verilated with the project's flags (``tb.kit.runner.VERILATOR_ARGS``, the
make settings of ``tb.kit.toolchain``, the RTL of ``rtl/files.f``) around
``tb/flow/harness/chip_bench.cpp``: the clock toggled in C++, no VPI, no cocotb, no Python
while it runs.  It replays the workload the full environment's ``BenchTest`` ran (written by
:func:`save_workload`: the same audio, weights, threshold, block pacing and number of cycles)
and compares every feature vector and detection bit for bit, as they come out, with what the
refmodel's chip model (``refmodel.chip.top.ChipModel``) gives for that workload, so it cannot
be fast by doing less: a mismatch, a missing or extra item, or audio left unsent fails it.

``python -m tb.flow.plain_bench [WORKLOAD.npz]`` builds (once per configuration and source
state, under ``sim_build/verilator/plain-chip_top-<hash>/``), runs, and prints its figures;
``tb.flow.bench`` calls :func:`run` for the third line of ``make bench``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from refmodel.audio import SAMPLE_RATE
from refmodel.chip import regs
from refmodel.chip.top import ChipModel, Feature, TopConfig
from refmodel.mel.stages import FEATURES
from tb.kit import runner, toolchain

HARNESS = Path(__file__).with_name("harness") / "chip_bench.cpp"
WORKLOAD = runner.RESULTS / "bench" / "workload.npz"  # written by BenchTest, read here
FEAT_DTYPE = np.dtype([("frame", "<u4"), ("word", "u1", (32,))])  # chip_bench.cpp: Feature
DET_DTYPE = np.dtype([("window", "<u4"), ("score", "<u2"), ("flag", "u1"), ("pad", "u1")])


class BenchError(RuntimeError):
    """The plain harness could not be built, or its run failed (a mismatch names the item)."""


def save_workload(path: Path, *, samples: np.ndarray, model: ChipModel, params: dict[str, int],
                  cycles: int, block_len: int) -> Path:
    """What ``BenchTest`` ran, for the plain harness to replay: the samples the chip accepted
    (int16), the register writes that configured it (the load image the chip model holds
    from address 0, its threshold, CTRL.ENABLE), the HDL parameters, the clock cycles of the
    timed stretch and the audio player's block length."""
    image = [model.image[a] for a in range(model.load_size)]
    writes = [(regs.offset("WLOAD_ADDR"), 0)]
    writes += [(regs.offset("WLOAD_DATA"), w) for w in image]
    writes += [(regs.offset("THRESHOLD"), model.threshold),
               (regs.offset("CTRL"), 1 << regs.field("CTRL", "ENABLE").lsb)]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, samples=np.asarray(samples, np.int16), writes=np.array(writes, np.uint32),
             params=np.array([params["Hidden"], params["Lanes"], params["Window"]]),
             cycles=cycles, block_len=block_len)
    return path


def write_stimulus(workload: Path, out: Path) -> tuple[dict[str, int], int, int, int]:
    """The harness's input files in ``out`` (layouts: ``chip_bench.cpp``), expectations from
    the refmodel's chip model.  Returns (HDL parameters, cycles, block length, samples)."""
    w = np.load(workload)
    hidden, lanes, window = (int(v) for v in w["params"])
    model = ChipModel(TopConfig(hidden=hidden, window=window))
    for addr, data in w["writes"]:
        model.access(addr=int(addr), write=True, data=int(data))
    samples = w["samples"].astype(np.int16)
    items = model.push(samples)
    feats = [it for it in items if isinstance(it, Feature)]
    dets = [it for it in items if not isinstance(it, Feature)]
    fe = np.zeros(len(feats), FEAT_DTYPE)
    for k, f in enumerate(feats):
        word = FEATURES.encode(f.codes)[FEATURES.ports[0]]
        fe[k] = (f.frame, np.frombuffer(word.to_bytes(32, "little"), np.uint8))
    de = np.array([(d.index, d.score_int, int(d.flag), 0) for d in dets], DET_DTYPE)
    out.mkdir(parents=True, exist_ok=True)
    w["writes"].astype("<u4").tofile(out / "regs.bin")
    samples.astype("<i2").tofile(out / "samples.bin")
    fe.tofile(out / "features.bin")
    de.tofile(out / "detections.bin")
    params = {"Hidden": hidden, "Lanes": lanes, "Window": window}
    return params, int(w["cycles"]), int(w["block_len"]), len(samples)


def build(params: dict[str, int]) -> Path:
    """The harness executable for ``params``, built when its sources or flags changed."""
    sources = runner.rtl_sources(runner.file_list())
    args = ["--cc", "--exe", "--build", "-j", "0", "--top-module", "chip_top",
            "--prefix", "Vchip_top", "-o", "chip_bench", *runner.VERILATOR_ARGS,
            "--timescale", "1ns/1ps", *(f"-G{k}={v}" for k, v in params.items())]
    key = f"{args} {toolchain.MAKE_VARS}"
    build_dir = runner.BUILD / "verilator" / \
        f"plain-chip_top-{hashlib.sha1(key.encode()).hexdigest()[:10]}"
    exe = build_dir / "chip_bench"
    stamp_text = key + "".join(f"{p}:{p.stat().st_mtime_ns}\n" for p in [HARNESS, *sources])
    stamp = build_dir / "build.stamp"
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if exe.is_file() and stamp.is_file() and stamp.read_text() == stamp_text:
            return exe
        stamp.unlink(missing_ok=True)
        cmd = [str(toolchain.verilator_root() / "bin" / "verilator"), *args, "-Mdir",
               str(build_dir), str(HARNESS), *map(str, sources)]
        proc = subprocess.run(cmd, env=toolchain.sim_env(), capture_output=True, text=True)
        if proc.returncode:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
            raise BenchError(f"plain harness build failed ({' '.join(cmd[:3])} ...):\n{tail}")
        stamp.write_text(stamp_text)
    return exe


def run(workload: Path = WORKLOAD) -> dict:
    """Build if needed, write the stimulus, run the harness once; its figures as a dict
    (``cycles``, ``wall_seconds``, ``cpu_seconds``, ``samples``, ``features``,
    ``detections``, ``audio_seconds``)."""
    if not workload.is_file():
        raise BenchError(f"no workload at {workload}: BenchTest writes it (make bench)")
    stim = workload.parent / "plain"
    params, cycles, block_len, n = write_stimulus(workload, stim)
    exe = build(params)
    proc = subprocess.run([str(exe), str(stim), str(cycles), str(block_len)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise BenchError(f"plain harness failed (exit {proc.returncode}): "
                         f"{(proc.stderr or proc.stdout).strip()}\n  rerun: {exe} {stim} "
                         f"{cycles} {block_len}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["audio_seconds"] = n / SAMPLE_RATE
    return out


def main(argv: list[str]) -> int:
    try:
        r = run(Path(argv[0]) if argv else WORKLOAD)
    except BenchError as e:
        print(f"plain_bench: {e}", file=sys.stderr)
        return 1
    print(f"plain C++ harness: {r['audio_seconds']:.1f} s audio, {r['cycles'] / 1e6:.2f} M "
          f"cycles in {r['wall_seconds']:.2f} s wall ({r['cpu_seconds']:.2f} s CPU); "
          f"{r['features']} feature vectors and {r['detections']} detections checked")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
