"""Testing any model that gives one output per frame: the names the notebooks call.

``get_test_data`` -> ``predict_test_data`` -> error maps -> e(t), s(t) -> red dots, videos,
regularity graphs -> ``quantify_performance`` (scores.csv, metrics.json, roc.png).
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from regularity.datasets.base import Color, Video
from regularity.marking import smooth_error_map, spot_irregularity
from regularity.media import generate_video, outline_masks
from regularity.metrics import dots_in_mask, eer, frame_auc, tpr_fpr, ucsd_pixel_hit
from regularity.plots import generate_regularity_graph, plot_roc
from regularity.preprocess import Normalizer, prepare_frames
from regularity.runs import peak_rss_mb, update_metrics
from regularity.scoring import (
    Aggregate,
    Channels,
    ErrorScale,
    abnormality_score,
    error_maps,
    error_weights,
    frame_difference_errors,
    frame_errors,
    smooth,
)
from regularity.windows import Target, window_indices


@dataclass
class InputSpec:
    """How a model's inputs are made from uint8 frames (saved in every run's config)."""

    size: tuple[int, int] = (256, 256)
    color: str = Color.GREY.value
    motion: bool = False

    def prepare(self, frames: np.ndarray) -> np.ndarray:
        """Prepared uint8 frames ``[N, H, W, C]`` for this spec."""
        return prepare_frames(frames, tuple(self.size), self.color, self.motion)


@dataclass
class ScoreSpec:
    """How error maps become frame scores, dots and decisions (no test labels involved)."""

    aggregate: str = Aggregate.SUM.value
    patch: int = 16
    scale: str = ErrorScale.GREY.value
    channels: str = Channels.ALL.value
    smooth_window: int = 9
    dot_sigma: float = 2.0
    pixel_percentile: float = 99.9
    frame_percentile: float = 99.0
    thresholds: dict = field(default_factory=dict)


def get_test_data(video: Video, spec: InputSpec, normalizer: Normalizer) -> np.ndarray:
    """A test video's frames resized, converted and scaled: float32 ``[N, H, W, C]``."""
    return normalizer.apply(spec.prepare(video.frames).astype(np.float32)).astype(np.float32)


def predict_test_data(
    model: object,
    frames: np.ndarray,
    length: int = 10,
    stride: int | None = None,
    batch_size: int = 8,
    target: Target | str = Target.SAME,
) -> tuple[np.ndarray, np.ndarray]:
    """One reconstruction or prediction per frame, aligned with the frames.

    Args:
        model: maps ``[B, T, H, W, C]`` windows to ``[B, T, H, W, C]`` reconstructions
            (`Target.SAME`) or to the next frame ``[B, H, W, C]`` (`Target.NEXT`, T = length).
        frames: scaled frames ``[N, H, W, C]`` (see `get_test_data`).
        length: window length the model takes.
        stride: frames between window starts for reconstruction (default ``length``);
            overlapping reconstructions of a frame are averaged and the last window ends on
            the last frame, so that every frame gets exactly one output.
        batch_size: windows per model call.
        target: `Target.SAME` (reconstruction) or `Target.NEXT` (prediction).

    Returns:
        ``outputs`` like ``frames``, and ``valid`` [N] bool: False for the first ``length``
        frames of a predictor, which it cannot produce (their outputs are copies of the input).

    """
    n = len(frames)
    target = Target(target)
    if target is Target.SAME:
        windows = window_indices(n, length, stride or length, cover_end=True)
        placed = windows
    else:
        windows = window_indices(n, length + 1, 1)
        placed = windows[:, -1:]
        windows = windows[:, :-1]
    total = np.zeros_like(frames, dtype=np.float32)
    count = np.zeros(n, dtype=np.float32)
    # Pad a short last batch only to a whole number per replica: padding to a full batch would
    # cost a quarter of the model calls on a typical 150-frame clip.
    replicas = getattr(getattr(model, "distribute_strategy", None), "num_replicas_in_sync", 1)
    for i in range(0, len(windows), batch_size):
        chunk = windows[i : i + batch_size]
        padded = np.concatenate([chunk, np.repeat(chunk[-1:], -len(chunk) % replicas, 0)])
        out = np.asarray(model.predict_on_batch(frames[padded]), np.float32)[: len(chunk)]
        out = out.reshape(len(chunk), -1, *frames.shape[1:])
        for where, window_out in zip(placed[i : i + batch_size], out, strict=True):
            # Fancy-index += is fast but drops repeats; only clips shorter than a window
            # repeat a frame inside one window, and those take the slow exact path.
            if len(np.unique(where)) == len(where):
                total[where] += window_out
                count[where] += 1
            else:
                np.add.at(total, where, window_out)
                np.add.at(count, where, 1)
    valid = count > 0
    outputs = np.where(
        valid[:, None, None, None], total / np.maximum(count, 1)[:, None, None, None], frames
    )
    return outputs.astype(np.float32), valid


