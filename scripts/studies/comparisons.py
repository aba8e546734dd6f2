"""Comparisons on a trained run's test split: several ways of scoring, every checkpoint.

Benchmarks and ablations, not the reported protocol (that is `regularity.run.evaluation`): they
reuse its inference and scoring, and predict each test video once per model.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from regularity.data.clipstore import prepared_clips
from regularity.data.preprocess import Normalizer
from regularity.data.windows import WindowSpec
from regularity.nets.trainers import scoring_network
from regularity.run.config import RunConfig
from regularity.run.evaluation import load_critics, load_scorer, run_thresholds
from regularity.run.families import load_config
from regularity.run.files import read_json
from regularity.score.baselines import (
    DIFFERENCE_PER_CELL,
    FLOW_PER_CELL,
    MOTION_BASELINES,
    Motion,
    MotionBaseline,
    baseline_scores,
    fused_errors,
    fused_with_motion,
    fusion_statistics,
    motion_errors,
    motion_per_frame,
    normal_statistics,
)
from regularity.score.inference import get_test_data, predict_test_data
from regularity.score.metrics import frame_auc
from regularity.score.scoring import (
    Aggregate,
    Channels,
    ErrorScale,
    Measure,
    ScoreSpec,
    by_cell,
    cell_means,
    cell_statistics,
    channel_groups,
    critic_errors,
    fisher_fused_clips,
    frame_scores,
    normal_frames,
    per_cell_scored,
    score_outputs,
    summed,
)


def test_split(run_dir: str | Path) -> tuple[RunConfig, Normalizer, list, list]:
    """A run's config, normaliser, scaled test clips and their labels (for comparisons)."""
    config = load_config(run_dir)
    normalizer = Normalizer.load(Path(run_dir) / "normalizer.npz")
    dataset = config.open_dataset()
    scaled = [get_test_data(v, config.input_spec(), normalizer) for v in dataset.test]
    return config, normalizer, scaled, [v.labels for v in dataset.test]


def frame_aucs(
    model: object,
    scaled: list[np.ndarray],
    labels: list[np.ndarray],
    normalizer: Normalizer,
    specs: dict[str, ScoreSpec],
    window: WindowSpec | int = 10,
    critics: dict[str, object] | None = None,
    motion: bool | str = True,
) -> dict[str, dict]:
    """Frame AUC (`frame_auc`) of one model under several score specs, each video predicted once.

    Args:
        model: as for `predict_test_data`.
        scaled: scaled frames of each video (see `get_test_data`).
        labels: per video, True for abnormal frames.
        normalizer: the run's normaliser (the grey-level error scale needs its std).
        specs: score specs by name (one whose ``frame_score`` names a critic scores by it).
        window: the window contract the model was trained under.
        critics: the run's second scorers (`load_critics`), where a spec needs one.
        motion: the run's `MotionInput` (which channels a spec's ``channels`` names).

    """
    errors = {name: [] for name in specs}
    needed = {s.frame_score for s in specs.values() if s.frame_score}
    missing = needed - set(critics or {})
    if missing:
        raise ValueError(f"a score spec needs the second scorer(s) {sorted(missing)}: not given")
    for x in scaled:
        outputs, valid = predict_test_data(scoring_network(model), x, window)
        logits = {c: predict_test_data(critics[c], x, window, stride=1) for c in needed}
        for name, score in specs.items():
            if score.frame_score:
                errors[name].append(critic_errors(*logits[score.frame_score], score))
            else:
                errors[name].append(
                    score_outputs(x, outputs, valid, normalizer.std, score, motion)[1]
                )
    return {name: frame_auc(errors[name], labels) for name in specs}


