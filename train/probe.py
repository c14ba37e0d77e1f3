"""A ceiling probe: is the detector or the data the limit?

    python -m train.probe [--data data/corpus] [--weights vectors/detector_weights_music_h32.npz]
                          [--epochs 10] [--channels 64] [--seed 0] [--train-fraction 1]
                          [--ensemble more.npz ...] [--out results/eval/probe.md]

Trains a larger, unconstrained float model on the same 198 x 32 feature codes as the chip's
detector, and compares the two on the test split.  The probe is a 1-D CNN over the frames: four
convolutions of width 5 (dilations 1, 2, 4, 8; ReLU), the mean and the maximum over time, a
hidden layer of 64 and a logit: about 80 000 parameters at 64 channels, ten times the H = 32
LSTM's, in float32 with no weight grid.  Binary cross-entropy, AdamW with a cosine decay, a
random gain of +-6 dB per window (``train.fit.gain_shift``), the epoch with the lowest
validation loss kept.  Its threshold comes from the validation split by the detector's rule
(:data:`train.metrics.THRESHOLD_RULE`).

The report gives, for the detector (bit-accurate fixed model at its recorded threshold), the
probe and the mean of the two scores: accuracy, TPR at 1 % FPR, AUC, and how many test windows
each gets wrong and both get wrong.  If the larger model does no better, the detector's size is
not what limits it; if the two miss different windows, the features still hold information
that neither extracts.  ``--train-fraction F`` trains the probe on a seeded share of the
training sources (``train.fit.keep_sources``): with the same number of steps at each F
(``--epochs 10 / F`` on the default corpus), a learning curve shows what more data of the
same kind would buy.  ``--ensemble`` names more detector sets (other seeds, recipes or sizes):
the report adds the mean of all the detectors' fixed scores, alone and with the probe, and the
mean of the first k of them for every k.  An ensemble usually beats each of its members, and
distilling it into one set usually recovers only part of its gain, so what the ensemble misses
is a practical bound on what a single set trained on this corpus reaches.  Every row also
gives the best accuracy any threshold reaches on the test split itself
(:func:`train.metrics.best_accuracy`).  These are figures, not tests, and the probe is not
part of the chip.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.special import expit

from refmodel.lstm.detector import run_fixed
from refmodel.lstm.weights import DetectorWeights
from train import metrics
from train.fit import (
    DEFAULT_DATA,
    ROOT,
    FitConfig,
    FitError,
    data_hash,
    gain_shift,
    keep_sources,
    load_split,
    record_path,
)

DILATIONS = (1, 2, 4, 8)
WIDTH = 5
HIDDEN = 64
ONE = 1 << 16  # scores as integers for metrics.choose_threshold


def init_params(key: object, channels: int, inputs: int) -> dict:
    """He-initialised CNN parameters."""
    import jax
    import jax.numpy as jnp

    ks = jax.random.split(key, len(DILATIONS) + 2)
    p, width_in = {}, inputs
    for i in range(len(DILATIONS)):
        p[f"conv{i}"] = jax.random.normal(ks[i], (WIDTH, width_in, channels)) * np.sqrt(
            2 / (WIDTH * width_in))
        p[f"conv{i}_b"] = jnp.zeros(channels)
        width_in = channels
    p["dense"] = jax.random.normal(ks[-2], (2 * channels, HIDDEN)) * np.sqrt(1 / channels)
    p["dense_b"] = jnp.zeros(HIDDEN)
    p["out"] = jax.random.normal(ks[-1], (HIDDEN,)) * 0.1
    p["out_b"] = jnp.zeros(())
    return p


def logits(p: dict, codes: object) -> object:
    """(B,) logits of uint8 codes (B, T, inputs), scaled as the chip's input, (q - 128) / 128."""
    import jax
    import jax.numpy as jnp

    h = (jnp.asarray(codes, jnp.float32) - 128.0) / 128.0
    for i, d in enumerate(DILATIONS):
        h = jax.lax.conv_general_dilated(h, p[f"conv{i}"], (1,), "SAME", rhs_dilation=(d,),
                                         dimension_numbers=("NWC", "WIO", "NWC"))
        h = jax.nn.relu(h + p[f"conv{i}_b"])
    g = jnp.concatenate([h.mean(axis=1), h.max(axis=1)], axis=-1)
    g = jax.nn.relu(g @ p["dense"] + p["dense_b"])
    return g @ p["out"] + p["out_b"]


