"""Evaluation of trained detectors on the corpus's test split: float, ONNX and fixed models.

    python -m train.evaluate --weights vectors/detector_weights_music_h32.npz [more.npz ...]
                             [--data data/corpus] [--out results/eval]

For every weight file, on the test split (one 198-frame window per item):
- the scores of the float golden (``refmodel.lstm.detector.scores_float``), the ONNX graph in
  onnxruntime (``refmodel.lstm.onnx_golden.scores_onnx``) and the bit-accurate fixed model
  (``run_fixed``, the chip);
- per model: window accuracy, TPR and FPR at the threshold, TPR at 1 % and 0.1 % FPR, ROC AUC;
- the threshold: the one in the weight file's training record (chosen on the validation split
  by ``train.fit``, :data:`train.metrics.THRESHOLD_RULE`), else chosen here on the validation
  split by the same rule;
- errors by category (which non-music fires, which music is missed) for each model;
- max |fixed - float| over every test window (goal <= 0.02), and flag disagreements where the
  float score is more than 0.02 from the threshold (goal: none);
- 95 % bootstrap intervals of the fixed model's accuracy and TPR at 1 % FPR, resampling
  whole test sources (``metrics.bootstrap_interval``): how far another test split drawn the
  same way could move them, and so how large a difference between two sets means something;
- a ROC plot (``<out>/roc_h<H>.png``).
Several weight files (e.g. H = 16, 32, 64) also give a table of accuracy against size.  The
markdown report is printed and written to ``<out>/report.md``.  These are figures, not tests.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from refmodel.lstm.detector import run_fixed, scores_float
from refmodel.lstm.onnx_golden import scores_onnx
from refmodel.lstm.weights import DetectorWeights
from train import metrics
from train.fit import DEFAULT_DATA, ROOT, FitConfig, FitError, data_hash, load_split, record_path

MODELS = ("float", "onnx", "fixed")
GOAL_ACC, GOAL_TPR, GOAL_DIFF = 0.97, 0.90, 0.02
LANES = 8  # the chip's default MAC lanes, for the cycles column of the size table


@dataclass(frozen=True)
class Result:
    """Everything measured for one weight file."""

    path: Path
    weights: DetectorWeights
    threshold: float
    threshold_source: str
    threshold_rule: str
    scores: dict[str, np.ndarray]
    seconds: dict[str, float]
    label: np.ndarray
    category: np.ndarray
    units: np.ndarray  # resampling unit of every window (metrics.resampling_unit)

    def op(self, model: str) -> dict[str, float]:
        s, y = self.scores[model], self.label
        return metrics.operating_point(s, y, self.threshold) | {
            "tpr_at_1pct": metrics.tpr_at_fpr(s, y, 0.01),
            "tpr_at_0p1pct": metrics.tpr_at_fpr(s, y, 0.001),
            "auc": metrics.auc(s, y),
        }

    def intervals(self) -> dict[str, tuple[float, float]]:
        """95 % bootstrap intervals of the fixed model's accuracy and TPR at 1 % FPR."""
        def accuracy(s: np.ndarray, y: np.ndarray) -> float:
            return metrics.operating_point(s, y, self.threshold)["accuracy"]

        def tpr_1pct(s: np.ndarray, y: np.ndarray) -> float:
            return metrics.tpr_at_fpr(s, y, 0.01)

        return {name: metrics.bootstrap_interval(fn, self.scores["fixed"], self.label,
                                                 self.units)
                for name, fn in (("accuracy", accuracy), ("tpr_at_1pct", tpr_1pct))}

    @property
    def max_diff(self) -> float:
        return float(np.max(np.abs(self.scores["fixed"] - self.scores["float"])))

    @property
    def unsafe_flag_mismatches(self) -> int:
        """Windows whose fixed and float flags differ although the float score is more than
        0.02 from the threshold."""
        f, x = self.scores["float"], self.scores["fixed"]
        far = np.abs(f - self.threshold) > GOAL_DIFF
        return int(np.sum(far & ((f >= self.threshold) != (x >= self.threshold))))


