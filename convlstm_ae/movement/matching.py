"""Does a clip perform a learned movement? How well a movement's predictor matches the clip.

A predictor of shifted sequences (`regularity.data.windows.Target.SHIFTED`) maps a window's frames
t..t+S-1 to its predictions of t+1..t+S. Within the window, prediction i has a real frame to
meet, input i+1, for i = 0..S-2; the last prediction has none there. A window's similarity is
the mean over those S-1 pairs, by SSIM and by MSE (reported as -MSE, so that higher means more
alike for both); a clip's score is the mean over its windows (every start). A model trained on
one movement matches that movement's clips better than others', so a high score says "this
clip performs the movement".

The decision threshold comes from held-out clips of the trained movement only: the
``percentile`` (default 5) of their window similarities, the level that 95% of the movement's
own unseen windows reach. The no-learning baseline scores windows the same way, by how close
their motion-energy image (Bobick & Davis 2001: where and how much the frames change, on a
coarse grid) comes to the nearest training window's, and goes through the same thresholds and
metrics.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from sklearn.metrics import roc_auc_score

from regularity.data.preprocess import Normalizer
from regularity.data.windows import WindowSpec, window_indices
from regularity.errors import DataError
from regularity.run.files import peak_rss_mb, read_json, update_metrics, write_json
from regularity.score.inference import scaled_frames
from regularity.score.metrics import eer
from regularity.score.quality import ssim

# The model's SSIM and -MSE; its SSIM gain over copying the previous frame, absolute and as a
# share of what copying leaves (a skill score); how typical of the trained movement's held-out
# windows a window is by both SSIM and skill (`MovementRun.typical`); the baseline's.
MEASURES = ("ssim", "mse", "ssim_gain", "ssim_skill", "typical", "motion_energy")
TYPICAL_OF = ("ssim", "ssim_skill")


def input_windows(n_frames: int, window: WindowSpec) -> np.ndarray:
    """Frame indices ``[W, S]`` of every window of S input frames (every start).

    The inputs of `WindowSpec.split`'s shifted windows, without the last target: matching
    compares predictions with input frames only, so that a clip's last frame is used too.
    """
    return window_indices(n_frames, window.inputs, 1, window.skip)


def paired_frames(inputs: np.ndarray, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predictions, real frames) to compare: prediction i against input i + 1, i < S - 1.

    >>> frames = np.arange(4)[None]  # one window of frames 0..3; prediction i is of i + 1
    >>> [a.tolist() for a in paired_frames(frames, frames + 1)]
    [[[1, 2, 3]], [[1, 2, 3]]]
    """
    return outputs[:, :-1], inputs[:, 1:]


def window_similarity(
    model: object,
    scaled: np.ndarray,
    normalizer: Normalizer,
    window: WindowSpec,
    batch_size: int = 8,
    keep_predictions: bool = False,
) -> dict[str, np.ndarray]:
    """SSIM and -MSE (grey levels) of every window of one clip's scaled frames ``[N, H, W, C]``.

    Returns ``{"start": first frame of each window, "ssim": ..., "mse": ...}`` (one value a
    window; none for a clip shorter than a window), and with ``keep_predictions`` the
    ``"predicted"`` frames ``[W, H, W, C]`` (uint8): each window's last compared prediction, of
    its frame ``start + (S - 1) * skip``, made with the most context.
    """
    windows = input_windows(len(scaled), window)
    # Copying frame j as the prediction of frame j + skip: each pair once, though windows share
    # them (pair j is in S - 1 windows).
    frames = _grey_or_colour(normalizer.invert(scaled))
    copied_by_pair = ssim(frames[window.skip :], frames[: -window.skip])
    similarity = {"ssim": [], "mse": [], "ssim_gain": [], "ssim_skill": [], "predicted": []}
    for i in range(0, len(windows), batch_size):
        batch = windows[i : i + batch_size]
        inputs = scaled[batch]
        outputs = np.asarray(model.predict_on_batch(inputs), np.float32)
        predicted, real = (normalizer.invert(a) for a in paired_frames(inputs, outputs))
        per_pair = ssim(_as_frames(real), _as_frames(predicted)).reshape(predicted.shape[:2])
        similarity["ssim"].append(per_pair.mean(axis=1))
        copy_pair = copied_by_pair[batch[:, :-1]]  # how alike the compared frames already are
        similarity["ssim_gain"].append((per_pair - copy_pair).mean(axis=1))
        # Forecasters' skill score: the share of copying's dissimilarity the model removes, so
        # that a slow movement's small gains count as much as a fast one's large ones.
        skill = (per_pair - copy_pair) / np.maximum(1.0 - copy_pair, 0.01)
        similarity["ssim_skill"].append(skill.mean(axis=1))
        similarity["mse"].append(-np.mean((real - predicted) ** 2, axis=(2, 3, 4)).mean(axis=1))
        if keep_predictions:
            similarity["predicted"].append(normalizer.to_uint8(outputs[:, -2]))
    result = {k: np.concatenate(v) if v else np.zeros(0) for k, v in similarity.items()}
    if not keep_predictions:
        result.pop("predicted")
    return {"start": windows[:, 0], **result}


