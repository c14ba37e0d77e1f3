"""Quantization-aware training of the music detector (JAX + optax, CPU).

    python -m train.fit [--data data/corpus] [--hidden 32] [--seed 0] [--epochs 50]
                        [--out vectors/detector_weights_music_h32.npz] [--help: every knob]

Reads the corpus of ``make dataset`` (``train.corpus.load``: train and val splits of 198-frame
windows of feature codes), trains the LSTM of :mod:`train.model` with binary cross-entropy,
Adam with a cosine learning-rate decay and gradient clipping, one ``lax.scan`` over the
window's frames per batch, in two phases:

1. float arithmetic (``train.model.qat_logits``: the float golden on the chip's integer
   weight grid, straight-through rounding) for up to ``--epochs``, keeping the epoch with the
   lowest validation loss (early stop after ``--patience`` epochs without a better one).
   ``--state-noise`` adds seeded uniform noise of that standard deviation to every gate
   pre-activation at every frame: a recurrence trained to shrug off small state errors does
   not amplify the chip's rounding over a window, so 50 epochs keep the chip's scores with
   the float golden's (at the learning rate 1e-2 it made three of five runs diverge, hence
   5e-3; docs/dataset.md).  After every epoch an exponential moving average of the
   parameters (``--ema-decay`` per step) is scored on the validation split too, and kept
   instead when its loss is the lower; tracking it leaves the trajectory as it is (on v7,
   H = 64 kept epoch 44's average, validation loss 0.1137 against the best end point's
   0.1187; for H = 32 the end point of epoch 47 stayed the best, the same weight bytes);
2. ``--chip-epochs`` more in the chip's own arithmetic (``train.model.chip_logits``: its
   activation tables, rounded Q4.11 pre-activations, Q8.16 cell state, Q0.15 h) at the final
   learning rate, from the first phase's best parameters, keeping the lowest validation loss
   of the chip's scores (its starting point included) among the epochs whose chip and float
   golden scores differ by at most ``--max-gap`` on every validation window (none: the epoch
   with the smallest such difference).  Its loss adds ``--consistency`` times the mean
   squared difference between the chip's and the float golden's scores, so the two stay
   within the evaluation's 0.02.  It is about 2.5 times slower per epoch, which is why it
   comes last and short.

The loss:
- window weights (``window_weights``): music and non-music weigh the same in total; inside a
  class a category of n windows weighs n**-``--category-balance`` per window, so rare, hard
  categories (sirens, bells) are not drowned out by the large ones (speech);
- ``--aux-weight``: the chip reads the head after the window's last frame only, but the loss
  also scores the head after every frame from ``--aux-from`` on, against the window's label.
  This gives the recurrence a gradient at every step (in a 12-epoch comparison it cut the
  validation loss from 0.43 to 0.37).

Augmentation, on the feature codes (linear in dB: ``FrontendConfig.codes_per_db`` codes per
dB, 0 = at or below the front end's floor):
- ``--mix-fraction``: that share of each batch is replaced by new mixtures made from two
  training windows (``mix_codes``: band powers add): music alone under a sound without music
  at a music-to-rest ratio of -5..+20 dB (label 1, as the corpus's label rule), or two sounds
  without music (label 0).  Every music style meets every noise, voice and tonal sound;
- ``--gain-db G`` and ``--tilt-db S``: every window gets a random gain in [-G, +G] dB and a
  spectral tilt in [-S, +S] dB from the lowest band to the highest (a microphone's or an
  EQ's slope), an additive shift per band; codes at 0 stay 0, the rest is clipped to 0..255;
- ``--band-shift N``: every window's bands move by a random whole number of bands in [-N, N]
  (``band_shift_codes``), a warp of the frequency axis: other voices and instruments.

Then the bit-accurate fixed model (``refmodel.lstm.detector.run_fixed``) scores the validation
split and the flag threshold is chosen on it (:data:`train.metrics.THRESHOLD_RULE`).
Writes the weight file (``DetectorWeights.save``, its note says how it was made) and the
training record beside it (same name, ``.json``: data hash, seed, epochs, hyperparameters,
per-epoch history, wall time, weight-grid fit, threshold and its validation operating point).

``--train-fraction F`` trains on a seeded share F of the training sources only
(``keep_sources``: a song's windows stay together, and for one seed each smaller set is inside
the larger): the points of a learning curve (``docs/dataset.md``).

``--devices N`` splits every batch over N CPU devices (XLA's host platform, one thread each):
each computes the loss and gradient of its share, normalized by the whole batch's weights,
and device 0 adds them and updates; no collective operation is used.  The losses and
gradients are the whole batch's up to float rounding, so the weight bytes differ from one
device's; on 2 cores the training step takes about half the time and a whole run about two
thirds (the host prepares the batches on the same cores; docs/dataset.md).  JAX fixes its
device count when it starts, so ``fit`` asks for the devices before it imports JAX.

Everything is seeded by ``--seed``: the same data and seed give the same weight file bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit

from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.detector import run_fixed, scores_float
from refmodel.lstm.weights import DetectorWeights
from refmodel.mel.config import DEFAULT as FRONTEND
from train import metrics

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / "data" / "corpus"


def default_out(hidden: int) -> Path:
    """vectors/detector_weights_music_h<H>.npz"""
    return ROOT / "vectors" / f"detector_weights_music_h{hidden}.npz"


def record_path(weights_path: Path) -> Path:
    """The training record beside a weight file: same name, ``.json``."""
    return Path(weights_path).with_suffix(".json")


@dataclass(frozen=True)
class FitConfig:
    """Training hyperparameters (all recorded in the training record)."""

    hidden: int = 32
    seed: int = 0
    epochs: int = 50
    batch: int = 64
    lr: float = 5e-3
    lr_final_fraction: float = 0.1  # cosine decay from lr to lr * this over the epochs
    clip_norm: float = 1.0  # global gradient-norm clip
    patience: int = 15  # early stop after this many epochs without a lower val loss
    # then this many epochs in the chip's arithmetic (train.model.chip_logits) at the final
    # learning rate, keeping the epoch with the lowest validation loss of the chip's scores
    chip_epochs: int = 2
    gain_db: float = 6.0  # augmentation: random gain in [-gain_db, +gain_db] per window
    # augmentation: a random spectral tilt per window, in [-tilt_db, +tilt_db] dB from the
    # lowest band to the highest (an EQ or microphone slope; additive in log-mel codes)
    tilt_db: float = 6.0
    # augmentation: every window's bands moved by a random whole number of bands in
    # [-band_shift, +band_shift] (band_shift_codes), a warp of the frequency axis like a
    # vocal-tract-length or pitch perturbation (one band: about 10 % above 1 kHz); 0: none
    band_shift: int = 0
    # auxiliary loss: the head's loss after every frame from aux_from on (the window's label
    # for each), weighted by aux_weight against the loss after the last frame
    aux_weight: float = 1.0
    aux_from: int = 50
    # window weights: each class (music, not music) weighs the same in total; inside a class,
    # a window of a category with n windows weighs n**-category_balance (0: every window the
    # same, 1: every category the same), so rare hard categories are not drowned out
    category_balance: float = 0.5
    # augmentation: this fraction of each batch replaced by new mixtures made in the code
    # domain (mix_codes): a music-alone window under a sound without music at a music-to-rest
    # ratio of -5..+20 dB (label 1, the corpus's label rule), or two sounds without music at
    # -5..+25 dB (label 0)
    mix_fraction: float = 0.25
    # chip phase: + consistency * mean squared difference of the chip's and the float
    # golden's scores after the last frame (the fixed-vs-float goal)
    consistency: float = 10.0
    # float phase: uniform noise of this standard deviation added to every gate
    # pre-activation z at every frame (train.model.logits), so the recurrence learns to
    # tolerate small errors in its state instead of amplifying the chip's rounding over the
    # window (the fixed-vs-float goal); 0: none
    state_noise: float = 0.05
    # float phase: an exponential moving average of the parameters with this decay per step
    # (0.999: about two epochs) is scored on the validation split after every epoch beside
    # the parameters themselves, and kept when its loss is the lower; it does not change the
    # training trajectory (0: off)
    ema_decay: float = 0.999
    # chip phase: an epoch is kept only if its chip and float golden scores differ by at most
    # this on every validation window (the evaluation's goal is 0.02 on every test window)
    max_gap: float = 0.01
    # threshold rule: validation FPR at most this (SPEC: at most 5 % of speech and
    # everyday-sound windows flagged)
    max_fpr: float = metrics.SPEC_OTHER_FLAGGED
    # learning curve: train on this seeded share of the training split's sources only
    # (keep_sources; the validation split stays whole)
    train_fraction: float = 1.0
    # data parallel: each batch split over this many CPU devices (one per host core, one
    # thread each), every device the gradient of its share, device 0 adds them and updates;
    # the same loss and gradients as 1 device up to float rounding (so other weight bytes)
    devices: int = 1

    def __post_init__(self) -> None:
        for name in ("hidden", "epochs", "batch", "patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 1")
        if self.chip_epochs < 0:
            raise ValueError(f"chip_epochs={self.chip_epochs} must be >= 0")
        if not 0 <= self.mix_fraction <= 1:
            raise ValueError(f"mix_fraction={self.mix_fraction} must be in 0..1")
        if not 0 <= self.category_balance <= 1:
            raise ValueError(f"category_balance={self.category_balance} must be in 0..1")
        for name in ("aux_weight", "aux_from", "consistency", "max_gap", "state_noise"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 0")
        window = DetectorConfig(hidden=self.hidden).window
        if self.aux_from >= window - 1:
            raise ValueError(f"aux_from={self.aux_from} must be below the window's last "
                             f"frame ({window - 1})")
        if not 0 < self.train_fraction <= 1:
            raise ValueError(f"train_fraction={self.train_fraction} must be in (0, 1]")
        if not self.lr > 0:
            raise ValueError(f"lr={self.lr} must be > 0")
        for name in ("gain_db", "tilt_db"):
            if not 0 <= getattr(self, name) <= 40:
                raise ValueError(f"{name}={getattr(self, name)} must be in 0..40")
        if not 0 <= self.band_shift <= 4:
            raise ValueError(f"band_shift={self.band_shift} must be in 0..4")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay={self.ema_decay} must be in [0, 1)")
        if not 0 < self.max_fpr < 1:
            raise ValueError(f"max_fpr={self.max_fpr} must be in (0, 1)")
        if not 1 <= self.devices <= 8:
            raise ValueError(f"devices={self.devices} must be in 1..8")


class FitError(Exception):
    """A problem with the inputs, reported on one line."""


def load_split(root: Path, split: str) -> Any:
    """``train.corpus.load(root, split)``, with a one-line error naming what is missing."""
    from train import corpus

    data_hash(root)  # the corpus is there
    try:
        return corpus.load(root, split)
    except (OSError, ValueError, KeyError) as exc:
        raise FitError(f"{root}: cannot load the {split} split: {exc}") from None


def keep_sources(split: Any, fraction: float, seed: int) -> Any:
    """``split`` with only a seeded ``fraction`` of its sources (a window's song, else its first
    source: :func:`train.metrics.resampling_unit`) and their windows, for a learning curve: for
    one seed, each smaller set is inside the next."""
    from train.corpus import FIELDS

    if not 0 < fraction <= 1:
        raise FitError(f"train_fraction={fraction} must be in (0, 1]")
    if fraction == 1:
        return split
    units = np.array([metrics.resampling_unit(g) for g in split.group])
    names = np.unique(units)
    rank = np.random.default_rng(seed).permutation(len(names))
    keep = np.isin(units, names[rank < max(1, round(fraction * len(names)))])
    return replace(split, **{f: getattr(split, f)[keep] for f in FIELDS},
                   audio=None if split.audio is None else split.audio[keep])


def data_hash(root: Path) -> str:
    """The corpus content hash from its manifest."""
    if not (Path(root) / "manifest.json").is_file():
        raise FitError(f"{root}: no manifest.json; build the corpus first (make dataset "
                       f"DATA_DIR={root})")
    try:
        manifest = json.loads((Path(root) / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise FitError(f"{root}/manifest.json: cannot read it: {exc}") from None
    for key in ("content_sha256", "sha256"):
        if isinstance(manifest.get(key), str):
            return manifest[key]
    raise FitError(f"{root}/manifest.json: no content hash (key 'content_sha256')")


def manifest_build(root: Path) -> dict[str, Any]:
    """How the corpus was built (its manifest's ``seed`` and ``size``), for the record."""
    manifest = json.loads((Path(root) / "manifest.json").read_text())
    return {f"corpus_{k}": manifest[k] for k in ("seed", "size") if k in manifest}


# the tilt augmentation's shape: -1/2 at the lowest band to +1/2 at the highest
BAND_SLOPE = np.linspace(-0.5, 0.5, FRONTEND.n_mels)[None, :]


def gain_shift(codes: np.ndarray, gain_db: np.ndarray) -> np.ndarray:
    """Feature codes of the same windows at another level (see the module docstring).

    Args:
        codes: uint8 (B, T, 32).
        gain_db: float (B,) gain per window in dB, or (B, 32) per window and band.

    Returns:
        uint8 (B, T, 32).
    """
    gain_db = np.asarray(gain_db)
    shift = np.rint(gain_db * FRONTEND.codes_per_db).astype(np.int16)
    shift = shift[:, None, None] if gain_db.ndim == 1 else shift[:, None, :]
    moved = np.clip(codes.astype(np.int16) + shift, 0, FRONTEND.code_max)
    return np.where(codes == 0, 0, moved).astype(np.uint8)


def band_shift_codes(codes: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Feature codes with each window's bands moved up by ``shift`` bands (down when
    negative); the bands that move in from beyond the edge repeat the edge band.

    Args:
        codes: uint8 (B, T, 32).
        shift: int (B,) bands per window.

    Returns:
        uint8 (B, T, 32).
    """
    n = codes.shape[-1]
    src = np.clip(np.arange(n)[None, :] - np.asarray(shift)[:, None], 0, n - 1)
    return np.take_along_axis(codes, src[:, None, :], axis=2)


def window_weights(label: np.ndarray, category: np.ndarray, balance: float) -> np.ndarray:
    """Training weights of the windows (``FitConfig.category_balance``): mean 1, each class
    half of the total, a window of a category with n windows in proportion to n**-balance
    inside its class."""
    _, inverse, counts = np.unique(category, return_inverse=True, return_counts=True)
    w = counts[inverse].astype(np.float64) ** -balance
    for cls in (0, 1):
        sel = label == cls
        w[sel] *= len(label) / (2 * w[sel].sum())
    return w.astype(np.float32)


# codes per natural-log unit of power: power is proportional to exp(code / CODE_E)
CODE_E = 10 * FRONTEND.codes_per_db / np.log(10)


def mix_codes(a: np.ndarray, b: np.ndarray, ratio_db: np.ndarray) -> np.ndarray:
    """Feature codes of the sum of two sounds, made from their codes: ``b`` is scaled so that
    the power ratio of ``a`` to ``b`` over the window is ``ratio_db``, then band powers add
    (uncorrelated sources: the mel power of a sum is close to the sum of the mel powers).
    Codes are linear in dB (``FrontendConfig.codes_per_db``); a code 0 (at or below the
    front end's floor) adds no power.

    Args:
        a, b: uint8 (M, T, 32).
        ratio_db: float (M,) power ratio of a to b over the window, in dB.

    Returns:
        uint8 (M, T, 32).
    """
    def level(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        e = np.where(c > 0, c / CODE_E, -np.inf)
        # log of the window's mean power (natural units); silence counts as very quiet
        total = np.log(np.mean(np.exp(e), axis=(1, 2)) + 1e-30)
        return e, total

    ea, ta = level(a.astype(np.float64))
    eb, tb = level(b.astype(np.float64))
    shift = ta - tb - np.asarray(ratio_db) * np.log(10) / 10  # natural-log gain of b
    mixed = CODE_E * np.logaddexp(ea, eb + shift[:, None, None])
    return np.clip(np.rint(np.nan_to_num(mixed, neginf=0.0)), 0, FRONTEND.code_max).astype(
        np.uint8)


def _batches(n: int, batch: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A shuffled epoch in equal batches (the last one wraps to the epoch's start)."""
    order = rng.permutation(n)
    n_b = -(-n // batch)
    idx = np.resize(order, n_b * batch)
    return [idx[k * batch:(k + 1) * batch] for k in range(n_b)]


def fit(data: Path, fc: FitConfig, *, log: Any = print) -> tuple[DetectorWeights, dict]:
    """Train one detector; returns the weights and the training record (a JSON-able dict)."""
    if fc.devices > 1 and "jax" not in sys.modules:  # one CPU device per share, one thread
        os.environ["XLA_FLAGS"] = " ".join([
            os.environ.get("XLA_FLAGS", ""),
            f"--xla_force_host_platform_device_count={fc.devices}",
            "--xla_cpu_multi_thread_eigen=false"]).strip()
    import jax
    import jax.numpy as jnp
    import optax

    from train import model

    t_start = time.monotonic()
    cfg = DetectorConfig(hidden=fc.hidden)
    sha = data_hash(data)
    tr, va = load_split(data, "train"), load_split(data, "val")
    tr = keep_sources(tr, fc.train_fraction, fc.seed)
    for name, split in (("train", tr), ("val", va)):
        if split.codes.ndim != 3 or split.codes.shape[1:] != (cfg.window, cfg.inputs):
            raise FitError(f"{data}: {name} codes have shape {split.codes.shape}, expected "
                           f"(n, {cfg.window}, {cfg.inputs})")
        if len(np.unique(split.label)) != 2:
            raise FitError(f"{data}: the {name} split needs both music and non-music windows")
    y_tr = tr.label.astype(np.float32)
    n_pos = float(y_tr.sum())
    w_tr = window_weights(tr.label, tr.category, fc.category_balance)
    # mixing pools: music alone, and sounds without any music
    music_alone = np.flatnonzero(np.char.startswith(tr.category.astype(str), "music/"))
    no_music = np.flatnonzero((tr.label == 0) & (np.char.find(tr.category.astype(str),
                                                               "music") < 0))
    batch = min(fc.batch, len(y_tr))
    devices = jax.devices("cpu")[: fc.devices]
    if len(devices) < fc.devices:
        raise FitError(f"--devices {fc.devices}: JAX has {len(devices)} CPU device(s); it "
                       "was started before train.fit could ask for more (XLA_FLAGS="
                       f"--xla_force_host_platform_device_count={fc.devices})")
    if batch < fc.devices:
        raise FitError(f"--devices {fc.devices}: more devices than windows in a batch "
                       f"({batch})")
    rng = np.random.default_rng(fc.seed)
    steps_per_epoch = -(-len(y_tr) // batch)
    sched = optax.cosine_decay_schedule(fc.lr, fc.epochs * steps_per_epoch,
                                        alpha=fc.lr_final_fraction)
    lr_end = fc.lr * fc.lr_final_fraction

    def optimizer(lr):
        return optax.chain(optax.clip_by_global_norm(fc.clip_norm),
                           optax.adam(lr))

    phases = {"float": (model.qat_logits, optimizer(sched), 0.0, fc.state_noise),
              "chip": (model.chip_logits, optimizer(lr_end), fc.consistency, 0.0)}
    # the state noise: drawn on the host (numpy's uniform floats cost a tenth of JAX's normal
    # ones inside the step), seeded apart from the batches
    noise_rng = np.random.default_rng([fc.seed, 1])
    noise_shape = (cfg.window, batch, 4 * cfg.hidden)

    def make_step(logits_fn, opt, consistency):
        def loss_fn(p, codes, y, w, noise, whole=None):
            """The batch's loss; ``whole`` (a share of the batch on one device): the whole
            batch's (sum of w, number of windows), so the shares' losses add up to it."""
            x = model.codes_to_x(codes, cfg)
            if noise is None:
                lg = logits_fn(p, x, cfg, every_frame=True)  # (B, T)
            else:
                lg = logits_fn(p, x, cfg, every_frame=True, noise=noise)
            per = optax.sigmoid_binary_cross_entropy(lg, y[:, None])
            w_sum = jnp.sum(w) if whole is None else whole[0]
            loss = jnp.sum(w * per[:, -1]) / w_sum
            if fc.aux_weight:
                loss += fc.aux_weight * jnp.sum(w[:, None] * per[:, fc.aux_from:-1]) / (
                    w_sum * (per.shape[1] - 1 - fc.aux_from))
            if consistency:
                ref = model.qat_logits(p, x, cfg)
                sq = (jax.nn.sigmoid(lg[:, -1]) - jax.nn.sigmoid(ref)) ** 2
                loss += consistency * (jnp.mean(sq) if whole is None else
                                       jnp.sum(sq) / whole[1])
            return loss

        def update(p, state, grads):
            updates, state = opt.update(grads, state, p)
            return model.clip_to_range(optax.apply_updates(p, updates), cfg), state

        @jax.jit
        def train_step(p, state, codes, y, w, noise):
            loss, grads = jax.value_and_grad(loss_fn)(p, codes, y, w, noise)
            p, state = update(p, state, grads)
            return p, state, loss

        if len(devices) > 1:
            share_grad = jax.jit(jax.value_and_grad(loss_fn))

            @jax.jit
            def add_and_update(p, state, losses, grads):
                total = jax.tree.map(lambda *g: sum(g), *grads)
                return (*update(p, state, total), sum(losses))

            def parallel_step(p, state, codes, y, w, noise):
                """Every device the gradient of its share (dispatched asynchronously, so
                they run at once), device 0 their sum; no collectives (XLA's CPU all-reduce
                deadlocked under pmap here)."""
                whole = (np.float32(np.sum(w)), np.float32(len(y)))
                outs = []
                for dev, idx in zip(devices, np.array_split(np.arange(len(y)), len(devices)),
                                    strict=True):
                    share = (p, codes[idx], y[idx], w[idx],
                             None if noise is None else noise[:, idx], whole)
                    outs.append(share_grad(*jax.device_put(share, dev)))
                home = devices[0]
                return add_and_update(p, state, [jax.device_put(lo, home) for lo, _ in outs],
                                      [jax.device_put(g, home) for _, g in outs])

        @jax.jit
        def val_logits(p, codes):
            return logits_fn(p, model.codes_to_x(codes, cfg), cfg)

        return (parallel_step if len(devices) > 1 else train_step), val_logits

    @jax.jit
    def ema_step(avg, p):
        return jax.tree.map(lambda a, q: a + (1 - fc.ema_decay) * (q - a), avg, p)

    @jax.jit
    def val_logits_float(p, codes):
        return model.qat_logits(p, model.codes_to_x(codes, cfg), cfg)

    def predict(val_logits, p, codes):
        out = []
        for k in range(0, len(codes), 256):
            chunk = codes[k:k + 256]
            pad = 256 - len(chunk)  # one compiled shape
            full = np.concatenate([chunk, np.zeros((pad,) + chunk.shape[1:], np.uint8)])
            out.append(np.asarray(val_logits(p, full))[:len(chunk)])
        return np.concatenate(out).astype(np.float64)

    def bce(lg, y):
        return float(np.mean(np.logaddexp(0, lg) - y * lg))

    y_va = va.label.astype(np.float64)
    history = []
    log(f"train.fit: H={fc.hidden}, {len(y_tr)} train windows ({int(n_pos)} music), "
        f"{len(y_va)} val windows, data {sha[:12]}, seed {fc.seed}, up to {fc.epochs} epochs "
        f"(float arithmetic) + {fc.chip_epochs} (chip arithmetic)")

    w_pos, w_neg = float(np.mean(w_tr[tr.label == 1])), float(np.mean(w_tr[tr.label == 0]))

    def mixed_batch(codes, y, w, rng):
        """The batch with mix_fraction of its windows replaced by new mixtures (mix_codes):
        half music under a sound (label 1), half two sounds (label 0)."""
        m = int(rng.binomial(len(y), fc.mix_fraction))
        if m == 0:
            return codes, y, w
        slots = rng.choice(len(y), m, replace=False)
        is_music = rng.random(m) < 0.5
        fg = np.where(is_music, rng.choice(music_alone, m), rng.choice(no_music, m))
        bg = rng.choice(no_music, m)
        ratio = np.where(is_music, rng.uniform(-5, 20, m), rng.uniform(-5, 25, m))
        codes, y, w = codes.copy(), y.copy(), w.copy()
        codes[slots] = mix_codes(tr.codes[fg], tr.codes[bg], ratio)
        y[slots] = is_music
        w[slots] = np.where(is_music, w_pos, w_neg)
        return codes, y, w

    def run_phase(arith, params, n_epochs, patience):
        """Epochs of one arithmetic; returns the parameters of its lowest validation loss.
        The chip phase starts by scoring its starting point (epoch 0), and ranks its epochs
        by (validation max |chip - float| above max_gap, validation loss)."""
        logits_fn, opt, consistency, noise_std = phases[arith]
        train_step, val_logits = make_step(logits_fn, opt, consistency)
        # uniform noise of standard deviation noise_std
        half_width = np.float32(noise_std * np.sqrt(3.0))
        state = opt.init(params)
        # the float phase's moving average of the parameters (FitConfig.ema_decay)
        avg = params if arith == "float" and fc.ema_decay else None
        best = ((np.inf,), 0, params, False)
        for epoch in range(0 if arith == "chip" else 1, n_epochs + 1):
            t0 = time.monotonic()
            losses = []
            for idx in _batches(len(y_tr), batch, rng) if epoch else []:
                codes, y, w = tr.codes[idx], y_tr[idx], w_tr[idx]
                if fc.mix_fraction > 0:
                    codes, y, w = mixed_batch(codes, y, w, rng)
                if fc.gain_db > 0 or fc.tilt_db > 0:
                    gain = rng.uniform(-fc.gain_db, fc.gain_db, (len(idx), 1))
                    tilt = rng.uniform(-fc.tilt_db, fc.tilt_db, (len(idx), 1))
                    codes = gain_shift(codes, gain + tilt * BAND_SLOPE)
                if fc.band_shift:
                    codes = band_shift_codes(
                        codes, rng.integers(-fc.band_shift, fc.band_shift + 1, len(idx)))
                noise = None
                if noise_std:
                    noise = (2 * noise_rng.random(noise_shape, np.float32) - 1) * half_width
                params, state, loss = train_step(params, state, codes, y, w, noise)
                if avg is not None:
                    avg = ema_step(avg, params)
                losses.append(loss)  # no float() here: the host prepares the next batch
                # while the step runs (JAX dispatches asynchronously)
            lg = predict(val_logits, params, va.codes)
            val_loss = bce(lg, y_va)
            val_acc = float(np.mean((lg >= 0) == (y_va > 0.5)))
            train_loss = float(np.mean(np.array(losses, np.float64))) if losses else None
            entry = {"epoch": epoch, "arithmetic": arith, "train_loss": train_loss,
                     "val_loss": val_loss, "val_accuracy": val_acc}
            rank: tuple[float, ...] = (val_loss,)
            detail = ""
            if arith == "chip":
                gap = float(np.max(np.abs(expit(lg) - expit(
                    predict(val_logits_float, params, va.codes)))))
                entry["val_max_gap"] = gap
                rank = (max(gap - fc.max_gap, 0.0), val_loss)
                detail = f"  max |chip - float| {gap:.4f}"
            kept = params
            if avg is not None:
                lg_avg = predict(val_logits, avg, va.codes)
                entry["val_loss_average"] = bce(lg_avg, y_va)
                detail = f"  average: val loss {entry['val_loss_average']:.4f}"
                if entry["val_loss_average"] < val_loss:
                    rank, kept = (entry["val_loss_average"],), avg
            history.append(entry | {"seconds": time.monotonic() - t0})
            mark = ""
            if rank < best[0]:
                best = (rank, epoch, kept, kept is avg)
                mark = "  *best" + (" (average)" if kept is avg else "")
            shown = "      -" if train_loss is None else f"{train_loss:.4f}"
            log(f"{arith:5s} epoch {epoch:3d}/{n_epochs}  loss {shown}  val loss {val_loss:.4f}"
                f"  val acc {100 * val_acc:6.2f} %{detail}  ({time.monotonic() - t0:.1f} s)"
                f"{mark}")
            if epoch - best[1] >= patience:
                log(f"early stop: no lower val loss for {patience} epochs")
                break
        return best

    params = model.init_params(jax.random.PRNGKey(fc.seed), cfg)
    _, best_epoch, params, best_averaged = run_phase("float", params, fc.epochs, fc.patience)
    float_epochs = sum(h["arithmetic"] == "float" for h in history)
    best_chip_epoch = 0
    if fc.chip_epochs:
        _, best_chip_epoch, params, _ = run_phase("chip", params, fc.chip_epochs,
                                                  fc.chip_epochs)

    fit_report = model.saturation(params, cfg)
    weights = model.to_weights(params, cfg)
    flat_va = va.codes.reshape(-1, cfg.inputs)
    run = run_fixed(flat_va, weights)
    s_float = scores_float(flat_va, weights)
    thr_int = metrics.choose_threshold(run.score_int, va.label, fc.max_fpr, cfg.sig_one)
    thr = thr_int / cfg.sig_one
    s_fixed = run.score_int / cfg.sig_one
    wall = time.monotonic() - t_start
    epochs_run = sum(h["train_loss"] is not None for h in history)
    note = (f"trained by python -m train.fit on corpus sha256 {sha}, seed {fc.seed}, "
            f"{float_epochs} epochs (best {best_epoch}{', its average' if best_averaged else ''})"
            f" + {epochs_run - float_epochs} in the "
            f"chip's arithmetic (best {best_chip_epoch}), H={fc.hidden}; threshold {thr:.6f} "
            f"({thr_int}/{cfg.sig_one})")
    weights = model.to_weights(params, cfg, note=note)
    record = {
        "what": "training record of python -m train.fit",
        "data": {"dir": str(data), "sha256": sha, "train_windows": int(len(y_tr)),
                 "val_windows": int(len(y_va))} | manifest_build(data),
        "seed": fc.seed,
        "hyperparameters": asdict(fc),
        "epochs_run": epochs_run,
        "best_epoch": best_epoch,
        "best_is_average": best_averaged,
        "best_chip_epoch": best_chip_epoch,
        "history": history,
        "wall_s": wall,
        "weight_grid_fit": fit_report,
        "threshold": thr,
        "threshold_int": thr_int,
        "threshold_rule": metrics.THRESHOLD_RULE.format(max_fpr=fc.max_fpr),
        "val": {
            "fixed": metrics.operating_point(s_fixed, va.label, thr)
            | {"tpr_at_1pct_fpr": metrics.tpr_at_fpr(s_fixed, va.label, 0.01),
               "auc": metrics.auc(s_fixed, va.label)},
            "float": metrics.operating_point(s_float, va.label, thr),
            "max_abs_fixed_minus_float": float(np.max(np.abs(s_fixed - s_float))),
        },
        "versions": {"python": platform.python_version(), "jax": jax.__version__,
                     "optax": optax.__version__, "numpy": np.__version__},
    }
    op = record["val"]["fixed"]
    log(f"best epoch {best_epoch}{' (average)' if best_averaged else ''}, chip epoch "
        f"{best_chip_epoch}; threshold {thr:.4f} on val (fixed model): accuracy "
        f"{100 * op['accuracy']:.2f} %, TPR {100 * op['tpr']:.2f} %, FPR {100 * op['fpr']:.2f} %"
        f"; max |fixed - float| {record['val']['max_abs_fixed_minus_float']:.4f}; "
        f"{wall:.0f} s")
    for name, st in fit_report.items():
        if st["clipped"] > 0.001:
            log(f"note: {100 * st['clipped']:.1f} % of {name} sit at the ends of its range "
                f"(+-{st['limit']:g})")
    return weights, record


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.fit", description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="corpus folder (make dataset)")
    p.add_argument("--out", type=Path, default=None,
                   help="weight file (default vectors/detector_weights_music_h<H>.npz); the "
                        "training record goes beside it as .json")
    d = FitConfig()
    for f in fields(FitConfig):
        p.add_argument(f"--{f.name.replace('_', '-')}", type=type(getattr(d, f.name)),
                       default=getattr(d, f.name), help=f"default {getattr(d, f.name)}")
    args = p.parse_args(argv)
    try:
        fc = FitConfig(**{f.name: getattr(args, f.name) for f in fields(FitConfig)})
        DetectorConfig(hidden=fc.hidden)
        out = args.out if args.out is not None else default_out(fc.hidden)
        if out.suffix != ".npz" or not out.parent.is_dir():
            raise FitError(f"{out}: must be a .npz file in an existing folder")
        weights, record = fit(args.data, fc)
    except (FitError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    weights.save(out)
    record["weights_file"] = out.name
    record_path(out).write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out} and {record_path(out).name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