def _threshold(path: Path, weights: DetectorWeights, data: Path) -> tuple[float, str, str]:
    rec = record_path(path)
    if rec.is_file():
        try:
            r = json.loads(rec.read_text())
            return float(r["threshold"]), f"training record {rec.name}", r["threshold_rule"]
        except (ValueError, KeyError) as exc:
            raise FitError(f"{rec}: no readable 'threshold' ({exc})") from None
    va = load_split(data, "val")
    run = run_fixed(va.codes.reshape(-1, weights.config.inputs), weights)
    thr = metrics.choose_threshold(run.score_int, va.label, FitConfig().max_fpr,
                                   weights.config.sig_one)
    return (thr / weights.config.sig_one, "chosen now on the validation split",
            metrics.THRESHOLD_RULE.format(max_fpr=FitConfig().max_fpr))


def evaluate(path: Path, data: Path, test: object) -> Result:
    """Scores of the three models on the test split for one weight file."""
    try:
        weights = DetectorWeights.load(path)
    except (FileNotFoundError, ValueError) as exc:
        raise FitError(str(exc)) from None
    thr, source, rule = _threshold(path, weights, data)
    codes = test.codes.reshape(-1, weights.config.inputs)
    fns = {"float": lambda: scores_float(codes, weights),
           "onnx": lambda: scores_onnx(codes, weights),
           "fixed": lambda: run_fixed(codes, weights).score_int / weights.config.sig_one}
    scores, seconds = {}, {}
    for name, fn in fns.items():
        t0 = time.monotonic()
        scores[name] = np.asarray(fn(), np.float64)
        seconds[name] = time.monotonic() - t0
    return Result(path=path, weights=weights, threshold=thr, threshold_source=source,
                  threshold_rule=rule,
                  scores=scores, seconds=seconds, label=test.label.astype(bool),
                  category=np.asarray(test.category).astype(str),
                  units=np.array([metrics.resampling_unit(g) for g in test.group]))


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def _ok(good: bool) -> str:
    return "met" if good else "**missed**"


def category_table(r: Result) -> list[str]:
    """Errors by category: non-music categories that fire, music categories that are missed."""
    lines = ["| category | music | windows | " + " | ".join(f"{m} errors" for m in MODELS) + " |",
             "| --- | --- | ---: | " + " | ".join("---:" for _ in MODELS) + " |"]
    rows = []
    for cat in np.unique(r.category):
        sel = r.category == cat
        music = bool(np.round(r.label[sel].mean()))
        errs = [int(np.sum((r.scores[m][sel] >= r.threshold) != r.label[sel])) for m in MODELS]
        rows.append((-errs[2] / sel.sum(), cat, music, int(sel.sum()), errs))
    for _, cat, music, n, errs in sorted(rows):
        cells = " | ".join(f"{e} ({100 * e / n:.1f} %)" for e in errs)
        lines.append(f"| {cat} | {'yes' if music else 'no'} | {n} | {cells} |")
    return lines