def frame_scores(maps: np.ndarray, valid: np.ndarray, score: ScoreSpec) -> np.ndarray:
    """Smoothed e(t) of one video; frames a predictor cannot produce take the nearest value."""
    errors = frame_errors(maps, score.aggregate, score.patch)
    first = int(np.argmax(valid))
    errors[:first] = errors[first]
    return smooth(errors, score.smooth_window)


def normal_thresholds(
    model: object,
    clips: list[np.ndarray],
    normalizer: Normalizer,
    score: ScoreSpec,
    length: int,
    target: Target | str = Target.SAME,
    kind: str = "normal",
) -> dict:
    """Pixel and frame thresholds from normal clips (prepared uint8), no test labels.

    The pixel threshold is a high percentile of the smoothed error maps (red dots); the frame
    threshold a high percentile of the smoothed e(t) (TPR/FPR on raw scores). ``kind`` says in
    the recorded source which normal clips they were (e.g. "held-out normal").
    """
    pixels, frames = [], []
    for clip in clips:
        scaled = normalizer.apply(clip.astype(np.float32)).astype(np.float32)
        maps, errors, valid = score_frames(model, scaled, normalizer, score, length, target)
        pixels.append(np.stack([smooth_error_map(m, score.dot_sigma) for m in maps[valid]]).ravel())
        frames.append(errors)
    return {
        "pixel": float(np.percentile(np.concatenate(pixels), score.pixel_percentile)),
        "frame": float(np.percentile(np.concatenate(frames), score.frame_percentile)),
        "source": f"percentiles {score.pixel_percentile} (pixels) and {score.frame_percentile} "
        f"(frames) of {len(clips)} {kind} clips",
    }


@dataclass
class VideoResult:
    """What testing one video leaves behind (small: no frames, no maps)."""

    name: str
    labels: np.ndarray
    errors: np.ndarray
    baseline: np.ndarray
    localisation: dict = field(default_factory=dict)
    score_seconds: float = 0.0


def _localise(
    dots: list[np.ndarray], masks: np.ndarray, detections: list[np.ndarray], labels: np.ndarray
) -> dict:
    abnormal = np.flatnonzero(labels)
    inside = [dots_in_mask(dots[t], masks[t]) for t in abnormal]
    return {
        "dots": int(sum(len(i) for i in inside)),
        "dots_inside": int(sum(i.sum() for i in inside)),
        "frames": len(abnormal),
        "frames_with_dot_inside": int(sum(i.any() for i in inside)),
        "frames_40pct": int(sum(ucsd_pixel_hit(detections[t], masks[t]) for t in abnormal)),
    }