def scoring_variants(
    run_dir: str | Path, aggregates: bool = False, smooth_windows: list[int] | None = None
) -> dict[str, ScoreSpec]:
    """Ways of scoring a run to compare, the run's own first (no flow, no views: `cell_scoring`).

    Error maps under every error scale x channel choice x aggregation, and the PSNR measure
    (Liu et al.'s score, which needs no aggregation), by default; with ``aggregates`` only the
    aggregations and PSNR; with ``smooth_windows`` the run's own spec under each smoothing window.
    """
    config = load_config(run_dir)
    base = replace(config.score, views=[])  # fused views are the `cells` study's (``--fisher``)
    if by_cell(base):  # its cell statistics are the run's
        base = replace(base, thresholds=run_thresholds(run_dir))
    if smooth_windows:
        return {f"smooth_{w}": replace(base, smooth_window=w) for w in smooth_windows}
    error = replace(base, measure=Measure.ERROR.value, frame_score="")
    # per-cell scores need statistics of each model's normal maps: the `cells` study's
    names = dict.fromkeys(a for a in [Aggregate(base.aggregate), *Aggregate]
                          if a is not Aggregate.CELL_TOP)  # fmt: skip
    if aggregates:
        variants = {a.value: replace(error, aggregate=a.value) for a in names}
    else:
        groups = channel_groups(config.motion)  # the frames, then each motion kind
        # one kind alone is what "motion" scores; two or more are also scored one by one
        alone = groups if len(groups) > 2 else groups[:1]
        channels = [Channels.ALL, Channels.MOTION, *alone] if len(groups) > 1 else [Channels.ALL]
        variants = {
            f"{s.value}/{c.value}/{a.value}": replace(
                error, scale=s.value, channels=c.value, aggregate=a.value
            )
            for s, c, a in itertools.product(ErrorScale, channels, names)
        }
    psnr = {"psnr": replace(error, measure=Measure.PSNR.value, aggregate=Aggregate.SUM.value)}
    own = {"own": base} if base.frame_score else {}  # a critic's frame score: the run's own first
    first = {**psnr, **variants} if Measure(base.measure) is Measure.PSNR else {**variants, **psnr}
    return {**own, **first}


def compare_scoring(run_dir: str | Path, specs: dict[str, ScoreSpec]) -> dict[str, dict]:
    """Frame AUC of a run's model under several score specs (each video predicted once)."""
    config, normalizer, scaled, labels = test_split(run_dir)
    model, critics = load_scorer(run_dir), load_critics(run_dir)
    return frame_aucs(
        model, scaled, labels, normalizer, specs, config.window, critics, config.motion
    )


def checkpoint_curve(
    run_dir: str | Path, specs: dict[str, ScoreSpec], every: int = 1
) -> list[dict]:
    """Frame AUC against training time: each ``every``-th epoch checkpoint, and the last."""
    run_dir = Path(run_dir)
    config, normalizer, scaled, labels = test_split(run_dir)
    epochs = len((run_dir / "history.csv").read_text().splitlines()) - 1
    minutes_per_epoch = read_json(run_dir / "metrics.json")["train_seconds"] / 60 / epochs
    curve = []
    checkpoints = sorted((run_dir / "checkpoints").glob("epoch_*.keras"))
    for checkpoint in checkpoints:
        epoch = int(checkpoint.stem.split("_")[1])
        if epoch % every and checkpoint != checkpoints[-1]:
            continue
        model, critics = load_scorer(run_dir, checkpoint), load_critics(run_dir, checkpoint)
        aucs = frame_aucs(
            model, scaled, labels, normalizer, specs, config.window, critics, config.motion
        )
        curve.append(
            {
                "epoch": epoch,
                "train_minutes": round(epoch * minutes_per_epoch, 1),
                "frame_auc": aucs,
            }
        )
    return curve


def split_aucs(scores: list[np.ndarray], labels: list[np.ndarray]) -> dict[str, dict]:
    """Frame AUC over every clip and over each half of the clips (a choice must hold on both)."""
    half = len(scores) // 2
    return {
        "all": frame_auc(scores, labels),
        "first_half": frame_auc(scores[:half], labels[:half]),
        "second_half": frame_auc(scores[half:], labels[half:]),
    }


def baseline_variants(
    dataset: object,
    patches: list[int],
    tops: list[float],
    smooth_windows: list[int] | None = None,
) -> dict[str, dict]:
    """Frame AUC (`split_aucs`) of no-learning baselines, whole-frame and per cell.

    Each clip's motion is computed once (`baseline_scores`); the per-cell statistics come
    from the normal training clips. ``smooth_windows``: instead, the leaderboard's baselines
    (`MOTION_BASELINES`) under each smoothing window.
    """
    if smooth_windows:
        variants = [
            replace(b, name=f"{b.name} smooth{w}", smooth_window=w)
            for w in smooth_windows
            for b in MOTION_BASELINES
        ]
    else:
        variants = [b for b in MOTION_BASELINES if Aggregate(b.aggregate) is Aggregate.SUM]
        variants += [
            MotionBaseline(f"{m.value} cell{p} top{k}", m.value, Aggregate.CELL_TOP.value, p, k)
            for m in Motion
            for p in patches
            for k in tops
        ]

    _, test = baseline_scores(
        prepared_clips(dataset.train, np.asarray),
        prepared_clips(dataset.test, np.asarray),
        tuple(variants),
    )
    labels = [v.labels for v in dataset.test]
    return {b.name: split_aucs(test[b.name], labels) for b in variants}


