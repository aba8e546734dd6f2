"""From a clip's frame score e(t) to an answer: flagged frames, spans, a verdict, and warnings.

A clip is judged on the run's absolute e(t), the scale its frame threshold was derived on from
normal clips (``thresholds.json``), never on the per-clip min-max regularity s(t): min-max
stretches every clip from 1 to 0, so a normal clip would look irregular too.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from regularity.data.base import Video
from regularity.data.groundtruth import labels_to_spans

REGULAR, IRREGULAR, UNSCORED = "regular", "irregular", "unscored"
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


def longest_span(errors: np.ndarray, threshold: float, valid: np.ndarray | None = None) -> int:
    """The most consecutive scored frames whose e(t) passes the threshold.

    >>> longest_span(np.array([2.0, 0.0, 2.0, 2.0, 0.0]), 1.0)
    2
    """
    flagged = np.asarray(errors) > threshold
    if valid is not None:
        flagged &= np.asarray(valid, bool)
    return max((end - start + 1 for start, end in labels_to_spans(flagged)), default=0)


def clip_verdict(errors: np.ndarray, thresholds: dict, valid: np.ndarray | None = None) -> dict:
    """A clip's answer: which frames pass the run's frame threshold, where, and the verdict.

    A frame is flagged when its e(t) passes the frame threshold; the clip is ``irregular`` when
    a span of flagged frames is longer than the longest the normal clips hold
    (``thresholds["normal_longest_span"]``; 0 for runs from before it was recorded: any
    flagged frame), ``regular`` otherwise, ``unscored`` when no frame could be scored.

    Args:
        errors: the clip's smoothed e(t), on the scale of ``thresholds["frame"]``.
        thresholds: the run's ``thresholds.json`` (``frame``, ``source``, ...).
        valid: the frames the model scored (a predictor's first frames have no prediction:
            their e(t) is a neighbour's copy and is never flagged); all by default.

    """
    errors = np.asarray(errors, np.float64)
    valid = np.ones(len(errors), bool) if valid is None else np.asarray(valid, bool)
    threshold = float(thresholds["frame"])
    allowed = int(thresholds.get("normal_longest_span", 0))
    flagged = (errors > threshold) & valid
    if not valid.any():
        verdict = UNSCORED
    else:
        verdict = IRREGULAR if longest_span(errors, threshold, valid) > allowed else REGULAR
    return {
        "frames": len(errors),
        "scored_frames": int(valid.sum()),
        "flagged_frames": int(flagged.sum()),
        "spans": flagged_spans(np.where(valid, errors, -np.inf), threshold),
        "verdict": verdict,
        "threshold": threshold,
        "threshold_source": thresholds.get("source", ""),
        "normal_longest_span": allowed,
    }


def clip_footage(video: Video) -> tuple[tuple[int, int], bool, float | None]:
    """A clip's frame size, whether it is in colour, and its frame rate (None when unknown)."""
    frames = video.frames
    return tuple(int(n) for n in frames.shape[1:3]), is_colour(frames), video.meta.get("fps")


def footage_of(records: Iterable[tuple]) -> dict:
    """What the training footage looked like (from each clip's `clip_footage`), for warnings."""
    records = list(records)
    return {
        "sizes": [list(size) for size in sorted({size for size, _, _ in records})],
        "color": any(colour for _, colour, _ in records),
        "fps": sorted({round(float(fps), 2) for _, _, fps in records if fps}),
    }


def is_colour(frames: np.ndarray) -> bool:
    """True when the frames carry colour (three channels that are not all equal)."""
    if frames.ndim < 4 or frames.shape[-1] != 3:
        return False
    sample = frames[:: max(1, len(frames) // 8)].astype(np.int16)
    return bool(np.abs(sample - sample[..., :1]).max() > 8)


def footage_warnings(
    video: Video, errors: np.ndarray, thresholds: dict, valid: np.ndarray | None = None
) -> list[str]:
    """Why a clip's verdict may say more about the footage than about what happens in it.

    Compares the clip with the training footage (``thresholds["footage"]``, from `footage_of`)
    and its e(t) on scored frames (``valid``) with the normal clips' (``thresholds
    ["normal_scores"]``); older runs without those records get only the checks they allow.
    """
    warnings = []
    footage = thresholds.get("footage") or {}
    frames = video.frames
    size = [int(n) for n in frames.shape[1:3]]
    if footage.get("sizes") and size not in footage["sizes"]:
        trained = ", ".join(f"{h}x{w}" for h, w in footage["sizes"])
        warnings.append(f"frames are {size[0]}x{size[1]}, the training footage {trained}")
    # Only a colour run minds: a grey run sees any footage in grey, as it was trained.
    if footage.get("color") and not is_colour(frames):
        warnings.append("the clip is grey, the training footage in colour")
    fps = video.meta.get("fps")
    if fps and footage.get("fps"):
        nearest = min(footage["fps"], key=lambda rate: abs(rate - fps))
        if abs(fps - nearest) > FPS_TOLERANCE * nearest:
            warnings.append(f"{fps:g} frames/s, the training footage {nearest:g}")
    scored = np.asarray(errors)[valid] if valid is not None else np.asarray(errors)
    normal = thresholds.get("normal_scores") or {}
    if not len(scored):
        warnings.append("no frame could be scored: the clip is shorter than the model's window")
    elif "max" in normal:
        # Above the normal clips' highest frame by more than their whole upper spread, even at
        # the clip's calmest frame: an abnormal event raises some frames, other footage
        # (another camera, lighting, size) raises all of them. Any sign of e(t) (PSNR, logits).
        ceiling = normal["max"] + (normal["max"] - normal["median"])
        # fused rarities are bounded: above every normal frame is far
        if thresholds.get("views") or (thresholds.get("fusion") or {}).get("rule") == "rarity":
            ceiling = normal["max"]
        if float(scored.min()) > ceiling:
            warnings.append(
                f"even its lowest frame score {float(scored.min()):.4g} is far above the normal "
                f"clips' (median {normal['median']:.4g}, max {normal['max']:.4g}): footage "
                "unlike the training footage?"
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
    # one pair of frames at a time: a whole clip in float would take several copies of it
    pairs = zip(frames[:-1], frames[1:], strict=True)
    steps = np.array([np.abs(b.astype(np.int16) - a).mean() for a, b in pairs])
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
        f"{clip['frames']} frames over the threshold (normal clips: runs of up to "
        f"{clip.get('normal_longest_span', 0)})"
    )
    spans = ", ".join(f"{s['start']}-{s['end']} (peak {s['peak']})" for s in clip["spans"])
    return f"{line}: frames {spans}" if spans else line
