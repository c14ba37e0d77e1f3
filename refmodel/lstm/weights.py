"""The detector's quantised weights: int8 arrays, power-of-two scales, and their file format.

The file format is a numpy ``.npz`` archive (no pickles) with these members:

=============  =========  =============================================================
member         dtype      meaning
=============  =========  =============================================================
``format``     str        ``"melstm-detector-weights"``
``version``    int64      ``1``
``hidden``     int64      H
``inputs``     int64      feature length (32)
``w_frac``     int64      W_ih, W_hh scale exponent: weight = int / 2**w_frac
``b_frac``     int64      gate-bias scale exponent
``wout_frac``  int64      head-weight scale exponent
``bout_frac``  int64      head-bias scale exponent
``w_ih``       int8       (4H, inputs), gate rows stacked i, f, g, o
``w_hh``       int8       (4H, H)
``b``          int16      (4H,)  the one bias per gate row (b_ih + b_hh of other tools)
``w_out``      int8       (H,)
``b_out``      int16      ()
``note``       str        free text: how the set was made
=============  =========  =============================================================

:meth:`DetectorWeights.load` checks every member and raises ``ValueError`` naming the file
and the problem.  The float views (``w_ih``, ``w_hh``, ``b``, ``w_out``, ``b_out``) are the
exact dequantised values the hardware uses; the float golden runs on them.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from refmodel.lstm.config import DetectorConfig

FORMAT_NAME = "melstm-detector-weights"
FORMAT_VERSION = 1
GATE_NAMES = ("i", "f", "g", "o")  # our stacking order of the 4H gate rows
# The trained music detector: the chip's default weight set (CLI, RTL regression, boot
# sequence in docs/registers.md), made by `make train`; its threshold is in the training record
# beside it (the same name with .json).
TRAINED = Path(__file__).resolve().parents[2] / "vectors" / "detector_weights_music_h32.npz"


def record_threshold(weights_path: str | Path = TRAINED) -> float:
    """The detection threshold chosen on the validation split, from the training record
    (``<weights>.json``, written by ``python -m train.fit``) of a weight file.

    Raises:
        ValueError: naming the record when it is missing, unreadable, or its ``threshold`` is
            not a number in [0, 1].
    """
    record = Path(weights_path).with_suffix(".json")
    try:
        value = json.loads(record.read_text())["threshold"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{record}: cannot read 'threshold' from the training record "
                         f"({type(exc).__name__}: {exc})") from None
    if isinstance(value, bool) or not isinstance(value, float | int) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{record}: threshold {value!r} is not a number in 0..1")
    return float(value)

_INT_MEMBERS = ("version", "hidden", "inputs", "w_frac", "b_frac", "wout_frac", "bout_frac")
_ARRAY_MEMBERS = ("w_ih", "w_hh", "b", "w_out", "b_out")


@dataclass(frozen=True, eq=False)
class DetectorWeights:
    """Integer weights of the detector plus the :class:`DetectorConfig` that scales them.

    Attributes (all read-only numpy arrays):
        config: the fixed-point configuration (holds H and the scale exponents).
        w_ih_q: int8 (4H, inputs), gate rows stacked i, f, g, o.
        w_hh_q: int8 (4H, H).
        b_q: int16 (4H,), one bias per gate row.
        w_out_q: int8 (H,).
        b_out_q: int16 scalar (0-d array).
        note: free text saved in the file (provenance).
    """

    config: DetectorConfig
    w_ih_q: npt.NDArray[np.int8]
    w_hh_q: npt.NDArray[np.int8]
    b_q: npt.NDArray[np.int16]
    w_out_q: npt.NDArray[np.int8]
    b_out_q: npt.NDArray[np.int16]
    note: str = ""

    def __post_init__(self) -> None:
        cfg = self.config
        h, g, n = cfg.hidden, cfg.gates, cfg.inputs
        spec = {
            "w_ih_q": ((g, n), np.int8, cfg.w_bits),
            "w_hh_q": ((g, h), np.int8, cfg.w_bits),
            "b_q": ((g,), np.int16, cfg.b_bits),
            "w_out_q": ((h,), np.int8, cfg.wout_bits),
            "b_out_q": ((), np.int16, cfg.bout_bits),
        }
        for name, (shape, dtype, bits) in spec.items():
            arr = getattr(self, name)
            if isinstance(arr, np.generic):
                arr = np.asarray(arr)
            if not isinstance(arr, np.ndarray) or arr.dtype != dtype:
                raise ValueError(f"DetectorWeights.{name} must be a numpy {np.dtype(dtype)} "
                                 f"array, got {type(arr).__name__} "
                                 f"{getattr(arr, 'dtype', '')}")
            if arr.shape != shape:
                raise ValueError(f"DetectorWeights.{name} has shape {arr.shape}, expected "
                                 f"{shape} for hidden={h}, inputs={n}")
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            if arr.size and (int(arr.min()) < lo or int(arr.max()) > hi):
                raise ValueError(f"DetectorWeights.{name} has values outside the {bits}-bit "
                                 f"range [{lo}, {hi}]")
            frozen = arr.copy()
            frozen.flags.writeable = False
            object.__setattr__(self, name, frozen)

    # ------------------------------------------------------------------ float views
    @property
    def hidden(self) -> int:
        """H."""
        return self.config.hidden

    @property
    def w_ih(self) -> npt.NDArray[np.float64]:
        """float64 (4H, inputs): dequantised W_ih, rows i, f, g, o."""
        return self.w_ih_q.astype(np.float64) / 2.0**self.config.w_frac

    @property
    def w_hh(self) -> npt.NDArray[np.float64]:
        """float64 (4H, H): dequantised W_hh."""
        return self.w_hh_q.astype(np.float64) / 2.0**self.config.w_frac

    @property
    def b(self) -> npt.NDArray[np.float64]:
        """float64 (4H,): dequantised gate biases."""
        return self.b_q.astype(np.float64) / 2.0**self.config.b_frac

    @property
    def w_out(self) -> npt.NDArray[np.float64]:
        """float64 (H,): dequantised head weights."""
        return self.w_out_q.astype(np.float64) / 2.0**self.config.wout_frac

    @property
    def b_out(self) -> float:
        """Dequantised head bias."""
        return float(self.b_out_q) / 2.0**self.config.bout_frac

    def with_config(self, config: DetectorConfig) -> DetectorWeights:
        """The same integer weights under another config (same H, inputs and scales).

        Use it to run one weight file on a datapath with other widths (e.g. ``h_bits``).
        """
        for key in ("hidden", "inputs", "w_frac", "b_frac", "wout_frac", "bout_frac",
                    "w_bits", "b_bits", "wout_bits", "bout_bits"):
            if getattr(config, key) != getattr(self.config, key):
                raise ValueError(f"with_config: {key}={getattr(config, key)} differs from the "
                                 f"weights' {key}={getattr(self.config, key)}")
        return replace(self, config=config)

    # ------------------------------------------------------------------ seeded random set
    @classmethod
    def random(cls, seed: int, hidden: int = 32,
               config: DetectorConfig | None = None) -> DetectorWeights:
        """A seeded weight set that drives every gate and activation through its whole range.

        Recipe (float targets, then rounded to the integer grid):
        - W_ih ~ N(0, 1.5**2) per entry (input drive of a gate row has std ~ 5 on random
          codes, so each row reaches both saturated ends of sigmoid/tanh and the middle);
        - W_hh ~ N(0, (0.8 / sqrt(H))**2) (recurrent gain below the input drive: the state is
          input-driven, not chaotic);
        - biases ~ U(-2, 2) (i, g, o) and U(-1, 3) (f, the usual remember-by-default bias);
        - w_out ~ N(0, (3 / sqrt(H))**2), b_out ~ U(-1, 1) (logit spread of a few units, so
          scores cover most of (0, 1) over windows).
        Everything is clipped to the integer ranges of ``config``.

        Args:
            seed: numpy ``default_rng`` seed.
            hidden: H (ignored if ``config`` is given).
            config: full configuration; default ``DetectorConfig(hidden=hidden)``.
        """
        cfg = config if config is not None else DetectorConfig(hidden=hidden)
        h, g, n = cfg.hidden, cfg.gates, cfg.inputs
        rng = np.random.default_rng(seed)

        def q(values: npt.NDArray[np.float64], frac: int, bits: int,
              dtype: type[np.integer]) -> npt.NDArray[np.integer]:
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            return np.clip(np.rint(values * 2.0**frac), lo, hi).astype(dtype)

        w_ih = rng.normal(0.0, 1.5, size=(g, n))
        w_hh = rng.normal(0.0, 0.8 / np.sqrt(h), size=(g, h))
        b = rng.uniform(-2.0, 2.0, size=(4, h))
        b[1] = rng.uniform(-1.0, 3.0, size=h)
        w_out = rng.normal(0.0, 3.0 / np.sqrt(h), size=h)
        b_out = rng.uniform(-1.0, 1.0)
        return cls(
            config=cfg,
            w_ih_q=q(w_ih, cfg.w_frac, cfg.w_bits, np.int8),
            w_hh_q=q(w_hh, cfg.w_frac, cfg.w_bits, np.int8),
            b_q=q(b.reshape(g), cfg.b_frac, cfg.b_bits, np.int16),
            w_out_q=q(w_out, cfg.wout_frac, cfg.wout_bits, np.int8),
            b_out_q=q(np.asarray(b_out), cfg.bout_frac, cfg.bout_bits, np.int16),
            note=f"DetectorWeights.random(seed={seed}, hidden={h})",
        )

    # ------------------------------------------------------------------ file format
    def save(self, path: str | Path) -> None:
        """Write the versioned ``.npz`` weight file (format in the module docstring)."""
        cfg = self.config
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"{path}: weight files must end in .npz")
        with path.open("wb") as fh:
            np.savez(
                fh,
                format=np.array(FORMAT_NAME),
                version=np.int64(FORMAT_VERSION),
                hidden=np.int64(cfg.hidden),
                inputs=np.int64(cfg.inputs),
                w_frac=np.int64(cfg.w_frac),
                b_frac=np.int64(cfg.b_frac),
                wout_frac=np.int64(cfg.wout_frac),
                bout_frac=np.int64(cfg.bout_frac),
                w_ih=self.w_ih_q,
                w_hh=self.w_hh_q,
                b=self.b_q,
                w_out=self.w_out_q,
                b_out=self.b_out_q,
                note=np.array(self.note),
            )

    @classmethod
    def load(cls, path: str | Path, config: DetectorConfig | None = None) -> DetectorWeights:
        """Read and validate a weight file written by :meth:`save`.

        Args:
            path: the ``.npz`` file.
            config: datapath configuration to attach.  Default: ``DetectorConfig`` with the
                file's H, inputs and scale exponents and default widths.  If given, it must
                agree with the file on those numbers.

        Raises:
            FileNotFoundError: the file does not exist.
            ValueError: naming the file, for anything wrong in it (not an npz, truncated,
                wrong format name or version, missing member, wrong dtype or shape).
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: detector weight file not found")

        def bad(what: str) -> ValueError:
            return ValueError(f"{path}: bad detector weight file: {what}")

        try:
            with np.load(path, allow_pickle=False) as npz:
                members = {k: npz[k] for k in npz.files}
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
            raise bad(f"cannot read it as an .npz archive ({exc})") from exc

        if "format" not in members:
            raise bad("no 'format' member (not a detector weight file)")
        fmt = members["format"]
        if fmt.shape != () or fmt.dtype.kind != "U" or str(fmt) != FORMAT_NAME:
            raise bad(f"format is {fmt!r}, expected {FORMAT_NAME!r}")
        for key in _INT_MEMBERS:
            if key not in members:
                raise bad(f"missing member '{key}'")
            val = members[key]
            if val.shape != () or val.dtype.kind not in "iu":
                raise bad(f"'{key}' must be an integer scalar, got {val.dtype} {val.shape}")
        version = int(members["version"])
        if version != FORMAT_VERSION:
            raise bad(f"version {version} is not supported (this reader reads version "
                      f"{FORMAT_VERSION})")
        for key in _ARRAY_MEMBERS:
            if key not in members:
                raise bad(f"missing member '{key}'")
        fields = {k: int(members[k]) for k in _INT_MEMBERS if k != "version"}
        try:
            file_cfg = DetectorConfig(**fields)
        except ValueError as exc:
            raise bad(f"its header is not a legal configuration: {exc}") from exc
        if config is None:
            cfg = file_cfg
        else:
            for key, val in fields.items():
                if getattr(config, key) != val:
                    raise bad(f"{key}={val} in the file but {getattr(config, key)} in the "
                              f"requested config")
            cfg = config
        note = members.get("note", np.array(""))
        try:
            return cls(
                config=cfg,
                w_ih_q=members["w_ih"],
                w_hh_q=members["w_hh"],
                b_q=members["b"],
                w_out_q=members["w_out"],
                b_out_q=members["b_out"],
                note=str(note) if note.dtype.kind == "U" else "",
            )
        except ValueError as exc:
            raise bad(str(exc)) from exc