def score_variant(text: str) -> tuple[str, dict]:
    """``channels=all,aggregate=patch_max`` -> (that text, its ``ScoreSpec`` fields)."""
    from regularity.cli import setting

    return text, dict(setting(pair) for pair in text.split(","))


def cell_scoring(
    run_dir: str | Path,
    patches: list[int],
    tops: list[float],
    fusion_weights: list[float],
    variants: dict[str, dict] | None = None,
    partners: dict[str, tuple[str | Path, str]] | None = None,
    fuse_with: tuple[str, ...] = ("flow",),
    fisher_sets: list[tuple[str, ...]] | None = None,
    fusion_rule: str = "standardised",
) -> dict[str, dict]:
    """Frame AUC (`split_aucs`) of a run scored per cell, and fused with per-cell baselines.

    Every e(t) comes from `run_errors`. Fusion: the run's e(t) and a per-cell baseline's (each
    of ``fuse_with``, `FUSIBLE`'s labels; the flow's by default), as ``score.flow_weight``
    fuses the flow (`fused_errors`). ``variants``: other ways of scoring the
    same outputs, by name, as ``ScoreSpec`` fields over the run's
    (``{"appearance": {"channels": "appearance"}}``). ``partners``: e(t) of other runs on the
    same dataset, by name: (run folder, the name of one of its `run_errors`). Each variant and
    partner is reported alone and added, standardised, to the run's own e(t) and to each
    variant; everything also fused with each of ``fuse_with``, smoothed as the score it joins.
    ``fisher_sets``: groups of those scores by name (``"own"``, a variant, ``"cell8 top0.1"``,
    a label of ``fuse_with`` for that baseline alone), each fused by `fisher_fused`.
    ``fusion_rule``: how the fusions with ``fuse_with`` read both terms (``score.flow_rule``).
    """
    fusions = {label: FUSIBLE[label] for label in fuse_with}
    scored, labels, motion = run_errors(run_dir, patches, tops, variants, tuple(fusions.values()))
    # a baseline fused with a score is smoothed as that score is (`fusion_statistics`)
    own_window = load_config(run_dir).score.smooth_window
    windows = {
        name: fields.get("smooth_window", own_window) for name, fields in (variants or {}).items()
    }
    others = {name: scored[name] for name in variants or {}}
    for name, (partner_dir, partner_score) in (partners or {}).items():
        cell = re.fullmatch(r"cell(\d+) top([\d.]+)", partner_score)
        fields = score_variant(partner_score)[1] if "=" in partner_score else {}
        errors, partner_labels, _ = run_errors(
            partner_dir,
            [int(cell[1])] if cell else [],
            [float(cell[2])] if cell else [],
            {partner_score: fields} if fields else {},
            fusions=(),
        )
        if len(labels) != len(partner_labels) or any(
            not np.array_equal(a, b) for a, b in zip(labels, partner_labels, strict=True)
        ):
            raise ValueError(f"partner {partner_dir} was not scored on {run_dir}'s test clips")
        others[name] = scored[name] = errors[partner_score]
        windows[name] = fields.get("smooth_window", load_config(partner_dir).score.smooth_window)
    for base, term in itertools.product(["own", *(variants or {})], others):
        if base == term:
            continue
        for weight in fusion_weights:  # both standardised on the normal clips, then added
            pair = {
                "weight": weight,
                "own": normal_statistics(scored[base][0]),
                "flow": normal_statistics(others[term][0]),
            }
            scored[f"{base} + {weight} {term}"] = tuple(
                [fused_errors(e, o, pair) for e, o in zip(mine, theirs, strict=True)]
                for mine, theirs in zip(scored[base], others[term], strict=True)
            )
    figures = {}
    for name, (normal_e, test_e) in scored.items():
        figures[name] = split_aucs(test_e, labels)
        window = windows.get(name.split(" + ")[0], own_window)
        for (label, baseline), weight in itertools.product(fusions.items(), fusion_weights):
            normal_kept, test_kept = motion[baseline.name]
            fusion = fusion_statistics(normal_e, normal_kept, weight, window, baseline, fusion_rule)
            fused = [
                fused_with_motion(e, k, fusion, baseline)
                for e, k in zip(test_e, test_kept, strict=True)
            ]
            figures[f"{name} + {weight} {label}"] = split_aucs(fused, labels)
    for label, baseline in fusions.items():  # each alone, as the leaderboard smooths it
        normal_kept, test_kept = motion[baseline.name]
        cells = cell_statistics(normal_kept)
        scored[label] = tuple([motion_errors(k, cells, baseline) for k in kept]
                              for kept in (normal_kept, test_kept))  # fmt: skip
        figures[baseline.name] = split_aucs(scored[label][1], labels)
    for names in fisher_sets or []:  # each score read against its own normal frames
        if unknown := [name for name in names if name not in scored]:
            raise ValueError(f"--fisher names no score {unknown}; the study has {sorted(scored)}")
        normals = [normal_frames(scored[name][0]) for name in names]
        fused = fisher_fused_clips([scored[name][1] for name in names], normals)
        figures[f"fisher({' + '.join(names)})"] = split_aucs(fused, labels)
    return figures


