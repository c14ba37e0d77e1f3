"""Every constant table and constant of the bit-accurate front end, for ROM images.

:func:`rom_tables` is what a generator of ``localparam`` packages / ``$readmemh`` images
consumes: each entry carries its values, word width and signedness, all derived from
:class:`~refmodel.mel.config.FrontendConfig` through the same functions the stages use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from refmodel.mel.config import FrontendConfig, resolve
from refmodel.mel.fft import bit_reverse_permutation, twiddle_table
from refmodel.mel.filterbank import mel_band_ranges, mel_bin_tables, mel_weight_table
from refmodel.mel.log2 import log_table
from refmodel.mel.quant import quant_constants
from refmodel.mel.window import window_table


@dataclass(frozen=True)
class RomTable:
    """One constant table: int64 ``values`` (1-D), each a ``bits``-wide word."""

    values: npt.NDArray[np.int64]
    bits: int
    signed: bool
    doc: str

    def __post_init__(self) -> None:
        v = self.values
        lo = -(1 << (self.bits - 1)) if self.signed else 0
        hi = (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1
        if v.ndim != 1 or (v.size and (v.min() < lo or v.max() > hi)):
            raise ValueError(f"RomTable: values do not fit {self.bits}-bit "
                             f"{'signed' if self.signed else 'unsigned'} words")


def _bits_for(n: int) -> int:
    return max(1, int(n).bit_length())


def rom_tables(cfg: FrontendConfig | None = None) -> dict[str, RomTable]:
    """All ROM contents of the front end, by name (see ``docs/fixed_point_frontend.md``)."""
    cfg = resolve(cfg)
    tw_re, tw_im = twiddle_table(cfg)
    mb = mel_bin_tables(cfg)
    first, last = mel_band_ranges(cfg)
    wq = mel_weight_table(cfg)
    flat = np.concatenate([wq[b, first[b]:last[b] + 1] for b in range(cfg.n_mels)])
    q = quant_constants(cfg)
    scalar_bits = max(_bits_for(abs(q.offset)) + 1, 8)
    return {
        "window": RomTable(window_table(cfg), cfg.window_bits, False,
                           "Hamming window, UQ0.16, index n = 0..frame_len-1 (symmetric)"),
        "twiddle_re": RomTable(tw_re, cfg.twiddle_bits, True,
                               "Re W_512^k = round(cos(2 pi k/512) 2^16), k = 0..255, Q2.16"),
        "twiddle_im": RomTable(tw_im, cfg.twiddle_bits, True,
                               "Im W_512^k = round(-sin(2 pi k/512) 2^16), k = 0..255, Q2.16"),
        "bitrev": RomTable(bit_reverse_permutation(cfg.fft_points),
                           _bits_for(cfg.fft_points - 1), False,
                           "FFT load address p holds z[bitrev[p]] (wiring, not a ROM)"),
        "mel_segment": RomTable(mb.segment, _bits_for(cfg.n_mels), False,
                                f"per bin k = {mb.first_bin}..{mb.last_bin}: triangle segment "
                                "s (bin rises into band s, falls out of band s-1)"),
        "mel_w_rise": RomTable(mb.w_rise, cfg.mel_weight_bits, False,
                               "per bin: UQ1.15 weight into band s (0 if s = n_mels)"),
        "mel_w_fall": RomTable(mb.w_fall, cfg.mel_weight_bits, False,
                               "per bin: UQ1.15 weight into band s-1 (0 if s = 0)"),
        "mel_band_first_bin": RomTable(first, _bits_for(cfg.n_bins), False,
                                       "per band: first bin with a nonzero weight"),
        "mel_band_last_bin": RomTable(last, _bits_for(cfg.n_bins), False,
                                      "per band: last bin with a nonzero weight"),
        "mel_weights_by_band": RomTable(flat, cfg.mel_weight_bits, False,
                                        "bands' nonzero UQ1.15 weights, band-major, bins "
                                        "first..last"),
        "log2_table": RomTable(log_table(cfg), cfg.log_frac + 1, False,
                               "round(log2(1 + i/32) 2^16), i = 0..32, UQ1.16"),
        "quant": RomTable(np.array([q.gain, q.offset, q.shift], dtype=np.int64), scalar_bits,
                          True, "code = round_sat(y*gain + offset, shift, 8) + 128: "
                          "[gain, offset, shift]"),
    }
