"""No-learning baselines: how much of a test split plain motion already explains.

Each baseline turns a clip's frames into motion maps (``|I_t - I_{t-1}|`` or the speed of a
dense optical flow) and e(t) the way a model's error maps become one (`frame_errors`): summed
over the frame, or per cell against that cell's statistics on the normal training clips
(`Aggregate.CELL_TOP`). A learned model earns its place only ahead of the strongest of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

import numpy as np

from regularity.data.base import Color, convert_color
from regularity.data.preprocess import absolute_difference, flow_magnitude, prepare_frames
from regularity.score.scoring import (
    Aggregate,
    cell_means,
    cell_statistics,
    fisher_fused_clips,
    normal_frames,
    normal_surprise,
    smooth,
    top_cell_errors,
)


class Motion(str, Enum):
    """What a baseline measures between consecutive frames."""

    DIFFERENCE = "difference"  # |I_t - I_{t-1}| in grey levels
    FLOW = "flow"  # DIS optical flow speed, pixels per frame


@dataclass(frozen=True)
class MotionBaseline:
    """One no-learning baseline: a motion map, aggregated like a model's error maps."""

    name: str
    motion: str
    aggregate: str = Aggregate.SUM.value
    # Chosen on dev/ped1 (docs/experiments.md): 8-pixel cells at the clip's own size, the top
    # 10 % of cells.
    patch: int = 8
    top_fraction: float = 0.1
    smooth_window: int = 9

    def describe(self) -> str:
        """The baseline in words, for tables."""
        what = {
            Motion.DIFFERENCE: "mean |I_t - I_t-1| (frame 0 takes frame 1's)",
            Motion.FLOW: "mean DIS optical-flow speed (OpenCV, medium preset)",
        }[Motion(self.motion)]
        if Aggregate(self.aggregate) is Aggregate.CELL_TOP:
            what = (
                f"{what.replace('mean ', '')} per {self.patch}-pixel cell, z-scored against the "
                f"cell's normal training statistics, mean of the top {self.top_fraction:.0%}"
            )
        return f"{what}, smoothed over {self.smooth_window} frames"


# Each smoothed as suits it best on dev/ped1, on both halves (docs/experiments.md): a cell's
# motion is noisier than the frame's, and a longer window steadies it; the whole frame's is
# best at 9 frames, as the models'.
MOTION_BASELINES = (
    MotionBaseline("frame difference", Motion.DIFFERENCE.value),
    MotionBaseline(
        "frame difference per cell", Motion.DIFFERENCE.value, Aggregate.CELL_TOP.value,
        smooth_window=15,
    ),
    MotionBaseline("optical flow", Motion.FLOW.value),
    MotionBaseline(
        "optical flow per cell", Motion.FLOW.value, Aggregate.CELL_TOP.value, smooth_window=15
    ),
)  # fmt: skip


def motion_maps(frames: np.ndarray, motion: Motion | str) -> np.ndarray:
    """``[N, H, W]`` float32 motion of grey or RGB uint8 frames (frame 0 takes frame 1's)."""
    if Motion(motion) is Motion.FLOW:
        return flow_magnitude(frames)
    grey = convert_color(np.asarray(frames), Color.GREY)[..., 0]
    return absolute_difference(grey).astype(np.float32)


def _per_frame(maps: np.ndarray, baseline: MotionBaseline) -> np.ndarray:
    # what is kept of each clip until the normal statistics are known: cell means or a mean
    if Aggregate(baseline.aggregate) is Aggregate.CELL_TOP:
        return cell_means(maps, baseline.patch)
    return maps.reshape(len(maps), -1).mean(axis=1)


