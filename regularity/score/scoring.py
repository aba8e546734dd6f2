"""From a model's per-frame output to scores: error maps, e(t), s(t), PSNR, smoothing.

The suite's definitions: ``D_t = (I_t - Î_t)^2`` per pixel; ``e(t)`` aggregates
``D_t`` over the frame; ``s(t) = 1 - (e - min e) / (max e - min e)`` within a video. ``D_t`` may be
taken on the model's input scale or back in grey levels (`ErrorScale`), over all channels or only
the motion channels a motion input adds (`Channels`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from scipy.ndimage import uniform_filter, uniform_filter1d

from regularity.data.preprocess import absolute_difference


class Aggregate(str, Enum):
    """How an error map becomes one number per frame."""

    SUM = "sum"  # Hasan et al. 2016, Chong & Tay 2017
    PATCH_MAX = "patch_max"  # the worst local patch: small irregular objects are not diluted


class ErrorScale(str, Enum):
    """The units ``I_t - Î_t`` is measured in."""

    # Back in grey levels: every pixel weighs alike. Under per-pixel standardisation the input
    # scale divides by each pixel's training std, so any change where little ever moves (the
    # frame's quiet edges) outweighs a fast object on the busy walkway.
    GREY = "grey"
    INPUT = "input"  # the model's input scale


class Channels(str, Enum):
    """Which channels of a motion input (appearance, then ``|I_t - I_{t-1}|``) are scored."""

    ALL = "all"
    MOTION = "motion"  # the second half: the motion channels
    APPEARANCE = "appearance"  # the first half: the frames themselves


class Measure(str, Enum):
    """What e(t) measures of a frame and its model output."""

    ERROR = "error"  # the aggregated squared error (Hasan et al. 2016; Chong & Tay 2017)
    # minus the PSNR in grey levels (Liu et al. 2018): the per-video min-max then gives their
    # anomaly score 1 - normalised PSNR
    PSNR = "psnr"


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
    measure: str = Measure.ERROR.value
    # "": e(t) is the first score's (the error maps'); a name: that second scorer's e(t) is the
    # frame score instead (OCR-GAN's "ocr"), and the first score's is kept as "reconstruction".
    # Red dots and pixel figures always come from the error maps.
    frame_score: str = ""
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


def error_weights(
    shape: tuple[int, int, int],
    std: np.ndarray | float = 1.0,
    scale: ErrorScale | str = ErrorScale.INPUT,
    channels: Channels | str = Channels.ALL,
) -> np.ndarray:
    """Per-pixel, per-channel factors on ``I_t - Î_t`` (see `error_maps`).

    Args:
        shape: ``(H, W, C)`` of the frames.
        std: the normaliser's std (per pixel or one number): the input scale's unit in grey levels.
        scale: `ErrorScale.GREY` multiplies by ``std``; `ErrorScale.INPUT` leaves the input scale.
        channels: `Channels.MOTION` or `APPEARANCE` zero the other half of a motion input.

    >>> error_weights((1, 1, 2), np.array([[[2.0, 4.0]]]), "grey", "motion").tolist()
    [[[0.0, 4.0]]]

    """
    weights = np.ones(shape, np.float32)
    if ErrorScale(scale) is ErrorScale.GREY:
        weights = weights * np.asarray(std, np.float32)
    channels = Channels(channels)
    if channels is not Channels.ALL:
        if shape[-1] % 2:
            raise ValueError(
                f"channels={channels.value!r} needs a motion input (appearance and motion "
                f"channels), got {shape[-1]} channel(s)"
            )
        half = shape[-1] // 2
        weights[..., half:] *= channels is Channels.MOTION
        weights[..., :half] *= channels is Channels.APPEARANCE
    return weights


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
    maps: np.ndarray, aggregate: Aggregate | str = Aggregate.SUM, patch: int = 16
) -> np.ndarray:
    """e(t) from error maps ``[N, H, W]``.

    Args:
        maps: error maps.
        aggregate: `Aggregate.SUM` over all pixels, or `Aggregate.PATCH_MAX`: the largest mean
            over ``patch`` x ``patch`` windows, times the patch area (so it reads as a sum).
        patch: side of the local window.

    >>> m = np.zeros((1, 8, 8)); m[0, :2, :2] = 1.0
    >>> frame_errors(m).tolist(), frame_errors(m, "patch_max", 2).tolist()
    ([4.0], [4.0])

    """
    maps = np.asarray(maps, np.float64)
    if Aggregate(aggregate) is Aggregate.SUM:
        return maps.reshape(len(maps), -1).sum(axis=1)
    local = uniform_filter(maps, size=(1, patch, patch), mode="constant")
    return local.reshape(len(maps), -1).max(axis=1) * patch * patch


def minmax(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] within one video (a constant video gives zeros).

    >>> minmax(np.array([2.0, 4.0, 3.0])).tolist()
    [0.0, 1.0, 0.5]
    """
    values = np.asarray(values, np.float64)
    span = values.max() - values.min()
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


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


def frame_difference_errors(frames: np.ndarray, window: int = 9) -> np.ndarray:
    """The no-learning baseline: mean |I_t - I_{t-1}| per frame, smoothed over ``window``."""
    diff = absolute_difference(frames)
    return smooth(diff.reshape(len(diff), -1).mean(axis=1), window)


def frame_scores(maps: np.ndarray, valid: np.ndarray, score: ScoreSpec) -> np.ndarray:
    """Smoothed e(t) of one video; frames no output covers take the nearest covered frame's."""
    if Measure(score.measure) is Measure.PSNR:
        errors = -psnr_of_mse(maps.reshape(len(maps), -1).mean(axis=1), 255.0)
    else:
        errors = frame_errors(maps, score.aggregate, score.patch)
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
) -> tuple[np.ndarray, np.ndarray]:
    """Error maps and smoothed e(t) of a model's outputs on scaled frames.

    ``std`` is the normaliser's: one unit of the input scale in grey levels. The PSNR measure
    is always taken in grey levels (peak 255), whatever ``score.scale``, over the channels that
    ``score.channels`` scores (``"appearance"`` for the predicted frame of a motion input).
    """
    psnr_measure = Measure(score.measure) is Measure.PSNR
    scale = ErrorScale.GREY if psnr_measure else score.scale
    weights = error_weights(scaled.shape[1:], std, scale, score.channels)
    maps = error_maps(scaled, outputs, weights)
    if psnr_measure:  # a mean squared error per channel scored, as PSNR is defined
        scored = int((np.reshape(weights, (-1, scaled.shape[-1])) != 0).any(axis=0).sum())
        return maps, frame_scores(maps / max(scored, 1), valid, score)
    return maps, frame_scores(maps, valid, score)
