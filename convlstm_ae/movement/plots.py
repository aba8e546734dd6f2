"""The movement matcher's figures: a clip's similarity curve and an overview of many."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from regularity.data.groundtruth import labels_to_spans
from regularity.show.plots import save_figure

_SIMILARITY = {
    "ssim": "SSIM, prediction vs real",
    "ssim_gain": "SSIM gain over copying the previous frame",
    "ssim_skill": "SSIM skill over copying the previous frame",
    "typical": "typical of the movement's held-out windows (SSIM and skill)",
    "mse": "-MSE, prediction vs real",
    "motion_energy": "baseline: -distance to the nearest training window",
}


def plot_similarity(
    clip: object, measure: str, threshold: float, path: str | Path, title: str = ""
) -> Path:
    """A clip's per-window similarity against time, the windows that reach ``threshold`` shaded.

    ``clip``: a `convlstm_ae.movement.matching.ClipMatch` (window starts, similarities by
    ``measure``).
    """
    fig, ax = plt.subplots(figsize=(8, 3))
    values = clip.windows[measure]
    ax.plot(clip.start, values, color="tab:blue", lw=1.5, label=_SIMILARITY[measure])
    for i, (a, b) in enumerate(labels_to_spans(values >= threshold)):  # 1-based, inclusive
        ax.axvspan(clip.start[a - 1] - 0.5, clip.start[b - 1] + 0.5, color="tab:green", alpha=0.2,
                   label="movement recognised" if i == 0 else None)  # fmt: skip
    ax.axhline(threshold, color="k", ls="--", lw=1, label="threshold (held-out clips)")
    ax.set(xlabel="window start (frame)", ylabel=measure, title=title)
    ax.legend(loc="lower left", fontsize=8)
    return save_figure(fig, path)


def plot_similarity_overview(
    clips: list, trained: str, measure: str, threshold: float, path: str | Path
) -> Path:
    """Every clip's similarity curve, each movement in its own colour, the trained one first."""
    fig, ax = plt.subplots(figsize=(8, 4))
    movements = sorted({c.movement for c in clips}, key=lambda m: (m != trained, m))
    colours = dict(zip(movements, plt.get_cmap("tab10").colors, strict=False))
    for movement in movements:
        for i, clip in enumerate(c for c in clips if c.movement == movement):
            label = f"{movement}{' (trained)' if movement == trained else ''}" if i == 0 else None
            ax.plot(clip.start, clip.windows[measure], color=colours[movement], lw=1, label=label)
    ax.axhline(threshold, color="k", ls="--", lw=1, label="threshold")
    ax.set(xlabel="window start (frame)", ylabel=measure,
           title=f"{_SIMILARITY[measure]}, model of {trained}")  # fmt: skip
    ax.legend(loc="lower left", fontsize=8)
    return save_figure(fig, path)
