"""Testing a trained run: thresholds from normal clips, each test video scored, the report.

``evaluate_run(run_dir)`` works for any family: it reads the run's `RunConfig`, loads the
network that scores (`scoring_network`), and writes ``scores.csv``, ``metrics.json``,
``roc.png``, marked videos and regularity graphs into the run folder.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from regularity.data.base import Video
from regularity.data.clipstore import prepared_clips
from regularity.data.preprocess import Normalizer
from regularity.data.windows import WindowSpec
from regularity.errors import ParameterError, WriteError
from regularity.nets.trainers import critics_of, scoring_network
from regularity.run.config import RunConfig, RunMissingError, with_settings
from regularity.run.families import families, load_config
from regularity.run.files import portable_path, read_json, write_json
from regularity.run.training import SCORERS
from regularity.score.baselines import (
    frame_difference_errors,
    fused_with_motion,
    fusion_statistics,
    motion_per_frame,
)
from regularity.score.inference import SCORING_BATCH, get_test_data, predict_test_data
from regularity.score.marking import smooth_error_map, spot_irregularity
from regularity.score.metrics import dots_in_mask, ucsd_pixel_hit
from regularity.score.scoring import (
    ScoreSpec,
    abnormality_score,
    by_cell,
    cell_means,
    critic_errors,
    fisher_fused_clips,
    normal_frames,
    per_cell_scored,
    score_outputs,
    summed,
    view_specs,
)
from regularity.score.verdict import (
    clip_footage,
    clip_verdict,
    footage_of,
    footage_warnings,
    longest_span,
)
from regularity.show.media import generate_video, outline_masks
from regularity.show.page import write_report_page
from regularity.show.plots import generate_regularity_graph
from regularity.show.report import quantify_performance, threshold_record

logger = logging.getLogger(__name__)


DEFAULT_FPS = 10.0  # UCSD's frame rate: a folder of frames carries none
RECONSTRUCTION = "reconstruction"  # the first score's name when a second scorer gives e(t)


def load_scorer(run_dir: str | Path, checkpoint: str | Path | None = None) -> object:
    """The scoring network saved in a run folder (``model.keras``, or one checkpoint)."""
    import keras

    families()  # every family imported: the custom layers its networks hold are registered

    return keras.saving.load_model(Path(checkpoint or trained_model(run_dir)))


def load_critics(run_dir: str | Path, checkpoint: str | Path | None = None) -> dict[str, object]:
    """A run's second scorers, ``scorers/<name>.keras``: windows -> one "normal" logit a frame.

    A GAN saves its discriminator applied to the generator's output there (ALOCC's D(G(X))); a
    run without that folder has none. ``checkpoint``: an epoch checkpoint's
    (``checkpoints/epoch_003.keras``): the scorers saved with it.
    """
    import keras

    families()  # every family imported: the custom layers its networks hold are registered

    if checkpoint is None:
        paths = {p.stem: p for p in (Path(run_dir) / SCORERS).glob("*.keras")}
    else:
        checkpoint = Path(checkpoint)
        found = (checkpoint.parent / SCORERS).glob(f"{checkpoint.stem}_*.keras")
        paths = {p.stem[len(checkpoint.stem) + 1 :]: p for p in found}
    return {name: keras.saving.load_model(paths[name]) for name in sorted(paths)}


def trained_model(run_dir: str | Path) -> Path:
    """A run's ``model.keras``, or an error saying that its training did not finish."""
    path = Path(run_dir) / "model.keras"
    if not path.is_file():
        raise RunMissingError(
            f"{path}: no trained model here: training did not finish (resume it with the same "
            "command, or train it first)"
        )
    return path


