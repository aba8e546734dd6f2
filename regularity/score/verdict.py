"""From a clip's frame score e(t) to an answer: flagged frames, spans, a verdict, and warnings.

A clip is judged on the run's absolute e(t), the scale its frame threshold was derived on from
normal clips (``thresholds.json``), never on the per-clip min-max regularity s(t): min-max
stretches every clip from 1 to 0, so a normal clip would look irregular too.
"""

from __future__ import annotations

import numpy as np

from regularity.data.base import Video
from regularity.data.groundtruth import labels_to_spans

REGULAR, IRREGULAR = "regular", "irregular"
# A frame rate this far from the training footage's changes what "normal motion" looks like.
FPS_TOLERANCE = 0.2


def flagged_spans(errors: np.ndarray, threshold: float) -> list[dict]:
    """The 1-based inclusive runs of frames whose e(t) passes the threshold, each with its peak.

    >>> spans = flagged_spans(np.array([0.0, 2.0, 3.0, 1.0, 5.0]), 1.5)
    >>> [(s["start"], s["end"], s["peak"], s["peak_score"]) for s in spans]
    [(2, 3, 3, 3.0), (5, 5, 5, 5.0)]
    """
    spans = []
    for start, end in labels_to_spans(np.asarray(errors) > threshold):
        peak = start + int(np.argmax(errors[start - 1 : end]))
        score = float(errors[peak - 1])
        spans.append({"start": start, "end": end, "peak": peak, "peak_score": score})
    return spans


def clip_verdict(errors: np.ndarray, thresholds: dict) -> dict:
    """A clip's answer: how many frames pass the run's frame threshold, where, and the verdict.

    Args:
        errors: the clip's smoothed e(t), on the scale of ``thresholds["frame"]``.
        thresholds: the run's ``thresholds.json`` (``frame``, ``source``).

    """
    threshold = float(thresholds["frame"])
    flagged = np.asarray(errors) > threshold
    return {
        "frames": len(errors),
        "flagged_frames": int(flagged.sum()),
        "spans": flagged_spans(np.asarray(errors, np.float64), threshold),
        "verdict": IRREGULAR if flagged.any() else REGULAR,
        "threshold": threshold,
        "threshold_source": thresholds.get("source", ""),
    }


def footage_of(videos: list[Video]) -> dict:
    """What the training footage looked like: frame sizes, colour and frame rate (for warnings)."""
    sizes, rates, colour = set(), set(), False
    for video in videos:  # one clip decoded at a time
        frames = video.frames
        sizes.add(tuple(int(n) for n in frames.shape[1:3]))
        colour = colour or is_colour(frames)
        if video.meta.get("fps"):
            rates.add(round(float(video.meta["fps"]), 2))
        video.release()
    return {"sizes": [list(s) for s in sorted(sizes)], "color": colour, "fps": sorted(rates)}


def is_colour(frames: np.ndarray) -> bool:
    """True when the frames carry colour (three channels that are not all equal)."""
    if frames.ndim < 4 or frames.shape[-1] != 3:
        return False
    sample = frames[:: max(1, len(frames) // 8)].astype(np.int16)
    return bool(np.abs(sample - sample[..., :1]).max() > 8)


def footage_warnings(video: Video, errors: np.ndarray, thresholds: dict) -> list[str]:
    """Why a clip's verdict may say more about the footage than about what happens in it.

    Compares the clip with the training footage (``thresholds["footage"]``, from `footage_of`)
    and its e(t) with the normal clips' (``thresholds["normal_scores"]``); older runs without
    those records get only the checks they allow.
    """
    warnings = []
    footage = thresholds.get("footage") or {}
    frames = video.frames
    size = [int(n) for n in frames.shape[1:3]]
    if footage.get("sizes") and size not in footage["sizes"]:
        trained = ", ".join(f"{h}x{w}" for h, w in footage["sizes"])
        warnings.append(f"frames are {size[0]}x{size[1]}, the training footage {trained}")
    if footage and is_colour(frames) and not footage.get("color"):
        warnings.append("the clip is in colour, the training footage grey")
    fps = video.meta.get("fps")
    if fps and footage.get("fps"):
        nearest = min(footage["fps"], key=lambda rate: abs(rate - fps))
        if abs(fps - nearest) > FPS_TOLERANCE * nearest:
            warnings.append(f"{fps:g} frames/s, the training footage {nearest:g}")
    normal = thresholds.get("normal_scores") or {}
    # Twice the highest normal frame even at the clip's calmest frame: an abnormal event
    # raises some frames, other footage (another camera, lighting, size) raises all of them.
    if normal.get("max") and float(np.min(errors)) > 2 * normal["max"]:
        warnings.append(
            f"even its lowest frame score {float(np.min(errors)):.4g} is over twice the highest "
            f"of the normal clips ({normal['max']:.4g}): footage unlike the training footage?"
        )
    if has_repeated_frames(frames):
        warnings.append(
            "every other frame repeats its neighbour (a frame-rate conversion?): marks flicker"
        )
    return warnings


def has_repeated_frames(frames: np.ndarray, tolerance: float = 0.5) -> bool:
    """True when most odd frames are near-copies of the frame before them while the clip moves.

    >>> still = np.zeros((6, 4, 4), np.uint8); moving = np.repeat(np.arange(3) * 50, 2)
    >>> has_repeated_frames(still + moving[:, None, None].astype(np.uint8))
    True
    """
    if len(frames) < 6:
        return False
    steps = np.abs(np.diff(frames.astype(np.float32), axis=0))
    steps = steps.mean(axis=tuple(range(1, frames.ndim)))
    even, odd = steps[0::2], steps[1::2]  # frame 1 vs 0, 3 vs 2, ...; and 2 vs 1, 4 vs 3, ...
    # A still clip repeats every frame and nothing flickers: the other half must move.
    return any(
        np.median(moves) >= 1.0 and float(np.mean(repeats < tolerance)) > 0.8
        for repeats, moves in ((even, odd), (odd, even))
    )


def verdict_line(clip: dict) -> str:
    """One console line of a clip's verdict (`clip_verdict` with its ``name``)."""
    line = (
        f"{clip['name']}: {clip['verdict'].upper()}, {clip['flagged_frames']} of "
        f"{clip['frames']} frames over the threshold"
    )
    spans = ", ".join(f"{s['start']}-{s['end']} (peak {s['peak']})" for s in clip["spans"])
    return f"{line}: frames {spans}" if spans else line
