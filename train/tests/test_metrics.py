"""ROC, TPR at a fixed FPR, and the threshold rule on hand-made scores."""

from __future__ import annotations

import numpy as np
import pytest

from train import metrics

# 4 music windows, 6 others; flag = score >= threshold
S = np.array([90, 80, 70, 20, 75, 60, 50, 40, 30, 10])
Y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])


def test_roc_points() -> None:
    fpr, tpr, thr = metrics.roc(S, Y)
    assert thr[0] == 91 and list(thr[1:4]) == [90, 80, 75]
    assert fpr[0] == tpr[0] == 0
    np.testing.assert_allclose(tpr[:4], [0, 0.25, 0.5, 0.5])
    np.testing.assert_allclose(fpr[:4], [0, 0, 0, 1 / 6])
    assert fpr[-1] == tpr[-1] == 1
    assert metrics.tpr_at_fpr(S, Y, 0.0) == 0.5
    assert metrics.tpr_at_fpr(S, Y, 0.2) == 0.75
    # P(music score > other score): 90 and 80 beat all 6, 70 beats 5, 20 beats 1
    assert metrics.auc(S, Y) == pytest.approx((6 + 6 + 5 + 1) / 24)


def test_operating_point() -> None:
    op = metrics.operating_point(S, Y, 70)
    assert (op["tp"], op["fp"], op["tn"], op["fn"]) == (3, 1, 5, 1)
    assert op["accuracy"] == 0.8 and op["tpr"] == 0.75 and op["fpr"] == pytest.approx(1 / 6)
    # no threshold beats 8 of 10 (78 and 70 both give it); separable scores give all 4
    assert metrics.best_accuracy(S, Y) == 0.8
    assert metrics.best_accuracy([9, 8, 2, 1], [1, 1, 0, 0]) == 1.0
    # every window music-scored below every other: flagging all or nothing is the best
    assert metrics.best_accuracy([1, 2, 8, 9], [1, 1, 0, 0]) == 0.5


def test_threshold_rule() -> None:
    # no false positive allowed: best accuracy is flagging 90, 80 -> threshold midway 78
    assert metrics.choose_threshold(S, Y, 0.0, 100) == 78
    # one false positive (1/6) allowed: flagging down to 70 gives 8/10 correct, as does 78;
    # ties go to the higher threshold
    assert metrics.choose_threshold(S, Y, 0.2, 100) == 78
    sep = np.array([9, 8, 2, 1])
    assert metrics.choose_threshold(sep, [1, 1, 0, 0], 0.01, 100) == 5


def test_one_class_is_refused() -> None:
    with pytest.raises(ValueError, match="both classes"):
        metrics.roc(S, np.ones_like(Y))


def test_resampling_unit() -> None:
    assert metrics.resampling_unit("song12000052") == "song12000052"
    assert metrics.resampling_unit("espeak:pt+female3|gen1.2.209|song12000014") == "song12000014"
    assert metrics.resampling_unit("gen1.2.252|espeak:nb+Linda") == "gen1.2.252"
    assert metrics.resampling_unit("espeak:ka+f4") == "espeak:ka+f4"


def test_bootstrap_interval_moves_whole_units() -> None:
    rng = np.random.default_rng(1)
    y = np.repeat([1, 0] * 20, 5)  # 40 units of 5 windows, every unit one class
    unit = np.repeat(np.arange(40), 5)
    right = np.repeat(rng.random(40) < 0.8, 5)  # a unit is either all right or all wrong
    s = np.where(right, y, 1 - y).astype(float)

    def acc(s_: np.ndarray, y_: np.ndarray) -> float:
        return metrics.operating_point(s_, y_, 0.5)["accuracy"]

    point = acc(s, y)
    lo, hi = metrics.bootstrap_interval(acc, s, y, unit, resamples=400)
    assert lo < point < hi
    # resampling windows one by one ignores that a unit's 5 windows go together: narrower
    lo_w, hi_w = metrics.bootstrap_interval(acc, s, y, np.arange(len(y)), resamples=400)
    assert hi_w - lo_w < 0.7 * (hi - lo)
    # seeded, and a constant statistic has no width
    assert metrics.bootstrap_interval(acc, s, y, unit, resamples=400) == (lo, hi)
    assert metrics.bootstrap_interval(lambda s_, y_: 0.5, s, y, unit) == (0.5, 0.5)
    with pytest.raises(ValueError, match="units"):
        metrics.bootstrap_interval(acc, s, y, unit[:-1])
