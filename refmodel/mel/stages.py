"""The mel front end's stage table: its blocks in data order, each with its RTL instance, its
bit-accurate model function and the layout of the link words it hands on.

    audio -> mel_framer -> mel_window -> mel_fft -> mel_split -> mel_power -> mel_filterbank
          -> mel_log2 -> mel_quant -> features

This table is the one place that says how a link's port words encode the model's numbers.
:func:`run` (and so :func:`refmodel.mel.frontend.features`) computes the features by calling
the stages' model functions in this order and nowhere else; the block tests
(``tb/mel/test_mel_<block>.py``) build their stimulus and expectations from :attr:`Stage.inp`,
:attr:`Stage.out` and :meth:`Stage.items`; the chip's feature monitor decodes the tap with
:data:`FEATURES`; the mismatch probe (``tb/debug/stage_probe.py``) records and compares every
link of :data:`STAGES`; ``docs/stages.md`` is generated from it (``make gen``).

Each link word's layout: :mod:`refmodel.link` (value ``k`` of a port at bits
``[bits*k + bits-1 : bits*k]``, so ``out_pair_o = {x[2m+1], x[2m]}``).  Widths come from
:func:`refmodel.mel.rtl.package_params`, the numbers ``mel_pkg`` gives the RTL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from refmodel.blocks import Block
from refmodel.link import Field, Link
from refmodel.mel.config import DEFAULT, FrontendConfig, resolve
from refmodel.mel.fft import fft_stage
from refmodel.mel.filterbank import mel_stage
from refmodel.mel.framer import frame_stage
from refmodel.mel.log2 import log2_stage
from refmodel.mel.power import power_stage
from refmodel.mel.quant import quantise_stage
from refmodel.mel.split import split_stage
from refmodel.mel.window import window_stage
from refmodel.rate import Rate, rate

Item = tuple[int, ...]


@dataclass(frozen=True)
class Stage:
    """One block of the front end.

    ``block``: the RTL module (``rtl/mel/<block>.sv``, model ``refmodel/mel/<name>.py``);
    ``inst``: its instance in ``mel_frontend``; ``model``: the bit-accurate function, fed the
    previous stage's result (a tuple is passed as several arguments) and the config;
    ``inp`` / ``out``: the input and output links (ports ``in_<port>_i`` / ``out_<port>_o``);
    ``per_frame``: output items per frame; ``wire``: the ``mel_frontend`` signals that carry
    the output link (valid, ready, then one per field); ``items``: the output items of one
    frame, from the model's result for that frame; ``rate``: the documented throughput (the
    RTL header's ``Throughput:`` line; :mod:`refmodel.rate`).
    """

    block: str
    inst: str
    model: Callable[..., object]
    inp: Link
    out: Link
    per_frame: int
    wire: tuple[str, ...]
    items: Callable[[object], list[Item]]
    rate: Rate

    @property
    def name(self) -> str:
        """The model module's name: the block without its ``mel_`` prefix."""
        return self.block.removeprefix("mel_")

    def all_items(self, result: object) -> list[Item]:
        """The output items of every frame of a model result (frames on the leading axis;
        a tuple result such as the FFT's ``(re, im)`` is split per frame)."""
        per = zip(*result, strict=True) if isinstance(result, tuple) else iter(result)
        return [item for frame in per for item in self.items(frame)]