def _grey_or_colour(frames: np.ndarray) -> np.ndarray:
    """Frames ``[N, H, W, C]`` as `regularity.score.quality.ssim` takes them (grey: no channel)."""
    return frames[..., 0] if frames.shape[-1] == 1 else frames


def _as_frames(pairs: np.ndarray) -> np.ndarray:
    """``[W, P, H, W, C]`` pairs as frames ``[W * P, H, W(, C)]`` (grey without a channel)."""
    return _grey_or_colour(pairs.reshape(-1, *pairs.shape[2:]))


def motion_energy_images(frames: np.ndarray, window: WindowSpec, grid: int = 8) -> np.ndarray:
    """Each window's motion-energy image: mean |frame change| on a ``grid`` x ``grid`` grid.

    ``frames``: uint8 ``[N, H, W]`` or ``[N, H, W, C]``. Returns ``[W, grid * grid]``.
    """
    frames = np.asarray(frames, np.float32)
    frames = frames.mean(axis=-1) if frames.ndim == 4 else frames
    windows = input_windows(len(frames), window)
    if not len(windows):
        return np.zeros((0, grid * grid), np.float32)
    # Each pair of frames (j, j + skip) once, on the grid (area averaging is linear: the mean
    # of the pairs' grids is the grid of their mean change), then averaged over each window's.
    change = np.abs(frames[window.skip :] - frames[: -window.skip])
    grids = np.stack([cv2.resize(c, (grid, grid), interpolation=cv2.INTER_AREA).ravel()
                      for c in change])  # fmt: skip
    return grids[windows[:, :-1]].mean(axis=1)


def nearest_similarity(reference: np.ndarray, descriptors: np.ndarray) -> np.ndarray:
    """Minus the distance from each descriptor to its nearest reference descriptor."""
    distances = np.linalg.norm(descriptors[:, None] - reference[None], axis=-1)
    return -distances.min(axis=1)


@dataclass
class ClipMatch:
    """One clip's per-window similarities by each measure, and its movement where known."""

    name: str
    movement: str | None
    start: np.ndarray
    windows: dict[str, np.ndarray] = field(default_factory=dict)
    frames: np.ndarray | None = None  # the prepared frames and each window's last compared
    predicted: np.ndarray | None = None  # prediction, where kept for a GIF

    def score(self, measure: str) -> float:
        """The clip's score by ``measure``: the mean over its windows."""
        return float(np.mean(self.windows[measure]))

    def performs(self, measure: str, threshold: float) -> bool:
        """Whether most of its windows reach ``threshold`` (a level set on held-out windows)."""
        return bool(np.median(self.windows[measure]) >= threshold)


def thresholds_of(held_out: list[ClipMatch], percentile: float) -> dict[str, float]:
    """Each measure's threshold: the ``percentile`` of the held-out clips' window values."""
    measures = held_out[0].windows
    return {
        m: float(np.percentile(np.concatenate([c.windows[m] for c in held_out]), percentile))
        for m in measures
    }