def roc_plot(r: Result, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 5), layout="constrained")
    n_neg = int(np.sum(~r.label))
    for name, style in zip(MODELS, ("-", "--", ":"), strict=True):
        fpr, tpr, _ = metrics.roc(r.scores[name], r.label)
        ax.step(np.maximum(fpr, 0.5 / n_neg), tpr, where="post", linestyle=style,
                label=f"{name} (AUC {metrics.auc(r.scores[name], r.label):.4f})")
    op = r.op("fixed")
    ax.plot(max(op["fpr"], 0.5 / n_neg), op["tpr"], "o", color="tab:red",
            label=f"threshold {r.threshold:.4f} (fixed): TPR {_pct(op['tpr'])}, "
                  f"FPR {_pct(op['fpr'])}")
    for x in (0.001, 0.01):
        ax.axvline(x, color="grey", linewidth=0.5)
    ax.set_xscale("log")
    ax.set_xlim(0.5 / n_neg, 1.0)
    ax.set_ylim(0.0, 1.01)
    ax.set_xlabel(f"false-positive rate (log; {n_neg} non-music test windows)")
    ax.set_ylabel(f"true-positive rate ({int(np.sum(r.label))} music test windows)")
    ax.set_title(f"{r.path.name}: ROC on the test split")
    ax.legend(loc="lower right", fontsize=8)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def report(results: list[Result], data: Path, sha: str, out: Path) -> str:
    n = len(results[0].label)
    lines = ["# Detector evaluation on the test split", "",
             f"Data: `{data}` (sha256 {sha[:16]}), {n} test windows "
             f"({int(results[0].label.sum())} music). Flag = score >= threshold.", ""]
    if len(results) > 1:
        lines += ["## Accuracy against size", "",
                  "| H | weight bytes | cycles/step (P=8) | float acc | ONNX acc | fixed acc | "
                  "fixed TPR @1 % FPR | fixed TPR @0.1 % FPR | max abs(fixed - float) | "
                  "threshold |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in sorted(results, key=lambda r: r.weights.hidden):
            cfg = r.weights.config
            nbytes = cfg.gates * cfg.cols + cfg.hidden + 2 * cfg.gates + 2
            ops = {m: r.op(m) for m in MODELS}
            lines.append(f"| {cfg.hidden} | {nbytes} | {cfg.mac_cycles(LANES)} | "
                         + " | ".join(_pct(ops[m]["accuracy"]) for m in MODELS)
                         + f" | {_pct(ops['fixed']['tpr_at_1pct'])} | "
                         f"{_pct(ops['fixed']['tpr_at_0p1pct'])} | {r.max_diff:.4f} | "
                         f"{r.threshold:.4f} |")
        lines.append("")
    for r in results:
        ops = {m: r.op(m) for m in MODELS}
        fx = ops["fixed"]
        ci = r.intervals()
        lines += [f"## `{r.path.name}` (H = {r.weights.hidden})", "",
                  f"Threshold {r.threshold:.6f} ({r.threshold_source}; rule: "
                  f"{r.threshold_rule}).", "",
                  "| model | accuracy | TPR at threshold | FPR at threshold | TPR @1 % FPR | "
                  "TPR @0.1 % FPR | AUC | seconds |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for m in MODELS:
            o = ops[m]
            lines.append(f"| {m} | {_pct(o['accuracy'])} | {_pct(o['tpr'])} | {_pct(o['fpr'])} | "
                         f"{_pct(o['tpr_at_1pct'])} | {_pct(o['tpr_at_0p1pct'])} | "
                         f"{o['auc']:.4f} | {r.seconds[m]:.2f} |")
        lines += ["",
                  f"- max abs(fixed - float) over all {n} windows: {r.max_diff:.5f} "
                  f"(goal <= {GOAL_DIFF}: {_ok(r.max_diff <= GOAL_DIFF)}); max abs(ONNX - float): "
                  f"{np.max(np.abs(r.scores['onnx'] - r.scores['float'])):.2e}",
                  f"- fixed and float flags differ where the float score is more than "
                  f"{GOAL_DIFF} from the threshold: {r.unsafe_flag_mismatches} windows (goal 0)",
                  f"- goals (fixed model): accuracy >= {GOAL_ACC:.0%}: "
                  f"{_ok(fx['accuracy'] >= GOAL_ACC)}; TPR >= {GOAL_TPR:.0%} at 1 % FPR: "
                  f"{_ok(fx['tpr_at_1pct'] >= GOAL_TPR)}",
                  f"- 95 % intervals (fixed model; {metrics.BOOTSTRAP_RESAMPLES} bootstrap "
                  f"resamples of the {len(np.unique(r.units))} test sources, a song's windows "
                  f"together): "
                  f"accuracy {_pct(ci['accuracy'][0])} to {_pct(ci['accuracy'][1])}, TPR @1 % "
                  f"FPR {_pct(ci['tpr_at_1pct'][0])} to {_pct(ci['tpr_at_1pct'][1])}",
                  f"- ROC: `{out / f'roc_h{r.weights.hidden}.png'}`", "",
                  "Errors by category at the threshold (non-music: windows that fire; music: "
                  "windows missed):", ""]
        lines += category_table(r)
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.evaluate",
                                description=__doc__.split("\n")[0])
    p.add_argument("--weights", type=Path, nargs="+",
                   default=[ROOT / "vectors" / "detector_weights_music_h32.npz"],
                   help="weight files (default the trained H=32 set)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="corpus folder")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "eval",
                   help="folder for report.md and the ROC plots")
    args = p.parse_args(argv)
    t0 = time.monotonic()
    try:
        sha = data_hash(args.data)
        test = load_split(args.data, "test")
        results = [evaluate(w, args.data, test) for w in args.weights]
        hids = [r.weights.hidden for r in results]
        if len(set(hids)) != len(hids):
            raise FitError(f"--weights: hidden sizes {hids}: give each at most once")
    except (FitError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for r in results:
        roc_plot(r, args.out / f"roc_h{r.weights.hidden}.png")
    text = report(results, args.data, sha, args.out)
    (args.out / "report.md").write_text(text + "\n")
    print(text)
    print(f"\nwrote {args.out / 'report.md'} ({time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
