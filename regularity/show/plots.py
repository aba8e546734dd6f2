"""Figures: the regularity graph, the ROC curve, loss curves."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files, not windows; notebooks display the PNGs
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter
from sklearn.metrics import auc, roc_curve

from regularity.data.groundtruth import labels_to_spans
from regularity.score.metrics import both_classes


def save_figure(fig: plt.Figure, path: str | Path) -> Path:
    """Save and close a figure (its folder made); the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def generate_regularity_graph(
    regularity: np.ndarray,
    path: str | Path,
    labels: np.ndarray | None = None,
    title: str = "",
    errors: np.ndarray | None = None,
    threshold: float | None = None,
) -> Path:
    """Regularity score s(t) against frame number, ground-truth abnormal spans shaded.

    Given the clip's absolute frame score e(t) and the run's frame threshold (on that scale,
    from normal clips), a second panel below shows e(t), the threshold as a dashed line and
    the flagged frames shaded: the per-clip s(t) alone stretches every clip from 1 to 0.

    Args:
        regularity: s(t), one value per frame.
        path: PNG to write.
        labels: abnormal frames (ground truth), shaded red.
        title: figure title (the clip name).
        errors: e(t), one value per frame, on the threshold's scale.
        threshold: the run's frame threshold.

    """
    judged = errors is not None and threshold is not None
    fig, axes = plt.subplots(
        2 if judged else 1, 1, figsize=(8, 5 if judged else 3), sharex=True, squeeze=False
    )
    ax = axes[0, 0]
    frames = np.arange(1, len(regularity) + 1)
    ax.plot(frames, regularity, color="tab:blue", lw=1.5, label="regularity s(t) (per clip)")
    _shade(ax, labels, "tab:red", "abnormal (ground truth)")
    ax.set(ylabel="regularity score", ylim=(-0.02, 1.02), xlim=(1, max(len(regularity), 2)))
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    if judged:
        below = axes[1, 0]
        below.plot(frames, errors, color="tab:purple", lw=1.5, label="frame score e(t)")
        below.axhline(threshold, color="k", ls="--", lw=1, label="threshold (normal clips)")
        _shade(below, np.asarray(errors) > threshold, "tab:orange", "flagged")
        _shade(below, labels, "tab:red", None)
        below.set(ylabel="frame score e(t)")
        below.legend(loc="upper left", fontsize=8)
    axes[-1, 0].set_xlabel("frame")
    return save_figure(fig, path)


def _shade(ax: plt.Axes, frames: np.ndarray | None, colour: str, label: str | None) -> None:
    if frames is None:
        return
    for i, (a, b) in enumerate(labels_to_spans(frames)):
        ax.axvspan(a - 0.5, b + 0.5, color=colour, alpha=0.2, label=label if i == 0 else None)


BASELINE_CURVE = "frame difference"  # a run's no-learning baseline in its ROC plot
NO_LEARNING = "(no learning)"  # in a leaderboard's name of each no-learning baseline


def roc_points(labels: np.ndarray, scores: np.ndarray, spacing: float = 0.005) -> dict | None:
    """A ROC curve as a plot needs it, small enough to keep in a leaderboard's JSON.

    Its corners (``roc_curve``'s), each at least ``spacing`` from the last kept on one axis
    (a pixel of `plot_roc`'s figure is 0.003), to 4 decimals; ``auc`` is the whole curve's.
    None where the labels hold one class only (no curve).

    >>> roc_points(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    {'fpr': [0.0, 0.0, 0.5, 0.5, 1.0], 'tpr': [0.0, 0.5, 0.5, 1.0, 1.0], 'auc': 0.75}
    >>> roc_points(np.zeros(3), np.arange(3)) is None
    True
    """
    if not both_classes(labels):
        return None
    fpr, tpr, _ = roc_curve(labels, scores)
    kept = [0]
    for i in range(1, len(fpr) - 1):
        if max(fpr[i] - fpr[kept[-1]], tpr[i] - tpr[kept[-1]]) >= spacing:
            kept.append(i)
    kept.append(len(fpr) - 1)
    return {
        "fpr": np.round(fpr[kept], 4).tolist(),
        "tpr": np.round(tpr[kept], 4).tolist(),
        "auc": float(auc(fpr, tpr)),
    }


