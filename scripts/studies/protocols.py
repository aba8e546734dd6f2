"""How much lenient evaluation protocols move a run's figure, on the run's own scores.

The reported protocol is `regularity.run.evaluation`'s: per-frame official labels, the last
checkpoint, thresholds from normal clips. Published video-anomaly code often evaluates more
leniently; `lenient_protocols` recomputes a trained run's figure under each such protocol, from
the same e(t) (``scores.csv``) and, where a protocol needs them, its normal clips' e(t) as
recorded with its thresholds and its epoch checkpoints. Its numbers are for showing the gap,
never for a README figure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from regularity.run.config import RunConfig
from regularity.run.files import read_json
from regularity.score.metrics import frame_auc
from regularity.score.scoring import minmax


def run_scores(run_dir: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per test video of a scored run: (e(t), labels), from ``scores.csv``, in order."""
    import csv

    videos: dict[str, tuple[list, list]] = {}
    with (Path(run_dir) / "scores.csv").open() as f:
        for row in csv.DictReader(f):
            errors, labels = videos.setdefault(row["video"], ([], []))
            errors.append(float(row["error"]))
            labels.append(int(row["label"]))
    return {name: (np.array(e), np.array(y)) for name, (e, y) in videos.items()}


def snippet_folder_auc(test: list[np.ndarray], normal: list[np.ndarray], snippet: int) -> float:
    """AUC of disjoint snippets labelled by their folder, a snippet's score its mean e(t).

    Every test-folder snippet is abnormal (1), every normal-folder snippet normal (0).

    What a loader that reads ``test/abnormal`` and ``test/normal`` snippet folders measures
    when the normal snippets are cut from normal videos (the training folders, as published code
    does, or held-out clips): whether a clip comes from the
    test recordings, not whether a frame is abnormal.
    """

    def snippets(series: list[np.ndarray]) -> list[float]:
        return [
            float(e[i : i + snippet].mean())
            for e in series
            for i in range(0, len(e) - snippet + 1, snippet)
        ]

    abnormal, normal_scores = snippets(test), snippets(normal)
    labels = np.r_[np.ones(len(abnormal)), np.zeros(len(normal_scores))]
    return float(roc_auc_score(labels, np.r_[abnormal, normal_scores]))