def trained_thresholds(
    run_dir: str | Path, config: RunConfig, model: object = None, dataset: object = None
) -> dict:
    """A trained run's thresholds, derived from its normal clips first where it has none.

    `train` run as the program leaves them to `evaluate` in a fresh process, and a run stopped
    while deriving them has none: the trained model is all they need. Before any work, an
    error when the training did not finish. ``model``, ``dataset``: if already in memory.
    """
    trained_model(run_dir)
    if not (Path(run_dir) / "thresholds.json").is_file():
        logger.info("%s: trained; deriving its thresholds", run_dir)
        model = model or load_scorer(run_dir)
        derive_thresholds(config, model, dataset or config.open_dataset())
    return run_thresholds(run_dir)


def run_thresholds(run_dir: str | Path) -> dict:
    """A run's ``thresholds.json``, or an error saying how to get them."""
    path = Path(run_dir) / "thresholds.json"
    if not path.is_file():
        raise RunMissingError(
            f"{path}: no thresholds: the run's training did not finish, or they are still to "
            "derive (`python -m regularity evaluate RUN` derives them)"
        )
    return read_json(path)


def score_frames(
    model: object,
    scaled: np.ndarray,
    normalizer: Normalizer,
    score: ScoreSpec,
    window: WindowSpec | int = 10,
    progress: str | None = None,
    motion: bool | str = True,
    views: list[ScoreSpec] = (),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Error maps ``[N, H, W]``, e(t), the valid-frame mask and each of ``views``' (maps, e(t)).

    ``progress``: a name to show a bar of the clip's windows under; ``motion``: the run's
    `MotionInput` (which channels ``score.channels`` names); ``views``: other specs scored from
    the same outputs, the model predicting once.
    """
    outputs, valid = predict_test_data(scoring_network(model), scaled, window, progress=progress)
    maps, errors = score_outputs(scaled, outputs, valid, normalizer.std, score, motion)
    return (
        maps,
        errors,
        valid,
        [score_outputs(scaled, outputs, valid, normalizer.std, view, motion) for view in views],
    )


def critic_scores(
    critics: dict[str, object], scaled: np.ndarray, score: ScoreSpec, window: WindowSpec | int
) -> dict[str, np.ndarray]:
    """Each second scorer's e(t) of a clip's scaled frames (`critic_errors`)."""
    second = {}
    for name, critic in critics.items():
        # Every window start: a critic reading a window in time order judges its first frames
        # on less context, so each frame is judged at every position of the window.
        logits, valid = predict_test_data(critic, scaled, window, stride=1)
        second[name] = critic_errors(logits, valid, score)
    return second


def score_clip(
    model: object,
    scaled: np.ndarray,
    normalizer: Normalizer,
    score: ScoreSpec,
    window: WindowSpec | int,
    critics: dict[str, object] | None = None,
    progress: str | None = None,
    motion: bool | str = True,
    views: list[ScoreSpec] = (),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray], list]:
    """Error maps, the frame score e(t), the valid mask, every second score and each view's.

    ``score.frame_score`` names the critic whose e(t) is the frame score (its own then kept
    as ``"reconstruction"``); by default it is the error maps' e(t). ``views``: other specs
    scored from the same outputs, each giving (maps, e(t)) (`score_frames`).
    """
    maps, errors, valid, by_view = score_frames(
        model, scaled, normalizer, score, window, progress, motion, views
    )
    second = critic_scores(critics or {}, scaled, score, window)
    if score.frame_score:
        if score.frame_score not in second:
            raise ValueError(
                f"the frame score is the second scorer {score.frame_score!r}, which the run "
                f"does not have (it has: {sorted(second) or 'none'})"
            )
        errors, second = second.pop(score.frame_score), {RECONSTRUCTION: errors, **second}
    return maps, errors, valid, second, by_view


def normal_clip_scores(
    model: object,
    clips: Iterable[np.ndarray],
    normalizer: Normalizer,
    score: ScoreSpec,
    window: WindowSpec | int,
    critics: dict[str, object] | None = None,
    motion: bool | str = True,
    views: list[ScoreSpec] = (),
) -> Iterable[tuple[np.ndarray, np.ndarray, np.ndarray, list]]:
    """Error maps, frame score e(t), valid mask and each view's (maps, e(t)) of normal clips.

    Clips: prepared uint8. Only the critic that gives the frame score (``score.frame_score``)
    is asked. ``views``: other specs scored from the same outputs (`score_clip`).
    """
    critics = {k: v for k, v in (critics or {}).items() if k == score.frame_score}
    for clip in clips:
        scaled = normalizer.apply(clip.astype(np.float32)).astype(np.float32)
        maps, errors, valid, _, by_view = score_clip(
            model, scaled, normalizer, score, window, critics, motion=motion, views=views
        )
        yield maps, errors, valid, by_view


def normal_thresholds(
    model: object,
    clips: Iterable[np.ndarray],
    normalizer: Normalizer,
    score: ScoreSpec,
    window: WindowSpec | int,
    kind: str = "normal",
    critics: dict[str, object] | None = None,
    flows: list[np.ndarray] | None = None,
    motion: bool | str = True,
) -> dict:
    """Pixel and frame thresholds from normal clips (prepared uint8), no test labels.

    The pixel threshold is a high percentile of the smoothed error maps (red dots); the frame
    threshold a high percentile of the smoothed e(t) (TPR/FPR on raw scores). ``kind`` says in
    the recorded source which normal clips they were (e.g. "held-out normal"). ``critics``:
    the run's second scorers, needed where one of them gives the frame score. ``flows``: each
    clip's `motion_per_frame`, where ``score.flow_weight`` fuses the flow into e(t) (filled in
    as the clips are read). ``motion``: the run's `MotionInput`. With ``score.views`` each view's
    statistics are derived too (``"views"``: its fields, its sorted normal e(t) and, per cell,
    its cells), and the frame threshold is taken over the views' fused e(t).
    """
    views = view_specs(replace(score, thresholds={}))  # their statistics are derived here
    # per-cell statistics come from these very clips: a per-cell e(t) waits for them
    specs = [summed(replace(score, views=[])), *(summed(v) for v in views)]
    pixels, scored, valids, parts = [], [], [], []
    normal = normal_clip_scores(
        model, clips, normalizer, specs[0], window, critics, motion, specs[1:]
    )
    for i, (maps, errors, valid, by_view) in enumerate(normal):
        if not valid.any():  # shorter than one window: the model produces none of its frames
            logger.warning("a normal clip of %d frames is too short to score; left out", len(maps))
            continue
        scored.append(i)
        valids.append(valid)
        pixels.append(smooth_error_map(maps[valid], score.dot_sigma).ravel())
        parts.append([
            cell_means(m, spec.patch) if by_cell(spec) else e
            for spec, (m, e) in zip([score, *views], [(maps, errors), *by_view], strict=True)
        ])  # fmt: skip
    if not valids:
        raise ValueError(
            f"no normal clip is long enough for a window of {WindowSpec.of(window).span}"
        )
    derived = []  # per spec, the run's own first: its statistics and e(t) of every clip
    for spec, kept in zip([score, *views], zip(*parts, strict=True), strict=True):
        statistics, kept = {}, list(kept)
        if by_cell(spec):
            statistics["cells"], kept = per_cell_scored(kept, valids, spec)
        derived.append((statistics, kept))
    (own, errors), *by_view = derived
    cells, frames, count = own.get("cells", {}), list(zip(errors, valids, strict=True)), len(valids)
    normals = [normal_frames(kept) for _, kept in by_view]
    view_statistics = [
        {**statistics, "view": dict(fields), "normal": normal.tolist()}
        for fields, (statistics, _), normal in zip(score.views, by_view, normals, strict=True)
    ]
    if views:  # each view read against its own normal frames, as `score_outputs` reads a clip
        fused = fisher_fused_clips([kept for _, kept in by_view], normals)
        frames = list(zip(fused, valids, strict=True))
    fusion = {}
    if score.flow_weight:
        if flows is None:
            raise ValueError("flow_weight fuses the flow: the normal clips' flows are needed")
        kept = [flows[i] for i in scored]
        fusion = fusion_statistics(
            [e for e, _ in frames],
            kept,
            score.flow_weight,
            score.smooth_window,
            rule=score.flow_rule,
        )
        frames = [
            (fused_with_motion(e, k, fusion), v) for (e, v), k in zip(frames, kept, strict=True)
        ]
    every = np.concatenate([errors for errors, _ in frames])
    frame = float(np.percentile(every, score.frame_percentile))
    return {
        "pixel": pooled_percentile(pixels, score.pixel_percentile),
        "frame": frame,
        "source": f"percentiles {score.pixel_percentile} (pixels) and {score.frame_percentile} "
        f"(frames) of {count} {kind} clips",
        # what e(t) looks like on normal footage: a clip scoring far above it all is unlike it;
        # each clip's e(t) as thresholded (views and flow fused, every frame as `scores.csv`
        # holds a test clip's), for studies that compare normal footage with test footage
        "normal_scores": {
            "median": float(np.median(every)),
            "max": float(every.max()),
            "clips": [errors.tolist() for errors, _ in frames],
        },
        # A percentile leaves some normal frames over the threshold by construction, and a
        # long normal clip would nearly always hold one: a clip is irregular only with a run
        # of flagged frames longer than any normal clip has.
        "normal_longest_span": max(longest_span(e, frame, v) for e, v in frames),
        **({"cells": cells} if cells else {}),
        **({"fusion": fusion} if fusion else {}),
        **({"views": view_statistics} if view_statistics else {}),
    }


def pooled_percentile(parts: list[np.ndarray], percentile: float) -> float:
    """A percentile of every value of ``parts``, which it empties: two copies at most, not three.

    Every normal frame's smoothed error map is a few hundred MB on UCSD: ``parts`` are let go
    once joined, and the joined array is sorted in place, not copied again.

    >>> parts = [np.array([4.0, 1.0]), np.array([3.0, 2.0])]
    >>> pooled_percentile(parts, 50), float(np.percentile([4.0, 1.0, 3.0, 2.0], 50)), parts
    (2.5, 2.5, [])
    """
    every = np.concatenate(parts)
    parts.clear()
    return float(np.percentile(every, percentile, overwrite_input=True))


def derive_thresholds(config: RunConfig, model: object, dataset: object) -> dict:
    """Write ``thresholds.json`` from the run's normal clips (`RunConfig.thresholds_from`)."""
    if config.thresholds_from == "normal":
        videos, kind = dataset.train, "normal (training and held-out)"
    else:  # without held-out clips the last training clip stands in: thresholds need normal data
        videos, kind = config.held_out_clips(dataset), "held-out normal"
    footage, flows, flow_size = [], [], []

    def recorded(videos: list[Video]) -> Iterable[Video]:
        for video in videos:  # noted while decoded for its thresholds: each clip decoded once
            footage.append(clip_footage(video))
            if config.score.flow_weight:  # every clip's flow on the first one's grid
                flow_size[:] = flow_size or [list(video.frames.shape[1:3])]
                flows.append(motion_per_frame(video.frames, flow_size[0]))
            yield video

    clips = prepared_clips(recorded(videos), config.input_spec().prepare)  # one at a time
    normalizer = Normalizer.load(Path(config.run_dir) / "normalizer.npz")
    critics = critics_of(model) or load_critics(config.run_dir)
    thresholds = normal_thresholds(
        model, clips, normalizer, config.score, config.window, kind, critics, flows, config.motion
    )
    thresholds["footage"] = footage_of(footage)  # the normal clips the thresholds come from
    if flow_size:
        thresholds["fusion"]["size"] = flow_size[0]
    write_json(Path(config.run_dir) / "thresholds.json", thresholds)
    return thresholds


