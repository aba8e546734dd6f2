"""The report of a scored test split: ``scores.csv``, ``roc.png`` and ``metrics.json``.

``scores.csv`` has one row per frame: ``video``, ``frame`` (1-based, as in the official ground
truth), ``label`` (1 abnormal, 0 normal, empty when unknown), ``error`` (e(t), smoothed),
``abnormality`` (``sa(t)``, e(t) min-max scaled within the video), ``regularity``
(``s(t) = 1 - sa(t)``), ``baseline`` (the frame difference's e(t)) and one column of e(t) per
second score of the run (a GAN's ``alocc``): every metric can be recomputed from it. Videos
without labels get rows but no ROC and no AUC.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from regularity.run.files import peak_rss_mb, update_metrics
from regularity.score.baselines import FRAME_DIFFERENCE
from regularity.score.metrics import both_classes, eer, frame_auc, tpr_fpr
from regularity.score.scoring import abnormality_score
from regularity.show.plots import BASELINE_CURVE, plot_roc

BASELINE = FRAME_DIFFERENCE.describe()  # beside every run
LOCALISATION_KEYS = ("dots", "dots_inside", "frames", "frames_with_dot_inside", "frames_40pct")


def write_scores(results: list, path: str | Path) -> Path:
    """One row per frame of every result (see the module docstring for the columns)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    critics = list(results[0].critics) if results else []
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["video", "frame", "label", "error", "abnormality", "regularity", "baseline", *critics]
        )
        for r in results:
            sa = abnormality_score(r.errors)
            for t in range(len(r.errors)):
                label = "" if r.labels is None else int(r.labels[t])
                writer.writerow(
                    [r.name, t + 1, label, f"{r.errors[t]:.6g}", f"{sa[t]:.6f}",
                     f"{1 - sa[t]:.6f}", f"{r.baseline[t]:.6g}",
                     *(f"{r.critics[c][t]:.6g}" for c in critics)]
                )  # fmt: skip
    return path


def _localisation(results: list) -> dict | None:
    totals = {k: sum(r.localisation.get(k, 0) for r in results) for k in LOCALISATION_KEYS}
    if not totals["frames"]:
        return None
    return {
        "dots_inside_mask": totals["dots_inside"] / max(totals["dots"], 1),
        "frames_with_dot_inside": totals["frames_with_dot_inside"] / totals["frames"],
        "ucsd_pixel_40pct": totals["frames_40pct"] / totals["frames"],
    }


def pooled(results: list, scores: str = "errors") -> tuple[np.ndarray, np.ndarray]:
    """Every frame's label and abnormality ``sa(t)`` (per-video min-max), videos end to end.

    ``scores`` names the per-video e(t): ``"errors"`` (the model), ``"baseline"`` or a second
    score of the run (``"alocc"``).
    """
    labels = np.concatenate([r.labels for r in results])
    return labels, np.concatenate([abnormality_score(_series(r, scores)) for r in results])


def _series(result: object, scores: str) -> np.ndarray:
    return result.critics[scores] if scores in result.critics else getattr(result, scores)


def _ranking_figures(results: list, scores: str) -> dict:
    y, sa = pooled(results, scores)
    return {
        "frame_auc": frame_auc([_series(r, scores) for r in results], [r.labels for r in results]),
        "eer": eer(y, sa) if both_classes(y) else None,
    }


def detection_figures(results: list, threshold: float) -> dict:
    """Frame AUC three ways, EER and TPR/FPR at a normal-data threshold, beside the baseline.

    Empty when any video has no labels: there is nothing to measure against.
    """
    if not results or any(r.labels is None for r in results):
        return {}
    y = np.concatenate([r.labels for r in results])
    tpr, fpr = tpr_fpr(y, np.concatenate([r.errors for r in results]), threshold)
    return {
        **_ranking_figures(results, "errors"),
        "tpr": tpr,
        "fpr": fpr,
        "baseline": {"name": BASELINE, **_ranking_figures(results, "baseline")},
        "second_scores": {c: _ranking_figures(results, c) for c in results[0].critics},
        "test_frames": int(len(y)),
        "abnormal_frames": int(y.sum()),
    }


def threshold_record(thresholds: dict) -> dict:
    """The frame threshold as results report it (``value``, ``pixel``, ``source``)."""
    return {k: thresholds[f] for k, f in (("value", "frame"), ("pixel", "pixel"),
                                          ("source", "source"))}  # fmt: skip


def quantify_performance(
    results: list, run_dir: str | Path, threshold: dict, **extra: object
) -> dict:
    """Write ``scores.csv``, ``roc.png`` (labelled videos only) and merge ``metrics.json``.

    Args:
        results: `regularity.run.evaluation.VideoResult` of each test video.
        run_dir: the folder to write into.
        threshold: ``thresholds.json`` of the run (``frame``, ``pixel``, ``source``).
        **extra: more fields for ``metrics.json``.

    Returns:
        The merged ``metrics.json``.

    """
    run_dir = Path(run_dir)
    write_scores(results, run_dir / "scores.csv")
    figures = detection_figures(results, threshold["frame"])
    if figures:
        curves = {"model": pooled(results), BASELINE_CURVE: pooled(results, "baseline")}
        curves.update({c: pooled(results, c) for c in results[0].critics})
        plot_roc(curves, run_dir / "roc.png")
    return update_metrics(
        run_dir,
        **figures,
        threshold=threshold_record(threshold),
        localisation=_localisation(results),
        peak_rss_mb=round(peak_rss_mb()),
        **extra,
    )
