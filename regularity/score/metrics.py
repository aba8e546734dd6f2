"""Evaluation metrics as plain NumPy functions (scikit-learn computes the ROC)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from regularity.score.scoring import minmax


def both_classes(labels: np.ndarray) -> bool:
    """Whether ``labels`` hold normal and abnormal frames both: a ROC curve needs the two.

    >>> both_classes(np.array([0, 1, 1])), both_classes(np.zeros(3))
    (True, False)
    """
    return bool(0 < np.sum(labels) < len(labels))


def eer(labels: np.ndarray, scores: np.ndarray) -> float:
    """Equal error rate: the ROC point where FPR = 1 - TPR, linearly interpolated.

    >>> round(eer(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9])), 3)
    0.5
    """
    fpr, tpr, _ = roc_curve(labels, scores)
    fnr = 1 - tpr
    i = int(np.flatnonzero(fnr <= fpr)[0])  # first point where the curves have crossed
    if i == 0:
        return float(fpr[0])
    # Interpolate between points i-1 and i, where (fnr - fpr) changes sign.
    a, b = fnr[i - 1] - fpr[i - 1], fnr[i] - fpr[i]
    w = a / (a - b)
    return float(fpr[i - 1] + w * (fpr[i] - fpr[i - 1]))


def frame_auc(
    scores: Sequence[np.ndarray], labels: Sequence[np.ndarray]
) -> dict[str, float | None]:
    """Frame-level ROC AUC three ways (the suite's definitions), and as Chong & Tay 2017 normalise.

    ``micro_minmax``, ``micro_raw`` and ``macro`` are the suite's. ``micro_paper`` pools the
    frames after the paper's own per-video normalisation, ``(e - min e) / max e``, which is what
    its Ped2 figure was computed with; it needs errors (scores >= 0) and is None otherwise.

    Args:
        scores: per video, one abnormality score per frame (higher = more abnormal).
        labels: per video, True for abnormal frames.

    >>> s = [np.array([1.0, 2.0, 9.0]), np.array([10.0, 20.0, 30.0])]
    >>> l = [np.array([0, 0, 1]), np.array([0, 1, 1])]
    >>> {k: round(v, 3) for k, v in frame_auc(s, l).items()}
    {'micro_minmax': 1.0, 'micro_raw': 0.889, 'macro': 1.0, 'micro_paper': 1.0}

    """
    y = np.concatenate(labels).astype(bool)
    raw = np.concatenate(scores)
    normalised = np.concatenate([minmax(s) for s in scores])
    per_video = [
        roc_auc_score(y_video, s)
        for s, y_video in zip(scores, labels, strict=True)
        if both_classes(y_video)
    ]
    both = both_classes(y)
    errors = both and bool(np.all(raw >= 0)) and all(s.max() > 0 for s in scores)
    as_paper = np.concatenate([(s - s.min()) / s.max() for s in scores]) if errors else None
    return {
        "micro_minmax": float(roc_auc_score(y, normalised)) if both else None,
        "micro_raw": float(roc_auc_score(y, raw)) if both else None,
        "macro": float(np.mean(per_video)) if per_video else None,
        "micro_paper": float(roc_auc_score(y, as_paper)) if errors else None,
    }


def tpr_fpr(labels: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[float, float]:
    """True and false positive rates of ``scores > threshold``.

    >>> tpr_fpr(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9]), 0.5)
    (0.5, 0.5)
    """
    labels = np.asarray(labels, bool)
    flagged = np.asarray(scores) > threshold
    tpr = flagged[labels].mean() if labels.any() else float("nan")
    fpr = flagged[~labels].mean() if (~labels).any() else float("nan")
    return float(tpr), float(fpr)


def dots_in_mask(dots: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """For dots ``[K, 2]`` as (row, col), whether each falls inside the boolean mask."""
    dots = np.asarray(dots, int).reshape(-1, 2)
    return mask[dots[:, 0], dots[:, 1]] if len(dots) else np.zeros(0, bool)


def ucsd_pixel_hit(detection: np.ndarray, mask: np.ndarray, coverage: float = 0.4) -> bool:
    """The UCSD pixel-level criterion (Mahadevan et al. 2010) for one abnormal frame.

    The frame counts as detected when the detection covers at least ``coverage`` of its
    ground-truth pixels.

    >>> m = np.zeros((4, 4), bool); m[:2, :2] = True
    >>> d = np.zeros((4, 4), bool); d[0, :2] = True
    >>> ucsd_pixel_hit(d, m), ucsd_pixel_hit(d, m, coverage=0.6)
    (True, False)
    """
    area = mask.sum()
    return bool(area and (detection & mask).sum() >= coverage * area)