def rescore_settings(run_dir: str | Path, settings: dict) -> RunConfig:
    """Change how a trained run is scored (``score.*``, ``thresholds_from``), then its thresholds.

    Only fields that leave the trained model as it is may change; ``config.json`` is rewritten
    with them (the package versions it was trained with kept) and the thresholds are derived
    again from the normal clips. A training field is refused with its name.
    """
    stored = load_config(run_dir)
    try:
        config = type(stored).from_dict(with_settings(stored.to_dict(), settings), strict=True)
    except (TypeError, ValueError) as error:
        raise ParameterError(Path(run_dir) / "config.json", f"bad setting: {error}") from error
    changed = sorted(k for k, v in config.identity().items() if stored.identity().get(k) != v)
    if changed:
        raise ParameterError(
            Path(run_dir) / "config.json",
            f"a trained run's scoring may change, not its training fields {changed}",
        )
    derive_thresholds(config, load_scorer(run_dir), config.open_dataset())
    # named only once its thresholds exist: an interrupted derivation leaves the run as it was
    path = Path(run_dir) / "config.json"
    write_json(path, {**read_json(path), "score": config.to_dict()["score"],
                      "thresholds_from": config.thresholds_from})  # fmt: skip
    return config


@dataclass
class VideoResult:
    """What testing one video leaves behind (small: no frames, no maps)."""

    name: str
    labels: np.ndarray | None
    errors: np.ndarray
    baseline: np.ndarray
    localisation: dict = field(default_factory=dict)
    score_seconds: float = 0.0
    critics: dict[str, np.ndarray] = field(default_factory=dict)  # second scores' e(t)
    verdict: dict = field(default_factory=dict)  # `clip_verdict`, the source and warnings


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


