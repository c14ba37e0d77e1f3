"""Generated SystemVerilog of the mel front end: ``rtl/mel/gen/mel_pkg.sv`` and the ROM modules.

Every width, shift, size and constant table of the RTL front end comes from
:class:`~refmodel.mel.config.FrontendConfig` through :func:`refmodel.mel.tables.rom_tables` (the
same functions the bit-accurate stages use), so nothing is typed twice.  Registered with
:func:`refmodel.rtlgen.register`; ``python -m refmodel.rtlgen`` writes the files.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from refmodel import rtlgen
from refmodel.mel.config import DEFAULT, FrontendConfig
from refmodel.mel.filterbank import mel_bin_tables
from refmodel.mel.tables import rom_tables

SOURCE = "refmodel/mel/rtl.py (refmodel.mel.config.FrontendConfig)"


def _clog2(n: int) -> int:
    return max(1, (int(n) - 1).bit_length())


def package_params(cfg: FrontendConfig = DEFAULT) -> tuple[dict[str, tuple[int, str]], int]:
    """``mel_pkg`` constants ``({Name: (value, comment)}, quantiser offset)``."""
    mb = mel_bin_tables(cfg)
    seg = np.asarray(mb.segment)
    # The one-pass filterbank (rtl/mel/mel_filterbank.sv) relies on these properties.
    if seg[0] != 0 or seg[-1] != cfg.n_mels or not np.all(np.isin(np.diff(seg), (0, 1))):
        raise ValueError("frontend_rtl: mel segments must run 0..n_mels in steps of 0 or 1")
    q = rom_tables(cfg)["quant"].values
    gain, offset, qshift = (int(v) for v in q)
    mask = sum(int(s) << i for i, s in enumerate(cfg.fft_stage_shifts))
    exp_bits = _clog2(cfg.mel_acc_bits)
    y_max = ((cfg.mel_acc_bits - 1) << cfg.log_frac) + (1 << cfg.log_frac) - 1
    return {
        "SampleBits": (cfg.sample_bits, "input PCM, signed Q1.15"),
        "FrameLen": (cfg.frame_len, "samples per frame"),
        "Hop": (cfg.hop, "samples between frames"),
        "FramePairs": (cfg.frame_len // 2, "complex FFT input words per frame (z[m], m < this)"),
        "SampleRamDepth": (1 << _clog2(cfg.frame_len + 1), "framing buffer, samples"),
        "WindowBits": (cfg.window_bits, "window coefficient, unsigned UQ0.16"),
        "WindowShift": (cfg.window_shift, "x*w rounding shift"),
        "FftInBits": (cfg.fft_in_bits, "windowed sample, signed Q16.4"),
        "FftPoints": (cfg.fft_points, "complex FFT length"),
        "FftAddrBits": (_clog2(cfg.fft_points), "FFT memory address"),
        "FftStages": (cfg.fft_stages, "radix-2 stages"),
        "FftBits": (cfg.fft_bits, "FFT / split data word, signed, per component"),
        "FftShiftMask": (mask, "bit s set: stage s shifts right by 1 (with rounding)"),
        "TwiddleBits": (cfg.twiddle_bits, "twiddle, signed Q2.16"),
        "TwiddleFrac": (cfg.twiddle_frac, "twiddle fraction bits"),
        "SplitItems": (cfg.fft_points // 2 + 1, "split iterations k = 0..FftPoints/2"),
        "BinBits": (_clog2(cfg.n_bins), "DFT bin index 0..n_fft/2"),
        "PowerShift": (cfg.power_shift, "|X|^2 rounding shift"),
        "PowerBits": (cfg.power_bits, "rounded power, unsigned"),
        "MelWeightBits": (cfg.mel_weight_bits, "mel weight, unsigned UQ1.15"),
        "MelAccBits": (cfg.mel_acc_bits, "mel accumulator, unsigned"),
        "MelFirstBin": (mb.first_bin, "first bin with a mel weight"),
        "MelLastBin": (mb.last_bin, "last bin with a mel weight"),
        "MelRomDepth": (mb.last_bin - mb.first_bin + 1, "per-bin mel ROM words"),
        "MelSegBits": (rom_tables(cfg)["mel_segment"].bits, "triangle segment 0..NMels"),
        "NMels": (cfg.n_mels, "mel bands"),
        "LogExpBits": (exp_bits, "leading-one position 0..MelAccBits-1"),
        "LogMantBits": (cfg.log_mant_bits, "mantissa bits below the leading one"),
        "LogIndexBits": (cfg.log_index_bits, "table index bits of the mantissa"),
        "LogFrac": (cfg.log_frac, "fraction bits of the table and of log2(M)"),
        "LogTableBits": (rom_tables(cfg)["log2_table"].bits, "log2 table word, UQ1.16"),
        "LogBits": (y_max.bit_length(), "log2(M) word, UQ6.16"),
        "QuantGain": (gain, "code per log2 unit, 2^-QuantGainFrac"),
        "QuantGainBits": (gain.bit_length(), "unsigned width of QuantGain"),
        "QuantShift": (qshift, "rounding shift of y*G + O"),
        "QuantOffsetBits": (abs(offset).bit_length() + 1, "signed width of QuantOffset"),
        "CodeBits": (cfg.code_bits, "feature code, unsigned"),
    }, offset


def render_package(cfg: FrontendConfig = DEFAULT) -> str:
    params, offset = package_params(cfg)
    width = max(len(k) for k in params)
    lines = [f"  localparam int {k:<{width}} = {int(v)};  // {c}" for k, (v, c) in params.items()]
    ob = params["QuantOffsetBits"][0]
    sign = "-" if offset < 0 else ""
    lines.append("  // quantiser offset: folds the mel scale, the dB floor and the MSB flip's -128")
    lines.append(f"  localparam logic signed [QuantOffsetBits-1:0] QuantOffset = "
                 f"{sign}{ob}'sd{abs(offset)};")
    return (rtlgen.HEADER.format(source=SOURCE)
            + "// Purpose: widths, shifts, sizes and scalar constants of the mel front end.\n"
            + "package mel_pkg;\n" + "\n".join(lines) + "\nendpackage : mel_pkg\n")


def _rom(name: str, values: np.ndarray, width: int, purpose: str, fmt: str) -> str:
    return rtlgen.sv_rom(name=name, values=values, width=width, purpose=purpose, source=SOURCE,
                         value_format=fmt)


def render_roms(cfg: FrontendConfig = DEFAULT) -> dict[str, str]:
    t = rom_tables(cfg)
    win = t["window"].values
    out = {
        "mel_window_even_rom": _rom("mel_window_even_rom", win[0::2], t["window"].bits,
                                    "Hamming window w[2m] (even taps), m = 0..FramePairs-1",
                                    "unsigned UQ0.16"),
        "mel_window_odd_rom": _rom("mel_window_odd_rom", win[1::2], t["window"].bits,
                                   "Hamming window w[2m+1] (odd taps), m = 0..FramePairs-1",
                                   "unsigned UQ0.16"),
        "mel_twiddle_re_rom": _rom("mel_twiddle_re_rom", t["twiddle_re"].values,
                                   t["twiddle_re"].bits, t["twiddle_re"].doc, "signed Q2.16"),
        "mel_twiddle_im_rom": _rom("mel_twiddle_im_rom", t["twiddle_im"].values,
                                   t["twiddle_im"].bits, t["twiddle_im"].doc, "signed Q2.16"),
        "mel_seg_rom": _rom("mel_seg_rom", t["mel_segment"].values, t["mel_segment"].bits,
                            t["mel_segment"].doc + "; address k - MelFirstBin", "unsigned"),
        "mel_w_rise_rom": _rom("mel_w_rise_rom", t["mel_w_rise"].values, t["mel_w_rise"].bits,
                               t["mel_w_rise"].doc + "; address k - MelFirstBin",
                               "unsigned UQ1.15"),
        "mel_w_fall_rom": _rom("mel_w_fall_rom", t["mel_w_fall"].values, t["mel_w_fall"].bits,
                               t["mel_w_fall"].doc + "; address k - MelFirstBin",
                               "unsigned UQ1.15"),
        "mel_log2_rom": _rom("mel_log2_rom", t["log2_table"].values, t["log2_table"].bits,
                             t["log2_table"].doc, "unsigned UQ1.16"),
    }
    return {f"{k}.sv": v for k, v in out.items()}


@rtlgen.register
def produce() -> Mapping[str, str]:
    """``{file name: text}`` of every generated front-end file for ``rtl/gen``."""
    return {"mel_pkg.sv": render_package(), **render_roms()}