def per_batch_auc(errors: np.ndarray, labels: np.ndarray, batch: int) -> dict:
    """The mean of per-batch AUCs over consecutive test frames, batches of one class skipped.

    A batch inside one event or one quiet stretch cannot be ranked and drops out; what is
    left are batches that straddle an event's edges, where ranking is easiest.
    """
    aucs = [
        roc_auc_score(labels[i : i + batch], errors[i : i + batch])
        for i in range(0, len(errors), batch)
        if 0 < labels[i : i + batch].sum() < len(labels[i : i + batch])
    ]
    return {"mean_auc": float(np.mean(aucs)) if aucs else None,
            "batches_used": len(aucs), "batches": -(-len(errors) // batch)}  # fmt: skip


def global_minmax_accuracy(errors: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    """Accuracy at 0.5 after min-max over the whole test set, beside the normal-data threshold.

    The AUC is unchanged by any one monotone map of all scores (it equals ``micro_raw``); the
    leak is in the decision: the test set's own minimum and maximum place the cut.
    """
    scaled = minmax(errors)
    return {
        "accuracy_at_half_after_test_minmax": float(((scaled > 0.5) == labels).mean()),
        "accuracy_at_normal_threshold": float(((errors > threshold) == labels).mean()),
    }


def lenient_protocols(
    run_dir: str | Path,
    batch_frames: int = 256,
    snippet: int | None = None,
    curve: list[dict] | None = None,
) -> dict:
    """A scored run's frame AUC under the strict protocol and under each lenient one.

    Args:
        run_dir: a run tested by `regularity.run.evaluation.evaluate_run` (``scores.csv``).
        batch_frames: frames per batch for the averaged per-batch AUC.
        snippet: snippet length for the folder-label protocol (default: the run's window).
        curve: `studies.comparisons.checkpoint_curve` of the run (its own score first),
            for choosing the epoch by test AUC; None leaves that protocol out.

    Returns:
        ``strict`` (the reported figures) and each lenient protocol's figure.

    """
    run_dir = Path(run_dir)
    config = RunConfig.from_run(run_dir)
    by_video = run_scores(run_dir)
    errors = [e for e, _ in by_video.values()]
    labels = [y for _, y in by_video.values()]
    strict = frame_auc(errors, labels)
    thresholds = read_json(run_dir / "thresholds.json")
    # the normal clips' e(t) as their thresholds were taken over them (views and flow fused)
    normal = thresholds.get("normal_scores", {}).get("clips")
    folder_labels = None
    if normal:  # recorded since 2026-12-06 (`normal_thresholds`): derive older runs' again
        folder_labels = snippet_folder_auc(
            errors, [np.array(e) for e in normal], snippet or config.window.span
        )
    flat_errors, flat_labels = np.concatenate(errors), np.concatenate(labels)
    threshold = thresholds["frame"]
    figures = {
        "strict": {
            "micro_minmax": strict["micro_minmax"],
            "micro_raw": strict["micro_raw"],
            "macro": strict["macro"],
        },  # fmt: skip
        "snippet_folder_labels": folder_labels,
        # the normal clips the thresholds came from: the training folders, or held-out clips
        "snippet_folder_normal": config.thresholds_from,
        "test_set_minmax": {
            "auc": strict["micro_raw"],
            **global_minmax_accuracy(flat_errors, flat_labels, threshold),
        },
        "per_batch_mean_auc": per_batch_auc(flat_errors, flat_labels, batch_frames),
    }
    if curve:
        own = next(iter(curve[0]["frame_auc"]))
        by_epoch = {c["epoch"]: c["frame_auc"][own]["micro_minmax"] for c in curve}
        best = max(by_epoch, key=by_epoch.get)
        figures["epoch_by_test_auc"] = {
            "epoch": best,
            "auc": by_epoch[best],
            "last_epoch": max(by_epoch),
            "last_epoch_auc": by_epoch[max(by_epoch)],
        }
    return figures


NORMAL_SNIPPETS = {
    "normal": "normal snippets from the normal training folders (the clips the model trained "
    "on, and any held out)",
    "held_out": "normal snippets from held-out normal clips (without any, the last training clip)",
}


def lenient_table(figures: dict) -> str:
    """`lenient_protocols`' figures as a Markdown table: protocol, AUC, what it changes."""
    strict = figures["strict"]["micro_minmax"]
    rows = [("strict (reported): per-frame labels, per-video min-max", strict, "")]
    folder_labels = figures["snippet_folder_labels"]
    normal = NORMAL_SNIPPETS[figures["snippet_folder_normal"]]
    unread = ("not read: its thresholds.json predates the normal clips' e(t) (derive them again: "
              "`evaluate RUN --set thresholds_from=...`, its own value)")  # fmt: skip
    rows.append(("labels per snippet from folder names", folder_labels,
                 normal if folder_labels is not None else unread))  # fmt: skip
    minmax_fig = figures["test_set_minmax"]
    rows.append(("min-max over the whole test set", minmax_fig["auc"],
                 f"accuracy at 0.5 {minmax_fig['accuracy_at_half_after_test_minmax']:.3f} vs "
                 f"{minmax_fig['accuracy_at_normal_threshold']:.3f} at the normal-data "
                 "threshold"))  # fmt: skip
    if "epoch_by_test_auc" in figures:
        epoch = figures["epoch_by_test_auc"]
        rows.append(("epoch chosen by test AUC", epoch["auc"],
                     f"epoch {epoch['epoch']} (last: {epoch['last_epoch']}, "
                     f"{epoch['last_epoch_auc']:.3f})"))  # fmt: skip
    batch = figures["per_batch_mean_auc"]
    used = f"{batch['batches_used']} of {batch['batches']} batches had both classes"
    rows.append(("mean of per-batch AUCs", batch["mean_auc"], used))
    lines = ["| protocol | frame AUC | change | note |", "|---|---|---|---|"]
    for name, auc, note in rows:
        change = "" if auc is None or name.startswith("strict") else f"{auc - strict:+.3f}"
        lines.append(f"| {name} | {'' if auc is None else f'{auc:.3f}'} | {change} | {note} |")
    return "\n".join(lines)
