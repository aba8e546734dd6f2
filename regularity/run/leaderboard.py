"""One leaderboard: every family's declared run beside the no-learning baselines, one protocol.

Every registered family's declared run of a dataset is evaluated and written, with the
no-learning motion baselines (`regularity.score.baselines`), as a Markdown table and one ROC
plot, the strongest baseline first.

The protocol is `regularity.run.evaluation.evaluate_run`'s for every entry: official test split,
frame AUC three ways (+ the paper's normalisation), EER, TPR/FPR at a threshold from normal
training clips (99th percentile of e(t)), red dots against the pixel masks. The baselines go
through the same report code, their thresholds from the same normal clips.
"""

from __future__ import annotations

import csv
import logging
from datetime import date
from pathlib import Path

import numpy as np

from regularity.data import load_dataset
from regularity.data.clipstore import prepared_clips
from regularity.errors import ParameterError
from regularity.run.evaluation import VideoResult, evaluate_run
from regularity.run.families import families
from regularity.run.files import portable_path, project_path, read_json, write_json
from regularity.run.pipeline import train_run
from regularity.score.baselines import (
    FUSED_PER_CELL,
    FUSED_PER_CELL_DESCRIPTION,
    MOTION_BASELINES,
    baseline_scores,
    fuse_per_cell,
)
from regularity.score.scoring import abnormality_score
from regularity.show.plots import NO_LEARNING, plot_roc, roc_points
from regularity.show.report import detection_figures, pooled

logger = logging.getLogger(__name__)

COLUMNS = (
    "entry", "frame AUC (minmax / raw / macro)", "paper", "EER", "TPR / FPR", "dots in mask / 40%",
    "training", "scoring", "peak RSS",
)  # fmt: skip


COLUMN_KEY = {
    "entry": "the family (its declared recipe for this dataset) or the baseline; [carried from "
    "DATE]: that earlier table's figures (and ROC curve, where that table kept one), the run "
    "not being on the machine that made this one",
    "frame AUC": "area under the frame-level ROC: micro_minmax pools every frame after per-clip "
    "min-max of e(t) (the headline), micro_raw pools raw e(t), macro averages per-clip AUCs",
    "paper": "Chong & Tay's normalisation (e - min e) / max e, pooled",
    "EER": "equal error rate of the pooled min-max scores",
    "TPR / FPR": "at the run's threshold from normal training clips (no test labels)",
    "dots in mask / 40%": "share of red dots inside the ground-truth masks / of abnormal frames "
    "whose thresholded error covers 40% of the mask (UCSD's pixel-level criterion)",
    "training": "minutes of training on the 2-core CPU",
    "scoring": "frames per second of the frame score on the same CPU",
    "peak RSS": "peak resident memory while training, in MiB (2^20 bytes)",
}


def baseline_entries(dataset: object, percentile: float = 99.0) -> list[dict]:
    """Every no-learning baseline's figures and ROC curve (`roc_points`) on a dataset's test split.

    Each baseline's threshold (for TPR/FPR) is the ``percentile`` of its e(t) on the normal
    training clips, as a run's is.
    """
    normal, test = baseline_scores(
        prepared_clips(dataset.train, np.asarray), prepared_clips(dataset.test, np.asarray)
    )
    normal[FUSED_PER_CELL], test[FUSED_PER_CELL] = fuse_per_cell(normal, test)
    described = {b.name: b.describe() for b in MOTION_BASELINES}
    described[FUSED_PER_CELL] = FUSED_PER_CELL_DESCRIPTION
    entries = []
    for name, description in described.items():
        threshold = float(np.percentile(np.concatenate(normal[name]), percentile))
        results = [
            VideoResult(video.name, video.labels, errors, errors)
            for video, errors in zip(dataset.test, test[name], strict=True)
        ]
        figures = detection_figures(results, threshold)
        figures.pop("baseline", None)
        entries.append({"entry": f"{name} {NO_LEARNING}", "description": description,
                        **figures, "roc": roc_points(*pooled(results))})  # fmt: skip
    return entries