def score_frames(
    model: object,
    scaled: np.ndarray,
    normalizer: Normalizer,
    score: ScoreSpec,
    length: int = 10,
    target: Target | str = Target.SAME,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Error maps ``[N, H, W]``, smoothed e(t) and the valid-frame mask of scaled frames."""
    outputs, valid = predict_test_data(model, scaled, length, target=target)
    return *score_outputs(scaled, outputs, valid, normalizer, score), valid


def score_outputs(
    scaled: np.ndarray,
    outputs: np.ndarray,
    valid: np.ndarray,
    normalizer: Normalizer,
    score: ScoreSpec,
) -> tuple[np.ndarray, np.ndarray]:
    """Error maps and smoothed e(t) of a model's outputs (see `predict_test_data`)."""
    weights = error_weights(scaled.shape[1:], normalizer.std, score.scale, score.channels)
    maps = error_maps(scaled, outputs, weights)
    return maps, frame_scores(maps, valid, score)


def frame_aucs(
    model: object,
    scaled: list[np.ndarray],
    labels: list[np.ndarray],
    normalizer: Normalizer,
    specs: dict[str, ScoreSpec],
    length: int = 10,
    target: Target | str = Target.SAME,
) -> dict[str, dict]:
    """Frame AUC (`frame_auc`) of one model under several score specs, each video predicted once.

    Args:
        model: as for `predict_test_data`.
        scaled: scaled frames of each video (see `get_test_data`).
        labels: per video, True for abnormal frames.
        normalizer: the run's normaliser (the grey-level error scale needs its std).
        specs: score specs by name.
        length: window length the model takes.
        target: `Target.SAME` or `Target.NEXT`.

    """
    errors = {name: [] for name in specs}
    for x in scaled:
        outputs, valid = predict_test_data(model, x, length, target=target)
        for name, score in specs.items():
            errors[name].append(score_outputs(x, outputs, valid, normalizer, score)[1])
    return {name: frame_auc(errors[name], labels) for name in specs}


def test_video(
    model: object,
    video: Video,
    spec: InputSpec,
    normalizer: Normalizer,
    score: ScoreSpec,
    run_dir: str | Path,
    length: int = 10,
    target: Target | str = Target.SAME,
    write_video: bool = True,
    fps: float = 10.0,
) -> VideoResult:
    """Score one test video and write its marked video and regularity graph."""
    import cv2

    run_dir = Path(run_dir)
    original = video.frames  # decoded before the clock starts: scoring speed, not disk speed
    start = time.perf_counter()
    scaled = get_test_data(video, spec, normalizer)
    maps, errors, _ = score_frames(model, scaled, normalizer, score, length, target)
    score_seconds = time.perf_counter() - start
    marked, dots, detections = [], [], []
    for t, frame in enumerate(original):
        smoothed = smooth_error_map(maps[t], score.dot_sigma)
        image, frame_dots = spot_irregularity(frame, smoothed, score.thresholds["pixel"], sigma=0)
        marked.append(image)
        dots.append(frame_dots)
        if video.masks is not None:
            detected = smoothed > score.thresholds["pixel"]
            detections.append(
                cv2.resize(
                    detected.astype(np.uint8), frame.shape[1::-1], interpolation=cv2.INTER_NEAREST
                ).astype(bool)
            )
    marked = np.stack(marked)
    localisation = {}
    if video.masks is not None and video.labels is not None:
        marked = outline_masks(marked, video.masks)
        localisation = _localise(dots, video.masks, detections, video.labels)
    if write_video:
        generate_video(marked, run_dir / "videos" / video.name, fps=fps)
    labels = video.labels if video.labels is not None else np.zeros(len(original), bool)
    generate_regularity_graph(
        1 - abnormality_score(errors),
        run_dir / "graphs" / f"{video.name}.png",
        labels=labels,
        title=video.name,
    )
    baseline = frame_difference_errors(original)
    return VideoResult(video.name, labels, errors, baseline, localisation, score_seconds)


def quantify_performance(
    results: list[VideoResult], run_dir: str | Path, threshold: dict, **extra: object
) -> dict:
    """Frame AUC three ways, EER, TPR/FPR at the normal-data threshold, the baseline, pixels.

    Writes ``scores.csv`` (one row per frame), ``roc.png`` and merges into ``metrics.json``.
    """
    run_dir = Path(run_dir)
    labels = [r.labels for r in results]
    sa = [abnormality_score(r.errors) for r in results]
    with (run_dir / "scores.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["video", "frame", "label", "error", "score", "baseline"])
        for r, s in zip(results, sa, strict=True):
            for t in range(len(r.errors)):
                writer.writerow(
                    [
                        r.name,
                        t + 1,
                        int(r.labels[t]),
                        f"{r.errors[t]:.6g}",
                        f"{s[t]:.6f}",
                        f"{r.baseline[t]:.6g}",
                    ]
                )
    y = np.concatenate(labels)
    tpr, fpr = tpr_fpr(y, np.concatenate([r.errors for r in results]), threshold["frame"])
    plot_roc(
        {
            "model": (y, np.concatenate(sa)),
            "frame difference": (
                y,
                np.concatenate([abnormality_score(r.baseline) for r in results]),
            ),
        },
        run_dir / "roc.png",
    )
    loc = {
        k: sum(r.localisation.get(k, 0) for r in results)
        for k in ("dots", "dots_inside", "frames", "frames_with_dot_inside", "frames_40pct")
    }
    localisation = None
    if loc["frames"]:
        localisation = {
            "dots_inside_mask": loc["dots_inside"] / max(loc["dots"], 1),
            "frames_with_dot_inside": loc["frames_with_dot_inside"] / loc["frames"],
            "ucsd_pixel_40pct": loc["frames_40pct"] / loc["frames"],
        }
    return update_metrics(
        run_dir,
        frame_auc=frame_auc([r.errors for r in results], labels),
        eer=eer(y, np.concatenate(sa)) if 0 < y.sum() < len(y) else None,
        threshold={
            "value": threshold["frame"],
            "pixel": threshold["pixel"],
            "source": threshold["source"],
        },
        tpr=tpr,
        fpr=fpr,
        baseline={
            "name": "mean |I_t - I_t-1|, smoothed over 9 frames",
            "frame_auc": frame_auc([r.baseline for r in results], labels),
        },
        localisation=localisation,
        test_frames=int(len(y)),
        abnormal_frames=int(y.sum()),
        peak_rss_mb=round(peak_rss_mb()),
        **extra,
    )


def evaluate_run(
    run_dir: str | Path,
    model: object = None,
    dataset: object = None,
    write_videos: int | None = None,
    fps: float = 10.0,
) -> dict:
    """Test a trained run folder on its dataset's test split and write every result into it.

    Args:
        run_dir: a run folder holding ``config.json`` (with ``input``, ``score``, ``length``,
            ``target``, ``dataset``, ``data_root``), ``model.keras``, ``normalizer.npz`` and
            ``thresholds.json``.
        model: the model, if already in memory (otherwise ``model.keras`` is loaded).
        dataset: the dataset, if already open (otherwise opened from the config).
        write_videos: write marked videos for the first N test clips (None: all).
        fps: playback rate of the videos.

    Returns:
        The merged ``metrics.json``.

    """
    import keras

    from regularity.datasets import load_dataset
    from regularity.runs import read_json

    run_dir = Path(run_dir)
    config = read_json(run_dir / "config.json")
    model = model or keras.saving.load_model(run_dir / "model.keras")
    dataset = dataset or load_dataset(config["dataset"], root=config["data_root"])
    spec = InputSpec(**config["input"])
    thresholds = read_json(run_dir / "thresholds.json")
    score = ScoreSpec(**{**config["score"], "thresholds": thresholds})
    normalizer = Normalizer.load(run_dir / "normalizer.npz")
    # Untimed calls with a full and a short batch build both predict graphs first, so that
    # score_fps measures scoring rather than graph tracing (as decoding is left out too).
    warm_up = np.zeros((8 * config["length"] + 1, *spec.size, model.input_shape[-1]), np.float32)
    predict_test_data(model, warm_up, config["length"], target=config["target"])
    results = []
    start = time.perf_counter()
    for i, video in enumerate(tqdm(dataset.test, desc="testing", unit="video")):
        results.append(
            test_video(
                model,
                video,
                spec,
                normalizer,
                score,
                run_dir,
                config["length"],
                config["target"],
                write_video=write_videos is None or i < write_videos,
                fps=fps,
            )
        )
        video.release()
    seconds = time.perf_counter() - start
    return quantify_performance(
        results,
        run_dir,
        thresholds,
        dataset=config["dataset"],
        model=config["model"],
        score_fps=round(
            sum(len(r.errors) for r in results) / sum(r.score_seconds for r in results), 1
        ),
        test_seconds=round(seconds, 1),
        config=config,
    )