def baseline_scores(
    normal: Iterable[np.ndarray],
    test: Iterable[np.ndarray],
    baselines: tuple[MotionBaseline, ...] = MOTION_BASELINES,
) -> tuple[dict[str, list[np.ndarray]], dict[str, list[np.ndarray]]]:
    """Each baseline's smoothed e(t) of every normal and every test clip (uint8 frames).

    Each clip's motion is computed once for all baselines that share it, every clip resized to
    the first normal clip's size; per-cell baselines are judged against the statistics of the
    normal clips only.

    Returns:
        The normal clips' and the test clips' e(t), each by baseline name.

    """
    kinds, size = {b.motion for b in baselines}, []

    def kept(clips: Iterable[np.ndarray]) -> dict[str, list[np.ndarray]]:
        per_frame = {b.name: [] for b in baselines}
        for frames in clips:
            size[:] = size or [frames.shape[1:3]]  # every clip on the first normal clip's grid
            frames = prepare_frames(frames, size[0])
            maps = {kind: motion_maps(frames, kind) for kind in kinds}
            for b in baselines:
                per_frame[b.name].append(_per_frame(maps[b.motion], b))
        return per_frame

    normal, test = kept(normal), kept(test)
    for b in baselines:
        if Aggregate(b.aggregate) is Aggregate.CELL_TOP:
            cells = cell_statistics(normal[b.name])
            for clips in (normal, test):
                clips[b.name] = [top_cell_errors(c, cells, b.top_fraction) for c in clips[b.name]]
        for clips in (normal, test):
            clips[b.name] = [smooth(e, b.smooth_window) for e in clips[b.name]]
    return normal, test


FRAME_DIFFERENCE, DIFFERENCE_PER_CELL, FLOW_PER_CELL = (
    next(b for b in MOTION_BASELINES if b.name == name)
    for name in ("frame difference", "frame difference per cell", "optical flow per cell")
)

# The two per-cell baselines as one, by the rule the declared learned scores fuse their views
# with (`fisher_fused`): on dev/ped1 stronger than either alone (docs/experiments.md), so a
# learned score that fuses motion in is measured against motion fused the same way.
FUSED_PER_CELL = "motion per cell, fused"
FUSED_PER_CELL_DESCRIPTION = (
    "the frame difference and the optical flow per cell, each read as its rarity among the "
    "normal training frames (-log of the share scoring at least as high), added (Fisher's method)"
)