def score_video(
    model: object,
    video: Video,
    config: RunConfig,
    normalizer: Normalizer,
    score: ScoreSpec,
    critics: dict[str, object],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray], float]:
    """A video's error maps, e(t), its scored frames, every second score, and the seconds taken.

    Preparing the decoded frames and what gives e(t) are timed (the error maps and, where
    ``score.frame_score`` names one, that critic): the scoring speed is the frame score's.
    """
    window = config.window
    fusion = _flow_fusion(config, score)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as beside:
        # The flow is part of the frame score: timed with it, and computed while the network
        # predicts (DIS and TensorFlow each leave a core idle part of the time).
        flow = beside.submit(motion_per_frame, video.frames, fusion.get("size")) if fusion else None
        scaled = get_test_data(video, config.input_spec(), normalizer)
        timed = {k: v for k, v in critics.items() if k == score.frame_score}
        maps, errors, valid, second, _ = score_clip(
            model, scaled, normalizer, score, window, timed, progress=video.name,
            motion=config.motion,
        )  # fmt: skip
        if flow:
            errors = fused_with_motion(errors, flow.result(), fusion)
    seconds = time.perf_counter() - start
    others = {k: v for k, v in critics.items() if k != score.frame_score}
    second.update(critic_scores(others, scaled, score, window))
    return maps, errors, valid, second, seconds