def match_figures(trained: str, clips: list[ClipMatch], thresholds: dict[str, float]) -> dict:
    """Clip-level ROC AUC (trained movement against all others and against each), EER, accuracy.

    The AUC and EER rank the clips' scores (mean window similarity). A clip "performs" the
    movement when most of its windows reach the threshold (`ClipMatch.performs`: the threshold
    is a level of single windows, so the decision is about windows too); accuracy, TPR and TNR
    count those decisions over the labelled clips.
    """
    positive = np.array([c.movement == trained for c in clips])
    movements = sorted({c.movement for c in clips} - {trained})
    figures = {}
    for measure, threshold in thresholds.items():
        scores = np.array([c.score(measure) for c in clips])
        decided = np.array([c.performs(measure, threshold) for c in clips])
        per_movement = {}
        for other in movements:
            keep = positive | np.array([c.movement == other for c in clips])
            per_movement[other] = float(roc_auc_score(positive[keep], scores[keep]))
        figures[measure] = {
            "auc": float(roc_auc_score(positive, scores)),
            "auc_per_movement": per_movement,
            "eer": eer(positive, scores),
            "threshold": threshold,
            "accuracy": float(np.mean(decided == positive)),
            "tpr": float(decided[positive].mean()),
            "tnr": float((~decided[~positive]).mean()),
        }
    return figures


def pooled_figures(runs: dict[str, list[ClipMatch]], measure: str) -> dict:
    """Every trained movement's clips pooled: positives are each model's own movement's clips."""
    labels = np.concatenate([[c.movement == m for c in clips] for m, clips in runs.items()])
    scores = np.concatenate([[c.score(measure) for c in clips] for clips in runs.values()])
    return {"auc": float(roc_auc_score(labels, scores)), "eer": eer(labels, scores)}


def write_clip_scores(clips: list[ClipMatch], thresholds: dict[str, float], path: Path) -> Path:
    """``clip_scores.csv``: each clip's movement, score by each measure and decision."""
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["clip", "movement", *thresholds, *(f"{m}_performs" for m in thresholds)])
        for c in clips:
            decisions = [int(c.performs(m, t)) for m, t in thresholds.items()]
            out.writerow([c.name, c.movement, *(c.score(m) for m in thresholds), *decisions])
    return path