def fuse_per_cell(
    normal: dict[str, list[np.ndarray]], test: dict[str, list[np.ndarray]]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """`FUSED_PER_CELL`'s e(t) of every normal and every test clip.

    ``normal``, ``test``: `baseline_scores`' e(t) by baseline name, which must hold both
    per-cell baselines (the default `MOTION_BASELINES` do).
    """
    names = (DIFFERENCE_PER_CELL.name, FLOW_PER_CELL.name)
    normals = [normal_frames(normal[name]) for name in names]
    return tuple(
        fisher_fused_clips([clips[name] for name in names], normals) for clips in (normal, test)
    )


def frame_difference_errors(
    frames: np.ndarray, window: int = FRAME_DIFFERENCE.smooth_window
) -> np.ndarray:
    """One clip's e(t) by the leaderboard's frame difference (a run's column beside its own).

    Grey or RGB uint8 frames; ``window``: the smoothing (the baseline's by default).
    """
    maps = motion_maps(frames, FRAME_DIFFERENCE.motion)
    return smooth(_per_frame(maps, FRAME_DIFFERENCE), window)


def motion_per_frame(
    frames: np.ndarray,
    size: tuple[int, int] | None = None,
    baseline: MotionBaseline = FLOW_PER_CELL,
) -> np.ndarray:
    """What a baseline keeps of a clip until the normal statistics are known (`_per_frame`).

    ``size``: (height, width) to resize the frames to first, so that a clip of another size
    than the normal clips has cells on the same grid as their statistics.
    """
    return _per_frame(motion_maps(prepare_frames(frames, size), baseline.motion), baseline)


def motion_errors(
    kept: np.ndarray,
    cells: dict,
    baseline: MotionBaseline = FLOW_PER_CELL,
    window: int | None = None,
) -> np.ndarray:
    """A per-cell baseline's smoothed e(t) of one clip's `motion_per_frame`.

    ``window``: the smoothing, the baseline's own by default; a fusion passes the model's, so
    that both terms of a fused score are smoothed alike.
    """
    window = baseline.smooth_window if window is None else window
    return smooth(top_cell_errors(kept, cells, baseline.top_fraction), window)


def fusion_statistics(
    own: list[np.ndarray],
    flow_kept: list[np.ndarray],
    weight: float,
    window: int,
    baseline: MotionBaseline = FLOW_PER_CELL,
    rule: str = "standardised",
) -> dict:
    """What fusing a model's e(t) with the flow's takes, from the normal clips alone.

    The flow's cell statistics, and the mean and std of each e(t) over the normal frames: both
    scores standardised, so that ``weight`` reads as the flow's share against the model's.
    With ``rule="rarity"`` (one of `FLOW_RULES`, checked where a `ScoreSpec` is made) each
    e(t)'s sorted normal frames are kept too, each score then read
    as its rarity among them (`fused_errors`). ``window``: the smoothing of the model's e(t),
    which the flow's takes too (recorded, so that every clip is fused as the normal clips were:
    `fused_with_motion`). ``baseline``: the per-cell baseline fused, the flow's by default; its
    statistics are kept under the same "flow" keys.
    """
    cells = cell_statistics(flow_kept)
    fused = [motion_errors(k, cells, baseline, window) for k in flow_kept]
    rarity = {}
    if rule == "rarity":
        rarity = {
            "own_normal": normal_frames(own).tolist(),
            "flow_normal": normal_frames(fused).tolist(),
        }
    return {
        "weight": weight,
        "window": window,
        "rule": rule,
        "flow_cells": cells,
        "own": normal_statistics(own),
        "flow": normal_statistics(fused),
        **rarity,
    }


# Fusion statistics derived before their window was recorded smoothed the flow over 9 frames.
UNRECORDED_FUSION_WINDOW = 9


def fused_with_motion(
    own: np.ndarray, kept: np.ndarray, fusion: dict, baseline: MotionBaseline = FLOW_PER_CELL
) -> np.ndarray:
    """One clip's e(t) fused with a per-cell baseline's, as `fusion_statistics` set it up.

    ``kept``: the clip's `motion_per_frame` of that baseline, smoothed over the fusion's window.
    """
    window = fusion.get("window", UNRECORDED_FUSION_WINDOW)
    return fused_errors(own, motion_errors(kept, fusion["flow_cells"], baseline, window), fusion)


def normal_statistics(errors: list[np.ndarray]) -> list[float]:
    """Mean and std (floored at 1e-12) of e(t) over every frame of the normal clips given."""
    every = np.concatenate(errors)
    return [float(every.mean()), float(max(every.std(), 1e-12))]


def fused_errors(own: np.ndarray, flow: np.ndarray, fusion: dict) -> np.ndarray:
    """A model's e(t) plus ``weight`` times the flow's e(t), each standardised on normal clips.

    With the fusion's ``rule`` "rarity", each is instead its `normal_surprise` among its
    normal frames (at weight 1, `fisher_fused`).

    >>> fused_errors(np.array([3.0]), np.array([2.0]),
    ...              {"weight": 0.5, "own": [1.0, 2.0], "flow": [0.0, 1.0]}).tolist()
    [2.0]
    >>> rarity = {"rule": "rarity", "own_normal": [1.0, 2.0, 3.0], "flow_normal": [1.0, 3.0, 5.0]}
    >>> fused_errors(np.array([3.0]), np.array([2.0]), {"weight": 1.0, **rarity}).round(3).tolist()
    [0.981]
    """
    if fusion.get("rule") == "rarity":
        own = normal_surprise(own, np.asarray(fusion["own_normal"]))
        return own + fusion["weight"] * normal_surprise(flow, np.asarray(fusion["flow_normal"]))
    own_mean, own_std = fusion["own"]
    flow_mean, flow_std = fusion["flow"]
    return (own - own_mean) / own_std + fusion["weight"] * (flow - flow_mean) / flow_std