def plot_roc(curves: dict[str, tuple[np.ndarray, np.ndarray] | dict], path: str | Path) -> Path:
    """ROC curves, one per named (labels, scores) pair or `roc_points`, AUC in the legend.

    A no-learning baseline (`BASELINE_CURVE`, or a name holding `NO_LEARNING`) is drawn
    dashed, in black or grey.
    """
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    greys = iter(["k", "0.45", "0.25", "0.6", "0.35", "0.7"])
    for name, curve in curves.items():
        points = curve if isinstance(curve, dict) else roc_points(*curve)
        if points is None:
            continue
        baseline = name == BASELINE_CURVE or NO_LEARNING in name
        style = {"ls": "--", "color": next(greys, "0.5")} if baseline else {}
        label = f"{name} (AUC {points['auc']:.3f})"
        ax.plot(points["fpr"], points["tpr"], lw=1.5, label=label, **style)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="frame-level ROC")
    ax.legend(loc="lower right", fontsize=8)
    return save_figure(fig, path)


def history_figure(
    history_csv: str | Path, columns: tuple[str, ...] | None = None, title: str = "training"
) -> plt.Figure | None:
    """Loss curves from a Keras ``CSVLogger`` file, or None.

    ``columns``: the columns to plot (default: every column ending in "loss").

    Epochs are whole numbers; the loss axis is logarithmic, its ticks written plainly (1, 2 and 5
    times each power of ten over up to three decades), only when the losses span a decade or
    more (linear otherwise).
    """
    history_csv = Path(history_csv)
    if not history_csv.is_file():
        return None
    with history_csv.open() as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(5, 3.5))
    epochs = [int(r["epoch"]) for r in rows]
    if epochs[0] == 0:  # a run from before epochs were counted from 1, as the checkpoints are
        epochs = [e + 1 for e in epochs]
    shown = []
    for key in rows[0]:
        if (key in columns) if columns else key.endswith("loss"):
            values = [float(r[key]) if r[key] not in ("", "NA") else np.nan for r in rows]
            ax.plot(epochs, values, marker="o", label=key)
            shown.extend(values)
    ax.set(xlabel="epoch", ylabel="loss", title=title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    positive = np.asarray(shown)[np.isfinite(shown) & (np.asarray(shown) > 0)]
    decades = np.log10(positive.max() / positive.min()) if len(positive) else 0.0
    if decades >= 1:
        ax.set_yscale("log")
        # 1, 2 and 5 times each power of ten over a few decades; powers of ten beyond.
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if decades <= 3 else (1.0,)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=8)
    return fig


def plot_history(
    history_csv: str | Path,
    path: str | Path,
    columns: tuple[str, ...] | None = None,
    title: str = "training",
) -> Path | None:
    """Write `history_figure` as a PNG (``loss.png``); None without a history."""
    fig = history_figure(history_csv, columns, title)
    return None if fig is None else save_figure(fig, path)


def with_copy_last_frame(reports: dict[str, dict]) -> dict[str, dict]:
    """Each predictor's per-step figures, then copy-last-frame's (from the first report)."""
    first = next(iter(reports.values()))
    return {**{name: r["model"] for name, r in reports.items()},
            "copy last frame": first["copy_last_frame"]}  # fmt: skip


def plot_prediction(reports: dict[str, dict], path: str | Path) -> Path:
    """PSNR and SSIM per predicted step, whole frame and moving pixels, beside copy-last-frame.

    ``reports``: predictor name -> `regularity.score.quality.prediction_report` (the baseline is
    drawn once, from the first report).
    """
    panels = (("psnr", "PSNR (dB)"), ("psnr_moving", "PSNR, moving pixels (dB)"),
              ("ssim", "SSIM"), ("ssim_moving", "SSIM, moving pixels"))  # fmt: skip
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.2))
    lines = with_copy_last_frame(reports)
    for ax, (key, label) in zip(axes, panels, strict=True):
        for name, figures in lines.items():
            steps = sorted(figures, key=int)
            values = [np.nan if figures[s][key] is None else figures[s][key] for s in steps]
            style = {"ls": ":", "color": "grey"} if name == "copy last frame" else {}
            ax.plot([int(s) for s in steps], values, marker="o", label=name, **style)
        ax.set(xlabel="predicted frame", title=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)