def train_probe(tr: object, va: object, *, epochs: int, channels: int, seed: int,
                batch: int = 64, log: object = print) -> tuple[dict, int]:
    """The probe's parameters at its lowest validation loss, and that epoch."""
    import jax
    import optax

    batch = min(batch, len(tr))
    steps = epochs * (len(tr) // batch)
    opt = optax.adamw(optax.cosine_decay_schedule(2e-3, max(steps, 1)), weight_decay=1e-4)
    params = init_params(jax.random.PRNGKey(seed), channels, tr.codes.shape[2])
    state = opt.init(params)

    def loss_fn(p, codes, y):
        return optax.sigmoid_binary_cross_entropy(logits(p, codes), y).mean()

    @jax.jit
    def step(p, s, codes, y):
        loss, g = jax.value_and_grad(loss_fn)(p, codes, y)
        upd, s = opt.update(g, s, p)
        return optax.apply_updates(p, upd), s, loss

    rng = np.random.default_rng(seed)
    y_va = va.label.astype(np.float64)
    best = (np.inf, 0, params)
    for epoch in range(1, epochs + 1):
        t0 = time.monotonic()
        order = rng.permutation(len(tr))
        losses = []
        for k in range(0, len(order) - batch + 1, batch):
            idx = np.sort(order[k:k + batch])
            codes = gain_shift(tr.codes[idx], rng.uniform(-6, 6, len(idx)))
            params, state, loss = step(params, state, codes, tr.label[idx].astype(np.float32))
            losses.append(float(loss))
        lg = predict(params, va.codes)
        val_loss = float(np.mean(np.logaddexp(0, lg) - y_va * lg))
        mark = ""
        if val_loss < best[0]:
            best, mark = (val_loss, epoch, params), "  *best"
        log(f"probe epoch {epoch:3d}/{epochs}  loss {np.mean(losses):.4f}  val loss "
            f"{val_loss:.4f}  val acc {100 * np.mean((lg >= 0) == (y_va > 0.5)):6.2f} %  "
            f"({time.monotonic() - t0:.1f} s){mark}")
    return best[2], best[1]


@functools.cache
def _logits_jit() -> object:
    import jax

    return jax.jit(logits)


def predict(params: dict, codes: np.ndarray, chunk: int = 500) -> np.ndarray:
    """Logits of many windows, in chunks."""
    fn = _logits_jit()
    return np.concatenate([np.asarray(fn(params, codes[k:k + chunk]))
                           for k in range(0, len(codes), chunk)]).astype(np.float64)


def _threshold(val_scores: np.ndarray, val_label: np.ndarray) -> float:
    s_int = np.rint(val_scores * ONE).astype(np.int64)
    return metrics.choose_threshold(s_int, val_label, FitConfig().max_fpr, ONE) / ONE


def _fixed_scores(path: Path, splits: tuple) -> dict[str, np.ndarray]:
    """The bit-accurate model's scores of one detector set on each split, by split name."""
    try:
        weights = DetectorWeights.load(path)
    except (FileNotFoundError, ValueError) as exc:
        raise FitError(str(exc)) from None
    one, n = weights.config.sig_one, weights.config.inputs
    return {s.name: run_fixed(s.codes.reshape(-1, n), weights).score_int / one for s in splits}


def report(weights_path: Path, data: Path, epochs: int, channels: int, seed: int,
           train_fraction: float = 1.0, ensemble: tuple[Path, ...] = (),
           log: object = print) -> str:
    paths = [weights_path, *ensemble]
    if len({p.resolve() for p in paths}) != len(paths):
        raise FitError("--weights and --ensemble: name each weight file at most once")
    tr, va, te = (load_split(data, s) for s in ("train", "val", "test"))
    tr = keep_sources(tr, train_fraction, seed)
    rec = record_path(weights_path)
    if not rec.is_file():
        raise FitError(f"{rec}: missing (the detector's training record holds its threshold)")
    det_thr = float(json.loads(rec.read_text())["threshold"])
    dets = [_fixed_scores(p, (va, te)) for p in paths]
    det = dets[0]

    t0 = time.monotonic()
    params, best_epoch = train_probe(tr, va, epochs=epochs, channels=channels, seed=seed,
                                     log=log)
    seconds = time.monotonic() - t0
    n_params = sum(int(np.size(v)) for v in params.values())
    cnn = {s.name: expit(predict(params, s.codes)) for s in (va, te)}

    y = te.label.astype(bool)
    models = [(f"detector `{weights_path.name}` (fixed)", det, det_thr),
              (f"probe CNN ({n_params} parameters, float)", cnn, None),
              ("mean of the two scores", _mean([det, cnn]), None)]
    if ensemble:
        models += [(f"mean of the {len(dets)} detectors (fixed)", _mean(dets), None),
                   (f"mean of the {len(dets)} detectors and the probe", _mean([*dets, cnn]), None)]
    rows, wrong = [], {}
    for name, scores, thr in models:
        thr = _threshold(scores["val"], va.label) if thr is None else thr
        s = scores["test"]
        op = metrics.operating_point(s, y, thr)
        wrong[name] = (s >= thr) != y
        rows.append(f"| {name} | {thr:.4f} | {100 * op['accuracy']:.2f} % | "
                    f"{100 * metrics.best_accuracy(s, y):.2f} % | "
                    f"{100 * metrics.tpr_at_fpr(s, y, 0.01):.2f} % | {metrics.auc(s, y):.4f} | "
                    f"{int(wrong[name].sum())} |")
    d_wrong, c_wrong = list(wrong.values())[:2]
    lines = ["# Ceiling probe: the detector against a larger unconstrained model", "",
             f"Data: `{data}` (sha256 {data_hash(data)[:16]}), {len(y)} test windows "
             f"({int(y.sum())} music).  Probe: trained on {len(tr)} windows "
             f"({100 * train_fraction:g} % of the training sources), {channels} channels, "
             f"seed {seed}, best of "
             f"{epochs} epochs by validation loss (epoch {best_epoch}), trained in "
             f"{seconds:.0f} s.  Thresholds from the validation split; the best threshold's "
             f"accuracy is the highest any threshold gives on the test split itself (a bound "
             f"on what the choice of threshold can buy).", "",
             "| model | threshold | accuracy | best threshold's accuracy | TPR @1 % FPR | AUC "
             "| test windows wrong |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |", *rows, "",
             f"- test windows both the detector and the probe get wrong: "
             f"{int(np.sum(d_wrong & c_wrong))} (the detector alone: "
             f"{int(np.sum(d_wrong & ~c_wrong))}, the probe alone: "
             f"{int(np.sum(c_wrong & ~d_wrong))})"]
    if ensemble:
        lines += [f"- detectors averaged: {', '.join(f'`{p}`' for p in paths)}",
                  "- the mean of the first k detectors, k = 1 to "
                  f"{len(dets)} (accuracy at its validation threshold / best threshold's): "
                  + ", ".join(_k_members(dets[:k], va.label, y)
                              for k in range(1, len(dets) + 1))]
    return "\n".join(lines)


def _mean(members: list[dict]) -> dict[str, np.ndarray]:
    """Scores averaged over several models, split by split."""
    return {k: np.mean([m[k] for m in members], axis=0) for k in members[0]}


def _k_members(members: list[dict], val_label: np.ndarray, y: np.ndarray) -> str:
    m = _mean(members)
    s = m["test"]
    acc = metrics.operating_point(s, y, _threshold(m["val"], val_label))["accuracy"]
    return f"{100 * acc:.2f} / {100 * metrics.best_accuracy(s, y):.2f} %"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.probe", description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="corpus folder")
    p.add_argument("--weights", type=Path,
                   default=ROOT / "vectors" / "detector_weights_music_h32.npz",
                   help="the detector to compare (its training record beside it)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-fraction", type=float, default=1.0,
                   help="train on this seeded share of the training sources (a learning curve)")
    p.add_argument("--ensemble", type=Path, nargs="+", default=[], metavar="NPZ",
                   help="more detector sets (any H): adds the mean of all the detectors' fixed "
                        "scores, a ceiling for what one set trained on this corpus reaches")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "eval" / "probe.md")
    args = p.parse_args(argv)
    try:
        if args.epochs < 1 or args.channels < 1:
            raise FitError(f"--epochs {args.epochs} and --channels {args.channels} must be >= 1")
        text = report(args.weights, args.data, args.epochs, args.channels, args.seed,
                      args.train_fraction, tuple(args.ensemble))
    except (FitError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