def per_cell_errors(
    score: ScoreSpec, normal: list[tuple], test: list[tuple]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """e(t) of normal and test clips' (error maps, valid mask) under a per-cell ``score``.

    Each cell's statistics are those of the normal clips' maps, and e(t) is taken by the
    evaluation's own path (`frame_scores`).
    """
    cells, normal_e = per_cell_scored([cell_means(m, score.patch) for m, _ in normal],
                                      [v for _, v in normal], score)  # fmt: skip
    score = replace(score, thresholds={"cells": cells})
    return normal_e, [frame_scores(m, v, score) for m, v in test]


# The per-cell baselines a study may fuse with a model's e(t), by the label its names carry.
FUSIBLE = {"flow": FLOW_PER_CELL, "difference": DIFFERENCE_PER_CELL}


def run_errors(
    run_dir: str | Path,
    patches: list[int],
    tops: list[float],
    variants: dict[str, dict] | None = None,
    fusions: tuple[MotionBaseline, ...] = (FLOW_PER_CELL,),
) -> tuple[dict[str, tuple[list, list]], list[np.ndarray], dict[str, tuple[list, list]]]:
    """A run's e(t) on its normal training clips and its test clips, several ways.

    The run's model predicts every normal training clip and every test clip once; per-cell
    statistics come from the normal clips (every training clip, as the evaluation's
    ``thresholds_from="normal"``; clips are assumed at least one window long). Returns
    ``{name: (normal e(t)s, test e(t)s)}`` for ``"own"`` (the run's score), each of
    ``variants`` and each ``cell{patch} top{top}``; the test labels; and for each of
    ``fusions``, by name, its `motion_per_frame` of the normal and the test clips, on the
    evaluation's grid.
    """
    config = load_config(run_dir)
    normalizer = Normalizer.load(Path(run_dir) / "normalizer.npz")
    dataset = config.open_dataset()
    network, spec = scoring_network(load_scorer(run_dir)), config.input_spec()
    score = replace(config.score, thresholds=run_thresholds(run_dir))  # cell statistics too
    # a variant is one way of scoring the outputs, not the run's fused views
    others = {name: replace(score, views=[], **fields) for name, fields in (variants or {}).items()}
    # a per-cell variant keeps its maps (summed for now): its statistics are its normal maps'
    per_cell = {name for name, other in others.items() if by_cell(other)}
    first = {name: summed(other) for name, other in others.items()}
    scored = {name: ([], []) for name in others}

    std, motion = normalizer.std, config.motion

    def predicted(videos: list, split: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        out = []
        for video in videos:
            x = get_test_data(video, spec, normalizer)
            outputs, valid = predict_test_data(network, x, config.window)
            out.append((*score_outputs(x, outputs, valid, std, score, motion), valid))
            for name, other in first.items():
                maps, errors = score_outputs(x, outputs, valid, std, other, motion)
                scored[name][split].append((maps, valid) if name in per_cell else errors)
        return out

    normal, test = predicted(dataset.train, 0), predicted(dataset.test, 1)
    scored["own"] = ([e for _, e, _ in normal], [e for _, e, _ in test])
    for name in per_cell:
        scored[name] = per_cell_errors(others[name], *scored[name])
    for patch, top in itertools.product(patches, tops):
        spec = replace(
            score,
            aggregate=Aggregate.CELL_TOP.value,
            patch=patch,
            top_fraction=top,
            measure=Measure.ERROR.value,
            frame_score="",
            views=[],
        )
        scored[f"cell{patch} top{top}"] = per_cell_errors(
            spec, *([(m, v) for m, _, v in clips] for clips in (normal, test))
        )
    labels = [v.labels for v in dataset.test]
    size = list(dataset.train[0].frames.shape[1:3])  # the evaluation's grid: the first clip's
    motion = {
        b.name: tuple(
            [motion_per_frame(v.frames, size, b) for v in clips]
            for clips in (dataset.train, dataset.test)
        )
        for b in fusions
    }
    return scored, labels, motion
