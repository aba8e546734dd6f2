"""OCR-GAN Video's figures: the frequency split of a frame and the fusion's attention maps."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from gan.ocr.model import generator_of, mean_attention
from regularity.data.preprocess import Normalizer
from regularity.run.config import RunConfig
from regularity.score.inference import get_test_data
from regularity.show.plots import save_figure


def plot_attention_maps(maps: dict[str, np.ndarray], path: str | Path) -> Path:
    """T x T attention matrices side by side (row t: how frame t attends to each frame)."""
    fig, axes = plt.subplots(1, len(maps), figsize=(4 * len(maps), 3.8), squeeze=False)
    # One colour scale over the maps' own range (uniform attention, 1/T, would be one flat colour).
    low = min(float(np.min(m)) for m in maps.values())
    top = max(float(np.max(m)) for m in maps.values())
    for ax, (title, matrix) in zip(axes[0], maps.items(), strict=True):
        image = ax.imshow(matrix, cmap="viridis", vmin=low, vmax=max(top, low + 1e-9))
        ax.set(title=title, xlabel="attended frame", ylabel="frame")
    steps = len(next(iter(maps.values())))
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8,
                 label=f"attention (uniform: 1/{steps} = {1 / steps:.4f})")  # fmt: skip
    return save_figure(fig, path)


def plot_frequency_split(frame: np.ndarray, path: str | Path) -> Path:
    """A frame, its Laplacian detail and its low-frequency residual (`LaplacianSplit`)."""
    from gan.ocr.layers import laplacian_split

    lap, res = laplacian_split(np.asarray(frame, np.float32)[None])
    panels = {"frame": frame, "lap (detail)": lap[0], "res (low frequencies)": res[0]}
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    for ax, (title, image) in zip(axes, panels.items(), strict=True):
        ax.imshow(np.asarray(image, np.float32)[..., 0], cmap="gray")
        ax.set(title=title, xticks=[], yticks=[])
    return save_figure(fig, path)


def attention_windows(run_dir: str | Path) -> dict[str, np.ndarray]:
    """A normal and an abnormal test window of a run (scaled), for showing its attention.

    Normal: the first window of T frames with no abnormal frame; abnormal: the first with
    every frame abnormal (else the one with the most abnormal frames), from the labelled test
    videos. Labels pick the windows to show, nothing else.
    """
    config = RunConfig.from_run(run_dir)
    normalizer = Normalizer.load(Path(run_dir) / "normalizer.npz")
    steps, found, most = config.window.inputs, {}, 0
    for video in config.open_dataset().test:
        if video.labels is None or len(video.labels) < steps:
            continue
        counts = np.convolve(video.labels.astype(int), np.ones(steps, int), "valid")
        take = {}
        if "normal" not in found and (counts == 0).any():
            take["normal"] = int(np.argmax(counts == 0))
        if counts.max() > most:
            take["abnormal"], most = int(np.argmax(counts)), int(counts.max())
        if take:
            scaled = get_test_data(video, config.input_spec(), normalizer)
            for kind, start in take.items():
                found[kind] = scaled[start : start + steps]
        video.release()
        if "normal" in found and most == steps:
            break
    return found


def plot_run_attention(run_dir: str | Path, path: str | Path | None = None) -> Path:
    """``attention.png``: the fusion's T x T attention of a normal and an abnormal window."""
    from gan.ocr.plots import plot_attention_maps
    from regularity.run.evaluation import load_scorer

    generator = generator_of(load_scorer(run_dir))
    if "attention" not in generator.output:
        raise ValueError(f"{run_dir}: trained without temporal fusion: no attention to show")
    windows = attention_windows(run_dir)
    maps = {
        f"{kind} window": mean_attention(generator, window[None])[0]
        for kind, window in windows.items()
    }
    return plot_attention_maps(maps, path or Path(run_dir) / "attention.png")
