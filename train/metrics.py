"""Detection metrics shared by training and evaluation: ROC, TPR at a fixed FPR, the threshold
rule, an operating point, and a bootstrap interval over test sources.  A window is flagged
when ``score >= threshold`` (the chip's comparison).  Scores may be floats or the chip's
integer score codes; thresholds are in the same unit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

ArrayF = npt.NDArray[np.float64]
# SPEC section 3: on real recordings, at least this share of music windows flagged and at most
# this share of speech and everyday-sound windows (the threshold rule's validation FPR, and
# what `make recordings` measures against)
SPEC_MUSIC_FLAGGED, SPEC_OTHER_FLAGGED = 0.90, 0.05


def _check(scores: npt.ArrayLike, labels: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores)
    y = np.asarray(labels).astype(bool)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError(f"scores {s.shape} and labels {y.shape} must be equal 1-D shapes")
    if y.all() or not y.any():
        raise ValueError("labels must contain both classes (music and not music)")
    return s, y


def roc(scores: npt.ArrayLike, labels: npt.ArrayLike) -> tuple[ArrayF, ArrayF, np.ndarray]:
    """ROC curve: (fpr, tpr, thresholds), one point per distinct score (descending), starting
    at the point where nothing is flagged (threshold above every score: fpr = tpr = 0)."""
    s, y = _check(scores, labels)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # last index of each distinct score
    tp = np.cumsum(y)[last]
    fp = np.cumsum(~y)[last]
    top = s[0] + (1 if np.issubdtype(s.dtype, np.integer) else np.finfo(float).eps)
    thr = np.r_[top, s[last]]
    return np.r_[0.0, fp / (~y).sum()], np.r_[0.0, tp / y.sum()], thr


def tpr_at_fpr(scores: npt.ArrayLike, labels: npt.ArrayLike, max_fpr: float) -> float:
    """Highest true-positive rate of any threshold whose false-positive rate is <= max_fpr."""
    fpr, tpr, _ = roc(scores, labels)
    return float(tpr[fpr <= max_fpr].max())


def auc(scores: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Area under the ROC curve (trapezoids)."""
    fpr, tpr, _ = roc(scores, labels)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def best_accuracy(scores: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """The highest accuracy any threshold gives on these windows: a bound on what choosing the
    threshold can buy, not an operating point (it looks at the labels it scores)."""
    fpr, tpr, _ = roc(scores, labels)
    y = np.asarray(labels).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    return float(np.max(tpr * n_pos + (1 - fpr) * n_neg) / (n_pos + n_neg))


def operating_point(scores: npt.ArrayLike, labels: npt.ArrayLike,
                    threshold: float) -> dict[str, float]:
    """Accuracy, TPR, FPR and counts of ``flag = score >= threshold``."""
    s, y = _check(scores, labels)
    flag = s >= threshold
    tp, fp = int(np.sum(flag & y)), int(np.sum(flag & ~y))
    fn, tn = int(np.sum(~flag & y)), int(np.sum(~flag & ~y))
    return {"accuracy": (tp + tn) / len(s), "tpr": tp / (tp + fn), "fpr": fp / (fp + tn),
            "tp": tp, "fp": fp, "tn": tn, "fn": fn}


THRESHOLD_RULE = ("the threshold with the highest validation accuracy among those with a "
                  "validation false-positive rate <= {max_fpr:.1%} (fixed-model score codes; "
                  "midway between the two neighbouring scores)")


def choose_threshold(score_int: npt.ArrayLike, labels: npt.ArrayLike, max_fpr: float,
                     one: int) -> int:
    """The threshold register value (UQ1.16 integer, 0..``one``) of :data:`THRESHOLD_RULE`.

    Args:
        score_int: the fixed model's integer score codes on the validation split.
        labels: 1 = music.
        max_fpr: largest false-positive rate allowed on the validation split.
        one: the register value of 1.0 (2**16; flags nothing, as every score is below it).

    Candidates lie midway between consecutive distinct scores (rounded up), plus 0 (flag
    everything) and ``one``; ties in accuracy go to the highest threshold.
    """
    s, y = _check(np.asarray(score_int, np.int64), labels)
    u = np.unique(s)
    cand = np.unique(np.r_[0, (u[:-1] + u[1:] + 1) // 2, one])[::-1]  # descending
    pos_sorted = np.sort(s[y])
    neg_sorted = np.sort(s[~y])
    tp = len(pos_sorted) - np.searchsorted(pos_sorted, cand, side="left")
    fp = len(neg_sorted) - np.searchsorted(neg_sorted, cand, side="left")
    n_pos, n_neg = len(pos_sorted), len(neg_sorted)
    acc = (tp + (n_neg - fp)) / (n_pos + n_neg)
    ok = fp / n_neg <= max_fpr
    best = np.flatnonzero(ok & (acc == acc[ok].max()))[0]  # ok[0] holds: `one` flags nothing
    return int(cand[best])


def resampling_unit(group: str) -> str:
    """The source a test window is resampled with by :func:`bootstrap_interval`: its song when
    it holds music (one song gives several windows), else its first source (a voice setting,
    a generator seed).  ``group`` is the corpus's ``|``-joined source ids."""
    for part in group.split("|"):
        if part.startswith("song"):
            return part
    return group.split("|")[0]


BOOTSTRAP_RESAMPLES = 1000


def bootstrap_interval(stat: Callable[[np.ndarray, np.ndarray], float],
                       scores: npt.ArrayLike, labels: npt.ArrayLike, units: npt.ArrayLike, *,
                       resamples: int = BOOTSTRAP_RESAMPLES, level: float = 0.95,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat(scores, labels)`` resampling whole units
    (sources, :func:`resampling_unit`) with replacement, so windows that share a song move
    together: how much a figure would move on another test split drawn the same way.
    Seeded: the same inputs give the same interval.  Resamples that lose one class entirely
    are drawn again."""
    s, y = _check(scores, labels)
    u = np.asarray(units)
    if u.shape != s.shape:
        raise ValueError(f"units {u.shape} must match scores {s.shape}")
    if not 0 < level < 1 or resamples < 1:
        raise ValueError(f"level {level} must be in (0, 1) and resamples {resamples} >= 1")
    names, inverse = np.unique(u, return_inverse=True)
    members = np.split(np.argsort(inverse, kind="stable"),
                       np.cumsum(np.bincount(inverse))[:-1])
    rng = np.random.default_rng(seed)
    values = []
    while len(values) < resamples:
        idx = np.concatenate([members[k] for k in rng.integers(0, len(names), len(names))])
        if y[idx].all() or not y[idx].any():
            continue
        values.append(stat(s[idx], y[idx]))
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)