def _pairs(v: npt.ArrayLike) -> list[Item]:
    v = np.asarray(v).tolist()
    return [(v[2 * m], v[2 * m + 1]) for m in range(len(v) // 2)]


def _both_ends(re: npt.ArrayLike, im: npt.ArrayLike, n: int) -> list[Item]:
    """(k, Re[k], Im[k], Re[(n-k) % n], Im[(n-k) % n]) for k = 0..n/2."""
    r, i = np.asarray(re).tolist(), np.asarray(im).tolist()
    return [(k, r[k], i[k], r[(n - k) % len(r)], i[(n - k) % len(i)]) for k in range(n // 2 + 1)]


def _indexed(values: npt.ArrayLike) -> list[Item]:
    return [(k, v) for k, v in enumerate(np.asarray(values).tolist())]


def _single(values: npt.ArrayLike) -> list[Item]:
    return [(v,) for v in np.asarray(values).tolist()]


@lru_cache(maxsize=4)
def stages(cfg: FrontendConfig = DEFAULT) -> tuple[Stage, ...]:
    """The front end's stages in data order, for ``cfg``."""
    from refmodel.mel.rtl import package_params  # the RTL's widths (rtl imports the stages)

    p = {k: v for k, (v, _) in package_params(cfg)[0].items()}
    n, half, bands = cfg.fft_points, cfg.fft_points // 2 + 1, cfg.n_mels

    def cplx(port: str, sym: str, at: str) -> Field:
        return Field(port, p["FftBits"], (f"Re {sym}[{at}]", f"Im {sym}[{at}]"))

    sample = Link((Field("sample", p["SampleBits"], ("x[n]",)),))
    x_pair = Link((Field("pair", p["SampleBits"], ("x[2m]", "x[2m+1]")),))
    v_pair = Link((Field("pair", p["FftInBits"], ("v[2m]", "v[2m+1]")),))
    k_fft = Field("k", p["FftAddrBits"], ("k",), signed=False)
    z = Link((k_fft, cplx("zk", "Z", "k"), cplx("zm", "Z", "-k")))
    x = Link((k_fft, cplx("xk", "X", "k"), cplx("xm", "X", f"{n}-k")))
    k_bin = Field("k", p["BinBits"], ("k",), signed=False)
    x_bin = Link((k_bin, cplx("x", "X", "k")))
    power = Link((k_bin, Field("p", p["PowerBits"], ("P[k]",), signed=False)))
    mel = Link((Field("m", p["MelAccBits"], ("M[band]",), signed=False),))
    log = Link((Field("y", p["LogBits"], ("y[band] (UQ6.16)",), signed=False),))
    feat = Link((Field("feat", p["CodeBits"], tuple(f"code[{b}]" for b in range(bands)),
                       signed=False),))
    one = rate("1", p)  # one item per cycle
    return (
        Stage("mel_framer", "u_framer", frame_stage, sample, x_pair, cfg.frame_len // 2,
              ("fr_valid", "fr_ready", "fr_pair"), _pairs,
              rate(_framer_frame(p), p, unit="frame", items=cfg.frame_len // 2)),
        Stage("mel_window", "u_window", window_stage, x_pair, v_pair, cfg.frame_len // 2,
              ("win_valid", "win_ready", "win_pair"), _pairs, one),
        Stage("mel_fft", "u_fft", fft_stage, v_pair, z, half,
              ("fft_valid", "fft_ready", "fft_k", "fft_zk", "fft_zm"),
              lambda zz: _both_ends(*zz, n), rate(FFT_FRAME, p, unit="frame", items=half)),
        Stage("mel_split", "u_split", split_stage, z, x, half,
              ("spl_valid", "spl_ready", "spl_k", "spl_xk", "spl_xm"),
              lambda xx: _both_ends(*xx, n), one),
        Stage("mel_power", "u_power", power_stage, x_bin, power, half,
              ("pow_valid", "pow_ready", "pow_k", "pow_p"),
              lambda pw: _indexed(np.asarray(pw)[:half]), one),  # bins past n/2: no mel weight
        Stage("mel_filterbank", "u_filterbank", mel_stage, power, mel, bands,
              ("mel_valid", "mel_ready", "mel_m"), _single,
              rate("SplitItems + 1", p, unit="frame", items=bands)),
        Stage("mel_log2", "u_log2", log2_stage, mel, log, bands,
              ("log_valid", "log_ready", "log_y"), _single, one),
        Stage("mel_quant", "u_quant", quantise_stage, log, feat, 1,
              ("out_valid_o", "out_ready_i", "out_feat_o"),
              lambda q: [tuple(np.asarray(q).tolist())], rate("NMels", p, unit="vector")),
    )


# mel_fft's frame: load, FftStages stages of butterflies, one read cycle, then 2 cycles per
# output item.  The slowest stage, so also the front end's frame time (:func:`frontend_rate`).
FFT_FRAME = "FramePairs + FftStages * (FftPoints / 2 + 2) + 1 + 2 * SplitItems"


def _framer_frame(p: dict[str, int]) -> str:
    """mel_framer's frame time with samples offered every cycle: the pairs, then (when the
    RAM cannot hold a frame and the next hop) one cycle per sample still missing when the
    frame's first Hop samples are released with its last pair."""
    if p["SampleRamDepth"] >= p["FrameLen"] + p["Hop"]:
        return "FramePairs"
    return "FramePairs + FrameLen + Hop - SampleRamDepth"


def frontend_rate(cfg: FrontendConfig = DEFAULT) -> Rate:
    """``mel_frontend``'s throughput: one vector per frame time of its slowest stage."""
    per_frame = [(st.rate.cycles * st.per_frame // st.rate.items, st) for st in stages(cfg)]
    slowest = max(per_frame, key=lambda cs: cs[0])[1]
    return replace(slowest.rate, unit="frame", items=1)


def stage(block: str, cfg: FrontendConfig = DEFAULT) -> Stage:
    """The stage of RTL module ``block`` (``"mel_fft"``)."""
    for st in stages(cfg):
        if st.block == block:
            return st
    raise KeyError(f"{block!r} is not a front-end stage ({', '.join(names(cfg))})")


def names(cfg: FrontendConfig = DEFAULT) -> tuple[str, ...]:
    return tuple(st.block for st in stages(cfg))


FEATURES: Link = stages()[-1].out  # the feature vector word (out_feat_o, the chip's tap)


def run(samples: npt.ArrayLike, cfg: FrontendConfig | None = None, *, upto: str | None = None,
        start: str | None = None) -> object:
    """The bit-accurate chain: every stage's model in table order.

    ``samples`` is int16 ``(N,)`` (or, with ``start``, the input of stage ``start``); returns
    the result of the last stage (``upto``, default ``mel_quant``: uint8 ``(F, 32)`` codes).
    """
    cfg = resolve(cfg)
    chain = stages(cfg)
    first = 0 if start is None else [s.block for s in chain].index(start)
    last = len(chain) - 1 if upto is None else [s.block for s in chain].index(upto)
    x: object = samples
    for st in chain[first:last + 1]:
        x = st.model(*x, cfg) if isinstance(x, tuple) else st.model(x, cfg)
    return x


def frame_items(samples: npt.ArrayLike, cfg: FrontendConfig | None = None
                ) -> dict[str, list[Item]]:
    """Every stage's output items for one frame of ``frame_len`` samples, by block name."""
    cfg = resolve(cfg)
    x = np.asarray(samples, dtype=np.int64)
    if x.shape != (cfg.frame_len,):
        raise ValueError(f"one frame is {cfg.frame_len} samples, got shape {x.shape}")
    out: dict[str, list[Item]] = {}
    r: object = x.astype(np.int16)
    for st in stages(cfg):
        r = st.model(*r, cfg) if isinstance(r, tuple) else st.model(r, cfg)
        out[st.block] = st.all_items(r)
    return out


def words(link: Link) -> str:
    """A link's port words for the docs: ``out_pair_o 2x16 s (x[2m], x[2m+1])``."""
    return ", ".join(f"`out_{f.port}_o` {f.count}x{f.bits} {'s' if f.signed else 'u'} "
                     f"({', '.join(f.labels) if f.count <= 2 else f.labels[0] + ' ..'})"
                     for f in link.fields)


def blocks(cfg: FrontendConfig = DEFAULT) -> tuple[Block, ...]:
    """The front end's blocks for the finding table (:mod:`refmodel.blocks`), then its top."""
    rows = tuple(Block("mel", st.block, st.inst, f"{st.model.__module__}.{st.model.__name__}",
                       words(st.out), f"{st.per_frame} items per frame", (st.rate,))
                 for st in stages(cfg))
    return rows + (Block("mel", "mel_frontend", "u_frontend", "refmodel.mel.frontend.features",
                         words(FEATURES), "the IP's top: the stages above, in order",
                         (frontend_rate(cfg),)),)