def _flow_fusion(config: RunConfig, score: ScoreSpec) -> dict:
    """The flow statistics a fused score needs (empty: no flow in the score), or the error."""
    if not score.flow_weight:
        return {}
    fusion = score.thresholds.get("fusion") or {}
    derived = (fusion.get("weight"), fusion.get("rule", "standardised"))
    if derived != (score.flow_weight, score.flow_rule):
        raise RunMissingError(
            f"{config.run_dir}: its thresholds hold no flow statistics for flow_weight="
            f"{score.flow_weight}, flow_rule={score.flow_rule} (they are for {derived}): "
            "derive them again (`python -m regularity evaluate RUN --set "
            f"score.flow_weight={score.flow_weight} --set score.flow_rule={score.flow_rule}`)"
        )
    return fusion


def mark_video(video: Video, maps: np.ndarray, score: ScoreSpec) -> tuple[np.ndarray, dict]:
    """Red dots where the smoothed error maps pass the pixel threshold, ground truth outlined.

    The dots go on the frames as decoded (in colour where the video was opened in colour).
    Returns the marked frames and, where the video has masks and labels, how well the dots
    and the thresholded maps hit the masks of its abnormal frames (`_localise`).
    """
    original = video.frames
    smoothed = smooth_error_map(maps, score.dot_sigma)
    threshold = score.thresholds["pixel"]
    marked, dots = [], []
    for frame, frame_map in zip(original, smoothed, strict=True):
        image, frame_dots = spot_irregularity(frame, frame_map, threshold, sigma=0)
        marked.append(image)
        dots.append(frame_dots)
    marked = np.stack(marked)
    if video.masks is None or video.labels is None:
        return marked, {}
    size = original.shape[2:0:-1]
    detections = [
        cv2.resize(d, size, interpolation=cv2.INTER_NEAREST) > 0
        for d in (smoothed > threshold).astype(np.uint8)
    ]
    localisation = _localise(dots, video.masks, detections, video.labels)
    return outline_masks(marked, video.masks), localisation