class MovementRun:
    """A trained movement predictor's run folder, ready to match clips (`match_run`)."""

    def __init__(self, run_dir: str | Path) -> None:
        from regularity.run.config import read_run_json
        from regularity.run.evaluation import load_scorer
        from regularity.run.families import families

        self.run_dir = Path(run_dir)
        stored = read_run_json(self.run_dir)
        family = families().get(stored.get("model"))
        window = stored.get("window")
        if family is None or not isinstance(window, dict) or window.get("target") != "shifted":
            raise DataError(
                self.run_dir / "config.json",
                f"not a movement matcher's run (model {stored.get('model')!r}): matching needs a "
                "predictor of shifted sequences",
            )
        self.config = family.config.from_run(self.run_dir)
        self.percentile = float(getattr(self.config, "match_percentile", 5.0))
        self.measure = getattr(self.config, "match_measure", "ssim")  # what decides
        self.trained = self.config.dataset_options.get("normal", "?")
        self.model = load_scorer(self.run_dir)
        self.normalizer = Normalizer.load(self.run_dir / "normalizer.npz")
        self._reference = None
        self._match = None  # thresholds.json's "match", read or computed once

    def prepared(self, video: object) -> np.ndarray:
        """A clip's frames as the run's inputs (uint8, the run's size and colour)."""
        return self.config.input_spec().prepare(video.frames)

    def match(
        self, video: object, keep_predictions: bool = False, typical: bool = True
    ) -> ClipMatch:
        """The clip's windows by the model (SSIM, -MSE, gain, skill), and by the baseline.

        With ``typical``, also `MovementRun.typical` (which needs the held-out clips' figures).

        Raises:
            DataError: the clip is shorter than one window.

        """
        frames = self.prepared(video)
        window = self.config.window
        needed = (window.inputs - 1) * window.skip + 1
        if len(frames) < needed:
            raise DataError(
                video.source,
                f"{len(frames)} frames; one window needs {needed} ({window.inputs} frames, "
                f"{window.skip} apart)",
            )
        scaled = scaled_frames(frames, self.normalizer)
        result = window_similarity(
            self.model, scaled, self.normalizer, self.config.window,
            keep_predictions=keep_predictions,
        )  # fmt: skip
        start, predicted = result.pop("start"), result.pop("predicted", None)
        energy = motion_energy_images(frames, self.config.window)
        result["motion_energy"] = nearest_similarity(self.reference(), energy)
        if typical:
            result["typical"] = self.typical(result, self.held_out_statistics())
        kept = frames if keep_predictions else None
        return ClipMatch(video.name, video.meta.get("movement"), start, result, kept, predicted)

    @staticmethod
    def typical(windows: dict[str, np.ndarray], statistics: dict) -> np.ndarray:
        """How typical each window is of the held-out windows of the trained movement.

        The smaller of its SSIM and its skill, each standardised by the held-out windows' mean
        and standard deviation: a window of the movement is typical in both (a model of a fast
        movement renders a slow one's frames well, but does not add to copying them; a model of
        a slow one adds little to copying anything, but renders only its own poses well).
        """
        return np.min(
            [(windows[m] - statistics[m][0]) / statistics[m][1] for m in TYPICAL_OF], axis=0
        )

    def held_out_statistics(self) -> dict[str, list[float]]:
        """Mean and standard deviation of the held-out windows' `TYPICAL_OF` measures."""
        return self.match_thresholds()["held_out_statistics"]

    def reference(self) -> np.ndarray:
        """The baseline's motion-energy images of every training window.

        Computed from the training clips once and kept in the run folder
        (``motion_energy.npy``), so that a clip can be asked about without the dataset.
        """
        path = self.run_dir / "motion_energy.npy"
        if self._reference is None and path.is_file():
            self._reference = np.load(path)
        if self._reference is None:
            dataset = self.config.open_dataset()
            cut = self.config.held_out_start(len(dataset.train))
            self._reference = np.concatenate(
                [
                    motion_energy_images(self.prepared(v), self.config.window)
                    for v in dataset.train[:cut]
                ]  # fmt: skip
            )
            np.save(path, self._reference)
        return self._reference

    def thresholds(self) -> dict[str, float]:
        """Each measure's threshold from the held-out clips of the trained movement."""
        return {m: self.match_thresholds()[m] for m in MEASURES}

    def match_thresholds(self) -> dict:
        """``thresholds.json``'s ``"match"``: thresholds, held-out statistics and their source.

        Computed from the held-out clips once, kept in the file and in memory.
        """
        if self._match is not None:
            return self._match
        path = self.run_dir / "thresholds.json"
        stored = read_json(path) if path.is_file() else {}
        if not set(MEASURES) <= set(stored.get("match", {})):  # none yet, or from fewer measures
            videos = self.config.held_out_clips(self.config.open_dataset())
            held = [self.match(v, typical=False) for v in videos]
            statistics = {}
            for m in TYPICAL_OF:
                values = np.concatenate([c.windows[m] for c in held])
                statistics[m] = [float(values.mean()), float(max(values.std(), 1e-6))]
            for clip in held:
                clip.windows["typical"] = self.typical(clip.windows, statistics)
            stored["match"] = {
                "held_out_statistics": statistics,
                **thresholds_of(held, self.percentile),
                "source": f"percentile {self.percentile} of the windows of {len(held)} held-out "
                f"{self.trained} clip(s)",
            }
            write_json(path, stored)
        self._match = stored["match"]
        return self._match