def _run_curves(run_dir: Path, second_scores: list[str]) -> dict[str, tuple]:
    """Labels and pooled abnormality of a run's scores, from one read of its ``scores.csv``.

    ``""``: the first score (its stored ``abnormality``); each second score's column min-max
    scaled per video, as `regularity.show.report.pooled` does.
    """
    with (run_dir / "scores.csv").open() as f:
        rows = list(csv.DictReader(f))
    labels = np.array([int(r["label"]) for r in rows])
    curves = {"": (labels, np.array([float(r["abnormality"]) for r in rows]))}
    videos = np.array([r["video"] for r in rows])
    for column in second_scores:
        values = np.array([float(r[column]) for r in rows])
        for video in dict.fromkeys(videos):
            values[videos == video] = abnormality_score(values[videos == video])
        curves[column] = (labels, values)
    return curves


def _f(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def markdown_row(entry: dict) -> str:
    """One table row of an entry's figures (blank where a figure does not apply)."""
    auc = entry.get("frame_auc") or {}
    loc = entry.get("localisation") or {}
    minutes = entry.get("train_seconds")
    cells = [
        entry["entry"],
        " / ".join(_f(auc.get(k)) for k in ("micro_minmax", "micro_raw", "macro")),
        _f(auc.get("micro_paper")),
        _f(entry.get("eer")),
        f"{_f(entry.get('tpr'))} / {_f(entry.get('fpr'))}" if "tpr" in entry else "",
        f"{_f(loc.get('dots_inside_mask'), 2)} / {_f(loc.get('ucsd_pixel_40pct'), 2)}"
        if loc
        else "",
        entry.get("training") or (f"{minutes / 60:.1f} min" if minutes else "none"),
        f"{entry['score_fps']:.0f} frames/s" if entry.get("score_fps") else "",
        f"{entry['peak_rss_mb_train']:,} MiB" if entry.get("peak_rss_mb_train") else "",
    ]
    return "| " + " | ".join(cells) + " |"


def leaderboard(
    dataset: str,
    out_dir: str | Path,
    runs_root: str | Path = "runs",
    data_root: str | None = None,
    train: bool = False,
    write_videos: int | None = 0,
    only: list[str] | None = None,
) -> list[dict]:
    """Evaluate every family's declared run of ``dataset`` and the no-learning baselines.

    Args:
        dataset: a dataset every entry is evaluated on (e.g. "ped2").
        out_dir: where ``leaderboard_<dataset>.md``, ``.json`` and ``_roc.png`` go.
        runs_root: folder of the declared runs (``<runs_root>/<family>_<dataset>``).
        data_root: the data root, when not the recipes' own.
        train: train a declared run that is not there yet (else its rows of the earlier
            leaderboard in ``out_dir`` are carried, marked with their date, or it is listed as
            not trained).
        write_videos: marked videos per run (0: none, None: all).
        only: the families to list (default: every registered one).

    Returns:
        The entries, the baselines first (strongest first).

    """
    out_dir = Path(out_dir)
    earlier_path = out_dir / f"leaderboard_{dataset}.json"
    earlier = read_json(earlier_path) if earlier_path.is_file() else {}
    overrides = {"data_root": data_root} if data_root else {}
    entries, roots = [], []
    for family in families().values():
        if dataset not in family.recipes or (only is not None and family.name not in only):
            continue
        config = family.declared(dataset, runs_root, **overrides)
        roots.append(config.data_root)  # the recipes' own, even where every row is carried
        run_dir = Path(config.run_dir)
        if not (run_dir / "model.keras").is_file():
            if not train:
                logger.warning("%s: not trained (pass train=True / --train)", run_dir)
                entries += carried(family.name, earlier) or [
                    {"entry": f"{family.name} (not trained: {run_dir})"}
                ]
                continue
            train_run(config)
        metrics = evaluate_run(run_dir, write_videos=write_videos)
        second = metrics.get("second_scores") or {}
        run_curves = _run_curves(run_dir, list(second))
        entries.append({**metrics, "entry": f"{family.name} ({family.description})",
                        "roc": roc_points(*run_curves[""])})  # fmt: skip
        for score, figures in second.items():
            # A second score of the same run (a GAN's D(G(X))): ranking figures only.
            entry = f"{family.name}, second score: {score}"
            roc = roc_points(*run_curves[score])
            entries.append({**figures, "entry": entry, "training": "same run", "roc": roc})
    if not any("frame_auc" in e for e in entries):
        raise ParameterError(
            Path(runs_root),
            f"no declared run of {dataset} is trained here (train them with --train, or point "
            "--runs at the folder holding them): nothing to rank",
        )
    data_root = data_root or next(iter(roots), "data")
    baselines = baseline_entries(load_dataset(dataset, root=project_path(data_root)))
    # the families first, then the baselines (the frame difference first, black): fixed colours
    curves = {curve_name(e["entry"]): e["roc"] for e in entries + baselines if e.get("roc")}
    entries = rank_entries(baselines + entries)
    out_dir.mkdir(parents=True, exist_ok=True)
    generated = date.today().isoformat()
    write_json(out_dir / f"leaderboard_{dataset}.json",
               {"dataset": dataset, "generated": generated, "entries": entries})  # fmt: skip
    write_table(out_dir / f"leaderboard_{dataset}.md", dataset, entries, generated)
    plot_roc(curves, out_dir / f"leaderboard_{dataset}_roc.png")
    return entries


def curve_name(entry: str) -> str:
    """An entry's name in the ROC plot's legend: the family (and second score), or the baseline.

    >>> curve_name("gan, second score: alocc [carried from 2026-12-06]")
    'gan alocc'
    >>> curve_name("optical flow (no learning)")
    'optical flow (no learning)'
    """
    name = entry.split(" [carried")[0]
    return name if NO_LEARNING in name else name.split(" (")[0].replace(", second score:", "")


def carried(family: str, earlier: dict) -> list[dict]:
    """A family's rows of an earlier leaderboard, marked with its date (not evaluated now).

    A run trained on another machine keeps its place, read as what it is: figures of that
    date, and the ROC curve kept with them (none in a table from before curves were kept).
    """
    rows = [
        e
        for e in earlier.get("entries", [])
        if e["entry"].startswith((f"{family} (", f"{family}, second score"))
        and "not trained" not in e["entry"]
    ]
    dates = [e.get("carried_from", earlier.get("generated", "an earlier date")) for e in rows]
    return [
        {
            **e,
            "entry": f"{e['entry'].split(' [carried')[0]} [carried from {when}]",
            "carried_from": when,
        }  # fmt: skip
        for e, when in zip(rows, dates, strict=True)
    ]


def rank_entries(entries: list[dict]) -> list[dict]:
    """Baselines first (strongest first), then by frame AUC (micro_minmax), best first.

    Runs not trained yet, which have no figure, come last.
    """

    def headline(entry: dict) -> float:
        return ((entry.get("frame_auc") or {}).get("micro_minmax")) or -1.0

    baselines = sorted((e for e in entries if NO_LEARNING in e["entry"]), key=headline)
    learned = sorted((e for e in entries if NO_LEARNING not in e["entry"]), key=headline)
    return baselines[::-1] + learned[::-1]


def write_table(path: Path, dataset: str, entries: list[dict], generated: str) -> Path:
    """The leaderboard page: title, dataset, date, the table (`markdown_row`) and a column key."""
    first = next((e for e in entries if e.get("test_frames")), {})
    split = (
        f": {first['test_frames']:,} test frames ({first['abnormal_frames']:,} abnormal)"
        if first
        else ""
    )
    root = next((e["config"]["data_root"] for e in entries if "config" in e), None)
    where = f" under `{portable_path(project_path(root))}`" if root else ""
    lines = [
        f"# Leaderboard: {dataset}",
        "",
        f"Dataset: **{dataset}**{where}, its test split{split}. Generated {generated} by "
        f"`python -m regularity leaderboard --dataset {dataset}`. Rows: the no-learning baselines "
        "first (strongest first), then by frame AUC (micro_minmax), best first.",
        "",
        f"| {' | '.join(COLUMNS)} |",
        "|" + "---|" * len(COLUMNS),
        *(markdown_row(e) for e in entries),
        "",
        "Column key:",
        "",
        *(f"- **{name}**: {meaning}" for name, meaning in COLUMN_KEY.items()),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path
