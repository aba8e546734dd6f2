"""From a model's per-frame output to scores: error maps, e(t), s(t), PSNR, smoothing.

The suite's definitions: ``D_t = (I_t - Î_t)^2`` per pixel; ``e(t)`` aggregates
``D_t`` over the frame; ``s(t) = 1 - (e - min e) / (max e - min e)`` within a video. ``D_t`` may be
taken on the model's input scale or back in grey levels (`ErrorScale`), over all channels or only
some of them: the frames, or the motion channels a motion input adds (`Channels`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np
from scipy.ndimage import uniform_filter, uniform_filter1d

from regularity.data.preprocess import MotionInput


class Aggregate(str, Enum):
    """How an error map becomes one number per frame."""

    SUM = "sum"  # Hasan et al. 2016, Chong & Tay 2017
    PATCH_MAX = "patch_max"  # the worst local patch: small irregular objects are not diluted
    # Each patch x patch cell's mean error as a z-score against that cell's statistics on the
    # normal clips, then the mean of the highest ``top_fraction`` of cells. Under perspective a
    # far cyclist is a few pixels and the near walkway always errs: each place is judged
    # against what is usual there, and a small object is not diluted by the whole frame.
    CELL_TOP = "cell_top"


class ErrorScale(str, Enum):
    """The units ``I_t - Î_t`` is measured in."""

    # Back in grey levels: every pixel weighs alike. Under per-pixel standardisation the input
    # scale divides by each pixel's training std, so any change where little ever moves (the
    # frame's quiet edges) outweighs a fast object on the busy walkway.
    GREY = "grey"
    INPUT = "input"  # the model's input scale


class Channels(str, Enum):
    """Which channels of a motion input (appearance, then each motion kind's) are scored."""

    ALL = "all"
    MOTION = "motion"  # every motion kind's channels
    APPEARANCE = "appearance"  # the frames themselves
    # one kind's channels, of a motion input that has it (`MotionInput.BOTH` has both)
    DIFFERENCE = "difference"
    FLOW = "flow"


class Measure(str, Enum):
    """What e(t) measures of a frame and its model output."""

    ERROR = "error"  # the aggregated squared error (Hasan et al. 2016; Chong & Tay 2017)
    # minus the PSNR in grey levels (Liu et al. 2018): the per-video min-max then gives their
    # anomaly score 1 - normalised PSNR
    PSNR = "psnr"


# How `ScoreSpec.flow_weight` fuses the flow in (`regularity.score.baselines.fused_errors`).
FLOW_RULES = ("standardised", "rarity")


@dataclass
class ScoreSpec:
    """How error maps become frame scores, dots and decisions (no test labels involved)."""

    aggregate: str = Aggregate.SUM.value
    patch: int = 16
    top_fraction: float = 0.1  # `Aggregate.CELL_TOP`: the share of cells e(t) averages
    scale: str = ErrorScale.GREY.value
    channels: str = Channels.ALL.value
    smooth_window: int = 9
    dot_sigma: float = 2.0
    pixel_percentile: float = 99.9
    frame_percentile: float = 99.0
    measure: str = Measure.ERROR.value
    # "": e(t) is the first score's (the error maps'); a name: that second scorer's e(t) is the
    # frame score instead (OCR-GAN's "ocr"), and the first score's is kept as "reconstruction".
    # Red dots and pixel figures always come from the error maps.
    frame_score: str = ""
    # > 0: e(t) becomes the frame score plus this weight times the optical flow's per-cell
    # e(t) (`regularity.score.baselines.fused_errors`), both standardised on the normal clips
    flow_weight: float = 0.0
    # How the two are fused: "standardised" (each by its normal mean and std, above) or
    # "rarity" (each read as its `normal_surprise` on the normal frames, added with the flow's
    # times ``flow_weight``: at 1, Fisher's method, as ``views`` fuse, no scale set by hand)
    flow_rule: str = "standardised"
    # Several views of the same outputs fused into e(t) by `fisher_fused`, each a dict of
    # `VIEW_FIELDS` over this spec's ({"channels": "appearance"}) and read against its own
    # normal frames (``thresholds["views"]``); this spec's own fields then give the red dots.
    views: list = field(default_factory=list)
    thresholds: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Checked when a config is made, not after an hour of training.
        for kind, value in (
            (Aggregate, self.aggregate),
            (ErrorScale, self.scale),
            (Channels, self.channels),
            (Measure, self.measure),
        ):
            kind(value)
        if Aggregate(self.aggregate) is Aggregate.CELL_TOP:
            if Measure(self.measure) is not Measure.ERROR or self.frame_score:
                raise ValueError(
                    "aggregate='cell_top' scores the error maps: it needs measure='error' and no "
                    f"second scorer as frame score (got measure={self.measure!r}, "
                    f"frame_score={self.frame_score!r})"
                )
            if not 0 < self.top_fraction <= 1:
                raise ValueError(f"top_fraction must be in (0, 1], got {self.top_fraction}")
        if self.flow_weight < 0:
            raise ValueError(f"flow_weight must be 0 or more, got {self.flow_weight}")
        if self.flow_rule not in FLOW_RULES:
            raise ValueError(f"flow_rule must be one of {FLOW_RULES}, got {self.flow_rule!r}")
        if self.views:
            if self.flow_weight or self.frame_score or Measure(self.measure) is not Measure.ERROR:
                raise ValueError(
                    "views fuse error maps' scores: they take measure='error', no frame_score "
                    f"and no flow_weight (got {self.measure!r}, {self.frame_score!r}, "
                    f"{self.flow_weight})"
                )
            for view in self.views:
                if not isinstance(view, dict) or not set(view) <= set(VIEW_FIELDS):
                    raise ValueError(f"a score view is a dict of {VIEW_FIELDS}, got {view!r}")
            self.views = [dict(view) for view in self.views]  # not the recipe's own dicts
            view_specs(self)  # each view checked as a spec of its own


# What a view of `ScoreSpec.views` may set: how one error map becomes e(t).
VIEW_FIELDS = ("channels", "scale", "aggregate", "patch", "top_fraction", "smooth_window")


def view_specs(score: ScoreSpec) -> list[ScoreSpec]:
    """Each of ``score.views`` as a spec of its own, with its normal statistics where derived.

    Statistics derived for other views than these (the views changed since) are not used: each
    view then has none, and scoring asks for them to be derived again (`score_outputs`).
    """
    derived = score.thresholds.get("views") or []
    if [kept.get("view") for kept in derived] != score.views:
        derived = [{}] * len(score.views)
    specs = []
    for i, (view, kept) in enumerate(zip(score.views, derived, strict=True)):
        try:
            specs.append(replace(score, views=[], thresholds=kept, **view))
        except ValueError as error:
            raise ValueError(f"score.views[{i}]: {error}") from error
    return specs


def normal_frames(errors: Iterable[np.ndarray]) -> np.ndarray:
    """Every normal frame's score, sorted: what `normal_surprise` reads a score against."""
    return np.sort(np.concatenate(list(errors)))


def by_cell(score: ScoreSpec) -> bool:
    """Whether e(t) compares cells with their statistics on normal clips (`Aggregate.CELL_TOP`)."""
    return Aggregate(score.aggregate) is Aggregate.CELL_TOP


def summed(score: ScoreSpec) -> ScoreSpec:
    """What a spec's normal clips are scored with first: a per-cell e(t) waits for its cells."""
    return replace(score, aggregate=Aggregate.SUM.value) if by_cell(score) else score


def per_cell_scored(
    pooled: list[np.ndarray], valid: list[np.ndarray], score: ScoreSpec
) -> tuple[dict, list[np.ndarray]]:
    """Normal clips' cell statistics and their per-cell e(t), from `cell_means` of their maps."""
    cells = cell_statistics(p[v] for p, v in zip(pooled, valid, strict=True))
    return cells, [
        smoothed_scores(top_cell_errors(p, cells, score.top_fraction), v, score)
        for p, v in zip(pooled, valid, strict=True)
    ]


def error_weights(
    shape: tuple[int, int, int],
    std: np.ndarray | float = 1.0,
    scale: ErrorScale | str = ErrorScale.INPUT,
    channels: Channels | str = Channels.ALL,
    motion: bool | str = True,
) -> np.ndarray:
    """Per-pixel, per-channel factors on ``I_t - Î_t`` (see `error_maps`).

    Args:
        shape: ``(H, W, C)`` of the frames.
        std: the normaliser's std (per pixel or one number): the input scale's unit in grey levels.
        scale: `ErrorScale.GREY` multiplies by ``std``; `ErrorScale.INPUT` leaves the input scale.
        channels: any but `Channels.ALL` zero the channels of a motion input it does not name.
        motion: the input's `MotionInput`, which says which channels hold what.

    >>> error_weights((1, 1, 2), np.array([[[2.0, 4.0]]]), "grey", "motion").tolist()
    [[[0.0, 4.0]]]
    >>> error_weights((1, 1, 3), 1.0, "input", "flow", motion="both").tolist()
    [[[0.0, 0.0, 1.0]]]

    """
    weights = np.ones(shape, np.float32)
    if ErrorScale(scale) is ErrorScale.GREY:
        weights = weights * np.asarray(std, np.float32)
    channels = Channels(channels)
    if channels is Channels.ALL:
        return weights
    groups = channel_groups(motion)
    if len(groups) == 1:
        raise ValueError(
            f"channels={channels.value!r} needs a motion input (appearance and motion "
            f"channels), got {shape[-1]} channel(s) and motion={motion!r}"
        )
    if shape[-1] % len(groups) or shape[-1] // len(groups) not in (1, 3):
        raise ValueError(
            f"channels={channels.value!r}: {shape[-1]} channel(s) are not the {len(groups)} "
            f"groups of grey or RGB channels of a motion input with motion={motion!r}"
        )
    if channels not in (Channels.MOTION, *groups):
        names = ", ".join(repr(g.value) for g in groups)
        raise ValueError(f"channels={channels.value!r}: this input's channels are {names}")
    scored = [
        g is channels or (channels is Channels.MOTION and g is not Channels.APPEARANCE)
        for g in groups
    ]
    return weights * np.repeat(np.asarray(scored, np.float32), shape[-1] // len(groups))


def channel_groups(motion: bool | str) -> list[Channels]:
    """The groups of a prepared frame's channels, in order: the frames, then each motion kind.

    >>> [group.value for group in channel_groups("both")]
    ['appearance', 'difference', 'flow']
    """
    return [Channels.APPEARANCE, *(Channels(k.value) for k in MotionInput.of(motion).kinds)]


def error_maps(
    frames: np.ndarray, outputs: np.ndarray, weights: np.ndarray | float = 1.0
) -> np.ndarray:
    """Squared error per pixel, summed over channels: ``[N, H, W, C]`` pairs -> ``[N, H, W]``.

    ``weights`` (from `error_weights`) multiply ``I_t - Î_t`` before squaring.
    """
    diff = np.asarray(frames, np.float32) - np.asarray(outputs, np.float32)
    squared = np.square(diff * weights)
    return squared.sum(axis=-1) if squared.ndim == 4 else squared


def frame_errors(
    maps: np.ndarray,
    aggregate: Aggregate | str = Aggregate.SUM,
    patch: int = 16,
    cells: dict | None = None,
    top_fraction: float = 0.1,
) -> np.ndarray:
    """e(t) from error maps ``[N, H, W]``.

    Args:
        maps: error maps.
        aggregate: `Aggregate.SUM` over all pixels; `Aggregate.PATCH_MAX`: the largest mean
            over ``patch`` x ``patch`` windows, times the patch area (so it reads as a sum);
            `Aggregate.CELL_TOP`: `top_cell_errors` against ``cells``.
        patch: side of the local window (the cell).
        cells: `cell_statistics` of normal clips' maps (`Aggregate.CELL_TOP` only).
        top_fraction: the share of cells `Aggregate.CELL_TOP` averages.

    >>> m = np.zeros((1, 8, 8)); m[0, :2, :2] = 1.0
    >>> frame_errors(m).tolist(), frame_errors(m, "patch_max", 2).tolist()
    ([4.0], [4.0])

    """
    maps = np.asarray(maps, np.float64)
    aggregate = Aggregate(aggregate)
    if aggregate is Aggregate.SUM:
        return maps.reshape(len(maps), -1).sum(axis=1)
    if aggregate is Aggregate.CELL_TOP:
        if not cells:
            raise ValueError(
                "the cell_top score needs each cell's statistics on normal clips: derive the "
                "run's thresholds again (`python -m regularity evaluate RUN --set "
                "score.aggregate=cell_top`)"
            )
        return top_cell_errors(cell_means(maps, patch), cells, top_fraction)
    local = uniform_filter(maps, size=(1, patch, patch), mode="constant")
    return local.reshape(len(maps), -1).max(axis=1) * patch * patch


def cell_means(maps: np.ndarray, cell: int) -> np.ndarray:
    """Mean of each ``cell`` x ``cell`` block: ``[N, H, W]`` -> ``[N, H // cell, W // cell]``.

    Rows and columns past the last whole cell are left out.

    >>> cell_means(np.arange(16.0).reshape(1, 4, 4), 2).tolist()
    [[[2.5, 4.5], [10.5, 12.5]]]
    """
    n, height, width = maps.shape
    rows, cols = height // cell, width // cell
    if not rows or not cols:
        raise ValueError(f"cells of {cell} pixels do not fit in {height}x{width} maps")
    blocks = np.asarray(maps)[:, : rows * cell, : cols * cell]
    # Summed in float64 one axis at a time: no float64 copy of the maps, half the time.
    sums = blocks.reshape(n, rows, cell, cols, cell).sum(axis=4, dtype=np.float64)
    return sums.sum(axis=2) / (cell * cell)


def cell_statistics(pooled: Iterable[np.ndarray]) -> dict:
    """Each cell's mean and std over normal frames (`cell_means` of normal clips' maps).

    The std is floored at a thousandth of the whole frame's std: a cell where nothing ever
    moves on the normal clips would otherwise turn any speck there into the frame's score.

    >>> stats = cell_statistics([np.array([[[1.0, 0.0]], [[3.0, 0.0]]])])
    >>> stats["mean"], [round(s, 3) for s in stats["std"][0]]
    ([[2.0, 0.0]], [1.0, 0.001])
    """
    every = np.concatenate(list(pooled))
    floor = max(1e-3 * float(every.std()), 1e-6)
    return {
        "mean": every.mean(axis=0).tolist(),
        "std": np.maximum(every.std(axis=0), floor).tolist(),
    }


def top_cell_errors(pooled: np.ndarray, cells: dict, top_fraction: float = 0.1) -> np.ndarray:
    """Mean of the highest ``top_fraction`` of a frame's cell z-scores, per frame.

    >>> stats = {"mean": [[0.0, 0.0]], "std": [[1.0, 2.0]]}
    >>> top_cell_errors(np.array([[[1.0, 4.0]]]), stats, 0.5).tolist()
    [2.0]
    """
    mean, std = np.asarray(cells["mean"]), np.asarray(cells["std"])
    if mean.shape != pooled.shape[1:]:
        raise ValueError(
            f"cell statistics of a {mean.shape} grid, maps of a {pooled.shape[1:]} grid: the "
            "frame size or patch changed since the thresholds were derived"
        )
    z = ((pooled - mean) / std).reshape(len(pooled), -1)
    top = max(1, round(top_fraction * z.shape[1]))
    return np.sort(z, axis=1)[:, -top:].mean(axis=1)


def minmax(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] within one video (a constant video gives zeros).

    >>> minmax(np.array([2.0, 4.0, 3.0])).tolist()
    [0.0, 1.0, 0.5]
    """
    values = np.asarray(values, np.float64)
    span = values.max() - values.min()
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


def normal_surprise(values: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """-log of the share of normal frames scoring at least as high as each value.

    ``normal``: the score on every normal frame, sorted. The share counts one pseudo-frame
    above everything (add-one), so that a value above every normal frame reads
    ``log(n + 1)``, not infinity: a score's tail beyond what normal footage shows carries no
    more weight than its rank, which keeps one spike from setting a clip's whole scale.

    >>> normal_surprise(np.array([0.0, 2.5, 9.0]), np.array([1.0, 2.0, 3.0])).round(3).tolist()
    [0.0, 0.693, 1.386]
    """
    count = len(normal)
    at_least = count - np.searchsorted(normal, np.asarray(values, np.float64), side="left")
    return np.log((count + 1) / (at_least + 1))


def fisher_fused(errors: Iterable[np.ndarray], normals: Iterable[np.ndarray]) -> np.ndarray:
    """Several scores of the same frames as one: Fisher's sum of their `normal_surprise`.

    Each score is read against its own normal frames (``normals``, each sorted), so no weight
    is set by hand or by labels: a frame is as irregular as it is rare under each score.

    >>> fisher_fused([np.array([0.0, 9.0]), np.array([9.0, 9.0])],
    ...              [np.array([1.0, 2.0, 3.0])] * 2).round(3).tolist()
    [1.386, 2.773]
    """
    return sum(normal_surprise(e, n) for e, n in zip(errors, normals, strict=True))


def fisher_fused_clips(
    clips_by_score: Iterable[Iterable[np.ndarray]], normals: Iterable[np.ndarray]
) -> list[np.ndarray]:
    """`fisher_fused` clip by clip: ``clips_by_score[i][c]`` is score i's e(t) of clip c.

    ``normals``: each score's normal frames, sorted (`normal_frames`).

    >>> fisher_fused_clips([[np.array([0.0]), np.array([9.0])]], [np.array([1.0, 2.0])])
    [array([0.]), array([1.09861229])]
    """
    normals = list(normals)
    return [fisher_fused(clip, normals) for clip in zip(*clips_by_score, strict=True)]


def abnormality_score(errors: np.ndarray) -> np.ndarray:
    """sa(t) = (e(t) - min e) / (max e - min e) within a video."""
    return minmax(errors)


def regularity_score(errors: np.ndarray) -> np.ndarray:
    """s(t) = 1 - sa(t): 1 for the most regular frame of the video, 0 for the least."""
    return 1.0 - abnormality_score(errors)


def smooth(values: np.ndarray, window: int = 9) -> np.ndarray:
    """Centred moving average over ``window`` frames (edges repeat the end values)."""
    if window <= 1:
        return np.asarray(values, np.float64)
    return uniform_filter1d(np.asarray(values, np.float64), size=window, mode="nearest")


def psnr(frames: np.ndarray, outputs: np.ndarray, peak: float) -> np.ndarray:
    """PSNR per frame, ``10 log10(peak^2 / mse_t)``, for ``[N, ...]`` pairs.

    >>> psnr(np.zeros((1, 2, 2)), np.full((1, 2, 2), 0.1), peak=1.0).round(6).tolist()
    [20.0]
    """
    diff = np.asarray(frames, np.float64) - np.asarray(outputs, np.float64)
    return psnr_of_mse(np.square(diff).reshape(len(diff), -1).mean(axis=1), peak)


def psnr_of_mse(mse: np.ndarray, peak: float) -> np.ndarray:
    """``10 log10(peak^2 / mse)``, the mse floored at 1e-12 (identical frames stay finite)."""
    return 10 * np.log10(peak**2 / np.maximum(mse, 1e-12))


def psnr_abnormality(psnr_values: np.ndarray) -> np.ndarray:
    """Liu et al. 2018: anomaly = 1 - PSNR min-max normalised within the video.

    >>> psnr_abnormality(np.array([30.0, 20.0, 25.0])).tolist()
    [0.0, 1.0, 0.5]
    """
    return 1.0 - minmax(psnr_values)


def frame_scores(maps: np.ndarray, valid: np.ndarray, score: ScoreSpec) -> np.ndarray:
    """Smoothed e(t) of one video; frames no output covers take the nearest covered frame's."""
    if Measure(score.measure) is Measure.PSNR:
        errors = -psnr_of_mse(maps.reshape(len(maps), -1).mean(axis=1), 255.0)
    else:
        errors = frame_errors(
            maps, score.aggregate, score.patch, score.thresholds.get("cells"), score.top_fraction
        )
    return smoothed_scores(errors, valid, score)


def smoothed_scores(values: np.ndarray, valid: np.ndarray, score: ScoreSpec) -> np.ndarray:
    """Per-frame e(t) with uncovered frames filled (`fill_uncovered`), then smoothed."""
    return smooth(fill_uncovered(values, valid), score.smooth_window)


def fill_uncovered(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per-frame values where frames no output covers take the nearest covered frame's.

    >>> fill_uncovered(np.array([0.0, 0.0, 3.0, 4.0]), np.array([False, False, True, True]))
    array([3., 3., 3., 4.])
    """
    covered = np.flatnonzero(valid)
    if 0 < len(covered) < len(values):  # the first frames of a predictor, gaps of a stride
        frames = np.arange(len(values))
        after = covered[np.minimum(np.searchsorted(covered, frames), len(covered) - 1)]
        before = covered[np.maximum(np.searchsorted(covered, frames, side="right") - 1, 0)]
        values = values[np.where(frames - before <= after - frames, before, after)]
    return values


def critic_errors(logits: np.ndarray, valid: np.ndarray, score: ScoreSpec) -> np.ndarray:
    """e(t) of a critic that gives each frame a "normal" logit (ALOCC's D(G(X))): its negative.

    Smoothed and filled like `frame_scores`, so that both scores of a run are compared alike.
    """
    return smoothed_scores(-np.asarray(logits, np.float64), valid, score)


def score_outputs(
    scaled: np.ndarray,
    outputs: np.ndarray,
    valid: np.ndarray,
    std: np.ndarray | float,
    score: ScoreSpec,
    motion: bool | str = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Error maps and smoothed e(t) of a model's outputs on scaled frames.

    With ``score.views``, e(t) is instead `fisher_fused` over each view's smoothed e(t), read
    against ``score.thresholds["views"]`` (each view's sorted normal e(t), and its cell
    statistics for a per-cell view); the maps stay this spec's own (the red dots).

    ``std`` is the normaliser's: one unit of the input scale in grey levels; ``motion`` the
    input's `MotionInput` (which channels hold what, for ``score.channels``). The PSNR measure
    is always taken in grey levels (peak 255), whatever ``score.scale``, over the channels that
    ``score.channels`` scores (``"appearance"`` for the predicted frame of a motion input).
    """
    psnr_measure = Measure(score.measure) is Measure.PSNR
    scale = ErrorScale.GREY if psnr_measure else score.scale
    weights = error_weights(scaled.shape[1:], std, scale, score.channels, motion)
    maps = error_maps(scaled, outputs, weights)
    if score.views:
        views = view_specs(score)
        if not all("normal" in view.thresholds for view in views):
            raise ValueError(
                "the thresholds hold no normal statistics for these score views: derive them "
                "again (`python -m regularity evaluate RUN --set "
                f"'score.views={json.dumps(score.views)}'`)"
            )
        errors = (score_outputs(scaled, outputs, valid, std, view, motion)[1] for view in views)
        return maps, fisher_fused(errors, [np.asarray(v.thresholds["normal"]) for v in views])
    if psnr_measure:  # a mean squared error per channel scored, as PSNR is defined
        scored = int((np.reshape(weights, (-1, scaled.shape[-1])) != 0).any(axis=0).sum())
        return maps, frame_scores(maps / max(scored, 1), valid, score)
    return maps, frame_scores(maps, valid, score)