def match_run(run_dir: str | Path, gifs: int = 1) -> tuple[dict, list[ClipMatch]]:
    """Match every test clip of a trained run; write curves, GIFs, scores and ``metrics.json``.

    Writes into the run folder ``clip_scores.csv``, ``similarity.png`` (every test clip's SSIM
    curve), ``curves/<clip>.png`` (recognised spans shaded) and, for the first ``gifs`` clips of
    the trained movement and of another, ``gifs/<clip>.gif`` (real | predicted next frames).
    Returns the ``matching`` part of ``metrics.json`` and every test clip's match.
    """
    from convlstm_ae.movement.plots import plot_similarity, plot_similarity_overview
    from regularity.show.media import write_gif

    run = MovementRun(run_dir)
    thresholds = run.thresholds()
    dataset = run.config.open_dataset()
    clips, shown, seconds = [], {True: 0, False: 0}, 0.0
    for video in dataset.test:
        own = video.meta.get("movement") == run.trained
        keep = shown[own] < gifs
        start = time.perf_counter()
        clip = run.match(video, keep_predictions=keep)
        seconds += time.perf_counter() - start
        clips.append(clip)
        title = f"{clip.name}: does it perform {run.trained}?"
        curve = run.run_dir / "curves" / f"{clip.name}.png"
        plot_similarity(clip, run.measure, thresholds[run.measure], curve, title)
        if keep:
            shown[own] += 1
            window = run.config.window
            real = clip.frames[clip.start + (window.inputs - 1) * window.skip]
            write_gif(np.concatenate([real, clip.predicted], axis=2),
                      run.run_dir / "gifs" / f"{clip.name}.gif", step=1)  # fmt: skip
    overview = run.run_dir / "similarity.png"
    plot_similarity_overview(clips, run.trained, run.measure, thresholds[run.measure], overview)
    write_clip_scores(clips, thresholds, run.run_dir / "clip_scores.csv")
    matching = {
        "trained_movement": run.trained,
        "measure": run.measure,
        "test_clips": len(clips),
        **match_figures(run.trained, clips, thresholds),
        "threshold_source": run.match_thresholds()["source"],
        "scoring_clips_per_s": round(len(clips) / seconds, 2),
    }
    update_metrics(run.run_dir, matching=matching, peak_rss_mb=round(peak_rss_mb()))
    return matching, clips


def does_it_perform(
    run_dir: str | Path, paths: list[str | Path], out_dir: str | Path | None = None
) -> list[dict]:
    """Answer, for each clip (video file, frame folder or frame strip), the matcher's question.

    Each answer holds the clip's score (mean window SSIM), the threshold, the verdict (most
    of its windows reach the threshold) and
    ``<out>/<folder>_<clip>.png``, its similarity curve with the recognised spans shaded
    (``out_dir`` default ``<run>_matched``); ``answers.json`` holds them all.
    """
    from convlstm_ae.movement.plots import plot_similarity
    from regularity.data.videos import open_video

    run = MovementRun(run_dir)
    threshold = run.thresholds()[run.measure]
    out_dir = Path(out_dir) if out_dir else run.run_dir.with_name(f"{run.run_dir.name}_matched")
    answers = []
    for path in paths:
        clip = run.match(open_video(path, run.config.color))
        score = clip.score(run.measure)
        name = f"{Path(path).parent.name}_{Path(path).stem}"  # strips share file names
        curve = plot_similarity(clip, run.measure, threshold, out_dir / f"{name}.png",
                                f"{Path(path).name}: {run.trained}?")  # fmt: skip
        answers.append({"clip": str(path), "movement": run.trained, "measure": run.measure,
                        "score": score,
                        "threshold": threshold, "performs": clip.performs(run.measure, threshold),
                        "curve": str(curve)})  # fmt: skip
    write_json(out_dir / "answers.json", {"run": str(run.run_dir), "answers": answers})
    return answers


def example_clips(config: object) -> list[str]:
    """One held-out test clip of each movement of a run's dataset (files to ask about)."""
    firsts = {}
    for video in config.open_dataset().test:
        firsts.setdefault(video.meta.get("movement"), video.source)
    return list(firsts.values())