def _warm_up(model: object, config: RunConfig, critics: dict[str, object]) -> None:
    # Untimed calls with a full and a short batch build both predict graphs first (one under
    # JAX, which pads a short batch after full ones), so that score_fps measures scoring
    # rather than graph tracing (as decoding is left out too).
    spec = config.input_spec()
    frames = SCORING_BATCH * config.window.span + 1
    warm_up = np.zeros((frames, *spec.size, spec.channels), np.float32)
    predict_test_data(scoring_network(model), warm_up, config.window)
    if config.score.frame_score in critics:  # timed as well: it gives e(t)
        predict_test_data(critics[config.score.frame_score], warm_up, config.window, stride=1)


def judge_clip(video: Video, errors: np.ndarray, thresholds: dict, valid: np.ndarray) -> dict:
    """A clip's verdict (`clip_verdict`) with its name, source and footage warnings.

    The warnings are logged as well: a user reads them on the console, not only in a summary.
    """
    warnings = footage_warnings(video, errors, thresholds, valid)
    for warning in warnings:
        logger.warning("%s: %s", video.source, warning)
    verdict = clip_verdict(errors, thresholds, valid)
    return {"name": video.name, "source": video.source, **verdict, "warnings": warnings}


def score_videos(
    config: RunConfig,
    videos: list[Video],
    out_dir: str | Path,
    model: object = None,
    write_videos: int | None = None,
    fps: float | None = None,
) -> tuple[list[VideoResult], float]:
    """Score videos with a trained run (its `RunConfig`); marked videos, graphs in ``out_dir``.

    Args:
        config: the run's config (`load_config`).
        videos: the videos to score.
        out_dir: where ``videos/`` and ``graphs/`` go.
        model: the scoring model, if already in memory (else the run's ``model.keras``).
        write_videos: marked videos for the first N clips (None: all).
        fps: playback rate of the marked videos; None keeps each video's own (10 frames/s,
            UCSD's rate, for frame folders, which carry none).

    Returns:
        The per-video results, each with its verdict, and the scoring speed in frames/s of the
        frame score (the error maps and, where ``score.frame_score`` names one, that critic;
        decoding and the other second scorers left out).

    """
    run_dir = config.run_dir
    model = model or load_scorer(run_dir)
    thresholds = run_thresholds(run_dir)
    score = ScoreSpec(**{**vars(config.score), "thresholds": thresholds})
    normalizer = Normalizer.load(Path(run_dir) / "normalizer.npz")
    critics = load_critics(run_dir)
    _warm_up(model, config, critics)
    results = []
    for i, video in enumerate(tqdm(videos, desc="scoring", unit="video")):
        original = video.frames  # decoded before the clock starts: scoring speed, not disk speed
        maps, errors, valid, second, seconds = score_video(
            model, video, config, normalizer, score, critics
        )
        marked, localisation = mark_video(video, maps, score)
        if write_videos is None or i < write_videos:
            rate = fps or video.meta.get("fps") or DEFAULT_FPS
            generate_video(marked, Path(out_dir) / "videos" / video.name, fps=rate)
        labels = video.labels if video.labels is not None else np.zeros(len(original), bool)
        generate_regularity_graph(
            1 - abnormality_score(errors),
            Path(out_dir) / "graphs" / f"{video.name}.png",
            labels=labels,
            title=video.name,
            errors=errors,
            threshold=thresholds["frame"],
        )
        baseline = frame_difference_errors(original)
        verdict = judge_clip(video, errors, thresholds, valid)
        results.append(
            VideoResult(
                video.name, video.labels, errors, baseline, localisation, seconds, second, verdict
            )
        )
        video.release()
    frames = sum(len(r.errors) for r in results)
    return results, frames / max(sum(r.score_seconds for r in results), 1e-9)


def check_writable(folder: str | Path, *inside: str) -> None:
    """Refuse a folder that cannot be written before any work is done, not after it.

    ``inside``: sub-folders that will be written too (a file of that name is in the way).
    """
    folder = Path(folder)
    for target in (folder, *(folder / name for name in inside)):
        if not target.exists():
            continue
        if not target.is_dir():
            raise WriteError(target, "is a file where a folder is written")
        try:
            with tempfile.TemporaryFile(dir=target):
                pass
        except OSError as error:
            raise WriteError(target, f"cannot be written ({error.strerror})") from error


def evaluate_run(
    run_dir: str | Path,
    model: object = None,
    write_videos: int | None = None,
    fps: float | None = None,
) -> dict:
    """Test a trained run on its own dataset's test split and write every result into the run.

    Only the run's own test split is scored into the run folder; other videos go through
    `score_any`, which writes beside the run and never over its results.

    Args:
        run_dir: a run folder holding ``config.json``, ``model.keras``, ``normalizer.npz`` and
            ``thresholds.json``.
        model: the model, if already in memory (otherwise ``model.keras`` is loaded); a
            multi-network model is scored through its ``scoring_model``.
        write_videos: write marked videos for the first N test clips (None: all).
        fps: playback rate of the videos (None: each clip's own, 10 frames/s for frames).

    Returns:
        The merged ``metrics.json``, each clip's verdict under ``clips``.

    """
    config = load_config(run_dir)
    thresholds = trained_thresholds(run_dir, config, model)
    check_writable(run_dir, "videos", "graphs")
    dataset = config.open_dataset()
    start = time.perf_counter()
    results, fps_scored = score_videos(config, dataset.test, run_dir, model, write_videos, fps)
    stored = read_json(Path(run_dir) / "config.json")
    metrics = quantify_performance(
        results,
        run_dir,
        thresholds,
        dataset=config.dataset,
        model=config.model,
        score_fps=round(fps_scored, 1),
        test_seconds=round(time.perf_counter() - start, 1),
        config=stored,
        clips=[r.verdict for r in results],
    )
    write_report_page(run_dir, f"{Path(run_dir).name}: {config.model} on {config.dataset}",
                      metrics, stored)  # fmt: skip
    return metrics


def _unique_names(videos: list[Video]) -> None:
    # Two inputs with one stem (a/01.avi, b/01.avi) would write over each other's graph and
    # video and share rows in scores.csv: the parent folder joins the name, then a number.
    stems = Counter(v.name for v in videos)
    for video in videos:
        if stems[video.name] > 1:
            video.name = f"{Path(video.source).absolute().parent.name}_{video.name}"
    seen = Counter()
    for video in videos:
        seen[video.name] += 1
        if seen[video.name] > 1:
            video.name = f"{video.name}_{seen[video.name]}"


def _is_scoring(folder: Path) -> bool:
    """Whether a folder holds an earlier scoring (its ``summary.json`` names a run and clips)."""
    try:
        summary = read_json(folder / "summary.json")
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and {"run", "clips"} <= set(summary)


def _scoring_folder(run_dir: Path, out_dir: Path) -> None:
    """Refuse an output folder that would overwrite a run or anything not a scoring."""
    run, out = run_dir.resolve(), out_dir.resolve()
    if out == run or out in run.parents or run in out.parents:
        raise ParameterError(
            out_dir, f"scoring writes beside the run {run_dir}, never into it or around it"
        )
    if out.exists() and not out.is_dir():
        raise WriteError(out_dir, "is a file where the scoring folder goes")
    if out.is_dir() and any(out.iterdir()) and not _is_scoring(out):
        raise ParameterError(
            out_dir, "exists and is not an earlier scoring (no summary.json): choose another --out"
        )
    # the scoring is written beside it, then swapped in: the parent is written
    out.parent.mkdir(parents=True, exist_ok=True)
    check_writable(out.parent)


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Put a finished scoring in place of an earlier one; the earlier one goes last."""
    old = out_dir.with_name(f".{out_dir.name}.old")
    try:
        shutil.rmtree(old, ignore_errors=True)
        if out_dir.exists():
            out_dir.rename(old)
        staging.rename(out_dir)
    except OSError as error:
        raise WriteError(out_dir, f"cannot be replaced ({error.strerror})") from error
    shutil.rmtree(old, ignore_errors=True)


def score_any(
    run_dir: str | Path,
    paths: list[str | Path],
    out_dir: str | Path | None = None,
    write_videos: bool = True,
    fps: float | None = None,
) -> tuple[Path, dict]:
    """Score any video files or frame folders with a trained run, never touching its results.

    Writes marked mp4s (red dots, on the colour frames of a colour clip), regularity graphs
    with the run's threshold, ``scores.csv`` (no labels: no ROC, no AUC), ``summary.json``
    (each clip's verdict, flagged spans and warnings) and ``report.html`` into ``out_dir``, by
    default ``<run>_scored`` beside the run folder. One scoring is one folder: it is written
    aside and replaces an earlier scoring there whole, and bad input leaves nothing.

    Returns:
        The output folder and its summary.

    """
    from regularity.data.base import Color
    from regularity.data.videos import open_video
    from regularity.show.report import write_scores

    run_dir = Path(run_dir)
    config = load_config(run_dir)
    thresholds = trained_thresholds(run_dir, config)
    out_dir = Path(out_dir) if out_dir else run_dir.with_name(f"{run_dir.name}_scored")
    _scoring_folder(run_dir, out_dir)
    videos = [open_video(p, Color.RGB) for p in paths]  # as shot; the model's input is prepared
    needed = config.window.frames_needed
    for video in videos:  # every input checked before anything is scored or written
        if len(video) < needed:
            raise ParameterError(
                video.source,
                f"{len(video)} frames, fewer than the {needed} of the model's window: nothing "
                "to score",
            )
        video.release()
    _unique_names(videos)
    staging = out_dir.with_name(f".{out_dir.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        results, speed = score_videos(
            config, videos, staging, write_videos=None if write_videos else 0, fps=fps
        )
        write_scores(results, staging / "scores.csv")
        summary = {
            "run": portable_path(run_dir),
            "score_fps": round(speed, 1),
            "threshold": threshold_record(thresholds),
            "clips": [r.verdict for r in results],
        }
        write_json(staging / "summary.json", summary)
        title = f"{', '.join(v.name for v in videos)} scored by {run_dir.name}"
        write_report_page(staging, title, summary, read_json(run_dir / "config.json"))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_in(staging, out_dir)
    return out_dir, summary
